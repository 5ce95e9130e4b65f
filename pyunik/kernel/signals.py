"""Signals: pending sets, sending, and the choice of the thread that takes a signal.

Linux's kernel/signal.c, its sending half. A signal is pending on one thread
(tkill, tgkill, rt_tgsigqueueinfo, a fault: `Thread.pending`) or on the whole
process (kill, rt_sigqueueinfo, the host's Ctrl-C: `Process.shared_pending`). A
standard signal already pending there is not queued again (legacy_queue: they
coalesce); a real-time one is queued every time with its own siginfo. Sending drops
a signal the receiver ignores (sig_ignored: SIG_IGN, or SIG_DFL whose default is to
ignore, and never while it is blocked, since the disposition may change before it
is unblocked), then picks the thread to take it as complete_signal does: the named
thread, or for a process-directed signal the first thread in turn that does not
block it. That thread is woken (signal_wake_up): parked in a system call, its wait
ends and the dispatcher decides between EINTR and a restart; running (the sender
itself, in a system call), it takes the signal as the call returns, inside the
syscall hook (kernel/delivery.py's deliver_on_return).

Stop signals with SIG_DFL stop the process when taken and SIGCONT continues it
(kernel/jobs.py); sending SIGCONT (or SIGKILL) discards pending stop signals and a
stop signal a pending SIGCONT, as prepare_signal does.

Host signals (Ctrl-C, SIGTERM, SIGHUP to pyunik: Kernel.interrupt) are sent as
the terminal sends them (SI_KERNEL) at a safe point: at once when every thread is
parked (the idle wait is woken and the parked call interrupted); a running guest
is stopped between two instructions (cpu/stops.py) and resumed after delivery, so
even a compute-bound guest takes it at once. Where Unicorn's stops are not exact
(`engine.block_stops` false) only a signal that ends the process stops a running
guest; a caught one then waits for the guest's next system call or the end of a
budgeted run.

Delivery (what happens on the thread) is kernel/delivery.py's. Layer: kernel.
Called by kernel/syscalls/signal.py, kernel/delivery.py and the kernel's host
signal path; calls the scheduler (kernel/sched.py) to wake or stop threads.
"""

from __future__ import annotations

from ..abi import linux as L
from ..abi.poll import POLLIN

DEFAULT_IGNORE = {L.SIGCHLD, L.SIGURG, L.SIGWINCH, L.SIGCONT}
DEFAULT_CORE = {L.SIGQUIT, L.SIGILL, L.SIGTRAP, L.SIGABRT, L.SIGBUS, L.SIGFPE, L.SIGSEGV,
                L.SIGXCPU, L.SIGXFSZ, L.SIGSYS}
STOP_SIGNALS = {L.SIGSTOP, L.SIGTSTP, L.SIGTTIN, L.SIGTTOU}
UNBLOCKABLE = (1 << (L.SIGKILL - 1)) | (1 << (L.SIGSTOP - 1))
# Faults are taken before other pending signals (next_signal's SYNCHRONOUS_MASK).
SYNCHRONOUS = sum(1 << (s - 1) for s in (L.SIGSEGV, L.SIGBUS, L.SIGILL, L.SIGTRAP, L.SIGFPE,
                                         L.SIGSYS))
ALL_SIGNALS = (1 << L.NSIG) - 1
# (bound here: a signal sent to the running thread passes them every time)
_SIGCONT, _SIGKILL, _SIG_IGN, _SIG_DFL = L.SIGCONT, L.SIGKILL, L.SIG_IGN, L.SIG_DFL


def bit(sig: int) -> int:
    return 1 << (sig - 1)


class SigPending:
    """A pending set (Linux's struct sigpending): `signals` has a bit per pending
    signal, `queue` the (signo, siginfo bytes) entries in arrival order, one per
    standard signal and one per sending of a real-time signal."""

    __slots__ = ("signals", "queue")

    def __init__(self):
        self.signals = 0
        self.queue: list[tuple[int, bytes]] = []

    def add(self, sig: int, info: bytes) -> None:
        signal_bit = 1 << (sig - 1)
        if sig < L.SIGRTMIN and self.signals & signal_bit:
            return                                   # coalesced (legacy_queue)
        self.signals |= signal_bit
        self.queue.append((sig, info))

    def take(self, sig: int) -> bytes:
        """Remove the first entry of sig; its siginfo."""
        queue = self.queue
        for i, entry in enumerate(queue):
            if entry[0] == sig:
                del queue[i]
                info = entry[1]
                break
        else:
            info = L.SIGINFO_KILL.pack(sig, 0, L.SI_USER, 0, 0)
        # (a standard signal is queued once: legacy_queue)
        if sig < L.SIGRTMIN or not any(s == sig for s, _ in queue):
            self.signals &= ~(1 << (sig - 1))
        return info

    def discard(self, mask: int) -> None:
        """Forget every pending signal in mask (flush_sigqueue_mask)."""
        if self.signals & mask:
            self.signals &= ~mask
            self.queue = [(s, i) for s, i in self.queue if not mask & bit(s)]


def next_signal(pending: int, blocked: int) -> int:
    """The signal to take first from pending, or 0: a fault first, then the
    lowest number (next_signal)."""
    x = pending & ~blocked
    if not x:
        return 0
    if x & SYNCHRONOUS:
        x &= SYNCHRONOUS
    return (x & -x).bit_length()


def deliverable(t) -> int:
    """The pending signals t could take now (not blocked), thread and process sets."""
    return (t.pending.signals | t.process.shared_pending.signals) & \
        ~(t.sigmask & ~UNBLOCKABLE)


def dequeue(t, blocked: int) -> tuple[int, bytes] | None:
    """Take the next signal not in blocked: the thread's own first, then the
    process's (dequeue_signal)."""
    for pending in (t.pending, t.process.shared_pending):
        sig = next_signal(pending.signals, blocked)
        if sig:
            return sig, pending.take(sig)
    return None


def is_ignored(action, sig: int) -> bool:
    """The disposition throws the signal away (sig_handler_ignored)."""
    return action.handler == L.SIG_IGN or \
        (action.handler == L.SIG_DFL and sig in DEFAULT_IGNORE)


def kill_info(sig: int, code: int, pid: int, uid: int) -> bytes:
    """The siginfo of kill/tkill (SI_USER/SI_TKILL), or the kernel's own (SI_KERNEL)."""
    return L.SIGINFO_KILL.pack(sig, 0, code, pid, uid)


def send(process, sig: int, info: bytes, thread=None) -> None:
    """Make sig pending on thread (thread-directed) or on process, and wake the
    thread that will take it (send_signal_locked, complete_signal)."""
    if not process.threads:
        return
    if sig == _SIGCONT or sig == _SIGKILL:
        stops = sum(bit(s) for s in STOP_SIGNALS)
        process.shared_pending.discard(stops)
        for th in process.threads:
            th.pending.discard(stops)
        if process.stopped:
            from . import jobs
            jobs.cont(process, report=sig == L.SIGCONT)
    elif sig in STOP_SIGNALS:
        process.shared_pending.discard(bit(L.SIGCONT))
        for th in process.threads:
            th.pending.discard(bit(L.SIGCONT))
    target = thread if thread is not None else process.threads[0]
    handler = process.sighand.actions[sig].handler
    if (handler == _SIG_IGN or handler == _SIG_DFL and sig in DEFAULT_IGNORE) \
            and sig != _SIGKILL and not target.sigmask & 1 << (sig - 1) \
            and process.kernel.config.strace is None:
        return            # sig_ignored (is_ignored); a traced task keeps it for strace
    if thread is not None:
        thread.pending.add(sig, info)
    else:
        process.shared_pending.add(sig, info)
    readers = process.signalfd_waiters
    if readers.waiters or readers.pollers:     # (an epoll watching a signalfd too)
        readers.wake_all(POLLIN)
    chosen = _complete(process, sig, thread)
    if chosen is not None:
        wake_for_signal(chosen)


def send_sigpipe(t) -> None:
    """A write to a pipe or socket nobody reads: SIGPIPE to the writing thread, as
    send_sig(SIGPIPE, current, 0) makes it (SI_USER from the writer itself)."""
    send_self(t, L.SIGPIPE)


def send_self(t, sig: int) -> None:
    """send_sig(sig, current, 0): sig to thread t, SI_USER from its own process (SIGPIPE,
    SIGXFSZ)."""
    p = t.process
    send(p, sig, kill_info(sig, L.SI_USER, p.pid, p.cred.uid), t)


def _wants(t, sig: int) -> bool:
    if t.state == "dead":
        return False
    return sig == L.SIGKILL or not t.sigmask & 1 << (sig - 1)


def _complete(process, sig: int, thread):
    """complete_signal: the thread to wake for sig, or None (all block it)."""
    if thread is not None:
        return thread if _wants(thread, sig) else None
    threads = process.threads
    if _wants(threads[0], sig):
        return threads[0]
    # Round robin from the last thread chosen, as signal->curr_target does.
    start = process.signal_target % len(threads)
    for i in range(len(threads)):
        t = threads[(start + i) % len(threads)]
        if _wants(t, sig):
            process.signal_target = (start + i + 1) % len(threads)
            return t
    return None


def wake_for_signal(t) -> None:
    """signal_wake_up: a parked thread's wait ends (the dispatcher then decides
    EINTR or restart); a running thread takes it as its current system call
    returns; a runnable one when it resumes."""
    sched = t.process.kernel.sched
    if t.state == "blocked":
        if t.blocked.wait.uninterruptible and \
                not (t.pending.signals | t.process.shared_pending.signals) & bit(L.SIGKILL):
            return                              # killable only (a vfork parent's wait)
        t.blocked.interrupted = True
        sched.wake(t)
    elif t.state == "running" and sched.on_cpu is t:
        sched.signal_on_return(t)


def recalc(t) -> None:
    """After t's own mask changed in a system call: a signal it now takes is
    delivered when the call returns (recalc_sigpending and its wake-up)."""
    if deliverable(t):
        t.process.kernel.sched.signal_on_return(t)
