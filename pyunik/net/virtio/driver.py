"""The driver side of virtio-net, as the stack drives the card: it negotiates features,
lays out both queues and their buffers in a kernel region of guest memory, keeps the
receive queue stocked with buffers, and turns frames to send into transmit chains.

    driver = VirtioNetDriver(device, memory, region_base, region_size)
    driver.probe()                  # the status handshake; raises DeviceError
    driver.transmit(frame)          # False if the transmit queue is full
    driver.transmit(frame, (start, offset))   # its checksum left for the card (CSUM)
    driver.receive()                # the frames the device has put in the rx queue
    driver.receive_packets()        # the same as (frame, checked) pairs

Checksum offload (VIRTIO_NET_F_CSUM, GUEST_CSUM), as Linux's virtio_net uses it: when
the device takes partial checksums, `checksum_offload` is true and the stack leaves
a TCP checksum partial (NEEDS_CSUM with csum_start/csum_offset; the device finishes
it before the frame reaches a wire); a received frame marked NEEDS_CSUM or
DATA_VALID comes out of receive_packets() as checked, and the stack does not sum it.

TCP segmentation offload (HOST_TSO4, GUEST_TSO4): with room in the region for
`TSO_SLOTS` transmit slots of 64 KiB, `gso_max_size` is 65535 and
`transmit(frame, csum, gso_size)` sends one TCP segment of many MSS (gso_type TCPV4);
the device cuts it for a backend that wants frames of the MTU. Received, such a
packet spans merged buffers and comes out whole: one segment for the stack.

The device's interrupt only marks `pending`; the stack calls receive() when it runs.

Layer: net. Calls virtqueue.py, memory.py (RegionAllocator), abi/virtio.py and the
device object (its configuration interface and notify()).
"""

from __future__ import annotations

from typing import Callable

from ...abi import virtio as V
from ...abi.if_ether import ETH_DATA_LEN, ETH_HLEN
from ..checksum import complete_checksum
from .device import REQUIRES, feature_bits
from .memory import RegionAllocator
from ...errors import KernelError
from ..interface import LinkError
from .virtqueue import DriverVirtqueue, QueueLayout, VirtqueueError

_HDR = V.VIRTIO_NET_HDR
TSO_SLOTS = 8                 # transmit slots for TSO packets, each of 64 KiB and more
TSO_RX_BUFFER = 4096          # rx buffer size when TSO packets may come (GUEST_TSO4)
_TSO_SLOT = (_HDR.size + ETH_HLEN + 65535 + 63) & ~63
_NO_OFFLOAD = _HDR.pack(0, V.VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0, 0)


class DeviceError(LinkError):
    """The device would not come up, or stopped (NEEDS_RESET)."""


WANTED = feature_bits(V.VIRTIO_F_VERSION_1, V.VIRTIO_NET_F_MAC, V.VIRTIO_NET_F_MTU,
                      V.VIRTIO_NET_F_STATUS, V.VIRTIO_NET_F_CSUM, V.VIRTIO_NET_F_GUEST_CSUM,
                      V.VIRTIO_NET_F_HOST_TSO4, V.VIRTIO_NET_F_GUEST_TSO4,
                      V.VIRTIO_NET_F_MRG_RXBUF, V.VIRTIO_RING_F_EVENT_IDX,
                      V.VIRTIO_RING_F_INDIRECT_DESC)


class VirtioNetDriver:
    """Owned by the driver: the two DriverVirtqueues, the rx and tx buffer slots (one
    slot of buffer_size bytes per descriptor), and `pending` (the device raised an
    interrupt the stack has not yet handled)."""

    def __init__(self, device, memory, region_base: int, region_size: int,
                 queue_size: int = 256, buffer_size: int | None = None,
                 wanted: int = WANTED):
        self.device = device
        self.memory = memory
        self.region = RegionAllocator(region_base, region_size)
        self.queue_size = queue_size
        # rx buffers of buffer_size bytes; by default 2048, or TSO_RX_BUFFER when TSO
        # packets come over merged buffers and the region has room.
        self.buffer_size = buffer_size or 2048
        self.buffer_size_given = buffer_size is not None
        self.wanted = wanted
        self.pending = False
        self.features = 0
        self.mtu = ETH_DATA_LEN       # the device's, with VIRTIO_NET_F_MTU
        self.rx: DriverVirtqueue | None = None
        self.tx: DriverVirtqueue | None = None
        self.free_tso: list[int] = []
        self.gso_max_size = 0         # the largest TSO packet (IP length); 0: no TSO
        self.on_interrupt: Callable[[], None] | None = None   # the stack's wakeup

    def probe(self) -> bytes:
        """Bring the device up (virtio 1.1, 3.1.1); the card's MAC address."""
        dev = self.device
        dev.set_status(0)
        status = V.VIRTIO_CONFIG_S_ACKNOWLEDGE | V.VIRTIO_CONFIG_S_DRIVER
        dev.set_status(status)
        self.features = dev.device_features & self.wanted
        for bit, needs in REQUIRES:        # TSO without its checksum feature: not asked
            if not self.features >> needs & 1:
                self.features &= ~(1 << bit)
        dev.set_driver_features(self.features)
        status |= V.VIRTIO_CONFIG_S_FEATURES_OK
        dev.set_status(status)
        if not dev.status & V.VIRTIO_CONFIG_S_FEATURES_OK:
            dev.set_status(status | V.VIRTIO_CONFIG_S_FAILED)
            raise DeviceError("the device refused features %#x" % self.features)
        mac, _, _, mtu = V.VIRTIO_NET_CONFIG.unpack(dev.config())
        if self.has(V.VIRTIO_NET_F_MTU):
            self.mtu = mtu
        # A transmit slot holds the header and the largest frame; a receive buffer
        # does too unless a frame may span several (MRG_RXBUF).
        frame = _HDR.size + ETH_HLEN + self.mtu + 4
        self.tx_size = max(self.buffer_size, (frame + 63) & ~63)
        if not self.has(V.VIRTIO_NET_F_MRG_RXBUF):
            self.buffer_size = max(self.buffer_size, self.tx_size)
        event_idx = self.has(V.VIRTIO_RING_F_EVENT_IDX)
        indirect = self.has(V.VIRTIO_RING_F_INDIRECT_DESC)
        n = self.queue_size
        rx_layout = QueueLayout.allocate(n, self.region)
        tx_layout = QueueLayout.allocate(n, self.region)
        tables = self.region.take(n * 4 * V.VRING_DESC.size) if indirect else None
        if (not self.buffer_size_given and self.has(V.VIRTIO_NET_F_MRG_RXBUF)
                and self.has(V.VIRTIO_NET_F_GUEST_TSO4)
                and self.region.end - self.region.next >= n * (TSO_RX_BUFFER + self.tx_size)
                + TSO_SLOTS * _TSO_SLOT + 256):
            self.buffer_size = TSO_RX_BUFFER       # a 64 KiB packet in 17 buffers, not 33
        self.rx_buffers = self.region.take(n * self.buffer_size, 64)
        self.tx_buffers = self.region.take(n * self.tx_size, 64)
        self.rx = DriverVirtqueue(self.memory, V.VIRTIO_NET_RX_QUEUE, rx_layout, event_idx)
        self.tx = DriverVirtqueue(self.memory, V.VIRTIO_NET_TX_QUEUE, tx_layout, event_idx,
                                  tables)
        self.free_tx = list(range(n - 1, -1, -1))
        # TSO slots, if the region has room for them (else no TSO packet is sent).
        self.free_tso: list[int] = []
        self.gso_max_size = 0
        if self.has(V.VIRTIO_NET_F_HOST_TSO4):
            try:
                self.tso_buffers = self.region.take(TSO_SLOTS * _TSO_SLOT, 64)
                self.free_tso = list(range(TSO_SLOTS - 1, -1, -1))
                self.gso_max_size = 65535
            except KernelError:
                pass
        if not (dev.setup_queue(V.VIRTIO_NET_RX_QUEUE, rx_layout)
                and dev.setup_queue(V.VIRTIO_NET_TX_QUEUE, tx_layout)):
            dev.set_status(status | V.VIRTIO_CONFIG_S_FAILED)
            raise DeviceError("the device refused queues of %d entries" % n)
        dev.interrupt = self._interrupt
        for slot in range(n):
            self._post_rx(slot)
        dev.set_status(status | V.VIRTIO_CONFIG_S_DRIVER_OK)
        if not dev.ready():
            raise DeviceError("the device did not accept DRIVER_OK: %s" % dev.error)
        self._kick(self.rx)
        return mac if self.has(V.VIRTIO_NET_F_MAC) else dev.mac

    def has(self, bit: int) -> bool:
        return bool(self.features >> bit & 1)

    @property
    def tso(self) -> bool:
        """TSO packets may be sent (HOST_TSO4, and room for their slots)."""
        return self.gso_max_size > 0

    @property
    def checksum_offload(self) -> bool:
        """The device finishes partial checksums of what is sent (CSUM)."""
        return bool(self.features >> V.VIRTIO_NET_F_CSUM & 1)

    def _interrupt(self, queue: int) -> None:
        self.pending = True
        if self.on_interrupt:
            self.on_interrupt()

    def _post_rx(self, slot: int) -> None:
        addr = self.rx_buffers + slot * self.buffer_size
        self.rx.add([], [(addr, self.buffer_size)], slot)

    def _kick(self, q: DriverVirtqueue) -> None:
        if q.kick_needed():
            self.device.notify(q.index)

    def _check(self) -> None:
        if self.device.status & V.VIRTIO_CONFIG_S_NEEDS_RESET:
            raise DeviceError("the device needs a reset: %s" % self.device.error)

    def transmit(self, frame: bytes, csum: tuple[int, int] | None = None,
                 gso: int = 0) -> bool:
        """Queue one frame for the wire; False if the queue is full or it is too long.
        csum (start, offset): the TCP/UDP checksum there is partial, for the card;
        gso: the frame is a TCP segment to be cut in pieces of gso bytes (TSO)."""
        self._check()
        try:
            return self._transmit(frame, csum, gso)
        except (VirtqueueError, KernelError) as e:
            raise DeviceError("the tx ring failed: %s" % e) from None

    def _transmit(self, frame: bytes, csum, gso: int) -> bool:
        self._reclaim_tx()
        if gso and len(frame) > ETH_HLEN + self.mtu:
            if not (self.free_tso and csum is not None and self.has(V.VIRTIO_NET_F_CSUM)
                    and len(frame) <= ETH_HLEN + self.gso_max_size and self.tx.room()):
                return False
            hdr_len = csum[0] + (frame[csum[0] + 12] >> 4) * 4
            header = _HDR.pack(V.VIRTIO_NET_HDR_F_NEEDS_CSUM, V.VIRTIO_NET_HDR_GSO_TCPV4,
                               hdr_len, gso, csum[0], csum[1], 0)
            k = self.free_tso.pop()
            addr, token = self.tso_buffers + k * _TSO_SLOT, -1 - k
        else:
            if len(frame) > ETH_HLEN + self.mtu or not self.free_tx or self.tx.room() < 2:
                return False
            if csum is None:
                header = _NO_OFFLOAD
            elif self.has(V.VIRTIO_NET_F_CSUM):
                header = _HDR.pack(V.VIRTIO_NET_HDR_F_NEEDS_CSUM, V.VIRTIO_NET_HDR_GSO_NONE,
                                   0, 0, csum[0], csum[1], 0)
            else:
                header, frame = _NO_OFFLOAD, complete_checksum(frame, *csum)
            token = self.free_tx.pop()
            addr = self.tx_buffers + token * self.tx_size
        self.memory.write(addr, header + frame)
        # The header and the frame in one buffer, one descriptor: a virtio 1.x device
        # takes any framing (VIRTIO_F_VERSION_1 implies ANY_LAYOUT), as Linux's
        # virtio_net sends when the header fits before the frame.
        self.tx.add([(addr, _HDR.size + len(frame))], [], token)
        self._kick(self.tx)
        self._check()
        return True

    def _reclaim_tx(self) -> None:
        while (used := self.tx.get_used()) is not None:
            token = used[0]
            if token < 0:
                self.free_tso.append(-1 - token)
            else:
                self.free_tx.append(token)

    def receive(self) -> list[bytes]:
        """The frames received since the last call; the buffers go back to the device."""
        return [frame for frame, _ in self.receive_packets()]

    def receive_packets(self) -> list[tuple[bytes, bool]]:
        """(frame, checked) received since the last call: checked when the device
        said the checksum needs no verification (DATA_VALID, or NEEDS_CSUM: partial,
        from a sender on this side of any wire)."""
        self.pending = False
        self._check()
        try:
            return self._receive()
        except (VirtqueueError, KernelError) as e:
            raise DeviceError("the rx ring failed: %s" % e) from None

    def _receive(self) -> list[tuple[bytes, bool]]:
        frames = []
        merge = self.has(V.VIRTIO_NET_F_MRG_RXBUF)
        trusted = (V.VIRTIO_NET_HDR_F_NEEDS_CSUM | V.VIRTIO_NET_HDR_F_DATA_VALID
                   if self.has(V.VIRTIO_NET_F_GUEST_CSUM) else 0)
        while (used := self.rx.get_used()) is not None:
            slot, written = used
            data = self._take(slot, written)
            if len(data) < _HDR.size:
                continue
            flags, *_, count = _HDR.unpack_from(data)
            if count <= 1 or not merge:
                frames.append((data[_HDR.size:], bool(flags & trusted)))
                continue
            parts = [data[_HDR.size:]]
            for _ in range(count - 1):
                more = self.rx.get_used()
                if more is None:
                    raise DeviceError("num_buffers %d but fewer buffers used" % count)
                parts.append(self._take(*more))
            frames.append((b"".join(parts), bool(flags & trusted)))
        self._kick(self.rx)
        return frames

    def _take(self, slot: int, written: int) -> bytes:
        addr = self.rx_buffers + slot * self.buffer_size
        data = self.memory.read(addr, min(written, self.buffer_size))
        self._post_rx(slot)
        return data
