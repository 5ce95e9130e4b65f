"""ARP (RFC 826): the neighbour table of one Ethernet interface, which maps IPv4
addresses on the link to MAC addresses, with Linux's timers.

An entry is INCOMPLETE while requests go out (one at once, then every retrans_time,
mcast_solicit of them; packets waiting for it are held, at most `queue_limit`), then
REACHABLE for reachable_time after the last reply, then stale: the next packet to it
asks again (it still goes to the known address meanwhile, as Linux's STALE/DELAY do).
A request for our address is answered and teaches us the sender, as Linux does; an
unsolicited reply updates only an existing entry (arp_accept=0). The table holds at
most NEIGH_GC_THRESH3 entries; resolved ones unused longest go first.

Sans-IO: the interface asks `resolve()` and sends what `tick()` and `receive()` say;
time (monotonic ns) comes in with every call.

Layer: net. Calls abi/if_arp.py and abi/if_ether.py only.
"""

from __future__ import annotations

from ..abi import if_arp as A
from ..abi.if_ether import ETH_ALEN, ETH_P_IP

INCOMPLETE, REACHABLE, FAILED = "INCOMPLETE", "REACHABLE", "FAILED"


class Neighbour:
    __slots__ = ("ip", "mac", "state", "confirmed", "tries", "next_try", "queue")

    def __init__(self, ip: bytes):
        self.ip = ip
        self.mac: bytes | None = None
        self.state = INCOMPLETE
        self.confirmed = 0
        self.tries = 0
        self.next_try = 0
        self.queue: list = []


def parse_arp(payload):
    """(op, sender MAC, sender IP, target MAC, target IP) of an Ethernet/IPv4 ARP
    packet, or None for anything else or anything truncated."""
    if len(payload) < A.ARP_ETHER_IPV4.size:
        return None
    hrd, pro, hln, pln, op, sha, spa, tha, tpa = A.ARP_ETHER_IPV4.unpack_from(payload)
    if hrd != A.ARPHRD_ETHER or pro != ETH_P_IP or hln != ETH_ALEN or pln != 4:
        return None
    if op not in (A.ARPOP_REQUEST, A.ARPOP_REPLY):
        return None
    return op, sha, spa, tha, tpa


def build_arp(op: int, sha: bytes, spa: bytes, tha: bytes, tpa: bytes) -> bytes:
    return A.ARP_ETHER_IPV4.pack(A.ARPHRD_ETHER, ETH_P_IP, ETH_ALEN, 4, op, sha, spa, tha, tpa)


class NeighbourTable:
    """Owned by one interface: ip -> Neighbour."""

    def __init__(self, reachable: int = A.NEIGH_REACHABLE_TIME, retrans: int = A.NEIGH_RETRANS_TIME,
                 solicit: int = A.NEIGH_MCAST_SOLICIT, limit: int = A.NEIGH_GC_THRESH3,
                 queue_limit: int = 64):
        self.reachable = reachable
        self.retrans = retrans
        self.solicit = solicit
        self.limit = limit
        self.queue_limit = queue_limit
        self.entries: dict[bytes, Neighbour] = {}
        self.dropped = 0               # packets dropped: queue full or resolution failed

    def lookup(self, ip: bytes, now: int) -> bytes | None:
        n = self.entries.get(ip)
        return n.mac if n is not None and n.mac is not None else None

    def resolve(self, ip: bytes, packet, now: int):
        """(mac, ask): mac to send packet to now (None: it was queued or dropped), and
        whether to send a request for ip now."""
        n = self.entries.get(ip)
        if n is None:
            n = self._new(ip)
        if n.mac is not None:
            stale = now - n.confirmed >= self.reachable
            if stale and n.tries == 0:
                # Reconfirm in the background; meanwhile the known address serves.
                n.tries, n.next_try = 1, now + self.retrans
                return n.mac, True
            return n.mac, False
        if len(n.queue) >= self.queue_limit:
            n.queue.pop(0)
            self.dropped += 1
        n.queue.append(packet)
        if n.state == FAILED or n.tries == 0:
            n.state, n.tries, n.next_try = INCOMPLETE, 1, now + self.retrans
            return None, True
        return None, False

    def _new(self, ip: bytes) -> Neighbour:
        if len(self.entries) >= self.limit:
            victims = sorted((v for v in self.entries.values() if not v.queue),
                             key=lambda v: v.confirmed) or list(self.entries.values())
            victim = victims[0]
            self.dropped += len(victim.queue)
            del self.entries[victim.ip]
        n = self.entries[ip] = Neighbour(ip)
        return n

    def confirm(self, ip: bytes, mac: bytes, now: int, create: bool) -> list:
        """A reply or request from ip told us its MAC: the packets that waited for it."""
        n = self.entries.get(ip)
        if n is None:
            if not create:
                return []
            n = self._new(ip)
        n.mac, n.state, n.confirmed, n.tries = mac, REACHABLE, now, 0
        waiting, n.queue = n.queue, []
        return waiting

    def tick(self, now: int):
        """(addresses to ask again, packets dropped because resolution failed)."""
        ask, failed = [], []
        for n in list(self.entries.values()):
            if not n.tries or now < n.next_try:
                continue
            if n.tries >= self.solicit:
                failed += n.queue
                self.dropped += len(n.queue)
                n.queue, n.tries = [], 0
                if n.mac is None:
                    n.state = FAILED
                else:
                    # A stale entry that stopped answering is forgotten.
                    del self.entries[n.ip]
                continue
            n.tries += 1
            n.next_try = now + self.retrans
            ask.append(n.ip)
        return ask, failed

    def next_deadline(self) -> int | None:
        times = [n.next_try for n in self.entries.values() if n.tries]
        return min(times) if times else None
