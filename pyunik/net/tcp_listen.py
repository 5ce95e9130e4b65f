"""A TCP listener (RFC 9293 LISTEN, 3.10.7.2): the SYN queue, the accept queue and
SYN cookies, sans-IO like net/tcp.py.

A SYN makes a TcpConnection in SYN-RECEIVED held in the SYN queue (at most
`config.syn_backlog`, Linux's tcp_max_syn_backlog); the listener passes that
connection's later segments to it, and once the handshake completes the connection
moves to the accept queue (at most backlog + 1 entries, as sk_acceptq_is_full) and
is handed to the stack with `adopt(conn)` so that the stack demultiplexes its
segments from then on. When the accept queue is full a SYN is dropped and a
completing ACK is ignored (the SYN,ACK is sent again later), as Linux without
tcp_abort_on_overflow. When the SYN queue is full, a SYN is answered with a SYN
cookie (RFC 4987 3.6) and no state at all; the ACK that returns a valid cookie makes
an established connection directly (with no window scaling, which a cookie cannot
remember). So a flood of SYNs costs at most syn_backlog half-open connections.

The stack's interface:
  TcpListener(local, emit, backlog, config=None, trace=None, adopt=None,
              on_closed=None)       local = (addr, port); addr b"\\0\\0\\0\\0" is any
                                    address. Children get emit, trace, and on_closed
                                    once adopted.
  segment_arrives(seg, src_addr, dst_addr, now)
                                    a segment for local's port that no connection
                                    took (the listener answers RSTs itself).
  next_deadline(), timer(now)       the SYN queue's SYN,ACK retransmissions.
The socket layer's:
  accept() -> TcpConnection         EAGAIN when none is ready.
  acceptors                          WaitQueue woken (POLLIN) when one is ready.
  poll_events(), set_backlog(n), close(now), info(), counters.

Layer: net, beside net/tcp.py. Calls net/tcp.py, net/tcp_segment.py, wait.py,
errors.py.
"""

from __future__ import annotations

import errno
import hashlib
from typing import Callable

from ..abi.poll import POLLIN, POLLRDNORM
from ..abi.tcp import TCP_INFO_LAYOUT, TCP_REORDERING
from ..errors import KernelError
from ..wait import WaitQueue
from .tcp import TcpConfig, TcpConnection, initial_sequence
from .tcp_rto import DeadlineHeap
from .tcp_segment import (TH_ACK, TH_FIN, TH_RST, TH_SYN, TcpSegment, TcpState,
                          reset_for_unknown, seq_add)

# The MSS values a cookie can carry (3 bits), Linux's msstab and larger ones for
# jumbo frames and loopback; a SYN's MSS is rounded down to one of them.
COOKIE_MSS = (536, 1300, 1440, 1460, 4036, 8960, 16344, 65483)
COOKIE_PERIOD_NS = 64_000_000_000     # a cookie's counter ticks every 64 s
COOKIE_MAX_AGE = 2                    # ticks a cookie stays good (Linux: MAX_SYNCOOKIE_AGE)


class TcpListener:
    """A socket in LISTEN: SYN queue, accept queue, counters."""

    def __init__(self, local: tuple[bytes, int], emit: Callable, backlog: int,
                 config: TcpConfig | None = None, trace: Callable | None = None,
                 adopt: Callable | None = None, on_closed: Callable | None = None):
        self.local = (bytes(local[0]), local[1])
        self.emit = emit
        self.config = config if config is not None else TcpConfig()
        self.trace = trace
        self.adopt = adopt
        self.on_closed = on_closed
        self.state = TcpState.LISTEN
        self.backlog = max(0, backlog)
        # (remote addr, remote port, local addr) -> connection in SYN-RECEIVED
        self.syn_queue: dict[tuple, TcpConnection] = {}
        self.accept_queue: list[TcpConnection] = []
        self.acceptors = WaitQueue("a connection to accept")
        # The SYN queue's deadlines; timer_hook(when) tells the table of each.
        self.deadlines = DeadlineHeap(member=lambda child: child.listener is self)
        self.timer_hook: Callable | None = None
        self.counters = dict.fromkeys((
            "syns", "syncookies_sent", "syncookies_ok", "syncookies_failed",
            "listen_overflows", "listen_drops", "resets_sent"), 0)

    def __repr__(self) -> str:
        return "TcpListener(port %d, %d waiting, %d half-open)" % (
            self.local[1], len(self.accept_queue), len(self.syn_queue))

    def _trace(self, event: str, detail: str) -> None:
        if self.trace is not None:
            self.trace(self, event, detail)

    def set_backlog(self, backlog: int) -> None:
        """listen(2) again on a listening socket changes only the backlog."""
        self.backlog = max(0, backlog)

    def _accept_queue_full(self) -> bool:
        return len(self.accept_queue) > self.backlog

    # ---- segments -----------------------------------------------------------------

    def segment_arrives(self, seg: TcpSegment, src_addr: bytes, dst_addr: bytes,
                        now: int) -> None:
        key = (bytes(src_addr), seg.src_port, bytes(dst_addr))
        child = self.syn_queue.get(key)
        if child is not None:
            self._to_child(child, key, seg, now)
            return
        f = seg.flags
        if f & TH_RST:
            return                                 # 3.10.7.2 first: ignore
        if f & TH_ACK:
            if not f & TH_SYN and self.config.syncookies and self._cookie_ack(
                    seg, src_addr, dst_addr, now):
                return
            self._reset(seg, src_addr, dst_addr)   # second: <SEQ=SEG.ACK><CTL=RST>
            return
        if not f & TH_SYN or f & TH_FIN:
            return                                 # fourth: drop (SYN+FIN too, as Linux)
        self.counters["syns"] += 1
        if self._accept_queue_full():
            self.counters["listen_overflows"] += 1
            self.counters["listen_drops"] += 1
            self._trace("drop", "SYN: accept queue full")
            return
        if len(self.syn_queue) >= self.config.syn_backlog:
            if self.config.syncookies:
                self._send_cookie(seg, src_addr, dst_addr, now)
            else:
                self.counters["listen_drops"] += 1
                self._trace("drop", "SYN: SYN queue full")
            return
        local = (bytes(dst_addr), self.local[1])
        remote = (bytes(src_addr), seg.src_port)
        child = TcpConnection(local, remote, self.emit, self.config, self.trace,
                              on_closed=self._child_closed)
        child.listener = self
        child.timers.hook = lambda when, c=child: self._child_timer(c, when)
        self.syn_queue[key] = child
        child.passive_open(seg, initial_sequence(self.config, local, remote, now), now)

    def _to_child(self, child: TcpConnection, key, seg: TcpSegment, now: int) -> None:
        completes = seg.flags & (TH_ACK | TH_RST | TH_SYN) == TH_ACK
        if completes and self._accept_queue_full():
            self.counters["listen_overflows"] += 1
            self._trace("drop", "ACK: accept queue full")
            return
        child.segment_arrives(seg, now)
        if child.state not in (TcpState.SYN_RECV, TcpState.CLOSE):
            self._ready(child)

    def _child_timer(self, child: TcpConnection, when: int) -> None:
        self.deadlines.push(child, when)
        if self.timer_hook is not None:
            self.timer_hook(when)

    def _child_closed(self, child: TcpConnection) -> None:
        """A connection in the SYN queue timed out or was reset (it goes), or one
        in the accept queue closed before any accept (the stack forgets it)."""
        key = (child.remote[0], child.remote[1], child.local[0])
        if self.syn_queue.get(key) is child:
            del self.syn_queue[key]
        elif self.on_closed is not None:
            self.on_closed(child)      # it stays queued: accept returns it (as Linux)

    def _ready(self, child: TcpConnection) -> None:
        key = (child.remote[0], child.remote[1], child.local[0])
        self.syn_queue.pop(key, None)
        child.listener = None
        child.timers.hook = None                   # the stack's table times it now
        child.on_closed = self._child_closed      # until accept() takes it
        self.accept_queue.append(child)
        if self.adopt is not None:
            self.adopt(child)
        self.acceptors.wake_all(POLLIN | POLLRDNORM)

    def _reset(self, seg: TcpSegment, src_addr: bytes, dst_addr: bytes) -> None:
        rst = reset_for_unknown(seg)
        if rst is not None:
            self.counters["resets_sent"] += 1
            self.emit(bytes(dst_addr), bytes(src_addr), rst)

    # ---- SYN cookies ----------------------------------------------------------------

    def _cookie_hash(self, src, sport, dst, dport, peer_isn: int, count: int) -> int:
        material = (bytes(src) + bytes(dst) + sport.to_bytes(2, "big")
                    + dport.to_bytes(2, "big") + peer_isn.to_bytes(4, "big")
                    + (count & 0xFFFFFFFF).to_bytes(4, "big"))
        h = hashlib.blake2s(material, key=self.config.secret[:32], digest_size=3)
        return int.from_bytes(h.digest(), "big")

    def _send_cookie(self, seg: TcpSegment, src_addr, dst_addr, now: int) -> None:
        """A SYN,ACK whose ISN is the cookie: count (5 bits), MSS index (3 bits),
        a keyed hash of the 4-tuple, the peer's ISN and count (24 bits)."""
        count = now // COOKIE_PERIOD_NS
        mss = min(seg.mss or 536, self.config.mss)
        index = max(i for i, m in enumerate(COOKIE_MSS) if m <= mss or i == 0)
        cookie = ((count & 0x1F) << 27) | (index << 24) | self._cookie_hash(
            src_addr, seg.src_port, dst_addr, seg.dst_port, seg.seq, count)
        reply = TcpSegment(seg.dst_port, seg.src_port, cookie, seq_add(seg.seq, 1),
                           TH_SYN | TH_ACK, min(self.config.rcvbuf, 0xFFFF),
                           mss=COOKIE_MSS[index])
        self.counters["syncookies_sent"] += 1
        self.emit(bytes(dst_addr), bytes(src_addr), reply)

    def _cookie_ack(self, seg: TcpSegment, src_addr, dst_addr, now: int) -> bool:
        """An ACK that returns a cookie we sent: an established connection."""
        cookie = seq_add(seg.ack, -1)
        peer_isn = seq_add(seg.seq, -1)
        count = now // COOKIE_PERIOD_NS
        for age in range(COOKIE_MAX_AGE):
            c = count - age
            if (cookie >> 27) != (c & 0x1F):
                continue
            if (cookie & 0xFFFFFF) == self._cookie_hash(src_addr, seg.src_port, dst_addr,
                                                        seg.dst_port, peer_isn, c):
                break
        else:
            self.counters["syncookies_failed"] += 1
            return False
        if self._accept_queue_full():
            self.counters["listen_overflows"] += 1
            return True                            # dropped: the peer will send again
        self.counters["syncookies_ok"] += 1
        local = (bytes(dst_addr), self.local[1])
        remote = (bytes(src_addr), seg.src_port)
        child = TcpConnection(local, remote, self.emit, self.config, self.trace)
        child.cookie_open(seg, cookie, COOKIE_MSS[(cookie >> 24) & 7], now)
        self._ready(child)
        if seg.payload or seg.flags & TH_FIN:
            child.segment_arrives(seg, now)
        return True

    # ---- the socket's calls ----------------------------------------------------------

    def accept(self) -> TcpConnection:
        if not self.accept_queue:
            raise KernelError(errno.EAGAIN)
        child = self.accept_queue.pop(0)
        if child.state != TcpState.CLOSE:
            child.on_closed = self.on_closed
        return child

    def poll_events(self) -> int:
        return POLLIN | POLLRDNORM if self.accept_queue else 0

    def close(self, now: int) -> None:
        """inet_csk_listen_stop: half-open connections go quietly, those never
        accepted are reset."""
        for child in list(self.syn_queue.values()):
            child.on_closed = None
            child._enter_closed(0, now)
        self.syn_queue.clear()
        for child in list(self.accept_queue):
            child.abort(now)
        self.accept_queue.clear()
        self.state = TcpState.CLOSE
        self.acceptors.wake_all()

    def next_deadline(self) -> int | None:
        return self.deadlines.next()

    def timer(self, now: int) -> None:
        for child in self.deadlines.due(now):
            child.timer(now)

    def tcp_info(self, now: int) -> bytes:
        """TCP_INFO of a listener: tcpi_unacked is the accept queue's length,
        tcpi_sacked the backlog (tcp_get_info's aliases)."""
        return TCP_INFO_LAYOUT.pack(
            int(TcpState.LISTEN), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            len(self.accept_queue), self.backlog, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, self.config.initial_cwnd, 0, TCP_REORDERING, 0, 0, 0)

    def info(self) -> dict:
        """/proc/net/tcp's LISTEN row: rx_queue is the accept queue's length (and
        ss's Send-Q the backlog)."""
        return dict(state=TcpState.LISTEN, local=self.local, remote=(b"\0\0\0\0", 0),
                    tx_queue=0, rx_queue=len(self.accept_queue), backlog=self.backlog,
                    syn_queue=len(self.syn_queue), timer_active=0, timer_expires=None,
                    retransmits=0, **self.counters)
