"""TCP's retransmission timeout (RFC 6298) and the timers of one connection.

`RtoEstimator` keeps SRTT and RTTVAR from round-trip samples (RFC 6298 2.2-2.3,
alpha 1/8, beta 1/4), gives RTO = SRTT + max(G, 4 * RTTVAR) bounded below by 200 ms
(Linux's TCP_RTO_MIN: RFC 6298's 1 s floor would make every loss on a LAN or a
loopback cost a second; Linux and pyunik take 200 ms, as RFC 6298 2.4 allows when
said) and above by 120 s (TCP_RTO_MAX), starts at 1 s (TCP_TIMEOUT_INIT), and backs
off by doubling on each expiry (5.5). Karn's rule (RFC 6298 3) is the caller's: a
sample is taken only from a segment sent once, which `RttSample` tracks.

`Timers` holds a connection's named deadlines (monotonic ns) and answers which is
next; its `hook(when)`, if set, hears of every deadline set, so that a
`DeadlineHeap` over many connections (a listener's SYN queue, a stack's table) finds
the next one without asking each. Nothing here reads a clock: every time comes in as
an argument.

Layer: net, below net/tcp.py. Calls abi/tcp.py only.
"""

from __future__ import annotations

import heapq

from ..abi.tcp import TCP_RTO_MAX_NS, TCP_RTO_MIN_NS, TCP_TIMEOUT_INIT_NS

CLOCK_GRANULARITY_NS = 1_000_000      # G: Linux's jiffy at HZ=1000


class RtoEstimator:
    """SRTT, RTTVAR and the current RTO of one connection, in ns."""

    __slots__ = ("srtt", "rttvar", "base", "backoff", "rto_min", "rto_max")

    def __init__(self, rto_min: int = TCP_RTO_MIN_NS, rto_max: int = TCP_RTO_MAX_NS,
                 initial: int = TCP_TIMEOUT_INIT_NS):
        self.srtt: int | None = None      # None until the first sample (2.1)
        self.rttvar = 0
        self.rto_min = rto_min
        self.rto_max = rto_max
        self.base = initial               # RTO before backoff
        self.backoff = 0                  # expiries since the last new sample

    @property
    def rto(self) -> int:
        return min(self.base << self.backoff, self.rto_max)

    def sample(self, rtt: int) -> None:
        """A measured round trip R (2.2 for the first, 2.3 after); clears backoff
        (5.7: the RTO is recomputed once an ACK acknowledges new data)."""
        rtt = max(rtt, 1)
        if self.srtt is None:
            self.srtt = rtt
            self.rttvar = rtt // 2
        else:
            self.rttvar = (3 * self.rttvar + abs(self.srtt - rtt)) // 4
            self.srtt = (7 * self.srtt + rtt) // 8
        base = self.srtt + max(CLOCK_GRANULARITY_NS, 4 * self.rttvar)
        self.base = max(self.rto_min, min(base, self.rto_max))
        self.backoff = 0

    def expired(self) -> None:
        """The timer went off (5.5): double the RTO, up to rto_max."""
        if self.base << self.backoff < self.rto_max:
            self.backoff += 1


class RttSample:
    """One segment being timed (RFC 6298 3, Karn): the sequence number whose
    acknowledgment ends the measurement and when the segment left; cleared when
    anything is retransmitted, so an ambiguous ACK gives no sample."""

    __slots__ = ("seq", "sent")

    def __init__(self):
        self.seq: int | None = None
        self.sent = 0

    def start(self, seq_end: int, now: int) -> None:
        if self.seq is None:
            self.seq = seq_end
            self.sent = now

    def clear(self) -> None:
        self.seq = None


class Timers:
    """Named deadlines of one connection: `set(name, when)`, `clear(name)`,
    `next()` -> (when, name) of the earliest, or None; `due(now)` -> the names due,
    earliest first."""

    __slots__ = ("deadlines", "hook")

    def __init__(self):
        self.deadlines: dict[str, int] = {}
        self.hook = None                  # hook(when), told of every deadline set

    def set(self, name: str, when: int) -> None:
        self.deadlines[name] = when
        if self.hook is not None:
            self.hook(when)

    def clear(self, name: str) -> None:
        self.deadlines.pop(name, None)

    def clear_all(self) -> None:
        self.deadlines.clear()

    def get(self, name: str) -> int | None:
        return self.deadlines.get(name)

    def next(self) -> tuple[int, str] | None:
        if not self.deadlines:
            return None
        name = min(self.deadlines, key=self.deadlines.__getitem__)
        return self.deadlines[name], name

    def due(self, now: int) -> list[str]:
        names = [n for n, t in self.deadlines.items() if t <= now]
        names.sort(key=self.deadlines.__getitem__)
        return names


class DeadlineHeap:
    """The deadlines of many objects (each with next_deadline()), as a heap of
    (when, serial, object) pushed whenever an object sets a deadline. An entry is
    stale when its object's next deadline is no longer that time (cleared, moved,
    or the object left: `member(obj)` says no); stale entries are dropped when they
    reach the top. So next() and due() cost O(log n), not a pass over n objects."""

    __slots__ = ("heap", "serial", "member")

    def __init__(self, member=None):
        self.heap: list = []
        self.serial = 0
        self.member = member

    def push(self, obj, when: int) -> None:
        self.serial += 1
        heapq.heappush(self.heap, (when, self.serial, obj))

    def _valid(self, when: int, obj) -> bool:
        return (self.member is None or self.member(obj)) and obj.next_deadline() == when

    def next(self) -> int | None:
        heap = self.heap
        while heap:
            when, _, obj = heap[0]
            if self._valid(when, obj):
                return when
            heapq.heappop(heap)
        return None

    def due(self, now: int) -> list:
        """The objects with a deadline at or before now, each once."""
        out, seen = [], set()
        heap = self.heap
        while heap and heap[0][0] <= now:
            when, _, obj = heapq.heappop(heap)
            if id(obj) not in seen and self._valid(when, obj):
                seen.add(id(obj))
                out.append(obj)
        return out
