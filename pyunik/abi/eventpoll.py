"""epoll(7): include/uapi/linux/eventpoll.h.

Linux facts only, no behaviour.
"""

import struct

EPOLL_CLOEXEC = 0o2000000          # O_CLOEXEC

EPOLL_CTL_ADD = 1
EPOLL_CTL_DEL = 2
EPOLL_CTL_MOD = 3

EPOLLIN = 0x00000001
EPOLLPRI = 0x00000002
EPOLLOUT = 0x00000004
EPOLLERR = 0x00000008
EPOLLHUP = 0x00000010
EPOLLNVAL = 0x00000020
EPOLLRDNORM = 0x00000040
EPOLLRDBAND = 0x00000080
EPOLLWRNORM = 0x00000100
EPOLLWRBAND = 0x00000200
EPOLLMSG = 0x00000400
EPOLLRDHUP = 0x00002000
EPOLLEXCLUSIVE = 1 << 28           # wake one of the epolls sharing a file's queue
EPOLLWAKEUP = 1 << 29              # needs CAP_BLOCK_SUSPEND, silently dropped without
EPOLLONESHOT = 1 << 30             # disarm after one event, until EPOLL_CTL_MOD
EPOLLET = 1 << 31                  # edge triggered

# fs/eventpoll.c: the bits that are not poll bits
EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE
# the only bits EPOLLEXCLUSIVE may come with
EPOLLEXCLUSIVE_OK_BITS = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | \
    EPOLLEXCLUSIVE
EPOLLINOUT_BITS = EPOLLIN | EPOLLOUT
EP_MAX_NESTS = 4                   # epoll instances nested at most this deep

# struct epoll_event {__u32 events; __u64 data;} __attribute__((packed)) on x86-64
EPOLL_EVENT = struct.Struct("<IQ")
EP_MAX_EVENTS = 0x7FFFFFFF // EPOLL_EVENT.size
