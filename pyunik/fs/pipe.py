"""Pipes within one process: a bounded byte buffer with a read end and a write end.

Linux semantics kept: a read of an empty pipe whose writers are all closed returns 0
(end of file); a write with no readers fails with EPIPE (SIGPIPE comes with the
signals work); capacity is 64 KiB (F_GETPIPE_SZ's default), a write of at most
PIPE_BUF bytes is atomic. An operation that would have to wait (empty pipe with a
writer, full pipe with a reader, a blocking open of a FIFO without the other end)
fails with EAGAIN on an O_NONBLOCK end and otherwise raises WouldBlock on the pipe's
wait queue, which every change of the pipe (data in or out, an end opened or closed)
wakes. A blocking write larger than the room left writes what fits and returns that
short count (Linux would wait to write the rest).

An anonymous pipe's inode lives on the kernel's `PipeFS` (its numbers); a named pipe's
buffer is kept by the filesystem of its inode (`fs.fifos`, as Linux's i_pipe), and an
end of it stats as that inode.

A transfer that faults part way keeps pipe_read's and pipe_write's rules, with the
pipe's page buffers taken as whole pages of the stream: a write keeps the whole pages
it copied before the bad one (EFAULT if none), a read that cannot copy all it took
keeps only whole pages copied (EFAULT if none) and leaves the rest in the pipe.

Layer: fs. Called by the pipe and open system calls and fs/openfile.py, and
through the File interface by the read/write system calls.
"""

from __future__ import annotations

import errno
import stat as statmod

from ..abi import linux as L
from ..abi.fs import PIPE_DEF_SIZE as PIPE_CAPACITY, PIPE_MAX_SIZE, PIPEFS_DEV as _PIPE_DEV
from ..abi.limits import PIPE_BUF
from ..abi.poll import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from ..errors import KernelError
from ..wait import WaitQueue, WouldBlock
from . import locks
from .file import File
from .inode import FileSystem

# What a pipe's wakes are about (the keys pipe_read and pipe_write wake with): an
# edge-triggered epoll on the read end hears of new data, not of a reader's progress.
_DATA = POLLIN | POLLRDNORM
_ROOM = POLLOUT | POLLWRNORM


class PipeFS(FileSystem):
    """pipefs (Linux's pipe_mnt): the inode numbers of one kernel's anonymous pipes.
    Never mounted; its device number is Linux's usual one for pipefs."""

    name = "pipefs"
    dev = _PIPE_DEV

    def __init__(self):
        super().__init__()
        self._next_ino = 1000


class PipeBuffer:
    """A pipe: the bytes in it and how many ends are open. inode is a named pipe's
    inode (None for an anonymous pipe, whose ino is on pipefs)."""

    def __init__(self, ino: int, ctime: int, readers: int = 1, writers: int = 1, inode=None):
        self.data = bytearray()
        self.readers = readers
        self.writers = writers
        self.capacity = PIPE_CAPACITY
        self.ino = ino
        self.inode = inode
        self.ctime = ctime
        self.waiters = WaitQueue("a pipe")   # readers, writers, pollers, FIFO opens


class PipeEnd(File):
    can_poll = True
    fasync_events = POLLIN | POLLOUT    # what O_ASYNC signals (kernel/fasync.py)

    def __init__(self, pipe: PipeBuffer, flags: int):
        super().__init__(flags)
        self.pipe = pipe

    def read(self, size: int) -> bytes:
        if not self.readable:
            raise KernelError(errno.EBADF)
        p = self.pipe
        if not p.data:
            if p.writers == 0 or size == 0:
                return b""
            self._wait()
        out = bytes(p.data[:size])
        del p.data[:size]
        p.waiters.wake_all(_ROOM)
        return out

    def _wait(self):
        if self.flags & L.O_NONBLOCK:
            raise KernelError(errno.EAGAIN)
        raise WouldBlock((self.pipe.waiters,), what="a pipe")

    def read_iter(self, dst, offset: int | None = None) -> int:
        if not dst.count:
            return 0                 # pipe_read: a null read returns at once
        p = self.pipe
        if not p.data:
            return len(self.read(dst.count))        # end of file, or EAGAIN
        data = bytes(p.data[:dst.count])
        n = dst.copy_out(data)
        if n < len(data):
            n = n // L.PAGE_SIZE * L.PAGE_SIZE
            if not n:
                raise KernelError(errno.EFAULT)
        del p.data[:n]
        p.waiters.wake_all(_ROOM)
        return n

    def write_iter(self, src, offset: int | None = None) -> int:
        """pipe_write: a null write succeeds; then EPIPE, then room (EAGAIN, and a
        write of at most PIPE_BUF bytes goes in whole or not at all), then the copy."""
        if not src.count:
            return 0
        self._room(src.count)
        return self.stream_write(src, None, L.PAGE_SIZE)

    def _room(self, size: int) -> int:
        """Room for a write of size bytes: EBADF, EPIPE without readers, EAGAIN when
        full (or too full for an atomic write of at most PIPE_BUF bytes)."""
        if not self.writable:
            raise KernelError(errno.EBADF)
        p = self.pipe
        if p.readers == 0:
            raise KernelError(errno.EPIPE)
        room = p.capacity - len(p.data)
        if room <= 0 or (size <= PIPE_BUF and room < size):
            self._wait()
        return room

    def write(self, data: bytes) -> int:
        n = min(self._room(len(data)), len(data))
        self.pipe.data += data[:n]
        self.pipe.waiters.wake_all(_DATA)
        return n

    def stat(self) -> tuple:
        if self.pipe.inode is not None:
            return self.pipe.inode.stat()      # a named pipe stats as its inode
        t = self.pipe.ctime
        s, ns = t // 10**9, t % 10**9
        return (PipeFS.dev, self.pipe.ino, 1, statmod.S_IFIFO | 0o600, 0, 0, 0, 0, 0, 4096, 0,
                s, ns, s, ns, s, ns, 0, 0, 0)

    def poll(self, events: int) -> int:
        p, ready = self.pipe, 0
        if self.readable:
            if p.data:
                ready |= POLLIN | POLLRDNORM
            if p.writers == 0:
                ready |= POLLHUP
        if self.writable:
            if p.readers == 0:
                ready |= POLLERR
            elif p.capacity - len(p.data) >= PIPE_BUF:
                ready |= POLLOUT | POLLWRNORM
        return ready & (events | POLLHUP | POLLERR)

    def ioctl(self, request: int, arg: int, mm) -> int:
        if request == L.FIONREAD:
            mm.write_i32(arg, len(self.pipe.data))
            return 0
        raise KernelError(errno.ENOTTY)

    def close(self) -> None:
        locks.release(self.pipe, self)      # OFD and flock locks die with the end
        locks.release(self.pipe, self, locks.FLOCK)
        if self.readable:
            self.pipe.readers -= 1
        if self.writable:
            self.pipe.writers -= 1
        self.pipe.waiters.wake_all()

    def wait_queues(self, events: int):
        return (self.pipe.waiters,), ()


def make_pipe(pipefs: PipeFS, flags: int) -> tuple[PipeEnd, PipeEnd]:
    p = PipeBuffer(pipefs.new_ino(), pipefs.clock())
    extra = flags & L.O_NONBLOCK
    return PipeEnd(p, L.O_RDONLY | extra), PipeEnd(p, L.O_WRONLY | extra)


def open_fifo(inode, flags: int) -> PipeEnd:
    """open(2) of a named pipe: both ends share one PipeBuffer kept on the inode.

    O_RDWR never waits; O_RDONLY|O_NONBLOCK succeeds at once; O_WRONLY|O_NONBLOCK
    without a reader is ENXIO; a blocking open without the other end waits for it
    (WouldBlock on the pipe's queue, woken when an end opens).
    """
    fifos = inode.fs.fifos       # by ino: inode objects may be remade (overlay, hostfs)
    pipe = fifos.get(inode.ino)
    if pipe is None or (pipe.readers == 0 and pipe.writers == 0):
        old = pipe
        pipe = fifos[inode.ino] = PipeBuffer(inode.ino, inode.fs.clock(), readers=0, writers=0,
                                                inode=inode)
        if old is not None:
            pipe.waiters = old.waiters     # opens parked for the other end
    acc = flags & L.O_ACCMODE
    if acc == L.O_WRONLY and pipe.readers == 0:
        if flags & L.O_NONBLOCK:
            raise KernelError(errno.ENXIO)
        raise WouldBlock((pipe.waiters,), what="a FIFO's reader")
    if acc == L.O_RDONLY and pipe.writers == 0 and not flags & L.O_NONBLOCK:
        raise WouldBlock((pipe.waiters,), what="a FIFO's writer")
    end = PipeEnd(pipe, flags)
    if end.readable:
        pipe.readers += 1
    if end.writable:
        pipe.writers += 1
    pipe.waiters.wake_all()
    return end




def set_capacity(pipe: PipeBuffer, size: int, privileged: bool) -> int:
    """F_SETPIPE_SZ: at least one page, rounded up to a power of two pages; EPERM
    above pipe-max-size without privilege, EBUSY if the data would not fit."""
    if size > 1 << 31:
        raise KernelError(errno.EINVAL)
    pages = max(1, (size + 4095) // 4096)
    capacity = 4096 * (1 << (pages - 1).bit_length())
    if capacity > PIPE_MAX_SIZE and not privileged:
        raise KernelError(errno.EPERM)
    if len(pipe.data) > capacity:
        raise KernelError(errno.EBUSY)
    pipe.capacity = capacity
    return capacity
