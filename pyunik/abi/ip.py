"""IPv4 headers: include/uapi/linux/ip.h, include/net/ip.h and net/ipv4/ip_fragment.c's
defaults. Linux facts only."""

import struct

IPVERSION = 4
IPDEFTTL = 64                         # net.ipv4.ip_default_ttl
MAXTTL = 255
IP_CE = 0x8000                        # fragment offset field: congestion (reserved)
IP_DF = 0x4000                        # don't fragment
IP_MF = 0x2000                        # more fragments
IP_OFFSET = 0x1FFF                    # the offset, in 8-octet units
IP_MAX_PACKET = 65535                 # largest total length
# struct iphdr {u8 ihl:4, version:4; u8 tos; __be16 tot_len; __be16 id;
#   __be16 frag_off; u8 ttl; u8 protocol; __sum16 check; __be32 saddr; __be32 daddr;}
IPHDR = struct.Struct("!BBHHHBBH4s4s")
IPFRAG_TIME = 30_000_000_000          # net.ipv4.ipfrag_time: 30 s to reassemble
IPFRAG_HIGH_THRESH = 4 * 1024 * 1024  # net.ipv4.ipfrag_high_thresh: bytes held, all queues
IPFRAG_MAX_DIST = 64                  # net.ipv4.ipfrag_max_dist
