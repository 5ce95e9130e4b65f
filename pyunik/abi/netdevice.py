"""Network interfaces as sockets see them: include/uapi/linux/if.h and sockios.h
(the hardware types are in if_arp.py). Linux facts only, no behaviour.
"""

import struct

# include/uapi/linux/if.h
IFNAMSIZ = 16
IFF_UP = 0x1
IFF_BROADCAST = 0x2
IFF_LOOPBACK = 0x8
IFF_RUNNING = 0x40
IFF_NOARP = 0x80
IFF_MULTICAST = 0x1000
IFF_LOWER_UP = 0x10000
# struct ifreq {char ifr_name[IFNAMSIZ]; union {...} ifr_ifru} (the union is 24 bytes)
IFREQ_SIZE = 40
IFREQ_NAME = struct.Struct("<16s")
# struct ifconf {int ifc_len; union {char *ifc_buf; struct ifreq *ifc_req}}
IFCONF = struct.Struct("<i4xQ")

# include/uapi/linux/sockios.h
SIOCGIFNAME = 0x8910
SIOCGIFCONF = 0x8912
SIOCGIFFLAGS = 0x8913
SIOCGIFADDR = 0x8915
SIOCGIFDSTADDR = 0x8917
SIOCGIFBRDADDR = 0x8919
SIOCGIFMETRIC = 0x891D
SIOCGIFNETMASK = 0x891B
SIOCGIFMTU = 0x8921
SIOCGIFHWADDR = 0x8927
SIOCGIFINDEX = 0x8933
SIOCGIFTXQLEN = 0x8942
SIOCGIFMAP = 0x8970
SIOCINQ = 0x541B               # FIONREAD's number: the bytes a read would return
SIOCOUTQ = 0x5411              # TIOCOUTQ's number: the bytes not yet sent
SIOCATMARK = 0x8905            # include/uapi/asm-generic/sockios.h: at the urgent mark?
