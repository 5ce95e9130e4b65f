"""TCP segmentation offload done in software (Linux's GSO, skb_segment for TCPv4): a
frame holding one IPv4 TCP segment larger than the MSS, as a stack hands it to a
card with TSO (virtio's VIRTIO_NET_HDR_GSO_TCPV4, gso_size = the MSS), cut into the
frames a wire carries.

    segment_tcp4(frame, mss) -> [frame, ...]

Each piece gets the Ethernet header, the IPv4 header with its total length, an
identifier one more than the last and its checksum, and the TCP header with the
sequence number moved on, FIN and PSH only on the last piece, CWR only on the first,
and a whole checksum (the big frame's may be partial: it is not read). ValueError for
a frame that is not Ethernet + IPv4 + TCP.

Layer: net (bottom of it). Calls net/checksum.py and abi/.
"""

from __future__ import annotations

import struct

from ..abi.if_ether import ETH_HLEN, ETH_P_IP, ETH_ZLEN
from ..abi.inet import IPPROTO_TCP
from ..abi.tcp import TCPHDR_CHECK_OFFSET, TH_CWR, TH_FIN, TH_PSH
from .checksum import fold, internet_checksum, partial_sum, pseudo_header_sum

_ETHERTYPE = struct.Struct("!H")
_IP_LENGTH_ID = struct.Struct("!HH")        # total length, identification
_TCP_SEQ = struct.Struct("!I")


def segment_tcp4(frame, mss: int) -> list[bytes]:
    frame = bytes(frame)
    if len(frame) < ETH_HLEN + 40 or _ETHERTYPE.unpack_from(frame, 12)[0] != ETH_P_IP:
        raise ValueError("not an IPv4 frame")
    ihl = (frame[ETH_HLEN] & 0xF) * 4
    tcp = ETH_HLEN + ihl
    if frame[ETH_HLEN] >> 4 != 4 or ihl < 20 or frame[ETH_HLEN + 9] != IPPROTO_TCP \
            or len(frame) < tcp + 20:
        raise ValueError("not a TCP segment in IPv4")
    thl = (frame[tcp + 12] >> 4) * 4
    total = _IP_LENGTH_ID.unpack_from(frame, ETH_HLEN + 2)[0]
    end = ETH_HLEN + total
    if thl < 20 or tcp + thl > end or end > len(frame) or mss <= 0:
        raise ValueError("bad lengths in a TSO frame")
    ident = _IP_LENGTH_ID.unpack_from(frame, ETH_HLEN + 2)[1]
    (seq,) = _TCP_SEQ.unpack_from(frame, tcp + 4)
    flags = frame[tcp + 13]
    src, dst = frame[ETH_HLEN + 12:ETH_HLEN + 16], frame[ETH_HLEN + 16:ETH_HLEN + 20]
    payload = memoryview(frame)[tcp + thl:end]
    out = []
    for k, off in enumerate(range(0, max(len(payload), 1), mss)):
        piece = payload[off:off + mss]
        last = off + mss >= len(payload)
        ip = bytearray(frame[ETH_HLEN:tcp])
        _IP_LENGTH_ID.pack_into(ip, 2, ihl + thl + len(piece), (ident + k) & 0xFFFF)
        ip[10:12] = b"\0\0"
        ip[10:12] = internet_checksum(bytes(ip)).to_bytes(2, "big")
        th = bytearray(frame[tcp:tcp + thl])
        _TCP_SEQ.pack_into(th, 4, (seq + off) & 0xFFFFFFFF)
        th[13] = flags & ~((0 if last else TH_FIN | TH_PSH) | (TH_CWR if k else 0))
        th[TCPHDR_CHECK_OFFSET:TCPHDR_CHECK_OFFSET + 2] = b"\0\0"
        total_sum = pseudo_header_sum(src, dst, IPPROTO_TCP, thl + len(piece))
        check = fold(partial_sum(piece, partial_sum(bytes(th), total_sum)))
        th[TCPHDR_CHECK_OFFSET:TCPHDR_CHECK_OFFSET + 2] = check.to_bytes(2, "big")
        piece = frame[:ETH_HLEN] + bytes(ip) + bytes(th) + bytes(piece)
        out.append(piece + bytes(ETH_ZLEN - len(piece)) if len(piece) < ETH_ZLEN else piece)
    return out
