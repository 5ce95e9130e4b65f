"""A datagram receive queue: what a UDP or ICMP socket has been sent and not yet
read, with the WaitQueue a reader parks on (sockets raise WouldBlock(queue.readable)
when it is empty) and the error an ICMP message left for the next call.

Owned by the socket that binds it in a stack; the stack only calls deliver() and
set_error(). Bounded by bytes (SO_RCVBUF), as Linux's sk_rcvbuf: past it, datagrams
are dropped and counted.

Layer: net. Calls pyunik/wait.py only.
"""

from __future__ import annotations

from collections import deque

from ..wait import WaitQueue


class Datagram:
    __slots__ = ("src", "sport", "dst", "dport", "payload")

    def __init__(self, src: bytes, sport: int, dst: bytes, dport: int, payload: bytes):
        self.src, self.sport, self.dst, self.dport, self.payload = src, sport, dst, dport, payload


class DatagramQueue:
    def __init__(self, limit: int = 212992, what: str = "a datagram"):
        self.items: deque[Datagram] = deque()
        self.bytes = 0
        self.limit = limit             # SO_RCVBUF (Linux's default rmem_default)
        self.dropped = 0
        self.error = 0                 # errno an ICMP error left (ECONNREFUSED, ...)
        self.report_errors = False     # the socket is connected (or asked IP_RECVERR)
        self.readable = WaitQueue(what)

    def deliver(self, d: Datagram) -> bool:
        """Queue d; False if the queue was full and it was dropped."""
        if self.bytes + len(d.payload) > self.limit and self.items:
            self.dropped += 1
            return False
        self.items.append(d)
        self.bytes += len(d.payload)
        self.readable.wake_all()
        return True

    def set_error(self, errno_value: int) -> None:
        self.error = errno_value
        self.readable.wake_all()

    def take_error(self) -> int:
        e, self.error = self.error, 0
        return e

    def peek(self) -> Datagram | None:
        return self.items[0] if self.items else None

    def pop(self) -> Datagram | None:
        if not self.items:
            return None
        d = self.items.popleft()
        self.bytes -= len(d.payload)
        return d
