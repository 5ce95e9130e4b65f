"""The kernel's network card: when `--net` asks for one, boot makes the network
(net/network.py: the guest's stack, the virtio-net card as eth0, its backend) and
hands it to the network namespace (net/socket.NetNamespace), whose sockets, netlink
and SIOCGIF* ioctls then use it. The DNS responder of the user network answers from
the guest's /etc/hosts and --dns entries. The card's virtqueues and buffers live in
a kernel mapping of every process's address space (mm/kernel_area.py): `[virtio-net]`
in /proc/<pid>/maps, above TASK_SIZE, with no guest access; fork and execve keep it
(it is the kernel's, one for all processes).

/proc/net/dev and /proc/net/tcp (fs/proc/system.py) are read through
`Kernel.proc_net_text`, from here.

Layer: kernel. Calls net/network.py (imported only when a network is asked for, so
runs without one never load numpy), net/interface.py (only for /proc/net), net/dns.py,
net/virtio/memory.py, the kernel's mm/kernel_area.py, kernel/signals.py (SIGURG to a
socket's owner), and the VFS to read the guest's /etc/hosts.
"""

from __future__ import annotations

import time

from ..abi.tcp import PROC_NET_TCP_HEADER, PROC_NET_TCP_WIDTH
from ..errors import KernelError

HOSTS_LIMIT = 1 << 20                 # bytes of /etc/hosts read for the DNS responder
LOOPBACK_MTU = 65536                  # lo's, as Linux sets it
RING_MAPPING_NAME = "[virtio-net]"    # the card's memory in /proc/<pid>/maps


class NetworkError(Exception):
    """--net cannot be brought up: bad words, or a host forward's address in use."""


def start_network(kernel):
    """The Network --net names; NetworkError if it cannot be."""
    from ..net.dns import parse_hosts
    from ..net.network import Network

    config = kernel.config
    names = parse_hosts(_guest_hosts(kernel))
    names.update(config.dns)
    trace = None
    if config.trace_virtio is not None:
        out = config.trace_virtio
        trace = lambda line: out.write("pyunik: %s\n" % line)   # noqa: E731
    try:
        network = Network.configure(config.net, ring_memory=lambda size: _ring_memory(kernel, size),
                                    pcap=config.pcap, realtime=time.time_ns,
                                    names=names, trace=trace)
    except ValueError as e:
        raise NetworkError(str(e)) from None
    except OSError as e:
        raise NetworkError("--net %s: %s" % (config.net, e.strerror or e)) from None
    return network


def _ring_memory(kernel, size: int):
    """The card's rings and buffers: a kernel mapping in every process's address
    space (mm/kernel_area.py), `[virtio-net]` in /proc/<pid>/maps, at the guest
    addresses the device and the driver use."""
    from ..net.virtio.memory import BufferMemory

    base, view = kernel.memory.kernel_area.add(size, RING_MAPPING_NAME)
    return BufferMemory(size, base, view)


def signal_owner(kernel, owner: int, sig: int) -> None:
    """send_sigurg: sig from the kernel (SI_KERNEL) to a socket's F_SETOWN owner, the
    process with that pid or thread id (owner > 0) or every process of group -owner."""
    from . import signals
    from ..abi import linux as L

    info = signals.kill_info(sig, L.SI_KERNEL, 0, 0)
    for p in list(kernel.processes.values()):
        if not p.threads:
            continue
        if owner < 0 and p.pgid == -owner or owner > 0 and (
                p.pid == owner or any(t.tid == owner for t in p.threads)):
            signals.send(p, sig, info)


def proc_net_text(kernel, name: bytes) -> bytes:
    """/proc/net/dev and /proc/net/tcp from the network's real state (lo alone, with
    nothing counted, and no TCP socket when no network was made)."""
    from ..net.interface import Interface as StackInterface
    from ..net.interface import proc_net_dev

    network = kernel.net.network if kernel.net.has_network else None
    if name == b"dev":
        interfaces = network.stack.interfaces.values() if network is not None else \
            [StackInterface("lo", 1, "127.0.0.1", 8, LOOPBACK_MTU)]
        return proc_net_dev(interfaces).encode()
    if network is not None and network.stack.tcp is not None:
        return network.stack.tcp.proc_net_tcp(time.monotonic_ns()).encode()
    return ("%-*s\n" % (PROC_NET_TCP_WIDTH, PROC_NET_TCP_HEADER)).encode()


def _guest_hosts(kernel) -> str:
    try:
        inode = kernel.vfs.resolve_absolute(b"/etc/hosts").inode
        return inode.read(0, HOSTS_LIMIT).decode("utf-8", "replace")
    except KernelError:
        return ""
