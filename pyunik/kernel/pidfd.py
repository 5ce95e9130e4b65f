"""Process file descriptors (Linux's kernel/pid.c pidfd_create, fs/pidfs.c): an fd
naming one process, from pidfd_open(2) or clone's CLONE_PIDFD.

A pidfd is read by nothing (read is EINVAL); poll says POLLIN once the process has
exited (a zombie or reaped), woken through the process's `exit_waiters`; waitid's
P_PIDFD and pidfd_send_signal find the process through it. The file keeps the
Process object, so a pid used again later never makes it name another process.

Layer: kernel. Called by kernel/fork.py, kernel/exit.py and the pidfd system calls.
"""

from __future__ import annotations

from ..abi import linux as L
from ..abi.poll import POLLIN, POLLRDNORM
from ..fs.file import AnonInodeFile


class PidFile(AnonInodeFile):
    anon_name = b"[pidfd]"
    can_poll = True

    def __init__(self, kernel, process=None, flags: int = 0):
        super().__init__(L.O_RDWR | (flags & L.O_NONBLOCK))
        self.kernel = kernel
        self.process = process

    def wait_queues(self, events: int):
        return (self.process.exit_waiters,), ()

    def poll(self, events: int) -> int:
        """pidfd_poll: readable once the process has exited (every thread gone)."""
        if self.process.exit_state is not None:
            return events & (POLLIN | POLLRDNORM)
        return 0
