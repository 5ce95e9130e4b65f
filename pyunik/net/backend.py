"""Backends: what carries frames between a network card and the rest of the world.

A backend, as the virtio-net device sees it (net/virtio/device.py), has
`send(frame)` and `attach(receive)`; a stack's interface without a device (the
user-mode NAT's) uses the same object as a link: `transmit(frame)`, `receive()`,
`pending`. `Wire` joins two such ports, like a cable; for tests it can drop, delay
and reorder a share of the frames (seeded, so a run repeats), as `Lossy` does around
any backend (the user network's). `PcapTap` sits between
a device and its backend and writes every frame both ways to a PcapWriter.

Layer: net. Calls Python's random (seeded per wire) and net/pcap.py's writer.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Callable

from .checksum import complete_checksum
from .segmentation import segment_tcp4


class FramePort:
    """What every port of a wire or switch does: as a device's backend, attach() and
    send(); as a stack's link, transmit(), pending and receive(). A frame that
    arrives goes to the attached device at once, else waits in the inbox. A subclass
    says where send() puts a frame."""

    def __init__(self):
        self.receiver: Callable[[bytes], object] | None = None
        self.inbox: deque[bytes] = deque()

    def attach(self, receive: Callable[[bytes], object]) -> None:
        self.receiver = receive

    def send(self, frame: bytes) -> None:
        raise NotImplementedError

    def transmit(self, frame: bytes) -> bool:
        self.send(frame)
        return True

    @property
    def pending(self) -> bool:
        return bool(self.inbox)

    def receive(self) -> list[bytes]:
        frames = list(self.inbox)
        self.inbox.clear()
        return frames

    def arrive(self, frame: bytes) -> None:
        if self.receiver is not None:
            self.receiver(frame)
        else:
            self.inbox.append(frame)

    def poll(self, now: int) -> None:
        pass

    def host_fds(self) -> list[tuple[int, int]]:
        """(fd, poll events) of host fds the idle wait watches for this port."""
        return []

    def close(self) -> None:
        pass


class Port(FramePort):
    """One end of a Wire."""

    def __init__(self, wire: "Wire"):
        super().__init__()
        self.wire = wire
        self.peer: "Port | None" = None

    def send(self, frame: bytes) -> None:
        self.wire.carry(self.peer, bytes(frame))


class Wire:
    """A cable between ports a and b. drop and reorder are shares (0..1) of frames
    lost, or held back and sent after the next frame."""

    def __init__(self, drop: float = 0.0, reorder: float = 0.0, seed: int = 0):
        self.drop = drop
        self.reorder = reorder
        self.random = random.Random(seed)
        self.a, self.b = Port(self), Port(self)
        self.a.peer, self.b.peer = self.b, self.a
        self.held: dict[int, bytes] = {}
        self.dropped = 0
        self.reordered = 0

    def carry(self, to: Port, frame: bytes) -> None:
        if self.drop and self.random.random() < self.drop:
            self.dropped += 1
            return
        if self.reorder and id(to) not in self.held and self.random.random() < self.reorder:
            self.held[id(to)] = frame
            self.reordered += 1
            return
        to.arrive(frame)
        late = self.held.pop(id(to), None)
        if late is not None:
            to.arrive(late)

    def flush(self) -> None:
        """Deliver frames held back (a reordered frame with nothing after it)."""
        for port in (self.a, self.b):
            late = self.held.pop(id(port), None)
            if late is not None:
                port.arrive(late)


class PcapTap:
    """A backend that records every frame through it, then passes it on. clock() is
    the wall time in ns for the record (the kernel's realtime clock). A frame with a
    partial checksum (start, offset) is recorded with it finished, and a TSO packet
    cut in the frames of its gso size, as the wire would carry them; both are passed
    on as they came."""

    def __init__(self, backend, writer, clock: Callable[[], int]):
        self.backend = backend
        self.writer = writer
        self.clock = clock

    @property
    def partial_checksums(self) -> bool:
        return getattr(self.backend, "partial_checksums", False)

    @property
    def gso(self) -> bool:
        return getattr(self.backend, "gso", False)

    def _record(self, frame: bytes, csum, gso: int) -> None:
        now = self.clock()
        if gso:
            try:
                pieces = segment_tcp4(frame, gso)
            except ValueError:
                pieces = [frame]              # not TCP after all: recorded as it came
            for piece in pieces:
                self.writer.write(piece, now)
        else:
            self.writer.write(frame if csum is None else complete_checksum(frame, *csum), now)

    def attach(self, receive: Callable[..., object]) -> None:
        def incoming(frame: bytes, csum=None, gso: int = 0):
            self._record(frame, csum, gso)
            return receive(frame) if csum is None else receive(frame, csum, gso)
        self.backend.attach(incoming)

    def send(self, frame: bytes, csum=None, gso: int = 0) -> None:
        self._record(frame, csum, gso)
        if csum is None:
            self.backend.send(frame)
        elif gso:
            self.backend.send(frame, csum, gso)
        else:
            self.backend.send(frame, csum)

    def poll(self, now: int) -> None:
        poll = getattr(self.backend, "poll", None)
        if poll is not None:
            poll(now)


class Lossy:
    """A backend wrapped so that it drops and reorders a share of the frames each way
    (the test option the issue asks for: transfers must stay intact through it)."""

    def __init__(self, backend, drop: float = 0.05, reorder: float = 0.05, seed: int = 0):
        self.backend = backend
        self.drop = drop
        self.reorder = reorder
        self.random = random.Random(seed)
        self.held: dict[str, tuple] = {}
        self.dropped = 0
        self.reordered = 0

    @property
    def partial_checksums(self) -> bool:
        return getattr(self.backend, "partial_checksums", False)

    def _carry(self, way: str, packet: tuple, deliver) -> None:
        if self.random.random() < self.drop:
            self.dropped += 1
            return
        if way not in self.held and self.random.random() < self.reorder:
            self.held[way] = packet
            self.reordered += 1
            return
        deliver(*packet)
        late = self.held.pop(way, None)
        if late is not None:
            deliver(*late)

    def attach(self, receive: Callable[..., object]) -> None:
        def incoming(frame, csum=None, gso: int = 0):
            if gso:        # a wire carries frames of the MTU: cut before the dice
                for piece in segment_tcp4(frame, gso):
                    self._carry("in", (piece,), receive)
            elif csum is None:
                self._carry("in", (frame,), receive)
            else:
                self._carry("in", (frame, csum), receive)
        self.backend.attach(incoming)

    def send(self, *packet) -> None:
        """send(frame) or send(frame, (start, offset)) with a partial checksum."""
        self._carry("out", packet, self.backend.send)

    def poll(self, now: int) -> None:
        poll = getattr(self.backend, "poll", None)
        if poll is not None:
            poll(now)

    def host_fds(self) -> list[tuple[int, int]]:
        return self.backend.host_fds() if hasattr(self.backend, "host_fds") else []

    def close(self) -> None:
        if hasattr(self.backend, "close"):
            self.backend.close()
