"""eventfd: a 64-bit counter behind an fd (fs/eventfd.c).

write(2) adds an 8-byte value to the counter, read(2) takes it (or 1 with
EFD_SEMAPHORE); reading at zero, or adding past 0xfffffffffffffffe, must wait:
EAGAIN with O_NONBLOCK, else WouldBlock on the eventfd's queue, which every change
of the counter wakes.

Layer: fs. Called by the eventfd system calls and, as a File, by read/write/poll.
"""

from __future__ import annotations

from errno import EAGAIN, EFAULT, EINVAL

from ..abi import linux as L
from ..abi.eventfd import EFD_MAX_COUNT as MAX_COUNT, EFD_SEMAPHORE, EFD_VALUE as _U64
from ..errors import KernelError
from ..abi.poll import POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from ..wait import WaitQueue, WouldBlock
from .file import AnonInodeFile


class EventFile(AnonInodeFile):
    anon_name = b"[eventfd]"
    can_poll = True

    def __init__(self, initval: int, flags: int):
        super().__init__(L.O_RDWR | (flags & L.O_NONBLOCK))
        self.count = initval
        self.semaphore = bool(flags & EFD_SEMAPHORE)
        self.waiters = WaitQueue("an eventfd")

    def _wait(self):
        if self.flags & L.O_NONBLOCK:
            raise KernelError(EAGAIN)
        raise WouldBlock((self.waiters,), what="an eventfd")

    def wait_queues(self, events: int):
        return (self.waiters,), ()

    def read(self, size: int) -> bytes:
        if size < 8:
            raise KernelError(EINVAL)
        if self.count == 0:
            self._wait()
        value = 1 if self.semaphore else self.count
        self.count -= value
        self.waiters.wake_all(POLLOUT)
        return _U64.pack(value)

    def write_iter(self, src, offset: int | None = None) -> int:
        """eventfd_write: EINVAL below 8 bytes, then the 8 bytes copied (EFAULT)."""
        if src.count < 8:
            raise KernelError(EINVAL)
        data = src.copy_in(8)
        if src.faulted:
            raise KernelError(EFAULT)
        return self.write(data)

    def write(self, data: bytes) -> int:
        if len(data) < 8:
            raise KernelError(EINVAL)
        (value,) = _U64.unpack_from(data)
        if value == 0xFFFFFFFFFFFFFFFF:
            raise KernelError(EINVAL)
        if self.count + value > MAX_COUNT:
            self._wait()
        self.count += value
        self.waiters.wake_all(POLLIN)
        return 8

    def poll(self, events: int) -> int:
        ready = 0
        if self.count > 0:
            ready |= POLLIN | POLLRDNORM
        if self.count == MAX_COUNT + 1:
            ready |= POLLERR
        if self.count < MAX_COUNT:
            ready |= POLLOUT | POLLWRNORM
        return ready & (events | POLLERR)
