"""pyunik/net/tcp_segment.py, tcp_buffers.py and tcp_rto.py: segments against a
checksum computed here independently and against the host's Linux (which answers a
SYN only when its checksum is right), hostile segments, sequence arithmetic across
2**32, the reassembly queue's bounds, RFC 6298's estimator."""

import random
import select
import socket
import struct
import time

import pytest

from pyunik.abi.tcp import TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN
from pyunik.net.tcp_buffers import ReassemblyQueue, SendQueue
from pyunik.net.tcp_rto import RtoEstimator
from pyunik.net.tcp_segment import (MalformedSegment, TcpSegment, decode_segment,
                                    reset_for_unknown, seq_add, seq_ge, seq_gt, seq_in,
                                    seq_le, seq_lt, seq_sub)

SRC = bytes([192, 168, 0, 1])
DST = bytes([192, 168, 0, 199])
MS = 1_000_000


def _reference_checksum(src: bytes, dst: bytes, segment: bytes) -> int:
    """RFC 793's checksum written out plainly, word by word."""
    pseudo = src + dst + bytes([0, 6]) + struct.pack("!H", len(segment))
    data = pseudo + segment + (b"\0" if len(segment) % 2 else b"")
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) + data[i + 1]
    while total > 0xFFFF:
        total = (total >> 16) + (total & 0xFFFF)
    return 0xFFFF - total


def _hand_built(payload: bytes = b"hello, world!") -> bytes:
    """A SYN,ACK-free data segment with MSS and window-scale options, by hand:
    ports 12345 -> 80, seq 0xDEADBEEF, ack 0x01020304, offset 7 words, PSH|ACK,
    window 502, urgent 0, options MSS 1460, NOP, WS 7; checksum filled below."""
    header = struct.pack("!HHIIBBHHH", 12345, 80, 0xDEADBEEF, 0x01020304, 7 << 4,
                         TH_PSH | TH_ACK, 502, 0, 0)
    options = bytes([2, 4, 0x05, 0xB4, 1, 3, 3, 7])
    raw = bytearray(header + options + payload)
    struct.pack_into("!H", raw, 16, _reference_checksum(SRC, DST, bytes(raw)))
    return bytes(raw)


def test_decode_hand_built_segment():
    raw = _hand_built()
    seg = decode_segment(raw, SRC, DST)
    assert (seg.src_port, seg.dst_port, seg.seq, seg.ack) == (12345, 80, 0xDEADBEEF,
                                                               0x01020304)
    assert seg.flags == TH_PSH | TH_ACK and seg.window == 502
    assert (seg.mss, seg.wscale) == (1460, 7)
    assert seg.payload == b"hello, world!"
    assert seg.seg_len == 13


@pytest.mark.parametrize("payload", [b"", b"x", b"hello, world!", bytes(range(256)) * 6])
def test_encode_matches_the_hand_built_bytes(payload):
    seg = TcpSegment(12345, 80, 0xDEADBEEF, 0x01020304, TH_PSH | TH_ACK, 502, payload,
                     mss=1460, wscale=7)
    assert seg.encode(SRC, DST) == _hand_built(payload)


def test_round_trip_of_every_option_and_flag():
    rng = random.Random(3)
    for _ in range(200):
        seg = TcpSegment(rng.randrange(65536), rng.randrange(65536), rng.randrange(1 << 32),
                         rng.randrange(1 << 32), rng.randrange(256), rng.randrange(65536),
                         rng.randbytes(rng.randrange(0, 1500)),
                         mss=rng.choice([None, 536, 1460]), wscale=rng.choice([None, 0, 14]),
                         sack_permitted=rng.random() < 0.5,
                         timestamp=rng.choice([None, (1, 2)]))
        raw = seg.encode(SRC, DST)
        assert _reference_checksum(SRC, DST, raw[:16] + b"\0\0" + raw[18:]) == \
            struct.unpack_from("!H", raw, 16)[0]
        back = decode_segment(raw, SRC, DST)
        for f in TcpSegment.__slots__:
            assert getattr(back, f) == getattr(seg, f), f


def test_bad_checksum_offset_and_length_are_refused():
    raw = bytearray(_hand_built())
    raw[30] ^= 0x01
    with pytest.raises(MalformedSegment, match="checksum"):
        decode_segment(bytes(raw), SRC, DST)
    with pytest.raises(MalformedSegment, match="checksum"):
        decode_segment(_hand_built(), SRC, bytes([192, 168, 0, 198]))   # other address
    for offset in (0, 4):
        bad = bytearray(_hand_built())
        bad[12] = offset << 4
        with pytest.raises(MalformedSegment, match="below 5"):
            decode_segment(bytes(bad), SRC, DST, verify_checksum=False)
    short = _hand_built(b"")[:24]               # offset says 28 bytes
    with pytest.raises(MalformedSegment, match="past"):
        decode_segment(short, SRC, DST, verify_checksum=False)
    for n in range(20):
        with pytest.raises(MalformedSegment, match="truncated"):
            decode_segment(_hand_built()[:n], SRC, DST)


def test_truncated_and_silly_options_end_the_parse_as_linux():
    base = struct.pack("!HHIIBBHHH", 1, 2, 3, 4, 8 << 4, TH_SYN, 100, 0, 0)
    cases = [
        (bytes([2, 4, 5, 0xB4, 3, 3, 9, 2, 99, 0, 0, 0]), 1460, 9),   # kind 2 length 99: stop
        (bytes([2, 4, 5, 0xB4, 3, 0, 5, 1, 1, 1, 1, 1]), 1460, None),  # length 0: stop
        (bytes([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]), None, None),     # kind without length
        (bytes([2, 3, 5, 3, 3, 8, 1, 1, 0, 3, 3, 1]), None, 8),        # MSS length 3: skipped
        (bytes([3, 3, 200, 0, 1, 1, 1, 1, 1, 1, 1, 1]), None, 14),     # shift above 14 -> 14
    ]
    for opts, mss, ws in cases:
        seg = decode_segment(base + opts, SRC, DST, verify_checksum=False)
        assert (seg.mss, seg.wscale) == (mss, ws), opts


def test_random_bytes_never_raise_anything_else():
    rng = random.Random(11)
    good = _hand_built()
    for i in range(3000):
        if i % 2:
            raw = bytearray(good)
            for _ in range(rng.randrange(1, 6)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            raw = bytes(raw[:rng.randrange(len(raw) + 1)])
        else:
            raw = rng.randbytes(rng.randrange(64))
        try:
            decode_segment(raw, SRC, DST, verify_checksum=bool(i % 3))
        except MalformedSegment:
            pass


def test_sequence_arithmetic_wraps():
    top = (1 << 32) - 10
    assert seq_add(top, 20) == 10
    assert seq_sub(10, top) == 20 and seq_sub(top, 10) == -20
    assert seq_lt(top, 5) and seq_gt(5, top) and seq_le(top, top) and seq_ge(5, top)
    assert seq_in(3, top, 10) and not seq_in(10, top, 10) and not seq_in(top - 1, top, 10)
    assert not seq_in(0, 5, 5)                    # an empty range


def test_reset_for_unknown_follows_rfc_9293():
    assert reset_for_unknown(TcpSegment(1, 2, 5, 0, TH_RST)) is None
    r = reset_for_unknown(TcpSegment(1, 2, 5, 77, TH_ACK, payload=b"abc"))
    assert (r.src_port, r.dst_port, r.seq, r.flags) == (2, 1, 77, TH_RST)
    r = reset_for_unknown(TcpSegment(1, 2, (1 << 32) - 1, 0, TH_SYN | TH_FIN, payload=b"ab"))
    assert (r.seq, r.ack, r.flags) == (0, 3, TH_RST | TH_ACK)


def _linux_answers(segment: TcpSegment, port: int, raw_sock) -> bool:
    lo = bytes([127, 0, 0, 1])
    raw_sock.sendto(segment.encode(lo, lo), ("127.0.0.1", 0))
    end = time.monotonic() + 2
    while time.monotonic() < end:
        if not select.select([raw_sock], [], [], 0.2)[0]:
            continue
        pkt = raw_sock.recv(65535)
        sport, dport, _, ack = struct.unpack_from("!HHII", pkt, (pkt[0] & 15) * 4)
        if sport == port and dport == segment.src_port:
            return ack == seq_add(segment.seq, 1)
    return False


def test_linux_accepts_our_checksums_and_refuses_a_bad_one():
    """The host's own TCP is the reference: a SYN we encode to a listener on
    127.0.0.1 gets its SYN,ACK; the same SYN with one checksum bit flipped is
    dropped by Linux's tcp_v4_rcv. Needs CAP_NET_RAW (a raw socket)."""
    try:
        raw_sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    except PermissionError:
        pytest.skip("no CAP_NET_RAW for a raw socket")
    with raw_sock, socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        port = srv.getsockname()[1]
        base = random.Random(5).randrange(20000, 30000)
        for i, payload in enumerate((b"", b"odd", b"even")):
            # A raw socket sees all the host's TCP: under heavy traffic its buffer
            # may drop the answer, so a good SYN gets three tries from new ports.
            assert any(_linux_answers(TcpSegment(base + 10 * i + t, port, 1000 + i, 0,
                                                 TH_SYN, 65535, payload, mss=1460,
                                                 wscale=7), port, raw_sock)
                       for t in range(3)), payload

        class Flipped(TcpSegment):
            def encode(self, src, dst):
                raw = bytearray(super().encode(src, dst))
                raw[17] ^= 0x10
                return bytes(raw)
        bad = Flipped(base + 9, port, 2000, 0, TH_SYN, 65535, mss=1460)
        assert not _linux_answers(bad, port, raw_sock)


def test_send_queue_counts_offsets():
    q = SendQueue(10)
    assert q.append(b"abcdefghijkl") == 10 and q.room() == 0
    assert q.peek(3, 4) == b"defg"
    assert q.acknowledge(4) == 4 and q.start == 4 and q.peek(4, 2) == b"ef"
    assert q.append(b"xyz") == 3 and q.end == 13
    assert q.acknowledge(100) == 9 and len(q) == 0


def test_reassembly_merges_and_fills_holes():
    q = ReassemblyQueue(1000)
    data = bytes(range(100))
    for start, end in ((50, 60), (10, 20), (15, 30), (60, 70), (40, 45), (5, 12)):
        assert q.insert(start, data[start:end])
    assert q.starts == [5, 40, 50] and q.bytes == 25 + 5 + 20
    assert q.take(0) == b""                       # hole at 0
    assert q.take(5) == data[5:30]
    assert q.take(40) == data[40:45]
    assert q.take(52) == data[52:70] and q.bytes == 0


def test_reassembly_is_bounded_in_bytes_and_runs():
    q = ReassemblyQueue(1000, max_runs=8)
    for i in range(100):                          # many small disjoint pieces
        q.insert(10 + i * 3, b"x")
    assert len(q) == 8 and q.bytes == 8
    assert q.starts == [10 + i * 3 for i in range(8)]
    assert not q.insert(5000, b"y" * 10)          # furthest ahead: refused
    q = ReassemblyQueue(100)
    assert q.insert(10, b"a" * 80)
    assert q.insert(200, b"b" * 50) and q.bytes == 100 and len(q.runs[-1]) == 20
    assert q.insert(0, b"c" * 5) and q.bytes == 100 and len(q.runs[-1]) == 15
    assert not q.insert(300, b"d" * 10) and q.starts == [0, 10, 200]
    assert q.dropped > 0


def test_rto_follows_rfc_6298():
    est = RtoEstimator(rto_min=200 * MS)
    assert est.rto == 1000 * MS                   # 2.1: 1 s before any sample
    est.sample(100 * MS)                          # 2.2: SRTT=R, RTTVAR=R/2
    assert (est.srtt, est.rttvar) == (100 * MS, 50 * MS)
    assert est.rto == 300 * MS                    # 100 + 4*50
    est.sample(200 * MS)                          # 2.3
    assert est.rttvar == (3 * 50 * MS + 100 * MS) // 4
    assert est.srtt == (7 * 100 * MS + 200 * MS) // 8
    assert est.rto == est.srtt + 4 * est.rttvar
    for _ in range(50):
        est.sample(1 * MS)
    assert est.rto == 200 * MS                    # Linux's floor
    est.expired()
    est.expired()
    assert est.rto == 800 * MS                    # 5.5: doubled twice
    for _ in range(20):
        est.expired()
    assert est.rto == 120_000 * MS                # bounded by TCP_RTO_MAX
    est.sample(1 * MS)
    assert est.rto == 200 * MS and est.backoff == 0
