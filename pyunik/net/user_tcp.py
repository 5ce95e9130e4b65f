"""TCP through the user-mode network: the NAT stack's TCP (net/tcp_table.py) ends the
guest's connections, and each is paired with a host socket, bytes copied both ways.

- A guest SYN to 10.0.2.2:P (or, with outbound=on, to any address but 10.0.2.3) makes
  a non-blocking host connect to 127.0.0.1:P (or that address). The SYN waits until
  the host connect is done: then a listener takes it and the handshake goes on, so a
  guest's connect succeeds only once the host side is open; a refused or failed host
  connect answers the SYN with RST (the guest sees ECONNREFUSED), as slirp does. A
  SYN to anything else is answered with RST by the table, and no host socket is made.
- hostfwd=tcp:HOSTADDR:HOSTPORT-:GUESTPORT: a listening host socket; each host
  connection accepted there makes a connection from 10.0.2.2 to the guest's port.

Data is copied with back-pressure: a side is read only while what waits for the
other side is under `window` bytes. An end of stream on one side is a shutdown of
writing on the other; when both are done (or either resets) the pair is closed.
A host socket held back (or at its end) is left out of `host_fds()`, the fds the
scheduler's idle wait polls: it stays readable and would end every wait at once.
The other way, what the guest sent waits (up to `window` bytes, then the guest's
TCP window closes) until the host socket's send buffer takes it: while it waits,
`host_fds()` names the socket for POLLOUT, so the idle wait wakes as soon as the
host peer reads, not when a TCP timer next fires.

Host sockets are watched by one poll object: each poll asks it once (a single
poll(2) with a zero timeout) which are ready, and only those are read, accepted or
finished; a host socket with nothing for us costs no failed recv or accept (each
an exception in Python, and the NAT polls on every socket call of the guest).

Layer: net. Calls net/tcp_table.py, net/tcp_segment.py, net/stack.py and the host's
socket module (non-blocking sockets only).
"""

from __future__ import annotations

import errno
import select
import socket

from ..abi.ip import IPHDR
from ..abi.poll import POLLIN, POLLOUT
from ..abi.tcp import TCP_HEADER_LEN, TH_ACK, TH_RST, TH_SYN
from ..errors import KernelError
from .stack import ip
from .tcp_segment import MalformedSegment, TcpState, decode_segment
from .tcp import TcpConfig
from .tcp_table import TcpTable



class Pair:
    """One guest connection and its host socket, and what waits to go each way."""

    def __init__(self, conn, sock: socket.socket, window: int):
        self.conn = conn
        self.sock = sock
        self.fd = sock.fileno()        # kept: the poll object knows it by number
        self.window = window
        # The guest's TCP already chose whether to hold small writes back (Nagle or
        # TCP_NODELAY); the host side passes on what arrives as it arrives, else its
        # Nagle waits on the host peer's delayed ACK (40 ms) after every small answer.
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.to_guest = b""
        self.to_host = b""
        self.host_eof = False          # the host side sent its last byte (recv gave b"")
        self.guest_eof = False         # the guest side did
        self.guest_shut = False        # we shut the guest connection's writing
        self.host_shut = False         # and the host socket's
        self.closed = False

    def pump(self, now: int, readable: bool = True) -> bool:
        """Copy what can be copied; False once the pair is done and closed.
        readable: the host socket was reported ready to read (or in error)."""
        conn = self.conn
        if conn.state == TcpState.SYN_SENT or conn.state == TcpState.SYN_RECV:
            return True
        if conn.state == TcpState.CLOSE and conn.take_error():
            return self._close(reset=True, now=now)
        # host -> guest
        while readable and not self.host_eof and len(self.to_guest) < self.window:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            except OSError:
                return self._close(reset=True, now=now)
            if not data:
                self.host_eof = True
                break
            self.to_guest += data
            readable = len(data) == 65536      # a short read took all there was
        while self.to_guest:
            try:
                n = conn.send(self.to_guest, now)
            except KernelError as e:
                if e.errno == errno.EAGAIN:
                    break
                return self._close(reset=True, now=now)
            self.to_guest = self.to_guest[n:]
        if self.host_eof and not self.to_guest and not self.guest_shut:
            self.guest_shut = True
            try:
                conn.shutdown(socket.SHUT_WR, now)   # Linux's value, as the host's
            except KernelError:
                pass
        # guest -> host
        while not self.guest_eof and len(self.to_host) < self.window:
            try:
                data = conn.recv(65536, now)
            except KernelError as e:
                if e.errno == errno.EAGAIN:
                    break
                return self._close(reset=True, now=now)
            if not data:
                self.guest_eof = True
                break
            self.to_host += data
        while self.to_host:
            try:
                n = self.sock.send(self.to_host)
            except BlockingIOError:
                break
            except OSError:
                return self._close(reset=True, now=now)
            self.to_host = self.to_host[n:]
        if self.guest_eof and not self.to_host and not self.host_shut:
            self.host_shut = True
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        if self.host_shut and self.guest_shut:
            return self._close(reset=False, now=now)
        return True

    def _close(self, reset: bool, now: int) -> bool:
        if not self.closed:
            self.closed = True
            if reset:
                self.conn.abort(now)
            else:
                self.conn.close(now)
            self.sock.close()
        return False

    def host_fd(self) -> int:
        return -1 if self.closed else self.sock.fileno()

    def reading(self) -> bool:
        """The host socket is read when it is ready: open, not at its end, and what
        waits for the guest under the window. A socket held back (or at its end)
        stays readable, and would end every wait on it at once."""
        return not self.closed and not self.host_eof and len(self.to_guest) < self.window

    def host_events(self) -> int:
        """What the idle wait watches the host socket for: POLLIN while it is read
        (reading()), POLLOUT while what the guest sent waits for its send buffer."""
        if self.closed:
            return 0
        return (POLLIN if self.reading() else 0) | (POLLOUT if self.to_host else 0)


class NatTcp:
    """The NAT stack's TCP: the table, the SYNs waiting for a host connect, the host
    sockets waiting for the guest's handshake to finish, and the pairs."""

    def __init__(self, net, window: int = 256 * 1024, backlog: int = 64,
                 max_connections: int = 512, handshake_timeout: int = 120 * 10**9):
        self.net = net
        self.stack = net.stack
        self.window = window
        self.backlog = backlog
        # Host sockets are the host's: a guest (or a host peer) opening connections
        # without end is refused past max_connections, and a host connection whose
        # guest handshake never completes is closed after handshake_timeout.
        self.max_connections = max_connections
        self.handshake_timeout = handshake_timeout
        eth0 = self.stack.interfaces["eth0"]
        gso = getattr(eth0.link, "gso_max_size", 0)
        self.table = TcpTable(self.stack.tcp_emit, TcpConfig(
            mss=eth0.mtu - IPHDR.size - TCP_HEADER_LEN,
            gso_max=max(0, gso - IPHDR.size - TCP_HEADER_LEN)))
        self.stack.attach_tcp(self, decode_segment, MalformedSegment)
        self.connecting: dict[tuple, tuple] = {}   # 4-tuple -> (sock, seg, src, dst)
        self.waiting: dict[tuple, tuple] = {}    # 4-tuple -> (connected host sock, since)
        self.pairs: list[Pair] = []
        self.forwards: list[tuple] = []          # (Forward, listening host socket)
        # Every open host socket but the waiting ones, by fd: listening and paired
        # sockets for reading, connecting ones for writing; ready: the last answer.
        self.poller = select.poll()
        self.ready: dict[int, int] = {}

    # --- what the stack calls (TcpTable's face) -----------------------------------------

    def segment_arrives(self, seg, src: bytes, dst: bytes, now: int) -> None:
        key = (bytes(dst), seg.dst_port, bytes(src), seg.src_port)
        if key not in self.table.connections and seg.flags & (TH_SYN | TH_ACK | TH_RST) == TH_SYN:
            if key in self.connecting:
                return                         # a retransmitted SYN: still connecting
            if key not in self.waiting:
                target = self.net.tcp_target(bytes(dst), seg.dst_port)
                if target is not None and self._connect(key, target, seg, src, dst):
                    return
        self.table.segment_arrives(seg, src, dst, now)

    def next_deadline(self):
        return self.table.next_deadline()

    def timer(self, now: int) -> None:
        self.table.timer(now)

    def in_use(self, local, remote=None) -> bool:
        return self.table.in_use(local, remote)

    # --- host sockets -------------------------------------------------------------------

    def connections(self) -> int:
        return len(self.connecting) + len(self.waiting) + sum(not p.closed for p in self.pairs)

    def _connect(self, key, target, seg, src, dst) -> bool:
        if self.connections() >= self.max_connections:
            return False                       # refused: the table answers with RST
        sock = self.net.host_socket(socket.SOCK_STREAM)
        err = sock.connect_ex(target)
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            return False                       # the table answers the SYN with RST
        self.connecting[key] = (sock, seg, bytes(src), bytes(dst))
        self.poller.register(sock.fileno(), select.POLLOUT)
        return True

    def listen_forward(self, forward) -> None:
        sock = self.net.host_socket(socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((forward.host_addr, forward.host_port))
            sock.listen(self.backlog)
        except OSError:
            sock.close()
            raise
        self.forwards.append((forward, sock))
        self.poller.register(sock.fileno(), select.POLLIN)

    def host_fds(self) -> list[tuple[int, int]]:
        """The host fds worth waiting on, with their poll events: the forwards'
        listening sockets while another connection may be taken (POLLIN), the
        connects in progress (POLLOUT), and the pairs' sockets as Pair.host_events
        says: a socket pump() would leave ready makes the scheduler's idle wait
        return at once, again and again."""
        full = self.connections() >= self.max_connections
        fds = [(s.fileno(), POLLIN) for _, s in self.forwards if not full]
        fds += [(v[0].fileno(), POLLOUT) for v in self.connecting.values()]
        for p in self.pairs:
            events = p.host_events()
            if events:
                fds.append((p.fd, events))
        return fds

    def poll(self, now: int) -> None:
        self.ready = dict(self.poller.poll(0))
        self._finish_connects(now)
        self._accept_guest(now)
        self._expire_waiting(now)
        self._accept_host(now)
        ready = self.ready
        pairs = []
        for p in self.pairs:
            if p.pump(now, p.fd in ready):
                pairs.append(p)
            else:
                self.poller.unregister(p.fd)
        self.pairs = pairs

    def _pair(self, conn, sock: socket.socket) -> None:
        pair = Pair(conn, sock, self.window)
        self.pairs.append(pair)
        self.poller.register(pair.fd, select.POLLIN)

    def _finish_connects(self, now: int) -> None:
        if not self.connecting:
            return
        socks = {v[0].fileno(): k for k, v in self.connecting.items()}
        for fd in [fd for fd in socks if fd in self.ready]:
            self.poller.unregister(fd)
            key = socks[fd]
            sock, seg, src, dst = self.connecting.pop(key)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                sock.close()                   # refused: the SYN gets a RST
            else:
                self.waiting[key] = (sock, now)
                if (dst, seg.dst_port) not in self.table.listeners:
                    self.table.listen((dst, seg.dst_port), self.backlog)
            self.table.segment_arrives(seg, src, dst, now)

    def _accept_guest(self, now: int) -> None:
        for key_local, listener in list(self.table.listeners.items()):
            while True:
                try:
                    conn = listener.accept()
                except KernelError:
                    break
                key = (conn.local[0], conn.local[1], conn.remote[0], conn.remote[1])
                entry = self.waiting.pop(key, None)
                if entry is None:
                    conn.abort(now)
                    continue
                self._pair(conn, entry[0])
            if not any(k[:2] == key_local for k in self.waiting):
                self.table.unlisten(listener, now)

    def _expire_waiting(self, now: int) -> None:
        for key in [k for k, (_, since) in self.waiting.items()
                    if now - since > self.handshake_timeout]:
            self.waiting.pop(key)[0].close()

    def _accept_host(self, now: int) -> None:
        for forward, lsock in self.forwards:
            if lsock.fileno() not in self.ready:
                continue
            for _ in range(self.backlog):
                if self.connections() >= self.max_connections:
                    return                     # the rest wait in the host's backlog
                try:
                    sock, _ = lsock.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                sock.setblocking(False)
                gateway = self.net.gateway
                port = self.stack.ephemeral_port(6, gateway)
                conn = self.table.connection((gateway, port),
                                             (ip(forward.guest_addr), forward.guest_port))
                conn.connect(now)
                self._pair(conn, sock)

    def close(self) -> None:
        for sock, *_ in self.connecting.values():
            sock.close()
        for sock, _ in self.waiting.values():
            sock.close()
        for p in self.pairs:
            if not p.closed:
                p.sock.close()
        for _, sock in self.forwards:
            sock.close()
