"""Clocks: what clock_gettime, clock_getres, clock_nanosleep and the timers read.

Every guest-visible time comes from the kernel's clock, `kernel.clock`: a
`HostClock` normally, a `VirtualClock` in deterministic mode (below). Its
`monotonic_ns()` is also the time base of every deadline the scheduler keeps (parked
calls, timers), and `realtime_ns()` the wall clock (gettimeofday, time, file
timestamps through the VFS's clock, /proc/stat's btime).

With a HostClock the wall and monotonic clocks are the host's. The CPU clocks are the
guest's own: the scheduler adds to each thread the time of every run of it on the
engine, which is its guest code and the system calls made from it (kernel/sched.py);
a process's clock is the sum over its threads, the exited ones included. A run's
time is read from the monotonic clock (`cpu_ns()`), not the host thread's CPU clock:
the guest's threads share pyunik's one host thread, so the time a thread holds that
CPU is its CPU time, as on a Linux machine with one CPU (time the host gives to
other processes meanwhile counts too, as steal time would). The host thread's CPU
clock is a system call on this machine (2.1 us, against 0.25 us), and two are read
per run: they were 8 of a futex round trip's microseconds. pyunik does not tell a thread's system
time apart from its user time (that would cost two clock reads on every system
call), so all of it counts as user time: the PROF, VIRT and SCHED clocks read the
same.

The clock ids (include/linux/posix-timers.h): CLOCK_PROCESS_CPUTIME_ID and
CLOCK_THREAD_CPUTIME_ID name the caller's; a negative id is clock_getcpuclockid's
~pid << 3 | per-thread bit (4) | which (PROF 0, VIRT 1, SCHED 2), pid 0 meaning the
caller. A thread's clock can be read only within its own process; a process's by
any guest process. The *_ALARM clocks need a real-time clock device, which pyunik's
machine has not: EINVAL, as on a Linux without one.

Deterministic mode (`pyunik run --deterministic[=SEED]`, Config.deterministic): a
VirtualClock that no host timing moves. It starts at boot (monotonic 0, the wall
clock at VIRTUAL_EPOCH) and is advanced only by
- executed work, counted deterministically: SYSCALL_NS for every system call the
  guest makes (the dispatcher adds it before the handler runs), and INSTRUCTION_NS
  per instruction of every instruction budget a thread uses up (kernel/sched.py runs
  threads with a budget while another thread is runnable or a deadline is pending,
  so the end of a slice is an instruction count, never a host timer). Guest code
  between two system calls in an unbudgeted run (one thread, nothing pending) adds
  nothing: Unicorn counts instructions only when asked to, at 10x the cost;
- sleeps: when no thread can run and a deadline is pending, the scheduler moves the
  clock to the deadline at once (a guest sleeping 10 s ends at once in host time).
All clock ids read it: the wall clocks (REALTIME, TAI, their COARSE forms) as
VIRTUAL_EPOCH + the clock, the monotonic ones (MONOTONIC, RAW, BOOTTIME, COARSE) as
the clock itself (the coarse ones rounded down to a tick); the CPU clocks as the
virtual time that passed while each thread was on the CPU, so times/getrusage,
itimers and CPU timers follow it too. pyunik gives the guest no vDSO, so every
clock read is a system call and goes through this.

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
WALL_CLOCKS = (L.CLOCK_REALTIME, L.CLOCK_REALTIME_COARSE, L.CLOCK_TAI)

# Deterministic mode's virtual time (see the module docstring).
VIRTUAL_EPOCH_NS = 1_704_067_200 * 1_000_000_000   # 2024-01-01 00:00:00 UTC at boot
SYSCALL_NS = 1_000        # what one system call costs the virtual clock
INSTRUCTION_NS = 1        # and one instruction of a used-up budget (a 1 GHz CPU)


class HostClock:
    """The host's clocks: what the guest reads normally."""

    deterministic = False
    monotonic_ns = staticmethod(time.monotonic_ns)    # deadlines' time base
    realtime_ns = staticmethod(time.time_ns)
    # a run's CPU time, for accounting: the time it held pyunik's CPU (see above)
    cpu_ns = staticmethod(time.monotonic_ns)

    @staticmethod
    def read(clockid: int) -> int:
        """A wall or monotonic clock (a key of HOST_CLOCK) now, in ns."""
        return time.clock_gettime_ns(HOST_CLOCK[clockid])


class VirtualClock:
    """Deterministic mode's one clock: `now`, ns since boot, moved only by
    `advance` (executed work) and `advance_to` (a sleep's deadline reached while
    nothing could run). Its CPU time is the same count: a thread's CPU clock is the
    virtual time that passed while it ran."""

    deterministic = True

    def __init__(self) -> None:
        self.now = 0

    def monotonic_ns(self) -> int:
        return self.now

    def realtime_ns(self) -> int:
        return VIRTUAL_EPOCH_NS + self.now

    cpu_ns = monotonic_ns

    def read(self, clockid: int) -> int:
        ns = VIRTUAL_EPOCH_NS + self.now if clockid in WALL_CLOCKS else self.now
        return ns - ns % L.TICK_NSEC if clockid in COARSE else ns

    def advance(self, ns: int) -> None:
        self.now += ns

    def advance_to(self, deadline: int) -> None:
        if deadline > self.now:
            self.now = deadline


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
    if clockid in HOST_CLOCK:
        return t.process.kernel.clock.read(clockid)
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
    """A time on a wall or monotonic clock as a deadline on the kernel's monotonic
    clock (the scheduler's time base)."""
    if absolute:
        ns -= clock_ns(t, clockid)
    return t.process.kernel.clock.monotonic_ns() + ns
