"""Ethernet: include/uapi/linux/if_ether.h. Linux facts only."""

import struct

ETH_ALEN = 6                          # octets in one Ethernet address
ETH_HLEN = 14                         # octets in the header
ETH_ZLEN = 60                         # minimum frame length without the FCS
ETH_DATA_LEN = 1500                   # maximum payload (the MTU)
ETH_FRAME_LEN = 1514                  # maximum frame length without the FCS
ETH_MIN_MTU = 68                      # the smallest MTU IPv4 allows
ETH_MAX_MTU = 0xFFFF                  # the largest an Ethernet device may set
ETH_P_IP = 0x0800                     # Internet Protocol packet
ETH_P_ARP = 0x0806                    # Address Resolution packet
ETH_P_IPV6 = 0x86DD                   # IPv6
# struct ethhdr {unsigned char h_dest[6]; unsigned char h_source[6]; __be16 h_proto;}
ETHHDR = struct.Struct("!6s6sH")
