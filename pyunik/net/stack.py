"""One TCP/IP stack instance: its interfaces, the route out, IPv4 in and out, ARP,
ICMP, UDP, and the demultiplexer that hands TCP segments to TCP. Sans-IO: nothing
here reads a clock or touches a host socket; time (monotonic ns) comes in as `now`.
Several stacks live in one process (a guest's, the user-mode NAT's).

    stack = Stack.guest(link)            # lo 127.0.0.1/8, eth0 10.0.2.15/24 via 10.0.2.2
    stack.poll(now)                      # take frames in, run timers; True if work was done
    stack.next_deadline()                # when poll() has timer work next (or None)
    stack.send_ip(src, dst, proto, payload, now, ttl=64)    # KernelError on no route

What the socket layer and TCP use (the smallest interface, written before they were):

- UDP: `udp_bind(addr, port, queue)` with a DatagramQueue (net/datagram.py); addr
  b"\\0\\0\\0\\0" is INADDR_ANY; port 0 picks an ephemeral port; the port is returned.
  `udp_unbind(addr, port)`. `udp_send(src, sport, dst, dport, payload, now)`.
  Datagrams for a port nobody bound get ICMP port unreachable (rate limited); an ICMP
  error about a datagram a queue sent is reported with queue.set_error(errno) when
  `queue.report_errors` is set (a connected socket, as Linux's __udp4_lib_err).
- ICMP echo ("ping" datagram sockets): `icmp_bind(ident, queue)`; echo replies with
  that identifier are delivered there. Echo requests to our addresses are answered
  here.
- Raw sockets (net/raw_socket.py): `raw_bind(sock)`, `raw_unbind(sock)`; every IPv4
  packet for this host is offered whole to each with `sock.raw_receive(p, data)`
  (p decoded, data its IP header and payload, as raw_local_deliver) before the
  protocol's own handler. `send_packet(packet, dst, now)` sends a packet whose header the
  caller built (IP_HDRINCL); `next_ident()` gives the next IP id.
- TCP (net/tcp_table.py's TcpTable, or any object with the same three methods):
  `attach_tcp(table, decode, malformed)`. The stack hands every TCP segment for it
  to `table.segment_arrives(decode(data, src, dst), src, dst, now)` (decode checks
  the checksum; a `malformed` exception it raises drops and counts the segment) and
  runs `table.timer(now)` when `table.next_deadline()` has come (what a timer sends
  over lo is delivered in the same poll, as a keepalive probe's answer must be before
  the next probe is due). The table sends
  through `stack.tcp_emit(src, dst, seg)`: seg.encode(src, dst) goes out in IPv4
  protocol 6 at `stack.now`: the time poll() was last given, which the socket layer
  sets too before it calls into TCP.
  `ephemeral_port(protocol)` gives a free local port (TCP's in_use is the table's).

Layer: net. Calls net/ethernet, arp, ipv4, icmp, udp, datagram, interface, checksum
and abi/; links (the virtio driver) through their transmit/receive.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from errno import ECONNREFUSED, EHOSTUNREACH, EMSGSIZE, ENETUNREACH

from ..abi import icmp as I
from ..abi.if_arp import ARPOP_REPLY, ARPOP_REQUEST
from ..abi.if_ether import ETH_DATA_LEN, ETH_HLEN, ETH_P_ARP, ETH_P_IP
from ..abi.inet import (INADDR_ANY, IP_LOCAL_PORT_RANGE, IPPROTO_ICMP, IPPROTO_TCP,
                       IPPROTO_UDP)
from ..abi.ip import IPDEFTTL, IPHDR
from ..abi.tcp import TCPHDR_CHECK_OFFSET
from ..errors import KernelError
from .arp import build_arp, parse_arp
from .checksum import complete_checksum, internet_checksum
from .segmentation import segment_tcp4
from .datagram import Datagram, DatagramQueue
from .ethernet import BROADCAST_MAC, build_frame, parse_frame
from .icmp import RateLimit, build_error, build_icmp, parse_icmp
from .interface import Interface, LinkError
from .ipv4 import Reassembler, build_header, fragments, parse_packet
from .udp import build_udp, parse_udp

ANY = INADDR_ANY.to_bytes(4, "big")
LIMITED_BROADCAST = b"\xff\xff\xff\xff"


def ip(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def ip_text(addr: bytes) -> str:
    return str(ipaddress.IPv4Address(addr))


class Stack:
    """State owned by the stack: interfaces, the default gateway, the fragment
    queues, the port tables (udp, icmp, tcp), the loopback queue, the IP id counter
    and the ICMP error rate limit."""

    def __init__(self, name: str = "stack"):
        self.name = name
        self.interfaces: dict[str, Interface] = {}
        self.gateway: bytes | None = None
        self.dns: bytes | None = None
        self.reassembler = Reassembler()
        self.icmp_limit = RateLimit()
        self.ident = 0
        self.udp_ports: dict[tuple[bytes, int], DatagramQueue] = {}
        self.icmp_sockets: dict[int, DatagramQueue] = {}
        self.raw_sockets: list = []       # net/raw_socket.RawSocket, in creation order
        self.tcp = None                   # the TCP table, once attached
        self.tcp_decode = None
        self.tcp_malformed: type = Exception
        self.now = 0                      # the time of the call being handled
        self.loopback_queue: deque = deque()
        self.pollers: list = []           # callables(now) run by poll: backends
        self.accept_any = False           # take packets for any address (the NAT's)
        # udp_unmatched(datagram, now) -> bool: a datagram no port took is handled
        # there (the NAT relays it) if it returns True, else port unreachable.
        self.udp_unmatched = None
        self.next_port = IP_LOCAL_PORT_RANGE[0]
        self.dropped = 0                  # frames and packets dropped as malformed
        self.trace = None

    @classmethod
    def guest(cls, link=None, mac: bytes | None = None, name: str = "guest",
              mtu: int = ETH_DATA_LEN) -> "Stack":
        """QEMU user-mode networking's addresses: lo, and eth0 if there is a link."""
        stack = cls(name)
        stack.add_interface("lo", "127.0.0.1", 8, 65536)
        if link is not None:
            stack.add_interface("eth0", "10.0.2.15", 24, mtu, link, mac)
            stack.gateway, stack.dns = ip("10.0.2.2"), ip("10.0.2.3")
        return stack

    def add_interface(self, name: str, address: str, prefix: int, mtu: int, link=None,
                      mac: bytes | None = None) -> Interface:
        iface = Interface(name, len(self.interfaces) + 1, address, prefix, mtu, link, mac)
        self.interfaces[name] = iface
        return iface

    # --- addresses and routes ---------------------------------------------------------

    def is_local(self, addr: bytes) -> bool:
        for i in self.interfaces.values():
            if addr in i.addresses or (i.loopback and i.on_link(addr)):
                return True
        return False

    def _for_us(self, iface: Interface, dst: bytes) -> bool:
        return (self.accept_any or self.is_local(dst) or dst == LIMITED_BROADCAST
                or (not iface.loopback and dst == iface.broadcast()))

    def route(self, dst: bytes) -> tuple[Interface, bytes]:
        """(interface, next hop) for dst; KernelError(ENETUNREACH) if none."""
        if self.is_local(dst):
            for i in self.interfaces.values():
                if i.loopback and i.up:
                    return i, dst
        for i in self.interfaces.values():
            if not i.loopback and i.up and (i.on_link(dst) or dst == LIMITED_BROADCAST):
                return i, dst
        if self.gateway is not None:
            for i in self.interfaces.values():
                if not i.loopback and i.up and i.on_link(self.gateway):
                    return i, self.gateway
        raise KernelError(ENETUNREACH)

    def source_for(self, dst: bytes) -> bytes:
        """The address an unbound socket sends from to reach dst."""
        iface, _ = self.route(dst)
        return dst if iface.loopback else iface.address

    def ephemeral_port(self, protocol: int, addr: bytes = ANY) -> int:
        low, high = IP_LOCAL_PORT_RANGE
        for _ in range(high - low + 1):
            port, self.next_port = self.next_port, self.next_port + 1
            if self.next_port > high:
                self.next_port = low
            if not self._port_used(protocol, port):
                return port
        raise KernelError(EHOSTUNREACH)

    def _port_used(self, protocol: int, port: int) -> bool:
        if protocol == IPPROTO_UDP:
            return any(p == port for _, p in self.udp_ports)
        return self.tcp is not None and self.tcp.in_use((ANY, port))

    def attach_tcp(self, table, decode, malformed: type) -> None:
        """Hand TCP segments to table from now on (see the module docstring)."""
        self.tcp, self.tcp_decode, self.tcp_malformed = table, decode, malformed

    def tcp_emit(self, src: bytes, dst: bytes, seg) -> None:
        """What TCP sends: the segment, encoded with its checksum, in protocol 6. Out
        of a link that finishes checksums (`checksum_offload`, as a card with
        NETIF_F_HW_CSUM) the checksum is left partial for it, as Linux's
        CHECKSUM_PARTIAL."""
        try:
            iface, hop = self.route(dst)
        except KernelError:
            return                        # no route: TCP's retransmission timer decides
        link = iface.link
        if link is None or not getattr(link, "checksum_offload", False):
            self.send_ip(src, dst, IPPROTO_TCP, seg.encode(src, dst), self.now)
            return
        data = seg.encode(src, dst, partial=True)
        length = IPHDR.size + len(data)
        # A segment of several MSS (TSO) goes whole to a link that cuts it.
        gso = seg.gso_size if length > iface.mtu and length <= getattr(
            link, "gso_max_size", 0) else 0
        if length > iface.mtu and not gso:
            # Fragments carry no offload: the checksum is finished here.
            data = complete_checksum(data, 0, TCPHDR_CHECK_OFFSET)
            self.send_ip(src, dst, IPPROTO_TCP, data, self.now)
            return
        packet = build_header(src, dst, IPPROTO_TCP, len(data), self.next_ident()) + data
        self._output(iface, hop, packet, self.now,
                     (ETH_HLEN + IPHDR.size, TCPHDR_CHECK_OFFSET), gso)

    # --- output -----------------------------------------------------------------------

    def send_ip(self, src: bytes, dst: bytes, protocol: int, payload: bytes, now: int,
                ttl: int = IPDEFTTL, tos: int = 0, dont_fragment: bool = False) -> None:
        """Send one IPv4 datagram, in fragments if it does not fit the MTU."""
        iface, hop = self.route(dst)
        packets = fragments(src, dst, protocol, bytes(payload), self.next_ident(), iface.mtu,
                            ttl, tos, dont_fragment)
        if packets is None:
            raise KernelError(EMSGSIZE)
        for packet in packets:
            self._output(iface, hop, packet, now)

    def next_ident(self) -> int:
        self.ident = (self.ident + 1) & 0xFFFF
        return self.ident

    def send_packet(self, packet: bytes, dst: bytes, now: int) -> None:
        """Send a whole IPv4 packet as given, routed to dst (IP_HDRINCL)."""
        iface, hop = self.route(dst)
        self._output(iface, hop, packet, now)

    def _output(self, iface: Interface, hop: bytes, packet: bytes, now: int,
                csum: tuple[int, int] | None = None, gso: int = 0) -> None:
        """packet out of iface to hop; csum (start, offset in the frame) marks a
        checksum the link finishes, gso a TCP segment the link cuts in pieces."""
        iface.counters.tx_packets += 1
        iface.counters.tx_bytes += len(packet)
        if iface.loopback:
            self.loopback_queue.append(packet)
            return
        if hop == LIMITED_BROADCAST or hop == iface.broadcast():
            mac = BROADCAST_MAC
        else:
            if csum is not None and iface.neighbours.lookup(hop, now) is None:
                # It may wait for ARP, and what waits is sent as plain frames.
                if gso:
                    for piece in segment_tcp4(bytes(ETH_HLEN - 2) + b"\x08\x00" + packet, gso):
                        self._output(iface, hop, piece[ETH_HLEN:], now)
                    return
                start, offset = csum
                packet = complete_checksum(packet, start - ETH_HLEN, offset)
                csum = None
            mac, ask = iface.neighbours.resolve(hop, packet, now)
            if ask:
                self._arp_request(iface, hop)
            if mac is None:
                return
        self._transmit(iface, build_frame(mac, iface.mac, ETH_P_IP, packet), csum, gso)

    def _transmit(self, iface: Interface, frame: bytes,
                  csum: tuple[int, int] | None = None, gso: int = 0) -> None:
        if not iface.up:
            iface.counters.tx_dropped += 1
            return
        try:
            sent = (iface.link.transmit(frame) if csum is None
                    else iface.link.transmit(frame, csum, gso) if gso
                    else iface.link.transmit(frame, csum))
        except LinkError as e:
            return self._link_failed(iface, e)
        if not sent:
            iface.counters.tx_dropped += 1

    def _link_failed(self, iface: Interface, error: Exception) -> None:
        """The card stopped (NEEDS_RESET): the interface goes down, as a driver's
        netif_carrier_off, and routes through it are gone until it is brought up."""
        iface.up = False
        iface.counters.tx_errors += 1
        if self.trace:
            self.trace("%s: link down: %s" % (iface.name, error))

    def _arp_request(self, iface: Interface, target: bytes) -> None:
        payload = build_arp(ARPOP_REQUEST, iface.mac, iface.address, bytes(6), target)
        self._transmit(iface, build_frame(BROADCAST_MAC, iface.mac, ETH_P_ARP, payload))

    def udp_send(self, src: bytes, sport: int, dst: bytes, dport: int, payload: bytes,
                 now: int, ttl: int = IPDEFTTL) -> None:
        self.send_ip(src, dst, IPPROTO_UDP, build_udp(src, dst, sport, dport, bytes(payload)),
                     now, ttl)

    def icmp_error(self, packet, kind: int, code: int, now: int) -> None:
        """Answer a received packet with an ICMP error (never about an ICMP error, a
        broadcast, or a fragment after the first; RFC 1122 3.2.2)."""
        if packet.dst == LIMITED_BROADCAST or packet.offset or not self.icmp_limit.allow(now):
            return
        if packet.protocol == IPPROTO_ICMP and packet.payload[:1] not in (
                bytes([I.ICMP_ECHO]), bytes([I.ICMP_ECHOREPLY])):
            return
        src = packet.dst if self.accept_any or self.is_local(packet.dst) else None
        try:
            src = src or self.source_for(packet.src)
            body = build_error(kind, code, packet.header + packet.payload, len(packet.header))
            self.send_ip(src, packet.src, IPPROTO_ICMP, body, now)
        except KernelError:
            pass

    # --- ports ------------------------------------------------------------------------

    def udp_bind(self, addr: bytes, port: int, queue: DatagramQueue) -> int:
        if port == 0:
            port = self.ephemeral_port(IPPROTO_UDP, addr)
        self.udp_ports[(bytes(addr), port)] = queue
        return port

    def udp_unbind(self, addr: bytes, port: int) -> None:
        self.udp_ports.pop((bytes(addr), port), None)

    def icmp_bind(self, ident: int, queue: DatagramQueue) -> None:
        self.icmp_sockets[ident] = queue

    def icmp_unbind(self, ident: int) -> None:
        self.icmp_sockets.pop(ident, None)

    def raw_bind(self, sock) -> None:
        self.raw_sockets.append(sock)

    def raw_unbind(self, sock) -> None:
        if sock in self.raw_sockets:
            self.raw_sockets.remove(sock)

    # --- input ------------------------------------------------------------------------

    def poll(self, now: int) -> bool:
        """Take in what the links and the loopback hold, run timers; repeat while
        that made more work (a reply over loopback), at most some rounds."""
        self.now = now
        did = False
        for _ in range(64):
            work = False
            for poller in self.pollers:
                poller(now)
            for iface in self.interfaces.values():
                link = iface.link
                if link is not None and iface.up and link.pending:
                    # A link that knows which frames need no checksum check (a card's
                    # DATA_VALID or NEEDS_CSUM) says so with receive_packets().
                    packets = getattr(link, "receive_packets", None)
                    try:
                        frames = packets() if packets is not None else link.receive()
                    except LinkError as e:
                        self._link_failed(iface, e)
                        continue
                    for frame in frames:
                        work = True
                        if packets is not None:
                            self.input_frame(iface, frame[0], now, frame[1])
                        else:
                            self.input_frame(iface, frame, now)
            lo = next((i for i in self.interfaces.values() if i.loopback), None)
            while self.loopback_queue:
                work = True
                packet = self.loopback_queue.popleft()
                if lo is not None:
                    lo.counters.rx_packets += 1
                    lo.counters.rx_bytes += len(packet)
                    self.input_ip(lo, packet, now)
            work |= self.run_timers(now)
            did |= work
            if not work:
                break
        return did

    def run_timers(self, now: int) -> bool:
        work = False
        for iface in self.interfaces.values():
            if iface.neighbours is None:
                continue
            ask, failed = iface.neighbours.tick(now)
            for target in ask:
                self._arp_request(iface, target)
            for packet in failed:
                p = parse_packet(packet)
                if p is not None and self.is_local(p.src):
                    self._unreachable_locally(p)
            work |= bool(ask or failed)
        for first in self.reassembler.expire(now):
            work = True
            self.icmp_error(first, I.ICMP_TIME_EXCEEDED, I.ICMP_EXC_FRAGTIME, now)
        if self.tcp is not None:
            deadline = self.tcp.next_deadline()
            if deadline is not None and deadline <= now:
                self.tcp.timer(now)
                work |= bool(self.loopback_queue)   # what it sent over lo: this poll
        return work

    def _unreachable_locally(self, p) -> None:
        """Resolution failed for a packet we sent: tell its socket (EHOSTUNREACH)."""
        if p.protocol == IPPROTO_UDP and len(p.payload) >= 2:
            sport = int.from_bytes(p.payload[:2], "big")
            q = self.udp_ports.get((p.src, sport)) or self.udp_ports.get((ANY, sport))
            if q is not None and getattr(q, "report_errors", False):
                q.set_error(EHOSTUNREACH)

    def next_deadline(self) -> int | None:
        times = [t for t in [self.reassembler.next_deadline()] + [
            i.neighbours.next_deadline() for i in self.interfaces.values() if i.neighbours]
            + [self.tcp.next_deadline() if self.tcp is not None else None]
            if t is not None]
        return min(times) if times else None

    def input_frame(self, iface: Interface, frame: bytes, now: int,
                    checked: bool = False) -> None:
        """One frame from iface's link; checked: its TCP/UDP checksum needs no
        verification (the card checked it, or it was left partial by a sender in
        this process: Linux's CHECKSUM_UNNECESSARY and CHECKSUM_PARTIAL)."""
        iface.counters.rx_packets += 1
        iface.counters.rx_bytes += len(frame)
        parsed = parse_frame(frame)
        if parsed is None:
            return self._drop(iface)
        dst, src, ethertype, payload = parsed
        if dst != iface.mac and dst != BROADCAST_MAC:
            return                                  # not for us (no promiscuous mode)
        if ethertype == ETH_P_ARP:
            self._arp_input(iface, payload, now)
        elif ethertype == ETH_P_IP:
            self.input_ip(iface, payload, now, checked)
        # Other EtherTypes (IPv6 included) are not ours: ignored, as Linux without them.

    def _drop(self, iface: Interface) -> None:
        iface.counters.rx_errors += 1
        self.dropped += 1

    def _arp_input(self, iface: Interface, payload, now: int) -> None:
        arp = parse_arp(payload)
        if arp is None:
            return self._drop(iface)
        op, sha, spa, tha, tpa = arp
        if sha == BROADCAST_MAC or sha[0] & 1 or spa == ANY:
            return                                  # a multicast sender, or a probe
        ours = tpa in iface.addresses
        for packet in iface.neighbours.confirm(spa, sha, now, create=ours):
            self._transmit(iface, build_frame(sha, iface.mac, ETH_P_IP, packet))
        if op == ARPOP_REQUEST and ours:
            reply = build_arp(ARPOP_REPLY, iface.mac, tpa, sha, spa)
            self._transmit(iface, build_frame(sha, iface.mac, ETH_P_ARP, reply))

    def input_ip(self, iface: Interface, data, now: int, checked: bool = False) -> None:
        p = parse_packet(data)
        if p is None:
            return self._drop(iface)
        if not self._for_us(iface, p.dst):
            return                                  # no forwarding: not a router
        if p.is_fragment():
            checked = False               # a card's word is about one frame, not the whole
            whole = self.reassembler.add(p, now)
            if whole is None:
                return
            p.payload, p.offset, p.flags = whole, 0, 0
            p.header = reassembled_header(p)
        raw = bool(self.raw_sockets) and self._raw_input(p)
        if p.protocol == IPPROTO_UDP:
            self._udp_input(iface, p, now)
        elif p.protocol == IPPROTO_ICMP:
            self._icmp_input(iface, p, now)
        elif p.protocol == IPPROTO_TCP:
            self._tcp_input(iface, p, now, checked)
        elif self.is_local(p.dst) and not raw:
            self.icmp_error(p, I.ICMP_DEST_UNREACH, I.ICMP_PROT_UNREACH, now)

    def _raw_input(self, p) -> bool:
        """raw_v4_input: a copy of the packet to every raw socket that takes it."""
        data = p.header + p.payload
        taken = False
        for sock in list(self.raw_sockets):
            taken |= sock.raw_receive(p, data)
        return taken

    def _udp_input(self, iface: Interface, p, now: int) -> None:
        udp = parse_udp(p.src, p.dst, p.payload)
        if udp is None:
            return self._drop(iface)
        sport, dport, payload = udp
        q = self.udp_ports.get((p.dst, dport)) or self.udp_ports.get((ANY, dport))
        if q is None and self.udp_unmatched is not None:
            if self.udp_unmatched(Datagram(p.src, sport, p.dst, dport, payload), now):
                return
        if q is None:
            if p.dst != LIMITED_BROADCAST and p.dst != iface.broadcast():
                self.icmp_error(p, I.ICMP_DEST_UNREACH, I.ICMP_PORT_UNREACH, now)
            return
        q.deliver(Datagram(p.src, sport, p.dst, dport, payload))

    def _icmp_input(self, iface: Interface, p, now: int) -> None:
        msg = parse_icmp(p.payload)
        if msg is None:
            return self._drop(iface)
        kind, code, ident, seq, body = msg
        if kind == I.ICMP_ECHO:
            if p.dst == LIMITED_BROADCAST or p.dst == iface.broadcast():
                return                              # icmp_echo_ignore_broadcasts=1
            if not self.is_local(p.dst):
                # A NAT's stack sees pings to any address: those hosts are not here.
                self.icmp_error(p, I.ICMP_DEST_UNREACH, I.ICMP_HOST_UNREACH, now)
                return
            try:
                self.send_ip(p.dst, p.src, IPPROTO_ICMP,
                             build_icmp(I.ICMP_ECHOREPLY, 0, ident, seq, body), now)
            except KernelError:
                pass
        elif kind == I.ICMP_ECHOREPLY:
            q = self.icmp_sockets.get(ident)
            if q is not None:
                q.deliver(Datagram(p.src, ident, p.dst, seq, p.payload))
        elif kind in (I.ICMP_DEST_UNREACH, I.ICMP_TIME_EXCEEDED):
            self._icmp_error_input(kind, code, body)

    def _icmp_error_input(self, kind: int, code: int, quoted: bytes) -> None:
        """Report an error about a datagram we sent to the queue that sent it."""
        inner = parse_quoted(quoted)
        if inner is None or inner[0] != IPPROTO_UDP:
            return
        _, src, dst, sport, dport = inner
        q = self.udp_ports.get((src, sport)) or self.udp_ports.get((ANY, sport))
        if q is None or not getattr(q, "report_errors", False):
            return
        if kind == I.ICMP_DEST_UNREACH and code == I.ICMP_PORT_UNREACH:
            q.set_error(ECONNREFUSED)
        elif kind == I.ICMP_DEST_UNREACH:
            q.set_error(EHOSTUNREACH)

    def _tcp_input(self, iface: Interface, p, now: int, checked: bool = False) -> None:
        if self.tcp is None:
            return self._drop(iface)
        try:
            seg = (self.tcp_decode(p.payload, p.src, p.dst, False) if checked
                   else self.tcp_decode(p.payload, p.src, p.dst))
        except self.tcp_malformed:
            return self._drop(iface)
        self.tcp.segment_arrives(seg, p.src, p.dst, now)


def reassembled_header(p) -> bytes:
    """ip_frag_reasm: the first fragment's header with the whole datagram's total
    length, no fragment bits, and its checksum again."""
    header = bytearray(p.header)
    header[2:4] = (len(header) + len(p.payload)).to_bytes(2, "big")
    header[6:8] = b"\0\0"
    header[10:12] = b"\0\0"
    header[10:12] = internet_checksum(bytes(header)).to_bytes(2, "big")
    return bytes(header)


def parse_quoted(quoted: bytes):
    """(protocol, src, dst, sport, dport) of the packet an ICMP error quotes (its IP
    header and at least 8 bytes after it), or None."""
    if len(quoted) < 28 or quoted[0] >> 4 != 4:
        return None
    ihl = (quoted[0] & 0xF) * 4
    if ihl < 20 or len(quoted) < ihl + 4:
        return None
    return (quoted[9], bytes(quoted[12:16]), bytes(quoted[16:20]),
            int.from_bytes(quoted[ihl:ihl + 2], "big"),
            int.from_bytes(quoted[ihl + 2:ihl + 4], "big"))
