"""The TCP demultiplexer of one stack: which connection or listener a segment is
for, and the RST for a segment nobody takes (RFC 9293 3.10.7.1).

An IPv4 stack keeps one `TcpTable`. For every TCP segment it has decoded
(`decode_segment`, net/tcp_segment.py; a MalformedSegment is counted and dropped)
it calls `segment_arrives(seg, src_addr, dst_addr, now)`; the table looks up the
4-tuple, then a listener on (dst_addr, port), then one on (0.0.0.0, port), else
answers with a RST through `emit`. Connections the table made (`connection()`) or a
listener accepted are registered here and leave it by themselves when they reach
CLOSED (their on_closed hook). The socket layer makes its objects through the table:
  table.connection(local, remote, config=None) -> TcpConnection (then .connect(now))
  table.listen(local, backlog, config=None)    -> TcpListener
  table.unlisten(listener, now)                 the listener's close
  table.in_use(local, remote=None)              is the address (pair) taken
and the stack reports ICMP destination-unreachable errors about segments it sent with
`icmp_error(local, remote, seq, err, now)` (the quoted header's ports and sequence
number, err from icmp_err_convert; "fragmentation needed" is path MTU's, not this).
and the run loop asks `next_deadline()` and calls `timer(now)`. `entries()` lists
every listener and connection (TIME-WAIT included); `proc_net_tcp(now, owner)` is
/proc/net/tcp's text in tcp4_seq_show's layout (owner(obj) -> (uid, inode) is the
socket layer's; kernel pointers print as zeros, as under kptr_restrict);
`set_trace(write)` gives `--trace tcp` its lines.

Layer: net, between the IPv4 stack and net/tcp.py, net/tcp_listen.py.
"""

from __future__ import annotations

from typing import Callable

from ..abi.proc import USER_HZ
from ..abi.tcp import (PROC_NET_TCP_HEADER, PROC_NET_TCP_LINE, PROC_NET_TCP_OPENREQ,
                       PROC_NET_TCP_TIMEWAIT, PROC_NET_TCP_WIDTH)
from .tcp import TcpConfig, TcpConnection, endpoint_name
from .tcp_listen import TcpListener
from .tcp_rto import DeadlineHeap
from .tcp_segment import TcpSegment, TcpState, reset_for_unknown

ANY = b"\0\0\0\0"


class TcpTable:
    """Connections by (local addr, local port, remote addr, remote port); listeners
    by (local addr, local port)."""

    def __init__(self, emit: Callable, config: TcpConfig | None = None,
                 trace: Callable | None = None):
        self.emit = emit                 # emit(src_addr, dst_addr, seg)
        self.config = config if config is not None else TcpConfig()
        self.trace = trace
        self.connections: dict[tuple, TcpConnection] = {}
        self.listeners: dict[tuple, TcpListener] = {}
        self.counters = dict.fromkeys(("segments_in", "resets_sent", "no_socket"), 0)
        self.deadlines = DeadlineHeap(member=self._registered)

    @staticmethod
    def _key(local, remote) -> tuple:
        return (bytes(local[0]), local[1], bytes(remote[0]), remote[1])

    def connection(self, local, remote, config: TcpConfig | None = None) -> TcpConnection:
        conn = TcpConnection(local, remote, self.emit, config or self.config,
                             self.trace, on_closed=self._release)
        self._register(conn)
        return conn

    def listen(self, local, backlog: int, config: TcpConfig | None = None) -> TcpListener:
        listener = TcpListener(local, self.emit, backlog, config or self.config,
                               self.trace, adopt=self._adopt, on_closed=self._release)
        self.listeners[(bytes(local[0]), local[1])] = listener
        listener.timer_hook = lambda when, obj=listener: self.deadlines.push(obj, when)
        return listener

    def unlisten(self, listener: TcpListener, now: int) -> None:
        key = (listener.local[0], listener.local[1])
        if self.listeners.get(key) is listener:
            del self.listeners[key]
        listener.close(now)

    def in_use(self, local, remote=None) -> bool:
        if remote is not None:
            return self._key(local, remote) in self.connections
        port = local[1]
        return any(k[1] == port and (k[0] == bytes(local[0]) or ANY in (k[0], bytes(local[0])))
                   for k in list(self.listeners) + list(self.connections))

    def _register(self, conn: TcpConnection) -> None:
        self.connections[self._key(conn.local, conn.remote)] = conn
        conn.timers.hook = lambda when, obj=conn: self.deadlines.push(obj, when)

    def _adopt(self, conn: TcpConnection) -> None:
        self._register(conn)
        when = conn.next_deadline()
        if when is not None:
            self.deadlines.push(conn, when)

    def _registered(self, obj) -> bool:
        if isinstance(obj, TcpListener):
            return self.listeners.get((obj.local[0], obj.local[1])) is obj
        return self.connections.get(self._key(obj.local, obj.remote)) is obj

    def _release(self, conn: TcpConnection) -> None:
        key = self._key(conn.local, conn.remote)
        if self.connections.get(key) is conn:
            del self.connections[key]

    def segment_arrives(self, seg: TcpSegment, src_addr: bytes, dst_addr: bytes,
                        now: int) -> None:
        self.counters["segments_in"] += 1
        key = (bytes(dst_addr), seg.dst_port, bytes(src_addr), seg.src_port)
        conn = self.connections.get(key)
        if conn is not None and not conn.segment_arrives(seg, now):
            return
        listener = (self.listeners.get((bytes(dst_addr), seg.dst_port))
                    or self.listeners.get((ANY, seg.dst_port)))
        if listener is not None:
            listener.segment_arrives(seg, src_addr, dst_addr, now)
            return
        self.counters["no_socket"] += 1
        rst = reset_for_unknown(seg)
        if rst is not None:
            self.counters["resets_sent"] += 1
            self.emit(bytes(dst_addr), bytes(src_addr), rst)

    def set_trace(self, write: Callable[[str], None] | None) -> None:
        """--trace tcp: write(line) for every state change, retransmission, timeout,
        probe, reset, challenge ACK and drop of this table's connections and
        listeners, now and later; None stops it. A line reads
        `tcp 10.0.2.15:40000 > 10.0.2.2:80 state SYN-SENT -> ESTABLISHED`."""
        def trace(obj, event: str, detail: str) -> None:
            if isinstance(obj, TcpListener):
                who = "%s (listening)" % endpoint_name(obj.local)
            else:
                who = "%s > %s" % (endpoint_name(obj.local), endpoint_name(obj.remote))
            write("tcp %s %s %s" % (who, event, detail))
        self.trace = trace if write is not None else None
        for obj in self._objects():
            obj.trace = self.trace
            if isinstance(obj, TcpListener):
                for child in obj.syn_queue.values():
                    child.trace = self.trace

    def icmp_error(self, local, remote, seq: int, err: int, now: int) -> None:
        conn = self.connections.get(self._key(local, remote))
        if conn is None:
            listener = (self.listeners.get((bytes(local[0]), local[1]))
                        or self.listeners.get((ANY, local[1])))
            if listener is None:
                return
            conn = listener.syn_queue.get((bytes(remote[0]), remote[1], bytes(local[0])))
            if conn is None or seq != conn.iss:
                return                             # tcp_req_err: only about our SYN,ACK
        conn.icmp_error(seq, err, now)

    def next_deadline(self) -> int | None:
        return self.deadlines.next()

    def timer(self, now: int) -> None:
        for obj in self.deadlines.due(now):
            obj.timer(now)

    def _objects(self) -> list:
        return list(self.listeners.values()) + list(self.connections.values())

    def entries(self) -> list[dict]:
        """info() of every listener, then every connection."""
        return [o.info() for o in self._objects()]


    def proc_net_tcp(self, now: int, owner: Callable | None = None) -> str:
        """/proc/net/tcp: listeners, their half-open connections, then connections
        (net/ipv4/tcp_ipv4.c: get_tcp4_sock, get_openreq4, get_timewait4_sock)."""
        lines = [PROC_NET_TCP_HEADER]
        for listener in list(self.listeners.values()):
            lines.append(_socket_line(len(lines) - 1, listener, now, owner))
            for child in list(listener.syn_queue.values()):
                lines.append(_openreq_line(len(lines) - 1, child, now, owner))
        for conn in list(self.connections.values()):
            if conn.state == TcpState.TIME_WAIT:
                lines.append(_timewait_line(len(lines) - 1, conn, now))
            else:
                lines.append(_socket_line(len(lines) - 1, conn, now, owner))
        return "".join("%-*s\n" % (PROC_NET_TCP_WIDTH, line) for line in lines)


def _ticks(ns: int) -> int:
    """jiffies_to_clock_t: ns in USER_HZ ticks (never negative)."""
    return max(0, ns) * USER_HZ // 1_000_000_000


def _endpoints(obj) -> tuple:
    (la, lp), (ra, rp) = obj.local, getattr(obj, "remote", (b"\0\0\0\0", 0))
    # The address is the __be32 printed as a host (little-endian) int, the port not.
    return (int.from_bytes(la, "little"), lp, int.from_bytes(ra, "little"), rp)


def _socket_line(i: int, obj, now: int, owner) -> str:
    info = obj.info()
    uid, inode = owner(obj) if owner is not None else (0, 0)
    expires = info["timer_expires"]
    when = _ticks(expires - now) if expires is not None else 0
    if info["state"] == TcpState.LISTEN:
        tail = (_ticks(obj.config.rto_initial_ns), 0, 0, 10, 0)   # fastopen qlen last
    else:
        mss = max(1, info["snd_mss"])
        ssthresh = -1 if info["snd_ssthresh"] >= 1 << 30 else info["snd_ssthresh"] // mss
        cwnd = info["snd_cwnd"] // mss
        tail = (_ticks(info["rto"]), _ticks(obj.config.delayed_ack_ns), 0, cwnd, ssthresh)
    return PROC_NET_TCP_LINE % ((i,) + _endpoints(obj) + (
        int(info["state"]), info["tx_queue"], info["rx_queue"], info["timer_active"], when,
        info["retransmits"], uid, info.get("probes", 0), inode, 1, 0) + tail)


def _openreq_line(i: int, child, now: int, owner) -> str:
    uid = owner(child)[0] if owner is not None else 0
    expires = child.next_deadline()
    when = _ticks(expires - now) if expires is not None else 0
    return PROC_NET_TCP_OPENREQ % ((i,) + _endpoints(child) + (
        int(TcpState.SYN_RECV), 0, 0, 1, when, child.retransmits, uid, 0, 0, 0, 0))


def _timewait_line(i: int, conn, now: int) -> str:
    expires = conn.next_deadline()
    when = _ticks(expires - now) if expires is not None else 0
    return PROC_NET_TCP_TIMEWAIT % ((i,) + _endpoints(conn) + (
        int(TcpState.TIME_WAIT), 0, 0, 3, when, 0, 0, 0, 0, 3, 0))
