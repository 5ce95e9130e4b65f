"""Open file descriptions: the object an fd points to, shared by dup().

`File` gives every operation Linux's answer for a file that does not support it
(EINVAL for read/write on a file not opened for it is EBADF, seeking a pipe is ESPIPE,
an ioctl nobody knows is ENOTTY), so each kind of file overrides only what it does.

Layer: fs. Called by the fd table's users (the syscall handlers); data moves between a
file and guest memory through an IovIter (mm/iov_iter.py) handed to `read_iter` and
`write_iter`, which say how Linux's file of that kind treats a buffer that faults part
way (fs/read_write.c, mm/filemap.c, fs/pipe.c).
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import stat as statmod

from ..abi import linux as L
from ..abi.fs import ANON_INODE_DEV
from ..abi.poll import POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM
from ..errors import KernelError
from ..wait import WouldBlock


TRANSFER_CHUNK = 1 << 20     # bytes moved per step of a transfer: the host's working
                             # set for one read or write, whatever the guest asked for


class File:
    """One open file description: flags and offset live here, not in the fd."""

    # What /proc/<pid>/fd and fdinfo show; each kind of file that has one sets it.
    inode = None        # the Inode it is open on; None for pipes, host streams, ...
    path = None         # the vfs.Path it was opened by, when one is known
    offset = 0          # the file position; 0 for files that have none
    # f_owner (F_SETOWN, F_SETOWN_EX): the process (pid > 0) or process group (-pgid)
    # that a socket's urgent data signals with SIGURG, and O_ASYNC with SIGIO; 0 for
    # none. owner_thread: F_OWNER_TID, the thread alone (owner is its tid).
    # owner_signal: F_SETSIG's signal (0: plain SIGIO).
    owner = 0
    owner_thread = False
    owner_signal = 0
    # O_ASYNC (fasync): the readiness changes that signal the owner, POLLIN and/or
    # POLLOUT (0: the kind has no fasync operation and O_ASYNC is only a flag, as for
    # Linux's regular files); kernel/fasync.py's entry while O_ASYNC is on
    fasync_events = 0
    fasync_entry = None

    # FMODE_PREAD|FMODE_PWRITE: pread/pwrite and friends allowed (else ESPIPE, before
    # any other check). Pipes, sockets, terminals and anonymous files have neither.
    positional = False

    def __init__(self, flags: int):
        self.flags = flags          # O_ACCMODE | O_APPEND | O_NONBLOCK ... (not O_CLOEXEC)
        self.refs = 0               # fd table slots pointing here; closed at zero

    fsnotify = None     # fs/inotify.py's record of a file opened by path (its current name)
    # fs/dnotify.py's F_NOTIFY requests made through this file, as (mark, request)
    dnotify = None
    # kernel/leases.py's lease on this open file (F_SETLEASE), given up at the last close
    lease = None
    # The regular file's inode this open file counts as a writer of (i_writecount),
    # given back at the last close; an inode some program runs refuses writers.
    write_inode = None

    # Whether a write that fails with EPIPE also raises SIGPIPE (pipes, stream
    # sockets; not datagram or seqpacket sockets, whose EPIPE comes alone).
    sigpipe = True

    # Readiness (poll, select, epoll): a file with a poll operation of its own says
    # so (epoll_ctl refuses the others with EPERM, as for regular files); its
    # `poll()` gives the ready bits and `wait_queues()` what announces their changes.
    can_poll = False
    # fs/eventpoll.py's registrations of this open file, released at its last close
    epoll_links = None

    def hold_write(self, inode) -> None:
        """get_write_access: this open file may write inode from now until its last
        close; ETXTBSY (nothing held) while a program runs inode."""
        inode = inode.real
        if inode.write_count < 0:
            raise KernelError(errno.ETXTBSY)
        inode.write_count += 1
        self.write_inode = inode

    def close_ref(self) -> None:
        """One fd pointing here went away; the last one closes the file, as __fput
        does: the fsnotify close event (IN_CLOSE_WRITE or IN_CLOSE_NOWRITE), then the
        file's own release."""
        self.refs -= 1
        if self.refs == 0:
            if self.fsnotify is not None:
                self.fsnotify.last_close(self)
            if self.epoll_links:
                for item in list(self.epoll_links):
                    item.release()
            if self.fasync_entry is not None:
                self.fasync_entry.release()
            if self.dnotify:
                for mark, request in list(self.dnotify):
                    mark.remove(request)
            if self.lease is not None:
                self.lease.release()
            if self.write_inode is not None:
                self.write_inode.write_count -= 1
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

    def wait_queues(self, events: int) -> tuple[tuple, tuple]:
        """What can change this file's readiness for events: (WaitQueues, (host fd,
        poll events) pairs). A file that is always ready, or never changes, has none."""
        return (), ()

    def pread(self, size: int, offset: int) -> bytes:
        raise KernelError(errno.ESPIPE)

    def pwrite(self, data: bytes, offset: int) -> int:
        raise KernelError(errno.ESPIPE)

    def seek(self, offset: int, whence: int) -> int:
        raise KernelError(errno.ESPIPE)

    def read_iter(self, dst, offset: int | None = None) -> int:
        """Read into dst (an IovIter) at the file position, or at offset (pread).

        This default is for files whose data cannot be put back (an eventfd counter,
        inotify's events): read, then copy; a short copy is EFAULT and what was read
        is gone, as in eventfd_read and inotify_read. Byte streams override it."""
        data = self.read(dst.count) if offset is None else self.pread(dst.count, offset)
        if dst.copy_out(data) < len(data):
            raise KernelError(errno.EFAULT)
        return len(data)

    def write_iter(self, src, offset: int | None = None) -> int:
        """Write from src (an IovIter). This default is for files that take one record
        per write (eventfd, /proc files): one bounded piece, all of it or EFAULT."""
        data = src.copy_in(min(src.count, TRANSFER_CHUNK))
        if src.faulted:
            raise KernelError(errno.EFAULT)
        return self.write(data) if offset is None else self.pwrite(data, offset)

    def stream_write(self, src, offset: int | None = None, unit: int = 1) -> int:
        """write_iter of a byte stream (generic_perform_write): TRANSFER_CHUNK bytes at
        a time; what was written before a fault, an error or a short write is the
        result, EFAULT only when nothing was. A file that commits only whole units of
        what it copied (a pipe: pages) gives unit. A write of 0 bytes still asks the
        file (/dev/full says ENOSPC)."""
        if not src.count:
            return self.write(b"") if offset is None else self.pwrite(b"", offset)
        done = 0
        while src.count:
            data = src.copy_in(min(src.count, TRANSFER_CHUNK))
            if src.faulted and unit > 1:
                data = data[:(done + len(data)) // unit * unit - done]
            if not data:
                break
            try:
                n = self.write(data) if offset is None else self.pwrite(data, offset + done)
            except KernelError:
                if done:
                    break
                raise
            done += n
            if n < len(data) or src.faulted:
                break
        if not done and src.faulted:
            raise KernelError(errno.EFAULT)
        return done

    def stream_read(self, dst, start: int) -> int:
        """read_iter of a file with positions (filemap_read): pread from start a chunk
        at a time; bytes the guest cannot take are not consumed, and the result is
        what was copied; EFAULT only if there was data and none could be copied (at
        end of file the buffer is never touched)."""
        done = 0
        while dst.count:
            want = min(dst.count, TRANSFER_CHUNK)
            data = self.pread(want, start + done)
            n = dst.copy_out(data)
            done += n
            if n < len(data):
                if not done:
                    raise KernelError(errno.EFAULT)
                break
            if len(data) < want:
                break
        return done

    def stat(self) -> tuple:
        """The 20 fields of struct stat (abi.linux.STAT)."""
        raise KernelError(errno.EINVAL)

    def stat_bytes(self) -> bytes:
        """stat() packed: what fstat(2) copies out."""
        return L.STAT.pack(*self.stat())

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


class AnonInodeFile(File):
    """A file on Linux's one anonymous inode (anon_inode_getfile: eventfd, epoll,
    timerfd): fstat shows that inode, mode 0600; seeking does nothing (noop_llseek);
    /proc/<pid>/fd/N reads anon_inode:<anon_name>."""

    anon_name = b""

    def seek(self, offset: int, whence: int) -> int:
        return 0

    def stat(self) -> tuple:
        return (ANON_INODE_DEV, 1, 1, 0o600, 0, 0, 0, 0, 0, 4096, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    def proc_link(self) -> bytes:
        return b"anon_inode:" + self.anon_name


def transfer(read, write, length: int) -> int:
    """Move up to length bytes from read(size, done) to write(data, done) a chunk
    at a time (sendfile, copy_file_range, splice): ends at end of input or a short
    write; an error after some bytes moved ends it with what was done."""
    done = 0
    while done < length:
        want = min(TRANSFER_CHUNK, length - done)
        try:
            data = read(want, done)
            if not data:
                break
            n = write(data, done)
        except KernelError:
            if done:
                break
            raise
        done += n
        if n < len(data) or len(data) < want:
            break
    return done


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
            mode = os.fstat(host_fd).st_mode
        except OSError:
            mode = 0
        self.seekable = self.positional = statmod.S_ISREG(mode)
        self.can_poll = not self.seekable      # terminals and pipes; not files on disk
        # What a host pipe or terminal keeps of a write that faulted: whole pages
        # (pipe_write), whole 2 KiB chunks (iterate_tty_write); a file keeps bytes.
        self.write_unit = L.PAGE_SIZE if statmod.S_ISFIFO(mode) else \
            L.TTY_WRITE_CHUNK if statmod.S_ISCHR(mode) and os.isatty(host_fd) else 1

    def read_iter(self, dst, offset: int | None = None) -> int:
        """A host file reads in place, like any file with positions; a host pipe or
        terminal cannot take data back, so it reads no more than the guest's buffers
        can hold before their first bad page (none at all if the first is bad: EFAULT
        unless the input has ended, when Linux would return 0 without touching it)."""
        if self.seekable:
            start = self.seek(0, 1) if offset is None else offset
            done = self.stream_read(dst, start)
            if offset is None:
                self.seek(start + done, 0)
            return done
        if offset is not None:
            raise KernelError(errno.ESPIPE)
        if not dst.count:
            return 0
        room = dst.room()
        if not room:
            if self.poll(POLLIN) & (POLLIN | POLLHUP) == POLLHUP:
                return 0
            raise KernelError(errno.EFAULT)
        data = self.read(min(room, TRANSFER_CHUNK))
        return dst.copy_out(data)

    def write_iter(self, src, offset: int | None = None) -> int:
        return self.stream_write(src, offset, self.write_unit)

    def read(self, size: int) -> bytes:
        """A host pipe or terminal with nothing to read makes a blocking guest read
        wait (WouldBlock on the host fd), so other guest threads run meanwhile."""
        if not self.seekable and not self.flags & L.O_NONBLOCK and size \
                and not self.poll(POLLIN):
            raise WouldBlock(host=((self.host_fd, POLLIN),), what="host fd %d" % self.host_fd)
        try:
            return os.read(self.host_fd, size)
        except OSError as e:
            raise host_errno(e) from None

    def wait_queues(self, events: int) -> tuple[tuple, tuple]:
        return (), ((self.host_fd, events),)

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
