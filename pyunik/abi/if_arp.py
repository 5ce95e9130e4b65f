"""ARP: include/uapi/linux/if_arp.h (RFC 826) and net/ipv4/arp.c's defaults.
Linux facts only."""

import struct

ARPHRD_ETHER = 1                      # Ethernet 10/100Mbps hardware type
ARPHRD_LOOPBACK = 772                 # the loopback device's hardware type
ARPOP_REQUEST = 1
ARPOP_REPLY = 2
# struct arphdr {__be16 ar_hrd; __be16 ar_pro; u8 ar_hln; u8 ar_pln; __be16 ar_op;}
# followed, for Ethernet and IPv4, by sender MAC, sender IP, target MAC, target IP.
ARP_ETHER_IPV4 = struct.Struct("!HHBBH6s4s6s4s")
# The neighbour table's defaults (net/ipv4/arp.c arp_tbl; Documentation/networking/
# ip-sysctl.rst): base_reachable_time 30 s, retrans_time 1 s, mcast_solicit 3.
NEIGH_REACHABLE_TIME = 30_000_000_000
NEIGH_RETRANS_TIME = 1_000_000_000
NEIGH_MCAST_SOLICIT = 3
NEIGH_GC_STALE_TIME = 60_000_000_000
NEIGH_GC_THRESH3 = 1024               # the neighbour table's hard limit on entries
