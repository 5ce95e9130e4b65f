"""pyunik/net/stack.py and the protocols under it, sans-IO: two stacks on a Wire (or a
guest stack behind the virtio-net card), time passed in. ARP resolution and its
timeouts, IPv4 checksums, TTL and fragment reassembly (out of order, duplicates,
overlaps, a flood), ICMP echo and port unreachable, UDP delivery, loopback, and
hostile frames dropped without an exception."""

import random
import struct
from errno import ECONNREFUSED, EHOSTUNREACH, EMSGSIZE, ENETUNREACH

import pytest

from pyunik.errors import KernelError
from pyunik.net.backend import Wire
from pyunik.net.checksum import fold, internet_checksum, partial_sum, pseudo_header_sum
from pyunik.net.datagram import DatagramQueue
from pyunik.net.icmp import build_icmp
from pyunik.net.ipv4 import Reassembler, build_header, fragments, parse_packet
from pyunik.net.stack import Stack, ip
from pyunik.net.udp import build_udp, parse_udp
from pyunik.net.virtio.device import VirtioNetDevice
from pyunik.net.virtio.driver import VirtioNetDriver
from pyunik.net.virtio.memory import BufferMemory

GUEST_MAC = bytes.fromhex("525400123456")
HOST_MAC = bytes.fromhex("525400000202")
GUEST, HOST = ip("10.0.2.15"), ip("10.0.2.2")
SECOND = 1_000_000_000


class Tap:
    """A port of the wire that records every frame and can inject raw ones."""

    def __init__(self, port):
        self.port = port
        self.frames = []

    def record(self, wire):
        carry = wire.carry

        def recording(to, frame):
            self.frames.append(frame)
            carry(to, frame)
        wire.carry = recording


def _pair(virtio=False, **wire_options):
    wire = Wire(**wire_options)
    if virtio:
        memory = BufferMemory(2 << 20, 0x40000)
        device = VirtioNetDevice(memory, GUEST_MAC, wire.a)
        driver = VirtioNetDriver(device, memory, 0x40000, 2 << 20, 64)
        guest = Stack.guest(driver, driver.probe())
    else:
        guest = Stack.guest(wire.a, GUEST_MAC)
    host = Stack("host")
    host.add_interface("eth0", "10.0.2.2", 24, 1500, wire.b, HOST_MAC)
    tap = Tap(wire.b)
    tap.record(wire)
    return wire, guest, host, tap


def _run(*stacks, now=0, rounds=4):
    for _ in range(rounds):
        for s in stacks:
            s.poll(now)


def _ethertypes(frames):
    return [struct.unpack("!H", f[12:14])[0] for f in frames]


@pytest.mark.parametrize("virtio", [False, True])
def test_arp_resolves_then_udp_flows(virtio):
    wire, guest, host, tap = _pair(virtio)
    q = DatagramQueue()
    host.udp_bind(HOST, 53, q)
    guest.udp_send(GUEST, 4000, HOST, 53, b"first", 0)
    guest.udp_send(GUEST, 4000, HOST, 53, b"second", 0)
    assert _ethertypes(tap.frames) == [0x0806]          # one request, packets held
    assert tap.frames[0][:6] == b"\xff" * 6
    _run(guest, host)
    assert [d.payload for d in q.items] == [b"first", b"second"]
    assert q.items[0].src == GUEST and q.items[0].sport == 4000
    assert guest.interfaces["eth0"].neighbours.lookup(HOST, 0) == HOST_MAC
    # The host learnt the guest from its request: no request the other way.
    assert host.interfaces["eth0"].neighbours.lookup(GUEST, 0) == GUEST_MAC
    host.udp_send(HOST, 53, GUEST, 4000, b"answer", 0)
    assert _ethertypes(tap.frames).count(0x0806) == 2   # request and reply only


def test_arp_gives_up_after_three_requests():
    wire = Wire()
    guest = Stack.guest(wire.a, GUEST_MAC)
    sent = []
    wire.b.attach(sent.append)                  # nobody answers
    q = DatagramQueue()
    q.report_errors = True
    guest.udp_bind(GUEST, 5000, q)
    guest.udp_send(GUEST, 5000, ip("10.0.2.9"), 7, b"lost", 0)
    assert guest.next_deadline() == SECOND
    for t in range(1, 5):
        guest.poll(t * SECOND)
    assert len(sent) == 3 and set(_ethertypes(sent)) == {0x0806}
    assert q.error == EHOSTUNREACH
    assert guest.interfaces["eth0"].neighbours.dropped == 1
    assert guest.next_deadline() is None


def test_arp_entries_go_stale_and_are_asked_again():
    wire, guest, host, tap = _pair()
    guest.udp_send(GUEST, 1, HOST, 9, b"a", 0)
    _run(guest, host)
    asked = _ethertypes(tap.frames).count(0x0806)
    guest.udp_send(GUEST, 1, HOST, 9, b"b", 10 * SECOND)
    assert _ethertypes(tap.frames).count(0x0806) == asked      # still reachable
    guest.udp_send(GUEST, 1, HOST, 9, b"c", 31 * SECOND)
    # Stale: the packet goes at once to the known address, and a request goes too.
    assert _ethertypes(tap.frames)[-2:] == [0x0806, 0x0800]


def test_arp_table_is_bounded():
    wire = Wire()
    guest = Stack.guest(wire.a, GUEST_MAC)
    wire.b.attach(lambda frame: None)
    table = guest.interfaces["eth0"].neighbours
    for n in range(3000):
        guest.udp_send(GUEST, 1, ip("10.0.2.0")[:3] + bytes([n % 250 + 3]), 9, b"x", n)
        table.confirm(bytes([10, 1, n >> 8, n & 255]), GUEST_MAC, n, create=True)
    assert len(table.entries) <= table.limit


def test_ip_header_checksum_and_ttl():
    wire, guest, host, tap = _pair()
    q = DatagramQueue()
    host.udp_bind(HOST, 9, q)
    guest.udp_send(GUEST, 1, HOST, 9, b"ttl", 0, ttl=5)
    _run(guest, host)
    packet = tap.frames[-1][14:]
    assert packet[8] == 5 and internet_checksum(packet[:20]) == 0
    assert parse_udp(GUEST, HOST, packet[20:])[2] == b"ttl"
    guest.udp_send(GUEST, 1, HOST, 9, b"default", 0)
    assert tap.frames[-1][14 + 8] == 64
    # A packet whose header checksum is wrong is dropped and counted.
    bad = bytearray(tap.frames[-1])
    bad[14 + 10] ^= 1
    before = len(q.items)
    host.input_frame(host.interfaces["eth0"], bytes(bad), 0)
    assert len(q.items) == before + 0 and host.dropped == 1


def test_udp_bad_checksum_and_zero_checksum():
    host = Stack("host")
    iface = host.add_interface("eth0", "10.0.2.2", 24, 1500, Wire().b, HOST_MAC)
    q = DatagramQueue()
    host.udp_bind(HOST, 9, q)
    good = build_udp(GUEST, HOST, 1, 9, b"data")
    for udp, kept in [(good, True), (good[:6] + b"\0\0" + good[8:], True),
                      (good[:6] + bytes([good[6] ^ 1, good[7]]) + good[8:], False),
                      (good[:4] + b"\x00\x40" + good[6:], False),   # length past the data
                      (good[:4] + b"\x00\x04" + good[6:], False)]:  # length under 8
        packet = build_header(GUEST, HOST, 17, len(udp), 1) + udp
        frame = HOST_MAC + GUEST_MAC + b"\x08\x00" + packet
        n = len(q.items)
        host.input_frame(iface, frame, 0)
        assert (len(q.items) == n + 1) == kept, udp


def test_fragments_out_of_order_are_reassembled():
    payload = bytes(random.Random(3).randbytes(4000))
    pieces = fragments(GUEST, HOST, 17, payload, 77, 1500)
    assert len(pieces) == 3
    assert all(internet_checksum(p[:20]) == 0 for p in pieces)
    r = Reassembler()
    parsed = [parse_packet(p) for p in pieces]
    assert r.add(parsed[2], 0) is None
    assert r.add(parsed[0], 0) is None
    assert r.add(parsed[0], 0) is None          # a duplicate is ignored
    assert r.add(parsed[1], 0) == payload
    assert not r.queues and r.held == 0


def test_an_overlapping_fragment_drops_the_datagram():
    payload = bytes(2000)
    pieces = [parse_packet(p) for p in fragments(GUEST, HOST, 17, payload, 5, 1500)]
    r = Reassembler()
    assert r.add(pieces[0], 0) is None
    overlap = parse_packet(build_header(GUEST, HOST, 17, 100, 5, flags=0x2000, offset=1472 - 64)
                           + bytes(100))
    assert r.add(overlap, 0) is None
    assert not r.queues and r.dropped == 1
    assert r.add(pieces[1], 0) is None          # what is left cannot complete it
    assert r.queues


def test_reassembly_memory_is_bounded_under_a_flood():
    r = Reassembler(limit=256 * 1024)
    rnd = random.Random(9)
    for n in range(20000):
        off = rnd.randrange(0, 8000) * 8
        p = parse_packet(build_header(bytes([10, 0, 0, n % 7]), HOST, 17, 8, n % 5000,
                                      flags=0x2000, offset=off) + bytes(8))
        r.add(p, n)
        assert r.held <= r.limit
    assert r.dropped > 0


def test_reassembly_times_out_with_icmp_time_exceeded():
    wire, guest, host, tap = _pair()
    _run(guest, host)
    guest.udp_send(GUEST, 1, HOST, 9, b"x", 0)            # learn each other
    _run(guest, host)
    big = build_udp(GUEST, HOST, 1, 9, bytes(3000))
    first = fragments(GUEST, HOST, 17, big, 99, 1500)[0]
    host.input_frame(host.interfaces["eth0"], HOST_MAC + GUEST_MAC + b"\x08\x00" + first, 0)
    assert host.next_deadline() == 30 * SECOND
    n = len(tap.frames)
    host.poll(30 * SECOND)
    reply = [parse_packet(f[14:]) for f in tap.frames[n:] if f[12:14] == b"\x08\x00"][0]
    assert reply.protocol == 1 and reply.payload[:2] == bytes([11, 1])
    assert reply.payload[8:28] == first[:20]


def test_fragmented_udp_across_the_wire():
    wire, guest, host, tap = _pair(virtio=True)
    q = DatagramQueue()
    host.udp_bind(HOST, 9, q)
    data = bytes(range(256)) * 40
    guest.udp_send(GUEST, 1, HOST, 9, data, 0)
    _run(guest, host)
    assert q.items[0].payload == data


def test_dont_fragment_gives_emsgsize_and_no_route_enetunreach():
    guest = Stack.guest()
    with pytest.raises(KernelError) as e:
        guest.udp_send(ip("127.0.0.1"), 1, ip("8.8.8.8"), 53, b"x", 0)
    assert e.value.errno == ENETUNREACH
    wire, guest, host, tap = _pair()
    with pytest.raises(KernelError) as e:
        guest.send_ip(GUEST, HOST, 17, bytes(3000), 0, dont_fragment=True)
    assert e.value.errno == EMSGSIZE


def test_icmp_echo_is_answered():
    wire, guest, host, tap = _pair()
    pings = DatagramQueue()
    guest.icmp_bind(0x1234, pings)
    guest.send_ip(GUEST, HOST, 1, build_icmp(8, 0, 0x1234, 7, b"payload!"), 0)
    _run(guest, host)
    reply = pings.pop()
    assert reply.src == HOST and reply.payload[:8] == bytes([0, 0]) + reply.payload[2:4] + \
        bytes.fromhex("12340007")
    assert reply.payload[8:] == b"payload!" and internet_checksum(reply.payload) == 0
    # The gateway's address pinged over loopback: a stack answers itself too.
    guest.send_ip(ip("127.0.0.1"), ip("127.0.0.1"), 1, build_icmp(8, 0, 0x1234, 8, b"lo"), 0)
    guest.poll(0)
    assert pings.pop().payload[8:] == b"lo"


def test_udp_port_unreachable():
    wire, guest, host, tap = _pair()
    q = DatagramQueue()
    q.report_errors = True
    guest.udp_bind(GUEST, 6000, q)
    unconnected = DatagramQueue()
    guest.udp_bind(GUEST, 6001, unconnected)
    guest.udp_send(GUEST, 6000, HOST, 9999, b"nobody", 0)
    guest.udp_send(GUEST, 6001, HOST, 9999, b"nobody", 0)
    _run(guest, host)
    errors = [parse_packet(f[14:]) for f in tap.frames if f[12:14] == b"\x08\x00"]
    icmp = [p for p in errors if p.protocol == 1]
    assert len(icmp) == 2 and icmp[0].payload[:2] == bytes([3, 3])
    assert q.error == ECONNREFUSED
    assert unconnected.error == 0               # Linux reports only to connected sockets


def test_icmp_errors_are_rate_limited():
    wire, guest, host, tap = _pair()
    _run(guest, host)
    for n in range(200):
        guest.udp_send(GUEST, 1, HOST, 9999, b"x", 0)
    _run(guest, host)
    unreachable = [f for f in tap.frames if f[12:14] == b"\x08\x00" and f[14 + 9] == 1]
    assert len(unreachable) == 50               # icmp_msgs_burst


def test_loopback():
    guest = Stack.guest()
    q = DatagramQueue()
    guest.udp_bind(b"\0\0\0\0", 7, q)
    guest.udp_send(ip("127.0.0.1"), 40000, ip("127.0.0.1"), 7, b"to myself", 0)
    guest.udp_send(ip("127.0.0.2"), 40000, ip("127.5.6.7"), 7, b"all of 127/8", 0)
    assert guest.poll(0)
    assert [(d.src, d.payload) for d in q.items] == [
        (ip("127.0.0.1"), b"to myself"), (ip("127.0.0.2"), b"all of 127/8")]
    assert guest.interfaces["lo"].counters.rx_packets == 2
    assert guest.source_for(ip("127.0.0.1")) == ip("127.0.0.1")


def test_ephemeral_ports_skip_bound_ones():
    guest = Stack.guest()
    guest.udp_bind(b"\0\0\0\0", 32768, DatagramQueue())
    assert guest.udp_bind(b"\0\0\0\0", 0, DatagramQueue()) == 32769


def test_tcp_segments_go_to_the_attached_table():
    class Malformed(Exception):
        pass

    class Segment:
        def __init__(self, data):
            self.data = data

        def encode(self, src, dst):
            return self.data

    class Table:
        def __init__(self):
            self.got, self.fired = [], []

        def segment_arrives(self, seg, src, dst, now):
            self.got.append((seg.data, src, dst, now))

        def next_deadline(self):
            return 5 * SECOND

        def timer(self, now):
            self.fired.append(now)

        def in_use(self, local, remote=None):
            return local[1] == 32768

    def decode(data, src, dst):
        if fold(partial_sum(data, pseudo_header_sum(src, dst, 6, len(data)))):
            raise Malformed()
        return Segment(bytes(data))

    def segment(sport, dport, good=True):
        seg = bytearray(struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 2, 1000, 0, 0))
        check = fold(partial_sum(bytes(seg), pseudo_header_sum(lo, lo, 6, len(seg))))
        seg[16:18] = struct.pack("!H", check ^ (0 if good else 1))
        return bytes(seg)

    guest = Stack.guest()
    lo = ip("127.0.0.1")
    guest.send_ip(lo, lo, 6, segment(1, 2), 0)
    guest.poll(0)
    assert guest.dropped == 1                   # no TCP yet: dropped
    table = Table()
    guest.attach_tcp(table, decode, Malformed)
    guest.send_ip(lo, lo, 6, segment(5000, 80), 0)
    guest.send_ip(lo, lo, 6, segment(5000, 80, good=False), 0)
    guest.poll(SECOND)
    assert table.got == [(segment(5000, 80), lo, lo, SECOND)] and guest.dropped == 2
    assert guest.next_deadline() == 5 * SECOND
    guest.poll(5 * SECOND)
    assert table.fired == [5 * SECOND]
    # What TCP emits goes out as protocol 6 at the stack's time.
    guest.tcp_emit(lo, lo, Segment(segment(80, 5000)))
    guest.poll(6 * SECOND)
    assert table.got[-1] == (segment(80, 5000), lo, lo, 6 * SECOND)
    assert guest.ephemeral_port(6) == 32769


def test_hostile_frames_are_dropped():
    wire, guest, host, tap = _pair(virtio=True)
    _run(guest, host)
    iface = guest.interfaces["eth0"]
    q = DatagramQueue()
    guest.udp_bind(b"\0\0\0\0", 9, q)
    eth = GUEST_MAC + HOST_MAC
    good_ip = build_header(HOST, GUEST, 17, 12, 1) + build_udp(HOST, GUEST, 1, 9, b"four")
    hostile = [b"", b"\x01", eth, eth + b"\x08\x06" + bytes(10),
               eth + b"\x08\x00" + good_ip[:19],
               eth + b"\x08\x00" + b"\x46" + good_ip[1:],                 # ihl past data?
               eth + b"\x08\x00" + b"\x4f" + good_ip[1:],
               eth + b"\x08\x00" + good_ip[:2] + b"\xff\xff" + good_ip[4:],   # tot_len
               eth + b"\x08\x00" + good_ip[:2] + b"\x00\x05" + good_ip[4:],
               eth + b"\x08\x00" + b"\x65" + good_ip[1:],                 # version 6
               eth + b"\x08\x00" + good_ip[:20] + b"\x00",                # truncated UDP
               eth + b"\x08\x00" + build_header(HOST, GUEST, 1, 3, 2) + b"\x08\x00\x00",
               eth + b"\x08\x00" + build_header(HOST, GUEST, 6, 8, 3) + bytes(8)]
    rnd = random.Random(5)
    for _ in range(3000):
        frame = bytearray(eth + b"\x08\x00" + good_ip)
        for _ in range(rnd.randrange(1, 4)):
            frame[rnd.randrange(len(frame))] = rnd.randrange(256)
        hostile.append(bytes(frame[:rnd.randrange(len(frame) + 1)]))
    for frame in hostile:
        wire.b.send(frame)
        guest.poll(0)
    host.poll(0)
    assert all(d.payload == b"four" for d in q.items)
    assert guest.dropped > 10
    # Still working afterwards.
    wire.b.send(eth + b"\x08\x00" + good_ip)
    guest.poll(0)
    assert q.items[-1].payload == b"four"
    assert iface.counters.rx_errors == guest.dropped


def test_proc_net_dev_has_linuxs_layout():
    from pyunik.net.interface import proc_net_dev
    guest = Stack.guest()
    q = DatagramQueue()
    guest.udp_bind(b"\0\0\0\0", 7, q)
    guest.udp_send(ip("127.0.0.1"), 1, ip("127.0.0.1"), 7, b"x" * 72, 0)
    guest.poll(0)
    with open("/proc/net/dev") as f:
        host = f.read().splitlines(True)
    text = proc_net_dev(guest.interfaces.values()).splitlines(True)
    assert text[:2] == host[:2]
    assert text[2] == "    lo:     100       1    0    0    0     0          0         0" \
                      "      100       1    0    0    0     0       0          0\n"


def test_three_guests_on_a_hub():
    from pyunik.net.hub import Hub
    hub = Hub("lab")
    stacks = []
    for n in range(3):
        s = Stack("guest%d" % n)
        s.add_interface("eth0", "10.0.3.%d" % (n + 2), 24, 1500, hub.port(),
                        bytes.fromhex("5254001234%02x" % n))
        stacks.append(s)
    queues = [DatagramQueue() for _ in stacks]
    for s, q in zip(stacks, queues):
        s.udp_bind(b"\0\0\0\0", 9, q)
    stacks[0].udp_send(ip("10.0.3.2"), 1, ip("10.0.3.4"), 9, b"to the third", 0)
    _run(*stacks)
    assert [len(q.items) for q in queues] == [0, 0, 1]
    flooded = hub.flooded                       # the ARP request
    stacks[0].udp_send(ip("10.0.3.2"), 1, ip("10.0.3.4"), 9, b"again", 0)
    _run(*stacks)
    assert hub.flooded == flooded and len(queues[2].items) == 2
    assert not stacks[1].interfaces["eth0"].link.pending
    hub.tick(301 * SECOND)
    assert not hub.table


def test_a_card_that_needs_a_reset_takes_eth0_down():
    wire, guest, host, tap = _pair(virtio=True)
    _run(guest, host)
    guest.udp_send(GUEST, 1, HOST, 9, b"before", 0)
    _run(guest, host)
    driver = guest.interfaces["eth0"].link
    driver.device._fail("a test's broken ring")
    guest.udp_send(GUEST, 1, HOST, 9, b"after", 0)        # no exception
    guest.poll(0)
    eth0 = guest.interfaces["eth0"]
    assert not eth0.up and eth0.counters.tx_errors == 1
    with pytest.raises(KernelError) as e:
        guest.udp_send(GUEST, 1, HOST, 9, b"again", 0)
    assert e.value.errno == ENETUNREACH
    guest.udp_send(ip("127.0.0.1"), 1, ip("127.0.0.1"), 9, b"lo still works", 0)
