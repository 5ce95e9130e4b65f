"""O_ASYNC: SIGIO (or F_SETSIG's signal) to a file's owner when it becomes ready, and
the fcntl commands that name the owner and the signal (fs/fcntl.c: f_setown,
f_setown_ex, send_sigio, kill_fasync; fasync_helper).

A file kind that has Linux's fasync operation says which readiness it signals in
`File.fasync_events`: POLLIN (new data, a connection, the other end gone) for pipes,
FIFOs, sockets and inotify, POLLOUT (room) for pipes too. F_SETFL turning O_ASYNC on
puts a `FasyncEntry` on the file's wait queues as a poller, as epoll's registrations
are; every wake of those queues is a change of readiness, and the entry turns the
woken events into kill_fasync's band (POLL_IN to a readable file, POLL_OUT to a
writable one) and sends the signal. A socket's POLL_OUT, which Linux sends only after
a write found no room (SOCKWQ_ASYNC_NOSPACE), is not sent. As in Linux, O_ASYNC given
to open(2) is only a flag (no fasync call), and a kind without fasync (regular files,
eventfd, timerfd, signalfd, epoll, host terminals) keeps the flag and signals nothing.

Layer: kernel. Called by kernel/syscalls/fs.py (fcntl) and, through WaitQueue's
pollers, by whatever wakes a file's queue (fs/pipe.py, net/); calls kernel/signals.py.
"""

from __future__ import annotations

from errno import EINVAL, ESRCH

from ..abi import linux as L
from ..abi.fcntl import F_OWNER_EX, F_OWNER_PGRP, F_OWNER_PID, F_OWNER_TID
from ..abi.poll import (POLLERR, POLLHUP, POLLIN, POLLMSG, POLLOUT, POLLPRI, POLLRDBAND,
                        POLLRDNORM, POLLWRBAND, POLLWRNORM)
from ..abi.signal import NSIG as _NSIG
from ..abi.siginfo import POLL_IN, POLL_OUT, SI_SIGIO, SIGINFO_SIGPOLL
from ..errors import KernelError
from . import signals

# band_table: si_band for each reason, POLL_IN .. POLL_HUP
_BANDS = (POLLIN | POLLRDNORM, POLLOUT | POLLWRNORM | POLLWRBAND,
          POLLIN | POLLRDNORM | POLLMSG, POLLERR, POLLPRI | POLLRDBAND, POLLHUP | POLLERR)
# sig_specific_sicodes: the signals with si_codes of their own besides SIGPOLL's
_SPECIFIC = frozenset((L.SIGILL, L.SIGFPE, L.SIGSEGV, L.SIGBUS, L.SIGTRAP, L.SIGCHLD,
                       L.SIGSYS))


class FasyncEntry:
    """struct fasync_struct: O_ASYNC is on for file, set through fd; a poller on the
    file's wait queues (never exclusive)."""

    __slots__ = ("kernel", "file", "fd", "queues")
    exclusive = False

    def __init__(self, kernel, file, fd: int):
        self.kernel = kernel
        self.file = file
        self.fd = fd
        queues, _host = file.wait_queues(file.fasync_events)
        self.queues = tuple(queues)
        for q in self.queues:
            q.add_poller(self)

    def notify(self, key: int) -> bool:
        """kill_fasync: the file's queue was woken for key (0: any change, whose
        ready bits the file's poll gives)."""
        f = self.file
        wanted = f.fasync_events
        if not key:
            key = f.poll(wanted)
        if wanted & POLLIN and f.readable and key & (POLLIN | POLLRDNORM | POLLHUP):
            send_sigio(self.kernel, f, self.fd, POLL_IN)
        if wanted & POLLOUT and f.writable and key & (POLLOUT | POLLWRNORM | POLLERR):
            send_sigio(self.kernel, f, self.fd, POLL_OUT)
        self._follow()
        return False

    def _follow(self) -> None:
        """A socket's queues change with its state (listening, connected): stay on
        the ones it names now."""
        queues = tuple(self.file.wait_queues(self.file.fasync_events)[0])
        if queues != self.queues:
            for q in self.queues:
                q.remove_poller(self)
            self.queues = queues
            for q in queues:
                q.add_poller(self)

    def release(self) -> None:
        for q in self.queues:
            q.remove_poller(self)
        if self.file.fasync_entry is self:
            self.file.fasync_entry = None


def set_flags(kernel, file, fd: int, new_flags: int) -> None:
    """setfl's O_ASYNC part: a change of the flag calls the kind's fasync (on or off);
    the flag itself the caller stores."""
    if not (file.flags ^ new_flags) & L.O_ASYNC or not file.fasync_events:
        return
    if new_flags & L.O_ASYNC:
        if file.fasync_entry is None:
            file.fasync_entry = FasyncEntry(kernel, file, fd)
        else:
            file.fasync_entry.fd = fd
    elif file.fasync_entry is not None:
        file.fasync_entry.release()


def send_sigio(kernel, file, fd: int, reason: int) -> None:
    """send_sigio: the owner's signal (F_SETSIG's, with a SIGPOLL siginfo: the reason
    as si_code, its band, the fd; else SIGIO from the kernel) to the owning thread,
    process, or every process of the owning group. No owner: nothing."""
    owner = file.owner
    if not owner:
        return
    sig = file.owner_signal
    if sig:
        code = SI_SIGIO if sig != L.SIGIO and sig in _SPECIFIC else reason
        info = SIGINFO_SIGPOLL.pack(sig, 0, code, _BANDS[reason - POLL_IN], fd)
    else:
        sig = L.SIGIO
        info = signals.kill_info(sig, L.SI_KERNEL, 0, 0)
    for p in list(kernel.processes.values()):
        if not p.threads:
            continue
        if owner < 0:
            if p.pgid == -owner:
                signals.send(p, sig, info)
            continue
        if file.owner_thread:
            for th in p.threads:
                if th.tid == owner:
                    signals.send(p, sig, info, th)
        elif p.pid == owner or any(th.tid == owner for th in p.threads):
            signals.send(p, sig, info)


def _exists(kernel, number: int) -> bool:
    """find_vpid: some task has number as its pid, tid, process group or session."""
    for p in kernel.processes.values():
        if p.pid == number or p.pgid == number or any(th.tid == number for th in p.threads):
            return True
    return False


def set_owner(t, f, arg: int) -> int:
    """f_setown: a process (pid > 0) or a process group (-pgid) by a number some task
    has (ESRCH otherwise), 0 for none; INT_MIN is EINVAL."""
    who = (arg & 0xFFFFFFFF) - ((arg & 0x80000000) << 1)
    if who == -0x80000000:
        raise KernelError(EINVAL)
    if who and not _exists(t.process.kernel, abs(who)):
        raise KernelError(ESRCH)
    f.owner, f.owner_thread = who, False
    return 0


def get_owner(f) -> int:
    """F_GETOWN: the pid or tid, or -pgid for a group."""
    return f.owner


def set_owner_ex(t, f, addr: int) -> int:
    """f_setown_ex: struct f_owner_ex from addr (EFAULT); a type other than TID, PID,
    PGRP is EINVAL; a pid nobody has is ESRCH (0: no owner)."""
    kind, pid = F_OWNER_EX.unpack(t.mm.read(addr, F_OWNER_EX.size))
    if kind not in (F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP):
        raise KernelError(EINVAL)
    if pid and not (pid > 0 and _exists(t.process.kernel, pid)):
        raise KernelError(ESRCH)
    f.owner = -pid if kind == F_OWNER_PGRP else pid
    f.owner_thread = kind == F_OWNER_TID
    return 0


def get_owner_ex(t, f, addr: int) -> int:
    """f_getown_ex: {type, pid} to addr."""
    owner = f.owner
    kind = F_OWNER_PGRP if owner < 0 else F_OWNER_TID if f.owner_thread else F_OWNER_PID
    t.mm.write(addr, F_OWNER_EX.pack(kind, abs(owner)))
    return 0


def set_signal(f, arg: int) -> int:
    """F_SETSIG: 0 (plain SIGIO) or a valid signal number; else EINVAL."""
    sig = (arg & 0xFFFFFFFF) - ((arg & 0x80000000) << 1)     # the int Linux takes
    if not 0 <= sig <= _NSIG:
        raise KernelError(EINVAL)
    f.owner_signal = sig
    return 0
