"""File-system facts with no header of their own: seeking, renaming, fallocate,
preadv2 flags, transfer and offset limits, permission masks, pseudo-filesystem devices.

include/uapi/linux/fs.h, include/linux/fs.h, include/uapi/linux/falloc.h and
include/linux/pipe_fs_i.h. Linux facts only, no behaviour.
"""

# include/uapi/linux/fs.h: lseek(2) whence
SEEK_SET = 0
SEEK_CUR = 1
SEEK_END = 2
SEEK_DATA = 3
SEEK_HOLE = 4
SEEK_NAMES = {SEEK_SET: "SEEK_SET", SEEK_CUR: "SEEK_CUR", SEEK_END: "SEEK_END",
              SEEK_DATA: "SEEK_DATA", SEEK_HOLE: "SEEK_HOLE"}

# include/uapi/linux/fs.h: renameat2(2) flags
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
RENAME_WHITEOUT = 4
RENAME_FLAGS = [("RENAME_NOREPLACE", RENAME_NOREPLACE), ("RENAME_EXCHANGE", RENAME_EXCHANGE),
                ("RENAME_WHITEOUT", RENAME_WHITEOUT)]

# include/uapi/linux/fs.h: preadv2/pwritev2 flags this kernel knows
RWF_HIPRI = 0x01       # poll for completion (a hint for direct I/O)
RWF_DSYNC = 0x02       # per-write O_DSYNC
RWF_SYNC = 0x04        # per-write O_SYNC
RWF_NOWAIT = 0x08      # fail with EAGAIN rather than wait
RWF_APPEND = 0x10      # per-write O_APPEND
RWF_SUPPORTED = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND

# include/uapi/linux/falloc.h
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02

# include/linux/fs.h
MAX_RW_COUNT = 0x7FFFF000                 # INT_MAX & PAGE_MASK: the most one read/write moves
MAX_LFS_FILESIZE = (1 << 63) - 1          # the largest file offset (LLONG_MAX)
MAY_EXEC = 0x1                            # inode_permission(): what is asked for
MAY_WRITE = 0x2
MAY_READ = 0x4

# include/linux/pipe_fs_i.h: PIPE_DEF_BUFFERS pages; fs/pipe.c: pipe-max-size's default
PIPE_DEF_SIZE = 16 * 4096
PIPE_MAX_SIZE = 1 << 20                   # /proc/sys/fs/pipe-max-size

# st_dev of the kernel's internal mounts, as a typical boot numbers them (the minor of
# an unnamed device is handed out in mount order)
PIPEFS_DEV = 0xD
ANON_INODE_DEV = 0x10                     # anon_inodefs: eventfd, inotify, ...
ANON_INODE_INO = 1                        # the one inode behind every anonymous fd

# splice(2), tee(2), vmsplice(2) flags (include/linux/splice.h)
SPLICE_F_MOVE = 0x01
SPLICE_F_NONBLOCK = 0x02
SPLICE_F_MORE = 0x04
SPLICE_F_GIFT = 0x08
