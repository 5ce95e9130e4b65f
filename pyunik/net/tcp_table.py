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
and the run loop asks `next_deadline()` and calls `timer(now)`. `entries()` lists
every listener and connection (TIME-WAIT included) for /proc/net/tcp.

Layer: net, between the IPv4 stack and net/tcp.py, net/tcp_listen.py.
"""

from __future__ import annotations

from typing import Callable

from .tcp import TcpConfig, TcpConnection
from .tcp_listen import TcpListener
from .tcp_segment import TcpSegment, reset_for_unknown

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

    @staticmethod
    def _key(local, remote) -> tuple:
        return (bytes(local[0]), local[1], bytes(remote[0]), remote[1])

    def connection(self, local, remote, config: TcpConfig | None = None) -> TcpConnection:
        conn = TcpConnection(local, remote, self.emit, config or self.config,
                             self.trace, on_closed=self._release)
        self.connections[self._key(local, remote)] = conn
        return conn

    def listen(self, local, backlog: int, config: TcpConfig | None = None) -> TcpListener:
        listener = TcpListener(local, self.emit, backlog, config or self.config,
                               self.trace, adopt=self._adopt, on_closed=self._release)
        self.listeners[(bytes(local[0]), local[1])] = listener
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

    def _adopt(self, conn: TcpConnection) -> None:
        self.connections[self._key(conn.local, conn.remote)] = conn

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

    def next_deadline(self) -> int | None:
        times = [t for t in (o.next_deadline() for o in self._objects()) if t is not None]
        return min(times) if times else None

    def timer(self, now: int) -> None:
        for obj in self._objects():
            t = obj.next_deadline()
            if t is not None and t <= now:
                obj.timer(now)

    def _objects(self) -> list:
        return list(self.listeners.values()) + list(self.connections.values())

    def entries(self) -> list[dict]:
        """info() of every listener, then every connection."""
        return [o.info() for o in self._objects()]

