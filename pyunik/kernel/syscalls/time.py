"""Time system calls: the host's clocks, read at the call; sleeps park the thread
until their deadline (WouldBlock with a deadline, no queue).

Layer: kernel, syscall handlers. Calls: the host's clocks (time), usermem and
pyunik/wait.py (WouldBlock).
"""

from __future__ import annotations

import time
from errno import EINVAL

from ...abi import linux as L
from ...errors import KernelError
from ...wait import WouldBlock

_HOST_CLOCK = {
    L.CLOCK_REALTIME: time.CLOCK_REALTIME,
    L.CLOCK_MONOTONIC: time.CLOCK_MONOTONIC,
    L.CLOCK_PROCESS_CPUTIME_ID: time.CLOCK_PROCESS_CPUTIME_ID,
    L.CLOCK_THREAD_CPUTIME_ID: time.CLOCK_PROCESS_CPUTIME_ID,
    L.CLOCK_MONOTONIC_RAW: time.CLOCK_MONOTONIC_RAW,
    L.CLOCK_REALTIME_COARSE: time.CLOCK_REALTIME,
    L.CLOCK_MONOTONIC_COARSE: time.CLOCK_MONOTONIC,
    L.CLOCK_BOOTTIME: time.CLOCK_BOOTTIME,
    L.CLOCK_REALTIME_ALARM: time.CLOCK_REALTIME,
    L.CLOCK_BOOTTIME_ALARM: time.CLOCK_BOOTTIME,
    L.CLOCK_TAI: time.CLOCK_TAI if hasattr(time, "CLOCK_TAI") else time.CLOCK_REALTIME,
}
_COARSE_NS = L.TICK_NSEC    # the jiffy of a CONFIG_HZ=250 kernel


def _clock_ns(clock):
    host = _HOST_CLOCK.get(clock)
    if host is None:
        raise KernelError(EINVAL)
    return time.clock_gettime_ns(host)


def sys_clock_gettime(t, clockid, tp):
    """clock_gettime(2): the host clock of the same id (CPU clocks: pyunik's own)."""
    ns = _clock_ns(clockid)
    t.mm.write(tp, L.TIMESPEC.pack(ns // 1000000000, ns % 1000000000))
    return 0


def sys_clock_getres(t, clockid, res):
    """clock_getres(2): 1 ns for high-resolution clocks, a jiffy for the coarse ones."""
    if clockid not in _HOST_CLOCK:
        raise KernelError(EINVAL)
    if res:
        coarse = clockid in (L.CLOCK_REALTIME_COARSE, L.CLOCK_MONOTONIC_COARSE)
        t.mm.write(res, L.TIMESPEC.pack(0, _COARSE_NS if coarse else 1))
    return 0


def sys_gettimeofday(t, tv, tz):
    """gettimeofday(2): either pointer may be NULL; the timezone is UTC (sys_tz)."""
    if tv:
        ns = time.clock_gettime_ns(time.CLOCK_REALTIME)
        t.mm.write(tv, L.TIMEVAL.pack(ns // 1000000000, ns % 1000000000 // 1000))
    if tz:
        t.mm.write(tz, L.TIMEZONE.pack(0, 0))
    return 0


def sys_time(t, tloc):
    """time(2)."""
    now = time.clock_gettime_ns(time.CLOCK_REALTIME) // 1000000000
    if tloc:
        t.mm.write_u64(tloc, now)
    return now


def sleep_until(deadline: int, left=None) -> int:
    """0 once time.monotonic_ns() has reached deadline; until then the thread waits.
    left(ns) is told the time left when a signal interrupts the sleep."""
    if time.monotonic_ns() >= deadline:
        return 0
    interrupted = None
    if left is not None:
        def interrupted():
            left(max(0, deadline - time.monotonic_ns()))
    raise WouldBlock(deadline=deadline, retry=lambda timed_out: sleep_until(deadline, left),
                     what="a sleep", on_interrupt=interrupted)


def _remaining(t, rem):
    """Where an interrupted relative sleep writes the time left (if rem is given)."""
    if not rem:
        return None

    def write(ns):
        try:
            t.mm.write(rem, L.TIMESPEC.pack(ns // 1000000000, ns % 1000000000))
        except KernelError:
            pass
    return write


def sys_nanosleep(t, req, rem):
    """nanosleep(2): the thread waits for its deadline; a signal whose handler runs
    ends it with EINTR and the time left in rem."""
    ns = t.mm.read_timespec(req)
    return sleep_until(time.monotonic_ns() + ns, _remaining(t, rem))


def sys_clock_nanosleep(t, clockid, flags, req, rem):
    """clock_nanosleep(2): relative or TIMER_ABSTIME on the named clock."""
    if clockid in (L.CLOCK_THREAD_CPUTIME_ID,):
        raise KernelError(EINVAL)
    if clockid not in _HOST_CLOCK:
        raise KernelError(EINVAL)
    ns = t.mm.read_timespec(req)
    if flags & L.TIMER_ABSTIME:
        ns -= _clock_ns(clockid)
        return sleep_until(time.monotonic_ns() + ns)
    return sleep_until(time.monotonic_ns() + ns, _remaining(t, rem))
