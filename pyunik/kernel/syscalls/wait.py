"""Waiting for children and naming processes by fd: wait4, waitid, pidfd_open,
pidfd_send_signal.

Argument checking in Linux's order (kernel/exit.c's kernel_wait4 and kernel_waitid,
kernel/pid.c, kernel/signal.c) and copying out; the search and reaping are
kernel/exit.py's, the pidfd kernel/pidfd.py's.

Layer: kernel, syscall handlers. Calls kernel/exit.py, kernel/pidfd.py and
kernel/signals.py.
"""

from __future__ import annotations

from errno import EBADF, EINVAL, EPERM, ESRCH

from ...abi import linux as L
from ...abi.limits import INT_MIN
from ...abi.pidfd import (PIDFD_SIGNAL_PROCESS_GROUP, PIDFD_SIGNAL_THREAD,
                          PIDFD_SIGNAL_THREAD_GROUP)
from ...abi.wait import (P_ALL, P_PGID, P_PID, WCONTINUED, WEXITED, WNOHANG, WNOWAIT,
                         WSTOPPED, WUNTRACED, __WALL, __WCLONE, __WNOTHREAD)
from ...errors import KernelError
from .. import exit as exit_
from .. import signals
from ..pidfd import PidFile

_WAIT4_OPTIONS = WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL
_WAITID_OPTIONS = WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | \
    __WCLONE | __WALL
_PIDFD_NONBLOCK = L.O_NONBLOCK
_PIDFD_SIGNAL_SCOPES = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP


def sys_wait4(t, pid, status, options, rusage):
    """wait4(2): pid > 0 that child, 0 the caller's process group, -1 any child,
    < -1 the group -pid; returns the child's pid (0 under WNOHANG when none has
    changed state), its status word and rusage."""
    if options & ~_WAIT4_OPTIONS:
        raise KernelError(EINVAL)
    if pid == INT_MIN:
        raise KernelError(ESRCH)
    if pid < -1:
        idtype, ident = P_PGID, -pid
    elif pid == -1:
        idtype, ident = P_ALL, 0
    elif pid == 0:
        idtype, ident = P_PGID, t.process.pgid
    else:
        idtype, ident = P_PID, pid
    report = exit_.wait(t, idtype, ident, options | WEXITED)
    if report is None:
        return 0
    if rusage:
        t.mm.write_struct(L.RUSAGE, rusage, *exit_.rusage_fields(report.process))
    if status:
        t.mm.write_i32(status, report.wait_status)
    return report.process.pid


def sys_waitid(t, idtype, id_, infop, options, rusage):
    """waitid(2): P_ALL, P_PID, P_PGID (id 0: the caller's group) or P_PIDFD; the
    child's pid, uid, si_code and si_status in infop (all zero under WNOHANG when
    none has changed state); returns 0."""
    if options & ~_WAITID_OPTIONS or not options & (WEXITED | WSTOPPED | WCONTINUED):
        raise KernelError(EINVAL)
    idtype, ident, options = exit_.select(t, idtype, id_, options)
    report = exit_.wait(t, idtype, ident, options)
    if rusage:
        fields = exit_.rusage_fields(report.process) if report else [0] * 18
        t.mm.write_struct(L.RUSAGE, rusage, *fields)
    if infop:
        if report is None:
            head = L.SIGINFO_SIGCHLD.pack(0, 0, 0, 0, 0, 0, 0, 0)
        else:
            p = report.process
            head = L.SIGINFO_SIGCHLD.pack(L.SIGCHLD, 0, report.code, p.pid, p.cred.uid,
                                          report.status, 0, 0)
        t.mm.write(infop, head[:28])     # waitid writes the fields up to si_status
    return 0


def sys_pidfd_open(t, pid, flags):
    """pidfd_open(2): an fd naming process pid (close-on-exec; PIDFD_NONBLOCK makes
    waitid on it not wait). A thread that is not a process's leader is EINVAL."""
    if flags & ~_PIDFD_NONBLOCK or pid <= 0:
        raise KernelError(EINVAL)
    process = t.process.kernel.processes.get(pid)
    if process is None:
        if any(th.tid == pid for p in t.process.kernel.processes.values()
               for th in p.threads):
            raise KernelError(EINVAL)       # a thread, not a thread group leader
        raise KernelError(ESRCH)
    return t.process.fds.install(PidFile(t.process.kernel, process, flags), cloexec=True)


def sys_pidfd_send_signal(t, pidfd, sig, info, flags):
    """pidfd_send_signal(2): kill(2) to the process a pidfd names (or, with
    PIDFD_SIGNAL_THREAD, to its main thread; PIDFD_SIGNAL_PROCESS_GROUP, to its
    process group), with the caller's siginfo if given (as rt_sigqueueinfo); ESRCH
    once it has exited."""
    if flags & ~_PIDFD_SIGNAL_SCOPES or flags & (flags - 1):
        raise KernelError(EINVAL)           # an unknown flag, or more than one scope
    f = t.process.fds.get(pidfd)
    if not isinstance(f, PidFile):
        raise KernelError(EBADF)
    if not 0 <= sig <= L.NSIG:
        raise KernelError(EINVAL)
    process = f.process
    if info:
        raw = bytearray(t.mm.read(info, L.SI_MAX_SIZE))
        if int.from_bytes(raw[0:4], "little", signed=True) != sig:
            raise KernelError(EINVAL)
        code = int.from_bytes(raw[8:12], "little", signed=True)
        if (code >= 0 or code == L.SI_TKILL) and process is not t.process:
            raise KernelError(EPERM)
        payload = bytes(raw)
    else:
        payload = signals.kill_info(sig, L.SI_USER, t.process.pid, t.process.cred.uid)
    if process.exit_state is not None:
        raise KernelError(ESRCH)
    if not sig:
        return 0
    if flags == PIDFD_SIGNAL_PROCESS_GROUP:
        for p in list(t.process.kernel.processes.values()):
            if p.pgid == process.pgid and p.exit_state is None:
                signals.send(p, sig, payload)
    elif flags == PIDFD_SIGNAL_THREAD:
        signals.send(process, sig, payload, process.threads[0])
    else:
        signals.send(process, sig, payload)
    return 0
