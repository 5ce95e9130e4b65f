"""signalfd: pending signals read as records from a file (fs/signalfd.c).

A SignalFile holds a mask. Reading it takes pending signals of that mask, the
reader's own first and then its process's (as dequeue_signal does, blocked or
not: the usual caller blocks them so that no handler takes them first), and
returns one struct signalfd_siginfo per signal, as many as fit; with none pending
it waits (EAGAIN with O_NONBLOCK). Polling says POLLIN while the polling thread
has one pending. Every signal sent to the process wakes the process's signalfd
queue (sighand->signalfd_wqh), which readers and pollers wait on.

Layer: kernel (a File of the kernel's, as the signal state is the kernel's).
Called by kernel/syscalls/signal.py and, as a File, by read/poll/epoll; calls
kernel/signals.py.
"""

from __future__ import annotations

from errno import EAGAIN, EINVAL

from ..abi import linux as L
from ..abi.poll import POLLIN, POLLRDNORM
from ..abi.signalfd import SIGNALFD_SIGINFO
from ..errors import KernelError
from ..fs.file import AnonInodeFile
from ..wait import WouldBlock
from . import signals

_FAULTS = (L.SIGSEGV, L.SIGBUS, L.SIGILL, L.SIGTRAP, L.SIGFPE)


def signalfd_info(info: bytes) -> bytes:
    """signalfd_copyinfo: the fields of siginfo's layout (siginfo_layout) into a
    struct signalfd_siginfo."""
    signo, errno_, code = L.SIGINFO_HEAD.unpack_from(info)
    pid = uid = tid = band = overrun = status = value = utime = stime = addr = fd = 0
    u32 = int.from_bytes(info[16:20], "little")
    if 0 < code < L.SI_KERNEL and signo in _FAULTS:               # SIL_FAULT
        addr = int.from_bytes(info[16:24], "little")
    elif 0 < code < L.SI_KERNEL and signo == L.SIGCHLD:           # SIL_CHLD
        pid, uid, status, utime, stime = L.SIGINFO_SIGCHLD.unpack(info)[3:]
    elif code == L.SI_TIMER:                                      # SIL_TIMER
        tid, overrun, value = L.SIGINFO_TIMER.unpack(info)[3:6]
    elif code == L.SI_SIGIO or (0 < code < L.SI_KERNEL and signo == L.SIGIO):
        band, fd = L.SIGINFO_SIGPOLL.unpack(info)[3:5]            # SIL_POLL
    elif code < 0:                                                # SIL_RT
        pid, uid, value = L.SIGINFO_RT.unpack(info)[3:6]
    else:                                                         # SIL_KILL
        pid, uid = u32, int.from_bytes(info[20:24], "little")
    return SIGNALFD_SIGINFO.pack(
        signo & 0xFFFFFFFF, errno_, code, pid & 0xFFFFFFFF, uid, fd, tid & 0xFFFFFFFF,
        band & 0xFFFFFFFF, overrun & 0xFFFFFFFF, 0, status, value & 0xFFFFFFFF
        if value < 1 << 31 else (value & 0xFFFFFFFF) - (1 << 32), value, utime & (2**64 - 1),
        stime & (2**64 - 1), addr, 0, 0, 0, 0)


class SignalFile(AnonInodeFile):
    can_poll = True
    anon_name = b"[signalfd]"

    def __init__(self, kernel, mask: int, flags: int):
        super().__init__(L.O_RDWR | (flags & L.O_NONBLOCK))
        self.kernel = kernel
        self.mask = mask

    def _reader(self):
        return self.kernel.current

    def read(self, size: int) -> bytes:
        if size < SIGNALFD_SIGINFO.size:
            raise KernelError(EINVAL)
        t = self._reader()
        out = []
        while len(out) < size // SIGNALFD_SIGINFO.size:
            taken = signals.dequeue(t, ~self.mask & signals.ALL_SIGNALS)
            if taken is None:
                break
            out.append(signalfd_info(taken[1]))
        if out:
            return b"".join(out)
        if self.flags & L.O_NONBLOCK:
            raise KernelError(EAGAIN)
        raise WouldBlock((t.process.signalfd_waiters,), what="a signalfd")

    def wait_queues(self, events: int):
        return (self._reader().process.signalfd_waiters,), ()

    def poll(self, events: int) -> int:
        t = self._reader()
        pending = t.pending.signals | t.process.shared_pending.signals
        return (POLLIN | POLLRDNORM) & events if pending & self.mask else 0
