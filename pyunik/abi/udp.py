"""UDP: include/uapi/linux/udp.h. Linux facts only."""

import struct

# struct udphdr {__be16 source; __be16 dest; __be16 len; __sum16 check;}
UDPHDR = struct.Struct("!HHHH")
UDP_MAX_PAYLOAD = 65507        # 65535 less the IPv4 and UDP headers: a datagram's most
