"""Checksum and segmentation offload between pyunik's virtio-net driver and device
(VIRTIO_NET_F_CSUM, GUEST_CSUM, HOST_TSO4, GUEST_TSO4; pyunik/net/virtio/,
pyunik/net/segmentation.py): a partial TCP checksum (NEEDS_CSUM) reaches a backend
that takes it as it is, and any other backend, a tap and the guest's driver without
GUEST_CSUM whole; a frame marked partial comes out of the driver as checked, so the
stack does not sum it; a TSO packet reaches the user network whole and anything
else (a wire, a pcap file, a driver without GUEST_TSO4) cut into frames of the MTU
with right headers and checksums; a bad csum_start is the driver's error."""

import struct

from pyunik.abi import virtio as V
from pyunik.net.checksum import (complete_checksum, fold, internet_checksum, partial_sum,
                                 pseudo_header_sum)
from pyunik.net.segmentation import segment_tcp4
from pyunik.net.network import with_tcp
from pyunik.net.stack import Stack, ip
from pyunik.net.tcp_segment import TcpSegment, decode_segment
from pyunik.net.virtio.device import OFFERED, VirtioNetDevice, feature_bits
from pyunik.net.virtio.driver import VirtioNetDriver
from pyunik.net.virtio.memory import BufferMemory

BASE = 0x100000
MAC = bytes.fromhex("525400123456")
SRC, DST = ip("10.0.2.15"), ip("10.0.2.2")
START = 14 + 20                      # csum_start: the TCP header in an Ethernet frame


class Recorder:
    def __init__(self, partial=False):
        self.sent = []
        self.receive = None
        if partial:
            self.partial_checksums = True

    def attach(self, receive):
        self.receive = receive

    def send(self, frame, csum=None, gso=None):
        self.sent.append((frame, csum) if gso is None else (frame, csum, gso))


def _card(backend, wanted=None):
    memory = BufferMemory(4 << 20, BASE)
    device = VirtioNetDevice(memory, MAC, backend)
    kwargs = {} if wanted is None else {"wanted": wanted}
    driver = VirtioNetDriver(device, memory, BASE, 4 << 20, 16, **kwargs)
    driver.probe()
    return device, driver


def _frame(payload=b"offloaded" * 100, flags=0x18, ident=1):
    """An Ethernet frame holding an IPv4 TCP segment whose checksum is partial."""
    seg = TcpSegment(1234, 80, 1000, 2000, flags, 512, payload).encode(SRC, DST, partial=True)
    ip_header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), ident, 0, 64, 6, 0,
                            SRC, DST)
    ip_header = ip_header[:10] + internet_checksum(ip_header).to_bytes(2, "big") + ip_header[12:]
    return bytes(6) + MAC + b"\x08\x00" + ip_header + seg


def _tcp_checksum_right(frame) -> bool:
    seg = frame[START:]
    return fold(partial_sum(seg, pseudo_header_sum(SRC, DST, 6, len(seg)))) == 0


def test_both_checksum_features_are_negotiated():
    _, driver = _card(Recorder())
    assert driver.has(V.VIRTIO_NET_F_CSUM) and driver.has(V.VIRTIO_NET_F_GUEST_CSUM)
    assert driver.checksum_offload


def test_a_partial_checksum_is_finished_for_a_backend_that_wants_it_whole():
    backend = Recorder()
    _, driver = _card(backend)
    frame = _frame()
    assert not _tcp_checksum_right(frame)
    assert driver.transmit(frame, (START, 16))
    [(sent, csum)] = backend.sent
    assert csum is None and _tcp_checksum_right(sent)
    assert sent[:START + 16] == frame[:START + 16] and sent[START + 18:] == frame[START + 18:]


def test_a_backend_taking_partial_checksums_gets_the_frame_as_it_is():
    backend = Recorder(partial=True)
    _, driver = _card(backend)
    frame = _frame()
    assert driver.transmit(frame, (START, 16))
    assert backend.sent == [(frame, (START, 16))]
    assert _tcp_checksum_right(complete_checksum(frame, START, 16))


def test_a_driver_without_csum_finishes_the_checksum_itself():
    backend = Recorder(partial=True)
    wanted = OFFERED & ~feature_bits(V.VIRTIO_NET_F_CSUM)
    _, driver = _card(backend, wanted)
    assert not driver.checksum_offload
    assert driver.transmit(_frame(), (START, 16))
    [(sent, csum)] = backend.sent
    assert csum is None and _tcp_checksum_right(sent)


def test_received_partial_frames_are_checked_or_finished():
    backend = Recorder()
    device, driver = _card(backend)
    frame = _frame()
    assert backend.receive(frame, (START, 16))
    assert driver.receive_packets() == [(frame, True)]
    assert backend.receive(frame)                      # no offload: the stack sums it
    assert driver.receive_packets() == [(frame, False)]
    # A driver without GUEST_CSUM is given the checksum whole.
    backend2 = Recorder()
    _, driver2 = _card(backend2, OFFERED & ~feature_bits(V.VIRTIO_NET_F_GUEST_CSUM))
    assert backend2.receive(frame, (START, 16))
    [(got, checked)] = driver2.receive_packets()
    assert not checked and _tcp_checksum_right(got)
    # A partial checksum whose field is past the frame is dropped, not raised.
    assert not backend2.receive(frame[:40], (START, 16))


def test_a_csum_start_past_the_frame_is_a_tx_error():
    backend = Recorder(partial=True)
    device, driver = _card(backend)
    frame = _frame(b"")
    assert driver.transmit(frame, (len(frame) - 1, 16))
    assert backend.sent == [] and device.counters.tx_errors == 1


def _transfer_over_a_wire(data):
    """A guest stack behind the card sends data over TCP through a plain Wire to a
    stack that sums every segment it takes; (received, wire frame sizes, card, host)."""
    from pyunik.net.backend import Wire
    wire = Wire()
    sizes = []
    carry = wire.carry
    wire.carry = lambda to, frame: (sizes.append(len(frame)), carry(to, frame))
    memory = BufferMemory(4 << 20, BASE)
    device = VirtioNetDevice(memory, MAC, wire.a)
    driver = VirtioNetDriver(device, memory, BASE, 4 << 20, 64)
    guest = with_tcp(Stack.guest(driver, driver.probe()))
    host = Stack("host")
    host.add_interface("eth0", "10.0.2.2", 24, 1500, wire.b, bytes.fromhex("525400000202"))
    with_tcp(host)
    listener = host.tcp.listen((DST, 80), 4)
    guest.now = 0
    conn = guest.tcp.connection((SRC, 40000), (DST, 80))
    conn.connect(0)
    for _ in range(6):
        guest.poll(0)
        host.poll(0)
    peer = listener.accept()
    assert conn.send(data, 0) == len(data)
    got = b""
    for step in range(1, 400):                         # 10 ms apart: delayed ACKs go
        guest.poll(step * 10**7)
        host.poll(step * 10**7)
        got += peer.recv(1 << 20, step * 10**7) if peer.readable_bytes() else b""
    assert guest.dropped == 0
    return got, sizes, device, guest, host


def test_tcp_between_stacks_over_a_card_and_a_plain_wire_has_whole_checksums():
    got, _, _, _, host = _transfer_over_a_wire(b"z" * 20000)
    assert got == b"z" * 20000 and host.dropped == 0


def test_decode_without_verification_takes_a_partial_segment():
    data = TcpSegment(1, 2, 3, 4, 0x10, 5, b"abc").encode(SRC, DST, partial=True)
    assert decode_segment(data, SRC, DST, verify_checksum=False).payload == b"abc"


def _pieces_right(pieces, payload, flags, mss, ident=1):
    """Every piece a wire frame of the MTU with right headers; payloads in order."""
    got = b""
    for k, piece in enumerate(pieces):
        ip_len = struct.unpack("!H", piece[16:18])[0]
        body = piece[START + 20:14 + ip_len]
        assert len(piece) <= 14 + 1500 and len(body) <= mss
        assert internet_checksum(piece[14:34]) == 0
        assert struct.unpack("!H", piece[18:20])[0] == ident + k
        assert _tcp_checksum_right(piece[:14 + ip_len])
        assert struct.unpack("!I", piece[START + 4:START + 8])[0] == 1000 + len(got)
        last = k == len(pieces) - 1
        assert piece[START + 13] == (flags if last else flags & ~0x09)   # FIN, PSH: last
        got += body
    assert got == payload


def test_software_segmentation_cuts_a_tso_frame_as_a_card_does():
    payload = bytes(range(256)) * 20                  # 5120 bytes
    pieces = segment_tcp4(_frame(payload, flags=0x19, ident=7), 1460)
    assert [len(p) for p in pieces] == [14 + 40 + 1460] * 3 + [14 + 40 + 740]
    _pieces_right(pieces, payload, 0x19, 1460, ident=7)
    assert len(segment_tcp4(_frame(b"x"), 1460)) == 1
    for bad in (b"", bytes(60), _frame(b"")[:30]):
        try:
            segment_tcp4(bad, 1460)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % bad)


def test_tso_packets_reach_a_gso_backend_whole_and_a_wire_cut():
    payload = bytes(range(251)) * 40                  # 10040 bytes: 7 pieces
    big = _frame(payload)
    whole = Recorder(partial=True)
    whole.gso = True
    _, driver = _card(whole)
    assert driver.tso and driver.gso_max_size == 65535
    assert driver.transmit(big, (START, 16), 1460)
    assert whole.sent == [(big, (START, 16), 1460)]
    wire = Recorder()
    device, driver = _card(wire)
    assert driver.transmit(big, (START, 16), 1460)
    _pieces_right([f for f, _ in wire.sent], payload, 0x18, 1460)
    assert device.counters.tx_packets == 1
    # Without HOST_TSO4 the driver refuses a frame longer than the MTU.
    _, plain = _card(Recorder(), OFFERED & ~feature_bits(V.VIRTIO_NET_F_HOST_TSO4))
    assert not plain.tso and not plain.transmit(big, (START, 16), 1460)


def test_tso_packets_received_whole_or_cut():
    payload = bytes(range(251)) * 40
    big = _frame(payload)
    backend = Recorder()
    _, driver = _card(backend)
    assert backend.receive(big, (START, 16), 1460)
    assert driver.receive_packets() == [(big, True)]          # over merged buffers
    backend2 = Recorder()
    _, driver2 = _card(backend2, OFFERED & ~feature_bits(V.VIRTIO_NET_F_GUEST_TSO4))
    assert backend2.receive(big, (START, 16), 1460)
    pieces = driver2.receive_packets()
    assert all(checked is False for _, checked in pieces)
    _pieces_right([f for f, _ in pieces], payload, 0x18, 1460)


def test_tcp_with_tso_over_a_wire_carries_frames_of_the_mtu():
    """The guest's TCP sends segments of many MSS to its card; a plain wire gets them
    cut, and the stack at its other end takes them all (every checksum right)."""
    data = bytes(range(256)) * 1000
    got, sizes, device, guest, host = _transfer_over_a_wire(data)
    assert guest.tcp.config.gso_max == 65535 - 40
    assert got == data
    assert host.dropped == 0 and max(sizes) <= 14 + 1500
    assert device.counters.tx_packets < len(data) // 1460     # TSO packets left the stack
