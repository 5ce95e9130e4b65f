"""poll(2) and select(2): include/uapi/asm-generic/poll.h, include/uapi/linux/posix_types.h.

Linux facts only, no behaviour.
"""

import struct

POLLIN = 0x0001
POLLPRI = 0x0002
POLLOUT = 0x0004
POLLERR = 0x0008
POLLHUP = 0x0010
POLLNVAL = 0x0020
POLLRDNORM = 0x0040
POLLRDBAND = 0x0080
POLLWRNORM = 0x0100
POLLWRBAND = 0x0200
POLLMSG = 0x0400
POLLREMOVE = 0x1000
POLLRDHUP = 0x2000
POLL_FLAGS = [  # (name, value) for printing, in strace's order
    ("POLLIN", POLLIN), ("POLLPRI", POLLPRI), ("POLLOUT", POLLOUT), ("POLLERR", POLLERR),
    ("POLLHUP", POLLHUP), ("POLLNVAL", POLLNVAL), ("POLLRDNORM", POLLRDNORM),
    ("POLLRDBAND", POLLRDBAND), ("POLLWRNORM", POLLWRNORM), ("POLLWRBAND", POLLWRBAND),
    ("POLLMSG", POLLMSG), ("POLLREMOVE", POLLREMOVE), ("POLLRDHUP", POLLRDHUP),
]

# struct pollfd {int fd; short events; short revents}
POLLFD = struct.Struct("<ihh")

# __FD_SETSIZE: select's fd_set holds this many bits
FD_SETSIZE = 1024
