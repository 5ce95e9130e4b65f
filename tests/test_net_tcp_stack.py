"""pyunik/net/tcp*.py inside net/stack.py: TcpTables attached to real stack
instances, segments carried in IPv4 over loopback and over a Wire between a guest
(behind the virtio-net card) and a host stack that drops and reorders frames."""

import errno
import random

import pytest
from test_net_stack import GUEST, HOST, SECOND, _pair

from pyunik.errors import KernelError
from pyunik.net.stack import Stack, ip
from pyunik.net.tcp import TcpConfig
from pyunik.net.tcp_segment import MalformedSegment, TcpState, decode_segment
from pyunik.net.tcp_table import TcpTable

LO = ip("127.0.0.1")


def _attach(stack, mss=1460):
    table = TcpTable(stack.tcp_emit, TcpConfig(mss=mss, secret=b"s" * 16,
                                               time_wait_ns=SECOND))
    stack.attach_tcp(table, decode_segment, MalformedSegment)
    return table


class Clock:
    """Polls the stacks; when none has work, jumps to the next deadline."""

    def __init__(self, *stacks):
        self.stacks = stacks
        self.now = 0

    def run(self, until, limit=600 * SECOND):
        end = self.now + limit
        while not until():
            did = False
            for s in self.stacks:
                did |= s.poll(self.now)
            if until():
                return True
            if not did:
                times = [t for t in (s.next_deadline() for s in self.stacks) if t is not None]
                nxt = max(min(times), self.now + 1) if times else None
                if nxt is None or nxt > end:
                    return False
                self.now = nxt
        return True


def _move(clock, src, dst, data):
    state = {"sent": 0, "got": bytearray()}

    def pump():
        while state["sent"] < len(data):
            try:
                state["sent"] += src.send(data[state["sent"]:state["sent"] + 65536], clock.now)
            except KernelError:
                break
        while True:
            try:
                chunk = dst.recv(1 << 20, clock.now)
            except KernelError:
                break
            if not chunk:
                break
            state["got"] += chunk
        return len(state["got"]) >= len(data)
    assert clock.run(pump)
    return bytes(state["got"])


def test_loopback_connection_in_one_stack():
    stack = Stack.guest()
    table = _attach(stack, mss=65495)
    clock = Clock(stack)
    listener = table.listen((LO, 8080), 4)
    client = table.connection((LO, stack.ephemeral_port(6)), (LO, 8080))
    client.connect(clock.now)
    assert clock.run(lambda: listener.accept_queue)
    server = listener.accept()
    assert client.snd_mss == 65495
    data = random.Random(1).randbytes(2_000_000)
    assert _move(clock, client, server, data) == data
    client.close(clock.now)
    server.close(clock.now)
    assert clock.run(lambda: not table.connections, limit=5 * SECOND)


@pytest.mark.parametrize("virtio", [False, True])
def test_guest_and_host_stacks_over_a_lossy_wire(virtio):
    _, guest, host, _ = _pair(virtio, drop=0.03, reorder=0.03, seed=7)
    gtable, htable = _attach(guest), _attach(host)
    clock = Clock(guest, host)
    listener = htable.listen((b"\0\0\0\0", 8000), 4)
    client = gtable.connection((GUEST, guest.ephemeral_port(6)), (HOST, 8000))
    client.connect(clock.now)
    assert clock.run(lambda: listener.accept_queue, limit=30 * SECOND)
    server = listener.accept()
    assert server.local == (HOST, 8000) and server.remote == client.local
    up = random.Random(2).randbytes(600_000)
    down = random.Random(3).randbytes(300_000)
    assert _move(clock, client, server, up) == up
    assert _move(clock, server, client, down) == down
    client.close(clock.now)
    assert clock.run(lambda: server.state == TcpState.CLOSE_WAIT, limit=60 * SECOND)
    server.close(clock.now)
    assert clock.run(lambda: not gtable.connections and not htable.connections,
                     limit=60 * SECOND)


def test_a_closed_port_answers_with_a_reset_through_the_stack():
    stack = Stack.guest()
    table = _attach(stack)
    clock = Clock(stack)
    client = table.connection((LO, 40000), (LO, 9))
    client.connect(clock.now)
    assert clock.run(lambda: client.state == TcpState.CLOSE, limit=SECOND)
    assert client.take_error() == errno.ECONNREFUSED
    assert table.counters["resets_sent"] == 1
