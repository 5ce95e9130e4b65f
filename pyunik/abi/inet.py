"""Internet addresses, protocols and IPv4 socket options: include/uapi/linux/in.h and
the option numbers of include/uapi/linux/tcp.h. Linux facts only, no behaviour.
"""

import struct

IPPROTO_IP = 0
IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_IPV6 = 41
IPPROTO_UDPLITE = 136
IPPROTO_RAW = 255
IPPROTO_MPTCP = 262
IPPROTO_MAX = 263              # socket(2) protocols at or above it are EINVAL
IPPROTO_NAMES = {IPPROTO_IP: "IPPROTO_IP", IPPROTO_ICMP: "IPPROTO_ICMP",
                 IPPROTO_TCP: "IPPROTO_TCP", IPPROTO_UDP: "IPPROTO_UDP",
                 IPPROTO_IPV6: "IPPROTO_IPV6", IPPROTO_UDPLITE: "IPPROTO_UDPLITE",
                 IPPROTO_RAW: "IPPROTO_RAW", IPPROTO_MPTCP: "IPPROTO_MPTCP"}
INADDR_ANY = 0x00000000
INADDR_BROADCAST = 0xFFFFFFFF
INADDR_LOOPBACK = 0x7F000001          # 127.0.0.1
IN_LOOPBACKNET = 127
IP_LOCAL_PORT_RANGE = (32768, 60999)  # net.ipv4.ip_local_port_range's default

# struct sockaddr_in {sa_family_t sin_family; __be16 sin_port; struct in_addr sin_addr;
#   unsigned char sin_zero[8]}: the port and address in network order, as bytes
SOCKADDR_IN = struct.Struct("<H2s4s8x")

# include/uapi/linux/in.h: SOL_IP options
IP_TOS = 1
IP_TTL = 2
IP_HDRINCL = 3
IP_OPTIONS = 4
IP_RECVERR = 11
IP_MTU_DISCOVER = 10
IP_MULTICAST_TTL = 33
IP_MULTICAST_LOOP = 34

# include/uapi/linux/tcp.h: SOL_TCP options
TCP_NODELAY = 1
TCP_MAXSEG = 2
TCP_CORK = 3
TCP_KEEPIDLE = 4
TCP_KEEPINTVL = 5
TCP_KEEPCNT = 6
TCP_INFO = 11
TCP_QUICKACK = 12
TCP_CONGESTION = 13
TCP_USER_TIMEOUT = 18
