"""A network interface of a stack: its name and index, MAC address, IPv4 addresses,
MTU, neighbour table, counters, and the link under it.

A link is what moves frames: the virtio-net driver (net/virtio/driver.py) for eth0,
or any object with `transmit(frame) -> bool`, `receive() -> list[bytes]` and a
`pending` attribute (frames may be waiting). The loopback interface has no link:
the stack hands its packets back to itself. A link with offloads says so:
`checksum_offload` (it takes `transmit(frame, (csum_start, csum_offset))` with a
partial TCP checksum), `gso_max_size` (it takes `transmit(frame, csum, gso_size)`,
one TCP segment of many MSS up to that IP length), `receive_packets()` (frames as
(frame, checked) pairs, checked when the checksum needs no verification).

Layer: net. Calls net/arp.py only.
"""

from __future__ import annotations

import ipaddress

from .arp import NeighbourTable


class LinkError(Exception):
    """The link under an interface has failed (a card that needs a reset): the
    stack takes the interface down instead of going on."""


class Counters:
    """What /proc/net/dev shows for one interface."""

    __slots__ = ("rx_packets", "rx_bytes", "rx_dropped", "rx_errors",
                 "tx_packets", "tx_bytes", "tx_dropped", "tx_errors")

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, 0)


class Interface:
    def __init__(self, name: str, index: int, address: str, prefix: int, mtu: int,
                 link=None, mac: bytes | None = None):
        self.name = name
        self.index = index
        self.link = link                       # None: loopback
        self.loopback = link is None
        self.mac = mac
        self.mtu = mtu
        self.up = True
        self.network = ipaddress.IPv4Network("%s/%d" % (address, prefix), strict=False)
        self.mask = int(self.network.netmask)
        self.net = int(self.network.network_address)
        self.bcast = self.network.broadcast_address.packed
        self.addresses = [ipaddress.IPv4Address(address).packed]
        self.neighbours = NeighbourTable() if link is not None else None
        self.counters = Counters()


    @property
    def address(self) -> bytes:
        return self.addresses[0]

    @property
    def prefix(self) -> int:
        return self.network.prefixlen

    def on_link(self, ip: bytes) -> bool:
        return int.from_bytes(ip, "big") & self.mask == self.net

    def broadcast(self) -> bytes:
        return self.bcast


def proc_net_dev(interfaces) -> str:
    """/proc/net/dev from the interfaces' counters, as net/core/net-procfs.c prints it."""
    lines = ["Inter-|   Receive                                                |  Transmit\n",
             " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets"
             " errs drop fifo colls carrier compressed\n"]
    for i in interfaces:
        c = i.counters
        lines.append("%6s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n" % (
            i.name, c.rx_bytes, c.rx_packets, c.rx_errors, c.rx_dropped, 0, 0, 0, 0,
            c.tx_bytes, c.tx_packets, c.tx_errors, c.tx_dropped, 0, 0, 0, 0))
    return "".join(lines)
