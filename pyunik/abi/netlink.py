"""Netlink and rtnetlink: include/uapi/linux/netlink.h, rtnetlink.h, if_link.h and
if_addr.h. Linux facts only, no behaviour.
"""

import struct

# include/uapi/linux/netlink.h: protocols (socket(AF_NETLINK, type, protocol))
NETLINK_ROUTE = 0
NETLINK_MAX_LINKS = 32         # MAX_LINKS: protocols at or above it are EPROTONOSUPPORT

# struct sockaddr_nl {__kernel_sa_family_t nl_family; unsigned short nl_pad;
#   __u32 nl_pid; __u32 nl_groups}
SOCKADDR_NL = struct.Struct("<HHII")

# struct nlmsghdr {__u32 nlmsg_len; __u16 nlmsg_type; __u16 nlmsg_flags; __u32 nlmsg_seq;
#   __u32 nlmsg_pid}
NLMSGHDR = struct.Struct("<IHHII")
NLMSG_ALIGNTO = 4
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4
NLMSG_MIN_TYPE = 16            # types below it are netlink's own control messages
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_ECHO = 0x8
NLM_F_ROOT = 0x100
NLM_F_MATCH = 0x200
NLM_F_DUMP = 0x300
NLM_F_CAPPED = 0x100          # on an NLMSG_ERROR: the request's payload is left out
# struct nlmsgerr {int error; struct nlmsghdr msg}
NLMSGERR_ERROR = struct.Struct("<i")
# SOL_NETLINK options
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_DROP_MEMBERSHIP = 2
NETLINK_PKTINFO = 3
NETLINK_NO_ENOBUFS = 5
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NETLINK_GET_STRICT_CHK = 12

# include/uapi/linux/rtnetlink.h: message types
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_DELADDR = 21
RTM_GETADDR = 22
RTM_NEWROUTE = 24
RTM_GETROUTE = 26
# struct rtgenmsg {unsigned char rtgen_family}
RTGENMSG = struct.Struct("<B")
# struct rtattr {unsigned short rta_len; unsigned short rta_type}
RTATTR = struct.Struct("<HH")
RTA_ALIGNTO = 4

# struct ifinfomsg {unsigned char ifi_family; unsigned char __ifi_pad;
#   unsigned short ifi_type; int ifi_index; unsigned ifi_flags; unsigned ifi_change}
IFINFOMSG = struct.Struct("<BxHiII")
# include/uapi/linux/if_link.h: link attributes
IFLA_ADDRESS = 1
IFLA_BROADCAST = 2
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_QDISC = 6
IFLA_TXQLEN = 13
IFLA_OPERSTATE = 16
IFLA_LINKMODE = 17
IFLA_STATS64 = 23
IF_OPER_UNKNOWN = 0
IF_OPER_UP = 6
# struct rtnl_link_stats64: 24 __u64 counters (what glibc's getifaddrs copies)
RTNL_LINK_STATS64_SIZE = 8 * 24

# struct ifaddrmsg {__u8 ifa_family; __u8 ifa_prefixlen; __u8 ifa_flags; __u8 ifa_scope;
#   __u32 ifa_index}
IFADDRMSG = struct.Struct("<BBBBI")
# include/uapi/linux/if_addr.h: address attributes and flags
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_LABEL = 3
IFA_BROADCAST = 4
IFA_CACHEINFO = 6
IFA_FLAGS = 8
IFA_F_PERMANENT = 0x80
# struct ifa_cacheinfo {__u32 ifa_prefered; __u32 ifa_valid; __u32 cstamp; __u32 tstamp}
IFA_CACHEINFO_STRUCT = struct.Struct("<IIII")
# include/uapi/linux/rtnetlink.h: enum rt_scope_t
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_HOST = 254
