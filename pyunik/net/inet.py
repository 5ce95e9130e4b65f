"""AF_INET sockets (net/ipv4/af_inet.c, tcp.c, udp.c): SOCK_STREAM over the stack's
TCP table (net/tcp_table.py, net/tcp.py, net/tcp_listen.py) and SOCK_DGRAM over its
UDP ports (net/stack.py, net/datagram.py).

The stack is the kernel's network (net/network.py, made on the first AF_INET
socket: lo 127.0.0.1/8 with TCP, and eth0 once --net gives a card), reached through
`NetNamespace.network`. Sans-IO below, so this layer moves time: every operation
runs `net.pump()` (the stack's poll at the current monotonic time, which also
delivers what went over loopback) before it looks and after it acted, and the
namespace keeps a kernel timer armed at the stack's next deadline (TCP's
retransmissions, delayed ACKs, TIME-WAIT) so timers run while every thread waits.
A call that must wait raises WouldBlock on the TCP object's queues (`readers`,
`writers`, `acceptors`) or the datagram queue's `readable`, with the network's host
fds, as the socket layer's blocking rules say (net/socket.py).

IPPROTO_ICMP datagram sockets (ping) are net/ping_socket.py, raw sockets (for a
caller with CAP_NET_RAW) net/raw_socket.py. Not done: IP options (SOL_IP is
ENOPROTOOPT but for IP_TTL and IP_TOS, kept; IP_HDRINCL on raw sockets), multicast,
MSG_OOB but on TCP (EOPNOTSUPP; TCP's urgent data is net/tcp_urgent.py); setting
TCP_MAXSEG, TCP_CORK, TCP_QUICKACK or TCP_USER_TIMEOUT is ENOPROTOOPT (the stack has
no user MSS clamp, cork, quick-ack switch or user timeout). SO_KEEPALIVE and
TCP_KEEPIDLE/KEEPINTVL/KEEPCNT reach the connection's keepalive timer, and an
accepted socket inherits them (and SO_OOBINLINE) from its listener, as sk_clone_lock
copies them.

Layer: net. Called by kernel/syscalls/net.py; calls net/socket.py, net/network.py's
stack and TCP objects.
"""

from __future__ import annotations

import errno

from ..abi.capability import CAP_NET_RAW
from ..abi import inet as I
from ..abi import socket as S
from ..abi import tcp as T
from ..abi.tcp import TCP_CLOSE, TCP_INFO_LAYOUT
from ..abi import netdevice as D
from ..abi.signal import SIGURG
from ..abi.poll import POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM
from ..errors import KernelError
from ..fs.file import TRANSFER_CHUNK
from ..wait import WouldBlock
from .socket import Socket, Transfer, family_of

ANY = b"\0\0\0\0"


def sockaddr_in(addr: bytes, port: int) -> bytes:
    return I.SOCKADDR_IN.pack(S.AF_INET, port.to_bytes(2, "big"), addr)


def parse_sockaddr_in(addr: bytes, unspec_any: bool = False) -> tuple[bytes, int]:
    """(address, port) of a sockaddr_in: EINVAL if short, EAFNOSUPPORT for another
    family (AF_UNSPEC with INADDR_ANY passes where bind allows it)."""
    if len(addr) < I.SOCKADDR_IN.size:
        raise KernelError(errno.EINVAL)
    family, port, ip = I.SOCKADDR_IN.unpack_from(addr)
    if family != S.AF_INET and not (unspec_any and family == S.AF_UNSPEC and ip == ANY):
        raise KernelError(errno.EAFNOSUPPORT)
    return ip, int.from_bytes(port, "big")


class Discard:
    """An IovIter's face for tcp_recvmsg's MSG_TRUNC: room for `count` bytes that
    are counted and dropped, the guest's buffers never written."""

    __slots__ = ("count", "faulted")

    def __init__(self, count: int):
        self.count = count
        self.faulted = False

    def copy_out(self, data) -> int:
        n = min(len(data), self.count)
        self.count -= n
        return n


class InetSocket(Socket):
    family = S.AF_INET

    def __init__(self, net, sock_type: int, protocol: int, flags: int):
        super().__init__(net, sock_type, protocol, flags)
        self.local: tuple[bytes, int] | None = None
        self.ttl = 64
        self.tos = 0

    @property
    def stack(self):
        return self.net.network.stack

    def _wait(self, queues, what: str):
        raise WouldBlock(queues, host=self.net.network.host_fds(), what=what)

    def _check_bind(self, ip: bytes, port: int) -> None:
        if ip != ANY and not self.stack.is_local(ip) and ip != b"\xff\xff\xff\xff":
            raise KernelError(errno.EADDRNOTAVAIL)
        if self.local is not None:
            raise KernelError(errno.EINVAL)

    def getname(self, peer: bool) -> bytes:
        if peer:
            remote = self.remote()
            if remote is None:
                raise KernelError(errno.ENOTCONN)
            return sockaddr_in(*remote)
        return sockaddr_in(*(self.local or (ANY, 0)))

    def remote(self):
        return None

    def protocol_getsockopt(self, level: int, name: int) -> bytes:
        if level == I.IPPROTO_IP and name in (I.IP_TTL, I.IP_TOS):
            return (self.ttl if name == I.IP_TTL else self.tos).to_bytes(4, "little")
        raise KernelError(errno.ENOPROTOOPT)

    def protocol_setsockopt(self, level: int, name: int, value: bytes) -> None:
        if level == I.IPPROTO_IP and name in (I.IP_TTL, I.IP_TOS):
            if len(value) < 4:
                raise KernelError(errno.EINVAL)
            v = int.from_bytes(value[:4], "little", signed=True)
            if name == I.IP_TTL:
                if v == -1:
                    v = 64
                if not 1 <= v <= 255:
                    raise KernelError(errno.EINVAL)
                self.ttl = v
            else:
                self.tos = v & 0xFF
            return
        raise KernelError(errno.ENOPROTOOPT)


class TcpSocket(InetSocket):
    """A TCP socket: unbound, bound, listening (a TcpListener) or with a
    TcpConnection (connecting, connected, or closed with its error kept)."""

    def __init__(self, net, flags: int, conn=None):
        super().__init__(net, S.SOCK_STREAM, I.IPPROTO_TCP, flags)
        self.listener = None
        self.conn = conn
        self.nodelay = 0
        # TCP_KEEPIDLE, TCP_KEEPINTVL (ns) and TCP_KEEPCNT: tp->keepalive_time,
        # keepalive_intvl and keepalive_probes, given to the connection (_configure)
        self.keepidle = T.TCP_KEEPALIVE_TIME_NS
        self.keepintvl = T.TCP_KEEPALIVE_INTVL_NS
        self.keepcnt = T.TCP_KEEPALIVE_PROBES
        if conn is not None:
            self.local = conn.local

    def _configure(self, conn) -> None:
        """Give conn this socket's TCP_NODELAY, SO_KEEPALIVE and keepalive settings."""
        now = self.net.now()
        conn.set_nodelay(bool(self.nodelay), now)
        conn.keepalive_idle = self.keepidle
        conn.keepalive_interval = self.keepintvl
        conn.keepalive_probes = self.keepcnt
        conn.set_keepalive(bool(self.keepalive), now)
        conn.on_urgent = self._send_sigurg

    def _send_sigurg(self) -> None:
        """sk_send_sigurg: urgent data has been announced; SIGURG to the owner that
        F_SETOWN gave (none: nothing)."""
        if self.owner and self.net.signal_owner is not None:
            self.net.signal_owner(self.owner, SIGURG)

    def remote(self):
        conn = self.conn
        if conn is None or conn.state.name in ("CLOSE", "SYN_SENT"):
            return None
        return conn.remote

    def bind(self, addr: bytes, caller) -> None:
        ip, port = parse_sockaddr_in(addr, unspec_any=True)
        self._check_bind(ip, port)
        if port == 0:
            port = self.stack.ephemeral_port(I.IPPROTO_TCP, ip)
        elif self._port_taken(ip, port):
            raise KernelError(errno.EADDRINUSE)
        self.local = (ip, port)
        self.net.tcp_bound[(ip, port)] = self

    def _port_taken(self, ip: bytes, port: int) -> bool:
        for (bip, bport), other in self.net.tcp_bound.items():
            if bport == port and (bip == ip or bip == ANY or ip == ANY) and other is not self:
                if not (self.reuseaddr and other.reuseaddr and other.listener is None):
                    return True
        table = self.stack.tcp
        return table.in_use((ip, port)) and not self.reuseaddr

    def _autobind(self, ip: bytes = ANY) -> None:
        if self.local is None:
            port = self.stack.ephemeral_port(I.IPPROTO_TCP, ip)
            self.local = (ip, port)
            self.net.tcp_bound[(ip, port)] = self

    def listen(self, backlog: int, caller) -> None:
        if self.conn is not None and self.conn.state.name != "CLOSE":
            raise KernelError(errno.EINVAL)
        if self.listener is not None:
            self.listener.set_backlog(backlog)
            return
        self._autobind()
        self.listener = self.stack.tcp.listen(self.local, backlog)
        self.wake()

    def acceptconn(self) -> int:
        return 1 if self.listener is not None else 0

    def accept(self, flags: int, caller, stop: bool) -> "TcpSocket":
        if self.listener is None:
            raise KernelError(errno.EINVAL)
        self.net.pump()
        try:
            conn = self.listener.accept()
        except KernelError as e:
            if e.errno != errno.EAGAIN or stop:
                raise
            self._wait((self.listener.acceptors,), "a connection (accept)")
        new = TcpSocket(self.net, flags & S.SOCK_NONBLOCK, conn)
        for name in ("nodelay", "keepalive", "keepidle", "keepintvl", "keepcnt", "oobinline"):
            setattr(new, name, getattr(self, name))
        new._configure(conn)
        return new

    def connect(self, addr: bytes, caller, stop: bool) -> None:
        """inet_stream_connect. `connecting` is SS_CONNECTING: a later connect
        (or the blocking one, woken) waits for the handshake and then answers 0, or
        the connection's error once; EALREADY for a non-blocking one meanwhile;
        EISCONN once connected."""
        conn = self.conn
        if self.connecting:
            self.net.pump()
            if conn.state.name in ("SYN_SENT", "SYN_RECV"):
                if stop:
                    raise KernelError(errno.EALREADY)
                self._wait((conn.writers, conn.readers), "a TCP connection")
            self.connecting = False
            if conn.state.name == "CLOSE":
                raise KernelError(conn.take_error() or errno.ECONNABORTED)
            return
        if conn is not None and conn.opened and conn.state.name != "CLOSE":
            raise KernelError(errno.EISCONN)
        if self.listener is not None:
            raise KernelError(errno.EINVAL)
        if len(addr) >= S.SA_FAMILY.size and family_of(addr) == S.AF_UNSPEC:
            return
        ip, port = parse_sockaddr_in(addr)
        if ip == ANY:
            ip = bytes((127, 0, 0, 1))      # INADDR_ANY means this host
        src = self.stack.source_for(ip)
        self._autobind(ANY)
        local = (src if self.local[0] == ANY else self.local[0], self.local[1])
        if self.stack.tcp.in_use(local, (ip, port)):
            raise KernelError(errno.EADDRNOTAVAIL)
        self.conn = conn = self.stack.tcp.connection(local, (ip, port))
        if self.net.tcp_bound.get(self.local) is self:
            del self.net.tcp_bound[self.local]
        self.local = local
        self.net.tcp_bound[local] = self
        self._configure(conn)
        self.connecting = True
        conn.connect(self.net.now())
        self.net.pump()
        if stop:
            # Linux's loopback answers in a softirq after connect has returned: a
            # non-blocking connect is always in progress; SO_ERROR tells the end.
            raise KernelError(errno.EINPROGRESS)
        return self.connect(addr, caller, stop)

    connecting = False

    def sendmsg(self, src, flags, addr, rights, creds, caller, stop, sent: Transfer) -> int:
        """tcp_sendmsg: EPIPE on a socket never connected or shut for writing; waits
        for the handshake and for room; what was taken before a wait that is cut
        short (a signal, a timeout, MSG_DONTWAIT) is the result. MSG_OOB: the last
        byte taken is urgent data (net/tcp_urgent.py)."""
        urgent = bool(flags & S.MSG_OOB)
        conn = self.conn
        if conn is None:
            raise KernelError(errno.EPIPE)
        self.net.pump()
        while src.count or not sent.count:
            waiting = conn.state.name in ("SYN_SENT", "SYN_RECV") or (
                not conn.sendq.room() and not conn.error and not conn.send_shutdown)
            if waiting and src.count:
                if sent.count and stop:
                    return sent.count
                if stop:
                    raise KernelError(errno.EAGAIN)
                self._wait((conn.writers, conn.readers), "room in a TCP send buffer")
            data = src.copy_in(min(src.count, TRANSFER_CHUNK, conn.sendq.room() or 1))
            if src.faulted and not data:
                if sent.count:
                    return sent.count
                raise KernelError(errno.EFAULT)
            try:
                n = conn.send(data, self.net.now(), urgent)
            except KernelError:
                if sent.count:
                    return sent.count
                raise
            sent.count += n
            self.net.pump()
            if not data or src.faulted:
                break
        return sent.count

    def recvmsg(self, dst, flags, caller, stop, got: Transfer) -> Transfer:
        """tcp_recvmsg: a read stops at the urgent mark once it has data (and skips
        the urgent byte there unless SO_OOBINLINE); MSG_OOB reads the urgent byte;
        MSG_TRUNC takes the bytes (or with MSG_PEEK looks) without copying them
        (man 7 tcp); MSG_ERRQUEUE is EAGAIN, the error queue being always empty."""
        conn = self.conn
        if flags & S.MSG_ERRQUEUE:
            raise KernelError(errno.EAGAIN)
        if flags & S.MSG_OOB:
            return self._recv_urgent(dst, flags, got)
        if conn is None:
            raise KernelError(errno.ENOTCONN)
        if flags & S.MSG_TRUNC and not isinstance(dst, Discard):
            dst = Discard(dst.count)
        self.net.pump()
        peek = bool(flags & S.MSG_PEEK)
        inline = bool(self.oobinline)
        size = dst.count + got.count
        target = max(1, size if flags & S.MSG_WAITALL else min(self.rcvlowat, size))
        while dst.count or not size:
            if got.count and conn.urg_state and conn.at_mark():
                return got                 # a read never crosses the urgent mark
            try:
                data = conn.recv(min(dst.count, TRANSFER_CHUNK), self.stack.now, peek, inline)
            except KernelError as e:
                if got.count:
                    return got
                if e.errno == errno.EAGAIN and not stop:
                    self._wait((conn.readers,), "data on a TCP connection")
                raise
            if not data:
                return got
            n = dst.copy_out(data)
            got.count += n
            if n < len(data):
                if not got.count:
                    raise KernelError(errno.EFAULT)
                return got
            self.net.pump()
            if peek or got.count >= target or not size:
                return got
        return got

    def _recv_urgent(self, dst, flags, got: Transfer) -> Transfer:
        """tcp_recv_urg: the urgent byte, never waiting (ENOTCONN on a listener,
        EINVAL when there is none: net/tcp_urgent.py)."""
        if self.listener is not None:
            raise KernelError(errno.ENOTCONN)
        if self.conn is None:
            raise KernelError(errno.EINVAL)
        self.net.pump()
        byte = self.conn.recv_urgent(bool(flags & S.MSG_PEEK), bool(self.oobinline))
        if byte < 0:
            return got                     # end of stream: 0
        got.flags |= S.MSG_OOB
        if not dst.count:
            got.flags |= S.MSG_TRUNC
            return got
        if not flags & S.MSG_TRUNC and dst.copy_out(bytes((byte,))) < 1:
            raise KernelError(errno.EFAULT)
        got.count = 1
        return got

    def shutdown(self, how: int) -> None:
        if how not in (S.SHUT_RD, S.SHUT_WR, S.SHUT_RDWR):
            raise KernelError(errno.EINVAL)
        if self.listener is not None:
            if how != S.SHUT_WR:
                self.listener.close(self.net.now())
            self.wake()
            return
        if self.conn is None:
            raise KernelError(errno.ENOTCONN)
        self.shut |= how + 1
        self.conn.shutdown(how, self.net.now())
        self.net.pump()

    def release(self) -> None:
        now = self.net.now()
        if self.local is not None and self.net.tcp_bound.get(self.local) is self:
            del self.net.tcp_bound[self.local]
        if self.listener is not None:
            self.stack.tcp.unlisten(self.listener, now)
        elif self.conn is not None:
            if self.linger[0] and self.linger[1] == 0:
                self.conn.abort(now)
            else:
                self.conn.close(now)
        if self.net.has_network:
            self.net.pump()

    def take_error(self) -> int:
        if self.conn is not None:
            err = self.conn.take_error()
            if err:
                return err
        return super().take_error()

    def poll(self, events: int) -> int:
        self.net.pump()               # frames the backend holds (a host fd woke poll)
        if self.listener is not None:
            mask = self.listener.poll_events()
        elif self.conn is not None:
            conn = self.conn
            mask = conn.poll_events()
            if conn.urg_state:             # tcp_poll's urgent data rules
                if conn.urgent_readable():
                    mask |= POLLPRI
                if conn.urgent_only(bool(self.oobinline)):
                    mask &= ~(POLLIN | POLLRDNORM)
        else:
            mask = POLLOUT | POLLWRNORM | POLLHUP
        return mask & (events | POLLHUP | 0x8)

    def wait_queues(self, events: int):
        host = tuple(self.net.network.host_fds())
        if self.listener is not None:
            return (self.listener.acceptors, self.wait), host
        if self.conn is not None:
            return (self.conn.readers, self.conn.writers, self.wait), host
        return (self.wait,), host

    def ioctl(self, request: int, arg: int, mm) -> int:
        """tcp_ioctl's SIOCATMARK: 1 when the next byte read is the urgent byte."""
        if request == D.SIOCATMARK:
            mark = self.conn is not None and self.conn.urg_state and self.conn.at_mark()
            mm.write_i32(arg, 1 if mark else 0)
            return 0
        return super().ioctl(request, arg, mm)

    def inq(self) -> int:
        if self.listener is not None:
            raise KernelError(errno.EINVAL)
        return self.conn.readable_bytes(bool(self.oobinline)) if self.conn is not None else 0

    def outq(self) -> int:
        if self.listener is not None:
            raise KernelError(errno.EINVAL)
        return self.conn.unsent_bytes() if self.conn is not None else 0

    def protocol_getsockopt(self, level: int, name: int) -> bytes:
        if level == I.IPPROTO_TCP:
            if name == I.TCP_NODELAY:
                return self.nodelay.to_bytes(4, "little")
            if name == I.TCP_INFO:
                owner = self.listener or self.conn
                if owner is not None:
                    return owner.tcp_info(self.net.now())
                return bytes((TCP_CLOSE,)) + bytes(TCP_INFO_LAYOUT.size - 1)
            if name == I.TCP_MAXSEG:
                mss = self.conn.snd_mss if self.conn is not None else 536
                return mss.to_bytes(4, "little")
            if name in (I.TCP_KEEPIDLE, I.TCP_KEEPINTVL):
                ns = self.keepidle if name == I.TCP_KEEPIDLE else self.keepintvl
                return (ns // 10**9).to_bytes(4, "little")
            if name == I.TCP_KEEPCNT:
                return self.keepcnt.to_bytes(4, "little")
            raise KernelError(errno.ENOPROTOOPT)
        return super().protocol_getsockopt(level, name)

    def protocol_setsockopt(self, level: int, name: int, value: bytes) -> None:
        if level == I.IPPROTO_TCP:
            if len(value) < 4:
                raise KernelError(errno.EINVAL)
            if name == I.TCP_NODELAY:
                self.nodelay = 1 if int.from_bytes(value[:4], "little") else 0
                if self.conn is not None:
                    self.conn.set_nodelay(bool(self.nodelay), self.net.now())
                    self.net.pump()
                return
            if name in _KEEPALIVE_OPTIONS:
                v = int.from_bytes(value[:4], "little", signed=True)
                attribute, largest, unit = _KEEPALIVE_OPTIONS[name]
                if not 1 <= v <= largest:
                    raise KernelError(errno.EINVAL)
                setattr(self, attribute, v * unit)
                if self.conn is not None:
                    self._configure(self.conn)     # the timer re-armed, as Linux does
                    self.net.pump()
                return
            raise KernelError(errno.ENOPROTOOPT)
        return super().protocol_setsockopt(level, name, value)

    def setsockopt(self, level: int, name: int, value: bytes, privileged: bool) -> None:
        """SO_KEEPALIVE reaches the connection at once (tcp_set_keepalive)."""
        super().setsockopt(level, name, value, privileged)
        if level == S.SOL_SOCKET and name == S.SO_KEEPALIVE and self.conn is not None:
            self.conn.set_keepalive(bool(self.keepalive), self.net.now())
            self.net.pump()


# do_tcp_setsockopt's keepalive options: (attribute, largest value, unit in ns)
_KEEPALIVE_OPTIONS = {
    I.TCP_KEEPIDLE: ("keepidle", T.MAX_TCP_KEEPIDLE, 10**9),
    I.TCP_KEEPINTVL: ("keepintvl", T.MAX_TCP_KEEPINTVL, 10**9),
    I.TCP_KEEPCNT: ("keepcnt", T.MAX_TCP_KEEPCNT, 1),
}


def create(net, sock_type: int, protocol: int, flags: int, cred) -> InetSocket:
    """inet_create: the protocols each type has (TCP for streams, UDP and ICMP for
    datagrams, any but IPPROTO_IP for raw sockets); EPROTONOSUPPORT for another of a
    type that exists, ESOCKTNOSUPPORT for a type that does not; a protocol out of
    range is EINVAL. SOCK_RAW needs CAP_NET_RAW in cred's effective set (EPERM
    without, checked after the protocol; kernel/credentials.py)."""
    if protocol < 0 or protocol >= I.IPPROTO_MAX:
        raise KernelError(errno.EINVAL)
    if sock_type == S.SOCK_STREAM:
        if protocol not in (I.IPPROTO_IP, I.IPPROTO_TCP):
            raise KernelError(errno.EPROTONOSUPPORT)
        return TcpSocket(net, flags)
    if sock_type == S.SOCK_DGRAM:
        if protocol == I.IPPROTO_ICMP:
            from . import ping_socket
            ping_socket.may_create(net, cred)
            return ping_socket.PingSocket(net, flags)
        if protocol not in (I.IPPROTO_IP, I.IPPROTO_UDP):
            raise KernelError(errno.EPROTONOSUPPORT)
        from .udp_socket import UdpSocket      # it builds on this module
        return UdpSocket(net, flags)
    if sock_type == S.SOCK_RAW:
        if protocol == I.IPPROTO_IP:
            raise KernelError(errno.EPROTONOSUPPORT)
        if not cred.capable(CAP_NET_RAW):
            raise KernelError(errno.EPERM)
        from .raw_socket import RawSocket      # it builds on this module
        return RawSocket(net, protocol, flags)
    raise KernelError(errno.ESOCKTNOSUPPORT)
