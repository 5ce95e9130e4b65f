"""Clocks and time structs.

include/uapi/linux/time.h, include/uapi/linux/time_types.h and include/vdso/jiffies.h.
Linux facts only, no behaviour.
"""

import struct

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

# TICK_NSEC with CONFIG_HZ=250 (Debian's): the resolution of the *_COARSE clocks
TICK_NSEC = 4_000_000

# struct __kernel_timespec, struct __kernel_old_timeval, struct timezone
TIMESPEC = struct.Struct("<qq")
TIMEVAL = struct.Struct("<qq")
TIMEZONE = struct.Struct("<ii")

# struct utimbuf (include/uapi/linux/utime.h): actime, modtime in seconds
UTIMBUF = struct.Struct("<qq")

# struct tms (include/uapi/linux/times.h): four clock_t
TMS = struct.Struct("<qqqq")
TIMER_ABSTIME = 1                 # clock_nanosleep, timer_settime: the time is absolute
