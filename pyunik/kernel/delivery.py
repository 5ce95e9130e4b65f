"""Signal delivery: what a thread does with a pending signal when it goes back to
user mode, rt_sigreturn, system call restarts, and faults turned into signals.

Linux's arch/x86/kernel/signal.c (arch_do_signal_or_restart, handle_signal) and
kernel/signal.c's get_signal. The scheduler calls `deliver(t)` each time it is about
to run t, with t's registers in the engine: that is at the return of every system
call after which a signal became deliverable (the sender, or a mask change, stops
the run at the call's end: kernel/signals.py) and whenever a parked or preempted
thread resumes. The fast path of a system call pays nothing for it.

For each deliverable signal, in next_signal's order: SIG_IGN (or a default of
ignore: SIGCHLD, SIGURG, SIGWINCH, SIGCONT) drops it (under --strace, as a traced
task, it reaches here and strace's --- line is printed first); a default of stop stops the
process (kernel/jobs.py); a default of terminate or core ends the process as killed
by it; a handler gets an rt_sigframe (kernel/sigframe.py) on the thread's stack, built
from the registers as the system call returns them (rip after `syscall`, rax the
result, rcx and r11 as the instruction leaves them), its mask (handler_mask),
SA_RESETHAND and SA_ONSTACK applied. A frame that cannot be written forces SIGSEGV
(force_sigsegv: the handler reset, the process killed if it was SIGSEGV's own).

Restarts (man 7 signal), decided here and only here. A call parked in a wait
(pyunik/wait.py) that a signal interrupts leaves `t.restart`: with a handler that
runs, a call of the ERESTARTSYS kind restarts under SA_RESTART and fails with EINTR
without it; the calls `NEVER_RESTART` names (poll, select, epoll_wait, nanosleep,
sigsuspend, sigtimedwait, a futex wait with a timeout, ...) fail with EINTR
whatever the flags (ERESTARTNOHAND, ERESTART_RESTARTBLOCK). When no handler runs (a
stop signal and SIGCONT, or a signal ignored by the time it was taken, as a traced
task takes one) the call is restarted: from its beginning (select, ppoll and
pselect6 then read the time left, which they wrote back into their timeout), or,
for ERESTART_RESTARTBLOCK, through restart_syscall(2), which resumes what the call
left in `t.restart_block` (nanosleep and a relative clock_nanosleep sleep until
their first deadline, poll waits until its end time). The calls `EINTR_ALWAYS`
names fail with EINTR even then (man 7 signal: epoll_wait, semop, sigtimedwait
after a stop signal and SIGCONT).

Layer: kernel. Called by the scheduler's run loop (kernel/sched.py) and by
kernel/syscalls/signal.py; calls kernel/sigframe.py, kernel/faults.py,
kernel/signals.py and the engine's context save/restore (cpu/).
"""

from __future__ import annotations

from errno import EINTR

from ..abi import linux as L
from ..abi import syscall_numbers as N
from . import jobs, signals
from .faults import fault_signal
from .process import ProcessExit, SigAction
from .sigframe import (FrameError, build_rt_sigframe, build_simple_sigframe, handler_mask,
                       read_rt_sigframe, read_simple_sigframe)
from ..abi.x86 import SYSCALL_LENGTH
from ..cpu.context import FRAME_SLOT, ContextError

_NR = N.NUMBERS
# Calls a handler never restarts (ERESTARTNOHAND, ERESTART_RESTARTBLOCK, or EINTR
# returned outright), from man 7 signal's lists.
NEVER_RESTART = frozenset(_NR[n] for n in (
    "poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "nanosleep", "clock_nanosleep", "rt_sigsuspend", "pause", "rt_sigtimedwait",
    "msgrcv", "msgsnd", "semop", "semtimedop", "io_getevents", "io_pgetevents",
    "signalfd4", "restart_syscall") if n in _NR)
# Calls whose interrupted wait answers EINTR itself, so that no signal restarts them
# (ep_poll, do_semtimedop, do_sigtimedwait return -EINTR).
EINTR_ALWAYS = frozenset(_NR[n] for n in (
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "semop", "semtimedop",
    "rt_sigtimedwait") if n in _NR)
NR_RESTART_SYSCALL = _NR["restart_syscall"]
_FUTEX_TIMED = (L.FUTEX_WAIT, L.FUTEX_WAIT_BITSET)
# futex operations a signal never makes fail: ERESTARTNOINTR (kernel/futex_pi.py)
_FUTEX_ALWAYS = (L.FUTEX_LOCK_PI, L.FUTEX_LOCK_PI2, L.FUTEX_WAIT_REQUEUE_PI)
# calls that leave a restart block when interrupted (with clock_nanosleep's
# relative sleeps: an absolute one answers ERESTARTNOHAND)
_RESTART_BLOCK = frozenset((_NR["nanosleep"], _NR["poll"], NR_RESTART_SYSCALL))
_RAX, _RCX, _R11, _RIP, _RSP = (FRAME_SLOT[name] for name in ("rax", "rcx", "r11", "rip", "rsp"))
# Calls that often make a signal deliverable to the calling thread: theirs is
# delivered inside the syscall hook as they return (Kernel._delivering_on_return).
DELIVERED_ON_RETURN = frozenset(_NR[n] for n in (
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal",
    "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "pause") if n in _NR)
# (bound here: deliver and sigreturn run on every signal)
_BLOCKABLE = ~signals.UNBLOCKABLE
_next_signal, _STOP_SIGNALS = signals.next_signal, signals.STOP_SIGNALS
_SIG_DFL, _SIG_IGN, _SIGKILL, _SA_RESETHAND = L.SIG_DFL, L.SIG_IGN, L.SIGKILL, L.SA_RESETHAND


def never_restarts(regs) -> bool:
    """A call that fails with EINTR when a handler runs, whatever SA_RESTART says."""
    nr = regs[0] & 0xFFFFFFFF
    if nr in NEVER_RESTART:
        return True
    if nr == _NR["futex"]:
        return regs[4] != 0 and (regs[2] & 0x7F) in _FUTEX_TIMED   # a timed wait
    return False


def always_restarts(regs) -> bool:
    """A call restarted after a handler whatever SA_RESTART says (ERESTARTNOINTR):
    a PI futex lock, a requeue-PI wait not yet requeued."""
    return regs[0] & 0xFFFFFFFF == _NR["futex"] and (regs[2] & 0x7F) in _FUTEX_ALWAYS


def restart_error(regs) -> int:
    """The ERESTART* code a call interrupted in its wait answers inside Linux."""
    nr = regs[0] & 0xFFFFFFFF
    if always_restarts(regs):
        return L.ERESTARTNOINTR
    if nr in EINTR_ALWAYS:
        return EINTR
    if nr in _RESTART_BLOCK or never_restarts(regs) and nr == _NR["futex"] or \
            nr == _NR["clock_nanosleep"] and not regs[2] & L.TIMER_ABSTIME:
        return L.ERESTART_RESTARTBLOCK
    return L.ERESTARTNOHAND if never_restarts(regs) else L.ERESTARTSYS


def _trace(t, sig: int, info: bytes, handled: bool = True) -> None:
    """strace's line for a signal delivered: --- SIGUSR1 {si_signo=..., ...} ---;
    and the observer's event (--stats, --trace-out)."""
    kernel = t.process.kernel
    if kernel.observer is not None:
        kernel.observer.signal(t, sig, handled)
    out = kernel.config.strace
    if out is not None:
        _trace_line(t, sig, info, out)


# the si_code names strace gives a fault signal's kernel codes (a code <= 0 or
# SI_KERNEL is the common one)
_FAULT_CODE_NAMES = {L.SIGSEGV: L.SEGV_CODE_NAMES, L.SIGBUS: L.BUS_CODE_NAMES,
                     L.SIGILL: L.ILL_CODE_NAMES, L.SIGTRAP: L.TRAP_CODE_NAMES,
                     L.SIGFPE: L.FPE_CODE_NAMES}


def _trace_line(t, sig: int, info: bytes, out) -> None:
    """strace's --- line alone: also for a signal whose action is to ignore it,
    which a traced task does not discard at sending (sig_ignored), so the tracer
    sees it as the task takes it."""
    signo, _, code, pid, uid = L.SIGINFO_KILL.unpack(info)
    fields = "si_signo=%s, si_code=%s" % (L.signal_name(signo),
                                          L.SI_CODE_NAMES.get(code, code))
    if code <= 0:
        fields += ", si_pid=%d, si_uid=%d" % (pid, uid)
    elif sig in _FAULT_CODE_NAMES:
        addr = L.SIGINFO_SIGFAULT.unpack(info)[3]
        fields = "si_signo=%s, si_code=%s, si_addr=%s" % (
            L.signal_name(signo),
            _FAULT_CODE_NAMES[sig].get(code) or L.SI_CODE_NAMES.get(code, code),
            "%#x" % addr if addr else "NULL")
    elif signo == L.SIGIO:
        # a file's readiness (F_SETSIG SIGIO): si_band and si_fd for the first three
        fields = "si_signo=SIGIO, si_code=%s" % L.POLL_CODE_NAMES.get(code, code)
        if code in (L.POLL_IN, L.POLL_OUT, L.POLL_MSG):
            fields += ", si_band=%d, si_fd=%d" % L.SIGINFO_SIGPOLL.unpack(info)[3:5]
    elif sig == L.SIGCHLD:
        _, _, code, pid, uid, status, utime, stime = L.SIGINFO_SIGCHLD.unpack(info)
        fields = "si_signo=SIGCHLD, si_code=%s, si_pid=%d, si_uid=%d, si_status=%s, " \
            "si_utime=%d, si_stime=%d" % (
                L.CLD_CODE_NAMES.get(code, code), pid, uid,
                status if code == L.CLD_EXITED else L.signal_name(status), utime, stime)
    prefix = "[pid %d] " % t.tid if len(t.process.threads) > 1 else ""
    out.write("%s--- %s {%s} ---\n" % (prefix, L.signal_name(sig), fields))


def deliver(t, returning: bool = False, result=None, regs=None):
    """Deliver t's deliverable signals and settle an interrupted call's restart.
    May raise ProcessExit.

    Between two runs (returning false): t's registers are in the engine. Inside the
    syscall hook as t's system call returns (returning true; the scheduler's
    syscall_return): result is the call's (None for rt_sigreturn, which loaded the
    registers itself) and regs the dispatcher's list (rip of the syscall instruction
    at 7, rflags at 8); what is returned is what the dispatcher returns: None once a
    handler's registers are written (its frame holds result as the call's return
    value), else result. A stop signal's default action is the run loop's: the run
    then ends at the call's end and the run loop delivers from there."""
    process = t.process
    actions = process.sighand.actions
    pending, shared = t.pending, process.shared_pending
    kernel = process.kernel
    tracing = kernel.observer is not None or kernel.config.strace is not None
    frame_regs = None           # the engine's FrameRegisters, once read
    while True:
        # dequeue_signal: the thread's own first, then the process's
        blocked = t.sigmask & _BLOCKABLE
        queue = pending
        sig = _next_signal(pending.signals, blocked)
        if not sig:
            queue = shared
            sig = _next_signal(shared.signals, blocked)
            if not sig:
                break
        action = actions[sig]
        handler = action.handler
        if returning and handler == _SIG_DFL and sig in _STOP_SIGNALS:
            kernel.sched.stop_at_syscall_end(t)
            return _load(frame_regs, returning, result)
        info = queue.take(sig)
        if kernel.debugger is not None and not kernel.debugger.signal(t, sig):
            continue                    # gdb kept it from the guest
        if handler == _SIG_DFL or sig == _SIGKILL:
            if sig != L.SIGKILL and sig in signals.DEFAULT_IGNORE:
                if kernel.config.strace is not None:
                    _trace_line(t, sig, info, kernel.config.strace)
                continue
            _trace(t, sig, info, handled=False)
            if sig in signals.STOP_SIGNALS:
                # The process stops here; an interrupted call's restart and a
                # sigsuspend's mask wait for the continue (do_signal_stop).
                jobs.stop(t, sig)
                return _load(frame_regs, returning, result)
            raise ProcessExit(0, signal=sig, core=sig in signals.DEFAULT_CORE)
        if handler == _SIG_IGN:
            if kernel.config.strace is not None:
                _trace_line(t, sig, info, kernel.config.strace)
            continue
        if tracing:
            _trace(t, sig, info)
        if frame_regs is None and returning and result is not None \
                and _deliver_simply(t, sig, info, action, result, regs):
            return None                 # the last signal to take: the handler entered
        if frame_regs is None:
            frame_regs = _frame_registers(t, returning, result, regs)
        if t.restart is not None:
            _settle_restart(t, frame_regs.general, action)
        # setup_sigcontext: the thread's last fault, whatever the signal
        trap = t.trap or (0, 0, 0)
        # sigsuspend's mask (set_restore_sigmask): the frame restores the old one
        mask = t.sigmask
        restore = t.saved_sigmask
        if restore is None:
            restore = mask
        else:
            t.saved_sigmask = None
        try:
            frame = build_rt_sigframe(process.mm, frame_regs, sig, info, restore, action,
                                      t.altstack, *trap)
        except FrameError:
            force_sigsegv(t, sig)
            continue
        if frame[5]:                        # (sigframe.SIGNAL_FRAME's selectors)
            frame_regs.write_selectors()
        t.altstack = frame[4]
        flags = action.flags
        t.sigmask = handler_mask(mask, sig, flags, action.mask)
        if flags & _SA_RESETHAND:
            actions[sig] = SigAction()
        # Further signals nest: each gets a frame over the one before (as Linux's
        # loop in exit_to_user_mode does, one per pass).
    if t.restart is not None:               # no handler ran: the call restarts
        if frame_regs is None:
            frame_regs = _frame_registers(t, returning, result, regs)
        _settle_restart(t, frame_regs.general, None)
    if t.saved_sigmask is not None:
        t.sigmask = t.saved_sigmask            # sigsuspend returning without a handler
        t.saved_sigmask = None
    return _load(frame_regs, returning, result)


def _load(frame_regs, returning: bool, result):
    """The registers delivery changed onto the engine, if it read them; what the
    dispatcher returns (see deliver)."""
    if frame_regs is None:
        return result
    if returning:
        frame_regs.write_in_syscall()
    else:
        frame_regs.write()
    return None


def _frame_registers(t, returning: bool, result, regs):
    """The engine's FrameRegisters read, holding the registers as the thread returns
    to user mode (inside the hook: the system call's result, and rcx and r11 as the
    syscall instruction leaves them)."""
    frame_regs = t.process.mm.engine.frame_regs
    frame_regs.read()
    if returning:
        general = frame_regs.general
        if result is None:
            general[_RIP] = (general[_RIP] + SYSCALL_LENGTH) & 0xFFFFFFFFFFFFFFFF
        else:
            general[_RAX] = result & 0xFFFFFFFFFFFFFFFF
            general[_RCX] = general[_RIP] = regs[7] + SYSCALL_LENGTH
            general[_R11] = regs[8]
    return frame_regs


def _settle_restart(t, general, action) -> None:
    """An interrupted call's outcome in the frame registers: EINTR, or the call
    again (rip back on the syscall instruction, rax its number, or restart_syscall's
    when the call left a restart block); action is the handler's that runs, None
    when none does."""
    regs = t.restart
    t.restart = None
    code = restart_error(regs)
    if code == EINTR or action is not None and code != L.ERESTARTNOINTR and (
            code != L.ERESTARTSYS or not action.flags & L.SA_RESTART):
        general[_RAX] = -EINTR & 0xFFFFFFFFFFFFFFFF
        t.restart_block = None
        return
    if code == L.ERESTART_RESTARTBLOCK and t.restart_block is not None:
        general[_RAX] = NR_RESTART_SYSCALL
        t.restart_block[0] = N.NAMES.get(regs[0] & 0xFFFFFFFF, "")   # (for strace)
    else:
        general[_RAX] = regs[0]
    general[_RIP] = regs[7]


def force_sigsegv(t, sig: int) -> None:
    """A frame could not be written: SIGSEGV with its default action if the failed
    signal was SIGSEGV itself, else SIGSEGV sent to the thread (force_sigsegv)."""
    actions = t.process.sighand.actions
    if sig == L.SIGSEGV:
        actions[L.SIGSEGV] = SigAction()
        raise ProcessExit(0, signal=L.SIGSEGV, core=True)
    t.sigmask &= ~signals.bit(L.SIGSEGV)
    if actions[L.SIGSEGV].handler == L.SIG_IGN:
        actions[L.SIGSEGV] = SigAction()
    t.pending.add(L.SIGSEGV, signals.kill_info(L.SIGSEGV, L.SI_KERNEL, 0, 0))


def sigreturn(t):
    """rt_sigreturn(2): the registers, mask and alternate stack from the frame the
    handler returns through, loaded inside the syscall hook (the run goes on
    without a stop); None, the registers set. A bad frame is SIGSEGV, and 0 (what
    Linux's sys_rt_sigreturn returns after signal_fault)."""
    process = t.process
    mm = process.mm
    frame_regs = mm.engine.frame_regs
    sp, flags = frame_regs.read_stack()
    try:
        back = read_rt_sigframe(mm, frame_regs, sp, flags)       # SIGRETURN
    except FrameError:
        force_sigsegv(t, 0)
        process.kernel.sched.signal_on_return(t)
        return 0
    frame_regs.write_in_syscall()
    if _restored(t, *back):
        process.kernel.sched.signal_on_return(t)        # let through by the mask
    return None


def _restored(t, blocked: int, altstack: tuple, sp: int) -> int:
    """rt_sigreturn's mask and alternate stack installed; the signals the mask lets
    through now."""
    t.sigmask = blocked
    if altstack != t.altstack:                   # (the same one: nothing to change)
        _restore_altstack(t, altstack, sp)
    return (t.pending.signals | t.process.shared_pending.signals) & ~(blocked & _BLOCKABLE)


def _restore_altstack(t, altstack, sp) -> None:
    """restore_altstack: sigaltstack(&uc_stack, NULL), errors other than EFAULT
    ignored."""
    ss_sp, ss_flags, ss_size = altstack
    ss_flags &= 0xFFFFFFFF
    if t.altstack[2] and t.altstack[0] < sp <= t.altstack[0] + t.altstack[2] \
            and not t.altstack[1] & L.SS_AUTODISARM:
        return                                  # EPERM: on the stack now
    mode = ss_flags & ~L.SS_AUTODISARM
    if mode == L.SS_DISABLE:
        t.altstack = (0, ss_flags, 0)           # the flags as given, as do_sigaltstack
    elif mode in (0, L.SS_ONSTACK) and ss_size >= L.MINSIGSTKSZ:
        t.altstack = (ss_sp, ss_flags, ss_size)


def fault(t, gfault) -> bool:
    """A CPU fault of t (registers in the engine): True when it became a signal
    the guest handles (delivered when t runs on); False for the default action
    (the caller's crash report and death by signal)."""
    engine = t.process.engine
    ctx = None
    if gfault.kind == "fpe":
        ctx = engine.save_context()
    fs = fault_signal(gfault, t.mm, engine.reg("rip"), ctx)
    if fs is None:
        # A page hidden past a file's end that the file has grown over since
        # (once: the same page faulting again right after is the default action).
        page = gfault.address & L.PAGE_MASK
        if gfault.access is None or gfault.kind != "segv" or t.revealed == page:
            return False
        t.revealed = page
        return t.mm.reveal(gfault.address)
    # The thread's last fault (thread.trap_nr, error_code, and cr2, which only a
    # page fault sets), kept for every later frame and inherited by clone and fork
    t.trap = (fs.trapno, fs.error_code,
              fs.cr2 if fs.cr2 is not None else t.trap[2] if t.trap else 0)
    actions = t.process.sighand.actions
    action = actions[fs.signo]
    blocked = t.sigmask & signals.bit(fs.signo)
    if blocked or action.handler == L.SIG_IGN:
        # force_sig_info_to_task: a blocked or ignored fault takes its default action
        actions[fs.signo] = SigAction()
        t.sigmask &= ~signals.bit(fs.signo)
        return False
    if action.handler == L.SIG_DFL:
        return False
    engine.set_reg("rip", fs.rip)
    t.pending.add(fs.signo, fs.siginfo())
    return True


# ---- the shortest path: raise(3) and the handler's return ----------------------------------
# A signal the running thread sends itself with tgkill and takes at once, and the
# rt_sigreturn that ends its handler, cost little more than the two system calls
# they are when nothing about them is special: the signal is never queued, and
# the frame goes between the engine's registers and the stack as one image each
# way (kernel/sigframe.py's build_simple_sigframe, read_simple_sigframe). Every
# other case takes the general way (send, deliver, sigreturn above), which gives
# the same result for these.

_NR_TGKILL, _NR_RT_SIGRETURN = _NR["tgkill"], _NR["rt_sigreturn"]
_NR_RT_SIGPROCMASK = _NR["rt_sigprocmask"]
# Signals whose sending does more than make them pending (prepare_signal's stop and
# continue handling), and the ones no handler can take.
_SENT_THE_GENERAL_WAY = sum(1 << sig for sig in (L.SIGKILL, L.SIGSTOP, L.SIGCONT,
                                                 *signals.STOP_SIGNALS))
_NSIG, _SA_RESTORER, _SA_SIGINFO, _SA_NODEFER = L.NSIG, L.SA_RESTORER, L.SA_SIGINFO, L.SA_NODEFER
_UNBLOCKABLE, _SI_TKILL, _kill_info = signals.UNBLOCKABLE, L.SI_TKILL, signals.kill_info
# The signals tgkill's shortest path may take (a number with its upper bits set is
# none of them), and each one's bit in a mask.
_SIMPLE_SIGNALS = frozenset(sig for sig in range(1, _NSIG + 1)
                            if not _SENT_THE_GENERAL_WAY >> sig & 1)
_SIGNAL_BIT = (0,) + tuple(1 << (sig - 1) for sig in range(1, _NSIG + 1))
_RUNNING = "running"            # (kernel/sched.py's RUNNING)


def on_return_invoker(kernel, nr: int, general):
    """The invoker dispatch uses for call nr of DELIVERED_ON_RETURN, general being
    the one that delivers as the call returns (Kernel._delivering_on_return): for
    tgkill and rt_sigreturn, one that takes the shortest path when it can; for
    rt_sigprocmask, one that takes general's only with a signal pending
    (kernel/syscalls/signal.py, imported by then: the row's handler is its)."""
    if nr == _NR_TGKILL:
        return _raise_invoker(kernel.sched, general)
    if nr == _NR_RT_SIGRETURN:
        return _sigreturn_invoker(kernel.sched, general)
    if nr == _NR_RT_SIGPROCMASK:
        from .syscalls.signal import mask_invoker
        return mask_invoker(general)
    return general


def _deliver_simply(t, sig: int, info: bytes, action, result: int, regs) -> bool:
    """Signal sig (its siginfo info, its handler's SigAction action) taken as t's
    system call returns result, the way of the shortest path, when nothing about it
    is special (no alternate stack, no fault ever taken (its frames carry the last
    fault's values), no interrupted call or sigsuspend mask, SA_RESTORER) and the
    handler's mask leaves no other signal to take: the frame built, the handler
    entered, the mask set; True. Else False, nothing changed."""
    flags = action.flags
    if t.restart is not None or t.trap is not None or t.saved_sigmask is not None \
            or t.altstack[2] or not flags & _SA_RESTORER:
        return False
    blocked = t.sigmask
    mask = blocked | action.mask                  # handler_mask
    if not flags & _SA_NODEFER:
        mask |= 1 << (sig - 1)
    mask &= ~_UNBLOCKABLE
    process = t.process
    if (t.pending.signals | process.shared_pending.signals) & ~(mask & _BLOCKABLE):
        return False                              # another frame to build over it
    mm = process.mm
    if flags & _SA_SIGINFO and len(info) != L.SI_MAX_SIZE:
        info = bytes(info).ljust(L.SI_MAX_SIZE, b"\0")[:L.SI_MAX_SIZE]
    if not build_simple_sigframe(mm, mm.engine.frame_regs, sig, blocked, action,
                                 t.altstack[1], result & 0xFFFFFFFFFFFFFFFF,
                                 regs[7] + SYSCALL_LENGTH, regs[8],
                                 info):
        return False
    t.sigmask = mask
    if flags & _SA_RESETHAND:
        process.sighand.actions[sig] = SigAction()
    return True


def _raise_invoker(sched, general):
    kernel = sched.kernel

    def tgkill(t, regs):
        """tgkill(2) to the caller itself (raise(3)) of a signal it takes at once with
        a handler, nothing pending before it, no alternate stack, no trap, no
        interrupted call or sigsuspend mask to settle: the frame built and the
        handler entered as the call returns 0, as send and then deliver would.
        (_deliver_simply's conditions, checked here in one expression: nothing is
        pending that the old mask lets through, so nothing the handler's does.)"""
        process = t.process
        sig = regs[3]                   # (upper bits set: not simple, the general way)
        if sig in _SIMPLE_SIGNALS and regs[2] == t.tid and regs[1] == process.pid:
            action = process.sighand.actions[sig]
            blocked = t.sigmask
            flags = action.flags
            altstack = t.altstack
            if action.handler > _SIG_IGN and flags & _SA_RESTORER \
                    and not blocked & _SIGNAL_BIT[sig] \
                    and not (t.pending.signals | process.shared_pending.signals) \
                    & ~(blocked & _BLOCKABLE) \
                    and t.restart is None and t.trap is None and t.saved_sigmask is None \
                    and not altstack[2] and sched.on_cpu is t and not sched.returning \
                    and not sched._kernel_stop and kernel.debugger is None \
                    and t.state == _RUNNING and not process.signalfd_waiters.waiters \
                    and not process.signalfd_waiters.pollers:
                mm = process.mm
                if build_simple_sigframe(
                        mm, mm.engine.frame_regs, sig, blocked, action, altstack[1], 0,
                        regs[7] + SYSCALL_LENGTH, regs[8],
                        _kill_info(sig, _SI_TKILL, process.pid, process.cred.uid)
                        if flags & _SA_SIGINFO else b""):
                    mask = blocked | action.mask                  # handler_mask
                    if not flags & _SA_NODEFER:
                        mask |= _SIGNAL_BIT[sig]
                    t.sigmask = mask & _BLOCKABLE
                    if flags & _SA_RESETHAND:
                        process.sighand.actions[sig] = SigAction()
                    return None
        return general(t, regs)
    return tgkill


def _sigreturn_invoker(sched, general):
    def rt_sigreturn(t, regs):
        """rt_sigreturn(2) through a frame as the shortest path (or Linux) builds it;
        any other frame the general way. (_restored inline, and the alternate stack
        compared only.)"""
        process = t.process
        mm = process.mm
        frame_regs = mm.engine.frame_regs
        if frame_regs.fetch_rsp():
            raise ContextError("uc_reg_read")
        sp = frame_regs.general[_RSP]
        back = read_simple_sigframe(mm, frame_regs, sp, regs[8]) if sp >= 8 else None
        if back is None:
            return general(t, regs)
        t.sigmask = blocked = back[0]
        if back[1] != t.altstack:
            _restore_altstack(t, back[1], back[2])
        if (t.pending.signals | process.shared_pending.signals) & ~(blocked & _BLOCKABLE):
            # let through by the mask: delivered as the general way's invoker does
            sched.in_checked_call = True
            sched.signal_on_return(t)
            sched.in_checked_call = False
            if sched.returning:
                return sched.syscall_return(None, regs)
        return None
    return rt_sigreturn
