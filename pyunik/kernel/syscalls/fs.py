"""File-descriptor system calls. Mostly argument checking, since we don't trust user
code, and calls into the fd table (kernel/fdtable.py) and the files (fs/).

Layer: kernel (syscall handlers). Data moves through fs/read_write.py with an IovIter
over the guest's buffers (mm/iov_iter.py); locks are fs/locks.py's. Path-based calls
are in files.py.
"""

from __future__ import annotations

import stat as S
from errno import (EAGAIN, EBADF, EFAULT, EFBIG, EINVAL, EISDIR, EOPNOTSUPP, EPIPE,
                   ESPIPE)

from ...abi import linux as L
from ...abi.eventfd import EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE
from ...abi.fcntl import (F_ADD_SEALS, F_DUPFD, F_DUPFD_CLOEXEC, F_GET_SEALS, F_GETFD, F_GETFL,
                          F_GETLEASE, F_GETLK, F_GETOWN, F_GETOWN_EX, F_GETPIPE_SZ, F_GETSIG,
                          F_NOTIFY, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETFD, F_SETFL,
                          F_SETLEASE, F_SETLK, F_SETLKW, F_SETOWN, F_SETOWN_EX, F_SETSIG,
                          F_SETPIPE_SZ, DN_MULTISHOT, FD_CLOEXEC, FLOCK, LOCK_EX, LOCK_NB,
                          LOCK_SH, LOCK_UN)
from ...abi.memfd import MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_EXEC, MFD_HUGETLB, MFD_NOEXEC_SEAL
from ...abi.fs import RWF_APPEND, RWF_DSYNC, RWF_NOWAIT, RWF_SYNC, SPLICE_F_NONBLOCK
from ...errors import KernelError
from ...abi.capability import CAP_LEASE, CAP_SYS_RESOURCE
from ...abi.siginfo import POLL_MSG
from ...fs import dnotify, locks, read_write, seals
from ...fs.openfile import InodeFile
from ...fs.pipe import make_pipe, set_capacity
from ...fs.vfs import Path, Step
from ...mm.iov_iter import IovIter
from ...wait import WouldBlock
from .. import fasync, jobs, signals

_SETFL_MASK = L.O_APPEND | L.O_NONBLOCK | L.O_ASYNC | L.O_DIRECT | L.O_NOATIME


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


def _positional(t, fd, offset):
    """ksys_pread64's order: EINVAL for a negative offset, EBADF, then ESPIPE for a
    file without positions, before the access mode is looked at."""
    if offset < 0:
        raise KernelError(EINVAL)
    f = t.process.fds.get(fd)
    if not f.positional:
        raise KernelError(ESPIPE)
    return f


def _write(t, f, src, offset=None):
    """Write to a file; a broken pipe also raises SIGPIPE, as Linux's pipe_write does;
    a regular file stops at RLIMIT_FSIZE; O_SYNC and O_DSYNC sync after the write."""
    limit = t.process.rlimits[L.RLIMIT_FSIZE][0]
    if limit != L.RLIM_INFINITY and src.count and f.inode is not None and f.inode.is_regular:
        # generic_write_check_limits: at or past the limit nothing is written (SIGXFSZ,
        # EFBIG); before it, the write is cut short there
        at = (f.inode.size if f.flags & L.O_APPEND else
              getattr(f, "offset", 0) if offset is None else offset)
        if at >= limit:
            signals.send_self(t, L.SIGXFSZ)
            raise KernelError(EFBIG)
        src.count = min(src.count, limit - at)
    try:
        n = read_write.write(f, src, offset)
    except KernelError as e:
        if f.sigpipe:
            _broken_pipe(t, e)
        raise
    if f.flags & L.O_DSYNC and f.inode is not None:
        # generic_write_sync: O_DSYNC (and O_SYNC, which includes it) sync what was
        # written before the call returns: fdatasync, fsync for O_SYNC
        f.inode.real.sync(f.flags & L.O_SYNC != L.O_SYNC)
    return n


def _broken_pipe(t, e: KernelError) -> None:
    if e.errno == EPIPE:
        signals.send_sigpipe(t)


def sys_read(t, fd, buf, count):
    """read(2): the buffer is checked while data is copied (a fault part way returns
    what was copied; at end of file the buffer is never touched)."""
    f = _readable(t, fd)
    return read_write.read(f, IovIter.buffer(t.mm, buf, count))


def sys_write(t, fd, buf, count):
    """write(2): EPIPE with SIGPIPE when no one reads; a fault part way returns what
    was written."""
    f = _writable(t, fd)
    return _write(t, f, IovIter.buffer(t.mm, buf, count))


def sys_pread64(t, fd, buf, count, offset):
    """pread64(2): EINVAL for a negative offset, ESPIPE on pipes and terminals."""
    f = _positional(t, fd, offset)
    if not f.readable:
        raise KernelError(EBADF)
    return read_write.read(f, IovIter.buffer(t.mm, buf, count), offset)


def sys_pwrite64(t, fd, buf, count, offset):
    """pwrite64(2): as pread64, then as write."""
    f = _positional(t, fd, offset)
    if not f.writable:
        raise KernelError(EBADF)
    return _write(t, f, IovIter.buffer(t.mm, buf, count), offset)


def sys_readv(t, fd, iov, iovcnt):
    """readv(2): the buffers filled in order, as one read; a file that reads only
    whole records (inotify) reads each buffer alone, as Linux's do_loop_readv_writev
    does for files without read_iter."""
    return _readv(t, _readable(t, fd), iov, iovcnt, None)


def _readv(t, f, iov, iovcnt, offset):
    return read_write.readv(f, IovIter.iovec(t.mm, iov, iovcnt), offset)


def sys_writev(t, fd, iov, iovcnt):
    """writev(2): the buffers written in order as one write (atomic on a pipe up to
    PIPE_BUF); a bad buffer ends it with what was written before."""
    f = _writable(t, fd)
    src = IovIter.iovec(t.mm, iov, iovcnt)
    return _write(t, f, src) if src.count else 0


def sys_close(t, fd):
    """close(2): also drops the process's POSIX locks on the file and the dnotify
    requests made through this fd table (filp_close), as Linux does."""
    fds = t.process.fds
    f = fds.get(fd)
    if f.dnotify:
        dnotify.flush(f, fds)
    fds.close(fd)
    locks.release(locks.target(f), t.process)
    return 0


def sys_fstat(t, fd, statbuf):
    """fstat(2): a host stdio fd is described as the host describes it."""
    f = t.process.fds.get(fd)
    t.mm.write(statbuf, f.stat_bytes())
    return 0


def sys_lseek(t, fd, offset, whence):
    """lseek(2): ESPIPE on pipes and terminals."""
    f = t.process.fds.get(fd)
    if not 0 <= whence <= 4:
        raise KernelError(EINVAL)
    return f.seek(offset, whence)


def sys_ioctl(t, fd, request, arg):
    """ioctl(2): FIOCLEX/FIONCLEX/FIONBIO here, the console's foreground group in
    kernel/jobs.py, the rest by the file (ENOTTY if unknown)."""
    fds = t.process.fds
    f = fds.get(fd)
    if f.flags & L.O_PATH:
        raise KernelError(EBADF)
    if request == L.FIOCLEX or request == L.FIONCLEX:
        fds.cloexec[fd] = request == L.FIOCLEX
        return 0
    if request == L.FIONBIO:
        on = int.from_bytes(t.mm.read(arg, 4), "little")
        f.flags = (f.flags | L.O_NONBLOCK) if on else (f.flags & ~L.O_NONBLOCK)
        return 0
    if request in jobs.CONSOLE_IOCTLS and jobs.is_console(f):
        return jobs.console_ioctl(t, request, arg)
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
    """fcntl(2): descriptor and status flags, F_DUPFD(_CLOEXEC), pipe size, seals,
    record and OFD locks, the owner and signal O_ASYNC's readiness signals go to
    (kernel/fasync.py; SIGURG for a TCP socket's urgent data too), leases
    (kernel/leases.py) and dnotify (fs/dnotify.py)."""
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
        flags = (f.flags & ~_SETFL_MASK) | (arg & _SETFL_MASK)
        fasync.set_flags(t.process.kernel, f, fd, flags)
        f.flags = flags
        return 0
    if cmd in (F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW):
        return _record_lock(t, fd, f, cmd, arg)
    if cmd == F_SETOWN:
        return fasync.set_owner(t, f, arg)
    if cmd == F_GETOWN:
        return fasync.get_owner(f)
    if cmd == F_SETOWN_EX:
        return fasync.set_owner_ex(t, f, arg)
    if cmd == F_GETOWN_EX:
        return fasync.get_owner_ex(t, f, arg)
    if cmd == F_SETSIG:
        return fasync.set_signal(f, arg)
    if cmd == F_GETSIG:
        return f.owner_signal
    if cmd == F_GETPIPE_SZ or cmd == F_SETPIPE_SZ:
        if not hasattr(f, "pipe"):
            raise KernelError(EBADF)
        if cmd == F_GETPIPE_SZ:
            return f.pipe.capacity
        return set_capacity(f.pipe, arg & 0xFFFFFFFF,
                            t.process.cred.capable(CAP_SYS_RESOURCE))
    if cmd == F_ADD_SEALS or cmd == F_GET_SEALS:
        inode = f.inode
        if inode is None:
            raise KernelError(EINVAL)
        if cmd == F_GET_SEALS:
            return seals.get(inode)
        return seals.add(inode, arg & 0xFFFFFFFF, f.writable)
    if cmd == F_GETLEASE:
        return t.process.kernel.leases.get(f)
    if cmd == F_SETLEASE:
        return t.process.kernel.leases.set(t, fd, f, _int(arg),
                                           t.process.cred.capable(CAP_LEASE))
    if cmd == F_NOTIFY:
        return _notify(t, fd, f, arg)
    raise KernelError(EINVAL)


def _int(arg: int) -> int:
    """fcntl's unsigned long argument as the int some commands take."""
    arg &= 0xFFFFFFFF
    return arg - ((arg & 0x80000000) << 1)


def _notify(t, fd, f, arg):
    """F_NOTIFY (fcntl_dirnotify): the request is fs/dnotify.py's; a directory's
    requests make the caller's process its owner, whose signal (SIGIO, or F_SETSIG's
    with si_code POLL_MSG) each event sends."""
    kernel = t.process.kernel

    def send(file, fd_):
        fasync.send_sigio(kernel, file, fd_, POLL_MSG)

    dnotify.request(f, fd, arg, t.process.fds, send)
    if arg & 0xFFFFFFFF & ~DN_MULTISHOT:
        f.owner, f.owner_thread = t.process.pid, False
    return 0


def sys_pipe(t, pipefd):
    """pipe(2)."""
    return sys_pipe2(t, pipefd, 0)


def sys_pipe2(t, pipefd, flags):
    """pipe2(2): O_CLOEXEC, O_NONBLOCK, O_DIRECT accepted."""
    if flags & ~(L.O_CLOEXEC | L.O_NONBLOCK | L.O_DIRECT):
        raise KernelError(EINVAL)
    t.mm.check_writable(pipefd, 8)
    fds = t.process.fds
    reader, writer = make_pipe(t.process.kernel.pipefs, flags)
    cloexec = bool(flags & L.O_CLOEXEC)
    rfd = fds.install(reader, cloexec)
    try:
        wfd = fds.install(writer, cloexec)
    except KernelError:
        fds.close(rfd)
        raise
    t.mm.write(pipefd, rfd.to_bytes(4, "little") + wfd.to_bytes(4, "little"))
    return 0




def sys_fadvise64(t, fd, offset, length, advice):
    """fadvise64(2): checked as Linux does, then a hint with nothing to act on (file
    data lives in memory or in the host's page cache already)."""
    f = t.process.fds.get(fd)
    if S.S_ISFIFO(f.stat()[3]):        # a pipe, a fifo, or a host pipe as stdio
        raise KernelError(ESPIPE)
    if not 0 <= advice <= 5 or length < 0:
        raise KernelError(EINVAL)
    return 0


# ---- vectored I/O at an offset ---------------------------------------------------------

RWF_VALID = L.RWF_SUPPORTED        # HIPRI, DSYNC, SYNC, NOWAIT, APPEND


def sys_preadv(t, fd, iov, iovcnt, pos_l, pos_h):
    """preadv(2): one pread of the total length, scattered (x86-64: the offset is pos_l)."""
    return _preadv(t, fd, iov, iovcnt, pos_l, 0)


def sys_pwritev(t, fd, iov, iovcnt, pos_l, pos_h):
    """pwritev(2)."""
    return _pwritev(t, fd, iov, iovcnt, pos_l, 0)


def sys_preadv2(t, fd, iov, iovcnt, pos_l, pos_h, flags):
    """preadv2(2): offset -1 means the file offset; RWF_NOWAIT fails with EAGAIN
    where the read would wait (the rest only matter to writes or direct I/O)."""
    if flags & ~RWF_VALID:
        raise KernelError(EOPNOTSUPP)
    with _nowait(flags):
        if pos_l == -1:
            return sys_readv(t, fd, iov, iovcnt)
        return _preadv(t, fd, iov, iovcnt, pos_l, flags)


def sys_pwritev2(t, fd, iov, iovcnt, pos_l, pos_h, flags):
    """pwritev2(2): offset -1 means the file offset; RWF_APPEND writes at the end (the
    file offset, when used, follows), RWF_DSYNC/RWF_SYNC sync the file after the write
    (fdatasync/fsync), RWF_NOWAIT fails with EAGAIN where the write would wait."""
    if flags & ~RWF_VALID:
        raise KernelError(EOPNOTSUPP)
    with _nowait(flags):
        if flags & RWF_APPEND:
            n = _append_v(t, fd, iov, iovcnt, pos_l)
        elif pos_l == -1:
            n = sys_writev(t, fd, iov, iovcnt)
        else:
            n = _pwritev(t, fd, iov, iovcnt, pos_l, flags)
    if flags & (RWF_DSYNC | RWF_SYNC):
        inode = t.process.fds.get(fd).inode
        if inode is not None:
            inode.real.sync(not flags & RWF_SYNC)
    return n


class _nowait:
    """RWF_NOWAIT: a call that would park its thread (WouldBlock, raised before any
    side effect) is EAGAIN instead."""

    def __init__(self, flags):
        self.on = bool(flags & RWF_NOWAIT)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if self.on and kind is WouldBlock:
            raise KernelError(EAGAIN) from None
        return False


def _append_v(t, fd, iov, iovcnt, pos):
    """RWF_APPEND (IOCB_APPEND): at the end of the file whatever pos says; with pos -1
    the file offset moves past what was written, as for O_APPEND. A file without
    positions (a pipe, a socket) just writes, but takes no explicit offset."""
    if pos != -1:
        f = _positional(t, fd, pos)
        if not f.writable:
            raise KernelError(EBADF)
    else:
        f = _writable(t, fd)
    inode = f.inode
    if not f.positional or inode is None:
        return sys_writev(t, fd, iov, iovcnt)
    src = IovIter.iovec(t.mm, iov, iovcnt)
    if not src.count:
        return 0
    end = inode.size
    n = _write(t, f, src, end)
    if pos == -1:
        f.offset = end + n
    return n


def _preadv(t, fd, iov, iovcnt, offset, flags):
    f = _positional(t, fd, offset)
    if not f.readable:
        raise KernelError(EBADF)
    return _readv(t, f, iov, iovcnt, offset)


def _pwritev(t, fd, iov, iovcnt, offset, flags):
    f = _positional(t, fd, offset)
    if not f.writable:
        raise KernelError(EBADF)
    src = IovIter.iovec(t.mm, iov, iovcnt)
    return _write(t, f, src, offset) if src.count else 0


# ---- copying between files -----------------------------------------------------------------

def _regular(f):
    inode = f.inode
    if inode is None:
        return None
    if inode.is_dir:
        raise KernelError(EISDIR)
    return inode if inode.is_regular else None


def _copy(t, fin, pin, fout, pout, length):
    try:
        return read_write.copy_range(fin, pin, fout, pout, length)
    except KernelError as e:
        _broken_pipe(t, e)
        raise


def _read_offset(t, ptr):
    return int.from_bytes(t.mm.read(ptr, 8), "little", signed=True)


def sys_sendfile(t, out_fd, in_fd, offset_ptr, count):
    """sendfile(2): from a regular file to anything writable; with offset_ptr the
    new offset is stored there after the transfer (EFAULT then, the data moved)."""
    fin = _readable(t, in_fd)
    fout = _writable(t, out_fd)
    if _regular(fin) is None:
        raise KernelError(EINVAL)
    if fout.flags & L.O_APPEND:
        raise KernelError(EINVAL)
    count = min(count, L.MAX_RW_COUNT)
    start = _read_offset(t, offset_ptr) if offset_ptr else fin.offset
    if start < 0:
        raise KernelError(EINVAL)
    n = _copy(t, fin, start, fout, None, count)
    if offset_ptr:
        t.mm.write_u64(offset_ptr, start + n)
    else:
        fin.offset = start + n
    return n


def sys_copy_file_range(t, fd_in, off_in, fd_out, off_out, length, flags):
    """copy_file_range(2): between regular files; overlapping ranges of one file EINVAL.
    The offsets are stored back after the copy, each tried (EFAULT if one fails)."""
    if flags:
        raise KernelError(EINVAL)
    fin = _readable(t, fd_in)
    fout = _writable(t, fd_out)
    if fout.flags & L.O_APPEND:
        raise KernelError(EBADF)
    src, dst = _regular(fin), _regular(fout)
    if src is None or dst is None:
        raise KernelError(EINVAL)
    pin = _read_offset(t, off_in) if off_in else fin.offset
    pout = _read_offset(t, off_out) if off_out else fout.offset
    if pin < 0 or pout < 0:
        raise KernelError(EINVAL)
    length = min(length, L.MAX_RW_COUNT)
    if src is dst and pin < pout + length and pout < pin + length:
        raise KernelError(EINVAL)
    n = _copy(t, fin, pin, fout, pout, length)
    if not n:
        return 0
    failed = False
    for ptr, f, pos in ((off_in, fin, pin + n), (off_out, fout, pout + n)):
        if not ptr:
            f.offset = pos
            continue
        try:
            t.mm.write_u64(ptr, pos)
        except KernelError:
            failed = True
    if failed:
        raise KernelError(EFAULT)
    return n


def sys_splice(t, fd_in, off_in, fd_out, off_out, length, flags):
    """splice(2): one end must be a pipe; done as a read and a write of at most a
    pipe's worth (fs/read_write.splice; what the output pipe has room for); the
    offsets are read before and stored after. SPLICE_F_NONBLOCK makes a pipe wait
    EAGAIN."""
    try:
        return _splice(t, fd_in, off_in, fd_out, off_out, length)
    except WouldBlock:
        if flags & SPLICE_F_NONBLOCK:
            raise KernelError(EAGAIN) from None
        raise


def _splice(t, fd_in, off_in, fd_out, off_out, length):
    fin = _readable(t, fd_in)
    fout = _writable(t, fd_out)
    in_pipe, out_pipe = hasattr(fin, "pipe"), hasattr(fout, "pipe")
    if not in_pipe and not out_pipe:
        raise KernelError(EINVAL)
    if (in_pipe and off_in) or (out_pipe and off_out):
        raise KernelError(ESPIPE)
    length = min(length, fin.pipe.capacity if in_pipe else fout.pipe.capacity)
    if out_pipe and length:
        length = min(length, fout._room(1))     # wait for room before taking data
    pin = _read_offset(t, off_in) if off_in else None
    pout = _read_offset(t, off_out) if off_out else None
    try:
        taken, n = read_write.splice(fin, pin, fout, pout, length)
    except KernelError as e:
        _broken_pipe(t, e)
        raise
    if off_in:
        t.mm.write_u64(off_in, pin + taken)
    if off_out:
        t.mm.write_u64(off_out, pout + n)
    return n


def sys_tee(t, fd_in, fd_out, length, flags):
    """tee(2): copy pipe data to another pipe without consuming it."""
    fin = _readable(t, fd_in)
    fout = _writable(t, fd_out)
    if not hasattr(fin, "pipe") or not hasattr(fout, "pipe") or fin.pipe is fout.pipe:
        raise KernelError(EINVAL)
    data = bytes(fin.pipe.data[:length])
    if not data:
        if fin.pipe.writers == 0:
            return 0
        if flags & SPLICE_F_NONBLOCK:
            raise KernelError(EAGAIN)
        raise WouldBlock((fin.pipe.waiters,), what="a pipe")
    return fout.write(data)


# ---- memfd -----------------------------------------------------------------------------------



def sys_memfd_create(t, name, flags):
    """memfd_create(2): an unlinked tmpfs file named /memfd:NAME, sealable with
    MFD_ALLOW_SEALING (else sealed with F_SEAL_SEAL); MFD_HUGETLB is EINVAL."""
    if flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC | MFD_HUGETLB):
        raise KernelError(EINVAL)
    if flags & MFD_HUGETLB or (flags & MFD_NOEXEC_SEAL and flags & MFD_EXEC):
        raise KernelError(EINVAL)
    if len(name) > 249:
        raise KernelError(EINVAL)
    p = t.process
    mount = p.kernel.memfd_mount()
    mode = 0o666 if flags & MFD_NOEXEC_SEAL else 0o777
    inode = mount.root.create(b"memfd", S.S_IFREG | mode, p.cred.fsuid, p.cred.fsgid)
    mount.root.unlink(b"memfd")
    seals.make_sealable(inode, bool(flags & MFD_ALLOW_SEALING), bool(flags & MFD_NOEXEC_SEAL))
    path = Path((Step(b"", mount.root, mount), Step(b"memfd:" + name, inode, mount)))
    # (no write access is held: Linux runs a memfd still open for writing)
    f = InodeFile(inode, L.O_RDWR | L.O_LARGEFILE, path)
    return p.fds.install(f, bool(flags & MFD_CLOEXEC))


# ---- locks --------------------------------------------------------------------------------------

def _record_lock(t, fd, f, cmd, arg):
    """fcntl's record and OFD lock commands: struct flock decoded and encoded here,
    the locking is fs/locks.py's. The struct is read first (do_fcntl copies it
    before anything else: EFAULT wins). Any open file may be locked: a pipe's
    locks are on its buffer, shared by both ends (fs/locks.py `target`)."""
    kind, whence, start, length, pid = t.mm.read_struct(FLOCK, arg)
    ofd = cmd in (F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW)
    if ofd and pid != 0:
        raise KernelError(EINVAL)
    if kind not in (locks.READ, locks.WRITE, locks.UNLOCK):
        raise KernelError(EINVAL)
    first, end = locks.posix_range(f, whence, start, length)
    owner = f if ofd else t.process
    if cmd in (F_GETLK, F_OFD_GETLK):
        c = locks.test_lock(locks.target(f), owner, kind, first, end)
        if c is None:       # fcntl_getlk: only l_type changes
            t.mm.write_struct(FLOCK, arg, locks.UNLOCK, whence, start, length, pid)
        else:
            t.mm.write_struct(FLOCK, arg, c.kind, 0, c.start,
                              0 if c.end is None else c.end - c.start, c.pid)
        return 0
    locks.posix_lock(f, owner, kind, first, end, -1 if ofd else t.process.pid,
                     wait=cmd in (F_SETLKW, F_OFD_SETLKW))
    return 0


def sys_flock(t, fd, operation):
    """flock(2): whole-file locks owned by the open file description."""
    f = t.process.fds.get(fd)
    op = operation & ~LOCK_NB
    if op not in (LOCK_SH, LOCK_EX, LOCK_UN):
        raise KernelError(EINVAL)
    kind = {LOCK_SH: locks.READ, LOCK_EX: locks.WRITE, LOCK_UN: locks.UNLOCK}[op]
    locks.flock(f, kind, not operation & LOCK_NB, t.process.pid)
    return 0


# ---- eventfd ------------------------------------------------------------------------------

def sys_eventfd(t, initval):
    """eventfd(2)."""
    return sys_eventfd2(t, initval, 0)


def sys_eventfd2(t, initval, flags):
    """eventfd2(2): EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC. (fs/eventfd.py is
    imported here: most runs make none.)"""
    from ...fs.eventfd import EventFile
    if flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC):
        raise KernelError(EINVAL)
    f = EventFile(initval & 0xFFFFFFFF, flags)
    return t.process.fds.install(f, bool(flags & EFD_CLOEXEC))
