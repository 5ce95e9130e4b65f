"""Internet addresses and protocols: include/uapi/linux/in.h. Linux facts only."""

IPPROTO_IP = 0
IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
INADDR_ANY = 0x00000000
INADDR_BROADCAST = 0xFFFFFFFF
INADDR_LOOPBACK = 0x7F000001          # 127.0.0.1
IN_LOOPBACKNET = 127
IP_LOCAL_PORT_RANGE = (32768, 60999)  # net.ipv4.ip_local_port_range's default
