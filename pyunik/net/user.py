"""The user-mode network (`--net user`), QEMU's slirp in spirit: a backend behind the
guest's card that runs a stack instance of its own (net/stack.py, the same code as
the guest's) at the gateway 10.0.2.2 and the DNS server 10.0.2.3, and relays what
the guest sends through host sockets.

    net = UserNetwork([Forward("udp", "127.0.0.1", 5353, 53)], outbound=False,
                      names={"db": ip("10.0.2.2")})
    device.attach(net)                 # the backend: send(frame), attach(receive)
    guest_stack.pollers.append(net.poll)
    net.host_fds()                     # (fd, events) the kernel's idle wait watches

What the guest reaches:
- 10.0.2.2 is the host's loopback: a UDP datagram to 10.0.2.2:P goes out of a host
  socket to 127.0.0.1:P, and the answers come back from 10.0.2.2:P.
- 10.0.2.3:53 answers DNS from `names` (the guest's /etc/hosts and --dns entries);
  nothing is forwarded to the host's resolvers.
- Any other address only with outbound=True (a host socket to it); without it, a
  UDP datagram gets ICMP port unreachable and a ping host unreachable, and no host
  socket is opened (`host_sockets_opened` counts them).
- hostfwd: a host socket bound at HOSTADDR:HOSTPORT; what a host peer sends there
  reaches the guest's GUESTPORT from 10.0.2.2 (one NAT port per peer), and the
  guest's answers go back to that peer.

TCP goes the same ways (net/user_tcp.py): a guest connection to 10.0.2.2:P is a
host connection to 127.0.0.1:P, others only with outbound=True and otherwise answered
with RST; a tcp hostfwd makes connections from 10.0.2.2 to the guest's port.

Layer: net. Calls net/stack.py, net/user_tcp.py, net/dns.py, net/datagram.py and the
host's socket module (non-blocking sockets only; nothing here ever blocks).
"""

from __future__ import annotations

import errno
import socket
from typing import Callable

from ..abi.if_ether import ETH_DATA_LEN
from ..abi.poll import POLLIN
from .datagram import Datagram
from .dns import answer
from .ethernet import parse_mac
from .stack import Stack, ip, ip_text
from .user_tcp import NatTcp

GATEWAY, NAMESERVER, GUEST = "10.0.2.2", "10.0.2.3", "10.0.2.15"


class Forward:
    """hostfwd=PROTO:HOSTADDR:HOSTPORT-GUESTADDR:GUESTPORT (QEMU's syntax)."""

    def __init__(self, protocol: str, host_addr: str, host_port: int, guest_port: int,
                 guest_addr: str = GUEST):
        self.protocol, self.host_addr, self.host_port = protocol, host_addr, host_port
        self.guest_addr, self.guest_port = guest_addr, guest_port

    @classmethod
    def parse(cls, text: str) -> "Forward":
        """tcp:127.0.0.1:8080-:80, udp::5353-10.0.2.15:53; ValueError otherwise."""
        try:
            protocol, rest = text.split(":", 1)
            host, guest = rest.split("-", 1)
            host_addr, host_port = host.rsplit(":", 1)
            guest_addr, guest_port = guest.rsplit(":", 1)
            forward = cls(protocol or "tcp", host_addr or "127.0.0.1", int(host_port),
                          int(guest_port), guest_addr or GUEST)
        except ValueError:
            raise ValueError("hostfwd=%s: want [tcp|udp]:[hostaddr]:hostport-[guestaddr]:"
                             "guestport" % text) from None
        if forward.protocol not in ("tcp", "udp") or not (
                0 < forward.host_port < 65536 and 0 < forward.guest_port < 65536):
            raise ValueError("hostfwd=%s: bad protocol or port" % text)
        ip(forward.host_addr), ip(forward.guest_addr)
        return forward


class _Link:
    """The NAT stack's side of the wire: frames from the guest's card come in
    through the backend's send(); what the NAT stack transmits goes to the card.
    Both ways a TCP checksum may stay partial (checksum offload): the card and the
    NAT stack are in this process, no wire between them, and the card finishes the
    checksum for a driver or a tap that wants it whole."""

    checksum_offload = True
    gso_max_size = 65535              # TSO: the card cuts what a wire must see whole

    def __init__(self):
        self.inbox: list[tuple[bytes, bool]] = []
        self.deliver: Callable[..., object] | None = None

    @property
    def pending(self) -> bool:
        return bool(self.inbox)

    def receive(self) -> list[bytes]:
        return [frame for frame, _ in self.receive_packets()]

    def receive_packets(self) -> list[tuple[bytes, bool]]:
        frames, self.inbox = self.inbox, []
        return frames

    def transmit(self, frame: bytes, csum: tuple[int, int] | None = None,
                 gso: int = 0) -> bool:
        if self.deliver is None:
            return False
        if csum is None:
            self.deliver(frame)
        elif gso:
            self.deliver(frame, csum, gso)
        else:
            self.deliver(frame, csum)
        return True


class _Relay:
    """A UDP flow through one host socket: the NAT port the guest sees, and where
    the host's answers go (guest address and port)."""

    def __init__(self, sock: socket.socket, nat_addr: bytes, nat_port: int,
                 guest: bytes, guest_port: int, now: int):
        self.sock = sock
        self.nat_addr, self.nat_port = nat_addr, nat_port
        self.guest, self.guest_port = guest, guest_port
        self.last = now


class UserNetwork:
    """The backend and its stack. Owned here: the NAT stack, the UDP relays by flow,
    the forward sockets, and the count of host sockets ever opened."""

    def __init__(self, forwards=(), outbound: bool = False,
                 names: dict[str, bytes] | None = None, mac: str = "52:55:0a:00:02:02",
                 max_flows: int = 256, idle: int = 240 * 10**9, mtu: int = ETH_DATA_LEN):
        self.outbound = outbound
        self.names = dict(names or {})
        self.max_flows = max_flows
        self.idle = idle
        self.link = _Link()
        self.stack = Stack("user")
        iface = self.stack.add_interface("eth0", GATEWAY, 24, mtu, self.link, parse_mac(mac))
        iface.addresses.append(ip(NAMESERVER))
        self.stack.accept_any = True
        self.stack.udp_unmatched = self._udp_out
        self.stack.udp_bind(ip(NAMESERVER), 53, self)
        self.report_errors = False
        self.flows: dict[tuple, _Relay] = {}
        self.forwards: list[tuple[Forward, socket.socket, dict]] = []
        self.host_sockets_opened = 0
        self.now = 0
        self.gateway = ip(GATEWAY)
        self.tcp = NatTcp(self)
        try:
            for f in forwards:
                if f.protocol == "tcp":
                    self.tcp.listen_forward(f)
                    continue
                sock = self.host_socket(socket.SOCK_DGRAM)
                try:
                    sock.bind((f.host_addr, f.host_port))
                except OSError:
                    sock.close()
                    raise
                self.forwards.append((f, sock, {}))
        except OSError:
            self.close()
            raise

    # --- the backend face ---------------------------------------------------------------

    def attach(self, receive: Callable[..., object]) -> None:
        """receive(frame), receive(frame, (start, offset)) for a partial checksum,
        receive(frame, (start, offset), gso_size) for a TSO packet."""
        self.link.deliver = receive

    # The card may hand frames with a partial checksum, and TSO packets (see _Link).
    partial_checksums = True
    gso = True

    def send(self, frame: bytes, csum: tuple[int, int] | None = None, gso: int = 0) -> None:
        self.link.inbox.append((bytes(frame), csum is not None))

    def poll(self, now: int) -> None:
        """Relay what host sockets hold, let the NAT stack take the guest's frames,
        forget flows idle too long."""
        self.now = now
        for f, sock, peers in self.forwards:
            self._from_forward(f, sock, peers, now)
        for key, relay in list(self.flows.items()):
            self._from_host(relay, now)
            if now - relay.last > self.idle:
                self._close(key)
        self.stack.now = now
        self.tcp.poll(now)
        self.stack.poll(now)
        self.tcp.poll(now)

    def host_fds(self) -> list[tuple[int, int]]:
        """(fd, poll events) of the host sockets the idle wait watches: UDP ones for
        reading (a full host buffer drops a datagram, as UDP may), TCP's as
        net/user_tcp.py says."""
        return [(s.fileno(), POLLIN) for _, s, _ in self.forwards] + \
            [(r.sock.fileno(), POLLIN) for r in self.flows.values()] + self.tcp.host_fds()

    def close(self) -> None:
        for key in list(self.flows):
            self._close(key)
        for _, sock, _ in self.forwards:
            sock.close()
        self.forwards = []
        self.tcp.close()

    # --- DNS at 10.0.2.3:53 (this object is the port's queue) -------------------------

    def deliver(self, d: Datagram) -> bool:
        reply = answer(d.payload, self.names)
        if reply is not None:
            self.stack.udp_send(d.dst, d.dport, d.src, d.sport, reply, self.now)
        return True

    def set_error(self, errno_value: int) -> None:
        pass                          # the responder sent nothing that can fail

    # --- UDP relays ---------------------------------------------------------------------

    def host_socket(self, kind: int) -> socket.socket:
        """A non-blocking IPv4 host socket (SOCK_DGRAM or SOCK_STREAM), counted."""
        sock = socket.socket(socket.AF_INET, kind)
        sock.setblocking(False)
        self.host_sockets_opened += 1
        return sock

    def tcp_target(self, dst: bytes, port: int):
        """Where a guest connection to dst:port goes on the host, or None (refused)."""
        if dst == self.gateway:
            return ("127.0.0.1", port)
        if self.outbound and dst != ip(NAMESERVER) and not self.stack.is_local(dst):
            return (ip_text(dst), port)
        return None

    def _udp_out(self, d: Datagram, now: int) -> bool:
        """A guest datagram no NAT port took: relay it, or refuse it (False)."""
        if d.dst == ip(GATEWAY):
            target = ("127.0.0.1", d.dport)
        elif self.outbound and d.dst != ip(NAMESERVER):
            target = (ip_text(d.dst), d.dport)
        else:
            return False
        key = (d.src, d.sport, d.dst, d.dport)
        relay = self.flows.get(key)
        if relay is None:
            if len(self.flows) >= self.max_flows:
                self._close(min(self.flows, key=lambda k: self.flows[k].last))
            sock = self.host_socket(socket.SOCK_DGRAM)
            try:
                sock.connect(target)
            except OSError:
                sock.close()
                return False
            relay = self.flows[key] = _Relay(sock, d.dst, d.dport, d.src, d.sport, now)
        relay.last = now
        try:
            relay.sock.send(d.payload)
        except OSError:
            pass                      # a full host buffer or an error: UDP may lose it
        return True

    def _from_host(self, relay: _Relay, now: int) -> None:
        for _ in range(64):
            try:
                data = relay.sock.recv(65535)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno == errno.ECONNREFUSED:
                    continue          # nobody at the host's port: the guest times out
                return
            relay.last = now
            self.stack.udp_send(relay.nat_addr, relay.nat_port, relay.guest, relay.guest_port,
                                data, now)

    def _close(self, key) -> None:
        relay = self.flows.pop(key)
        relay.sock.close()

    def _from_forward(self, f: Forward, sock: socket.socket, peers: dict, now: int) -> None:
        for _ in range(64):
            try:
                data, peer = sock.recvfrom(65535)
            except (BlockingIOError, ConnectionRefusedError):
                return
            except OSError:
                return
            port = peers.get(peer)
            if port is None:
                port = peers[peer] = self.stack.udp_bind(
                    ip(GATEWAY), 0, _ForwardReturn(sock, peer))
            self.stack.udp_send(ip(GATEWAY), port, ip(f.guest_addr), f.guest_port, data, now)


class _ForwardReturn:
    """The NAT port a forward's host peer appears at: the guest's answers to it go
    back to that peer through the forward's socket."""

    report_errors = False

    def __init__(self, sock: socket.socket, peer):
        self.sock, self.peer = sock, peer

    def deliver(self, d: Datagram) -> bool:
        try:
            self.sock.sendto(d.payload, self.peer)
        except OSError:
            pass
        return True

    def set_error(self, errno_value: int) -> None:
        pass
