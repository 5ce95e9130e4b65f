"""Time system calls: clocks (kernel/clocks.py), read at the call; sleeps park the
thread until their deadline (WouldBlock with a deadline, no queue).

Layer: kernel (syscall glue). Calls kernel/clocks.py and pyunik/wait.py.
"""

from __future__ import annotations

from errno import EINVAL, EOPNOTSUPP

from ...abi import linux as L
from ...errors import KernelError
from ...wait import WouldBlock, restartable
from .. import clocks

def sys_clock_gettime(t, clockid, tp):
    """clock_gettime(2): wall and monotonic clocks are the host's; CPU clocks the
    guest threads' own (kernel/clocks.py)."""
    ns = clocks.clock_ns(t, clockid)
    t.mm.write(tp, L.TIMESPEC.pack(ns // 1000000000, ns % 1000000000))
    return 0


def sys_clock_getres(t, clockid, res):
    """clock_getres(2): 1 ns for high-resolution clocks, a jiffy for the coarse ones
    and the PROF and VIRT CPU clocks; the clock id is checked even when res is NULL."""
    ns = clocks.clock_res_ns(t, clockid)
    if res:
        t.mm.write(res, L.TIMESPEC.pack(0, ns))
    return 0


def sys_gettimeofday(t, tv, tz):
    """gettimeofday(2): either pointer may be NULL; the timezone is UTC (sys_tz)."""
    if tv:
        ns = t.process.kernel.clock.realtime_ns()
        t.mm.write(tv, L.TIMEVAL.pack(ns // 1000000000, ns % 1000000000 // 1000))
    if tz:
        t.mm.write(tz, L.TIMEZONE.pack(0, 0))
    return 0


def sys_time(t, tloc):
    """time(2)."""
    now = t.process.kernel.clock.realtime_ns() // 1000000000
    if tloc:
        t.mm.write_u64(tloc, now)
    return now


def sleep_until(t, deadline: int, left=None) -> int:
    """0 once the kernel's monotonic clock has reached deadline; until then the
    thread waits. left(ns) is told the time left when a signal interrupts the sleep
    (what it returns, if not None, is the call's result: -EFAULT)."""
    clock = t.process.kernel.clock
    if clock.monotonic_ns() >= deadline:
        return 0
    interrupted = None
    if left is not None:
        def interrupted():
            return left(max(0, deadline - clock.monotonic_ns()))
    raise WouldBlock(deadline=deadline, retry=lambda timed_out: sleep_until(t, deadline, left),
                     what="a sleep", on_interrupt=interrupted)


def _remaining(t, rem):
    """Where an interrupted relative sleep writes the time left (if rem is given),
    whether it then ends or restarts; a rem it cannot write makes the call fail
    with EFAULT instead (nanosleep_copyout)."""
    if not rem:
        return None

    def write(ns):
        try:
            t.mm.write(rem, L.TIMESPEC.pack(ns // 1000000000, ns % 1000000000))
        except KernelError as e:
            return -e.errno
        return None
    return write


def sys_nanosleep(t, req, rem):
    """nanosleep(2): the thread waits for its deadline; a signal ends it with the
    time left in rem, and EINTR if a handler runs, else it sleeps on until the same
    deadline (hrtimer_nanosleep's restart block)."""
    ns = t.mm.read_timespec(req)
    return restartable(t, sleep_until, t, t.process.kernel.clock.monotonic_ns() + ns,
                       _remaining(t, rem))


def sys_clock_nanosleep(t, clockid, flags, req, rem):
    """clock_nanosleep(2): relative or TIMER_ABSTIME on the named clock. Clocks
    without sleeps (raw, coarse, the caller's thread CPU clock) are EOPNOTSUPP,
    another thread CPU clock id EINVAL; a
    process's CPU clock sleeps until the process has run that long (its threads
    share one host CPU, so it cannot get there sooner than the wall time left)."""
    if clockid == L.CLOCK_THREAD_CPUTIME_ID:
        raise KernelError(EOPNOTSUPP)        # its k_clock has no nsleep
    if clockid not in clocks.HOST_CLOCK:
        kind, whose, _ = clocks.cpu_clock(t, clockid)
        if kind == "thread":
            raise KernelError(EINVAL)
        ns = t.mm.read_timespec(req)
        target = ns if flags & L.TIMER_ABSTIME else clocks.process_cpu_ns(whose) + ns
        return _cpu_sleep(whose, target)
    if clockid not in clocks.SLEEP_CLOCKS:
        raise KernelError(EOPNOTSUPP)
    ns = t.mm.read_timespec(req)
    if flags & L.TIMER_ABSTIME:
        return sleep_until(t, clocks.monotonic_deadline(t, clockid, ns, True))
    return restartable(t, sleep_until, t, t.process.kernel.clock.monotonic_ns() + ns,
                       _remaining(t, rem))


def _cpu_sleep(process, target):
    left = target - clocks.process_cpu_ns(process)
    if left <= 0:
        return 0
    raise WouldBlock(deadline=process.kernel.clock.monotonic_ns() + left,
                     retry=lambda timed_out: _cpu_sleep(process, target),
                     what="a sleep on a CPU clock")
