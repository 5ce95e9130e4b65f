"""Timer system calls: alarm(2), setitimer(2), getitimer(2), timer_create(2) and
its family, timerfd_create(2) and its family. Argument checks in Linux's order, then
kernel/timers.py's process timers or fs/timerfd.py's TimerFile.

Layer: kernel (syscall glue). Calls kernel/timers.py, kernel/clocks.py, fs/timerfd.py.
"""

from __future__ import annotations

from errno import EINVAL, EOPNOTSUPP

from ...abi import linux as L
from ...errors import KernelError
from ...fs.timerfd import TimerFile
from .. import clocks, timers

_NS = L.NSEC_PER_SEC


def _timeval_ns(sec: int, usec: int) -> int:
    if sec < 0 or not 0 <= usec < 1000000:
        raise KernelError(EINVAL)
    return sec * _NS + usec * 1000


def _timespec_ns(sec: int, nsec: int) -> int:
    if sec < 0 or not 0 <= nsec < _NS:
        raise KernelError(EINVAL)
    return sec * _NS + nsec


def _itimer_now(timer) -> tuple[int, int]:
    """(time left, interval) of an itimer as getitimer reports it: an armed timer
    whose time is up shows 1 us (itimer_get_remtime), not 0."""
    if not timer.expiry:
        return 0, timer.interval
    return max(timer.remaining(), 1000), timer.interval


def _pack_itimerval(left: int, interval: int) -> bytes:
    return L.ITIMERVAL.pack(interval // _NS, interval % _NS // 1000, left // _NS,
                            left % _NS // 1000)


def sys_getitimer(t, which, curr_value):
    """getitimer(2): ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF (EINVAL for others)."""
    if which not in timers.ITIMER_SIGNAL:
        raise KernelError(EINVAL)
    t.mm.write(curr_value, _pack_itimerval(*_itimer_now(timers.of(t.process).itimers[which])))
    return 0


def sys_setitimer(t, which, new_value, old_value):
    """setitimer(2): a NULL new_value disarms, as Linux still allows; a value is
    rounded up to whole microseconds by its layout; the old setting into old_value."""
    new = (0, 0, 0, 0)
    if new_value:
        new = t.mm.read_struct(L.ITIMERVAL, new_value)
    if which not in timers.ITIMER_SIGNAL:
        raise KernelError(EINVAL)
    interval, value = _timeval_ns(new[0], new[1]), _timeval_ns(new[2], new[3])
    timer = timers.of(t.process).itimers[which]
    old = _itimer_now(timer)
    if old_value:
        t.mm.check_writable(old_value, L.ITIMERVAL.size)
    timer.set(timer.now() + value if value else 0, interval)
    if old_value:
        t.mm.write(old_value, _pack_itimerval(*old))
    return 0


def sys_alarm(t, seconds):
    """alarm(2): ITIMER_REAL in whole seconds; returns the seconds that were left,
    rounded to nearest, and 1 rather than 0 for time left under half a second."""
    timer = timers.of(t.process).itimers[L.ITIMER_REAL]
    left, _ = _itimer_now(timer)
    timer.set(timer.now() + seconds * _NS if seconds else 0, 0)
    sec, usec = left // _NS, left % _NS // 1000
    if (not sec and usec) or usec >= 500000:
        sec += 1
    return sec


# ---- POSIX timers ----------------------------------------------------------------------------

def _timer_clock(t, clockid):
    """The clock function a timer on clockid counts on: the monotonic clock for wall
    clocks, the CPU time for CPU clocks. The raw and coarse clocks have no timers
    (EOPNOTSUPP, as a k_clock without timer_create), unknown ids are EINVAL."""
    if clockid in clocks.SLEEP_CLOCKS:
        return t.process.kernel.clock.monotonic_ns
    if clockid in clocks.HOST_CLOCK:
        raise KernelError(EOPNOTSUPP)
    kind, whose, _ = clocks.cpu_clock(t, clockid)
    if kind == "thread":
        return lambda: clocks.thread_cpu_ns(whose)
    return lambda: clocks.process_cpu_ns(whose)


def sys_timer_create(t, clockid, sevp, timerid):
    """timer_create(2): SIGEV_SIGNAL, SIGEV_THREAD_ID (a thread of the caller's
    process), SIGEV_NONE; SIGEV_THREAD reaches the kernel as SIGEV_SIGNAL (libc builds
    it over SIGEV_THREAD_ID). NULL sevp: SIGALRM with the timer id as value."""
    now = _timer_clock(t, clockid)
    notify, signo, value, thread = L.SIGEV_SIGNAL, L.SIGALRM, None, None
    if sevp:
        value, signo, notify, tid = t.mm.read_struct(L.SIGEVENT, sevp)
        kind = notify & ~L.SIGEV_THREAD_ID
        if notify & L.SIGEV_THREAD_ID:
            if notify != L.SIGEV_SIGNAL | L.SIGEV_THREAD_ID:
                raise KernelError(EINVAL)
            thread = next((th for th in t.process.threads
                           if th.tid == tid and th.state != "dead"), None)
            if thread is None:
                raise KernelError(EINVAL)
        elif kind not in (L.SIGEV_SIGNAL, L.SIGEV_THREAD, L.SIGEV_NONE):
            raise KernelError(EINVAL)
        if kind != L.SIGEV_NONE and not 1 <= signo <= L.NSIG:
            raise KernelError(EINVAL)
    t.mm.check_writable(timerid, 4)
    timer = timers.of(t.process).new_timer(now, notify, signo, value, thread)
    timer.clockid = clockid
    t.mm.write_i32(timerid, timer.id)
    return 0


def _posix_timer(t, timerid):
    timer = timers.of(t.process).posix.get(timerid)
    if timer is None:
        raise KernelError(EINVAL)
    return timer


def _pack_itimerspec(left: int, interval: int) -> bytes:
    return L.ITIMERSPEC.pack(interval // _NS, interval % _NS, left // _NS, left % _NS)


def _read_itimerspec(t, ptr):
    """(interval ns, value ns) of a struct itimerspec (EINVAL if not normalized)."""
    isec, insec, vsec, vnsec = t.mm.read_struct(L.ITIMERSPEC, ptr)
    return _timespec_ns(isec, insec), _timespec_ns(vsec, vnsec)


def _arm(t, timer, clockid, flags, value, interval, absolute_flag):
    """Set an IntervalTimer from a timer_settime/timerfd_settime value: relative
    to now, or an absolute time on clockid (turned into the timer's clock)."""
    if not value:
        timer.set(0, interval)
    elif flags & absolute_flag:
        if clockid in clocks.HOST_CLOCK:
            timer.set(max(1, clocks.monotonic_deadline(t, clockid, value, True)), interval)
        else:
            timer.set(value, interval)
    else:
        timer.set(timer.now() + value, interval)


def sys_timer_settime(t, timerid, flags, new_value, old_value):
    """timer_settime(2): TIMER_ABSTIME or relative; the old setting into old_value."""
    timer = _posix_timer(t, timerid)
    if not new_value:
        raise KernelError(EINVAL)
    interval, value = _read_itimerspec(t, new_value)
    old = timer.timer.remaining(), timer.timer.interval
    _arm(t, timer.timer, timer.clockid, flags, value, interval, L.TIMER_ABSTIME)
    if old_value:
        t.mm.write(old_value, _pack_itimerspec(*old))
    return 0


def sys_timer_gettime(t, timerid, curr_value):
    """timer_gettime(2): time left and interval (zeros when disarmed)."""
    timer = _posix_timer(t, timerid)
    if timer.notify == L.SIGEV_NONE:
        timer.timer.expire()        # no signal: the expiry moves on when looked at
    t.mm.write(curr_value, _pack_itimerspec(timer.timer.remaining(), timer.timer.interval))
    return 0


def sys_timer_getoverrun(t, timerid):
    """timer_getoverrun(2): expirations lost while the last signal was pending."""
    return _posix_timer(t, timerid).overrun_last


def sys_timer_delete(t, timerid):
    """timer_delete(2)."""
    _posix_timer(t, timerid)
    timers.of(t.process).delete(timerid)
    return 0


# ---- timerfd ---------------------------------------------------------------------------------

# the *_ALARM clocks need a real-time clock device pyunik's machine has not
_TIMERFD_CLOCKS = (L.CLOCK_REALTIME, L.CLOCK_MONOTONIC, L.CLOCK_BOOTTIME)


def sys_timerfd_create(t, clockid, flags):
    """timerfd_create(2): the wall, monotonic and boot clocks; TFD_CLOEXEC,
    TFD_NONBLOCK."""
    if flags & ~(L.TFD_CLOEXEC | L.TFD_NONBLOCK) or clockid not in _TIMERFD_CLOCKS:
        raise KernelError(EINVAL)
    kernel = t.process.kernel
    f = TimerFile(clockid, flags, kernel.sched.add_timer, kernel.clock.monotonic_ns)
    return t.process.fds.install(f, bool(flags & L.TFD_CLOEXEC))


def _timerfd(t, fd):
    f = t.process.fds.get(fd)
    if not isinstance(f, TimerFile):
        raise KernelError(EINVAL)
    return f


def sys_timerfd_settime(t, fd, flags, new_value, old_value):
    """timerfd_settime(2): TFD_TIMER_ABSTIME or relative; TFD_TIMER_CANCEL_ON_SET is
    accepted and never cancels (no clock is set in pyunik)."""
    interval, value = _read_itimerspec(t, new_value)
    if flags & ~(L.TFD_TIMER_ABSTIME | L.TFD_TIMER_CANCEL_ON_SET):
        raise KernelError(EINVAL)
    f = _timerfd(t, fd)
    if old_value:
        t.mm.check_writable(old_value, L.ITIMERSPEC.size)
    if not value:
        old = f.settime(0, 0)
    elif flags & L.TFD_TIMER_ABSTIME:
        old = f.settime(max(1, clocks.monotonic_deadline(t, f.clockid, value, True)),
                        interval)
    else:
        old = f.settime(t.process.kernel.clock.monotonic_ns() + value, interval)
    if old_value:
        t.mm.write(old_value, _pack_itimerspec(*old))
    return 0


def sys_timerfd_gettime(t, fd, curr_value):
    """timerfd_gettime(2): time left (0 when disarmed) and interval."""
    left, interval = _timerfd(t, fd).gettime()
    t.mm.write(curr_value, _pack_itimerspec(left, interval))
    return 0
