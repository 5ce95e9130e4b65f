"""TCP segments on the wire (RFC 9293 3.1): the header, its options and checksum,
and sequence-space arithmetic modulo 2**32 (RFC 9293 3.4).

`TcpSegment` is a decoded segment: ports, seq, ack, control bits, the raw 16-bit
window (unscaled: scaling is the connection's business), the options TCP uses (MSS,
window scale, SACK-permitted and timestamps are read; pyunik sends MSS and window
scale only) and the payload. `segment.encode(src_addr, dst_addr)` gives the bytes
with the checksum filled in over the IPv4 pseudo-header; `decode_segment(data,
src_addr, dst_addr)` reads them back and raises `MalformedSegment` for what Linux's
tcp_v4_rcv drops: fewer than 20 bytes, a data offset below 5 words or past the end,
a bad checksum. Options are read as tcp_parse_options does: an option whose length is
below 2 or runs past the header ends the parse (the options before it count, the
segment is kept), and an option of the wrong length for its kind is ignored.
Addresses are 4-byte IPv4 addresses (`bytes`), as the IPv4 layer has them.

Sequence numbers compare with `seq_lt`/`seq_le`/`seq_gt`/`seq_ge` (the signed 32-bit
difference, so 2**32 - 10 comes before 5) and move with `seq_add`.

Layer: net, below net/tcp.py and the IPv4 stack. Calls net/checksum.py.
"""

from __future__ import annotations

import enum

from ..abi.inet import IPPROTO_TCP
from ..abi.tcp import (TCP_HEADER_LEN, TCP_MAX_WSCALE, TCP_STATE_NAMES, TCPHDR,
                       TCPOLEN_MSS, TCPOLEN_SACK_PERM,
                       TCPOLEN_TIMESTAMP, TCPOLEN_WINDOW, TCPOPT_EOL, TCPOPT_MSS,
                       TCPOPT_MSS_LAYOUT, TCPOPT_NOP, TCPOPT_SACK_PERM,
                       TCPOPT_SACK_PERM_LAYOUT, TCPOPT_TIMESTAMP, TCPOPT_TIMESTAMP_LAYOUT,
                       TCPOPT_TIMESTAMP_VALUES, TCPOPT_WINDOW, TCPOPT_WINDOW_LAYOUT, TH_ACK,
                       TH_CWR, TH_ECE, TH_FIN, TH_PSH, TH_RST, TH_SYN, TH_URG)
from .checksum import fold, partial_field, partial_sum, pseudo_header_sum

SEQ_MOD = 1 << 32                     # sequence numbers count modulo 2**32
_MASK = SEQ_MOD - 1

# The connection states, Linux's numbers with Linux's names (TcpState.SYN_RECV is
# RFC 9293's SYN-RECEIVED), an IntEnum so that traces and reprs read as names.
TcpState = enum.IntEnum("TcpState", {name: n for n, name in TCP_STATE_NAMES.items()})


def seq_add(a: int, n: int) -> int:
    return (a + n) & _MASK


def seq_sub(a: int, b: int) -> int:
    """a - b as a signed distance in sequence space (-2**31 .. 2**31 - 1)."""
    return ((a - b + 0x80000000) & _MASK) - 0x80000000


# The comparisons are seq_sub's sign, written out: (a - b) mod 2**32 is 2**31 or more
# exactly when the signed distance is negative (they run several times per segment).

def seq_lt(a: int, b: int) -> bool:
    return (a - b) & _MASK >= 0x80000000


def seq_le(a: int, b: int) -> bool:
    return not 0 < (a - b) & _MASK < 0x80000000


def seq_gt(a: int, b: int) -> bool:
    return 0 < (a - b) & _MASK < 0x80000000


def seq_ge(a: int, b: int) -> bool:
    return (a - b) & _MASK < 0x80000000


def seq_in(x: int, low: int, high: int) -> bool:
    """low <= x < high in sequence space (an empty range holds nothing)."""
    return seq_le(low, x) and seq_lt(x, high)


class MalformedSegment(Exception):
    """A segment Linux would drop before any socket sees it; str() says why."""


_FLAG_LETTERS = ((TH_SYN, "S"), (TH_FIN, "F"), (TH_RST, "R"), (TH_PSH, "P"),
                 (TH_URG, "U"), (TH_ECE, "E"), (TH_CWR, "W"), (TH_ACK, "."))


class TcpSegment:
    """One segment. `window` is the header's 16-bit field as sent (unscaled)."""

    __slots__ = ("src_port", "dst_port", "seq", "ack", "flags", "window", "urgent",
                 "payload", "mss", "wscale", "sack_permitted", "timestamp", "gso_size")

    def __init__(self, src_port: int, dst_port: int, seq: int = 0, ack: int = 0,
                 flags: int = 0, window: int = 0, payload: bytes = b"", *,
                 urgent: int = 0, mss: int | None = None, wscale: int | None = None,
                 sack_permitted: bool = False,
                 timestamp: tuple[int, int] | None = None):
        self.src_port = src_port
        self.dst_port = dst_port
        self.seq = seq & _MASK
        self.ack = ack & _MASK
        self.flags = flags
        self.window = window
        self.urgent = urgent
        self.payload = payload
        self.mss = mss                      # MSS option, or None
        self.wscale = wscale                # window scale option's shift, or None
        self.sack_permitted = sack_permitted
        self.timestamp = timestamp          # (TSval, TSecr), or None
        self.gso_size = 0                   # sent whole to a TSO link: its pieces' size

    @property
    def seg_len(self) -> int:
        """SEG.LEN: the payload plus one for SYN and one for FIN."""
        return len(self.payload) + (self.flags & TH_SYN != 0) + (self.flags & TH_FIN != 0)

    def options(self) -> bytes:
        """The options field, padded to 32 bits: MSS, then NOP + window scale,
        then SACK-permitted and timestamps if set (Linux's order)."""
        out = b""
        if self.mss is not None:
            out += TCPOPT_MSS_LAYOUT.pack(TCPOPT_MSS, TCPOLEN_MSS, self.mss)
        if self.wscale is not None:
            out += TCPOPT_WINDOW_LAYOUT.pack(TCPOPT_NOP, TCPOPT_WINDOW, TCPOLEN_WINDOW,
                                             self.wscale)
        if self.sack_permitted:
            out += TCPOPT_SACK_PERM_LAYOUT.pack(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERM,
                                                TCPOLEN_SACK_PERM)
        if self.timestamp is not None:
            out += TCPOPT_TIMESTAMP_LAYOUT.pack(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP,
                                                TCPOLEN_TIMESTAMP, *self.timestamp)
        return out

    def encode(self, src_addr: bytes, dst_addr: bytes, partial: bool = False) -> bytes:
        """The segment's bytes, checksum over the IPv4 pseudo-header included; with
        partial, the checksum field holds only the pseudo-header's sum, for a card
        that finishes it (checksum offload: NEEDS_CSUM, csum_offset 16)."""
        opts = self.options() if (self.mss is not None or self.wscale is not None
                                  or self.sack_permitted or self.timestamp is not None) else b""
        length = TCP_HEADER_LEN + len(opts) + len(self.payload)
        total = pseudo_header_sum(src_addr, dst_addr, IPPROTO_TCP, length)
        fields = [self.src_port, self.dst_port, self.seq, self.ack,
                  ((TCP_HEADER_LEN + len(opts)) // 4) << 4, self.flags, self.window, 0,
                  self.urgent]
        if partial:
            fields[7] = partial_field(total)
            return TCPHDR.pack(*fields) + opts + self.payload
        header = TCPHDR.pack(*fields) + opts
        total = partial_sum(header, total)   # the header is a whole number of words
        fields[7] = fold(partial_sum(self.payload, total))
        return TCPHDR.pack(*fields) + opts + self.payload

    def describe(self) -> str:
        """tcpdump's words: `Flags [S.], seq 1, ack 2, win 3, options [mss 1460],
        length 0` (the full sequence numbers, as tcpdump -S)."""
        letters = "".join(c for bit, c in _FLAG_LETTERS if self.flags & bit) or "none"
        parts = ["Flags [%s]" % letters, "seq %d" % self.seq]
        if self.flags & TH_ACK:
            parts.append("ack %d" % self.ack)
        parts.append("win %d" % self.window)
        opts = []
        if self.mss is not None:
            opts.append("mss %d" % self.mss)
        if self.wscale is not None:
            opts.append("wscale %d" % self.wscale)
        if self.sack_permitted:
            opts.append("sackOK")
        if self.timestamp is not None:
            opts.append("TS val %d ecr %d" % self.timestamp)
        if opts:
            parts.append("options [%s]" % ",".join(opts))
        parts.append("length %d" % len(self.payload))
        return ", ".join(parts)

    def __repr__(self) -> str:
        return "TcpSegment(%d > %d, %s)" % (self.src_port, self.dst_port, self.describe())


def _parse_options(seg: TcpSegment, opts) -> None:
    """tcp_parse_options: fill seg's option fields from the options bytes."""
    i, n = 0, len(opts)
    while i < n:
        kind = opts[i]
        if kind == TCPOPT_EOL:
            return
        if kind == TCPOPT_NOP:
            i += 1
            continue
        if i + 1 >= n:
            return                        # a kind with no length byte: stop
        size = opts[i + 1]
        if size < 2 or i + size > n:
            return                        # "silly options" or a partial one: stop
        if kind == TCPOPT_MSS and size == TCPOLEN_MSS:
            seg.mss = (opts[i + 2] << 8) | opts[i + 3]
        elif kind == TCPOPT_WINDOW and size == TCPOLEN_WINDOW:
            seg.wscale = min(opts[i + 2], TCP_MAX_WSCALE)     # RFC 7323 2.3
        elif kind == TCPOPT_SACK_PERM and size == TCPOLEN_SACK_PERM:
            seg.sack_permitted = True
        elif kind == TCPOPT_TIMESTAMP and size == TCPOLEN_TIMESTAMP:
            seg.timestamp = TCPOPT_TIMESTAMP_VALUES.unpack_from(opts, i + 2)
        i += size


def decode_segment(data, src_addr: bytes, dst_addr: bytes,
                   verify_checksum: bool = True) -> TcpSegment:
    """The segment in data (the IPv4 payload, exactly its length), or
    MalformedSegment. verify_checksum=False is for a device that checked it
    (VIRTIO_NET_HDR_F_DATA_VALID)."""
    n = len(data)
    if n < TCP_HEADER_LEN:
        raise MalformedSegment("truncated header (%d bytes)" % n)
    (sport, dport, seq, ack, off_byte, flags, window, _check,
     urgent) = TCPHDR.unpack_from(data, 0)
    hlen = (off_byte >> 4) * 4
    if hlen < TCP_HEADER_LEN:
        raise MalformedSegment("data offset %d words is below 5" % (off_byte >> 4))
    if hlen > n:
        raise MalformedSegment("data offset %d bytes is past the segment's %d"
                               % (hlen, n))
    if verify_checksum:
        total = pseudo_header_sum(src_addr, dst_addr, IPPROTO_TCP, n)
        if fold(partial_sum(data, total)) != 0:
            raise MalformedSegment("bad checksum")
    seg = TcpSegment(sport, dport, seq, ack, flags, window, bytes(data[hlen:]),
                     urgent=urgent)
    if hlen > TCP_HEADER_LEN:
        _parse_options(seg, bytes(data[TCP_HEADER_LEN:hlen]))
    return seg


def reset_for_unknown(seg: TcpSegment) -> TcpSegment | None:
    """The RST answering a segment no connection or listener takes (RFC 9293
    3.10.7.1, CLOSED): none to a RST; <SEQ=SEG.ACK><CTL=RST> to an ACK; else
    <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Ports swapped."""
    if seg.flags & TH_RST:
        return None
    if seg.flags & TH_ACK:
        return TcpSegment(seg.dst_port, seg.src_port, seg.ack, 0, TH_RST)
    return TcpSegment(seg.dst_port, seg.src_port, 0, seq_add(seg.seq, seg.seg_len),
                      TH_RST | TH_ACK)
