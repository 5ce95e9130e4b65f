"""Open file descriptions: the object an fd points to, shared by dup().

`File` gives every operation Linux's answer for a file that does not support it
(EINVAL for read/write on a file not opened for it is EBADF, seeking a pipe is ESPIPE,
an ioctl nobody knows is ENOTTY), so each kind of file overrides only what it does.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import stat as statmod

from ..abi import linux as L
from ..errors import KernelError


POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
POLLRDNORM, POLLWRNORM = 0x40, 0x100


class File:
    """One open file description: flags and offset live here, not in the fd."""

    # What /proc/<pid>/fd and fdinfo show; each kind of file that has one sets it.
    inode = None        # the Inode it is open on; None for pipes, host streams, ...
    path = None         # the vfs.Path it was opened by, when one is known
    offset = 0          # the file position; 0 for files that have none

    def __init__(self, flags: int):
        self.flags = flags          # O_ACCMODE | O_APPEND | O_NONBLOCK ... (not O_CLOEXEC)
        self.refs = 0               # fd table slots pointing here; closed at zero

    fsnotify = None     # fs/inotify.py's record of a file opened by path (its current name)

    def close_ref(self) -> None:
        """One fd pointing here went away; the last one closes the file."""
        self.refs -= 1
        if self.refs == 0:
            self.close()

    @property
    def readable(self) -> bool:
        """Opened for reading (an O_PATH file is opened for neither)."""
        return (self.flags & L.O_ACCMODE) in (L.O_RDONLY, L.O_RDWR) and \
            not self.flags & L.O_PATH

    @property
    def writable(self) -> bool:
        return (self.flags & L.O_ACCMODE) in (L.O_WRONLY, L.O_RDWR) and \
            not self.flags & L.O_PATH

    def read(self, size: int) -> bytes:
        raise KernelError(errno.EINVAL)

    def write(self, data: bytes) -> int:
        raise KernelError(errno.EINVAL)

    def pread(self, size: int, offset: int) -> bytes:
        raise KernelError(errno.ESPIPE)

    def pwrite(self, data: bytes, offset: int) -> int:
        raise KernelError(errno.ESPIPE)

    def seek(self, offset: int, whence: int) -> int:
        raise KernelError(errno.ESPIPE)

    def stat(self) -> tuple:
        """The 20 fields of struct stat (abi.linux.STAT)."""
        raise KernelError(errno.EINVAL)

    def ioctl(self, request: int, arg: int, mm) -> int:
        raise KernelError(errno.ENOTTY)

    def poll(self, events: int) -> int:
        """Which of events are ready now (poll(2) revents). Files that never wait,
        like regular files, are always ready for reading and writing."""
        return events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

    def proc_link(self) -> bytes | None:
        """What readlink of /proc/<pid>/fd/N says for a file that names itself
        (anon_inode:[eventfd], socket:[ino]); None: its path or kind says it."""
        return None

    def close(self) -> None:
        pass


def stat_fields(st: os.stat_result) -> tuple:
    """A host stat result as the fields of Linux's struct stat."""
    return (st.st_dev, st.st_ino, st.st_nlink, st.st_mode, st.st_uid, st.st_gid, 0,
            st.st_rdev, st.st_size, st.st_blksize, st.st_blocks,
            int(st.st_atime_ns // 10**9), st.st_atime_ns % 10**9,
            int(st.st_mtime_ns // 10**9), st.st_mtime_ns % 10**9,
            int(st.st_ctime_ns // 10**9), st.st_ctime_ns % 10**9, 0, 0, 0)


def host_errno(e: OSError) -> KernelError:
    """A host OSError as the same errno for the guest (x86-64 Linux values match)."""
    return KernelError(e.errno or errno.EIO)


class HostStream(File):
    """A host file descriptor the user passed to the guest (its stdin, stdout, stderr).

    Reads and writes go straight to the host fd; fstat and terminal ioctls mirror the
    host fd as it is, so a guest sees a terminal exactly when pyunik's own stdio is one.
    The host fd is not closed when the guest closes it.
    """

    # ioctls passed through to a host terminal, with the size of their argument and
    # whether the kernel writes it (True) or reads it (False).
    TERMINAL_IOCTLS = {
        L.TCGETS: (L.TERMIOS_SIZE, True), L.TCSETS: (L.TERMIOS_SIZE, False),
        L.TCSETSW: (L.TERMIOS_SIZE, False), L.TCSETSF: (L.TERMIOS_SIZE, False),
        L.TIOCGWINSZ: (L.WINSIZE.size, True), L.TIOCSWINSZ: (L.WINSIZE.size, False),
        L.TIOCGPGRP: (4, True),
    }

    def __init__(self, host_fd: int, flags: int):
        super().__init__(flags)
        self.host_fd = host_fd
        try:
            self.seekable = statmod.S_ISREG(os.fstat(host_fd).st_mode)
        except OSError:
            self.seekable = False

    def read(self, size: int) -> bytes:
        try:
            return os.read(self.host_fd, size)
        except OSError as e:
            raise host_errno(e) from None

    def write(self, data: bytes) -> int:
        try:
            return os.write(self.host_fd, data)
        except BrokenPipeError:
            raise KernelError(errno.EPIPE) from None
        except OSError as e:
            raise host_errno(e) from None

    def pread(self, size: int, offset: int) -> bytes:
        if not self.seekable:
            raise KernelError(errno.ESPIPE)
        try:
            return os.pread(self.host_fd, size, offset)
        except OSError as e:
            raise host_errno(e) from None

    def pwrite(self, data: bytes, offset: int) -> int:
        if not self.seekable:
            raise KernelError(errno.ESPIPE)
        try:
            return os.pwrite(self.host_fd, data, offset)
        except OSError as e:
            raise host_errno(e) from None

    def seek(self, offset: int, whence: int) -> int:
        try:
            return os.lseek(self.host_fd, offset, whence)
        except OSError as e:
            raise host_errno(e) from None

    def poll(self, events: int) -> int:
        p = select.poll()
        p.register(self.host_fd, events & (POLLIN | POLLPRI | POLLOUT))
        ready = p.poll(0)
        return ready[0][1] if ready else 0

    def stat(self) -> tuple:
        try:
            return stat_fields(os.fstat(self.host_fd))
        except OSError as e:
            raise host_errno(e) from None

    def ioctl(self, request: int, arg: int, mm) -> int:
        if request == L.FIONREAD:
            buf = fcntl.ioctl(self.host_fd, request, b"\0" * 4)
            mm.write(arg, buf)
            return 0
        if request not in self.TERMINAL_IOCTLS or not os.isatty(self.host_fd):
            raise KernelError(errno.ENOTTY)
        size, out = self.TERMINAL_IOCTLS[request]
        if out:
            mm.check_writable(arg, size)
            buf = b"\0" * size
        else:
            buf = mm.read(arg, size)
        try:
            result = fcntl.ioctl(self.host_fd, request, buf)
        except OSError as e:
            raise host_errno(e) from None
        if out:
            mm.write(arg, result)
        return 0
