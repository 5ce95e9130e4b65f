"""Sockets: include/linux/socket.h, include/uapi/asm-generic/socket.h,
include/linux/net.h, include/uapi/linux/un.h and include/net/sock.h's limits.

Linux facts only, no behaviour.
"""

import struct

from . import fcntl as _fcntl

# include/linux/socket.h: address families (PF_* are the same numbers)
AF_UNSPEC = 0
AF_UNIX = 1
AF_INET = 2
AF_AX25 = 3
AF_IPX = 4
AF_APPLETALK = 5
AF_NETROM = 6
AF_BRIDGE = 7
AF_ATMPVC = 8
AF_X25 = 9
AF_INET6 = 10
AF_KEY = 15
AF_NETLINK = 16
AF_PACKET = 17
AF_ALG = 38
AF_VSOCK = 40
AF_MAX = 46                    # NPROTO: families at or above it are EAFNOSUPPORT
AF_NAMES = {AF_UNSPEC: "AF_UNSPEC", AF_UNIX: "AF_UNIX", AF_INET: "AF_INET",
            AF_AX25: "AF_AX25", AF_IPX: "AF_IPX", AF_APPLETALK: "AF_APPLETALK",
            AF_NETROM: "AF_NETROM", AF_BRIDGE: "AF_BRIDGE", AF_ATMPVC: "AF_ATMPVC",
            AF_X25: "AF_X25", AF_INET6: "AF_INET6", AF_KEY: "AF_KEY",
            AF_NETLINK: "AF_NETLINK", AF_PACKET: "AF_PACKET", AF_ALG: "AF_ALG",
            AF_VSOCK: "AF_VSOCK"}

# include/linux/net.h: socket types, and the flags socket(2) takes in the type
SOCK_STREAM = 1
SOCK_DGRAM = 2
SOCK_RAW = 3
SOCK_RDM = 4
SOCK_SEQPACKET = 5
SOCK_DCCP = 6
SOCK_PACKET = 10
SOCK_MAX = 11                  # types at or above it are EINVAL
SOCK_TYPE_MASK = 0xF
SOCK_CLOEXEC = _fcntl.O_CLOEXEC
SOCK_NONBLOCK = _fcntl.O_NONBLOCK
SOCK_TYPE_NAMES = {SOCK_STREAM: "SOCK_STREAM", SOCK_DGRAM: "SOCK_DGRAM", SOCK_RAW: "SOCK_RAW",
                   SOCK_RDM: "SOCK_RDM", SOCK_SEQPACKET: "SOCK_SEQPACKET",
                   SOCK_DCCP: "SOCK_DCCP", SOCK_PACKET: "SOCK_PACKET"}
SOCK_FLAGS = [("SOCK_CLOEXEC", SOCK_CLOEXEC), ("SOCK_NONBLOCK", SOCK_NONBLOCK)]

# include/linux/socket.h: socket option levels
SOL_SOCKET = 1
SOL_TCP = 6
SOL_UDP = 17
SOL_RAW = 255
SOL_NETLINK = 270

# include/uapi/asm-generic/socket.h: SOL_SOCKET options
SO_DEBUG = 1
SO_REUSEADDR = 2
SO_TYPE = 3
SO_ERROR = 4
SO_DONTROUTE = 5
SO_BROADCAST = 6
SO_SNDBUF = 7
SO_RCVBUF = 8
SO_KEEPALIVE = 9
SO_OOBINLINE = 10
SO_NO_CHECK = 11
SO_PRIORITY = 12
SO_LINGER = 13
SO_BSDCOMPAT = 14
SO_REUSEPORT = 15
SO_PASSCRED = 16
SO_PEERCRED = 17
SO_RCVLOWAT = 18
SO_SNDLOWAT = 19
SO_RCVTIMEO_OLD = 20
SO_SNDTIMEO_OLD = 21
SO_BINDTODEVICE = 25
SO_TIMESTAMP_OLD = 29
SO_ACCEPTCONN = 30
SO_PEERSEC = 31
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
SO_PASSSEC = 34
SO_MARK = 36
SO_PROTOCOL = 38
SO_DOMAIN = 39
SO_RXQ_OVFL = 40
SO_PEEK_OFF = 42
SO_BUSY_POLL = 46
SO_INCOMING_CPU = 49
SO_COOKIE = 57
SO_PEERGROUPS = 59
SO_ZEROCOPY = 60
SO_RCVTIMEO_NEW = 66
SO_SNDTIMEO_NEW = 67
SO_NAMES = {SO_DEBUG: "SO_DEBUG", SO_REUSEADDR: "SO_REUSEADDR", SO_TYPE: "SO_TYPE",
            SO_ERROR: "SO_ERROR", SO_DONTROUTE: "SO_DONTROUTE", SO_BROADCAST: "SO_BROADCAST",
            SO_SNDBUF: "SO_SNDBUF", SO_RCVBUF: "SO_RCVBUF", SO_KEEPALIVE: "SO_KEEPALIVE",
            SO_OOBINLINE: "SO_OOBINLINE", SO_NO_CHECK: "SO_NO_CHECK",
            SO_PRIORITY: "SO_PRIORITY", SO_LINGER: "SO_LINGER", SO_BSDCOMPAT: "SO_BSDCOMPAT",
            SO_REUSEPORT: "SO_REUSEPORT", SO_PASSCRED: "SO_PASSCRED",
            SO_PEERCRED: "SO_PEERCRED", SO_RCVLOWAT: "SO_RCVLOWAT",
            SO_SNDLOWAT: "SO_SNDLOWAT", SO_RCVTIMEO_OLD: "SO_RCVTIMEO_OLD",
            SO_SNDTIMEO_OLD: "SO_SNDTIMEO_OLD", SO_BINDTODEVICE: "SO_BINDTODEVICE",
            SO_TIMESTAMP_OLD: "SO_TIMESTAMP_OLD", SO_ACCEPTCONN: "SO_ACCEPTCONN",
            SO_PEERSEC: "SO_PEERSEC", SO_SNDBUFFORCE: "SO_SNDBUFFORCE",
            SO_RCVBUFFORCE: "SO_RCVBUFFORCE", SO_PASSSEC: "SO_PASSSEC", SO_MARK: "SO_MARK",
            SO_PROTOCOL: "SO_PROTOCOL", SO_DOMAIN: "SO_DOMAIN", SO_RXQ_OVFL: "SO_RXQ_OVFL",
            SO_PEEK_OFF: "SO_PEEK_OFF", SO_BUSY_POLL: "SO_BUSY_POLL",
            SO_INCOMING_CPU: "SO_INCOMING_CPU", SO_COOKIE: "SO_COOKIE",
            SO_PEERGROUPS: "SO_PEERGROUPS", SO_ZEROCOPY: "SO_ZEROCOPY",
            SO_RCVTIMEO_NEW: "SO_RCVTIMEO_NEW", SO_SNDTIMEO_NEW: "SO_SNDTIMEO_NEW"}
SOL_NAMES = {SOL_SOCKET: "SOL_SOCKET", SOL_TCP: "SOL_TCP", SOL_UDP: "SOL_UDP",
             SOL_RAW: "SOL_RAW", SOL_NETLINK: "SOL_NETLINK"}

# include/linux/socket.h: send and receive flags
MSG_OOB = 0x1
MSG_PEEK = 0x2
MSG_DONTROUTE = 0x4
MSG_CTRUNC = 0x8
MSG_PROXY = 0x10
MSG_TRUNC = 0x20
MSG_DONTWAIT = 0x40
MSG_EOR = 0x80
MSG_WAITALL = 0x100
MSG_FIN = 0x200
MSG_SYN = 0x400
MSG_CONFIRM = 0x800
MSG_RST = 0x1000
MSG_ERRQUEUE = 0x2000
MSG_NOSIGNAL = 0x4000
MSG_MORE = 0x8000
MSG_WAITFORONE = 0x10000
MSG_BATCH = 0x40000
MSG_ZEROCOPY = 0x4000000
MSG_FASTOPEN = 0x20000000
MSG_CMSG_CLOEXEC = 0x40000000
MSG_FLAGS = [("MSG_OOB", MSG_OOB), ("MSG_PEEK", MSG_PEEK), ("MSG_DONTROUTE", MSG_DONTROUTE),
             ("MSG_CTRUNC", MSG_CTRUNC), ("MSG_PROXY", MSG_PROXY), ("MSG_TRUNC", MSG_TRUNC),
             ("MSG_DONTWAIT", MSG_DONTWAIT), ("MSG_EOR", MSG_EOR), ("MSG_WAITALL", MSG_WAITALL),
             ("MSG_FIN", MSG_FIN), ("MSG_SYN", MSG_SYN), ("MSG_CONFIRM", MSG_CONFIRM),
             ("MSG_RST", MSG_RST), ("MSG_ERRQUEUE", MSG_ERRQUEUE),
             ("MSG_NOSIGNAL", MSG_NOSIGNAL), ("MSG_MORE", MSG_MORE),
             ("MSG_WAITFORONE", MSG_WAITFORONE), ("MSG_BATCH", MSG_BATCH),
             ("MSG_ZEROCOPY", MSG_ZEROCOPY), ("MSG_FASTOPEN", MSG_FASTOPEN),
             ("MSG_CMSG_CLOEXEC", MSG_CMSG_CLOEXEC)]

# include/linux/socket.h: control message types at SOL_SOCKET
SCM_RIGHTS = 1
SCM_CREDENTIALS = 2
SCM_SECURITY = 3
SCM_MAX_FD = 253               # include/net/scm.h: fds in one SCM_RIGHTS message

# include/linux/net.h: shutdown(2) how
SHUT_RD = 0
SHUT_WR = 1
SHUT_RDWR = 2
SHUT_NAMES = {SHUT_RD: "SHUT_RD", SHUT_WR: "SHUT_WR", SHUT_RDWR: "SHUT_RDWR"}

# include/linux/socket.h and net/core/sock.c's sysctl defaults
SOMAXCONN = 4096               # net.core.somaxconn: listen(2)'s backlog is capped here
SOCK_BUF_DEFAULT = 212992      # net.core.wmem_default and rmem_default
SOCK_BUF_MAX = 212992          # net.core.wmem_max and rmem_max
SOCK_MIN_SNDBUF = 4608         # 2 * (2048 + SKB_TRUESIZE(1)) on x86-64
SOCK_MIN_RCVBUF = 2304
SOCKADDR_STORAGE_SIZE = 128    # struct __kernel_sockaddr_storage
SA_FAMILY = struct.Struct("<H")    # sa_family_t, the first field of every sockaddr

# struct user_msghdr {void *msg_name; int msg_namelen; struct iovec *msg_iov;
#   __kernel_size_t msg_iovlen; void *msg_control; __kernel_size_t msg_controllen;
#   unsigned int msg_flags}
MSGHDR = struct.Struct("<Qi4xQQQQI4x")
MSGHDR_FLAGS_OFFSET = 48       # offsetof(struct user_msghdr, msg_flags)
MSGHDR_CONTROLLEN_OFFSET = 40
MSGHDR_NAMELEN_OFFSET = 8
# struct mmsghdr {struct user_msghdr msg_hdr; unsigned int msg_len}
MMSGHDR_SIZE = 64
MMSGHDR_LEN_OFFSET = 56
# struct cmsghdr {__kernel_size_t cmsg_len; int cmsg_level; int cmsg_type}
CMSGHDR = struct.Struct("<Qii")
CMSG_ALIGNTO = 8               # CMSG_ALIGN: sizeof(long)
# struct ucred {__u32 pid; __u32 uid; __u32 gid}
UCRED = struct.Struct("<iII")
# struct linger {int l_onoff; int l_linger}
LINGER = struct.Struct("<ii")

# include/uapi/linux/un.h: struct sockaddr_un {sa_family_t sun_family; char sun_path[108]}
UNIX_PATH_MAX = 108
SOCKADDR_UN_SIZE = 110
SUN_PATH_OFFSET = 2
UNIX_MAX_DGRAM_QLEN = 10       # net.unix.max_dgram_qlen: a datagram queue is full above it

# include/net/sock.h: sk_shutdown bits
RCV_SHUTDOWN = 1
SEND_SHUTDOWN = 2
SHUTDOWN_MASK = 3

# sockfs: st_dev of socket fds as a typical boot numbers it; statfs f_type
SOCKFS_DEV = 0x9
SOCKFS_MAGIC = 0x534F434B
