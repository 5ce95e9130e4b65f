"""A virtio 1.x split virtqueue in guest memory, from both ends (virtio 1.1, 2.6).

    descriptor table   size x struct vring_desc {addr, len, flags, next}, 16 bytes each
    available ring     flags, idx, ring[size] of chain heads, used_event   (driver writes)
    used ring          flags, idx, ring[size] of {id, len}, avail_event     (device writes)

The driver puts a chain of descriptors in the table (readable buffers first, then
device-writable ones, linked by NEXT, or one INDIRECT descriptor pointing at a table
of them), writes its head into the available ring and bumps avail->idx; the device
takes it, reads or fills the buffers, writes {head, bytes written} into the used ring
and bumps used->idx. Both indices are free-running 16-bit counters: the slot is
idx % size, and only their difference matters, so they wrap at 65536.

Notifications are suppressed as the spec says: without EVENT_IDX by the ring flags
(VRING_USED_F_NO_NOTIFY, VRING_AVAIL_F_NO_INTERRUPT); with it, the driver is notified
only when the used index passes used_event, the device only when the available index
passes avail_event (`vring_need_event`).

A chain that breaks the rules (a head or next out of range, a loop, an indirect table
inside an indirect table or with NEXT, readable after writable, an index that jumped
more than size, memory the device cannot reach) raises VirtqueueError: the device
then sets NEEDS_RESET and touches the queue no more (2.1.2), it never crashes.

`Virtqueue` is the device's end, `DriverVirtqueue` the driver's. Memory is any object
with read(addr, size) and write(addr, data) raising KernelError (virtio/memory.py).

Layer: net. Calls the memory object given and abi/virtio.py; `trace`, when set, is
called with one line per chain made available or used and per notification.
"""

from __future__ import annotations

from typing import Callable

from ...abi import virtio as V
from ...errors import KernelError

_DESC = V.VRING_DESC
_ENTRY = V.VRING_RING_ENTRY
_HEADER = V.VRING_AVAIL_HEADER
_ELEM = V.VRING_USED_ELEM


class VirtqueueError(Exception):
    """The driver broke the ring's rules; the message says how."""


def vring_need_event(event_idx: int, new_idx: int, old_idx: int) -> bool:
    """virtio_ring.h: whether moving an index from old to new passed event_idx (all
    16-bit, so a wrap in between is handled)."""
    return ((new_idx - event_idx - 1) & 0xFFFF) < ((new_idx - old_idx) & 0xFFFF)


class QueueLayout:
    """Where one queue's three parts are and how many entries it has."""

    __slots__ = ("size", "desc", "avail", "used")

    def __init__(self, size: int, desc: int, avail: int, used: int):
        self.size, self.desc, self.avail, self.used = size, desc, avail, used

    @staticmethod
    def valid_size(size: int) -> bool:
        return 0 < size <= V.VIRTQUEUE_MAX_SIZE and not size & (size - 1)

    @staticmethod
    def part_sizes(size: int) -> tuple[int, int, int]:
        """Bytes of the descriptor table, the available ring and the used ring, with
        the event fields that EVENT_IDX adds (always reserved)."""
        return (size * _DESC.size, _HEADER.size + (size + 1) * _ENTRY.size,
                _HEADER.size + size * _ELEM.size + _ENTRY.size)

    @classmethod
    def allocate(cls, size: int, allocator) -> "QueueLayout":
        d, a, u = cls.part_sizes(size)
        return cls(size, allocator.take(d, V.VRING_DESC_ALIGN),
                   allocator.take(a, V.VRING_AVAIL_ALIGN), allocator.take(u, V.VRING_USED_ALIGN))

    def used_event(self) -> int:      # the driver's: interrupt me when used->idx passes this
        return self.avail + _HEADER.size + self.size * _ENTRY.size

    def avail_event(self) -> int:     # the device's: notify me when avail->idx passes this
        return self.used + _HEADER.size + self.size * _ELEM.size


class Chain:
    """One descriptor chain as the device sees it: the readable buffers (driver to
    device) and the writable ones (device to driver), as (address, length)."""

    __slots__ = ("head", "readable", "writable")

    def __init__(self, head: int):
        self.head = head
        self.readable: list[tuple[int, int]] = []
        self.writable: list[tuple[int, int]] = []

    def readable_bytes(self) -> int:
        return sum(n for _, n in self.readable)

    def writable_bytes(self) -> int:
        return sum(n for _, n in self.writable)

    def describe(self) -> str:
        return " ".join(["%#x+%d R" % b for b in self.readable]
                        + ["%#x+%d W" % b for b in self.writable])


def _flags(flags: int) -> str:
    return "".join(n for bit, n in V.VRING_DESC_FLAG_NAMES.items() if flags & bit) or "-"


class Virtqueue:
    """The device's end of one queue.

    Owned by the device: last_avail (the next available entry to take) and used_idx
    (the next used entry to fill), both free-running 16-bit; signalled (used_idx when
    the driver was last considered for an interrupt)."""

    def __init__(self, memory, index: int, layout: QueueLayout, event_idx: bool = False,
                 indirect: bool = False, trace: Callable[[str], None] | None = None):
        self.memory = memory
        self.index = index
        self.layout = layout
        self.size = layout.size
        self.event_idx = event_idx    # VIRTIO_RING_F_EVENT_IDX was negotiated
        self.indirect = indirect      # VIRTIO_RING_F_INDIRECT_DESC was negotiated
        self.trace = trace
        self.last_avail = 0
        self.seen_avail = 0           # avail->idx as last read
        self.used_idx = 0
        self.signalled = 0
        # Where each field is, computed once: the per-frame path only adds an index.
        self._avail_ring = layout.avail + _HEADER.size
        self._used_ring = layout.used + _HEADER.size
        self._avail_event = layout.avail_event()
        self._used_event = layout.used_event()

    def _read(self, addr: int, size: int) -> bytes:
        try:
            return self.memory.read(addr, size)
        except KernelError:
            raise VirtqueueError("ring memory at %#x+%d is not reachable" % (addr, size)) from None

    def _write(self, addr: int, data: bytes) -> None:
        try:
            self.memory.write(addr, data)
        except KernelError:
            raise VirtqueueError("ring memory at %#x+%d is not writable" % (addr, len(data))) \
                from None

    def available(self) -> int:
        """How many chains the driver has made available and the device not taken.
        avail->idx is read again only once what was seen of it is used up."""
        if self.seen_avail != self.last_avail:
            return (self.seen_avail - self.last_avail) & 0xFFFF
        _, idx = _HEADER.unpack(self._read(self.layout.avail, _HEADER.size))
        waiting = (idx - self.last_avail) & 0xFFFF
        if waiting > self.size:
            raise VirtqueueError("avail idx %d is %d ahead of %d (queue size %d)"
                                 % (idx, waiting, self.last_avail, self.size))
        self.seen_avail = idx
        return waiting

    def pop(self) -> Chain | None:
        """Take the next available chain, or None if there is none."""
        if self.seen_avail == self.last_avail and not self.available():
            return None
        last = self.last_avail
        slot = self._avail_ring + (last % self.size) * 2
        try:
            (head,) = _ENTRY.unpack(self.memory.read(slot, 2))
        except KernelError:
            raise VirtqueueError("ring memory at %#x+2 is not reachable" % slot) from None
        chain = self._walk(head)
        self.last_avail = last = (last + 1) & 0xFFFF
        if self.event_idx:
            # Ask to be notified when the driver adds anything after this one.
            self._write(self._avail_event, _ENTRY.pack(last))
        if self.trace:
            self.trace("virtio q%d: avail %d head %d: %s" % (
                self.index, (last - 1) & 0xFFFF, head, chain.describe()))
        return chain

    def _walk(self, head: int) -> Chain:
        if head >= self.size:
            raise VirtqueueError("chain head %d out of range (queue size %d)" % (head, self.size))
        chain = Chain(head)
        table, count, i, seen = self.layout.desc, self.size, head, 0
        in_indirect = False
        read = self.memory.read
        while True:
            seen += 1
            if seen > count:
                raise VirtqueueError("descriptor chain from %d loops or exceeds %d entries"
                                     % (head, count))
            try:
                addr, length, flags, nxt = _DESC.unpack(read(table + i * 16, 16))
            except KernelError:
                raise VirtqueueError("ring memory at %#x+16 is not reachable"
                                     % (table + i * 16)) from None
            if flags & V.VRING_DESC_F_INDIRECT:
                if not self.indirect:
                    raise VirtqueueError("INDIRECT descriptor without INDIRECT_DESC negotiated")
                if in_indirect:
                    raise VirtqueueError("INDIRECT descriptor inside an indirect table")
                if flags & V.VRING_DESC_F_NEXT:
                    raise VirtqueueError("INDIRECT descriptor with NEXT set")
                entries = length // _DESC.size
                if length == 0 or length % _DESC.size or entries > V.VIRTQUEUE_MAX_SIZE:
                    raise VirtqueueError("indirect table of %d bytes" % length)
                table, count, i, seen, in_indirect = addr, length // _DESC.size, 0, 0, True
                continue
            if flags & V.VRING_DESC_F_WRITE:
                chain.writable.append((addr, length))
            elif chain.writable:
                raise VirtqueueError("readable descriptor %d after a writable one" % i)
            else:
                chain.readable.append((addr, length))
            if not flags & V.VRING_DESC_F_NEXT:
                return chain
            if nxt >= count:
                raise VirtqueueError("next %d out of range (table of %d)" % (nxt, count))
            i = nxt

    def read_chain(self, chain: Chain, limit: int) -> bytes:
        """The readable buffers' bytes in order; VirtqueueError past limit bytes."""
        readable = chain.readable
        if len(readable) == 1:                 # the usual packet: one buffer
            addr, n = readable[0]
            if n > limit:
                raise VirtqueueError("chain %d holds %d bytes, more than %d"
                                     % (chain.head, n, limit))
            return self._read(addr, n)
        if chain.readable_bytes() > limit:
            raise VirtqueueError("chain %d holds %d bytes, more than %d"
                                 % (chain.head, chain.readable_bytes(), limit))
        return b"".join(self._read(a, n) for a, n in readable)

    def write_chain(self, chain: Chain, data) -> int:
        """Fill the writable buffers with data in order; bytes written."""
        writable = chain.writable
        if len(writable) == 1:                 # the usual receive buffer: one
            addr, length = writable[0]
            piece = data[:length]
            self._write(addr, piece)
            return len(piece)
        done = 0
        for addr, length in writable:
            if done >= len(data):
                break
            piece = data[done:done + length]
            self._write(addr, piece)
            done += len(piece)
        return done

    def push(self, head: int, written: int) -> None:
        """Return a chain to the driver: the used element first, then the index."""
        slot = self._used_ring + (self.used_idx % self.size) * 8
        used = (self.used_idx + 1) & 0xFFFF
        try:
            self.memory.write(slot, _ELEM.pack(head, written))
            self.memory.write(self.layout.used + 2, _ENTRY.pack(used))
        except KernelError:
            raise VirtqueueError("ring memory at %#x is not writable" % slot) from None
        self.used_idx = used
        if self.trace:
            self.trace("virtio q%d: used %d head %d len %d"
                       % (self.index, (used - 1) & 0xFFFF, head, written))

    def need_interrupt(self) -> bool:
        """Whether the driver wants to hear of the chains used since the last call."""
        old, self.signalled = self.signalled, self.used_idx
        if old == self.used_idx:
            return False
        if self.event_idx:
            (event,) = _ENTRY.unpack(self._read(self._used_event, 2))
            return vring_need_event(event, self.used_idx, old)
        flags, _ = _HEADER.unpack(self._read(self.layout.avail, _HEADER.size))
        return not flags & V.VRING_AVAIL_F_NO_INTERRUPT

    def set_no_notify(self, on: bool) -> None:
        """Without EVENT_IDX: tell the driver not to notify (while the device polls)."""
        self._write(self.layout.used, _ENTRY.pack(V.VRING_USED_F_NO_NOTIFY if on else 0))


class DriverVirtqueue:
    """The driver's end of one queue.

    Owned by the driver: the free descriptor list, avail_idx (the next available slot,
    free-running 16-bit), kicked (avail_idx at the last notification decision),
    last_used (the next used entry to read), and for each chain in flight its
    descriptors and the caller's token. With INDIRECT_DESC, a chain of several
    buffers goes in an indirect table (one per head slot, `indirect_max` entries)."""

    def __init__(self, memory, index: int, layout: QueueLayout, event_idx: bool = False,
                 indirect_tables: int | None = None, indirect_max: int = 4):
        self.memory = memory
        self.index = index
        self.layout = layout
        self.size = layout.size
        self.event_idx = event_idx
        self.indirect_tables = indirect_tables    # base of size tables, or None
        self.indirect_max = indirect_max
        self.free = list(range(self.size - 1, -1, -1))
        self.in_flight: dict[int, tuple[list[int], object]] = {}
        self.avail_idx = 0
        self.kicked = 0
        self.last_used = 0
        self.seen_used = 0            # used->idx as last read
        self._avail_ring = layout.avail + _HEADER.size
        self._used_ring = layout.used + _HEADER.size
        self._used_event = layout.used_event()
        desc_bytes, avail_bytes, used_bytes = QueueLayout.part_sizes(layout.size)
        memory.write(layout.desc, bytes(desc_bytes))
        memory.write(layout.avail, bytes(avail_bytes))
        memory.write(layout.used, bytes(used_bytes))

    def room(self) -> int:
        return len(self.free)

    def add(self, readable: list[tuple[int, int]], writable: list[tuple[int, int]],
            token) -> bool:
        """Make a chain of buffers available; False if there are not enough free
        descriptors (nothing is changed then)."""
        write = self.memory.write
        if len(readable) + len(writable) == 1:
            # One buffer (a received frame's, or a packet and its header together):
            # one descriptor, never an indirect table.
            if not self.free:
                return False
            head = self.free.pop()
            addr, length = readable[0] if readable else writable[0]
            write(self.layout.desc + head * 16,
                  _DESC.pack(addr, length, 0 if readable else V.VRING_DESC_F_WRITE, 0))
            ids = [head]
        else:
            buffers = [(a, n, 0) for a, n in readable] + \
                      [(a, n, V.VRING_DESC_F_WRITE) for a, n in writable]
            use_indirect = (self.indirect_tables is not None
                            and 1 < len(buffers) <= self.indirect_max)
            needed = 1 if use_indirect else len(buffers)
            if not buffers or needed > len(self.free):
                return False
            ids = [self.free.pop() for _ in range(needed)]
            head = ids[0]
            if use_indirect:
                table = self.indirect_tables + head * self.indirect_max * _DESC.size
                write(table, self._descriptors(buffers, list(range(len(buffers)))))
                write(self.layout.desc + head * _DESC.size, _DESC.pack(
                    table, len(buffers) * _DESC.size, V.VRING_DESC_F_INDIRECT, 0))
            else:
                descriptors = self._descriptors(buffers, ids)
                for k, i in enumerate(ids):
                    write(self.layout.desc + i * _DESC.size,
                          descriptors[k * _DESC.size:(k + 1) * _DESC.size])
        self.in_flight[head] = (ids, token)
        avail = self.avail_idx
        write(self._avail_ring + (avail % self.size) * 2, _ENTRY.pack(head))
        self.avail_idx = avail = (avail + 1) & 0xFFFF
        write(self.layout.avail + 2, _ENTRY.pack(avail))
        return True

    @staticmethod
    def _descriptors(buffers, ids: list[int]) -> bytes:
        out = []
        for k, (addr, length, flags) in enumerate(buffers):
            last = k == len(buffers) - 1
            out.append(_DESC.pack(addr, length, flags | (0 if last else V.VRING_DESC_F_NEXT),
                                  0 if last else ids[k + 1]))
        return b"".join(out)

    def kick_needed(self) -> bool:
        """Whether the device wants to hear of the chains added since the last call."""
        old, self.kicked = self.kicked, self.avail_idx
        if old == self.avail_idx:
            return False
        if self.event_idx:
            (event,) = _ENTRY.unpack(self.memory.read(self.layout.avail_event(), _ENTRY.size))
            return vring_need_event(event, self.avail_idx, old)
        flags, _ = _HEADER.unpack(self.memory.read(self.layout.used, _HEADER.size))
        return not flags & V.VRING_USED_F_NO_NOTIFY

    def get_used(self):
        """(token, bytes written) of the next chain the device has used, or None."""
        last = self.last_used
        if self.seen_used == last:
            _, self.seen_used = _HEADER.unpack(self.memory.read(self.layout.used, 4))
            if self.seen_used == last:
                return None
        head, written = _ELEM.unpack(self.memory.read(self._used_ring + (last % self.size) * 8, 8))
        self.last_used = last = (last + 1) & 0xFFFF
        if self.event_idx:
            # Interrupt me again for the very next used chain.
            self.memory.write(self._used_event, _ENTRY.pack(last))
        entry = self.in_flight.pop(head, None)
        if entry is None:
            raise VirtqueueError("the device used head %d, which is not in flight" % head)
        ids, token = entry
        if len(ids) == 1:
            self.free.append(ids[0])
        else:
            self.free.extend(reversed(ids))
        return token, written

    def set_no_interrupt(self, on: bool) -> None:
        """Without EVENT_IDX: ask the device not to interrupt (while the driver polls)."""
        self.memory.write(self.layout.avail, _ENTRY.pack(V.VRING_AVAIL_F_NO_INTERRUPT if on else 0))
