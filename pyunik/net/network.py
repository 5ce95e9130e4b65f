"""A kernel's network, put together from its pieces: the guest's stack (always, with
lo 127.0.0.1/8) and, when `--net` names a backend, the virtio-net card as eth0, the
driver the stack drives it with, the backend behind it, and a pcap tap.

    net = Network.configure("user,hostfwd=udp::5353-:53", pcap=open("eth0.pcap", "wb"),
                            realtime=clock, names=parse_hosts(etc_hosts))
    net.stack                      # what sockets bind and send through; stack.tcp is
                                   # its TcpTable (connection, listen, unlisten)
    net.poll(now)                  # the run loop: frames in, timers run
    net.next_deadline(), net.host_fds()   # what the idle wait waits for: time, (fd, events)
    net.set_trace(print)           # --trace virtio

How the kernel drives it without a thread of its own: every socket call runs
`net.poll(now)` first (frames in, timers, the NAT's host sockets), then does its
work; one that must wait raises `net.wait([queues], what)`: a WouldBlock on the
socket's queues that also ends when a host socket of the backend is readable or the
network's next timer is due, so the retried call polls again. A guest idle in
accept() with nothing arriving costs no host CPU.

The card's rings and buffers live in memory that `ring_memory(size)` gives (a
BufferMemory at its guest address): a pyunik kernel passes its own mapping in the
kernel half of every process's address space (mm/kernel_area.py via kernel/netdev.py),
as OSv keeps its virtqueues in its one address space; without it a bytearray of
their own (tests, the API's networks made without a kernel).

`--net` takes QEMU's words: `user` with `hostfwd=...` (any number), `outbound=on|off`,
`mac=52:54:00:12:34:56`, `mtu=N` (68 to 65535; VIRTIO_NET_F_MTU tells
the driver; 1500 by default); `hub=NAME` with `mac=` and `ip=` (a /24 on a switch shared
by guests: of one process through the API's hubs, else of every pyunik process of
this user through UNIX sockets); `none` (lo only). A bad word is a ValueError with
one line.

Layer: net. Calls wait.py, net/stack.py, net/tcp_table.py, net/user.py, net/hub.py,
net/pcap.py, net/backend.py and net/virtio/; the kernel makes one per kernel.
"""

from __future__ import annotations

from typing import Callable

from ..abi.if_ether import ETH_DATA_LEN, ETH_MAX_MTU, ETH_MIN_MTU
from ..abi.ip import IP_MAX_PACKET, IPHDR
from ..abi.tcp import TCP_HEADER_LEN
from ..wait import WouldBlock
from .backend import PcapTap
from .ethernet import parse_mac
from .hub import Hub, UnixHubPort
from .pcap import PcapWriter
from .stack import Stack, ip
from .tcp_segment import MalformedSegment, decode_segment
from .tcp import TcpConfig
from .tcp_table import TcpTable
from .user import Forward, UserNetwork
from .virtio.device import VirtioNetDevice
from .virtio.driver import VirtioNetDriver
from .virtio.memory import BufferMemory


def with_tcp(stack: Stack) -> Stack:
    """The stack with its TCP table (net/tcp_table.py) attached: `stack.tcp`, its MSS
    from eth0's MTU (lo's without eth0); a socket may pass another config."""
    iface = stack.interfaces.get("eth0") or stack.interfaces["lo"]
    gso = getattr(iface.link, "gso_max_size", 0)           # the card's TSO
    config = TcpConfig(mss=min(iface.mtu, IP_MAX_PACKET) - IPHDR.size - TCP_HEADER_LEN,
                       gso_max=max(0, gso - IPHDR.size - TCP_HEADER_LEN))
    stack.attach_tcp(TcpTable(stack.tcp_emit, config), decode_segment, MalformedSegment)
    return stack


def parse_net_spec(spec: str) -> dict:
    """--net's text -> {"backend": "user", "forwards": [...], "outbound": bool, "mac": bytes}."""
    words = [w for w in spec.split(",") if w]
    if not words:
        raise ValueError("--net: empty")
    options = {"backend": words[0], "forwards": [], "outbound": False,
               "mac": parse_mac("52:54:00:12:34:56"), "ip": "10.0.3.15",
               "mtu": ETH_DATA_LEN}
    if words[0].startswith("hub="):
        options["backend"], options["hub"] = "hub", words[0][4:]
        if not options["hub"]:
            raise ValueError("--net hub=: a hub needs a name")
    elif options["backend"] not in ("user", "none"):
        raise ValueError("--net %s: the backends are user, hub=NAME and none" % words[0])
    for word in words[1:]:
        key, _, value = word.partition("=")
        if key == "ip" and options["backend"] == "hub":
            ip(value)
            options["ip"] = value
        elif key == "hostfwd" and options["backend"] == "user":
            options["forwards"].append(Forward.parse(value))
        elif key == "mtu" and value.isdigit() and ETH_MIN_MTU <= int(value) <= ETH_MAX_MTU:
            options["mtu"] = int(value)
        elif key == "outbound" and value in ("on", "off"):
            options["outbound"] = value == "on"
        elif key == "mac":
            options["mac"] = parse_mac(value)
            if options["mac"][0] & 1:
                raise ValueError("--net mac=%s: a multicast address" % value)
        else:
            raise ValueError("--net: %r is not understood" % word)
    return options


def ring_area_size(mtu: int) -> int:
    """Bytes of the card's memory: its two rings, 256 receive buffers and 256 transmit
    slots of the largest frame (net/virtio/driver.py lays them out)."""
    return (2 << 20) + 256 * (mtu + 128)


class Network:
    """Owned here: the guest stack, and with a backend the card, its driver, the
    backend, the pcap writer."""

    def __init__(self, stack: Stack, device=None, driver=None, backend=None, pcap=None):
        self.stack = stack
        self.device = device
        self.driver = driver
        self.backend = backend
        self.pcap = pcap

    @classmethod
    def configure(cls, spec: str | None = None,
                  ring_memory: Callable[[int], BufferMemory] | None = None, pcap=None,
                  realtime: Callable[[], int] | None = None,
                  names: dict[str, bytes] | None = None,
                  hubs: dict[str, Hub] | None = None,
                  hub_directory: str | None = None,
                  trace: Callable[[str], None] | None = None) -> "Network":
        """The network --net spec asks for (None or "none": loopback only). pcap is a
        binary file to capture eth0 into; realtime gives its timestamps (ns); hubs
        holds the switches of this process by name (hub=NAME makes one there); without
        it hub=NAME joins the guests of other processes (UnixHubPort, in
        hub_directory if given). ring_memory(size) gives the memory of the card's
        rings and buffers (see above)."""
        options = parse_net_spec(spec or "none")
        if options["backend"] == "none":
            return cls(with_tcp(Stack.guest()))
        if options["backend"] == "hub" and hubs is not None:
            backend = hubs.setdefault(options["hub"], Hub(options["hub"])).port()
        elif options["backend"] == "hub":
            backend = UnixHubPort(options["hub"], hub_directory)
        else:
            backend = UserNetwork(options["forwards"], options["outbound"], names,
                                  mtu=options["mtu"])
        memory = (ring_memory or BufferMemory)(ring_area_size(options["mtu"]))
        writer = None
        wire = backend
        if pcap is not None:
            writer = PcapWriter(pcap)
            wire = PcapTap(backend, writer, realtime or (lambda: 0))
        device = VirtioNetDevice(memory, options["mac"], wire, mtu=options["mtu"])
        device.trace = trace          # --trace virtio: the handshake too
        driver = VirtioNetDriver(device, memory, memory.base, memory.size)
        mac = driver.probe()
        if options["backend"] == "hub":
            stack = Stack("guest")
            stack.add_interface("lo", "127.0.0.1", 8, 65536)
            stack.add_interface("eth0", options["ip"], 24, driver.mtu, driver, mac)
            with_tcp(stack)
            stack.pollers.append(backend.poll)
            return cls(stack, device, driver, backend, writer)
        stack = with_tcp(Stack.guest(driver, mac, mtu=driver.mtu))
        stack.pollers.append(backend.poll)
        return cls(stack, device, driver, backend, writer)

    def set_trace(self, trace: Callable[[str], None] | None) -> None:
        """--trace virtio: one line per chain, ring index and notification."""
        if self.device is not None:
            self.device.trace = trace
            for q in self.device.queues:
                if q is not None:
                    q.trace = trace

    def poll(self, now: int) -> bool:
        return self.stack.poll(now)

    def next_deadline(self) -> int | None:
        return self.stack.next_deadline()

    def host_fds(self) -> list[tuple[int, int]]:
        """(fd, poll events) of the backend's host fds, for the idle wait."""
        return self.backend.host_fds() if self.backend is not None else []

    def wait(self, queues, what: str = "") -> WouldBlock:
        """What a socket call raises to wait for its queues or for the network."""
        return WouldBlock(queues, deadline=self.next_deadline(), host=self.host_fds(),
                          what=what)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
        if self.pcap is not None:
            self.pcap.flush()
