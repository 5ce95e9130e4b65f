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
TIMER_FLAGS = [("TIMER_ABSTIME", TIMER_ABSTIME)]

# include/linux/posix-timers.h: the clock ids of a process's or thread's CPU clocks
# (clock_getcpuclockid, pthread_getcpuclockid): ~pid << 3 | per-thread bit | which
CPUCLOCK_PROF = 0                 # user + system time
CPUCLOCK_VIRT = 1                 # user time
CPUCLOCK_SCHED = 2                # time on a CPU (sum_exec_runtime)
CPUCLOCK_MAX = 3
CPUCLOCK_CLOCK_MASK = 3
CPUCLOCK_PERTHREAD_MASK = 4
DELAYTIMER_MAX = 0x7FFFFFFF       # the most timer_getoverrun and si_overrun report
NSEC_PER_SEC = 1000000000

# include/uapi/linux/time.h: setitimer/getitimer
ITIMER_REAL = 0
ITIMER_VIRTUAL = 1
ITIMER_PROF = 2
# struct itimerval {struct timeval it_interval, it_value}
ITIMERVAL = struct.Struct("<qqqq")
# struct itimerspec {struct timespec it_interval, it_value}
ITIMERSPEC = struct.Struct("<qqqq")

# include/uapi/linux/timerfd.h (TFD_CLOEXEC and TFD_NONBLOCK are O_CLOEXEC, O_NONBLOCK)
TFD_TIMER_ABSTIME = 1
TFD_TIMER_CANCEL_ON_SET = 2
TFD_CLOEXEC = 0o2000000
TFD_NONBLOCK = 0o4000
# struct timerfd's read: a u64 count of expirations
TFD_TICKS = struct.Struct("<Q")

# include/uapi/asm-generic/siginfo.h: struct sigevent (64 bytes): sigev_value,
# sigev_signo, sigev_notify, then a union whose first member is the thread id
# of SIGEV_THREAD_ID
SIGEVENT = struct.Struct("<Qiii")
SIGEV_SIGNAL = 0
SIGEV_NONE = 1
SIGEV_THREAD = 2
SIGEV_THREAD_ID = 4
