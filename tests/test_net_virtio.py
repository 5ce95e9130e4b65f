"""The virtio-net device and its split virtqueues (pyunik/net/virtio/), in a
bytearray-backed memory: descriptor chains as the spec lays them out, indirect tables,
16-bit index wrap-around, EVENT_IDX and flag notification suppression, the status
handshake, merged rx buffers, and a driver's bad chains putting the device in
NEEDS_RESET instead of raising."""

import struct

import pytest

from pyunik.abi import virtio as V
from pyunik.net.backend import Wire
from pyunik.net.virtio.device import OFFERED, VirtioNetDevice, feature_bits
from pyunik.net.virtio.driver import DeviceError, VirtioNetDriver
from pyunik.net.virtio.memory import BufferMemory, RegionAllocator
from pyunik.net.virtio.virtqueue import (DriverVirtqueue, QueueLayout, Virtqueue,
                                         VirtqueueError, vring_need_event)

BASE = 0x100000
MAC = bytes.fromhex("525400123456")


def _queue(size=8, event_idx=False, indirect=False, memory=None):
    memory = memory or BufferMemory(1 << 20, BASE)
    region = RegionAllocator(BASE, 1 << 20)
    layout = QueueLayout.allocate(size, region)
    tables = region.take(size * 4 * 16) if indirect else None
    driver = DriverVirtqueue(memory, 0, layout, event_idx, tables)
    device = Virtqueue(memory, 0, layout, event_idx, indirect)
    buffers = region.take(64 * 1024)
    return memory, layout, driver, device, buffers


def _desc(memory, layout, i, addr, length, flags, nxt):
    memory.write(layout.desc + 16 * i, struct.pack("<QIHH", addr, length, flags, nxt))


def _make_available(memory, layout, head, idx):
    memory.write(layout.avail + 4 + 2 * (idx % layout.size), struct.pack("<H", head))
    memory.write(layout.avail + 2, struct.pack("<H", (idx + 1) & 0xFFFF))


def test_layout_is_the_specs():
    # 2.6: 16-byte descriptors; avail = flags, idx, ring[n], used_event;
    # used = flags, idx, ring[n] of 8 bytes, avail_event.
    assert V.VRING_DESC.size == 16 and V.VRING_USED_ELEM.size == 8
    assert V.VIRTIO_NET_HDR.size == 12 and V.VIRTIO_NET_CONFIG.size == 12
    assert QueueLayout.part_sizes(256) == (4096, 4 + 2 * 256 + 2, 4 + 8 * 256 + 2)
    layout = QueueLayout(256, 0x1000, 0x2000, 0x3000)
    assert layout.used_event() == 0x2000 + 4 + 512
    assert layout.avail_event() == 0x3000 + 4 + 2048
    assert not QueueLayout.valid_size(0) and not QueueLayout.valid_size(3)
    assert QueueLayout.valid_size(32768) and not QueueLayout.valid_size(65536)


def test_chain_readable_then_writable():
    memory, layout, driver, device, buf = _queue()
    assert driver.add([(buf, 10), (buf + 100, 20)], [(buf + 200, 30)], "token")
    # The raw descriptors: NEXT on all but the last, WRITE on the writable one.
    raw = [struct.unpack("<QIHH", memory.read(layout.desc + 16 * i, 16)) for i in range(3)]
    heads = [r for r in raw if r[0] == buf]
    assert heads[0][2] == V.VRING_DESC_F_NEXT
    assert struct.unpack("<HH", memory.read(layout.avail, 4))[1] == 1
    chain = device.pop()
    assert chain.readable == [(buf, 10), (buf + 100, 20)]
    assert chain.writable == [(buf + 200, 30)]
    assert device.pop() is None
    memory.write(buf, b"0123456789")
    assert device.read_chain(chain, 1000)[:10] == b"0123456789"
    with pytest.raises(VirtqueueError):
        device.read_chain(chain, 29)
    assert device.write_chain(chain, b"x" * 50) == 30
    device.push(chain.head, 30)
    assert struct.unpack("<HH", memory.read(layout.used, 4))[1] == 1
    assert driver.get_used() == ("token", 30)
    assert driver.get_used() is None
    assert driver.room() == 8


def test_indirect_table():
    memory, layout, driver, device, buf = _queue(indirect=True)
    assert driver.add([(buf, 12), (buf + 12, 60)], [], 7)
    assert driver.room() == 7                  # one descriptor for the whole chain
    head = struct.unpack("<QIHH", memory.read(layout.desc, 16))
    assert head[2] == V.VRING_DESC_F_INDIRECT and head[1] == 32
    chain = device.pop()
    assert chain.readable == [(buf, 12), (buf + 12, 60)]
    # A device that did not negotiate INDIRECT_DESC refuses the same chain.
    memory2, layout2, driver2, _, buf2 = _queue(indirect=True)
    driver2.add([(buf2, 12), (buf2 + 12, 60)], [], 7)
    with pytest.raises(VirtqueueError, match="INDIRECT"):
        Virtqueue(memory2, 0, layout2, indirect=False).pop()


@pytest.mark.parametrize("bad, message", [
    ("loop", "loops"), ("head", "head"), ("next", "out of range"),
    ("nested", "inside an indirect"), ("indirect_next", "with NEXT"),
    ("order", "after a writable"), ("jump", "ahead"), ("unmapped", "not reachable"),
    ("indirect_len", "indirect table of"),
])
def test_bad_chains_are_refused(bad, message):
    memory, layout, _, device, buf = _queue(indirect=True)
    head = 0
    if bad == "loop":
        _desc(memory, layout, 0, buf, 8, V.VRING_DESC_F_NEXT, 1)
        _desc(memory, layout, 1, buf, 8, V.VRING_DESC_F_NEXT, 0)
    elif bad == "head":
        head = 8
    elif bad == "next":
        _desc(memory, layout, 0, buf, 8, V.VRING_DESC_F_NEXT, 99)
    elif bad == "nested":
        _desc(memory, layout, 0, buf, 16, V.VRING_DESC_F_INDIRECT, 0)
        memory.write(buf, struct.pack("<QIHH", buf, 16, V.VRING_DESC_F_INDIRECT, 0))
    elif bad == "indirect_next":
        _desc(memory, layout, 0, buf, 16, V.VRING_DESC_F_INDIRECT | V.VRING_DESC_F_NEXT, 1)
    elif bad == "order":
        _desc(memory, layout, 0, buf, 8, V.VRING_DESC_F_WRITE | V.VRING_DESC_F_NEXT, 1)
        _desc(memory, layout, 1, buf, 8, 0, 0)
    elif bad == "unmapped":
        _desc(memory, layout, 0, 0x10, 16, V.VRING_DESC_F_INDIRECT, 0)
    elif bad == "indirect_len":
        _desc(memory, layout, 0, buf, 15, V.VRING_DESC_F_INDIRECT, 0)
    _make_available(memory, layout, head, 0)
    if bad == "jump":
        memory.write(layout.avail + 2, struct.pack("<H", 9))
    with pytest.raises(VirtqueueError, match=message):
        device.pop()


def test_a_loop_through_an_indirect_table_is_bounded():
    memory, layout, _, device, buf = _queue(indirect=True)
    _desc(memory, layout, 0, buf, 32, V.VRING_DESC_F_INDIRECT, 0)
    memory.write(buf, struct.pack("<QIHH", buf, 8, V.VRING_DESC_F_NEXT, 1)
                 + struct.pack("<QIHH", buf, 8, V.VRING_DESC_F_NEXT, 0))
    _make_available(memory, layout, 0, 0)
    with pytest.raises(VirtqueueError, match="loops"):
        device.pop()


def test_indices_wrap_at_65536():
    memory, layout, driver, device, buf = _queue(size=4, event_idx=True)
    start = 65530
    driver.avail_idx = driver.kicked = driver.last_used = driver.seen_used = start
    device.last_avail = device.seen_avail = device.used_idx = device.signalled = start
    memory.write(layout.avail + 2, struct.pack("<H", start))
    memory.write(layout.used + 2, struct.pack("<H", start))
    seen = []
    for n in range(20):
        assert driver.add([(buf + n, 1)], [], n)
        chain = device.pop()
        seen.append(chain.readable[0][0] - buf)
        device.push(chain.head, 0)
        assert driver.get_used() == (n, 0)
    assert seen == list(range(20))
    assert driver.avail_idx == device.last_avail == (start + 20) & 0xFFFF == 14
    assert struct.unpack("<HH", memory.read(layout.used, 4))[1] == 14
    # Four in flight across the wrap, then a fifth does not fit.
    for n in range(4):
        assert driver.add([(buf, 1)], [], n)
    assert not driver.add([(buf, 1)], [], 4)
    assert device.available() == 4


def test_vring_need_event():
    assert vring_need_event(0, 1, 0)
    assert not vring_need_event(5, 3, 0)
    assert vring_need_event(5, 6, 0)
    assert not vring_need_event(5, 7, 6)
    assert vring_need_event(0xFFFF, 0, 0xFFFE)       # across the wrap


def test_event_idx_suppresses_interrupts_and_kicks():
    memory, layout, driver, device, buf = _queue(event_idx=True)
    for n in range(3):
        driver.add([(buf, 1)], [], n)
    # The device has asked for nothing yet (avail_event 0): the first kick goes.
    assert driver.kick_needed()
    for _ in range(3):
        device.push(device.pop().head, 0)
    assert device.need_interrupt()             # used_event 0: passed by the first
    driver.add([(buf, 1)], [], 3)
    # The device popped everything and wrote avail_event 3: the 4th add passes it.
    assert driver.kick_needed()
    device.push(device.pop().head, 0)
    assert not device.need_interrupt()         # the driver has not read the used ring
    driver.get_used()                          # now used_event = 1: too far behind
    while driver.get_used() is not None:       # read them all: used_event = 4
        pass
    driver.add([(buf, 1)], [], 4)
    driver.add([(buf, 1)], [], 5)
    # Nothing popped since the device asked to hear of avail 4: only one kick for two.
    assert driver.kick_needed()
    driver.add([(buf, 1)], [], 6)
    assert not driver.kick_needed()
    device.push(device.pop().head, 0)
    assert device.need_interrupt()


def test_flags_suppress_without_event_idx():
    memory, layout, driver, device, buf = _queue()
    driver.add([(buf, 1)], [], 0)
    device.set_no_notify(True)
    assert not driver.kick_needed()
    device.set_no_notify(False)
    driver.add([(buf, 1)], [], 1)
    assert driver.kick_needed()
    driver.set_no_interrupt(True)
    device.push(device.pop().head, 0)
    assert not device.need_interrupt()
    driver.set_no_interrupt(False)
    device.push(device.pop().head, 0)
    assert device.need_interrupt()


class Recorder:
    def __init__(self):
        self.sent = []
        self.receive = None

    def attach(self, receive):
        self.receive = receive

    def send(self, frame):
        self.sent.append(frame)


def _card(features=OFFERED, wanted=None, queue_size=16, buffer_size=2048):
    memory = BufferMemory(4 << 20, BASE)
    backend = Recorder()
    device = VirtioNetDevice(memory, MAC, backend, features=features)
    lines = []
    device.trace = lines.append
    kwargs = {} if wanted is None else {"wanted": wanted}
    driver = VirtioNetDriver(device, memory, BASE, 4 << 20, queue_size, buffer_size, **kwargs)
    return memory, device, driver, backend, lines


def test_handshake_and_features():
    _, device, driver, _, lines = _card()
    assert driver.probe() == MAC
    assert driver.features == OFFERED
    assert device.ready()
    assert lines[0] == "virtio: reset"
    assert "virtio: status ACKNOWLEDGE|DRIVER|FEATURES_OK" in lines
    assert any(line.startswith("virtio q0: size 16 desc") for line in lines)


def test_a_driver_asking_for_what_was_not_offered_is_refused():
    memory = BufferMemory(1 << 20, BASE)
    device = VirtioNetDevice(memory, MAC, Recorder())
    device.set_status(V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER)
    device.set_driver_features(OFFERED | feature_bits(V.VIRTIO_NET_F_CTRL_VQ))
    device.set_status(device.status | V.VIRTIO_CONFIG_S_FEATURES_OK)
    assert not device.status & V.VIRTIO_CONFIG_S_FEATURES_OK
    # A legacy driver (no VERSION_1) is refused too.
    device.set_status(0)
    device.set_status(V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER)
    device.set_driver_features(feature_bits(V.VIRTIO_NET_F_MAC))
    device.set_status(device.status | V.VIRTIO_CONFIG_S_FEATURES_OK)
    assert not device.status & V.VIRTIO_CONFIG_S_FEATURES_OK
    # DRIVER_OK before any queue is set up is a driver bug: NEEDS_RESET.
    device.set_status(0)
    device.set_status(V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER)
    device.set_driver_features(feature_bits(V.VIRTIO_F_VERSION_1))
    device.set_status(device.status | V.VIRTIO_CONFIG_S_FEATURES_OK)
    device.set_status(device.status | V.VIRTIO_CONFIG_S_DRIVER_OK)
    assert device.status & V.VIRTIO_CONFIG_S_NEEDS_RESET and not device.ready()
    assert not device.receive(b"x" * 60)
    device.set_status(0)
    assert device.status == 0


def test_the_driver_refuses_a_device_that_refuses_it():
    memory = BufferMemory(1 << 20, BASE)
    device = VirtioNetDevice(memory, MAC, Recorder(), features=feature_bits(V.VIRTIO_NET_F_MAC))
    with pytest.raises(DeviceError, match="refused features"):
        VirtioNetDriver(device, memory, BASE, 1 << 20, 8).probe()
    assert device.status & V.VIRTIO_CONFIG_S_FAILED


@pytest.mark.parametrize("indirect", [True, False])
def test_transmit_and_receive(indirect):
    wanted = OFFERED if indirect else OFFERED & ~feature_bits(V.VIRTIO_RING_F_INDIRECT_DESC)
    _, device, driver, backend, lines = _card(wanted=wanted)
    driver.probe()
    frames = [bytes([n]) * (60 + n) for n in range(40)]
    for f in frames:
        assert driver.transmit(f)
    assert backend.sent == frames
    assert device.counters.tx_packets == 40
    for f in frames[:10]:
        assert backend.receive(f)
    assert driver.pending
    assert driver.receive() == frames[:10]
    assert not driver.pending
    # A packet goes out as one readable buffer (its header and frame together).
    assert any("avail" in line and line.endswith("+%d R" % (12 + 60)) for line in lines)
    assert any(line.endswith("W") for line in lines)


def test_merged_rx_buffers():
    _, device, driver, backend, _ = _card(queue_size=16, buffer_size=256)
    driver.probe()
    big = bytes(range(256)) * 5 + b"end"
    assert backend.receive(big)
    # 12 + 1283 bytes over 256-byte buffers: 6 of them, num_buffers 6.
    assert device.queues[0].used_idx == 6
    assert driver.receive() == [big]
    # Three such frames need 18 buffers of 16: the third waits in the backlog and
    # arrives once the driver gives buffers back.
    for _ in range(3):
        backend.receive(big)
    assert len(device.backlog) == 1
    assert driver.receive() == [big, big]
    assert driver.receive() == [big]


def test_without_merged_buffers_a_frame_too_big_is_dropped():
    # The driver sizes its buffers for the largest frame (1500 bytes of payload when
    # the device does not say its MTU); a longer frame finds no room and is dropped.
    wanted = OFFERED & ~feature_bits(V.VIRTIO_NET_F_MRG_RXBUF, V.VIRTIO_NET_F_MTU)
    _, device, driver, backend, _ = _card(wanted=wanted, buffer_size=256)
    device.mtu = 9000
    driver.probe()
    assert driver.mtu == 1500 and driver.buffer_size >= 12 + 1518
    backend.receive(b"x" * 3000)
    backend.receive(b"y" * 1514)
    assert driver.receive() == [b"y" * 1514]
    assert device.counters.rx_dropped == 1


def test_the_mtu_is_the_devices():
    _, device, driver, backend, _ = _card(queue_size=16, buffer_size=2048)
    device.mtu = 9000
    driver.probe()
    assert driver.mtu == 9000 and driver.tx_size >= 12 + 9018
    assert driver.transmit(b"j" * 9014) and backend.sent == [b"j" * 9014]
    assert not driver.transmit(b"j" * 9015)
    backend.receive(b"k" * 9014)               # over five merged buffers
    assert driver.receive() == [b"k" * 9014]


def test_a_bad_tx_chain_sets_needs_reset_and_the_device_goes_quiet():
    memory, device, driver, backend, lines = _card()
    driver.probe()
    tx = driver.tx
    # A buggy driver: descriptor 0 points to itself.
    _desc(memory, tx.layout, 0, driver.tx_buffers, 12, V.VRING_DESC_F_NEXT, 0)
    _make_available(memory, tx.layout, 0, tx.avail_idx)
    device.notify(V.VIRTIO_NET_TX_QUEUE)
    assert device.status & V.VIRTIO_CONFIG_S_NEEDS_RESET
    assert "loops" in device.error
    assert any("NEEDS_RESET" in line for line in lines)
    assert not backend.sent
    with pytest.raises(DeviceError, match="needs a reset"):
        driver.transmit(b"z" * 60)
    assert not backend.receive(b"z" * 60)
    # A reset and a new probe bring it back.
    driver.probe()
    assert driver.transmit(b"z" * 60) and backend.sent == [b"z" * 60]


def test_the_rx_backlog_is_bounded():
    _, device, driver, backend, _ = _card(queue_size=4)
    driver.probe()
    accepted = sum(backend.receive(b"q" * 100) for _ in range(1000))
    assert accepted == 4 + device.backlog_limit
    assert device.counters.rx_dropped == 1000 - accepted


def test_a_lossy_wire_drops_and_reorders_its_share():
    wire = Wire(drop=0.05, reorder=0.05, seed=1)
    got = []
    wire.b.attach(got.append)
    for n in range(2000):
        wire.a.send(n.to_bytes(2, "big"))
    wire.flush()
    numbers = [int.from_bytes(f, "big") for f in got]
    assert 60 < 2000 - len(numbers) < 140
    assert numbers != sorted(numbers) and len(set(numbers)) == len(numbers)
