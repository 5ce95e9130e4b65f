"""AF_NETLINK sockets, NETLINK_ROUTE only (net/netlink/af_netlink.c,
net/core/rtnetlink.c, net/ipv4/devinet.c): enough for glibc's and musl's getifaddrs
and if_nameindex, and for `ip link`/`ip addr` style dumps.

A request the guest sends is answered at once into the socket's receive queue, as
the kernel answers inside sendmsg: RTM_GETLINK and RTM_GETADDR dumps (NLM_F_DUMP)
give one RTM_NEWLINK per interface and one RTM_NEWADDR per IPv4 address
(net/interfaces.py describes them), then NLMSG_DONE; RTM_GETLINK of one interface
(by ifi_index or IFLA_IFNAME) gives its RTM_NEWLINK or ENODEV; NLM_F_ACK gets an
NLMSG_ERROR of 0; any other request gets NLMSG_ERROR with EOPNOTSUPP, as rtnetlink
answers a type it has no handler for. Replies carry the request's sequence number
and the requester's port id. Each reply is one datagram (a dump's messages and its
NLMSG_DONE together, as long as they fit in a page; more datagrams otherwise).

Port ids (nl_pid): bind with 0, or a send or connect before any bind, picks the
process's tgid if it is free, else -4096 and down (netlink_autobind). Multicast
groups are remembered for getsockname; nothing is ever multicast (no interface
changes). Other netlink protocols are EPROTONOSUPPORT.

Layer: net. Called by kernel/syscalls/net.py; calls net/socket.py and
net/interfaces.py.
"""

from __future__ import annotations

import errno
from collections import deque

from ..abi import linux as L
from ..abi import netlink as N
from ..abi import socket as S
from ..abi.if_arp import ARPHRD_LOOPBACK
from ..abi.poll import POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from ..errors import KernelError
from .socket import Message, Socket, Transfer, copy_datagram, family_of

def _align(n: int) -> int:
    return (n + N.NLMSG_ALIGNTO - 1) & ~(N.NLMSG_ALIGNTO - 1)


def _attr(kind: int, value: bytes) -> bytes:
    length = N.RTATTR.size + len(value)
    return (N.RTATTR.pack(length, kind) + value).ljust(_align(length), b"\0")


def _message(kind: int, flags: int, seq: int, pid: int, body: bytes) -> bytes:
    length = N.NLMSGHDR.size + len(body)
    return (N.NLMSGHDR.pack(length, kind, flags, seq, pid) + body).ljust(_align(length), b"\0")


def link_message(i, flags: int, seq: int, pid: int) -> bytes:
    """RTM_NEWLINK for interface i (the attributes glibc and musl read, and a few
    ip(8) shows)."""
    body = N.IFINFOMSG.pack(S.AF_UNSPEC, i.hwtype, i.index, i.flags, 0)
    body += _attr(N.IFLA_IFNAME, i.name + b"\0")
    body += _attr(N.IFLA_TXQLEN, i.txqlen.to_bytes(4, "little"))
    oper = N.IF_OPER_UNKNOWN if i.hwtype == ARPHRD_LOOPBACK else N.IF_OPER_UP
    body += _attr(N.IFLA_OPERSTATE, bytes((oper,)))
    body += _attr(N.IFLA_LINKMODE, b"\0")
    body += _attr(N.IFLA_MTU, i.mtu.to_bytes(4, "little"))
    body += _attr(N.IFLA_QDISC, b"noqueue\0")   # no queueing discipline: frames go straight on
    body += _attr(N.IFLA_ADDRESS, i.hwaddr)
    body += _attr(N.IFLA_BROADCAST, i.hwbroadcast)
    body += _attr(N.IFLA_STATS64, b"\0" * N.RTNL_LINK_STATS64_SIZE)
    return _message(N.RTM_NEWLINK, flags, seq, pid, body)


def addr_message(i, a, flags: int, seq: int, pid: int) -> bytes:
    """RTM_NEWADDR for address a of interface i (inet_fill_ifaddr)."""
    body = N.IFADDRMSG.pack(S.AF_INET, a.prefixlen, N.IFA_F_PERMANENT, a.scope, i.index)
    body += _attr(N.IFA_ADDRESS, a.address)
    body += _attr(N.IFA_LOCAL, a.address)
    if a.broadcast is not None:
        body += _attr(N.IFA_BROADCAST, a.broadcast)
    body += _attr(N.IFA_LABEL, i.name + b"\0")
    body += _attr(N.IFA_FLAGS, N.IFA_F_PERMANENT.to_bytes(4, "little"))
    body += _attr(N.IFA_CACHEINFO, N.IFA_CACHEINFO_STRUCT.pack(0xFFFFFFFF, 0xFFFFFFFF, 0, 0))
    return _message(N.RTM_NEWADDR, flags, seq, pid, body)


def _attrs(data: bytes) -> dict[int, bytes]:
    out, pos = {}, 0
    while pos + N.RTATTR.size <= len(data):
        length, kind = N.RTATTR.unpack_from(data, pos)
        if length < N.RTATTR.size or pos + length > len(data):
            break
        out[kind] = data[pos + N.RTATTR.size:pos + length]
        pos += _align(length)
    return out


class NetlinkSocket(Socket):
    family = S.AF_NETLINK

    def __init__(self, net, sock_type: int, protocol: int, flags: int):
        super().__init__(net, sock_type, protocol, flags)
        self.portid = 0
        self.groups = 0
        self.dst_portid = 0
        self.dst_groups = 0
        self.recvq: deque = deque()
        self.options: dict[int, int] = {}
        self.pid = 0                # the process whose tgid autobind tries first

    # ---- addresses ----------------------------------------------------------------------

    def _sockaddr(self, portid: int, groups: int) -> bytes:
        return N.SOCKADDR_NL.pack(S.AF_NETLINK, 0, portid & 0xFFFFFFFF, groups)

    @staticmethod
    def _parse(addr: bytes) -> tuple[int, int]:
        if len(addr) < N.SOCKADDR_NL.size:
            raise KernelError(errno.EINVAL)
        family, _, pid, groups = N.SOCKADDR_NL.unpack_from(addr)
        if family != S.AF_NETLINK:
            raise KernelError(errno.EINVAL)
        return pid, groups

    def autobind(self) -> None:
        """netlink_autobind: the tgid if free, else -4096 and down."""
        if self.portid:
            return
        ports = self.net.netlink_ports
        candidate = self.pid
        if not candidate or candidate in ports:
            candidate = -4096
            while candidate & 0xFFFFFFFF in ports:
                candidate -= 1
        self.portid = candidate & 0xFFFFFFFF
        ports[self.portid] = self

    def bind(self, addr: bytes, caller) -> None:
        pid, groups = self._parse(addr)
        self.pid = caller.pid
        if self.portid:
            if pid != self.portid:
                raise KernelError(errno.EINVAL)
        elif pid:
            if pid in self.net.netlink_ports:
                raise KernelError(errno.EADDRINUSE)
            self.portid = pid
            self.net.netlink_ports[pid] = self
        else:
            self.autobind()
        self.groups = groups

    def connect(self, addr: bytes, caller, stop: bool) -> None:
        if len(addr) >= S.SA_FAMILY.size and family_of(addr) == S.AF_UNSPEC:
            self.dst_portid = self.dst_groups = 0
            return
        self.dst_portid, self.dst_groups = self._parse(addr)
        self.pid = caller.pid
        self.autobind()

    def getname(self, peer: bool) -> bytes:
        if peer:
            return self._sockaddr(self.dst_portid, self.dst_groups)
        return self._sockaddr(self.portid, self.groups)

    def release(self) -> None:
        if self.portid and self.net.netlink_ports.get(self.portid) is self:
            del self.net.netlink_ports[self.portid]
        self.recvq.clear()

    # ---- the kernel's side: requests and their answers -------------------------------------

    def sendmsg(self, src, flags, addr, rights, creds, caller, stop, sent: Transfer) -> int:
        """netlink_sendmsg: to the kernel (port 0) only; each request in the datagram
        is answered into this socket's queue."""
        if flags & S.MSG_OOB:
            raise KernelError(errno.EOPNOTSUPP)
        if addr is not None:
            dst, _ = self._parse(addr)
        else:
            dst = self.dst_portid
        if dst:
            raise KernelError(errno.ECONNREFUSED)
        self.pid = caller.pid
        self.autobind()
        size = src.count
        if size > self.sndbuf - 32:
            raise KernelError(errno.EMSGSIZE)
        data = src.copy_in(size)
        if src.faulted:
            raise KernelError(errno.EFAULT)
        pos = 0
        while pos + N.NLMSGHDR.size <= len(data):
            length, kind, nflags, seq, _ = N.NLMSGHDR.unpack_from(data, pos)
            if length < N.NLMSGHDR.size or pos + length > len(data):
                break
            self._request(data[pos:pos + length], kind, nflags, seq)
            pos += _align(length)
        return size

    def _request(self, request: bytes, kind: int, flags: int, seq: int) -> None:
        """netlink_rcv_skb and rtnetlink_rcv_msg for one message."""
        if not flags & N.NLM_F_REQUEST or kind < N.NLMSG_MIN_TYPE:
            if flags & N.NLM_F_ACK:
                self._ack(request, seq, 0)
            return
        body = request[N.NLMSGHDR.size:]
        interfaces = self.net.interfaces
        pid = self.portid
        if kind in (N.RTM_GETLINK, N.RTM_GETADDR) and flags & N.NLM_F_DUMP == N.NLM_F_DUMP:
            if kind == N.RTM_GETLINK:
                parts = [link_message(i, N.NLM_F_MULTI, seq, pid) for i in interfaces]
            else:
                family = body[0] if body else S.AF_UNSPEC
                parts = [addr_message(i, a, N.NLM_F_MULTI, seq, pid)
                         for i in interfaces for a in i.addrs
                         if family in (S.AF_UNSPEC, S.AF_INET)]
            parts.append(_message(N.NLMSG_DONE, N.NLM_F_MULTI, seq, pid,
                                  N.NLMSGERR_ERROR.pack(0)))
            self._queue_batched(parts)
            return
        if kind == N.RTM_GETLINK:
            found = None
            if len(body) >= N.IFINFOMSG.size:
                index = N.IFINFOMSG.unpack_from(body)[2]
                name = _attrs(body[N.IFINFOMSG.size:]).get(N.IFLA_IFNAME, b"").split(b"\0")[0]
                for i in interfaces:
                    if (index and i.index == index) or (not index and name and i.name == name):
                        found = i
            if found is None:
                self._ack(request, seq, -errno.ENODEV)
                return
            self._queue(link_message(found, 0, seq, pid))
            if flags & N.NLM_F_ACK:
                self._ack(request, seq, 0)
            return
        self._ack(request, seq, -errno.EOPNOTSUPP)

    def _ack(self, request: bytes, seq: int, error: int) -> None:
        """netlink_ack: NLMSG_ERROR with the error (0: an acknowledgement) and the
        request's header (the whole request with an error)."""
        echoed = request if error else request[:N.NLMSGHDR.size]
        self._queue(_message(N.NLMSG_ERROR, 0 if error else N.NLM_F_CAPPED, seq, self.portid,
                             N.NLMSGERR_ERROR.pack(error) + echoed))

    def _queue_batched(self, parts: list[bytes]) -> None:
        batch = b""
        for p in parts:
            if batch and len(batch) + len(p) > L.PAGE_SIZE:
                self._queue(batch)
                batch = b""
            batch += p
        if batch:
            self._queue(batch)

    def _queue(self, data: bytes) -> None:
        self.recvq.append(Message(data, addr=self._sockaddr(0, 0)))
        self.wake(POLLIN | POLLRDNORM)

    # ---- receiving --------------------------------------------------------------------------

    def recvmsg(self, dst, flags, caller, stop, got: Transfer) -> Transfer:
        """netlink_recvmsg: one datagram, MSG_TRUNC when the buffers were shorter."""
        if flags & S.MSG_OOB:
            raise KernelError(errno.EOPNOTSUPP)
        if not self.recvq:
            err = self.take_error()
            if err:
                raise KernelError(err)
            if stop:
                raise KernelError(errno.EAGAIN)
            self.must_wait("a netlink reply")
        msg = self.recvq[0]
        copy_datagram(dst, msg.data, flags, got)
        got.addr = msg.addr
        if not flags & S.MSG_PEEK:
            self.recvq.popleft()
        return got

    def poll(self, events: int) -> int:
        mask = POLLOUT | POLLWRNORM
        if self.recvq:
            mask |= POLLIN | POLLRDNORM
        if self.error:
            mask |= POLLERR
        return mask & (events | POLLERR)

    def shutdown(self, how: int) -> None:
        if how not in (S.SHUT_RD, S.SHUT_WR, S.SHUT_RDWR):
            raise KernelError(errno.EINVAL)
        self.shut |= how + 1

    def inq(self) -> int:
        return len(self.recvq[0].data) if self.recvq else 0

    # ---- SOL_NETLINK options -----------------------------------------------------------------

    def protocol_setsockopt(self, level: int, name: int, value: bytes) -> None:
        if level != S.SOL_NETLINK:
            raise KernelError(errno.ENOPROTOOPT)
        if len(value) < 4:
            raise KernelError(errno.EINVAL)
        v = int.from_bytes(value[:4], "little")
        if name in (N.NETLINK_ADD_MEMBERSHIP, N.NETLINK_DROP_MEMBERSHIP):
            if not 0 < v <= 32:
                raise KernelError(errno.EINVAL)
            bit = 1 << (v - 1)
            self.groups = self.groups | bit if name == N.NETLINK_ADD_MEMBERSHIP \
                else self.groups & ~bit
            return
        if name in (N.NETLINK_PKTINFO, N.NETLINK_NO_ENOBUFS, N.NETLINK_CAP_ACK,
                    N.NETLINK_EXT_ACK, N.NETLINK_GET_STRICT_CHK):
            self.options[name] = 1 if v else 0
            return
        raise KernelError(errno.ENOPROTOOPT)

    def protocol_getsockopt(self, level: int, name: int) -> bytes:
        if level != S.SOL_NETLINK:
            raise KernelError(errno.ENOPROTOOPT)
        if name in (N.NETLINK_PKTINFO, N.NETLINK_NO_ENOBUFS, N.NETLINK_CAP_ACK,
                    N.NETLINK_EXT_ACK, N.NETLINK_GET_STRICT_CHK):
            return self.options.get(name, 0).to_bytes(4, "little")
        raise KernelError(errno.ENOPROTOOPT)


def create(net, sock_type: int, protocol: int, flags: int) -> NetlinkSocket:
    """netlink_create: SOCK_RAW or SOCK_DGRAM (ESOCKTNOSUPPORT otherwise), a protocol
    below MAX_LINKS that exists (EPROTONOSUPPORT): NETLINK_ROUTE here."""
    if sock_type not in (S.SOCK_RAW, S.SOCK_DGRAM):
        raise KernelError(errno.ESOCKTNOSUPPORT)
    if protocol < 0 or protocol >= N.NETLINK_MAX_LINKS or protocol != N.NETLINK_ROUTE:
        raise KernelError(errno.EPROTONOSUPPORT)
    return NetlinkSocket(net, sock_type, protocol, flags)
