"""ICMP for IPv4 (RFC 792, RFC 1122 3.2.2): decoding a message, the echo reply, the
error messages that quote the packet that caused them, and Linux's rate limit on
sending them (a token bucket: icmp_msgs_per_sec, icmp_msgs_burst).

Layer: net. Calls net/checksum.py and abi/icmp.py.
"""

from __future__ import annotations

from ..abi import icmp as I
from .checksum import internet_checksum

_HDR = I.ICMPHDR


def parse_icmp(data: bytes):
    """(type, code, rest of header as (id, seq), body), or None if truncated or the
    checksum is wrong."""
    if len(data) < _HDR.size or internet_checksum(data) != 0:
        return None
    kind, code, _, ident, seq = _HDR.unpack_from(data)
    return kind, code, ident, seq, data[_HDR.size:]


def build_icmp(kind: int, code: int, ident: int, seq: int, body: bytes) -> bytes:
    message = _HDR.pack(kind, code, 0, ident, seq) + body
    return _HDR.pack(kind, code, internet_checksum(message), ident, seq) + body


def build_error(kind: int, code: int, original: bytes, header_len: int) -> bytes:
    """An error quoting the original IP packet, cut so the whole answer is at most
    576 bytes (RFC 1812 4.3.2.3, as Linux's icmp_send does)."""
    room = I.ICMP_ERROR_MAX - header_len - _HDR.size
    return build_icmp(kind, code, 0, 0, bytes(original[:room]))


class RateLimit:
    """Tokens refill at rate per second up to burst; an error is sent only with one."""

    def __init__(self, rate: int = I.ICMP_MSGS_PER_SEC, burst: int = I.ICMP_MSGS_BURST):
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = None

    def allow(self, now: int) -> bool:
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate / 1e9)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
