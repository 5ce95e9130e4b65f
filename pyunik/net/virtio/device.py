"""The virtio-net device (virtio 1.1, section 5.1): a network card whose receive and
transmit queues are split virtqueues in guest memory, with a backend behind it that
carries frames to the rest of the world.

The driver brings it up as 3.1.1 says: reset (status 0), ACKNOWLEDGE, DRIVER, read
`device_features`, write `driver_features`, set FEATURES_OK and read the status back
(the device clears FEATURES_OK if it cannot work with the features asked for), set up
the queues, DRIVER_OK. Then `notify(queue)` is the driver's doorbell and `interrupt`
(a callable the driver sets) the device's interrupt line.

Every packet in either direction is preceded by a 12-byte struct virtio_net_hdr_v1.
Transmit: each chain is one packet (header and frame in its readable buffers), handed
to `backend.send(frame)`. Receive: the backend calls `receive(frame)`; the frame goes
into the next posted rx chain, or with MRG_RXBUF into as many chains as it needs
(num_buffers in the first header says how many); if none is posted it waits in a
bounded backlog, which a notify of the rx queue drains, and beyond it is dropped.

A backend is any object with `send(frame)`, `attach(receive)` (it keeps the callable
and calls it with each frame for the device) and optionally `poll(now)`.

Checksum offload (CSUM, GUEST_CSUM): a transmitted packet may carry NEEDS_CSUM, its
TCP/UDP checksum partial (csum_start, csum_offset). A backend that takes such frames
(`partial_checksums`, the user network: its stack is on this side of any wire, as a
Linux host's own stack takes CHECKSUM_PARTIAL packets from a tap) gets
`send(frame, (start, offset))`; any other gets the checksum finished first, so what
reaches a wire, a hub or a pcap file is always whole. The other way,
`receive(frame, (start, offset))` delivers NEEDS_CSUM to a driver that took
GUEST_CSUM, and finishes the checksum for one that did not.

TCP segmentation offload (HOST_TSO4, GUEST_TSO4; each needs its CSUM feature): a
packet may be one TCP segment of many MSS (gso_type TCPV4, gso_size the MSS). A
backend with `gso` (the user network, for the same reason) takes it whole as
`send(frame, csum, gso_size)`; for any other the device cuts it into the frames a
wire carries (net/segmentation.py), so a hub, a lossy wire or a pcap file sees
frames of the MTU. The other way, `receive(frame, csum, gso_size)` puts it whole in
the rx buffers of a driver with GUEST_TSO4 (merged buffers) and cut for another.

Layer: net. Calls virtqueue.py, abi/virtio.py, net/interface.py's Counters and the
backend; `trace` (a callable, for --trace virtio) gets one line per status change,
notification and interrupt.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from ...abi import virtio as V
from ...abi.if_ether import ETH_DATA_LEN, ETH_HLEN
from ..checksum import complete_checksum
from ..interface import Counters
from ..segmentation import segment_tcp4
from .virtqueue import QueueLayout, Virtqueue, VirtqueueError

_HDR = V.VIRTIO_NET_HDR


def feature_bits(*bits: int) -> int:
    mask = 0
    for b in bits:
        mask |= 1 << b
    return mask


def feature_names(mask: int) -> str:
    return ",".join(name for bit, name in sorted(V.VIRTIO_FEATURE_NAMES.items())
                    if mask >> bit & 1) or "-"


def status_names(status: int) -> str:
    return "|".join(name for bit, name in V.VIRTIO_STATUS_NAMES.items() if status & bit) or "0"


OFFERED = feature_bits(V.VIRTIO_F_VERSION_1, V.VIRTIO_NET_F_MAC, V.VIRTIO_NET_F_MTU,
                       V.VIRTIO_NET_F_STATUS, V.VIRTIO_NET_F_CSUM, V.VIRTIO_NET_F_GUEST_CSUM,
                       V.VIRTIO_NET_F_HOST_TSO4, V.VIRTIO_NET_F_GUEST_TSO4,
                       V.VIRTIO_NET_F_MRG_RXBUF, V.VIRTIO_RING_F_EVENT_IDX,
                       V.VIRTIO_RING_F_INDIRECT_DESC)


# 5.1.3.1: a feature the driver may take only with another.
REQUIRES = ((V.VIRTIO_NET_F_HOST_TSO4, V.VIRTIO_NET_F_CSUM),
             (V.VIRTIO_NET_F_GUEST_TSO4, V.VIRTIO_NET_F_GUEST_CSUM))
# The largest TSO packet: an IPv4 datagram of 64 KiB in an Ethernet frame.
GSO_MAX_FRAME = ETH_HLEN + 65535


class VirtioNetDevice:
    """One virtio-net card. State owned by the device: status, the negotiated
    features, the two queues once set up, the rx backlog and the counters."""

    def __init__(self, memory, mac: bytes, backend=None, max_queue_size: int = 1024,
                 backlog: int = 256, features: int = OFFERED, mtu: int = ETH_DATA_LEN):
        self.memory = memory
        self.mac = bytes(mac)
        self.mtu = mtu                # the largest payload of a frame, both ways
        self.device_features = features
        self.max_queue_size = max_queue_size
        self.backlog_limit = backlog
        self.interrupt: Callable[[int], None] | None = None   # the driver's handler
        self.trace: Callable[[str], None] | None = None
        self.link_up = True
        self.counters = Counters()
        self.reset()
        self.backend = None
        if backend is not None:
            self.attach(backend)

    def attach(self, backend) -> None:
        self.backend = backend
        backend.attach(self.receive)

    def reset(self) -> None:
        """Status 0: everything the driver set up is forgotten (3.1.1 step 1)."""
        self.status = 0
        self.driver_features = 0
        self.queues: list[Virtqueue | None] = [None, None]
        self.backlog: deque[tuple[bytes, tuple[int, int] | None, int]] = deque()
        self.error = ""

    # --- the configuration interface ------------------------------------------------

    def config(self) -> bytes:
        """struct virtio_net_config: the MAC and the link status."""
        status = V.VIRTIO_NET_S_LINK_UP if self.link_up else 0
        return V.VIRTIO_NET_CONFIG.pack(self.mac, status, 1, self.mtu)

    def set_status(self, status: int) -> None:
        """The driver writes the status byte."""
        if status == 0:
            self.reset()
            self._trace("virtio: reset")
            return
        features_ok = V.VIRTIO_CONFIG_S_FEATURES_OK
        if status & features_ok and not self.status & features_ok:
            # Accept only features offered, and only a virtio 1.x driver (no legacy).
            asked = self.driver_features
            if asked & ~self.device_features or not asked >> V.VIRTIO_F_VERSION_1 & 1 \
                    or any(asked >> bit & 1 and not asked >> needs & 1
                           for bit, needs in REQUIRES):
                status &= ~V.VIRTIO_CONFIG_S_FEATURES_OK
        if status & V.VIRTIO_CONFIG_S_DRIVER_OK and (
                not status & V.VIRTIO_CONFIG_S_FEATURES_OK or None in self.queues):
            self._fail("DRIVER_OK before features were accepted and both queues set up")
            status &= ~V.VIRTIO_CONFIG_S_DRIVER_OK
        self.status = status | (self.status & V.VIRTIO_CONFIG_S_NEEDS_RESET)
        self._trace("virtio: status %s" % status_names(self.status))

    def set_driver_features(self, features: int) -> None:
        """Features are written after DRIVER and before FEATURES_OK, never after."""
        if self.status & V.VIRTIO_CONFIG_S_FEATURES_OK \
                or not self.status & V.VIRTIO_CONFIG_S_DRIVER:
            self._fail("features written outside negotiation")
            return
        self.driver_features = features
        self._trace("virtio: driver features %s" % feature_names(features))

    def has(self, bit: int) -> bool:
        return bool(self.driver_features >> bit & 1)

    def setup_queue(self, index: int, layout: QueueLayout) -> bool:
        """The driver tells where queue index lives; False if the size is refused."""
        if index not in (V.VIRTIO_NET_RX_QUEUE, V.VIRTIO_NET_TX_QUEUE) \
                or not QueueLayout.valid_size(layout.size) or layout.size > self.max_queue_size \
                or not self.status & V.VIRTIO_CONFIG_S_FEATURES_OK \
                or self.status & V.VIRTIO_CONFIG_S_DRIVER_OK:
            return False
        self.queues[index] = Virtqueue(self.memory, index, layout,
                                       self.has(V.VIRTIO_RING_F_EVENT_IDX),
                                       self.has(V.VIRTIO_RING_F_INDIRECT_DESC), self.trace)
        self._trace("virtio q%d: size %d desc %#x avail %#x used %#x"
                    % (index, layout.size, layout.desc, layout.avail, layout.used))
        return True

    def ready(self) -> bool:
        return self.status & (V.VIRTIO_CONFIG_S_DRIVER_OK | V.VIRTIO_CONFIG_S_NEEDS_RESET
                              | V.VIRTIO_CONFIG_S_FAILED) == V.VIRTIO_CONFIG_S_DRIVER_OK

    def _fail(self, why: str) -> None:
        """A driver error: NEEDS_RESET, and the queues are not touched until a reset."""
        self.status |= V.VIRTIO_CONFIG_S_NEEDS_RESET
        self.error = why
        self.backlog.clear()
        self._trace("virtio: NEEDS_RESET: %s" % why)

    def _trace(self, line: str) -> None:
        if self.trace:
            self.trace(line)

    def _raise_interrupt(self, index: int) -> None:
        if self.queues[index].need_interrupt():
            self._trace("virtio q%d: interrupt" % index)
            if self.interrupt:
                self.interrupt(index)

    # --- the data path ----------------------------------------------------------------

    def notify(self, index: int) -> None:
        """The driver rang the doorbell of queue index."""
        if not self.ready():
            return
        self._trace("virtio q%d: notify" % index)
        try:
            if index == V.VIRTIO_NET_TX_QUEUE:
                self._transmit()
            elif index == V.VIRTIO_NET_RX_QUEUE:
                while self.backlog and self._deliver(*self.backlog[0]):
                    self.backlog.popleft()
        except VirtqueueError as e:
            self._fail(str(e))

    def _transmit(self) -> None:
        q = self.queues[V.VIRTIO_NET_TX_QUEUE]
        frames = []
        limit = ETH_HLEN + self.mtu + 4
        while (chain := q.pop()) is not None:
            # The header and up to 64 KiB of frame; a chain longer is a driver bug.
            data = q.read_chain(chain, _HDR.size + GSO_MAX_FRAME)
            q.push(chain.head, 0)
            if len(data) < _HDR.size:
                self.counters.tx_errors += 1
                continue
            csum, gso = None, 0
            if data[0] & V.VIRTIO_NET_HDR_F_NEEDS_CSUM or data[1]:
                flags, gso_type, _, gso, start, offset, _ = _HDR.unpack_from(data)
                if (not self.has(V.VIRTIO_NET_F_CSUM) or not flags & V.VIRTIO_NET_HDR_F_NEEDS_CSUM
                        or start + offset + 2 > len(data) - _HDR.size):
                    self.counters.tx_errors += 1      # no offload asked, or outside
                    continue
                if gso_type != V.VIRTIO_NET_HDR_GSO_NONE and (
                        gso_type != V.VIRTIO_NET_HDR_GSO_TCPV4 or not gso
                        or not self.has(V.VIRTIO_NET_F_HOST_TSO4)):
                    self.counters.tx_errors += 1      # a TSO packet not negotiated
                    continue
                if gso_type == V.VIRTIO_NET_HDR_GSO_NONE:
                    gso = 0
                csum = (start, offset)
            if len(data) - _HDR.size > (GSO_MAX_FRAME if gso else limit):
                self.counters.tx_errors += 1
                continue
            frames.append((data[_HDR.size:], csum, gso))
        self._raise_interrupt(V.VIRTIO_NET_TX_QUEUE)
        partial = getattr(self.backend, "partial_checksums", False)
        whole = getattr(self.backend, "gso", False)
        for frame, csum, gso in frames:
            self.counters.tx_packets += 1
            self.counters.tx_bytes += len(frame)
            if self.backend is None or not self.link_up:
                self.counters.tx_dropped += 1
            elif csum is None:
                self.backend.send(frame)
            elif gso and whole:
                self.backend.send(frame, csum, gso)
            elif gso:
                try:
                    pieces = segment_tcp4(frame, gso)
                except ValueError:
                    self.counters.tx_errors += 1
                    continue
                for piece in pieces:
                    self.backend.send(piece)
            elif partial:
                self.backend.send(frame, csum)
            else:
                self.backend.send(complete_checksum(frame, *csum))

    def receive(self, frame: bytes, csum: tuple[int, int] | None = None, gso: int = 0) -> bool:
        """The backend hands a frame in; False if it was dropped. csum (start,
        offset): its checksum is partial; gso: a TCP segment of several gso-byte
        pieces (see the module docstring)."""
        if not self.ready():
            self.counters.rx_dropped += 1
            return False
        if csum is not None and (csum[0] < 0 or csum[1] < 0
                                 or csum[0] + max(csum[1] + 2, 20) > len(frame)):
            self.counters.rx_dropped += 1
            return False
        try:
            if gso and not self.has(V.VIRTIO_NET_F_GUEST_TSO4):
                return all([self.receive(piece) for piece in segment_tcp4(frame, gso)])
            if csum is not None and not self.has(V.VIRTIO_NET_F_GUEST_CSUM):
                frame, csum = complete_checksum(frame, *csum), None
        except ValueError:
            self.counters.rx_dropped += 1
            return False
        try:
            if not self.backlog and self._deliver(frame, csum, gso):
                return True
        except VirtqueueError as e:
            self._fail(str(e))
            self.counters.rx_dropped += 1
            return False
        if len(self.backlog) >= self.backlog_limit:
            self.counters.rx_dropped += 1
            return False
        self.backlog.append((bytes(frame), csum, gso))
        return True

    def _deliver(self, frame: bytes, csum: tuple[int, int] | None = None, gso: int = 0) -> bool:
        """Put one frame in the rx queue; False if not enough buffers are posted."""
        q = self.queues[V.VIRTIO_NET_RX_QUEUE]
        if q.seen_avail == q.last_avail and not q.available():
            return False
        size = _HDR.size + len(frame)
        chain = q.pop()
        room = chain.writable_bytes()
        chains = [chain]
        if room < size and not self.has(V.VIRTIO_NET_F_MRG_RXBUF):
            # Too small a buffer for this frame: the frame is dropped, the buffer
            # goes back unused, as a card does with a runt descriptor.
            q.push(chain.head, 0)
            self.counters.rx_dropped += 1
            self._raise_interrupt(V.VIRTIO_NET_RX_QUEUE)
            return True
        if room < size:
            saved = (q.last_avail - 1) & 0xFFFF
            while room < size:
                chain = q.pop() if q.available() else None
                if chain is None:
                    # Not enough buffers yet: give back what was taken, wait for more.
                    q.last_avail = saved
                    return False
                chains.append(chain)
                room += chain.writable_bytes()
        if csum is None:
            header = _HDR.pack(0, V.VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0, len(chains))
        elif gso:
            # hdr_len: the headers before the TCP payload, as Linux's virtio_net fills it.
            hdr_len = csum[0] + (frame[csum[0] + 12] >> 4) * 4
            header = _HDR.pack(V.VIRTIO_NET_HDR_F_NEEDS_CSUM, V.VIRTIO_NET_HDR_GSO_TCPV4,
                               hdr_len, gso, csum[0], csum[1], len(chains))
        else:
            header = _HDR.pack(V.VIRTIO_NET_HDR_F_NEEDS_CSUM, V.VIRTIO_NET_HDR_GSO_NONE,
                               0, 0, csum[0], csum[1], len(chains))
        data = header + frame
        if len(chains) == 1:
            q.push(chain.head, q.write_chain(chain, data))
        else:
            data, done = memoryview(data), 0           # pieces without copies
            for chain in chains:
                n = q.write_chain(chain, data[done:])
                q.push(chain.head, n)
                done += n
        self.counters.rx_packets += 1
        self.counters.rx_bytes += len(frame)
        self._raise_interrupt(V.VIRTIO_NET_RX_QUEUE)
        return True
