"""TCP through the user-mode network (pyunik/net/user_tcp.py): the guest's TCP (its
stack behind the virtio card) talks to the NAT stack's TCP, which relays to host
sockets on 127.0.0.1 only: guest connections to 10.0.2.2 reach the host's loopback,
a refused host port is a refused guest connect, other addresses are refused without
a host socket, a tcp hostfwd reaches a guest listener, and a transfer through a
backend losing and reordering 5% of frames arrives intact."""

import hashlib
import random
import socket
import time
from errno import EAGAIN, ECONNREFUSED

import pytest

from pyunik.errors import KernelError
from pyunik.net.backend import Lossy
from pyunik.net.network import with_tcp
from pyunik.net.stack import Stack, ip
from pyunik.net.tcp_segment import TcpState
from pyunik.net.user import Forward, UserNetwork
from pyunik.net.virtio.device import VirtioNetDevice
from pyunik.net.virtio.driver import VirtioNetDriver
from pyunik.net.virtio.memory import BufferMemory

GUEST, GATEWAY = ip("10.0.2.15"), ip("10.0.2.2")


def _guest(backend):
    memory = BufferMemory(4 << 20, 0x40000)
    device = VirtioNetDevice(memory, bytes.fromhex("525400123456"), backend)
    driver = VirtioNetDriver(device, memory, 0x40000, 4 << 20)
    stack = with_tcp(Stack.guest(driver, driver.probe()))
    stack.pollers.append(backend.poll)
    return stack


def _now():
    return time.monotonic_ns()


def _until(stack, done, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        stack.poll(_now())
        if done():
            return True
        time.sleep(0.0005)
    return False


def _connect(stack, dst, port):
    stack.now = _now()
    local = (GUEST, stack.ephemeral_port(6))
    conn = stack.tcp.connection(local, (dst, port))
    conn.connect(stack.now)
    _until(stack, lambda: conn.state != TcpState.SYN_SENT)
    return conn


def _accept(stack, listener):
    accepted = []

    def accept():
        try:
            accepted.append(listener.accept())
            return True
        except KernelError:
            return False
    assert _until(stack, accept)
    return accepted[0]


def _recv_all(stack, conn, n):
    got = bytearray()

    def more():
        while True:
            try:
                data = conn.recv(65536, _now())
            except KernelError as e:
                assert e.errno == EAGAIN
                return len(got) >= n
            if not data:
                return True
            got.extend(data)
    assert _until(stack, more, 30)
    return bytes(got)


@pytest.fixture
def host_server():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(10)
    yield server
    server.close()


def test_guest_connects_to_the_hosts_loopback_through_10_0_2_2(host_server):
    net = UserNetwork()
    guest = _guest(net)
    try:
        conn = _connect(guest, GATEWAY, host_server.getsockname()[1])
        assert conn.state == TcpState.ESTABLISHED
        peer, _ = host_server.accept()
        peer.settimeout(10)
        assert conn.send(b"GET / HTTP/1.0\r\n\r\n", _now()) == 18
        guest.poll(_now())
        assert peer.recv(100) == b"GET / HTTP/1.0\r\n\r\n"
        peer.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello")
        peer.close()
        assert _recv_all(guest, conn, 1 << 20) == b"HTTP/1.0 200 OK\r\n\r\nhello"
        conn.close(_now())
        assert _until(guest, lambda: not net.tcp.pairs)
        assert net.host_sockets_opened == 1
    finally:
        net.close()


def test_a_closed_host_port_refuses_the_guest(host_server):
    port = host_server.getsockname()[1]
    host_server.close()                        # nothing listens there now
    net = UserNetwork()
    guest = _guest(net)
    conn = _connect(guest, GATEWAY, port)
    assert conn.state == TcpState.CLOSE and conn.take_error() == ECONNREFUSED
    net.close()


def test_other_addresses_are_refused_without_a_host_socket():
    net = UserNetwork()
    guest = _guest(net)
    conn = _connect(guest, ip("192.0.2.1"), 80)
    assert conn.state == TcpState.CLOSE and conn.take_error() == ECONNREFUSED
    conn = _connect(guest, ip("10.0.2.3"), 53)
    assert conn.take_error() == ECONNREFUSED
    assert net.host_sockets_opened == 0
    net.close()


def _free_port():
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.mark.parametrize("lossy", [False, True])
def test_hostfwd_tcp_carries_a_megabyte_each_way(lossy):
    host_port = _free_port()
    net = UserNetwork([Forward.parse("tcp:127.0.0.1:%d-:80" % host_port)])
    backend = Lossy(net, drop=0.05, reorder=0.05, seed=3) if lossy else net
    guest = _guest(backend)
    listener = guest.tcp.listen((b"\0\0\0\0", 80), 8)
    data = random.Random(1).randbytes(1 << 20)
    client = socket.create_connection(("127.0.0.1", host_port), timeout=10)
    client.setblocking(False)
    try:
        conn = _accept(guest, listener)
        assert conn.remote[0] == GATEWAY
        # host -> guest
        sent = [0]

        def push():
            if sent[0] < len(data):
                try:
                    sent[0] += client.send(data[sent[0]:sent[0] + 65536])
                except BlockingIOError:
                    pass
                if sent[0] == len(data):
                    client.shutdown(socket.SHUT_WR)
            return False
        got = bytearray()

        def pull():
            push()
            while True:
                try:
                    piece = conn.recv(65536, _now())
                except KernelError:
                    return False
                if not piece:
                    return True
                got.extend(piece)
        assert _until(guest, pull, 60)
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        # guest -> host
        back = bytearray()
        offset = [0]

        def echo():
            while offset[0] < len(data):
                try:
                    offset[0] += conn.send(data[offset[0]:offset[0] + 65536], _now())
                except KernelError:
                    break
            if offset[0] == len(data) and conn.state == TcpState.CLOSE_WAIT:
                conn.close(_now())
            try:
                while True:
                    piece = client.recv(65536)
                    if not piece:
                        return True
                    back.extend(piece)
            except BlockingIOError:
                return False
        assert _until(guest, echo, 60)
        assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
        if lossy:
            assert backend.dropped > 20 and backend.reordered > 20
    finally:
        client.close()
        net.close()


def test_a_large_mtu_carries_large_segments():
    from pyunik.net.network import Network
    host_port = _free_port()
    net = Network.configure("user,mtu=65520,hostfwd=tcp:127.0.0.1:%d-:80" % host_port)
    assert net.driver.mtu == 65520 and net.stack.interfaces["eth0"].mtu == 65520
    assert net.stack.tcp.config.mss == 65480
    listener = net.stack.tcp.listen((b"\0\0\0\0", 80), 8)
    client = socket.create_connection(("127.0.0.1", host_port), timeout=10)
    try:
        conn = _accept(net.stack, listener)
        client.sendall(bytes(200000))
        client.shutdown(socket.SHUT_WR)
        assert len(_recv_all(net.stack, conn, 200000)) == 200000
        assert conn.counters["segments_in"] < 20
    finally:
        client.close()
        net.close()


def test_host_connections_are_bounded(host_server):
    net = UserNetwork()
    net.tcp.max_connections = 3
    guest = _guest(net)
    try:
        conns = [_connect(guest, GATEWAY, host_server.getsockname()[1]) for _ in range(5)]
        states = [c.state for c in conns]
        assert states.count(TcpState.ESTABLISHED) == 3
        assert [c.take_error() for c in conns[3:]] == [ECONNREFUSED] * 2
        assert net.host_sockets_opened == 3
        # Both ends close: room again.
        for c in conns[:3]:
            c.close(_now())
        for _ in range(3):
            host_server.accept()[0].close()
        assert _until(guest, lambda: net.tcp.connections() == 0)
        assert _connect(guest, GATEWAY, host_server.getsockname()[1]).state == \
            TcpState.ESTABLISHED
    finally:
        net.close()


def test_a_held_back_host_socket_is_not_waited_on():
    """Back-pressure: a host client sends more than the guest reads. Once the NAT
    holds the host socket back (the guest's window full, the relay's own window
    full), the network's host fds leave it out, so a wait on them (the scheduler's
    idle poll) sleeps instead of returning at once again and again; once the guest
    reads, it is waited on again."""
    import select
    host_port = _free_port()
    net = UserNetwork([Forward.parse("tcp:127.0.0.1:%d-:80" % host_port)])
    guest = _guest(net)
    listener = guest.tcp.listen((b"\0\0\0\0", 80), 8)
    client = socket.create_connection(("127.0.0.1", host_port), timeout=10)
    client.setblocking(False)
    try:
        conn = _accept(guest, listener)
        chunk = bytes(65536)
        sent = stuck = 0
        end = time.monotonic() + 20
        while time.monotonic() < end:              # until the host client is stuck too
            try:
                sent += client.send(chunk)
                stuck = 0
            except BlockingIOError:
                stuck += 1
                if stuck > 20:
                    break
            guest.poll(_now())
            time.sleep(0.01)
        assert stuck > 20 and len(net.host_fds()) == 1      # the forward's listener only
        poller = select.poll()
        for fd, events in net.host_fds():
            poller.register(fd, events)
        assert poller.poll(200) == []
        client.shutdown(socket.SHUT_WR)
        assert len(_recv_all(guest, conn, sent)) == sent    # reading it again
    finally:
        client.close()
        net.close()


def test_what_the_guest_sends_waits_for_the_host_socket(host_server):
    """Back-pressure the other way: the guest sends more than the host peer reads.
    The host socket's send buffer holds it back: what the NAT keeps for the host
    stays within its window (the rest waits in the guest's TCP, whose window
    closed), the network's host fds name the socket for POLLOUT, and a poll on them
    sleeps while the peer reads nothing and wakes once it reads (the scheduler's
    idle wait: not a TCP timer much later). Then everything arrives."""
    import select
    net = UserNetwork([])
    guest = _guest(net)
    conn = _connect(guest, GATEWAY, host_server.getsockname()[1])
    peer, _ = host_server.accept()
    try:
        assert conn.state == TcpState.ESTABLISHED
        chunk = bytes(range(256)) * 256
        sent = stuck = 0
        end = time.monotonic() + 20
        while time.monotonic() < end and stuck < 50:       # until the guest is held back
            try:
                sent += conn.send(chunk, _now())
                stuck = 0
            except KernelError as e:
                assert e.errno == EAGAIN
                stuck += 1
            guest.poll(_now())
            time.sleep(0.002)
        assert stuck >= 50 and sent > net.tcp.window
        (pair,) = net.tcp.pairs
        assert pair.to_host and len(pair.to_host) <= net.tcp.window + 65536
        watched = dict(net.host_fds())
        assert watched[pair.fd] & select.POLLOUT
        poller = select.poll()
        for fd, events in watched.items():
            poller.register(fd, events)
        assert poller.poll(300) == []                      # nothing to do: it sleeps
        peer.settimeout(10)
        got = len(peer.recv(1 << 20))
        while got < 1 << 20:
            got += len(peer.recv(1 << 20))
        assert (pair.fd, select.POLLOUT) in [(fd, ev & select.POLLOUT)
                                             for fd, ev in poller.poll(2000)]
        peer.setblocking(False)

        def drained():
            nonlocal got
            try:
                while data := peer.recv(1 << 20):
                    got += len(data)
            except BlockingIOError:
                pass
            return got >= sent
        assert _until(guest, drained, 30) and got == sent
    finally:
        peer.close()
        net.close()
