"""Job control: process groups and sessions, and stopping and continuing processes
(Linux's kernel/sys.c setpgid/setsid, kernel/signal.c do_signal_stop and
prepare_signal's SIGCONT, do_notify_parent_cldstop).

A process belongs to a process group (`pgid`) inside a session (`sid`); a child
starts in its parent's. setpgid moves the caller or a child that has not exec'd
into a group of the caller's session, setsid makes the caller a new session's
leader. The first process starts in session 1 (pyunik's imaginary init's, where
the console belongs) as the leader of its own group.

A stop signal whose action is the default (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU)
stops the whole process when a thread takes it (`stop`): every thread leaves the
CPU (the scheduler holds a stopped process's threads back, a parked call staying
parked until it completes after the continue), the parent is told (SIGCHLD with
CLD_STOPPED unless it set SA_NOCLDSTOP, and a wake of its wait), and wait's
WUNTRACED reports it once. SIGCONT sent to a stopped process continues it at once
(`cont`: WCONTINUED reports it; the parent's CLD_CONTINUED comes when it next runs);
SIGKILL makes it runnable to die. pyunik keeps
no orphaned-process-group rule: SIGTSTP, SIGTTIN and SIGTTOU stop a process of an
orphaned group too.

Layer: kernel. Called by kernel/delivery.py (a stop taken), kernel/signals.py
(SIGCONT, SIGKILL sent), the scheduler and the process-group system calls; calls
kernel/signals.py and kernel/exit.py's siginfo.
"""

from __future__ import annotations

from errno import EINVAL, ENOTTY, EPERM, ESRCH

from ..abi import linux as L
from ..errors import KernelError
from ..fs.devfs import controls_terminal
from ..fs.file import HostStream
from . import signals

STOPPED = "stopped"       # a thread's scheduler state while its process is stopped


def stop(t, sig: int) -> None:
    """do_signal_stop: t took stop signal sig; its process stops."""
    process = t.process
    sched = process.kernel.sched
    if not process.stopped:
        process.stopped = True
        process.stop_report = sig
        process.continue_report = False
        _notify_parent(process, L.CLD_STOPPED, sig)
    for th in process.threads:
        if th.state in ("running", "runnable"):
            th.state = STOPPED
    if sched.on_cpu is t:
        sched.leaving = "stopped"


def cont(process, report: bool = True) -> None:
    """A stopped process continues (SIGCONT; SIGKILL with report False): its
    threads return to the run queue, a parked call to finish its wait."""
    if not process.stopped:
        return
    process.stopped = False
    sched = process.kernel.sched
    for th in process.threads:
        if th.state == STOPPED:
            sched.resume(th)
    if report:
        process.stop_report = 0
        process.continue_report = True
        process.continue_notify = True       # told when it next runs (notify_continued)


def notify_continued(process) -> None:
    """The continued process runs again: now its parent is told (as get_signal does
    for SIGNAL_CLD_CONTINUED), so a signal that kills it right after is reported
    with the same SIGCHLD, as on Linux."""
    process.continue_notify = False
    _notify_parent(process, L.CLD_CONTINUED, L.SIGCONT)


def _notify_parent(process, code: int, status: int) -> None:
    """do_notify_parent_cldstop: SIGCHLD unless the parent set SA_NOCLDSTOP, and the
    parent's wait woken."""
    from .exit import chld_info
    parent = process.parent
    if parent is None:
        return
    action = parent.sighand.actions[L.SIGCHLD]
    if not action.flags & L.SA_NOCLDSTOP:
        signals.send(parent, L.SIGCHLD, chld_info(process, L.SIGCHLD, code, status))
    parent.child_wait.wake_all()


# ---- groups and sessions -----------------------------------------------------------------

def live(kernel):
    """Every process that has not exited."""
    return [p for p in kernel.processes.values() if p.exit_state is None]


def group_exists(kernel, pgid: int, sid: int | None = None) -> bool:
    """Is there a process in group pgid (in session sid, when given)?"""
    return any(p.pgid == pgid and (sid is None or p.sid == sid) for p in live(kernel))


# ---- the console's foreground process group --------------------------------------------

CONSOLE_IOCTLS = (L.TIOCGPGRP, L.TIOCSPGRP, L.TIOCGSID)
CONSOLE_SID = 1           # the session the first process starts in (its parent's)


def is_console(f) -> bool:
    """Is f pyunik's controlling terminal, handed to the guest as its stdio?"""
    return isinstance(f, HostStream) and controls_terminal(f.host_fd)


def console_ioctl(t, request: int, arg: int) -> int:
    """tcgetpgrp, tcsetpgrp and TIOCGSID on the console (drivers/tty/tty_jobctrl.c):
    the console is the controlling terminal of session 1's processes; its
    foreground group starts as the first process's. ENOTTY for a process of
    another session; tcsetpgrp takes a live group of the caller's session (ESRCH,
    EPERM). A background caller is not sent SIGTTOU (pyunik's simplification)."""
    p = t.process
    kernel = p.kernel
    if p.sid != CONSOLE_SID:
        raise KernelError(ENOTTY)
    if kernel.console_pgrp is None:
        kernel.console_pgrp = kernel.first.pgid
    if request == L.TIOCGSID:
        t.mm.write_i32(arg, CONSOLE_SID)
        return 0
    if request == L.TIOCGPGRP:
        t.mm.write_i32(arg, kernel.console_pgrp)
        return 0
    pgrp = int.from_bytes(t.mm.read(arg, 4), "little", signed=True)
    if pgrp < 0:
        raise KernelError(EINVAL)
    group = [q for q in live(kernel) if q.pgid == pgrp]
    if not group:
        raise KernelError(ESRCH)
    if group[0].sid != p.sid:
        raise KernelError(EPERM)
    kernel.console_pgrp = pgrp
    return 0
