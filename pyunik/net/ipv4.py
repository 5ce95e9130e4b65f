"""IPv4 (RFC 791, RFC 1122): checking a received header, building one, cutting a
packet into fragments that fit the MTU, and putting received fragments back together.

`parse_packet` drops what Linux's ip_rcv drops: shorter than a header, version not 4,
a header length under 5 words or past the data, a total length past the data or under
the header, a wrong header checksum. Padding past the total length is cut off.

`Reassembler` follows net/ipv4/ip_fragment.c: fragments are queued by (source,
destination, protocol, id); a fragment inside what is already held is a duplicate and
ignored; one that overlaps held data otherwise makes the whole datagram be dropped
(RFC 5722's rule, which Linux applies to IPv4 too since 4.19); a datagram past 65535
bytes is dropped; a queue not complete after ipfrag_time is dropped (and, when its
first fragment came, reported with ICMP time exceeded, code 1); all queues together
hold at most ipfrag_high_thresh bytes: past it the oldest queues go.

Layer: net. Calls net/checksum.py and abi/ip.py.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict

from ..abi import ip as IP
from .checksum import internet_checksum

_IPHDR = IP.IPHDR
# What one held fragment costs besides its payload (Linux charges an skb's truesize):
# a flood of tiny fragments fills the limit after some thousands, not millions.
FRAGMENT_OVERHEAD = 256


class Packet:
    """A received IPv4 packet, its header decoded. payload excludes the header."""

    __slots__ = ("header", "tos", "ident", "flags", "offset", "ttl", "protocol", "src", "dst",
                 "payload")

    def more_fragments(self) -> bool:
        return bool(self.flags & IP.IP_MF)

    def is_fragment(self) -> bool:
        return bool(self.flags & IP.IP_MF or self.offset)


def parse_packet(data) -> Packet | None:
    n = len(data)
    if n < _IPHDR.size:
        return None
    vihl, tos, total, ident, frag, ttl, proto, _, src, dst = _IPHDR.unpack_from(data)
    ihl = (vihl & 0xF) * 4
    if vihl >> 4 != IP.IPVERSION or ihl < _IPHDR.size or ihl > n or total < ihl or total > n:
        return None
    if internet_checksum(bytes(data[:ihl])) != 0:
        return None
    p = Packet()
    p.header = bytes(data[:ihl])
    p.tos, p.ident, p.ttl, p.protocol, p.src, p.dst = tos, ident, ttl, proto, src, dst
    p.flags = frag & (IP.IP_DF | IP.IP_MF | IP.IP_CE)
    p.offset = (frag & IP.IP_OFFSET) * 8
    p.payload = bytes(data[ihl:total])
    return p


def build_header(src: bytes, dst: bytes, protocol: int, length: int, ident: int,
                 ttl: int = IP.IPDEFTTL, tos: int = 0, flags: int = 0, offset: int = 0) -> bytes:
    """A 20-byte header (no options) for length bytes of payload, checksum filled."""
    fields = [(IP.IPVERSION << 4) | 5, tos, _IPHDR.size + length, ident,
              flags | (offset // 8), ttl, protocol, 0, src, dst]
    header = _IPHDR.pack(*fields)
    fields[7] = internet_checksum(header)
    return _IPHDR.pack(*fields)


def fragments(src: bytes, dst: bytes, protocol: int, payload: bytes, ident: int, mtu: int,
              ttl: int = IP.IPDEFTTL, tos: int = 0,
              dont_fragment: bool = False) -> list[bytes] | None:
    """The packets that carry payload over a link of this MTU; None if it would need
    fragments and dont_fragment is set (the caller answers EMSGSIZE)."""
    df = IP.IP_DF if dont_fragment else 0
    if _IPHDR.size + len(payload) <= mtu:
        return [build_header(src, dst, protocol, len(payload), ident, ttl, tos, df) + payload]
    if dont_fragment:
        return None
    step = (mtu - _IPHDR.size) & ~7
    out = []
    for off in range(0, len(payload), step):
        piece = payload[off:off + step]
        more = IP.IP_MF if off + step < len(payload) else 0
        out.append(build_header(src, dst, protocol, len(piece), ident, ttl, tos, more, off)
                   + piece)
    return out


class _Queue:
    __slots__ = ("pieces", "total", "deadline", "first", "meat", "charge")

    def __init__(self, deadline: int):
        self.pieces: list[tuple[int, bytes]] = []   # (offset, data), sorted by offset
        self.total = -1                            # the datagram's length, once known
        self.deadline = deadline
        self.first: Packet | None = None           # the offset-0 fragment, for ICMP
        self.meat = 0                              # payload bytes held
        self.charge = 0                            # what they cost against the limit


class Reassembler:
    """Owned by one stack: the fragment queues in arrival order, and the bytes they
    hold together (`held`, bounded by `limit`)."""

    def __init__(self, timeout: int = IP.IPFRAG_TIME, limit: int = IP.IPFRAG_HIGH_THRESH):
        self.timeout = timeout
        self.limit = limit
        self.queues: OrderedDict[tuple, _Queue] = OrderedDict()
        self.held = 0
        self.dropped = 0                           # datagrams given up

    def add(self, p: Packet, now: int) -> bytes | None:
        """Take one fragment; the whole payload once the last piece is in, else None."""
        key = (p.src, p.dst, p.protocol, p.ident)
        q = self.queues.get(key)
        if q is None:
            q = self.queues[key] = _Queue(now + self.timeout)
        start, end = p.offset, p.offset + len(p.payload)
        if end > IP.IP_MAX_PACKET - len(p.header) or (p.more_fragments() and len(p.payload) % 8) \
                or (not p.payload and p.more_fragments()):
            self._drop(key)
            return None
        if not p.more_fragments():
            if q.total >= 0 and q.total != end or any(o + len(d) > end for o, d in q.pieces):
                self._drop(key)
                return None
            q.total = end
        elif q.total >= 0 and end > q.total:
            self._drop(key)
            return None
        # Pieces never overlap, so only the neighbours of start can meet this one.
        i = bisect.bisect_right(q.pieces, start, key=lambda piece: piece[0])
        for off, data in q.pieces[max(i - 1, 0):i + 1]:
            if off <= start and end <= off + len(data):
                return None                        # a duplicate: ignored, queue kept
            if start < off + len(data) and off < end:
                self._drop(key)                    # an overlap: the datagram is dropped
                return None
        q.pieces.insert(i, (start, p.payload))
        charge = len(p.payload) + FRAGMENT_OVERHEAD
        q.meat += len(p.payload)
        q.charge += charge
        self.held += charge
        if start == 0:
            q.first = p
        if q.total >= 0 and q.meat == q.total:
            del self.queues[key]
            self.held -= q.charge
            return b"".join(d for _, d in q.pieces)
        while self.held > self.limit and self.queues:
            self._drop(next(iter(self.queues)))
        return None

    def _drop(self, key) -> None:
        q = self.queues.pop(key, None)
        if q is not None:
            self.held -= q.charge
            self.dropped += 1

    def expire(self, now: int) -> list[Packet]:
        """Drop the queues past their time; the first fragments of those that had one
        (the stack answers them with ICMP time exceeded)."""
        first = []
        for key in [k for k, q in self.queues.items() if q.deadline <= now]:
            if self.queues[key].first is not None:
                first.append(self.queues[key].first)
            self._drop(key)
        return first

    def next_deadline(self) -> int | None:
        return min((q.deadline for q in self.queues.values()), default=None)
