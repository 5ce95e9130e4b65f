"""UDP: include/uapi/linux/udp.h. Linux facts only."""

import struct

# struct udphdr {__be16 source; __be16 dest; __be16 len; __sum16 check;}
UDPHDR = struct.Struct("!HHHH")
