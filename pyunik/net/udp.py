"""UDP (RFC 768): checking a received datagram and building one, with the checksum
over the IPv4 pseudo-header. A received checksum of 0 means none was computed; one
computed as 0 is sent as 0xffff.

Layer: net. Calls net/checksum.py and abi/udp.py.
"""

from __future__ import annotations

from ..abi.inet import IPPROTO_UDP
from ..abi.udp import UDPHDR
from .checksum import fold, partial_sum, pseudo_header_sum


def parse_udp(src: bytes, dst: bytes, data: bytes):
    """(source port, destination port, payload), or None for a datagram Linux drops
    (shorter than its header, a length field past the data or under 8, a bad
    checksum). Bytes past the length field are cut off."""
    if len(data) < UDPHDR.size:
        return None
    sport, dport, length, check = UDPHDR.unpack_from(data)
    if length < UDPHDR.size or length > len(data):
        return None
    data = data[:length]
    if check and fold(partial_sum(data, pseudo_header_sum(src, dst, IPPROTO_UDP, length))):
        return None
    return sport, dport, data[UDPHDR.size:]


def build_udp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> bytes:
    length = UDPHDR.size + len(payload)
    header = UDPHDR.pack(sport, dport, length, 0)
    check = fold(partial_sum(payload, partial_sum(
        header, pseudo_header_sum(src, dst, IPPROTO_UDP, length)))) or 0xFFFF
    return UDPHDR.pack(sport, dport, length, check) + payload
