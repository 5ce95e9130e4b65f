"""The end of a process and waiting for it (Linux's kernel/exit.c): exit's steps for
a process (do_exit, exit_notify, forget_original_parent, do_notify_parent,
release_task) and the search of wait4(2) and waitid(2) (do_wait).

A process that exits (its last thread's exit, exit_group, a fatal signal, a fault)
- ends its threads: each leaves the run queue and every wait queue, its robust
  futex list and clear_child_tid are released (kernel/threads.py) — they matter to
  other processes sharing the memory;
- closes its fds and frees its memory and CPU engine, unless another live process
  shares them (CLONE_FILES, CLONE_VM: a vfork child before exec);
- wakes a vfork parent (`vfork_done`) and its pidfd pollers (`exit_waiters`);
- gives its children to a new parent: the nearest ancestor that set
  PR_SET_CHILD_SUBREAPER, else pyunik's imaginary init (pid 1; `parent` None),
  which reaps their zombies at once; a child with PR_SET_PDEATHSIG is sent it;
- becomes a zombie holding its wait status and CPU time, and tells its parent:
  the exit signal (SIGCHLD unless clone said otherwise) with a CLD_EXITED,
  CLD_KILLED or CLD_DUMPED siginfo, and a wake of the parent's `child_wait`. A
  parent whose SIGCHLD is SIG_IGN (no signal then) or has SA_NOCLDWAIT, and init,
  reap it at once (autoreap).

The first process (the one `pyunik run` started) is the kernel's (Kernel.exit:
the run ends there).

Waiting: `wait(t, idtype, id, options)` scans the caller's children oldest first
for an eligible one (the pid, process group or pidfd matches, and __WCLONE/__WALL
against its exit signal) with something to report — a zombie for WEXITED, an
unreported stop for WSTOPPED, an unreported continue for WCONTINUED — and reaps a
zombie unless WNOWAIT. No eligible child is ECHILD; eligible children with nothing
to report give None under WNOHANG, else the caller parks on its `child_wait` (a
WouldBlock, so a signal interrupts it and SA_RESTART restarts it as for any call).

Layer: kernel. Called by the scheduler's run loop (exit_process), the kernel's end
of run (release_all) and kernel/syscalls/wait.py; calls kernel/signals.py,
kernel/threads.py, the scheduler, and mm/ and cpu/ through the objects it frees.
"""

from __future__ import annotations

from errno import ECHILD

from ..abi import linux as L
from ..abi.proc import USER_HZ
from ..abi.time import NSEC_PER_SEC
from ..abi.poll import POLLIN
from ..abi.wait import (P_ALL, P_PGID, P_PID, P_PIDFD, WCONTINUED, WEXITED, WNOHANG,
                        WNOWAIT, WSTOPPED, __WALL, __WCLONE)
from ..errors import KernelError
from ..wait import WouldBlock
from . import clocks, signals
from .exec import release_exe
from .process import REAPED, ZOMBIE, ProcessExit

_TICK_NS = NSEC_PER_SEC // USER_HZ       # a clock_t tick in siginfo


# ---- exit ---------------------------------------------------------------------------------

def exit_process(process, e: ProcessExit) -> None:
    """process has exited as e says: it becomes a zombie (or is reaped at once)."""
    trace_exit(process, e)
    _become_zombie(process, e.wait_status)
    release_resources(process)
    process.vfork_done.wake_all()
    _reparent_children(process)
    process.exit_waiters.wake_all(POLLIN)
    if _notify_parent(process):
        release(process)


def _become_zombie(process, wait_status: int) -> None:
    process.cpu_ns = clocks.process_cpu_ns(process)
    if process.mm is not None:
        process.maxrss = max(process.maxrss, process.mm.mapped // 1024)
    end_threads(process)
    process.wait_status = wait_status
    process.exit_state = ZOMBIE


def end_threads(process) -> None:
    """Every thread of process ends where it is (parked, runnable or running)."""
    from .threads import release_futexes
    sched = process.kernel.sched
    for th in list(process.threads):
        if th.state != "dead":
            sched.forget(th)
            release_futexes(th)
    process.threads = []


def release_resources(process) -> None:
    """The fds, memory and engine of a process that has ended, unless another live
    process shares them; its timers."""
    kernel = process.kernel
    others = [p for p in kernel.processes.values()
              if p is not process and p.exit_state is None]
    if process.timers is not None:
        process.timers.cancel_all()
        for timer in process.timers.itimers.values():
            timer.cancel()
        process.timers.cpu_limit.cancel()
    kernel.exit_ipc(process)      # SEM_UNDO adjustments (exit_sem)
    if not any(p.fds is process.fds for p in others):
        process.fds.close_all()
    release_exe(process)
    mm = process.mm
    if mm is not None and not any(p.mm is mm for p in others):
        kernel.sched.drop_engine(mm.engine)
        if others or not kernel.config.host_exit_frees:
            mm.free_all(close_engine=True)
        else:                 # the last process: the host process's exit frees it all
            mm.write_back_all()


def trace_exit(process, e: ProcessExit) -> None:
    """strace's last line of a process: +++ exited with N +++ or +++ killed by SIG +++."""
    out = process.kernel.config.strace
    if out is None:
        return
    prefix = "[pid %d] " % process.pid if len(process.kernel.processes) > 1 else ""
    if e.signal:
        out.write("%s+++ killed by %s%s +++\n" % (prefix, L.signal_name(e.signal),
                                                 " (core dumped)" if e.core else ""))
    else:
        out.write("%s+++ exited with %d +++\n" % (prefix, e.status))
    out.flush()


def _cause(status: int) -> tuple[int, int]:
    """(si_code, si_status) of a wait status (CLD_EXITED with the code, or
    CLD_KILLED / CLD_DUMPED with the signal)."""
    if status & 0x7F == 0:
        return L.CLD_EXITED, status >> 8
    return (L.CLD_DUMPED if status & 0x80 else L.CLD_KILLED), status & 0x7F


def chld_info(process, sig: int, code: int, status: int) -> bytes:
    """The siginfo of a child's state change (do_notify_parent,
    do_notify_parent_cldstop): its pid, real uid, status and CPU time in ticks."""
    ns = process.cpu_ns if process.exit_state is not None else clocks.process_cpu_ns(process)
    return L.SIGINFO_SIGCHLD.pack(sig, 0, code, process.pid, process.cred.uid, status,
                                  ns // _TICK_NS, 0)


def _notify_parent(process) -> bool:
    """do_notify_parent: the parent is sent the exit signal and woken; True when
    the child is to be reaped at once (init's child, or a parent that ignores
    SIGCHLD or set SA_NOCLDWAIT)."""
    parent = process.parent
    if parent is None:
        return True
    sig = process.exit_signal
    autoreap = False
    if sig == L.SIGCHLD:
        action = parent.sighand.actions[L.SIGCHLD]
        if action.handler == L.SIG_IGN or action.flags & L.SA_NOCLDWAIT:
            autoreap = True
            if action.handler == L.SIG_IGN:
                sig = 0
    if 0 < sig <= L.NSIG:
        signals.send(parent, sig, chld_info(process, sig, *_cause(process.wait_status)))
    parent.child_wait.wake_all()
    return autoreap


def _new_reaper(process):
    """find_new_reaper: the nearest live ancestor that is a child subreaper, else
    None (init)."""
    p = process.parent
    while p is not None:
        if p.child_subreaper and p.exit_state is None:
            return p
        p = p.parent
    return None


def _reparent_children(process) -> None:
    """forget_original_parent: children go to the new reaper; a zombie among them
    is reported to it (reaped at once by init)."""
    if not process.children:
        return
    reaper = _new_reaper(process)
    for child in list(process.children):
        child.parent = reaper
        child.ppid = reaper.pid if reaper is not None else 1
        if reaper is not None:
            reaper.children.append(child)
        if child.pdeath_signal and child.exit_state is None:
            signals.send(child, child.pdeath_signal, signals.kill_info(
                child.pdeath_signal, L.SI_USER, process.pid, process.cred.uid))
        child.exit_signal = L.SIGCHLD
        if child.exit_state == ZOMBIE and _notify_parent(child):
            release(child)
    process.children = []


def release(process) -> None:
    """release_task: the zombie is gone; its pid is free."""
    process.exit_state = REAPED
    kernel = process.kernel
    if kernel.processes.get(process.pid) is process:
        del kernel.processes[process.pid]
    parent = process.parent
    if parent is not None and process in parent.children:
        parent.children.remove(process)


# ---- wait ---------------------------------------------------------------------------------

class Report:
    """What a wait found: the child, the si_code of the change (CLD_*), the
    si_status, and the status word wait4 writes."""

    __slots__ = ("process", "code", "status", "wait_status")

    def __init__(self, process, code: int, status: int, wait_status: int):
        self.process = process
        self.code = code
        self.status = status
        self.wait_status = wait_status


def _eligible(p, idtype: int, ident, options: int) -> bool:
    """eligible_pid and eligible_child."""
    if idtype == P_PID and p.pid != ident:
        return False
    if idtype == P_PGID and p.pgid != ident:
        return False
    if idtype == P_PIDFD and p is not ident:
        return False
    if options & __WALL:
        return True
    return (p.exit_signal != L.SIGCHLD) == bool(options & __WCLONE)


def wait(t, idtype: int, ident, options: int) -> Report | None:
    """do_wait for the caller's process: a Report, None (WNOHANG and nothing to
    report), ECHILD, or WouldBlock on the caller's child_wait. ident is a pid, a
    process group, or (P_PIDFD) the Process a pidfd names."""
    me = t.process
    found = False
    for child in list(me.children):
        if not _eligible(child, idtype, ident, options):
            continue
        found = True
        report = _report(me, child, options)
        if report is not None:
            return report
    if not found:
        raise KernelError(ECHILD)
    if options & WNOHANG:
        return None
    raise WouldBlock((me.child_wait,), what=me.child_wait.what)


def _report(me, child, options: int) -> Report | None:
    """wait_consider_task: what child has to report that options ask for."""
    keep = options & WNOWAIT
    if child.exit_state == ZOMBIE:
        if not options & WEXITED:
            return None
        code, status = _cause(child.wait_status)
        if not keep:
            me.children_cpu_ns += child.cpu_ns + child.children_cpu_ns
            me.children_maxrss = max(me.children_maxrss, child.children_maxrss,
                                     child.maxrss)
            release(child)
        return Report(child, code, status, child.wait_status)
    stop = child.stop_report
    if stop and options & WSTOPPED:
        if not keep:
            child.stop_report = 0
        return Report(child, L.CLD_STOPPED, stop, (stop << 8) | 0x7F)
    if child.continue_report and options & WCONTINUED:
        if not keep:
            child.continue_report = False
        return Report(child, L.CLD_CONTINUED, L.SIGCONT, 0xFFFF)
    return None


def rusage_fields(p) -> list[int]:
    """struct rusage of a child as wait4 gives it: its CPU time and its reaped
    children's (all user time: kernel/clocks.py), its peak size in KiB."""
    ns = (p.cpu_ns if p.exit_state is not None else clocks.process_cpu_ns(p)) + \
        p.children_cpu_ns
    fields = [0] * 18
    fields[0], fields[1] = ns // 1_000_000_000, ns % 1_000_000_000 // 1000
    fields[4] = max(p.maxrss, p.children_maxrss)
    return fields


def select(t, idtype: int, ident: int, options: int):
    """waitid's idtype and id as wait() takes them (kernel_waitid's checks); the
    ident for P_PIDFD is the Process. Returns (idtype, ident, options)."""
    from errno import EBADF, EINVAL
    if idtype == P_ALL:
        return P_ALL, 0, options
    if idtype == P_PID:
        if ident <= 0:
            raise KernelError(EINVAL)
        return P_PID, ident, options
    if idtype == P_PGID:
        if ident < 0:
            raise KernelError(EINVAL)
        return P_PGID, ident or t.process.pgid, options
    if idtype == P_PIDFD:
        from .pidfd import PidFile
        if ident < 0:
            raise KernelError(EINVAL)
        f = t.process.fds.get(ident)
        if not isinstance(f, PidFile):
            raise KernelError(EBADF)
        if f.flags & L.O_NONBLOCK:
            options |= WNOHANG
        return P_PIDFD, f.process, options
    raise KernelError(EINVAL)


def release_all(kernel, but=None) -> None:
    """The end of the run: every process still alive is killed where it stands (as
    Linux kills a pid namespace whose init exits), no signals sent; everything they
    hold is freed."""
    for p in list(kernel.processes.values()):
        if p is but or p.exit_state is not None:
            continue
        _become_zombie(p, L.SIGKILL)
    for p in list(kernel.processes.values()):
        if p is not but:
            release_resources(p)

