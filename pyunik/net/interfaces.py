"""Network interfaces as the socket layer describes them: what netlink's RTM_NEWLINK
and RTM_NEWADDR messages (net/netlink.py) and the SIOCGIF* ioctls (net/core/dev_ioctl.c,
net/ipv4/devinet.c) report.

An `Interface` is a description, not a device: index, name, flags, MTU, hardware type
and address, and its IPv4 addresses. The namespace (net/socket.NetNamespace) keeps the
list, loopback first; the device behind eth0, when a network is configured, is the
stack's (net/stack.py), which adds its description here.

Layer: net. Called by net/netlink.py and Socket.ioctl; calls abi/ only.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

from ..abi import netdevice as D
from ..abi.if_arp import ARPHRD_ETHER, ARPHRD_LOOPBACK
from ..abi import socket as S
from ..abi.inet import SOCKADDR_IN
from ..abi.netlink import RT_SCOPE_HOST
from ..errors import KernelError


@dataclass
class IPv4Address:
    address: bytes              # 4 bytes, network order
    prefixlen: int
    broadcast: bytes | None = None
    scope: int = 0              # RT_SCOPE_*

    @property
    def netmask(self) -> bytes:
        return ((0xFFFFFFFF << (32 - self.prefixlen)) & 0xFFFFFFFF).to_bytes(4, "big")


@dataclass
class Interface:
    index: int
    name: bytes
    flags: int
    mtu: int
    hwtype: int
    hwaddr: bytes = b"\0" * 6
    hwbroadcast: bytes = b"\0" * 6
    txqlen: int = 1000
    addrs: list = field(default_factory=list)


def loopback() -> Interface:
    """lo as Linux brings it up: 127.0.0.1/8, host scope, MTU 65536."""
    return Interface(1, b"lo", D.IFF_UP | D.IFF_LOOPBACK | D.IFF_RUNNING | D.IFF_LOWER_UP,
                     65536, ARPHRD_LOOPBACK,
                     addrs=[IPv4Address(bytes((127, 0, 0, 1)), 8, None, RT_SCOPE_HOST)])


def _by_name(interfaces, name: bytes) -> Interface:
    name = name.split(b"\0", 1)[0]
    for i in interfaces:
        if i.name == name:
            return i
    raise KernelError(errno.ENODEV)


def _sockaddr_in(addr: bytes) -> bytes:
    return SOCKADDR_IN.pack(S.AF_INET, b"\0\0", addr)


_DEVICE_REQUESTS = (D.SIOCGIFFLAGS, D.SIOCGIFMTU, D.SIOCGIFHWADDR, D.SIOCGIFINDEX,
                    D.SIOCGIFNAME, D.SIOCGIFMETRIC, D.SIOCGIFMAP, D.SIOCGIFTXQLEN)
_INET_REQUESTS = (D.SIOCGIFADDR, D.SIOCGIFDSTADDR, D.SIOCGIFNETMASK, D.SIOCGIFBRDADDR)


def ifreq_ioctl(interfaces, request: int, arg: int, mm, inet: bool) -> int:
    """The SIOCGIF* requests on a socket: ifreq in, the answer written into its
    union; ENODEV for an unknown name. The address requests need an AF_INET socket
    (devinet_ioctl; ENOTTY on others, as dev_ioctl answers) and an address
    (EADDRNOTAVAIL). The metric is 0 and the hardware map all zeros (a virtio card
    has no I/O ports, memory window or interrupt line of its own), as Linux's for
    lo and virtio-net. Returns None for a request that is not one of these."""
    if request == D.SIOCGIFCONF:
        return _ifconf(interfaces, arg, mm)
    if request not in _DEVICE_REQUESTS and request not in _INET_REQUESTS:
        return None
    if request in _INET_REQUESTS and not inet:
        raise KernelError(errno.ENOTTY)
    raw = mm.read(arg, D.IFREQ_SIZE)
    if request == D.SIOCGIFNAME:
        index = int.from_bytes(raw[16:20], "little", signed=True)
        for i in interfaces:
            if i.index == index:
                mm.write(arg, D.IFREQ_NAME.pack(i.name))
                return 0
        raise KernelError(errno.ENODEV)
    dev = _by_name(interfaces, raw[:D.IFNAMSIZ])
    if request == D.SIOCGIFFLAGS:
        out = (dev.flags & 0xFFFF).to_bytes(2, "little")
    elif request in (D.SIOCGIFMTU, D.SIOCGIFINDEX, D.SIOCGIFTXQLEN, D.SIOCGIFMETRIC):
        value = {D.SIOCGIFMTU: dev.mtu, D.SIOCGIFINDEX: dev.index,
                 D.SIOCGIFTXQLEN: dev.txqlen, D.SIOCGIFMETRIC: 0}[request]
        out = value.to_bytes(4, "little")
    elif request == D.SIOCGIFMAP:
        out = bytes(24)                # struct ifmap: memory window, port, irq, dma
    elif request == D.SIOCGIFHWADDR:
        out = S.SA_FAMILY.pack(dev.hwtype) + dev.hwaddr.ljust(14, b"\0")
    else:
        if not dev.addrs:
            raise KernelError(errno.EADDRNOTAVAIL)
        a = dev.addrs[0]
        if request in (D.SIOCGIFADDR, D.SIOCGIFDSTADDR):   # no point-to-point links
            out = _sockaddr_in(a.address)
        elif request == D.SIOCGIFNETMASK:
            out = _sockaddr_in(a.netmask)
        else:
            out = _sockaddr_in(a.broadcast or b"\0\0\0\0")
    mm.write(arg + D.IFNAMSIZ, out)
    return 0


def _ifconf(interfaces, arg: int, mm) -> int:
    """SIOCGIFCONF: one ifreq (name, sockaddr_in) per IPv4 address, as many as
    ifc_len holds; ifc_len becomes the bytes used (the bytes needed when ifc_buf is
    NULL)."""
    length, buf = D.IFCONF.unpack(mm.read(arg, D.IFCONF.size))
    entries = [D.IFREQ_NAME.pack(i.name) + _sockaddr_in(a.address).ljust(24, b"\0")
               for i in interfaces for a in i.addrs]
    if not buf:
        used = len(entries) * D.IFREQ_SIZE
    else:
        fit = entries[:max(0, length) // D.IFREQ_SIZE]
        if fit:
            mm.write(buf, b"".join(fit))
        used = len(fit) * D.IFREQ_SIZE
    mm.write(arg, used.to_bytes(4, "little", signed=True))
    return 0


def describe(iface) -> Interface:
    """A stack's interface (net/interface.py) as sockets describe it."""
    if iface.loopback:
        d = loopback()
        d.index, d.mtu = iface.index, iface.mtu
        return d
    flags = D.IFF_UP | D.IFF_BROADCAST | D.IFF_RUNNING | D.IFF_MULTICAST | D.IFF_LOWER_UP \
        if iface.up else D.IFF_BROADCAST | D.IFF_MULTICAST
    return Interface(iface.index, iface.name.encode(), flags, iface.mtu, ARPHRD_ETHER,
                     iface.mac or b"\0" * 6, b"\xff" * 6,
                     addrs=[IPv4Address(a, iface.prefix, iface.broadcast())
                            for a in iface.addresses])
