"""AF_INET SOCK_RAW sockets (net/ipv4/raw.c), inside pyunik's own stack: never a host
raw socket. Only a caller with CAP_NET_RAW gets one (inet.create decides; in pyunik
that is a process whose effective uid is 0, as every other capability check here).

Receive: each IPv4 packet for this host whose protocol is the socket's (after
reassembly, before the protocol's own handler, as raw_local_deliver) is queued whole,
IP header first, if the socket's bound address is the destination or unset, its
connected peer the source or unset, and, for IPPROTO_ICMP, the socket's ICMP_FILTER
(SOL_RAW) does not mask the message's type. The kernel still answers echo requests
and the like itself; a protocol only raw sockets take gets no "protocol unreachable".
recvfrom gives the packet from the source address, port 0; MSG_TRUNC, MSG_PEEK,
SO_RCVTIMEO and readiness are the datagram socket's (net/udp_socket.py).

Send (raw_sendmsg): without IP_HDRINCL the message is the payload: the kernel builds
the IP header (source: the bound address or the route's, TTL IP_TTL, TOS IP_TOS,
protocol the socket's, DF when it fits the MTU as under IP_PMTUDISC_WANT) and never
touches the payload (an ICMP checksum is the sender's to compute). With IP_HDRINCL
(implied by IPPROTO_RAW) the message is the whole packet (raw_send_hdrinc): a header
length past the message EINVAL, shorter than a header EINVAL, longer than the MTU
EMSGSIZE; the kernel fills a zero source and a zero id, and sets the total length and
the header checksum. The destination is the address given or the connected peer
(EDESTADDRREQ without); over 65535 bytes is EMSGSIZE, MSG_OOB EOPNOTSUPP.

Not done: ICMP errors about what the socket sent (IP_RECVERR), IP options
(IP_OPTIONS), multicast, SO_BINDTODEVICE.

Layer: net. Called by net/inet.py's create; calls net/udp_socket.py, net/ipv4.py and
the stack (raw_bind, send_ip, send_packet).
"""

from __future__ import annotations

import errno

from ..abi import icmp as IC
from ..abi import inet as I
from ..abi import ip as IP
from ..abi import socket as S
from ..errors import KernelError
from .datagram import Datagram, DatagramQueue
from .inet import ANY, InetSocket, sockaddr_in
from .checksum import internet_checksum
from .udp_socket import UdpSocket


class RawSocket(UdpSocket):
    """Owned by the socket: the queue of packets, `hdrincl` (IP_HDRINCL), `icmp_filter`
    (ICMP_FILTER: bit n set drops ICMP type n), the bound address and the peer."""

    waits_for = "a packet (raw socket)"
    connected_errors = False

    def __init__(self, net, protocol: int, flags: int):
        InetSocket.__init__(self, net, S.SOCK_RAW, protocol, flags)
        self.queue = DatagramQueue(self.rcvbuf, "a packet (raw socket)")
        self.peer: tuple[bytes, int] | None = None
        self.hdrincl = protocol == I.IPPROTO_RAW
        self.icmp_filter = 0
        self.bound = ANY
        self.stack.raw_bind(self)

    # --- what the stack calls ----------------------------------------------------------

    def raw_receive(self, p, packet: bytes) -> bool:
        """raw_v4_input's match and icmp_filter: queue packet (p decoded) if it is for
        this socket; True if it was queued."""
        if p.protocol != self.protocol or (self.bound != ANY and self.bound != p.dst):
            return False
        if self.peer is not None and self.peer[0] != p.src:
            return False
        if self.protocol == I.IPPROTO_ICMP:
            if not p.payload:
                return False                 # no type to filter on: dropped
            kind = p.payload[0]
            if kind < 32 and self.icmp_filter >> kind & 1:
                return False
        return self.queue.deliver(Datagram(p.src, 0, p.dst, 0, packet))

    # --- socket operations -------------------------------------------------------------

    def bind(self, addr: bytes, caller) -> None:
        """raw_bind: any local, broadcast or unspecified address; no port."""
        if len(addr) < I.SOCKADDR_IN.size:
            raise KernelError(errno.EINVAL)
        ip = I.SOCKADDR_IN.unpack_from(addr)[2]
        if ip != ANY and not self.stack.is_local(ip) and ip != b"\xff\xff\xff\xff":
            raise KernelError(errno.EADDRNOTAVAIL)
        self.bound = ip
        self.local = (ip, 0)

    def _autobind(self) -> None:
        pass                                 # a raw socket has no port to take

    def getname(self, peer: bool) -> bytes:
        if peer:
            return super().getname(peer)
        return sockaddr_in(self.bound, 0)

    def connect(self, addr: bytes, caller, stop: bool) -> None:
        """ip4_datagram_connect: the default destination (AF_UNSPEC forgets it)."""
        super().connect(addr, caller, stop)
        if self.peer is not None:
            self.peer = (self.peer[0], 0)

    def sendmsg(self, src, flags, addr, rights, creds, caller, stop, sent) -> int:
        if src.count > IP.IP_MAX_PACKET:
            raise KernelError(errno.EMSGSIZE)
        if flags & S.MSG_OOB:
            raise KernelError(errno.EOPNOTSUPP)
        if addr is not None:
            if len(addr) < I.SOCKADDR_IN.size:
                raise KernelError(errno.EINVAL)
            family, _, dst = I.SOCKADDR_IN.unpack_from(addr)
            if family not in (S.AF_INET, S.AF_UNSPEC):
                raise KernelError(errno.EAFNOSUPPORT)
        elif self.peer is not None:
            dst = self.peer[0]
        else:
            raise KernelError(errno.EDESTADDRREQ)
        if dst == ANY:
            dst = bytes((127, 0, 0, 1))
        if dst == b"\xff\xff\xff\xff" and not self.broadcast:
            raise KernelError(errno.EACCES)
        iface, _ = self.stack.route(dst)
        source = self.bound if self.bound != ANY else self.stack.source_for(dst)
        data = src.copy_in(src.count)
        if src.faulted:
            raise KernelError(errno.EFAULT)
        now = self.net.now()
        if self.hdrincl:
            self.stack.send_packet(self._complete_header(data, source, iface.mtu), dst, now)
        else:
            if len(data) + IP.IPHDR.size > IP.IP_MAX_PACKET:
                raise KernelError(errno.EMSGSIZE)
            self.stack.send_ip(source, dst, self.protocol, data, now, ttl=self.ttl,
                               tos=self.tos,
                               dont_fragment=len(data) + IP.IPHDR.size <= iface.mtu)
        self.net.pump()
        return len(data)

    def _complete_header(self, data: bytes, source: bytes, mtu: int) -> bytes:
        """raw_send_hdrinc: the caller's packet with what the kernel fills in."""
        if len(data) > mtu:
            raise KernelError(errno.EMSGSIZE)
        if len(data) < IP.IPHDR.size:
            raise KernelError(errno.EINVAL)
        ihl = (data[0] & 0xF) * 4
        if ihl > len(data):
            raise KernelError(errno.EINVAL)
        if ihl < IP.IPHDR.size:
            return data                      # sent as given, as Linux does
        packet = bytearray(data)
        if packet[12:16] == ANY:
            packet[12:16] = source
        packet[2:4] = len(data).to_bytes(2, "big")
        if packet[4:6] == b"\0\0":
            packet[4:6] = self.stack.next_ident().to_bytes(2, "big")
        packet[10:12] = b"\0\0"
        packet[10:12] = internet_checksum(bytes(packet[:ihl])).to_bytes(2, "big")
        return bytes(packet)

    def reply_addr(self, d) -> bytes:
        """raw_recvmsg: the packet's source, port 0."""
        return sockaddr_in(d.src, 0)

    def release(self) -> None:
        self.stack.raw_unbind(self)

    # --- options ------------------------------------------------------------------------

    def protocol_getsockopt(self, level: int, name: int) -> bytes:
        if level == S.SOL_RAW:
            if name != IC.ICMP_FILTER:
                raise KernelError(errno.ENOPROTOOPT)
            if self.protocol != I.IPPROTO_ICMP:
                raise KernelError(errno.EOPNOTSUPP)
            return self.icmp_filter.to_bytes(4, "little")
        if level == I.IPPROTO_IP and name == I.IP_HDRINCL:
            return int(self.hdrincl).to_bytes(4, "little")
        return super().protocol_getsockopt(level, name)

    def protocol_setsockopt(self, level: int, name: int, value: bytes) -> None:
        if level == S.SOL_RAW:
            if name != IC.ICMP_FILTER:
                raise KernelError(errno.ENOPROTOOPT)
            if self.protocol != I.IPPROTO_ICMP:
                raise KernelError(errno.EOPNOTSUPP)
            # raw_seticmpfilter: at most the 4 bytes of struct icmp_filter are copied
            # over the old mask (a shorter value changes only its first bytes)
            old = bytearray(self.icmp_filter.to_bytes(4, "little"))
            old[:len(value[:4])] = value[:4]
            self.icmp_filter = int.from_bytes(old, "little")
            return
        if level == I.IPPROTO_IP and name == I.IP_HDRINCL:
            # an int, or one byte when shorter; no bytes at all mean 0 (ip_setsockopt)
            number = value[:4] if len(value) >= 4 else value[:1]
            self.hdrincl = int.from_bytes(number or b"\0", "little") != 0
            return
        return super().protocol_setsockopt(level, name, value)

