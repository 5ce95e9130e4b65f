"""ICMP: include/uapi/linux/icmp.h and net/ipv4/icmp.c's rate limit defaults.
Linux facts only."""

import struct

ICMP_ECHOREPLY = 0
ICMP_DEST_UNREACH = 3
ICMP_ECHO = 8
ICMP_TIME_EXCEEDED = 11
# codes of ICMP_DEST_UNREACH
ICMP_NET_UNREACH = 0
ICMP_HOST_UNREACH = 1
ICMP_PROT_UNREACH = 2
ICMP_PORT_UNREACH = 3
# codes of ICMP_TIME_EXCEEDED
ICMP_EXC_TTL = 0
ICMP_EXC_FRAGTIME = 1
# SOL_RAW option of an IPPROTO_ICMP raw socket: struct icmp_filter {__u32 data;},
# bit n set drops ICMP type n
ICMP_FILTER = 1
# struct icmphdr {u8 type; u8 code; __sum16 checksum; union {struct {__be16 id;
#   __be16 sequence;} echo; ...} un;}
ICMPHDR = struct.Struct("!BBHHH")
# net/ipv4/ping.c ping_common_sendmsg: a message is at most 0xFFFF bytes, and an echo
# with its IP header fits one IPv4 packet (ip_append_data's EMSGSIZE)
PING_MAX = 0xFFFF - 20
ICMP_MSGS_PER_SEC = 1000              # net.ipv4.icmp_msgs_per_sec
ICMP_MSGS_BURST = 50                  # net.ipv4.icmp_msgs_burst
ICMP_ERROR_MAX = 576                  # an error quotes at most this much (RFC 1812 4.3.2.3)
