"""A simulated link for the TCP tests: two TcpTables (hosts A and B) wired back to
back, a fake clock, and a seeded RNG that delays, drops, reorders, duplicates or
corrupts segments as a test asks. Every segment goes through encode and decode
(checksums included), as the IPv4 stack will pass them.
"""

from __future__ import annotations

import heapq
import random

from pyunik.net.tcp import TcpConfig
from pyunik.net.tcp_segment import MalformedSegment, decode_segment
from pyunik.net.tcp_table import TcpTable

A_ADDR = bytes([10, 0, 0, 1])
B_ADDR = bytes([10, 0, 0, 2])
MS = 1_000_000
SECOND = 1_000_000_000


class Link:
    def __init__(self, seed: int = 1, delay: int = 1 * MS, drop: float = 0.0,
                 reorder: float = 0.0, duplicate: float = 0.0, corrupt: float = 0.0,
                 config_a: TcpConfig | None = None, config_b: TcpConfig | None = None,
                 trace: bool = False):
        self.rng = random.Random(seed)
        self.now = 0
        self.delay = delay
        self.drop = drop
        self.reorder = reorder
        self.duplicate = duplicate
        self.corrupt = corrupt
        self.queue: list = []
        self.serial = 0
        self.log: list = []            # (time, src_addr, seg) of everything sent
        self.traces: list = []
        self.filter = None             # filter(src_addr, seg) -> False drops the segment
        self.malformed = 0
        tr = self._trace if trace else None
        cfg_a = config_a or TcpConfig(secret=b"a" * 16)
        cfg_b = config_b or TcpConfig(secret=b"b" * 16)
        self.a = TcpTable(lambda s, d, seg: self._send(s, d, seg), cfg_a, tr)
        self.b = TcpTable(lambda s, d, seg: self._send(s, d, seg), cfg_b, tr)
        self.tables = {A_ADDR: self.a, B_ADDR: self.b}

    def _trace(self, obj, event, detail):
        self.traces.append((self.now, obj, event, detail))

    def _send(self, src: bytes, dst: bytes, seg) -> None:
        self.log.append((self.now, src, seg))
        if self.filter is not None and not self.filter(src, seg):
            return
        if self.drop and self.rng.random() < self.drop:
            return
        data = bytearray(seg.encode(src, dst))
        copies = 2 if self.duplicate and self.rng.random() < self.duplicate else 1
        for _ in range(copies):
            when = self.now + self.delay
            if self.reorder and self.rng.random() < self.reorder:
                when += self.rng.randrange(1, 4 * self.delay + 2)
            pkt = bytearray(data)
            if self.corrupt and self.rng.random() < self.corrupt:
                pkt[self.rng.randrange(len(pkt))] ^= 1 << self.rng.randrange(8)
            self.serial += 1
            heapq.heappush(self.queue, (when, self.serial, src, dst, bytes(pkt)))

    def inject(self, src: bytes, dst: bytes, raw: bytes) -> None:
        """Deliver raw bytes to dst's table now (a hostile peer)."""
        self._deliver(src, dst, raw)

    def _deliver(self, src, dst, raw) -> None:
        try:
            seg = decode_segment(raw, src, dst)
        except MalformedSegment:
            self.malformed += 1
            return
        table = self.tables.get(dst)
        if table is not None:                 # else an address nobody has: lost
            table.segment_arrives(seg, src, dst, self.now)

    def next_event(self) -> int | None:
        times = [t for t in (self.a.next_deadline(), self.b.next_deadline()) if t is not None]
        if self.queue:
            times.append(self.queue[0][0])
        return min(times) if times else None

    def step(self) -> bool:
        when = self.next_event()
        if when is None:
            return False
        self.now = max(self.now, when)
        if self.queue and self.queue[0][0] <= self.now:
            _, _, src, dst, raw = heapq.heappop(self.queue)
            self._deliver(src, dst, raw)
        else:
            self.a.timer(self.now)
            self.b.timer(self.now)
        return True

    def run(self, until=None, limit: int = 600 * SECOND, steps: int = 2_000_000) -> bool:
        """Run events until until() is true (True), or nothing is left, the clock
        passes now + limit or steps run out (False)."""
        end = self.now + limit
        for _ in range(steps):
            if until is not None and until():
                return True
            when = self.next_event()
            if when is None or when > end:
                return until is not None and until()
            self.step()
        return until is not None and until()

    def advance(self, duration: int) -> None:
        """Run everything due in the next duration ns; the clock ends there."""
        end = self.now + duration
        self.run(limit=duration)
        self.now = max(self.now, end)


def establish(link: Link, port: int = 80, cport: int = 40000, backlog: int = 8):
    """A listener on B, a connection from A to it: (client, server, listener)."""
    from pyunik.net.tcp_segment import TcpState
    listener = link.b.listen((B_ADDR, port), backlog)
    client = link.a.connection((A_ADDR, cport), (B_ADDR, port))
    client.connect(link.now)
    assert link.run(lambda: client.state == TcpState.ESTABLISHED and listener.accept_queue,
                    limit=60 * SECOND)
    return client, listener.accept(), listener


class Pump:
    """Moves data from src to dst as fast as they take it, reading everything dst
    receives (or not, with read=False); run it as link.run(pump)."""

    def __init__(self, link: Link, src, dst, data: bytes, read: bool = True,
                 chunk: int = 65536):
        self.link, self.src, self.dst, self.data = link, src, dst, data
        self.sent = 0
        self.got = bytearray()
        self.read = read
        self.chunk = chunk
        self.eof = False

    def __call__(self) -> bool:
        from pyunik.errors import KernelError
        now = self.link.now
        while self.sent < len(self.data):
            try:
                self.sent += self.src.send(self.data[self.sent:self.sent + self.chunk], now)
            except KernelError:
                break
        while self.read and not self.eof:
            try:
                chunk = self.dst.recv(1 << 20, now)
            except KernelError:
                break
            if not chunk:
                self.eof = True
            self.got += chunk
        return len(self.got) >= len(self.data)
