"""AF_INET SOCK_DGRAM sockets (net/ipv4/udp.c): a DatagramQueue bound to a port of
the stack (net/stack.py's udp_bind), datagrams sent with udp_send.

Binding: an explicit port taken by another socket is EADDRINUSE; port 0, or a send
or connect before any bind, takes an ephemeral port on INADDR_ANY. connect sets the
default destination and asks the stack to report ICMP errors (ECONNREFUSED for a
port nobody listens on) on the next call. A datagram is at most 65507 bytes
(EMSGSIZE). Sending to or connecting to a broadcast address (255.255.255.255 or an
interface's) is EACCES unless SO_BROADCAST is set, as the route's RTCF_BROADCAST
makes it in udp_sendmsg and ip4_datagram_connect.

Layer: net. Called by kernel/syscalls/net.py through the Socket operations; calls
net/inet.py, net/datagram.py and the stack.
"""

from __future__ import annotations

import errno

from ..abi import inet as I
from ..abi import socket as S
from ..abi.poll import POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from ..abi.udp import UDP_MAX_PAYLOAD
from ..errors import KernelError
from .datagram import DatagramQueue
from .inet import ANY, InetSocket, parse_sockaddr_in, sockaddr_in
from .socket import Transfer, copy_datagram, family_of
from .stack import LIMITED_BROADCAST


class UdpSocket(InetSocket):
    waits_for = "a UDP datagram"
    # A connected socket is told of ICMP errors about what it sent (udp_err).
    connected_errors = True

    def __init__(self, net, flags: int):
        super().__init__(net, S.SOCK_DGRAM, I.IPPROTO_UDP, flags)
        self.queue = DatagramQueue(self.rcvbuf, "a UDP datagram")
        self.peer: tuple[bytes, int] | None = None

    def remote(self):
        return self.peer

    def _check_broadcast(self, ip: bytes) -> None:
        """EACCES for a broadcast destination without SO_BROADCAST."""
        if self.broadcast:
            return
        if ip == LIMITED_BROADCAST or any(
                ip == i.broadcast() for i in self.stack.interfaces.values()):
            raise KernelError(errno.EACCES)

    def bind(self, addr: bytes, caller) -> None:
        ip, port = parse_sockaddr_in(addr, unspec_any=True)
        self._check_bind(ip, port)
        if port:
            ports = self.stack.udp_ports
            if any(p == port and (a == ip or a == ANY or ip == ANY) for a, p in ports):
                raise KernelError(errno.EADDRINUSE)
        self.local = (ip, self.stack.udp_bind(ip, port, self.queue))

    def _autobind(self) -> None:
        if self.local is None:
            self.local = (ANY, self.stack.udp_bind(ANY, 0, self.queue))

    def connect(self, addr: bytes, caller, stop: bool) -> None:
        if len(addr) >= S.SA_FAMILY.size and family_of(addr) == S.AF_UNSPEC:
            self.peer = None
            self.queue.report_errors = False
            return
        ip, port = parse_sockaddr_in(addr)
        if ip == ANY:
            ip = bytes((127, 0, 0, 1))
        self.stack.source_for(ip)
        self._check_broadcast(ip)
        self._autobind()
        self.peer = (ip, port)
        self.queue.report_errors = self.connected_errors

    def sendmsg(self, src, flags, addr, rights, creds, caller, stop, sent: Transfer) -> int:
        """udp_sendmsg: to addr or the connected peer (EDESTADDRREQ without)."""
        if flags & S.MSG_OOB:
            raise KernelError(errno.EOPNOTSUPP)
        if addr is not None:
            dst = parse_sockaddr_in(addr)
        elif self.peer is not None:
            dst = self.peer
        else:
            raise KernelError(errno.EDESTADDRREQ)
        if src.count > UDP_MAX_PAYLOAD:
            raise KernelError(errno.EMSGSIZE)
        ip, port = dst
        if ip == ANY:
            ip = bytes((127, 0, 0, 1))
        if not port:
            raise KernelError(errno.EINVAL)
        source = self.stack.source_for(ip)
        self._check_broadcast(ip)
        self._autobind()
        if self.local[0] != ANY:
            source = self.local[0]
        data = src.copy_in(src.count)
        if src.faulted:
            raise KernelError(errno.EFAULT)
        self.stack.udp_send(source, self.local[1], ip, port, data, self.net.now(), self.ttl)
        self.net.pump()
        return len(data)

    def recvmsg(self, dst, flags, caller, stop, got: Transfer) -> Transfer:
        """udp_recvmsg: one datagram, MSG_TRUNC as for any datagram socket; an ICMP
        error the stack reported comes first. MSG_ERRQUEUE is EAGAIN (ip_recv_error
        with nothing queued: IP_RECVERR is not kept, so nothing ever is)."""
        if flags & S.MSG_ERRQUEUE:
            raise KernelError(errno.EAGAIN)
        if flags & S.MSG_OOB:
            raise KernelError(errno.EOPNOTSUPP)
        self.net.pump()
        d = self.queue.peek()
        if d is None:
            err = self.queue.take_error() or self.take_error()
            if err:
                raise KernelError(err)
            if stop:
                raise KernelError(errno.EAGAIN)
            self._wait((self.queue.readable,), self.waits_for)
        copy_datagram(dst, d.payload, flags, got)
        got.addr = self.reply_addr(d)
        if not flags & S.MSG_PEEK:
            self.queue.pop()
        return got

    def reply_addr(self, d) -> bytes:
        return sockaddr_in(d.src, d.sport)

    def shutdown(self, how: int) -> None:
        if how not in (S.SHUT_RD, S.SHUT_WR, S.SHUT_RDWR):
            raise KernelError(errno.EINVAL)
        if self.peer is None:
            raise KernelError(errno.ENOTCONN)
        self.shut |= how + 1
        self.queue.readable.wake_all()

    def release(self) -> None:
        if self.local is not None:
            self.stack.udp_unbind(*self.local)

    def poll(self, events: int) -> int:
        self.net.pump()               # frames the backend holds (a host fd woke poll)
        mask = POLLOUT | POLLWRNORM
        if self.queue.items:
            mask |= POLLIN | POLLRDNORM
        if self.queue.error:
            mask |= POLLERR
        return mask & (events | POLLERR)

    def wait_queues(self, events: int):
        return (self.queue.readable, self.wait), ()

    def inq(self) -> int:
        d = self.queue.peek()
        return len(d.payload) if d is not None else 0

    def outq(self) -> int:
        return 0
