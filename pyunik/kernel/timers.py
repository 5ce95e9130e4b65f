"""A process's timers that end in signals: the interval timers of setitimer/alarm
(ITIMER_REAL on the monotonic clock, ITIMER_VIRTUAL and ITIMER_PROF on the process's
CPU time) and POSIX timers (timer_create), all fired from the scheduler's deadline
heap (pyunik/hrtimer.py), none with a host thread of its own.

ITIMER_REAL sends SIGALRM, ITIMER_VIRTUAL SIGVTALRM, ITIMER_PROF SIGPROF, each with
the kernel's siginfo (SI_KERNEL), to the process. A POSIX timer sends its sigevent's
signal with SI_TIMER, the timer id, the overrun and sigev_value, to the process
(SIGEV_SIGNAL) or to one thread (SIGEV_THREAD_ID), or nothing (SIGEV_NONE). While the
signal of an expiry is still pending, further expirations only add to the overrun in
its queued siginfo, as Linux keeps one queued signal per timer; timer_getoverrun
reports the overrun of the last signal. The guest's CPU time is all user time
(kernel/clocks.py), so ITIMER_VIRTUAL and ITIMER_PROF count the same time.

RLIMIT_CPU is checked as Linux's check_process_timers does, on the same CPU clock:
when the process's CPU time reaches the hard limit it gets SIGKILL; at the soft limit
SIGXCPU (SI_KERNEL), and the soft limit moves one second further, which the guest
sees in getrlimit, so SIGXCPU comes once a second until the hard limit. setrlimit
arms the check (update_rlimit_cpu), fork arms the child's, exec keeps it.

Layer: kernel. Called by kernel/syscalls/timers.py; calls kernel/signals.py,
kernel/clocks.py and the scheduler's add_timer.
"""

from __future__ import annotations


from ..abi import linux as L
from ..hrtimer import IntervalTimer
from . import clocks, signals

ITIMER_SIGNAL = {L.ITIMER_REAL: L.SIGALRM, L.ITIMER_VIRTUAL: L.SIGVTALRM,
                 L.ITIMER_PROF: L.SIGPROF}


class PosixTimer:
    """One timer_create timer: its id, the IntervalTimer, and what it sends:
    notify (SIGEV_*), signo, value (sigev_value), thread (for SIGEV_THREAD_ID);
    overrun_last counts the expirations the last signal stands for beyond the first
    (what si_overrun and timer_getoverrun report)."""

    def __init__(self, process, timer_id: int, now, notify: int, signo: int, value: int,
                 thread):
        self.process = process
        self.id = timer_id
        self.notify = notify
        self.signo = signo
        self.value = value
        self.thread = thread
        self.overrun_last = 0
        self.clockid = L.CLOCK_MONOTONIC   # what TIMER_ABSTIME times are on
        kernel = process.kernel
        self.timer = IntervalTimer(now, kernel.sched.add_timer, self._expired,
                                   kernel.clock.monotonic_ns)

    def _info(self) -> bytes:
        return L.SIGINFO_TIMER.pack(self.signo, 0, L.SI_TIMER, self.id, self.overrun_last,
                                    self.value, 0)

    def _queued(self):
        """Where this timer's signal still waits to be taken: (pending set, index in
        its queue), or None."""
        pending = self.thread.pending if self.thread is not None else \
            self.process.shared_pending
        for i, (sig, info) in enumerate(pending.queue):
            if sig == self.signo:
                _, _, code, tid, _, _, _ = L.SIGINFO_TIMER.unpack(info)
                if code == L.SI_TIMER and tid == self.id:
                    return pending, i
        return None

    def _expired(self, count: int) -> None:
        """An expiry: a signal, or, while the last one is still queued, more overrun
        in the queued siginfo (Linux fills si_overrun in when it is dequeued)."""
        if self.notify == L.SIGEV_NONE:
            return
        queued = self._queued()
        if queued is not None:
            pending, i = queued
            self.overrun_last = min(L.DELAYTIMER_MAX, self.overrun_last + count)
            pending.queue[i] = (self.signo, self._info())
            return
        if self.thread is not None and self.thread.state == "dead":
            return
        self.overrun_last = min(L.DELAYTIMER_MAX, count - 1)
        signals.send(self.process, self.signo, self._info(), self.thread)


class ProcessTimers:
    """What Linux keeps in signal_struct for timers: the three itimers and the
    POSIX timers by id."""

    def __init__(self, process):
        self.process = process
        sched = process.kernel.sched
        monotonic = process.kernel.clock.monotonic_ns
        self.itimers = {
            L.ITIMER_REAL: IntervalTimer(monotonic, sched.add_timer,
                                         self._itimer_fired(L.ITIMER_REAL), monotonic),
            L.ITIMER_VIRTUAL: IntervalTimer(self.cpu_ns, sched.add_timer,
                                            self._itimer_fired(L.ITIMER_VIRTUAL), monotonic),
            L.ITIMER_PROF: IntervalTimer(self.cpu_ns, sched.add_timer,
                                         self._itimer_fired(L.ITIMER_PROF), monotonic),
        }
        self.posix: dict[int, PosixTimer] = {}
        self.next_id = 0
        # RLIMIT_CPU's next check, at the soft limit on the process's CPU clock
        self.cpu_limit = IntervalTimer(self.cpu_ns, sched.add_timer, self._cpu_limit_reached,
                                       monotonic)

    def cpu_ns(self) -> int:
        return clocks.process_cpu_ns(self.process)

    def _itimer_fired(self, which: int):
        sig = ITIMER_SIGNAL[which]

        def fired(count: int) -> None:
            if self.process.threads:
                signals.send(self.process, sig, signals.kill_info(sig, L.SI_KERNEL, 0, 0))
        return fired

    def cpu_limit_changed(self) -> None:
        """RLIMIT_CPU was set (or inherited): check the CPU time when it may reach the
        soft limit; an infinite one is never checked. (A soft limit of 0 is reached at
        once: the timer's expiry 0 would mean disarmed, so 1 ns.)"""
        soft = self.process.rlimits[L.RLIMIT_CPU][0]
        if soft == L.RLIM_INFINITY:
            self.cpu_limit.set(0, 0)
        else:
            self.cpu_limit.set(max(1, soft * L.NSEC_PER_SEC), 0)

    def _cpu_limit_reached(self, count: int) -> bool:
        process = self.process
        limit = process.rlimits[L.RLIMIT_CPU]
        soft, hard = limit
        if not process.threads or soft == L.RLIM_INFINITY:
            return False
        seconds = self.cpu_ns() // L.NSEC_PER_SEC
        if hard != L.RLIM_INFINITY and seconds >= hard:
            signals.send(process, L.SIGKILL, signals.kill_info(L.SIGKILL, L.SI_KERNEL, 0, 0))
            return False
        if seconds >= soft:
            signals.send(process, L.SIGXCPU, signals.kill_info(L.SIGXCPU, L.SI_KERNEL, 0, 0))
            if soft < hard:
                limit[0] = soft = soft + 1
        self.cpu_limit.set(max(1, soft * L.NSEC_PER_SEC), 0)
        return False

    def new_timer(self, now, notify: int, signo: int, value, thread) -> PosixTimer:
        """A POSIX timer with the lowest free id from the last one given (Linux
        hands ids out in order); value None means the id itself (a NULL sigevent)."""
        timer_id = self.next_id
        while timer_id in self.posix:
            timer_id = (timer_id + 1) & 0x7FFFFFFF
        self.next_id = (timer_id + 1) & 0x7FFFFFFF
        timer = PosixTimer(self.process, timer_id, now, notify, signo,
                           timer_id if value is None else value, thread)
        self.posix[timer_id] = timer
        return timer

    def delete(self, timer_id: int) -> None:
        self.posix.pop(timer_id).timer.cancel()

    def cancel_all(self) -> None:
        """exec and exit: every timer goes (exit_itimers; ITIMER_REAL survives exec
        in Linux, which the caller decides)."""
        for t in self.posix.values():
            t.timer.cancel()
        self.posix.clear()


def of(process) -> ProcessTimers:
    """The process's timers, made on first use."""
    if process.timers is None:
        process.timers = ProcessTimers(process)
    return process.timers
