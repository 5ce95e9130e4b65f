"""The scheduler: which guest thread runs, what parked threads wait for, and the
run loop that drives the CPUs.

One scheduler runs every thread of every process. Threads of a process share its
engine (cpu/engine.py) and take turns on it; each process has an engine of its own
(two processes share one only while a vfork child runs on its parent's memory).
Each engine holds the registers of the last thread that ran on it (`loaded`);
every other thread's are in its saved `CpuContext` (cpu/context.py). Switching to
a thread restores its context only when its engine holds another thread's (saving
that one first), so a single thread that blocks and wakes never pays for it, and
neither does switching between processes on different engines.

A process ends alone (exit_group, a fatal signal, a fault with no handler: the
ProcessExit is caught here and kernel/exit.py makes it a zombie); the run ends when
the first process does (Kernel.process_exit).

A thread leaves the CPU when
- its system call must wait: the handler raised `WouldBlock` (pyunik/wait.py)
  before any side effect, and the dispatcher called `block()`, which parks the
  thread on the wait queues and deadline named and hands the engine over to the
  next runnable thread of the same engine inside the syscall hook (its call
  completed, its registers loaded: the run goes on as that thread, with no stop
  and restart of the engine), or stops the engine when the run loop has more to
  do first (`_hand_over` says when); a thread's exit(2) ends the same way;
- its time slice ends: while another thread waits for the CPU, the engine's host
  timer ends the run after SLICE_SECONDS (a thread made runnable by the running
  one's system call arms it then, also where the run was to end at a parked
  thread's deadline only); a stop lands on a translated-block boundary
  (cpu/stops.py), so the thread resumes exactly, and a lone thread is never
  stopped and pays nothing. Where Unicorn's layout is unknown and stops are not
  exact (`engine.block_stops` false), a slice is an instruction budget of SLICE
  instead, and a thread made runnable by the running one's system call stops that
  call's thread at the call's end so the next run is budgeted; Unicorn retranslates
  code when a run's budget is turned on or off (~140 us), so runs then stay
  budgeted while threads have switched within the last BUDGET_LINGER seconds;
- it yields (sched_yield with another thread runnable), exits, or faults.

Deterministic mode (kernel/clocks.py's VirtualClock) never lets host timing decide:
no host timer ends a slice; a thread made runnable by the running one's system call
stops that call's thread at the call's end (a switch at a system call), and runs are
budgeted (SLICE instructions) while another thread is runnable or a deadline is
pending, so slices end at instruction counts; each used-up budget moves the virtual
clock on by SLICE x INSTRUCTION_NS. When nothing can run, host fds are looked at
without waiting, and if none is ready the clock jumps to the next deadline: sleeps
end at once. Only with no deadline at all does it wait on host fds (stdin, a host
file's readiness): those are the run's inputs.

A parked thread is woken by a WaitQueue wake, its deadline, or readiness of the host
fds it named; it goes to the back of the run queue (wake order is arrival order) and,
before it runs, its call is run again (or the wait's `retry`) in kernel context: a
result completes the call (rax, rcx, r11 and rip as `syscall` leaves them), another
WouldBlock parks it again. When no thread is runnable, the scheduler waits in one
poll(2) on the host fds parked threads name, the next deadline and its
wake-up pipe (which host signals write to): an idle guest costs no host CPU. When
nothing at all could wake any thread, it says so in one line naming each thread and
what it waits for, and the run ends as if the first process were killed by
SIGKILL (kernel/deadlock.py).

Before a thread runs (at the start of each run of the loop), its deliverable
signals are delivered (kernel/delivery.py), so a signal made pending by a system
call is taken when the call returns (the sender stops the run at the call's end)
and one for a parked or preempted thread when it resumes. A fault the guest
handles becomes a signal there too; one it does not ends the run as before.

Layer: kernel. Called by the kernel's dispatcher and run(); calls cpu/ through the
engine, kernel/threads.py's thread exit, and pyunik/wait.py's objects.
"""

from __future__ import annotations

import fcntl
from errno import EINTR
import heapq
import os
import select
import time
from collections import deque

from ..abi.poll import (POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDHUP, POLLRDNORM,
                        POLLWRNORM)
from ..abi.syscall_numbers import NAMES as _SYSCALL_NAMES
from ..errors import KernelError
from . import delivery, signals
from .clocks import INSTRUCTION_NS
from ..abi.x86 import SYSCALL_LENGTH
from ..wait import WouldBlock
from . import deadlock, jobs
from .jobs import STOPPED
from .process import ProcessExit

RUNNING, RUNNABLE, BLOCKED, DEAD = "running", "runnable", "blocked", "dead"
IDLE_WAIT_MAX_S = 86400.0      # the longest single host wait (poll's limit is ~24 days)
SLICE = 200_000     # instructions a thread runs while another waits for the CPU
SLICE_SECONDS = 0.01  # the same slice, as host time, where a timer can end it
MIN_TIMER_SECONDS = 0.001   # the shortest run a deadline's host timer asks for
BUDGET_LINGER = 0.05   # seconds runs stay budgeted after the last switch
_NR_RT_SIGRETURN = next(nr for nr, name in _SYSCALL_NAMES.items() if name == "rt_sigreturn")


class Blocked:
    """A thread's parked system call: how to run it again (`invoke(t, regs)`, the
    call's invoker), its registers at entry (rax, rdi, rsi, rdx, r10, r8, r9, rip
    of the syscall, rflags), what it waits for, and `done`, which sees the result
    first (strace's line)."""

    __slots__ = ("invoke", "regs", "wait", "done", "timed_out", "interrupted")

    def __init__(self, invoke, regs, wait: WouldBlock, done):
        self.invoke = invoke
        self.regs = regs
        self.wait = wait
        self.done = done
        self.timed_out = False
        self.interrupted = False   # a signal ended the wait (kernel/signals.py)


class KernelTimer:
    """A deadline of the kernel's own (an interval timer, a POSIX timer, a timerfd
    with a waiter): `fire(now)` runs from the run loop once the kernel's monotonic
    clock has passed `deadline`; `cancel()` makes a timer not yet fired never fire."""

    __slots__ = ("deadline", "fire", "live")

    def __init__(self, deadline: int, fire):
        self.deadline = deadline
        self.fire = fire
        self.live = True

    def cancel(self) -> None:
        self.live = False


def _above_stdio(fd: int) -> int:
    if fd > 2:
        return fd
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return moved


def leaving_reason(t) -> str:
    """Why t's run ended, in words, for an observer's scheduler switch: it waits
    (on what), it yielded, or its slice ended."""
    if t.state == BLOCKED:
        return "blocked: " + t.blocked.wait.what
    return "yielded" if t.state == RUNNABLE else "preempted"


class Scheduler:
    """One kernel's run queue, timers and idle wait. Fields:
    runq      threads ready to run, not running, in the order they became ready;
    timers    heap of (deadline ns, sequence, thread, Blocked) for parked calls, and
              (deadline ns, sequence, None, KernelTimer) for the kernel's timers;
              entries whose wait ended otherwise stay until they come up;
    on_cpu    the thread whose registers the engine holds (None after it exited);
    switches  context switches made, for statistics."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.clock = kernel.clock
        # Slices end by a host timer, unless deterministic mode wants budgets.
        self.virtual = kernel.clock.deterministic
        self.runq: deque = deque()
        self.timers: list = []
        self._seq = 0
        self.on_cpu = None
        self.loaded: dict = {}    # engine -> the thread whose registers it holds
        self.switches = 0
        self._resched = False     # the running thread needs no stop for a woken one
        # ... because that stop is a slice's (SLICE_SECONDS at most from now), not
        # a deadline's (a parked thread's may lie hours ahead); implies _resched
        self._slice_armed = False
        self._last_switch = 0.0   # time.monotonic() of the last switch
        self.run_start = 0        # clock.cpu_ns() when the current run began
        self._kernel_stop = False  # the run was stopped at a call's end for the kernel
        # The running thread's signals to deliver as its system call returns
        # (signal_on_return), for calls whose invoker then checks (Kernel's
        # _delivering_on_return sets in_checked_call around the call).
        self.returning: list = []
        self.in_checked_call = False
        self.leaving = ""         # why the last thread left the CPU (for an observer)
        self.retired: list = []    # address spaces execve replaced, freed after the run
        from .threads import exit_thread     # (threads.py imports this module)
        self._end_thread = exit_thread
        # The wake-up pipe: above the stdio numbers, so a host fd 0-2 that pyunik
        # was started without stays closed for the guest too.
        self._wake_r, self._wake_w = (_above_stdio(fd) for fd in os.pipe())
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    def close(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def notify(self) -> None:
        """Wake the idle wait (from any host thread: a host signal arrived)."""
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"\0")
            except OSError:
                pass

    # ---- threads coming and going ----------------------------------------------------

    def add(self, t) -> None:
        """A new thread, ready to run after those already waiting."""
        t.state = RUNNABLE
        self.runq.append(t)
        self._start_slice()

    def forget(self, t) -> None:
        """t ends where it is (its process is exiting): off every wait queue, its
        parked call dropped, never run again (the run queue skips the dead)."""
        if t.state == BLOCKED and t.blocked is not None:
            for q in t.blocked.wait.queues:
                q.remove(t)
        t.blocked = None
        t.state = DEAD

    def resume(self, t) -> None:
        """t's process was continued (kernel/jobs.py): t is runnable again (a parked
        call it had is run again first)."""
        t.state = RUNNABLE
        self.runq.append(t)
        self._start_slice()

    def drop_engine(self, engine) -> None:
        """engine's process has gone: forget whose registers it held."""
        self.loaded.pop(engine, None)

    def _start_slice(self) -> None:
        """Another thread waits for the CPU: the running one (in a system call,
        running unbudgeted) stops at the call's end, to run again budgeted."""
        running = self.on_cpu
        if running is not None and running.state == RUNNING and not self._slice_armed:
            self._resched = self._slice_armed = True
            engine = running.process.mm.engine
            if engine.block_stops and not self.virtual:
                engine.preempt_in(SLICE_SECONDS)    # its run goes on until then
            else:
                engine.stop()

    def signal_on_return(self, t) -> None:
        """t, the running thread, takes its deliverable signals as its current system
        call returns: inside the syscall hook when the call is one whose invoker
        checks (`in_checked_call`: it then ends with syscall_return), else the run
        ends at the call's end and the run loop delivers (stop_at_syscall_end), as
        it does outside a system call (a host signal sent before a run)."""
        if self.on_cpu is t and t.state == RUNNING:
            if not self.in_checked_call:
                self.stop_at_syscall_end(t)
            elif not self.returning:
                self.returning.append(t)

    def delivers_in_hook(self, t) -> bool:
        """Would syscall_return deliver t's signals inside the syscall hook now? (t
        runs, nothing is queued for its return yet, the run is not ending for the
        kernel, no debugger is attached.) Signal delivery's shortest path asks."""
        return self.on_cpu is t and not self.returning and not self._kernel_stop \
            and self.kernel.debugger is None and t.state == RUNNING

    def syscall_return(self, result, regs):
        """A checked call's last step while `returning` is set: deliver the running
        thread's signals inside the syscall hook (kernel/delivery.py), so the handler
        runs on without the run ending; what the call returns to the dispatcher.
        Where the run ends anyway (the thread left the CPU, or the kernel stops it)
        the run loop delivers; with a debugger attached, or a call other than
        rt_sigreturn that set the registers itself, the run ends here for that."""
        self.returning.clear()
        t = self.on_cpu
        if t is None or t.state != RUNNING or self._kernel_stop:
            return result
        if self.kernel.debugger is not None or \
                result is None and regs[0] & 0xFFFFFFFF != _NR_RT_SIGRETURN:
            self.stop_at_syscall_end(t)
            return result
        return delivery.deliver(t, True, result, regs)

    def stop_at_syscall_end(self, t) -> None:
        """End t's run when its current system call returns, so that the run loop
        delivers a signal (or takes a context rt_sigreturn installed) first."""
        if self.on_cpu is t and t.state == RUNNING:
            self._kernel_stop = True
            t.process.engine.stop()

    def retire(self, mm) -> None:
        """An address space nobody will run again (execve replaced it, from inside a
        run on its engine): its memory and engine are given back once that run has
        ended."""
        self.retired.append(mm)

    def _release_retired(self) -> None:
        while self.retired:
            mm = self.retired.pop()
            self.drop_engine(mm.engine)
            mm.free_all(close_engine=True)

    def host_stop(self, engine) -> None:
        """From another host thread: end the current run for a host signal (the run
        is resumed only where the engine's stops are exact; see Kernel.interrupt)."""
        self._kernel_stop = True
        engine.stop()
        if engine.block_stops and not self.virtual:
            # A stop asked for while a thread hands the engine over in a syscall
            # hook may be dropped by Unicorn (_hand_over): the timer asks again
            # until the run has ended.
            engine.preempt_in(0)

    def yield_cpu(self, t) -> bool:
        """sched_yield: give the CPU to the next runnable thread, if there is one."""
        if not self.runq:
            return False
        t.state = RUNNABLE
        t.process.engine.stop()
        return True

    # ---- blocking and waking ---------------------------------------------------------

    def block(self, t, regs, wait: WouldBlock, invoke, done=None) -> None:
        """The dispatcher's answer to WouldBlock: park t and give the engine to the
        next thread (`_hand_over`), or stop it (the run loop then picks the next
        thread). Registers are left as they are: the result is written when the
        call completes. A wait that a signal already pending ends before it begins
        (`wait.signal_pending`) is not parked: it ends as an interrupted one does
        (EINTR or a restart, settled at delivery when the call returns)."""
        if wait.signal_pending:
            t.blocked = b = Blocked(invoke, regs, wait, done)
            b.interrupted = True
            result = self._finish_call(t)[0]
            self.stop_at_syscall_end(t)
            return result
        self._park(t, Blocked(invoke, regs, wait, done))
        engine = t.process.mm.engine
        if not self._hand_over(t, engine):
            engine.stop()

    def park(self, t, b: Blocked) -> None:
        """block() for a parked call whose caller made b and put t on b's wait
        queues itself, with no deadline (futex(2)'s untimed wait: kernel/futex.py)."""
        t.blocked = b
        t.state = BLOCKED
        engine = t.process.mm.engine
        if not self._hand_over(t, engine):
            engine.stop()

    def exit_thread(self, t, status: int) -> None:
        """exit(2) of t, one of its process's threads that are not the last, from
        inside its system call: t ends here (kernel/threads.py) and the engine
        goes to the next thread (or the run ends)."""
        now = self.clock.cpu_ns()           # (_account's, and the next run's start)
        t.cpu_ns += now - self.run_start
        self.run_start = now
        process = t.process
        process.exited_cpu_ns += t.cpu_ns
        self._end_thread(t, status)
        self.leaving = "exited"
        engine = process.mm.engine
        if not self._hand_over(t, engine):
            self.on_cpu = None
            engine.stop()
        engine.contexts.retire(t.ctx)       # (its copy, for the next new thread's)

    def _hand_over(self, t, engine) -> bool:
        """Switch from t, the running thread, which has just left the CPU inside its
        system call (parked or exited), to the next runnable thread of the same
        engine without ending the run: t's registers saved, the next thread's call
        completed and its registers loaded in the syscall hook (cpu/switch.py),
        so the guest goes on as that thread when the hook returns. This is what a
        futex wait that wakes a partner costs: no stop and restart of the engine.

        Only where the run loop would do nothing else first: slices end by the
        host timer (not budgets or deterministic mode, whose stops are counted),
        no debugger, no host signal, no stop already asked for, no deadline
        passed, and the next thread has no signal to take, no sigsuspend mask or
        restart to settle and its process is not stopped. False leaves
        everything as it was (the next thread's call may have completed: it then
        waits at the head of the run queue)."""
        kernel = self.kernel
        runq = self.runq
        if not runq or self.virtual or not engine.block_stops or engine.stop_requested \
                or kernel.host_signals or kernel.debugger is not None:
            return False
        timers = self.timers
        if timers and timers[0][0] <= self.clock.monotonic_ns():
            return False                # the run loop has a deadline to expire first
        while True:
            nxt = runq.popleft()
            process = nxt.process
            if nxt.state != RUNNABLE or process.mm.engine is not engine or \
                    process.stopped or process.continue_notify:
                runq.appendleft(nxt)
                kernel.current = t      # (a call that parked again may have moved it)
                return False
            b = nxt.blocked
            if b is None:
                returning = None
                break
            if b is nxt.futex_parked and nxt.futex_woken:
                # An untimed FUTEX_WAIT that was woken returns 0 (the answer of its
                # retry, FutexWait.retry, without the call)
                nxt.blocked = None
                regs = b.regs
                returning = (0, regs[7] + SYSCALL_LENGTH, regs[8])
                break
            returning = self._finish_call(nxt)
            if returning is not None:
                break
            if not runq:                # its call parked it again
                kernel.current = t
                return False
        if nxt.restart is not None or nxt.saved_sigmask is not None or \
                (nxt.pending.signals or process.shared_pending.signals) and \
                signals.deliverable(nxt):
            if returning is not None:
                self._complete(nxt, returning)
            runq.appendleft(nxt)        # a signal first: the run loop delivers it
            kernel.current = t
            return False
        if t.state != DEAD:
            now = self.clock.cpu_ns()
            t.cpu_ns += now - self.run_start
            self.run_start = now
            t.ctx = engine.contexts.switch_in_syscall(t.ctx, nxt.ctx, returning)
            if kernel.observer is not None:
                self.leaving = leaving_reason(t)
        else:                   # (exit_thread has accounted for t and started the run)
            engine.contexts.switch_in_syscall(None, nxt.ctx, returning, False)
        self.loaded[engine] = nxt
        # _now_running's bookkeeping, but for _last_switch (read only where slices
        # are budgets, and this hand-over is never made there)
        process.mm.owner = process
        if kernel.observer is not None:
            kernel.observer.switch(self.on_cpu, nxt, self.leaving)
        self.on_cpu = nxt
        self.switches += 1
        nxt.state = RUNNING
        kernel.current = nxt
        # nxt's slice, as a run of it would start
        if runq:
            self._resched = self._slice_armed = True
            engine.restart_slice(SLICE_SECONDS)
        elif timers and self._deadline_pending():
            self._resched, self._slice_armed = True, False
            engine.restart_slice(max(MIN_TIMER_SECONDS, (timers[0][0] -
                                                         time.monotonic_ns()) / 1e9))
        else:
            self._resched = self._slice_armed = False
            engine.restart_slice(None)
        if engine.stop_requested or kernel.host_signals:
            # A host signal's stop came while the registers went in: Unicorn may
            # drop a stop asked for before the hook returns, so the timer asks
            # again until the run has ended.
            engine.preempt_in(0)
        return True

    def _park(self, t, b: Blocked) -> None:
        t.blocked = b
        t.state = BLOCKED
        for q in b.wait.queues:
            q.add(t)
        if b.wait.deadline is not None:
            self._seq += 1
            heapq.heappush(self.timers, (b.wait.deadline, self._seq, t, b))

    def wake(self, t) -> None:
        """t's wait ended (WaitQueue.wake calls this through Thread.wake)."""
        if t.state != BLOCKED:
            return
        for q in t.blocked.wait.queues:
            waiters = q.waiters           # (the waker may have taken t off already)
            if t in waiters:
                waiters.remove(t)
        t.state = RUNNABLE
        self.runq.append(t)
        if not self._slice_armed:
            self._start_slice()

    def add_timer(self, deadline: int, fire) -> KernelTimer:
        """Call fire(now) from the run loop at deadline (monotonic ns). A thread
        running unbudgeted (it armed the timer in a system call) stops at the call's
        end, to run on budgeted until the deadline has passed."""
        timer = KernelTimer(deadline, fire)
        self._seq += 1
        heapq.heappush(self.timers, (deadline, self._seq, None, timer))
        self._start_slice()
        return timer

    def _expire_timers(self) -> None:
        now = self.clock.monotonic_ns()
        timers = self.timers
        while timers and timers[0][0] <= now:
            _, _, t, b = heapq.heappop(timers)
            if t is None:
                if b.live:
                    b.live = False
                    b.fire(now)
            elif t.blocked is b and t.state == BLOCKED:
                b.timed_out = True
                self.wake(t)

    def _deadline_pending(self) -> bool:
        """Whether a deadline that still matters is in the heap (stale ones at its
        head are dropped): the running thread then runs budgeted, so that the run
        loop sees the deadline pass while it computes."""
        timers = self.timers
        while timers:
            _, _, t, b = timers[0]
            if b.live if t is None else (t.blocked is b and t.state == BLOCKED):
                return True
            heapq.heappop(timers)
        return False

    def _account(self, t) -> None:
        """Add the CPU time of the run that just ended to t's (its guest CPU time:
        guest code and the system calls it made; virtual time in deterministic
        mode)."""
        t.cpu_ns += self.clock.cpu_ns() - self.run_start

    def cpu_ns(self, t) -> int:
        """t's CPU time so far, the current run's included if t is on the CPU."""
        if self.on_cpu is t and t.state == RUNNING:
            return t.cpu_ns + self.clock.cpu_ns() - self.run_start
        return t.cpu_ns

    def _finish_call(self, t) -> tuple | None:
        """Run t's parked call again: when it completed, the (rax, rip, rflags) its
        `syscall` instruction returns with (`_complete` puts them in t's
        registers); None when it parked again."""
        b = t.blocked
        t.blocked = None
        self.kernel.current = t
        try:
            if b.wait.retry is not None:
                result = b.wait.retry(b.timed_out)
            else:
                result = b.invoke(t, b.regs)
        except KernelError as e:
            result = -e.errno
        except WouldBlock as again:
            if not b.interrupted:
                self._park(t, Blocked(b.invoke, b.regs, again, b.done))
                return None
            # A signal ended the wait: EINTR or a restart, settled at delivery
            # (kernel/delivery.py); the nanosleeps write what was left; a transfer
            # that had moved some bytes returns that count instead.
            t.restart_block = None          # (on_interrupt may leave one)
            partial = again.on_interrupt() if again.on_interrupt is not None else None
            if partial is not None:
                result = partial
            else:
                t.restart = b.regs
                result = -EINTR
                if b.done is not None:           # strace shows the kernel's answer
                    b.done(-delivery.restart_error(b.regs))
                    b = Blocked(b.invoke, b.regs, b.wait, None)
        if b.done is not None:
            result = b.done(result)
        regs = b.regs
        return result, regs[7] + SYSCALL_LENGTH, regs[8]

    def _complete(self, t, returning: tuple) -> None:
        """What `syscall` leaves on return, (rax, rip, rflags) as _finish_call gives
        them: rax the result, rcx the next instruction, r11 the flags; the thread
        goes on after the syscall instruction."""
        rax, rip, rflags = returning
        values = {"rax": rax & 0xFFFFFFFFFFFFFFFF, "rcx": rip, "r11": rflags, "rip": rip}
        engine = t.process.engine
        if self.loaded.get(engine) is t:
            for name, value in values.items():
                engine.set_reg(name, value)
        else:
            t.ctx.update(values)

    # ---- the run loop ----------------------------------------------------------------

    def run(self, first, pc: int) -> None:
        """Run the kernel's threads, of every process, from `first` at pc until the
        first process has exited (Kernel.process_exit says so). A process whose
        thread exits (exit_group, a fatal signal, a fault with no handler) ends
        alone; the run goes on with the next thread of any process."""
        kernel = self.kernel
        t = first
        engine = t.process.engine
        engine.set_reg("rip", pc)
        self.loaded[engine] = t
        t.state = RUNNING
        self.on_cpu = t
        kernel.current = t
        while True:
            try:
                if t is None:
                    t = self._switch(self._next())
                self._run_once(t, t.process.engine)
                t = self.on_cpu     # (another thread, if t handed the engine over)
                if t is not None and t.state != RUNNING:
                    t = None                    # it left the CPU: the next one runs
            except ProcessExit as e:
                process = e.process or kernel.current.process
                if kernel.process_exit(process, e):
                    return
                t = None

    def _run_once(self, t, engine) -> None:
        """One run of t on engine: signals delivered first, then guest code until a
        stop. Returns with the thread on the CPU (`on_cpu`: t, or another that t
        handed the engine over to inside a system call) still running (its run goes
        on), or having left the CPU (parked, preempted, yielded, exited: the caller
        picks the next thread)."""
        kernel = self.kernel
        if self.loaded.get(engine) is not t:
            self.loaded[engine] = t        # execve gave t a new engine, registers set
        if kernel.host_signals:
            kernel.take_host_signal(t)
        self._kernel_stop = False
        self.returning.clear()              # delivered just below
        if t.restart is not None or t.saved_sigmask is not None or \
                signals.deliverable(t):
            delivery.deliver(t)
            if t.state != RUNNING:
                return                      # a stop signal stopped its process
        if engine.block_stops and not self.virtual:
            # A host timer ends the slice, at no cost to guest code; and, with
            # no other thread waiting, the run at the next deadline.
            budgeted = False
            self._resched = self._slice_armed = bool(self.runq)
            if self._resched:
                engine.preempt_in(SLICE_SECONDS)
            elif self._deadline_pending():
                # (at least MIN_TIMER_SECONDS: a deadline already past stops the
                # run as soon as it starts, which the timer repeats until it ends)
                self._resched = True
                engine.preempt_in(max(MIN_TIMER_SECONDS, (self.timers[0][0] -
                                                          time.monotonic_ns()) / 1e9))
        else:
            budgeted = bool(self.runq) or self._deadline_pending() or \
                not self.virtual and time.monotonic() - self._last_switch < BUDGET_LINGER
            self._resched = self._slice_armed = budgeted  # a budgeted run ends by itself
        budget = SLICE if budgeted else 0
        if kernel.debugger is not None:     # gdb may hold the thread, or step it
            budget = kernel.debugger.before_run(t, budget)
        self.run_start = self.clock.cpu_ns()
        try:
            fault = engine.run(engine.reg("rip"), budget)
            if self.virtual and engine.preempted:
                self.clock.advance(budget * INSTRUCTION_NS)   # the budget's work
        except ProcessExit:
            self._release_retired()
            if self.on_cpu is not None:
                self._account(self.on_cpu)
            self.leaving = "exited"
            raise
        if self.retired:
            self._release_retired()
        t = self.on_cpu
        if t is None:
            return                      # it exited, and no thread took the engine over
        self._account(t)
        if fault is not None:
            if kernel.observer is not None:
                kernel.observer.fault(t, fault)
            if kernel.debugger is not None and kernel.debugger.fault(t, fault):
                return
            if delivery.fault(t, fault):
                return
            kernel.fatal_fault(t, fault)        # raises ProcessExit
        stopped_for_slice = self._resched and not budgeted and \
            (self.virtual or not engine.block_stops)
        if t.state == RUNNING and not engine.preempted and not stopped_for_slice:
            if kernel.host_signals or self._kernel_stop:
                return
            kernel.fatal_fault(t, None)         # stopped by itself: a hlt or the like
        if t.state == RUNNING and t.process.engine is not engine:
            return                              # execve: on to its new engine
        if kernel.observer is not None:
            self.leaving = leaving_reason(t)
        if t.state != BLOCKED:      # a slice ended, or it yielded
            t.state = RUNNABLE
            self.runq.append(t)

    def _switch(self, t):
        """Make t the running thread: its registers into its engine, unless the
        engine holds them already (each engine holds one thread's registers: the
        last that ran on it)."""
        if self.on_cpu is not t:
            engine = t.process.engine
            held = self.loaded.get(engine)
            if held is not t:
                if held is not None and held.state != DEAD and held.process.engine is engine:
                    held.ctx = engine.save_context(held.ctx)
                engine.restore_context(t.ctx)
                self.loaded[engine] = t
            self._now_running(t)
        t.state = RUNNING
        self.kernel.current = t
        return t

    def _now_running(self, t) -> None:
        """The switch's bookkeeping: t, whose registers engine now holds, is the
        running thread."""
        t.process.mm.owner = t.process    # whose new mappings (kernel/apps.py)
        if self.kernel.observer is not None:
            self.kernel.observer.switch(self.on_cpu, t, self.leaving)
        self.on_cpu = t
        self.switches += 1
        self._last_switch = time.monotonic()
        t.state = RUNNING
        self.kernel.current = t

    def _next(self):
        """The next thread to run: the first runnable one whose parked call (if any)
        completes. Waits on the host when there is none."""
        kernel = self.kernel
        while True:
            self._expire_timers()
            while self.runq:
                t = self.runq.popleft()
                if t.state == DEAD or t.state == STOPPED:
                    continue
                if t.process.stopped:
                    t.state = STOPPED           # held back until SIGCONT (jobs.py)
                    continue
                if t.process.continue_notify:
                    jobs.notify_continued(t.process)
                if t.blocked is not None:
                    returning = self._finish_call(t)
                    if returning is None:
                        continue                # it parked again
                    self._complete(t, returning)
                return t
            if kernel.host_signals:
                kernel.take_host_signal(kernel.current)
                continue
            self._idle()

    def _stopped(self) -> list:
        return [t for p in self.kernel.processes.values() for t in p.threads
                if t.state == STOPPED]

    def parked(self) -> list:
        return [t for p in self.kernel.processes.values() for t in p.threads
                if t.state == BLOCKED]

    def _idle(self) -> None:
        """Nothing can run: wait in one poll(2) for a host fd a parked thread named,
        the next deadline, or a host signal (the wake-up pipe)."""
        parked = self.parked()
        timeout = None
        if self.virtual and self._deadline_pending():
            timeout = 0.0     # a look at host fds; then the clock jumps (below)
        elif self.timers:
            # a guest's deadline may lie centuries ahead (an absolute futex timeout):
            # the host waits a day at most, and the run loop looks again
            timeout = min(max(0.0, (self.timers[0][0] - self.clock.monotonic_ns()) / 1e9),
                          IDLE_WAIT_MAX_S)
        # fd -> (the union of the events asked, [(thread, its events)]): registered
        # with exactly those poll bits, POLLPRI included, so a host fd that is ready
        # for something no waiter asked (a readable stdin under select's exceptfds)
        # wakes nobody, and cannot make this wait return at once again and again
        host = {}
        for t in parked:
            for fd, events in t.blocked.wait.host:
                mask = ((POLLIN if events & (POLLIN | POLLRDNORM) else 0)
                        | (POLLOUT if events & (POLLOUT | POLLWRNORM) else 0)
                        | events & (POLLPRI | POLLRDHUP))
                entry = host.setdefault(fd, [0, []])
                entry[0] |= mask
                entry[1].append((t, mask))
        if timeout is None and not host:
            deadlock.report(self.kernel, parked or self._stopped())
        poller = select.poll()
        poller.register(self._wake_r, POLLIN)
        for fd, (mask, _) in host.items():
            try:
                os.fstat(fd)              # a closed fd would be POLLNVAL at once
            except OSError:
                continue
            poller.register(fd, mask)
        ready = poller.poll(None if timeout is None else timeout * 1000)
        for fd, revents in ready:
            if fd == self._wake_r:
                try:
                    while os.read(self._wake_r, 64):
                        pass
                except OSError:
                    pass
                continue
            for t, mask in host.get(fd, (0, ()))[1]:
                if revents & (mask | POLLERR | POLLHUP):
                    self.wake(t)
        if self.virtual and not self.runq and self._deadline_pending():
            self.clock.advance_to(self.timers[0][0])   # the sleep ends at once
