"""pyunik/net/user.py and net/dns.py: the user-mode network behind a guest's virtio
card. The NAT runs its own stack instance; DNS at 10.0.2.3 answers from a table;
UDP to 10.0.2.2 reaches the host's 127.0.0.1; a udp hostfwd carries host datagrams to
the guest and back; without outbound=on other addresses are refused and no host
socket is opened. Only 127.0.0.1 on the host is ever used."""

import select
import socket
import struct
import time
from errno import ECONNREFUSED

import pytest

from pyunik.abi import nameser as N
from pyunik.net.datagram import DatagramQueue
from pyunik.net.dns import answer, parse_hosts
from pyunik.net.icmp import build_icmp
from pyunik.net.stack import Stack, ip
from pyunik.net.user import Forward, UserNetwork
from pyunik.net.virtio.device import VirtioNetDevice
from pyunik.net.virtio.driver import VirtioNetDriver
from pyunik.net.virtio.memory import BufferMemory

GUEST = ip("10.0.2.15")


def _guest(net):
    memory = BufferMemory(2 << 20, 0x40000)
    device = VirtioNetDevice(memory, bytes.fromhex("525400123456"), net)
    driver = VirtioNetDriver(device, memory, 0x40000, 2 << 20, 64)
    stack = Stack.guest(driver, driver.probe())
    stack.pollers.append(net.poll)
    return stack


def _until(stack, done, seconds=3.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        stack.poll(time.monotonic_ns())
        if done():
            return True
        time.sleep(0.002)
    return False


def _query(name: str, qtype=N.NS_T_A, ident=0x4242) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + struct.pack("!HH", qtype, 1)


def test_dns_answers_from_its_table():
    table = parse_hosts("127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
                        "10.0.2.2 Host.Example host # comment\nbad line\n")
    assert table == {"localhost": ip("127.0.0.1"), "host.example": ip("10.0.2.2"),
                     "host": ip("10.0.2.2")}
    reply = answer(_query("HOST.example"), table)
    ident, flags, qd, an, _, _ = struct.unpack_from("!HHHHHH", reply)
    assert ident == 0x4242 and flags & 0x8000 and flags & 0xF == 0 and (qd, an) == (1, 1)
    assert reply.endswith(ip("10.0.2.2")) and struct.unpack("!H", reply[-6:-4])[0] == 4
    assert struct.unpack_from("!H", answer(_query("nowhere"), table), 2)[0] & 0xF == 3
    aaaa = answer(_query("host", N.NS_T_AAAA), table)
    assert struct.unpack_from("!HHHHHH", aaaa)[1] & 0xF == 0 and aaaa[6:8] == b"\0\0"


@pytest.mark.parametrize("junk", [b"", b"\x00" * 5, _query("a")[:14], _query("a")[:-1],
                                  b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c",
                                  b"\x12\x34\x01\x00\x00\x01" + bytes(6) + b"\x3f" * 2000,
                                  b"\x12\x34\x81\x80" + bytes(8)])
def test_dns_junk_gets_formerr_or_nothing(junk):
    reply = answer(junk, {"a": ip("1.2.3.4")})
    assert reply is None or struct.unpack_from("!H", reply, 2)[0] & 0xF == 1


def test_forward_syntax():
    f = Forward.parse("tcp:127.0.0.1:8080-:80")
    assert (f.protocol, f.host_addr, f.host_port, f.guest_addr, f.guest_port) == \
        ("tcp", "127.0.0.1", 8080, "10.0.2.15", 80)
    f = Forward.parse("udp::5353-10.0.2.15:53")
    assert (f.protocol, f.host_addr, f.host_port) == ("udp", "127.0.0.1", 5353)
    for bad in ["sctp::1-:2", "tcp:1-:2", "tcp::0-:80", "tcp::80", "tcp:nowhere:80-:80"]:
        with pytest.raises(ValueError):
            Forward.parse(bad)


def test_guest_resolves_names_at_10_0_2_3():
    net = UserNetwork(names={"db": ip("10.0.2.2")})
    guest = _guest(net)
    q = DatagramQueue()
    guest.udp_bind(GUEST, 40000, q)
    guest.udp_send(GUEST, 40000, ip("10.0.2.3"), 53, _query("db"), 0)
    assert _until(guest, lambda: q.items)
    d = q.pop()
    assert d.src == ip("10.0.2.3") and d.sport == 53 and d.payload.endswith(ip("10.0.2.2"))
    assert net.host_sockets_opened == 0


def test_udp_to_the_gateway_reaches_the_hosts_loopback():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(3)
    port = server.getsockname()[1]
    net = UserNetwork()
    try:
        guest = _guest(net)
        q = DatagramQueue()
        guest.udp_bind(GUEST, 40001, q)
        guest.udp_send(GUEST, 40001, ip("10.0.2.2"), port, b"hello host", 0)
        guest.poll(time.monotonic_ns())
        data, peer = server.recvfrom(100)
        assert data == b"hello host" and peer[0] == "127.0.0.1"
        server.sendto(b"hello guest", peer)
        assert _until(guest, lambda: q.items)
        d = q.pop()
        assert (d.src, d.sport, d.payload) == (ip("10.0.2.2"), port, b"hello guest")
    finally:
        server.close()
        net.close()


def test_udp_hostfwd_both_ways():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    host_port = probe.getsockname()[1]
    probe.close()
    net = UserNetwork([Forward.parse("udp:127.0.0.1:%d-:7" % host_port)])
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(3)
    try:
        guest = _guest(net)
        q = DatagramQueue()
        guest.udp_bind(b"\0\0\0\0", 7, q)
        assert net.host_fds()
        client.sendto(b"ping through", ("127.0.0.1", host_port))
        assert _until(guest, lambda: q.items)
        d = q.pop()
        assert d.src == ip("10.0.2.2") and d.payload == b"ping through"
        guest.udp_send(GUEST, 7, d.src, d.sport, b"pong back", time.monotonic_ns())
        guest.poll(time.monotonic_ns())
        assert client.recvfrom(100) == (b"pong back", ("127.0.0.1", host_port))
    finally:
        client.close()
        net.close()


def test_without_outbound_other_addresses_are_refused():
    net = UserNetwork()
    guest = _guest(net)
    q = DatagramQueue()
    q.report_errors = True
    guest.udp_bind(GUEST, 40002, q)
    guest.udp_send(GUEST, 40002, ip("192.0.2.1"), 9, b"out there", 0)
    assert _until(guest, lambda: q.error)
    assert q.error == ECONNREFUSED
    pings = DatagramQueue()
    guest.icmp_bind(9, pings)
    guest.send_ip(GUEST, ip("192.0.2.1"), 1, build_icmp(8, 0, 9, 1, b"anyone?"), 0)
    guest.poll(1)
    guest.poll(2)
    assert not pings.items
    # The gateway itself answers pings.
    guest.send_ip(GUEST, ip("10.0.2.2"), 1, build_icmp(8, 0, 9, 2, b"gateway?"), 0)
    assert _until(guest, lambda: pings.items)
    assert net.host_sockets_opened == 0 and not net.host_fds()


def test_network_configure():
    from pyunik.net.network import Network, parse_net_spec
    assert parse_net_spec("user,outbound=on,mac=52:54:00:00:00:09")["outbound"]
    for bad in ["", "tap", "user,hostfwd=x", "user,outbound=yes", "user,mac=01:00:5e:00:00:01",
                "user,nonsense"]:
        with pytest.raises(ValueError):
            parse_net_spec(bad)
    lo_only = Network.configure(None)
    assert list(lo_only.stack.interfaces) == ["lo"] and lo_only.host_fds() == []
    import io
    out = io.BytesIO()
    net = Network.configure("user", pcap=out, realtime=lambda: 1_700_000_000 * 10**9,
                            names={"db": ip("10.0.2.2")})
    lines = []
    net.set_trace(lines.append)
    q = DatagramQueue()
    net.stack.udp_bind(GUEST, 40003, q)
    net.stack.udp_send(GUEST, 40003, ip("10.0.2.3"), 53, _query("db"), 0)
    for _ in range(3):
        net.poll(0)
    assert q.pop().payload.endswith(ip("10.0.2.2"))
    assert any(line.startswith("virtio q1: avail") for line in lines)
    assert any(line.startswith("virtio q0: used") for line in lines)
    net.close()
    assert net.pcap.frames == 4 and len(out.getvalue()) > 24    # ARP both ways, query, answer


def test_two_guests_on_a_hub_through_their_cards():
    from pyunik.net.network import Network
    hubs = {}
    a = Network.configure("hub=lab,mac=52:54:00:12:34:57,ip=10.0.3.2", hubs=hubs)
    b = Network.configure("hub=lab,mac=52:54:00:12:34:58,ip=10.0.3.3", hubs=hubs)
    with pytest.raises(ValueError):
        Network.configure("hub=lab,ip=300.1.1.1", hubs=hubs)
    q = DatagramQueue()
    b.stack.udp_bind(b"\0\0\0\0", 9, q)
    a.stack.udp_send(ip("10.0.3.2"), 1, ip("10.0.3.3"), 9, b"over the switch", 0)
    for _ in range(3):
        a.poll(0)
        b.poll(0)
    assert q.pop().payload == b"over the switch"
    assert len(hubs["lab"].table) == 2


def test_two_guests_on_a_hub_between_processes(tmp_path):
    """The UNIX-socket hub, both ports in this process but talking through the host's
    sockets as two processes would."""
    from pyunik.net.network import Network
    a = Network.configure("hub=lab,mac=52:54:00:12:34:57,ip=10.0.3.2",
                          hub_directory=str(tmp_path))
    b = Network.configure("hub=lab,mac=52:54:00:12:34:58,ip=10.0.3.3",
                          hub_directory=str(tmp_path))
    gone = Network.configure("hub=lab,mac=52:54:00:12:34:59,ip=10.0.3.4",
                             hub_directory=str(tmp_path))
    gone.backend.sock.close()           # a process that died without cleaning up
    assert len(list(tmp_path.iterdir())) == 3 and a.host_fds()
    q = DatagramQueue()
    b.stack.udp_bind(b"\0\0\0\0", 9, q)
    a.stack.udp_send(ip("10.0.3.2"), 1, ip("10.0.3.3"), 9, b"between processes", 0)
    for _ in range(4):
        a.poll(0)
        b.poll(0)
    assert q.pop().payload == b"between processes"
    assert len(list(tmp_path.iterdir())) == 2      # the dead port was removed
    a.close()
    b.close()
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError):
        Network.configure("hub=../x", hub_directory=str(tmp_path))


def test_where_guest_connections_go():
    closed = UserNetwork()
    assert closed.tcp_target(ip("10.0.2.2"), 8000) == ("127.0.0.1", 8000)
    assert closed.tcp_target(ip("192.0.2.1"), 80) is None
    assert closed.tcp_target(ip("10.0.2.3"), 53) is None
    opened = UserNetwork(outbound=True)
    assert opened.tcp_target(ip("192.0.2.1"), 80) == ("192.0.2.1", 80)
    assert opened.tcp_target(ip("10.0.2.3"), 53) is None
    assert closed.host_sockets_opened == opened.host_sockets_opened == 0


def test_a_socket_wait_names_the_networks_fds_and_timers():
    from pyunik.net.network import Network
    from pyunik.wait import WouldBlock
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    net = Network.configure("user,hostfwd=udp::%d-:7" % port)
    q = DatagramQueue()
    wait = net.wait([q.readable], "a datagram")
    assert isinstance(wait, WouldBlock) and wait.queues == (q.readable,)
    assert list(wait.host) == net.host_fds() and wait.host
    assert all(events == select.POLLIN for _, events in wait.host)   # a UDP forward
    net.stack.udp_send(GUEST, 1, ip("10.0.2.9"), 9, b"x", 0)    # ARP: a timer
    assert net.wait([q.readable]).deadline == 1_000_000_000
    net.close()


def test_a_hub_directory_must_be_private(tmp_path):
    from pyunik.net.hub import UnixHubPort
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    with pytest.raises(ValueError, match="private"):
        UnixHubPort("lab", str(shared))
    (tmp_path / "link").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="private"):
        UnixHubPort("lab", str(tmp_path / "link"))
