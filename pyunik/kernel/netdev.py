"""The kernel's network card: when `--net` asks for one, boot makes the network
(net/network.py: the guest's stack, the virtio-net card as eth0, its backend) and
hands it to the network namespace (net/socket.NetNamespace), whose sockets, netlink
and SIOCGIF* ioctls then use it. The DNS responder of the user network answers from
the guest's /etc/hosts and --dns entries.

Layer: kernel. Calls net/network.py (imported only when a network is asked for, so
runs without one never load numpy), net/dns.py, and the VFS to
read the guest's /etc/hosts.
"""

from __future__ import annotations

import time

from ..errors import KernelError

HOSTS_LIMIT = 1 << 20                 # bytes of /etc/hosts read for the DNS responder


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
        network = Network.configure(config.net, pcap=config.pcap, realtime=time.time_ns,
                                    names=names, trace=trace)
    except ValueError as e:
        raise NetworkError(str(e)) from None
    except OSError as e:
        raise NetworkError("--net %s: %s" % (config.net, e.strerror or e)) from None
    return network


def _guest_hosts(kernel) -> str:
    try:
        inode = kernel.vfs.resolve_absolute(b"/etc/hosts").inode
        return inode.read(0, HOSTS_LIMIT).decode("utf-8", "replace")
    except KernelError:
        return ""
