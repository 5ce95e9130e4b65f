"""Name and path limits: include/uapi/linux/limits.h and include/linux/namei.h.

Linux facts only, no behaviour.
"""

NAME_MAX = 255                  # bytes in a file name
PATH_MAX = 4096                 # bytes in a path, NUL included
PIPE_BUF = 4096                 # bytes a pipe write keeps together
XATTR_NAME_MAX = 255            # bytes in an extended attribute's name
NGROUPS_MAX = 65536             # supplementary groups of a process
MAXSYMLINKS = 40                # include/linux/namei.h: symlinks one walk may follow
TTY_WRITE_CHUNK = 2048          # drivers/tty/tty_io.c: bytes tty_write copies at a time
INT_MAX = 0x7FFFFFFF
INT_MIN = -0x80000000
SSIZE_MAX = (1 << 63) - 1       # the largest total of one readv/writev
