"""A virtual switch between guests in one process (`hub=NAME` through the API): each
card's backend is a port; the switch learns which port each source MAC address was
seen on and sends a frame only there, floods broadcast and unknown destinations to
every other port, and forgets what it learnt after `age` ns (Linux's bridge ageing
time, 300 s) or when its table is full.

Layer: net. Calls net/ethernet.py only. A port is a backend (attach, send) for a
virtio card, or a link (transmit, receive, pending) for a stack without one.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from .ethernet import parse_frame


class HubPort:
    def __init__(self, hub: "Hub", number: int):
        self.hub = hub
        self.number = number
        self.receiver: Callable[[bytes], object] | None = None
        self.inbox: deque[bytes] = deque()

    def attach(self, receive: Callable[[bytes], object]) -> None:
        self.receiver = receive

    def send(self, frame: bytes) -> None:
        self.hub.forward(self, bytes(frame))

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


class Hub:
    """Owned here: the ports, the table MAC -> (port, when learnt), and the time of
    the last frame (`now`, set by the caller with tick())."""

    def __init__(self, name: str, age: int = 300 * 10**9, limit: int = 4096):
        self.name = name
        self.age = age
        self.limit = limit
        self.ports: list[HubPort] = []
        self.table: dict[bytes, tuple[HubPort, int]] = {}
        self.now = 0
        self.flooded = 0

    def port(self) -> HubPort:
        p = HubPort(self, len(self.ports))
        self.ports.append(p)
        return p

    def tick(self, now: int) -> None:
        self.now = now
        for mac in [m for m, (_, t) in self.table.items() if now - t > self.age]:
            del self.table[mac]

    def forward(self, source: HubPort, frame: bytes) -> None:
        parsed = parse_frame(frame)
        if parsed is None:
            return
        dst, src = bytes(parsed[0]), bytes(parsed[1])
        if not src[0] & 1:
            if src not in self.table and len(self.table) >= self.limit:
                self.table.pop(next(iter(self.table)))
            self.table[src] = (source, self.now)
        known = None if dst[0] & 1 else self.table.get(dst)
        if known is not None:
            if known[0] is not source:
                known[0].arrive(frame)
            return
        self.flooded += 1
        for p in self.ports:
            if p is not source:
                p.arrive(frame)
