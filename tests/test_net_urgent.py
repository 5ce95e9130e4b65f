"""TCP urgent data (net/tcp_urgent.py): on the wire between two of pyunik's TCP
connections (tests/tcp_link.py: URG and the urgent pointer, urgent mode ending with
the ACK, an urgent pointer ahead of its byte), and guest_images' tcpurg (send and
recv MSG_OOB, SIOCATMARK, SO_OOBINLINE, POLLPRI, FIONREAD) against native Linux."""

import errno

import pytest
from tcp_link import A_ADDR, B_ADDR, MS, Link, establish

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik
from pyunik.abi.tcp import TH_ACK, TH_PSH, TH_URG
from pyunik.errors import KernelError
from pyunik.net.tcp import TcpConfig
from pyunik.net.tcp_segment import TcpSegment, seq_add
from pyunik.net.tcp_urgent import URG_NOTYET, URG_READ, URG_VALID


def _pair():
    link = Link(config_a=TcpConfig(secret=b"a" * 16), config_b=TcpConfig(secret=b"b" * 16))
    client, server, _ = establish(link)
    return link, client, server


def test_urgent_pointer_on_the_wire_and_the_mark():
    link, client, server = _pair()
    start = client.snd_nxt
    client.send(b"abc", link.now)
    client.send(b"X", link.now, urgent=True)     # Nagle does not hold it back
    up = client.snd_up
    assert up == seq_add(start, 4)
    link.advance(10 * MS)
    sent = [seg for (_, src, seg) in link.log if src == A_ADDR and seg.payload]
    urgent = [seg for seg in sent if seg.flags & TH_URG]
    assert urgent and all(seq_add(seg.seq, seg.urgent) == up for seg in urgent)
    assert client.snd_up is None                  # acknowledged: urgent mode is over
    client.send(b"def", link.now)
    link.advance(10 * MS)
    (later,) = [s for (_, src, s) in link.log if src == A_ADDR and s.payload == b"def"]
    assert not later.flags & TH_URG
    assert server.urg_state == URG_VALID and server.urg_byte == ord("X")
    assert server.readable_bytes() == 3 and server.readable_bytes(inline=True) == 7
    assert server.recv(100, link.now) == b"abc" and server.at_mark()
    assert server.recv_urgent(True, False) == ord("X")     # MSG_PEEK leaves it
    assert server.recv_urgent(False, False) == ord("X")
    assert server.urg_state == URG_READ
    with pytest.raises(KernelError) as e:
        server.recv_urgent(False, False)
    assert e.value.errno == errno.EINVAL
    assert server.recv(100, link.now) == b"def"  # the urgent byte skipped
    assert server.urg_state == 0 and not server.at_mark()


def test_an_urgent_pointer_ahead_of_its_byte():
    """The pointer may name a byte a later segment brings (NOTYET): recv(MSG_OOB) is
    EAGAIN until it comes, and never waits."""
    link, client, server = _pair()
    seq, ack = client.snd_nxt, client.rcv_nxt
    first = TcpSegment(40000, 80, seq, ack, TH_ACK | TH_URG, 1024, b"0123", urgent=8)
    link.inject(A_ADDR, B_ADDR, first.encode(A_ADDR, B_ADDR))
    assert server.urg_state == URG_NOTYET
    with pytest.raises(KernelError) as e:
        server.recv_urgent(False, False)
    assert e.value.errno == errno.EAGAIN
    second = TcpSegment(40000, 80, seq_add(seq, 4), ack, TH_ACK | TH_PSH, 1024, b"4567")
    link.inject(A_ADDR, B_ADDR, second.encode(A_ADDR, B_ADDR))
    assert server.urg_state == URG_VALID and server.urg_byte == ord("7")
    assert server.recv(100, link.now) == b"0123456"
    assert server.recv_urgent(False, False) == ord("7")


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_tcpurg_against_native(libc):
    prog = BIN / ("tcpurg-" + libc)
    emulated = run_pyunik([prog])
    assert_no_traceback(emulated)
    assert b"recv MSG_OOB: 1 \"X\"" in emulated.stdout
    assert_same(run_native([prog]), emulated)
