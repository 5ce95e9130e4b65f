"""File-descriptor system calls. Mostly argument checking, since we don't trust user
code, and calls into the fd table (kernel/fdtable.py) and the files (fs/).

Path-based calls are in files.py.
"""

from __future__ import annotations

from errno import EBADF, EINVAL, EPIPE

from ...abi import linux as L
from ...errors import KernelError
from ...fs.pipe import make_pipe
from .. import signals

MAX_RW_COUNT = 0x7FFFF000      # Linux caps one read or write at INT_MAX & PAGE_MASK
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL = 0, 1, 2, 3, 4
F_DUPFD_CLOEXEC = 1030
F_GETPIPE_SZ = 1032
FD_CLOEXEC = 1
_SETFL_MASK = L.O_APPEND | L.O_NONBLOCK | 0o20000 | L.O_DIRECT | 0o1000000


def _readable(t, fd):
    f = t.process.fds.get(fd)
    if not f.readable:
        raise KernelError(EBADF)
    return f


def _writable(t, fd):
    f = t.process.fds.get(fd)
    if not f.writable:
        raise KernelError(EBADF)
    return f


def _copy_out(t, buf, data):
    t.mm.write(buf, data)
    return len(data)


def sys_read(t, fd, buf, count):
    """read(2): the first page of buf is checked before any data is consumed."""
    f = _readable(t, fd)
    count = min(count, MAX_RW_COUNT)
    t.mm.check_writable(buf, min(count, L.PAGE_SIZE - (buf & (L.PAGE_SIZE - 1))))
    return _copy_out(t, buf, f.read(count))


def _write(t, f, data):
    """Write to a file; a broken pipe also raises SIGPIPE, as Linux's pipe_write does."""
    try:
        return f.write(data)
    except KernelError as e:
        if e.errno == EPIPE:
            signals.send(t, L.SIGPIPE)
        raise


def sys_write(t, fd, buf, count):
    """write(2): EPIPE with SIGPIPE when no one reads."""
    f = _writable(t, fd)
    return _write(t, f, t.mm.read(buf, min(count, MAX_RW_COUNT)))


def sys_pread64(t, fd, buf, count, offset):
    """pread64(2): ESPIPE on pipes and terminals, EINVAL for a negative offset."""
    f = _readable(t, fd)
    if offset < 0:
        raise KernelError(EINVAL)
    count = min(count, MAX_RW_COUNT)
    t.mm.check_writable(buf, min(count, L.PAGE_SIZE - (buf & (L.PAGE_SIZE - 1))))
    return _copy_out(t, buf, f.pread(count, offset))


def sys_pwrite64(t, fd, buf, count, offset):
    """pwrite64(2)."""
    f = _writable(t, fd)
    if offset < 0:
        raise KernelError(EINVAL)
    return f.pwrite(t.mm.read(buf, min(count, MAX_RW_COUNT)), offset)


def _gather(t, iov, iovcnt):
    return b"".join(t.mm.read(base, length) for base, length in t.mm.read_iovec(iov, iovcnt))


def _scatter(t, vecs, data):
    pos = 0
    for base, length in vecs:
        if pos >= len(data):
            break
        piece = data[pos:pos + length]
        t.mm.write(base, piece)
        pos += len(piece)
    return pos


def sys_readv(t, fd, iov, iovcnt):
    """readv(2): one read of the total length, scattered over the buffers."""
    f = _readable(t, fd)
    vecs = t.mm.read_iovec(iov, iovcnt)
    for base, length in vecs:
        t.mm.check_writable(base, min(length, L.PAGE_SIZE - (base & (L.PAGE_SIZE - 1))))
    total = min(sum(length for _, length in vecs), MAX_RW_COUNT)
    return _scatter(t, vecs, f.read(total) if total else b"")


def sys_writev(t, fd, iov, iovcnt):
    """writev(2): the buffers gathered and written in one call (atomic on a pipe)."""
    f = _writable(t, fd)
    data = _gather(t, iov, iovcnt)
    return _write(t, f, data[:MAX_RW_COUNT]) if data else 0


def sys_close(t, fd):
    """close(2)."""
    t.process.fds.close(fd)
    return 0


def sys_fstat(t, fd, statbuf):
    """fstat(2): a host stdio fd is described as the host describes it."""
    f = t.process.fds.get(fd)
    t.mm.write(statbuf, L.STAT.pack(*f.stat()))
    return 0


def sys_lseek(t, fd, offset, whence):
    """lseek(2): ESPIPE on pipes and terminals."""
    f = t.process.fds.get(fd)
    if not 0 <= whence <= 4:
        raise KernelError(EINVAL)
    return f.seek(offset, whence)


def sys_ioctl(t, fd, request, arg):
    """ioctl(2): FIOCLEX/FIONCLEX/FIONBIO here, the rest by the file (ENOTTY if unknown)."""
    fds = t.process.fds
    f = fds.get(fd)
    if request == L.FIOCLEX or request == L.FIONCLEX:
        fds.cloexec[fd] = request == L.FIOCLEX
        return 0
    if request == L.FIONBIO:
        on = int.from_bytes(t.mm.read(arg, 4), "little")
        f.flags = (f.flags | L.O_NONBLOCK) if on else (f.flags & ~L.O_NONBLOCK)
        return 0
    return f.ioctl(request, arg, t.mm)


def sys_dup(t, oldfd):
    """dup(2)."""
    fds = t.process.fds
    return fds.install(fds.get(oldfd))


def sys_dup2(t, oldfd, newfd):
    """dup2(2): newfd is closed first; dup2(fd, fd) checks fd and returns it."""
    fds = t.process.fds
    f = fds.get(oldfd)
    if oldfd == newfd:
        return newfd
    fds.install_at(newfd, f, False)
    return newfd


def sys_dup3(t, oldfd, newfd, flags):
    """dup3(2): like dup2 but O_CLOEXEC only, and oldfd == newfd is EINVAL."""
    if flags & ~L.O_CLOEXEC:
        raise KernelError(EINVAL)
    if oldfd == newfd:
        raise KernelError(EINVAL)
    fds = t.process.fds
    fds.install_at(newfd, fds.get(oldfd), bool(flags & L.O_CLOEXEC))
    return newfd


def sys_fcntl(t, fd, cmd, arg):
    """fcntl(2): descriptor flags, status flags, F_DUPFD(_CLOEXEC), F_GETPIPE_SZ."""
    fds = t.process.fds
    f = fds.get(fd)
    if cmd == F_DUPFD or cmd == F_DUPFD_CLOEXEC:
        minimum = arg & 0xFFFFFFFF
        if minimum >= fds.limit:
            raise KernelError(EINVAL)
        return fds.install(f, cmd == F_DUPFD_CLOEXEC, minimum)
    if cmd == F_GETFD:
        return FD_CLOEXEC if fds.cloexec[fd] else 0
    if cmd == F_SETFD:
        fds.cloexec[fd] = bool(arg & FD_CLOEXEC)
        return 0
    if cmd == F_GETFL:
        return f.flags
    if cmd == F_SETFL:
        f.flags = (f.flags & ~_SETFL_MASK) | (arg & _SETFL_MASK)
        return 0
    if cmd == F_GETPIPE_SZ:
        if not hasattr(f, "pipe"):
            raise KernelError(EBADF)
        return 65536
    raise KernelError(EINVAL)


def sys_pipe(t, pipefd):
    """pipe(2)."""
    return sys_pipe2(t, pipefd, 0)


def sys_pipe2(t, pipefd, flags):
    """pipe2(2): O_CLOEXEC, O_NONBLOCK, O_DIRECT accepted."""
    if flags & ~(L.O_CLOEXEC | L.O_NONBLOCK | L.O_DIRECT):
        raise KernelError(EINVAL)
    t.mm.check_writable(pipefd, 8)
    fds = t.process.fds
    reader, writer = make_pipe(flags)
    cloexec = bool(flags & L.O_CLOEXEC)
    rfd = fds.install(reader, cloexec)
    try:
        wfd = fds.install(writer, cloexec)
    except KernelError:
        fds.close(rfd)
        raise
    t.mm.write(pipefd, rfd.to_bytes(4, "little") + wfd.to_bytes(4, "little"))
    return 0


