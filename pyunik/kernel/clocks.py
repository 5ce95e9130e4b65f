"""Clocks: what clock_gettime, clock_getres, clock_nanosleep and the timers read.

The wall and monotonic clocks are the host's. The CPU clocks are the guest's own:
the scheduler adds to each thread the host CPU time (time.thread_time_ns) of every run
of it on the engine, which is its guest code and the system calls made from it
(kernel/sched.py); a process's clock is the sum over its threads, the exited ones
included. pyunik does not tell a thread's system time apart from its user time (that
would cost two clock reads on every system call), so all of it counts as user time:
the PROF, VIRT and SCHED clocks read the same.

The clock ids (include/linux/posix-timers.h): CLOCK_PROCESS_CPUTIME_ID and
CLOCK_THREAD_CPUTIME_ID name the caller's; a negative id is clock_getcpuclockid's
~pid << 3 | per-thread bit (4) | which (PROF 0, VIRT 1, SCHED 2), pid 0 meaning the
caller. A thread's clock can be read only within its own process; a process's by
any guest process. The *_ALARM clocks need a real-time clock device, which pyunik's
machine has not: EINVAL, as on a Linux without one.

Layer: kernel. Called by kernel/syscalls/time.py and kernel/timers.py; reads the
scheduler's accounting.
"""

from __future__ import annotations

import time
from errno import EINVAL

from ..abi import linux as L
from ..errors import KernelError

HOST_CLOCK = {
    L.CLOCK_REALTIME: time.CLOCK_REALTIME,
    L.CLOCK_MONOTONIC: time.CLOCK_MONOTONIC,
    L.CLOCK_MONOTONIC_RAW: time.CLOCK_MONOTONIC_RAW,
    L.CLOCK_REALTIME_COARSE: time.CLOCK_REALTIME,
    L.CLOCK_MONOTONIC_COARSE: time.CLOCK_MONOTONIC,
    L.CLOCK_BOOTTIME: time.CLOCK_BOOTTIME,
    L.CLOCK_TAI: time.CLOCK_TAI if hasattr(time, "CLOCK_TAI") else time.CLOCK_REALTIME,
}
COARSE = (L.CLOCK_REALTIME_COARSE, L.CLOCK_MONOTONIC_COARSE)
# the clocks a sleep or a timer can be set on (those with nsleep and timer_create)
SLEEP_CLOCKS = (L.CLOCK_REALTIME, L.CLOCK_MONOTONIC, L.CLOCK_BOOTTIME, L.CLOCK_TAI)


def thread_cpu_ns(t) -> int:
    return t.process.kernel.sched.cpu_ns(t)


def process_cpu_ns(p) -> int:
    sched = p.kernel.sched
    return p.exited_cpu_ns + sum(sched.cpu_ns(t) for t in p.threads if t.state != "dead")


def cpu_clock(t, clockid: int):
    """The thread or process a CPU clock id names (EINVAL if none), and which clock
    of it: ("thread" | "process", thread or process, which)."""
    if clockid == L.CLOCK_PROCESS_CPUTIME_ID:
        return "process", t.process, L.CPUCLOCK_SCHED
    if clockid == L.CLOCK_THREAD_CPUTIME_ID:
        return "thread", t, L.CPUCLOCK_SCHED
    if clockid >= 0:
        raise KernelError(EINVAL)
    which = clockid & L.CPUCLOCK_CLOCK_MASK
    if which >= L.CPUCLOCK_MAX:
        raise KernelError(EINVAL)
    pid = ~(clockid >> 3)
    if clockid & L.CPUCLOCK_PERTHREAD_MASK:
        if pid == 0:
            return "thread", t, which
        for th in t.process.threads:
            if th.tid == pid and th.state != "dead":
                return "thread", th, which
        raise KernelError(EINVAL)
    if pid == 0:
        return "process", t.process, which
    for p in t.process.kernel.processes.values():
        if any(th.tid == pid for th in p.threads if th.state != "dead"):
            return "process", p, which
    raise KernelError(EINVAL)


def clock_ns(t, clockid: int) -> int:
    """The clock's time now, in ns (EINVAL for an id Linux does not know)."""
    host = HOST_CLOCK.get(clockid)
    if host is not None:
        return time.clock_gettime_ns(host)
    kind, whose, _ = cpu_clock(t, clockid)
    return thread_cpu_ns(whose) if kind == "thread" else process_cpu_ns(whose)


def clock_res_ns(t, clockid: int) -> int:
    """clock_getres: 1 ns for high-resolution clocks and CPU clocks' SCHED, a jiffy
    for the coarse clocks and the PROF and VIRT CPU clocks (posix_cpu_clock_getres)."""
    if clockid in HOST_CLOCK:
        return L.TICK_NSEC if clockid in COARSE else 1
    _, _, which = cpu_clock(t, clockid)
    return 1 if which == L.CPUCLOCK_SCHED else L.TICK_NSEC


def monotonic_deadline(t, clockid: int, ns: int, absolute: bool) -> int:
    """A time on a wall or monotonic clock as a time.monotonic_ns() deadline."""
    if absolute:
        ns -= clock_ns(t, clockid)
    return time.monotonic_ns() + ns
