"""Signal system calls: dispositions, masks, the alternate stack, sending, waiting
for signals, and rt_sigreturn.

Glue: arguments are checked and decoded here, in Linux's order of checks; pending
sets and the choice of thread are kernel/signals.py's, delivery and rt_sigreturn
kernel/delivery.py's. A call that waits for a signal (rt_sigsuspend, pause,
rt_sigtimedwait) parks with WouldBlock and a signal ends the wait.

Layer: kernel, syscall handlers.
"""

from __future__ import annotations

from errno import EAGAIN, EINTR, EINVAL, ENOMEM, EPERM, ESRCH

from ...abi import linux as L
from ...abi.capability import CAP_KILL
from ...errors import KernelError
from ...abi.signalfd import SFD_CLOEXEC, SFD_NONBLOCK
from ...wait import WouldBlock
from .. import delivery, signals
from ..process import SigAction, live_thread

_KNOWN_SA_FLAGS = (L.SA_NOCLDSTOP | L.SA_NOCLDWAIT | L.SA_SIGINFO | L.SA_ONSTACK | L.SA_RESTART
                   | L.SA_NODEFER | L.SA_RESETHAND | L.SA_EXPOSE_TAGBITS | L.SA_RESTORER)


def sys_rt_sigaction(t, sig, act, oact, sigsetsize):
    """rt_sigaction(2): SIGKILL and SIGSTOP cannot be changed; unknown sa_flags bits
    are dropped as Linux >= 5.11 does."""
    if sigsetsize != L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    if not 1 <= sig <= L.NSIG or (act and sig in (L.SIGKILL, L.SIGSTOP)):
        raise KernelError(EINVAL)
    new = t.mm.read_struct(L.KERNEL_SIGACTION, act) if act else None
    actions = t.process.sighand.actions
    old = actions[sig]
    if new is not None:
        handler, flags, restorer, mask = new
        actions[sig] = SigAction(handler, flags & _KNOWN_SA_FLAGS, restorer,
                                 mask & ~signals.UNBLOCKABLE)
        if signals.is_ignored(actions[sig], sig):
            # POSIX: setting an ignoring action discards the pending signal
            p = t.process
            p.shared_pending.discard(signals.bit(sig))
            for th in p.threads:
                th.pending.discard(signals.bit(sig))
    if oact:
        t.mm.write_struct(L.KERNEL_SIGACTION, oact, old.handler, old.flags, old.restorer,
                          old.mask)
    return 0


def sys_rt_sigprocmask(t, how, nset, oset, sigsetsize):
    """rt_sigprocmask(2): SIGKILL and SIGSTOP are silently left unblocked."""
    if sigsetsize != L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    old = t.sigmask
    mm = t.process.mm
    if nset:
        mask = int.from_bytes(mm.read(nset, L.SIGSET_SIZE), "little") & ~signals.UNBLOCKABLE
        if how == L.SIG_BLOCK:
            t.sigmask = old | mask
        elif how == L.SIG_UNBLOCK:
            t.sigmask = old & ~mask
        elif how == L.SIG_SETMASK:
            t.sigmask = mask
        else:
            raise KernelError(EINVAL)
    if oset:
        mm.write_int(oset, L.SIGSET, old)    # sigset_t: one word
    if t.sigmask != old:
        signals.recalc(t)
    return 0


def mask_invoker(general):
    """rt_sigprocmask(2)'s invoker in the kernel's fast dispatcher
    (delivery.on_return_invoker), general being the one that runs
    sys_rt_sigprocmask and delivers what the new mask lets through as the call
    returns. With nothing pending for the caller (its own set and its process's
    empty), no mask can make a signal deliverable: a valid how, an 8-byte sigset,
    and the call is the mask's change and the old mask's copy-out, in Linux's
    order (the new set read first, EFAULT before any change; the old one written
    after the change, which an EFAULT there leaves made). Anything else (a signal
    pending, a bad how or size) is general's."""
    sig_block, sig_unblock, sig_setmask = L.SIG_BLOCK, L.SIG_UNBLOCK, L.SIG_SETMASK
    size = L.SIGSET_SIZE                # sigset_t: one word
    sigset = L.SIGSET
    blockable = ~signals.UNBLOCKABLE

    def invoke_rt_sigprocmask(t, regs):
        how = regs[1] & 0xFFFFFFFF         # SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK: 0, 1, 2
        process = t.process
        if how > sig_setmask or regs[4] != size or t.pending.signals \
                or process.shared_pending.signals:
            return general(t, regs)
        mm = process.mm
        old = t.sigmask
        try:
            nset = regs[2]
            if nset:
                mask = mm.read_int(nset, sigset) & blockable
                t.sigmask = old | mask if how == sig_block else \
                    old & ~mask if how == sig_unblock else mask
            oset = regs[3]
            if oset:
                mm.write_int(oset, sigset, old)
        except KernelError as e:
            return -e.errno
        return 0
    return invoke_rt_sigprocmask


def _altstack_flags(t, sp):
    ss_sp, flags, size = t.altstack
    if not size:
        return L.SS_DISABLE | (flags & L.SS_AUTODISARM)
    on = ss_sp < sp <= ss_sp + size
    return (L.SS_ONSTACK if on else 0) | (flags & L.SS_AUTODISARM)


def sys_sigaltstack(t, ss, old_ss):
    """sigaltstack(2): EPERM while running on it, ENOMEM below MINSIGSTKSZ."""
    sp = t.process.engine.reg("rsp")
    old = (t.altstack[0], _altstack_flags(t, sp), t.altstack[2])
    if ss:
        ss_sp, ss_flags, ss_size = t.mm.read_struct(L.STACK_T, ss)
        if old[1] & L.SS_ONSTACK:
            raise KernelError(EPERM)
        mode = ss_flags & ~L.SS_AUTODISARM
        if mode not in (0, L.SS_ONSTACK, L.SS_DISABLE):
            raise KernelError(EINVAL)
        if mode == L.SS_DISABLE:
            t.altstack = (0, ss_flags, 0)             # (the flags as given: do_sigaltstack)
        else:
            if ss_size < L.MINSIGSTKSZ:
                raise KernelError(ENOMEM)
            t.altstack = (ss_sp, ss_flags, ss_size)
    if old_ss:
        t.mm.write_struct(L.STACK_T, old_ss, *old)
    return 0


def _check_signal(sig):
    if not 0 <= sig <= L.NSIG:
        raise KernelError(EINVAL)


def _thread(process, tid):
    for th in process.threads:
        if th.tid == tid and th.state != "dead":
            return th
    raise KernelError(ESRCH)


def _send(t, process, sig, info, thread=None):
    """check_kill_permission, then the sending (signal 0 only checks): to another
    process, the sender's real or effective uid must be the target's real or saved
    uid, or the sender have CAP_KILL (kill_ok_by_cred); SIGCONT within the session
    is always allowed. EPERM otherwise."""
    _check_signal(sig)
    me = t.process
    if process is not me:
        c, tc = me.cred, process.cred
        if not (c.euid in (tc.suid, tc.uid) or c.uid in (tc.suid, tc.uid) or
                c.capable(CAP_KILL) or sig == L.SIGCONT and process.sid == me.sid):
            raise KernelError(EPERM)
    if sig:
        signals.send(process, sig, info, thread)
    return 0


def _own(t, pid):
    """The process pid names, if it is one of the kernel's (a zombie too: a signal
    to it succeeds and is dropped, as Linux's to a zombie thread group)."""
    process = t.process.kernel.processes.get(pid)
    if process is None or not process.threads and process.exit_state is None:
        raise KernelError(ESRCH)
    return process


def sys_kill(t, pid, sig):
    """kill(2): to a process (pid > 0), the caller's group (0), a group (-pgid), or
    (-1) every process but init (pid 1, pyunik's imaginary one) and the caller
    (ESRCH when there is none)."""
    info = signals.kill_info(sig, L.SI_USER, t.process.pid, t.process.cred.uid)
    if pid > 0:
        return _send(t, _own(t, pid), sig, info)
    if pid == -1:
        _check_signal(sig)
        others = [p for p in t.process.kernel.processes.values()
                  if p is not t.process and p.threads]
        if not others:
            raise KernelError(ESRCH)
        result = 0
        for p in others:                # kill(-1): EPERM from some is no error
            try:
                _send(t, p, sig, info)
            except KernelError as e:
                if e.errno != EPERM:
                    result = -e.errno
        if result:
            raise KernelError(-result)
        return 0
    pgid = t.process.pgid if pid == 0 else -pid
    if pid == -(1 << 31):
        raise KernelError(ESRCH)
    group = [p for p in t.process.kernel.processes.values() if p.pgid == pgid and p.threads]
    if not group:
        raise KernelError(ESRCH)
    success, error = False, None
    for p in group:                     # __kill_pgrp_info: one success is enough
        try:
            _send(t, p, sig, info)
            success = True
        except KernelError as e:
            error = e
    if not success and error is not None:
        raise error
    return 0


def sys_tgkill(t, tgid, tid, sig):
    """tgkill(2): to thread tid of thread group tgid."""
    if tgid <= 0 or tid <= 0:
        raise KernelError(EINVAL)
    if tid == t.tid and tgid == t.process.pid:
        process, thread = t.process, t                  # raise(3): to itself
    else:
        process = _own(t, tgid)
        thread = _thread(process, tid)
    info = signals.kill_info(sig, L.SI_TKILL, t.process.pid, t.process.cred.uid)
    return _send(t, process, sig, info, thread)


def sys_tkill(t, tid, sig):
    """tkill(2): to thread tid, whatever its thread group."""
    if tid <= 0:
        raise KernelError(EINVAL)
    th = live_thread(t.process.kernel, tid)
    if th is None:
        raise KernelError(ESRCH)
    info = signals.kill_info(sig, L.SI_TKILL, t.process.pid, t.process.cred.uid)
    return _send(t, th.process, sig, info, th)


def _user_siginfo(t, sig, uinfo, target_pid):
    """The siginfo a process queues (rt_sigqueueinfo): its own bytes with si_signo
    set; a code >= 0 or SI_TKILL only to itself (EPERM), as the kernel's own are."""
    raw = bytearray(t.mm.read(uinfo, L.SI_MAX_SIZE))
    code = int.from_bytes(raw[8:12], "little", signed=True)
    if (code >= 0 or code == L.SI_TKILL) and target_pid != t.process.pid:
        raise KernelError(EPERM)
    raw[0:4] = sig.to_bytes(4, "little", signed=True)
    return bytes(raw)


def sys_rt_sigqueueinfo(t, tgid, sig, uinfo):
    """rt_sigqueueinfo(2): a signal with the caller's siginfo to a process."""
    info = _user_siginfo(t, sig, uinfo, tgid)
    return _send(t, _own(t, tgid), sig, info)


def sys_rt_tgsigqueueinfo(t, tgid, tid, sig, uinfo):
    """rt_tgsigqueueinfo(2): a signal with the caller's siginfo to one thread."""
    if tgid <= 0 or tid <= 0:
        raise KernelError(EINVAL)
    info = _user_siginfo(t, sig, uinfo, tgid)
    process = _own(t, tgid)
    return _send(t, process, sig, info, _thread(process, tid))


def sys_rt_sigpending(t, uset, sigsetsize):
    """rt_sigpending(2): the pending signals the caller blocks (its own and its
    process's)."""
    if sigsetsize > L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    pending = (t.pending.signals | t.process.shared_pending.signals) & t.sigmask
    t.mm.write(uset, pending.to_bytes(8, "little")[:sigsetsize])
    return 0


def sys_signalfd4(t, fd, umask, sizemask, flags):
    """signalfd4(2): a new signalfd (fd -1) or a new mask for an existing one.
    (kernel/signalfd.py is imported here: most runs make none.)"""
    from ..signalfd import SignalFile
    if flags & ~(SFD_CLOEXEC | SFD_NONBLOCK) or sizemask != L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    (mask,) = t.mm.read_struct(L.SIGSET, umask)
    mask &= ~signals.UNBLOCKABLE
    if fd == -1:
        return t.process.fds.install(SignalFile(t.process.kernel, mask, flags),
                                     bool(flags & SFD_CLOEXEC))
    f = t.process.fds.get(fd)
    if not isinstance(f, SignalFile):
        raise KernelError(EINVAL)
    f.mask = mask
    return fd


def sys_signalfd(t, fd, umask, sizemask):
    """signalfd(2): signalfd4 without flags."""
    return sys_signalfd4(t, fd, umask, sizemask, 0)


def sys_rt_sigreturn(t):
    """rt_sigreturn(2): back to the context the handler's frame holds (rax too)."""
    return delivery.sigreturn(t)


def _wait_for_signal(t, what):
    """Park until a signal ends the wait (it never ends by itself): EINTR then,
    which a handler never restarts (ERESTARTNOHAND). A signal pending already ends
    it at once the same way (the call answers ERESTARTNOHAND inside Linux, which
    strace shows)."""
    def again(timed_out):
        raise WouldBlock(retry=again, what=what)
    wait = WouldBlock(retry=again, what=what)
    wait.signal_pending = signals.deliverable(t)
    raise wait


def sys_restart_syscall(t):
    """restart_syscall(2): go on with the wait a signal interrupted, as the call
    left it (t.restart_block: a nanosleep until its first deadline, a poll until
    its end time); EINTR when there is none (do_no_restart_syscall)."""
    block = t.restart_block
    if block is None:
        raise KernelError(EINTR)
    return block[1]()


def sys_pause(t):
    """pause(2): wait for a signal whose handler runs (or that kills)."""
    return _wait_for_signal(t, "a signal (pause)")


def sys_rt_sigsuspend(t, umask, sigsetsize):
    """rt_sigsuspend(2): wait with mask in place; the handler's frame restores the
    mask from before (set_restore_sigmask)."""
    if sigsetsize != L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    (mask,) = t.mm.read_struct(L.SIGSET, umask)
    if t.saved_sigmask is None:
        t.saved_sigmask = t.sigmask
    t.sigmask = mask & ~signals.UNBLOCKABLE
    return _wait_for_signal(t, "a signal (sigsuspend)")


def sys_rt_sigtimedwait(t, uthese, uinfo, uts, sigsetsize):
    """rt_sigtimedwait(2): take a pending signal of the set, waiting up to the
    timeout (EAGAIN after it); while waiting the set is unblocked so that its
    signals wake the caller, as Linux does with real_blocked."""
    if sigsetsize != L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    (these,) = t.mm.read_struct(L.SIGSET, uthese)
    these &= ~signals.UNBLOCKABLE
    deadline = None
    if uts:
        sec, nsec = t.mm.read_struct(L.TIMESPEC, uts)
        if sec < 0 or not 0 <= nsec < 1000000000:
            raise KernelError(EINVAL)
        deadline = t.process.kernel.clock.monotonic_ns() + sec * 1000000000 + nsec
    real_blocked = t.sigmask

    def take(timed_out):
        taken = signals.dequeue(t, ~these & signals.ALL_SIGNALS)
        if taken is not None or timed_out or (
                deadline is not None and t.process.kernel.clock.monotonic_ns() >= deadline):
            t.sigmask = real_blocked
            if taken is None:
                raise KernelError(EAGAIN)
            sig, info = taken
            if uinfo:
                t.mm.write(uinfo, info)
            return sig
        t.sigmask = real_blocked & ~these
        raise WouldBlock(deadline=deadline, retry=take, what="a signal (sigtimedwait)",
                         on_interrupt=restore)

    def restore():
        t.sigmask = real_blocked
    return take(False)
