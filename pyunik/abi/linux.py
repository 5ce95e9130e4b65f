"""Linux x86-64 constants and struct layouts used by the kernel and the tracer.

Each group names the Linux header it mirrors. No behaviour lives here.
"""

import struct

PAGE_SIZE = 4096
PAGE_MASK = ~(PAGE_SIZE - 1)
PATH_MAX = 4096

# include/uapi/linux/fcntl.h
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_SYMLINK_FOLLOW = 0x400
AT_NO_AUTOMOUNT = 0x800
AT_EMPTY_PATH = 0x1000

# include/uapi/asm-generic/fcntl.h
O_ACCMODE = 0o3
O_RDONLY = 0o0
O_WRONLY = 0o1
O_RDWR = 0o2
O_NONBLOCK = 0o4000
O_APPEND = 0o2000
O_CLOEXEC = 0o2000000
O_DIRECT = 0o40000
O_FLAGS = [  # (name, value) for printing, in strace's order
    ("O_CREAT", 0o100), ("O_EXCL", 0o200), ("O_NOCTTY", 0o400), ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000), ("O_NONBLOCK", 0o4000), ("O_DSYNC", 0o10000),
    ("O_ASYNC", 0o20000), ("O_DIRECT", 0o40000), ("O_LARGEFILE", 0o100000),
    ("O_DIRECTORY", 0o200000), ("O_NOFOLLOW", 0o400000), ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000), ("O_SYNC", 0o4010000), ("O_PATH", 0o10000000),
    ("O_TMPFILE", 0o20200000),
]

# include/uapi/asm-generic/mman-common.h, arch/x86/include/uapi/asm/mman.h
PROT_NONE = 0x0
PROT_READ = 0x1
PROT_WRITE = 0x2
PROT_EXEC = 0x4
PROT_GROWSDOWN = 0x01000000
PROT_GROWSUP = 0x02000000
PROT_FLAGS = [("PROT_READ", 1), ("PROT_WRITE", 2), ("PROT_EXEC", 4),
              ("PROT_SEM", 8), ("PROT_GROWSDOWN", PROT_GROWSDOWN), ("PROT_GROWSUP", PROT_GROWSUP)]

MAP_SHARED = 0x01
MAP_PRIVATE = 0x02
MAP_SHARED_VALIDATE = 0x03
MAP_TYPE = 0x0F
MAP_FIXED = 0x10
MAP_ANONYMOUS = 0x20
MAP_32BIT = 0x40
MAP_GROWSDOWN = 0x0100
MAP_DENYWRITE = 0x0800
MAP_EXECUTABLE = 0x1000
MAP_LOCKED = 0x2000
MAP_NORESERVE = 0x4000
MAP_POPULATE = 0x8000
MAP_NONBLOCK = 0x10000
MAP_STACK = 0x20000
MAP_HUGETLB = 0x40000
MAP_SYNC = 0x80000
MAP_FIXED_NOREPLACE = 0x100000
MAP_UNINITIALIZED = 0x4000000
MAP_FLAGS = [
    ("MAP_FIXED", MAP_FIXED), ("MAP_ANONYMOUS", MAP_ANONYMOUS), ("MAP_32BIT", MAP_32BIT),
    ("MAP_GROWSDOWN", MAP_GROWSDOWN), ("MAP_DENYWRITE", MAP_DENYWRITE),
    ("MAP_EXECUTABLE", MAP_EXECUTABLE), ("MAP_LOCKED", MAP_LOCKED),
    ("MAP_NORESERVE", MAP_NORESERVE), ("MAP_POPULATE", MAP_POPULATE),
    ("MAP_NONBLOCK", MAP_NONBLOCK), ("MAP_STACK", MAP_STACK), ("MAP_HUGETLB", MAP_HUGETLB),
    ("MAP_SYNC", MAP_SYNC), ("MAP_FIXED_NOREPLACE", MAP_FIXED_NOREPLACE),
    ("MAP_UNINITIALIZED", MAP_UNINITIALIZED),
]
MAP_TYPES = {MAP_SHARED: "MAP_SHARED", MAP_PRIVATE: "MAP_PRIVATE",
             MAP_SHARED_VALIDATE: "MAP_SHARED_VALIDATE"}

MREMAP_MAYMOVE = 1
MREMAP_FIXED = 2
MREMAP_DONTUNMAP = 4

MADV_NORMAL = 0
MADV_RANDOM = 1
MADV_SEQUENTIAL = 2
MADV_WILLNEED = 3
MADV_DONTNEED = 4
MADV_FREE = 8
MADV_REMOVE = 9
MADV_DONTFORK = 10
MADV_DOFORK = 11
MADV_MERGEABLE = 12
MADV_UNMERGEABLE = 13
MADV_HUGEPAGE = 14
MADV_NOHUGEPAGE = 15
MADV_DONTDUMP = 16
MADV_DODUMP = 17
MADV_WIPEONFORK = 18
MADV_KEEPONFORK = 19
MADV_COLD = 20
MADV_PAGEOUT = 21
MADV_NAMES = {
    0: "MADV_NORMAL", 1: "MADV_RANDOM", 2: "MADV_SEQUENTIAL", 3: "MADV_WILLNEED",
    4: "MADV_DONTNEED", 8: "MADV_FREE", 9: "MADV_REMOVE", 10: "MADV_DONTFORK",
    11: "MADV_DOFORK", 12: "MADV_MERGEABLE", 13: "MADV_UNMERGEABLE", 14: "MADV_HUGEPAGE",
    15: "MADV_NOHUGEPAGE", 16: "MADV_DONTDUMP", 17: "MADV_DODUMP", 18: "MADV_WIPEONFORK",
    19: "MADV_KEEPONFORK", 20: "MADV_COLD", 21: "MADV_PAGEOUT",
}

MS_ASYNC = 1
MS_INVALIDATE = 2
MS_SYNC = 4

# arch/x86/include/asm/page_64_types.h: the top of user space
TASK_SIZE = 0x7FFFFFFFF000

# include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h
AT_NULL = 0
AT_PHDR = 3
AT_PHENT = 4
AT_PHNUM = 5
AT_PAGESZ = 6
AT_BASE = 7
AT_FLAGS = 8
AT_ENTRY = 9
AT_UID = 11
AT_EUID = 12
AT_GID = 13
AT_EGID = 14
AT_PLATFORM = 15
AT_HWCAP = 16
AT_CLKTCK = 17
AT_SECURE = 23
AT_RANDOM = 25
AT_HWCAP2 = 26
AT_EXECFN = 31
AT_MINSIGSTKSZ = 51

# arch/x86/include/uapi/asm/prctl.h
ARCH_SET_GS = 0x1001
ARCH_SET_FS = 0x1002
ARCH_GET_FS = 0x1003
ARCH_GET_GS = 0x1004
ARCH_GET_CPUID = 0x1011
ARCH_SET_CPUID = 0x1012
ARCH_NAMES = {ARCH_SET_GS: "ARCH_SET_GS", ARCH_SET_FS: "ARCH_SET_FS",
              ARCH_GET_FS: "ARCH_GET_FS", ARCH_GET_GS: "ARCH_GET_GS",
              ARCH_GET_CPUID: "ARCH_GET_CPUID", ARCH_SET_CPUID: "ARCH_SET_CPUID"}

# include/uapi/linux/resource.h, include/uapi/asm-generic/resource.h
RLIM_INFINITY = 0xFFFFFFFFFFFFFFFF
RLIMIT_NAMES = ["RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
                "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
                "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
                "RLIMIT_RTPRIO", "RLIMIT_RTTIME"]
RLIMIT_STACK = 3
RLIMIT_NOFILE = 7
RLIMIT_AS = 9
RLIM_NLIMITS = 16
RUSAGE_SELF = 0
RUSAGE_CHILDREN = -1
RUSAGE_THREAD = 1

# include/uapi/linux/time.h
CLOCK_REALTIME = 0
CLOCK_MONOTONIC = 1
CLOCK_PROCESS_CPUTIME_ID = 2
CLOCK_THREAD_CPUTIME_ID = 3
CLOCK_MONOTONIC_RAW = 4
CLOCK_REALTIME_COARSE = 5
CLOCK_MONOTONIC_COARSE = 6
CLOCK_BOOTTIME = 7
CLOCK_REALTIME_ALARM = 8
CLOCK_BOOTTIME_ALARM = 9
CLOCK_TAI = 11
CLOCK_NAMES = {0: "CLOCK_REALTIME", 1: "CLOCK_MONOTONIC", 2: "CLOCK_PROCESS_CPUTIME_ID",
               3: "CLOCK_THREAD_CPUTIME_ID", 4: "CLOCK_MONOTONIC_RAW",
               5: "CLOCK_REALTIME_COARSE", 6: "CLOCK_MONOTONIC_COARSE", 7: "CLOCK_BOOTTIME",
               8: "CLOCK_REALTIME_ALARM", 9: "CLOCK_BOOTTIME_ALARM", 11: "CLOCK_TAI"}

# include/uapi/linux/random.h
GRND_NONBLOCK = 0x1
GRND_RANDOM = 0x2
GRND_INSECURE = 0x4

# include/uapi/asm-generic/signal.h, arch/x86/include/uapi/asm/signal.h
NSIG = 64
SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE = range(1, 9)
SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT = range(9, 17)
SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU = range(17, 25)
SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSYS = range(25, 32)
SIGNAL_NAMES = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
    13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
    18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG",
    24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO",
    30: "SIGPWR", 31: "SIGSYS",
}


def signal_name(sig: int) -> str:
    if sig in SIGNAL_NAMES:
        return SIGNAL_NAMES[sig]
    if 32 <= sig <= NSIG:
        return "SIGRT_%d" % (sig - 32) if sig != 34 else "SIGRTMIN"
    return str(sig)


SIG_BLOCK = 0
SIG_UNBLOCK = 1
SIG_SETMASK = 2
SIG_DFL = 0
SIG_IGN = 1
SA_NOCLDSTOP = 0x00000001
SA_NOCLDWAIT = 0x00000002
SA_SIGINFO = 0x00000004
SA_UNSUPPORTED = 0x00000400
SA_EXPOSE_TAGBITS = 0x00000800
SA_RESTORER = 0x04000000
SA_ONSTACK = 0x08000000
SA_RESTART = 0x10000000
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000
SA_FLAGS = [("SA_NOCLDSTOP", SA_NOCLDSTOP), ("SA_NOCLDWAIT", SA_NOCLDWAIT),
            ("SA_SIGINFO", SA_SIGINFO), ("SA_RESTORER", SA_RESTORER), ("SA_ONSTACK", SA_ONSTACK),
            ("SA_RESTART", SA_RESTART), ("SA_NODEFER", SA_NODEFER), ("SA_RESETHAND", SA_RESETHAND)]
SS_ONSTACK = 1
SS_DISABLE = 2
SS_AUTODISARM = 1 << 31
MINSIGSTKSZ = 2048

# include/uapi/asm-generic/ioctls.h, include/uapi/linux/fs.h
TCGETS = 0x5401
TCSETS = 0x5402
TCSETSW = 0x5403
TCSETSF = 0x5404
TIOCGPGRP = 0x540F
TIOCSPGRP = 0x5410
TIOCGWINSZ = 0x5413
TIOCSWINSZ = 0x5414
FIONREAD = 0x541B
FIONBIO = 0x5421
FIONCLEX = 0x5450
FIOCLEX = 0x5451
IOCTL_NAMES = {TCGETS: "TCGETS", TCSETS: "TCSETS", TCSETSW: "TCSETSW", TCSETSF: "TCSETSF",
               TIOCGPGRP: "TIOCGPGRP", TIOCSPGRP: "TIOCSPGRP", TIOCGWINSZ: "TIOCGWINSZ",
               TIOCSWINSZ: "TIOCSWINSZ", FIONREAD: "FIONREAD", FIONBIO: "FIONBIO",
               FIONCLEX: "FIONCLEX", FIOCLEX: "FIOCLEX"}

# include/uapi/linux/prctl.h
PR_SET_PDEATHSIG = 1
PR_GET_PDEATHSIG = 2
PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
PR_GET_SECCOMP = 21
PR_CAPBSET_READ = 23
PR_SET_NAME = 15
PR_GET_NAME = 16
PR_SET_TIMERSLACK = 29
PR_GET_TIMERSLACK = 30
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PRCTL_NAMES = {1: "PR_SET_PDEATHSIG", 2: "PR_GET_PDEATHSIG", 3: "PR_GET_DUMPABLE",
               4: "PR_SET_DUMPABLE", 15: "PR_SET_NAME", 16: "PR_GET_NAME",
               21: "PR_GET_SECCOMP", 23: "PR_CAPBSET_READ", 29: "PR_SET_TIMERSLACK",
               30: "PR_GET_TIMERSLACK", 36: "PR_SET_CHILD_SUBREAPER",
               37: "PR_GET_CHILD_SUBREAPER", 38: "PR_SET_NO_NEW_PRIVS",
               39: "PR_GET_NO_NEW_PRIVS", 0x53564D41: "PR_SET_VMA"}
CAP_LAST_CAP = 40
TASK_COMM_LEN = 16

# include/uapi/linux/personality.h
PER_LINUX = 0x0000

# ---- struct layouts ------------------------------------------------------------------

# arch/x86/include/uapi/asm/stat.h: struct stat (x86-64), 144 bytes
STAT = struct.Struct("<QQQIIIiQqqqQQQQQQqqq")
# st_dev, st_ino, st_nlink, st_mode, st_uid, st_gid, __pad0, st_rdev, st_size,
# st_blksize, st_blocks, st_atime, st_atime_nsec, st_mtime, st_mtime_nsec,
# st_ctime, st_ctime_nsec, __unused[3]

# include/uapi/linux/time_types.h: struct __kernel_timespec / timeval
TIMESPEC = struct.Struct("<qq")
TIMEVAL = struct.Struct("<qq")
TIMEZONE = struct.Struct("<ii")

# include/uapi/linux/utsname.h: struct new_utsname, six 65-byte fields
UTSNAME_FIELD = 65
UTSNAME = struct.Struct("<65s65s65s65s65s65s")

# include/uapi/linux/resource.h: struct rlimit64
RLIMIT = struct.Struct("<QQ")

# include/uapi/linux/sysinfo.h: struct sysinfo (x86-64), 112 bytes
SYSINFO = struct.Struct("<q3QQQQQQQHxxxxxxQQI4x")
# uptime, loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap,
# procs, pad, totalhigh, freehigh, mem_unit, _f

# arch/x86/include/uapi/asm/signal.h (kernel's struct sigaction, x86-64):
# sa_handler, sa_flags, sa_restorer, sa_mask
KERNEL_SIGACTION = struct.Struct("<QQQQ")
SIGSET = struct.Struct("<Q")
SIGSET_SIZE = 8

# include/uapi/asm-generic/signal.h: stack_t {void *ss_sp; int ss_flags; size_t ss_size}
STACK_T = struct.Struct("<Qi4xQ")

# include/uapi/linux/uio.h: struct iovec
IOVEC = struct.Struct("<QQ")
UIO_MAXIOV = 1024

# include/uapi/asm-generic/termbits.h: struct winsize; struct termios is 36 bytes
WINSIZE = struct.Struct("<HHHH")
TERMIOS_SIZE = 36

# include/uapi/linux/auxvec.h entries are (type, value) pairs of 64-bit words
AUXV_ENTRY = struct.Struct("<QQ")

# include/uapi/linux/resource.h: struct rusage, 144 bytes
RUSAGE = struct.Struct("<qqqq14q")
