"""Resource limits, usage and priorities.

include/uapi/linux/resource.h and include/uapi/asm-generic/resource.h. Linux facts only.
"""

import struct

RLIM_INFINITY = 0xFFFFFFFFFFFFFFFF
RLIMIT_NAMES = ["RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
                "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
                "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
                "RLIMIT_RTPRIO", "RLIMIT_RTTIME"]
RLIMIT_CPU = 0
RLIMIT_FSIZE = 1
RLIMIT_DATA = 2
RLIMIT_STACK = 3
RLIMIT_RSS = 5
RLIMIT_NPROC = 6
RLIMIT_NOFILE = 7
RLIMIT_MEMLOCK = 8
RLIMIT_AS = 9
RLIMIT_SIGPENDING = 11
RLIM_NLIMITS = 16
STK_LIM = 8 << 20               # _STK_LIM: the default RLIMIT_STACK soft limit, 8 MiB

RUSAGE_SELF = 0
RUSAGE_CHILDREN = -1
RUSAGE_THREAD = 1

PRIO_PROCESS = 0
PRIO_PGRP = 1
PRIO_USER = 2

# struct rlimit64
RLIMIT = struct.Struct("<QQ")

# struct rusage, 144 bytes: ru_utime, ru_stime (timevals), then 14 longs
RUSAGE = struct.Struct("<qqqq14q")
