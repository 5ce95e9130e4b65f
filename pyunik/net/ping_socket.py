"""AF_INET SOCK_DGRAM IPPROTO_ICMP sockets, "ping sockets" (net/ipv4/ping.c): an
unprivileged process sends ICMP echo requests and reads the echo replies.

socket() is EACCES unless the caller's effective gid or one of its supplementary
groups lies in net.ipv4.ping_group_range (ping_init_sock). pyunik's range is
`NetNamespace.ping_group_range`, "0 2147483647" (every group, as Debian and most
distributions set it; Linux's own default "1 0" admits nobody), shown in
/proc/sys/net/ipv4/ping_group_range. The socket's "port" is an echo identifier:
bind picks it (0: the next free one from a rover, as ping_get_port; a taken one is
EADDRINUSE), a send or connect before bind picks one. sendto takes an ICMP header
and payload: a type other than ICMP_ECHO or a code other than 0 is EINVAL, a
message shorter than the header EINVAL; the kernel sets the identifier to the port
and computes the checksum. recvfrom gives an echo reply with that identifier, ICMP
header and payload without the IP header, from sin_port 0. Readiness, SO_RCVTIMEO,
MSG_PEEK/MSG_TRUNC and shutdown are the datagram socket's (net/udp_socket.py).

Not done: ICMP errors about the echoes (IP_RECVERR), ICMP filters, IPv6 ping.

Layer: net. Called by net/inet.py's create; calls net/udp_socket.py, net/icmp.py,
net/datagram.py and the stack (icmp_bind, send_ip).
"""

from __future__ import annotations

import errno

from ..abi import icmp as IC
from ..abi import inet as I
from ..abi import socket as S
from ..errors import KernelError
from .datagram import DatagramQueue
from .icmp import build_icmp
from .inet import ANY, InetSocket, parse_sockaddr_in, sockaddr_in
from .udp_socket import UdpSocket


def may_create(net, cred) -> None:
    """ping_init_sock: EACCES unless egid or a supplementary group is in range."""
    low, high = net.ping_group_range
    if not any(low <= g <= high for g in (cred.egid, *cred.groups)):
        raise KernelError(errno.EACCES)


class PingSocket(UdpSocket):
    waits_for = "an ICMP echo reply"
    connected_errors = False     # ICMP errors are not reported to ping sockets yet

    def __init__(self, net, flags: int):
        InetSocket.__init__(self, net, S.SOCK_DGRAM, I.IPPROTO_ICMP, flags)
        self.queue = DatagramQueue(self.rcvbuf, "an ICMP echo reply")
        self.peer: tuple[bytes, int] | None = None

    def _ident(self, want: int) -> int:
        taken = self.stack.icmp_sockets
        if want:
            if want in taken:
                raise KernelError(errno.EADDRINUSE)
            return want
        ident = self.net.ping_rover
        for _ in range(0x10000):
            ident = (ident + 1) & 0xFFFF or 1
            if ident not in taken:
                self.net.ping_rover = ident
                return ident
        raise KernelError(errno.EAGAIN)

    def bind(self, addr: bytes, caller) -> None:
        ip, port = parse_sockaddr_in(addr, unspec_any=True)
        self._check_bind(ip, port)
        ident = self._ident(port)
        self.stack.icmp_bind(ident, self.queue)
        self.local = (ip, ident)

    def _autobind(self) -> None:
        if self.local is None:
            ident = self._ident(0)
            self.stack.icmp_bind(ident, self.queue)
            self.local = (ANY, ident)

    def sendmsg(self, src, flags, addr, rights, creds, caller, stop, sent) -> int:
        """ping_v4_sendmsg: one echo request to addr or the connected peer; the
        message is checked (ping_common_sendmsg) before the address."""
        if src.count > IC.PING_MAX:
            raise KernelError(errno.EMSGSIZE)
        if src.count < IC.ICMPHDR.size:
            raise KernelError(errno.EINVAL)
        if flags & S.MSG_OOB:
            raise KernelError(errno.EOPNOTSUPP)
        data = src.copy_in(src.count)
        if src.faulted:
            raise KernelError(errno.EFAULT)
        kind, code, _, _, seq = IC.ICMPHDR.unpack_from(data)
        if kind != IC.ICMP_ECHO or code != 0:
            raise KernelError(errno.EINVAL)
        if addr is not None:
            if len(addr) < I.SOCKADDR_IN.size:
                raise KernelError(errno.EINVAL)
            ip, _ = parse_sockaddr_in(addr)
        elif self.peer is not None:
            ip = self.peer[0]
        else:
            raise KernelError(errno.EDESTADDRREQ)
        if ip == ANY:
            ip = bytes((127, 0, 0, 1))
        source = self.stack.source_for(ip)
        self._check_broadcast(ip)
        self._autobind()
        if self.local[0] != ANY:
            source = self.local[0]
        message = build_icmp(kind, code, self.local[1], seq, data[IC.ICMPHDR.size:])
        self.stack.send_ip(source, ip, I.IPPROTO_ICMP, message, self.net.now(),
                           ttl=self.ttl)
        self.net.pump()
        return len(data)

    def reply_addr(self, d) -> bytes:
        """ping_recvmsg: the reply's source, port 0."""
        return sockaddr_in(d.src, 0)

    def release(self) -> None:
        if self.local is not None and self.stack.icmp_sockets.get(self.local[1]) is self.queue:
            self.stack.icmp_unbind(self.local[1])
