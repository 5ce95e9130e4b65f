"""open(2) and fcntl(2) flags, *at(2) flags, fcntl commands, seals, locks, access modes
and fadvise advice.

include/uapi/asm-generic/fcntl.h and include/uapi/linux/fcntl.h (x86-64 uses the
generic values). Linux facts only, no behaviour.
"""

import struct

# include/uapi/linux/fcntl.h: the *at(2) family
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_EACCESS = 0x200               # faccessat: check with the effective ids (same bit as
AT_REMOVEDIR = 0x200             # unlinkat's AT_REMOVEDIR; each call reads its own)
AT_SYMLINK_FOLLOW = 0x400
AT_NO_AUTOMOUNT = 0x800
AT_EMPTY_PATH = 0x1000
AT_STATX_SYNC_TYPE = 0x6000      # statx: both sync bits at once is EINVAL
AT_FLAG_NAMES = [("AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW), ("AT_REMOVEDIR", AT_REMOVEDIR),
                 ("AT_SYMLINK_FOLLOW", AT_SYMLINK_FOLLOW), ("AT_NO_AUTOMOUNT", AT_NO_AUTOMOUNT),
                 ("AT_EMPTY_PATH", AT_EMPTY_PATH)]

# include/uapi/asm-generic/fcntl.h: open(2) flags
O_ACCMODE = 0o3
O_RDONLY = 0o0
O_WRONLY = 0o1
O_RDWR = 0o2
O_CREAT = 0o100
O_EXCL = 0o200
O_NOCTTY = 0o400
O_TRUNC = 0o1000
O_APPEND = 0o2000
O_NONBLOCK = 0o4000
O_DSYNC = 0o10000
O_ASYNC = 0o20000                # FASYNC
O_DIRECT = 0o40000
O_LARGEFILE = 0o100000
O_DIRECTORY = 0o200000
O_NOFOLLOW = 0o400000
O_NOATIME = 0o1000000
O_CLOEXEC = 0o2000000
O_SYNC = 0o4010000               # __O_SYNC | O_DSYNC
O_PATH = 0o10000000
O_TMPFILE = 0o20200000           # __O_TMPFILE | O_DIRECTORY
O_ACCMODE_NAMES = {O_RDONLY: "O_RDONLY", O_WRONLY: "O_WRONLY", O_RDWR: "O_RDWR"}
O_FLAGS = [  # (name, value) for printing, in strace's order (open_mode_flags: O_SYNC
    # and O_TMPFILE before the O_DSYNC and O_DIRECTORY they include; O_ASYNC as FASYNC)
    ("O_CREAT", O_CREAT), ("O_EXCL", O_EXCL), ("O_NOCTTY", O_NOCTTY), ("O_TRUNC", O_TRUNC),
    ("O_APPEND", O_APPEND), ("O_NONBLOCK", O_NONBLOCK), ("O_SYNC", O_SYNC),
    ("O_DSYNC", O_DSYNC), ("O_DIRECT", O_DIRECT), ("O_LARGEFILE", O_LARGEFILE),
    ("O_NOFOLLOW", O_NOFOLLOW), ("O_NOATIME", O_NOATIME), ("O_CLOEXEC", O_CLOEXEC),
    ("O_PATH", O_PATH), ("O_TMPFILE", O_TMPFILE), ("O_DIRECTORY", O_DIRECTORY),
    ("FASYNC", O_ASYNC),
]

# include/uapi/asm-generic/fcntl.h: fcntl(2) commands
F_DUPFD = 0
F_GETFD = 1
F_SETFD = 2
F_GETFL = 3
F_SETFL = 4
F_GETLK = 5
F_SETLK = 6
F_SETLKW = 7
F_SETOWN = 8
F_GETOWN = 9
F_SETSIG = 10                   # the signal O_ASYNC sends (0: SIGIO without siginfo)
F_GETSIG = 11
F_SETOWN_EX = 15                # struct f_owner_ex {int type; pid_t pid;}
F_GETOWN_EX = 16
F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP = 0, 1, 2
F_OWNER_EX = struct.Struct("<ii")
F_OFD_GETLK = 36
F_OFD_SETLK = 37
F_OFD_SETLKW = 38
# include/uapi/linux/fcntl.h: F_LINUX_SPECIFIC_BASE (1024) + n
F_DUPFD_CLOEXEC = 1030
F_SETPIPE_SZ = 1031
F_GETPIPE_SZ = 1032
F_ADD_SEALS = 1033
F_GET_SEALS = 1034
F_SETLEASE = 1024
F_GETLEASE = 1025
F_NOTIFY = 1026                 # dnotify: arg is DN_* events
F_CANCELLK = 1029
FCNTL_COMMANDS = {  # for printing
    F_DUPFD: "F_DUPFD", F_GETFD: "F_GETFD", F_SETFD: "F_SETFD", F_GETFL: "F_GETFL",
    F_SETFL: "F_SETFL", F_GETLK: "F_GETLK", F_SETLK: "F_SETLK", F_SETLKW: "F_SETLKW",
    F_DUPFD_CLOEXEC: "F_DUPFD_CLOEXEC", F_SETPIPE_SZ: "F_SETPIPE_SZ",
    F_GETPIPE_SZ: "F_GETPIPE_SZ", F_ADD_SEALS: "F_ADD_SEALS", F_GET_SEALS: "F_GET_SEALS",
    F_OFD_GETLK: "F_OFD_GETLK", F_OFD_SETLK: "F_OFD_SETLK", F_OFD_SETLKW: "F_OFD_SETLKW",
    F_SETOWN: "F_SETOWN", F_GETOWN: "F_GETOWN", F_SETSIG: "F_SETSIG", F_GETSIG: "F_GETSIG",
    F_SETOWN_EX: "F_SETOWN_EX", F_GETOWN_EX: "F_GETOWN_EX", F_SETLEASE: "F_SETLEASE",
    F_GETLEASE: "F_GETLEASE", F_NOTIFY: "F_NOTIFY", F_CANCELLK: "F_CANCELLK",
}
FD_CLOEXEC = 1
FD_FLAGS = [("FD_CLOEXEC", FD_CLOEXEC)]
F_OWNER_NAMES = {F_OWNER_TID: "F_OWNER_TID", F_OWNER_PID: "F_OWNER_PID",
                 F_OWNER_PGRP: "F_OWNER_PGRP"}

# include/uapi/linux/fcntl.h: dnotify events (F_NOTIFY)
DN_ACCESS = 0x00000001
DN_MODIFY = 0x00000002
DN_CREATE = 0x00000004
DN_DELETE = 0x00000008
DN_RENAME = 0x00000010
DN_ATTRIB = 0x00000020
DN_MULTISHOT = 0x80000000
DN_FLAGS = [("DN_ACCESS", DN_ACCESS), ("DN_MODIFY", DN_MODIFY), ("DN_CREATE", DN_CREATE),
            ("DN_DELETE", DN_DELETE), ("DN_RENAME", DN_RENAME), ("DN_ATTRIB", DN_ATTRIB),
            ("DN_MULTISHOT", DN_MULTISHOT)]

# include/uapi/linux/fcntl.h: memfd seals
F_SEAL_SEAL = 0x0001            # no more seals may be added
F_SEAL_SHRINK = 0x0002          # the file may not shrink
F_SEAL_GROW = 0x0004            # the file may not grow
F_SEAL_WRITE = 0x0008           # the contents may not change
F_SEAL_FUTURE_WRITE = 0x0010    # no new writable mappings or writes
F_SEAL_EXEC = 0x0020            # the exec bits may not change
F_SEAL_ALL = 0x003F             # every seal this kernel knows
F_SEAL_FLAGS = [("F_SEAL_SEAL", F_SEAL_SEAL), ("F_SEAL_SHRINK", F_SEAL_SHRINK),
                ("F_SEAL_GROW", F_SEAL_GROW), ("F_SEAL_WRITE", F_SEAL_WRITE),
                ("F_SEAL_FUTURE_WRITE", F_SEAL_FUTURE_WRITE), ("F_SEAL_EXEC", F_SEAL_EXEC)]

# include/uapi/asm-generic/fcntl.h: struct flock (x86-64), 32 bytes:
# l_type, l_whence, (pad), l_start, l_len, l_pid, (pad)
FLOCK = struct.Struct("<hh4xqqi4x")
F_RDLCK = 0
F_WRLCK = 1
F_UNLCK = 2
# fs/locks.c: lease_break_time, /proc/sys/fs/lease-break-time's default (seconds)
LEASE_BREAK_TIME = 45
F_LOCK_TYPE_NAMES = {F_RDLCK: "F_RDLCK", F_WRLCK: "F_WRLCK", F_UNLCK: "F_UNLCK"}

# include/uapi/asm-generic/fcntl.h: flock(2) operations
LOCK_SH = 1
LOCK_EX = 2
LOCK_NB = 4
LOCK_UN = 8
LOCK_FLAGS = [("LOCK_SH", LOCK_SH), ("LOCK_EX", LOCK_EX), ("LOCK_NB", LOCK_NB),
              ("LOCK_UN", LOCK_UN)]

# include/linux/fcntl.h (and unistd.h): access(2) modes
F_OK = 0
X_OK = 1
W_OK = 2
R_OK = 4
ACCESS_FLAGS = [("R_OK", R_OK), ("W_OK", W_OK), ("X_OK", X_OK)]

# include/uapi/linux/fadvise.h: posix_fadvise(2) advice (x86-64 values)
POSIX_FADV_NORMAL = 0
POSIX_FADV_RANDOM = 1
POSIX_FADV_SEQUENTIAL = 2
POSIX_FADV_WILLNEED = 3
POSIX_FADV_DONTNEED = 4
POSIX_FADV_NOREUSE = 5
POSIX_FADV_NAMES = {POSIX_FADV_NORMAL: "POSIX_FADV_NORMAL", POSIX_FADV_RANDOM: "POSIX_FADV_RANDOM",
                    POSIX_FADV_SEQUENTIAL: "POSIX_FADV_SEQUENTIAL",
                    POSIX_FADV_WILLNEED: "POSIX_FADV_WILLNEED",
                    POSIX_FADV_DONTNEED: "POSIX_FADV_DONTNEED",
                    POSIX_FADV_NOREUSE: "POSIX_FADV_NOREUSE"}
