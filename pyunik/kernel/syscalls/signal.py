"""Signal system calls: dispositions, masks and the alternate stack.

The state is kept exactly as Linux keeps it, so a guest reads back what it set.
Delivery is partial: a signal sent to the calling process takes its default action
(terminate, ignore) or is ignored by SIG_IGN; one that would run a guest handler, or
is blocked, is refused with ENOSYS until frames are built (the table says so).
"""

from __future__ import annotations

from errno import EINVAL, ENOMEM, ENOSYS, EPERM, ESRCH

from ...abi import linux as L
from ...errors import KernelError
from .. import signals
from ..process import SigAction

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
    if oact:
        t.mm.write_struct(L.KERNEL_SIGACTION, oact, old.handler, old.flags, old.restorer,
                          old.mask)
    return 0


def sys_rt_sigprocmask(t, how, nset, oset, sigsetsize):
    """rt_sigprocmask(2): SIGKILL and SIGSTOP are silently left unblocked."""
    if sigsetsize != L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    old = t.sigmask
    if nset:
        (mask,) = t.mm.read_struct(L.SIGSET, nset)
        mask &= ~signals.UNBLOCKABLE
        if how == L.SIG_BLOCK:
            t.sigmask = old | mask
        elif how == L.SIG_UNBLOCK:
            t.sigmask = old & ~mask
        elif how == L.SIG_SETMASK:
            t.sigmask = mask
        else:
            raise KernelError(EINVAL)
    if oset:
        t.mm.write_struct(L.SIGSET, oset, old)
    return 0


def _altstack_flags(t, sp):
    ss_sp, flags, size = t.altstack
    if not size:
        return L.SS_DISABLE
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
            t.altstack = (0, L.SS_DISABLE, 0)
        else:
            if ss_size < L.MINSIGSTKSZ:
                raise KernelError(ENOMEM)
            t.altstack = (ss_sp, ss_flags, ss_size)
    if old_ss:
        t.mm.write_struct(L.STACK_T, old_ss, *old)
    return 0


def _send_to_self(t, sig):
    """A signal to the caller's own process: ENOSYS where it cannot be delivered yet."""
    if signals.send(t, sig) == signals.UNDELIVERABLE:
        raise KernelError(ENOSYS)
    return 0


def _check_signal(sig):
    if not 0 <= sig <= L.NSIG:
        raise KernelError(EINVAL)


def sys_kill(t, pid, sig):
    """kill(2): to the caller's own process or group (pid, 0, -1, -pgid)."""
    _check_signal(sig)
    p = t.process
    if pid in (p.pid, 0, -1, -p.pgid):
        return _send_to_self(t, sig)
    raise KernelError(ESRCH)


def sys_tgkill(t, tgid, tid, sig):
    """tgkill(2): to a thread of the caller's own process."""
    _check_signal(sig)
    if tgid <= 0 or tid <= 0:
        raise KernelError(EINVAL)
    if tgid != t.process.pid or tid not in [th.tid for th in t.process.threads]:
        raise KernelError(ESRCH)
    return _send_to_self(t, sig)


def sys_tkill(t, tid, sig):
    """tkill(2): to a thread of the caller's own process."""
    _check_signal(sig)
    if tid <= 0:
        raise KernelError(EINVAL)
    if tid not in [th.tid for th in t.process.threads]:
        raise KernelError(ESRCH)
    return _send_to_self(t, sig)


def sys_rt_sigpending(t, uset, sigsetsize):
    """rt_sigpending(2): nothing is ever left pending yet (see kill), so the set is empty."""
    if sigsetsize > L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    t.mm.write(uset, bytes(sigsetsize))
    return 0
