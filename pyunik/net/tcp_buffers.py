"""The byte queues of a TCP connection: what is sent and not yet acknowledged, and
what arrived out of order.

Both count in stream offsets (bytes since the connection's first data byte, an
unbounded int), not sequence numbers, so nothing here wraps at 2**32; net/tcp.py
turns sequence numbers into offsets at its edge.

`SendQueue`: the bytes from SND.UNA on (sent and unacknowledged, then unsent), with
a capacity (SO_SNDBUF). `ReassemblyQueue`: received bytes past RCV.NXT, kept as
sorted non-overlapping runs (touching runs are merged), bounded in bytes and in runs;
when full, the run furthest ahead is dropped first, as Linux's tcp_prune_ofo_queue
does, so a peer sending many small disjoint pieces cannot make it grow.

Layer: net, below net/tcp.py. Calls nothing of pyunik.
"""

from __future__ import annotations

import bisect


class SendQueue:
    """Bytes from offset `start` (SND.UNA's offset) on."""

    __slots__ = ("data", "start", "capacity")

    def __init__(self, capacity: int):
        self.data = bytearray()
        self.start = 0
        self.capacity = capacity

    def __len__(self) -> int:
        return len(self.data)

    @property
    def end(self) -> int:
        return self.start + len(self.data)

    def room(self) -> int:
        return max(0, self.capacity - len(self.data))

    def append(self, data) -> int:
        """Take as much of data as fits; returns how many bytes."""
        n = min(len(data), self.room())
        if n:
            self.data += data[:n] if n < len(data) else data
        return n

    def acknowledge(self, upto: int) -> int:
        """Drop the bytes before offset upto; returns how many went."""
        n = min(max(0, upto - self.start), len(self.data))
        if n:
            del self.data[:n]             # bytearray deletes from the front in O(1)
            self.start += n
        return n

    def peek(self, offset: int, n: int) -> bytes:
        i = offset - self.start
        return bytes(self.data[i:i + n])


class ReassemblyQueue:
    """Out-of-order data: runs (start, bytes) sorted by start, disjoint and not
    touching. `bytes` is the total held."""

    __slots__ = ("starts", "runs", "bytes", "max_bytes", "max_runs", "dropped")

    def __init__(self, max_bytes: int, max_runs: int = 64):
        self.starts: list[int] = []
        self.runs: list[bytearray] = []
        self.bytes = 0
        self.max_bytes = max_bytes
        self.max_runs = max_runs
        self.dropped = 0                  # bytes pruned or refused for lack of room

    def __len__(self) -> int:
        return len(self.runs)

    def insert(self, start: int, data: bytes) -> bool:
        """Add data at offset start, merging with the runs it overlaps or touches;
        False if it was refused (the queue is full of data ahead of it)."""
        end = start + len(data)
        if not data:
            return True
        i = bisect.bisect_left(self.starts, start)
        if i > 0 and self.starts[i - 1] + len(self.runs[i - 1]) >= start:
            i -= 1                        # the run before reaches this one
        j = i
        while j < len(self.starts) and self.starts[j] <= end:
            j += 1
        if i == j:
            merged_start, merged = start, bytearray(data)
        else:
            merged_start = min(start, self.starts[i])
            last_end = max(end, self.starts[j - 1] + len(self.runs[j - 1]))
            merged = bytearray(last_end - merged_start)
            for k in range(i, j):
                s = self.starts[k] - merged_start
                merged[s:s + len(self.runs[k])] = self.runs[k]
            merged[start - merged_start:end - merged_start] = data
            self.bytes -= sum(len(r) for r in self.runs[i:j])
        del self.starts[i:j]
        del self.runs[i:j]
        self.starts.insert(i, merged_start)
        self.runs.insert(i, merged)
        self.bytes += len(merged)
        return self._prune(merged_start)

    def _prune(self, kept: int) -> bool:
        """Drop the furthest runs until within bounds; False if the run at kept
        went too."""
        ok = True
        while self.runs and (self.bytes > self.max_bytes or len(self.runs) > self.max_runs):
            over = self.bytes - self.max_bytes
            last = self.runs[-1]
            if 0 < over < len(last) and len(self.runs) <= self.max_runs:
                del last[len(last) - over:]   # trim the furthest run's tail
                self.bytes -= over
                self.dropped += over
                break
            if self.starts[-1] == kept:
                ok = False
            self.bytes -= len(last)
            self.dropped += len(last)
            self.starts.pop()
            self.runs.pop()
        return ok

    def take(self, offset: int) -> bytes:
        """The data at offset on (what fills the hole there), removed from the queue;
        runs wholly before offset are discarded."""
        while self.starts and self.starts[0] + len(self.runs[0]) <= offset:
            self.bytes -= len(self.runs[0])
            self.starts.pop(0)
            self.runs.pop(0)
        if not self.starts or self.starts[0] > offset:
            return b""
        run = self.runs.pop(0)
        skip = offset - self.starts.pop(0)
        self.bytes -= len(run)
        return bytes(run[skip:])

    def clear(self) -> None:
        self.starts.clear()
        self.runs.clear()
        self.bytes = 0
