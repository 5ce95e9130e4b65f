"""/proc/<pid>/fd and /proc/<pid>/fdinfo: a process's open files, one entry per fd.

fs layer, part of /proc (fs/proc/). fd/N is a "magic" symlink (fs/proc/fd.c): its
text is the path the file was opened by (d_path), or what the file is when it has
none (pipe:[ino], socket:[ino], anon_inode:[eventfd], a host terminal's device
path); a walk through it reaches the open file's own object, not its text.
fdinfo/N is the file's position, flags, mount and inode.

Calls: fs/pseudo (the inode kit), fs/file, fs/pipe (the kinds of open file),
fs/proc/mounts (mount numbers).
"""

from __future__ import annotations

import os
import stat as S
from errno import EACCES, ENXIO

from ...abi import linux as L
from ...abi.proc import PROC_FD_LINK_SIZE
from ...errors import KernelError
from ..file import File, HostStream
from ..inode import FileSystem, Inode
from ..pipe import PipeEnd
from ..pseudo import GeneratedDir, GeneratedFile, PseudoSymlink


class ReopenInode(Inode):
    """Where /proc/<pid>/fd/N leads when the fd has no path: a pipe or a host stream.
    It stats as the open file does (a pipe of the guest's own is owned by its
    process; a host stream, such as a host terminal, keeps the host's owner);
    opening it opens the same object again, as Linux's fifo_open does for a pipe
    reached through /proc (a new reader or writer)."""

    def __init__(self, fs: FileSystem, file: File, uid: int, gid: int):
        st = file.stat()
        super().__init__(fs, st[3], uid, gid, ino=st[1])
        self.file = file

    def stat(self) -> tuple:
        st = list(self.file.stat())
        if isinstance(self.file, PipeEnd):
            st[4], st[5] = self.uid, self.gid
        return tuple(st)

    def open(self, flags: int):
        f = self.file
        if isinstance(f, PipeEnd):
            end = PipeEnd(f.pipe, flags)
            if end.readable:
                f.pipe.readers += 1
            if end.writable:
                f.pipe.writers += 1
            return end
        if isinstance(f, HostStream):
            return HostStream(f.host_fd, flags)
        raise KernelError(ENXIO)       # sockets and the like cannot be reopened


def _host_fd_name(host_fd: int) -> bytes:
    """What a host stream is, for /proc/<pid>/fd: a terminal or device by its name,
    a pipe or socket by inode number; anything else by what it is to the guest."""
    try:
        st = os.fstat(host_fd)
    except OSError:
        return b"anon_inode:[hoststream]"
    if S.S_ISCHR(st.st_mode):
        try:
            return os.fsencode(os.ttyname(host_fd))
        except OSError:
            pass
        try:
            return os.fsencode(os.readlink("/proc/self/fd/%d" % host_fd))
        except OSError:
            return b"anon_inode:[hoststream]"
    if S.S_ISFIFO(st.st_mode):
        return b"pipe:[%d]" % st.st_ino
    if S.S_ISSOCK(st.st_mode):
        return b"socket:[%d]" % st.st_ino
    return b"anon_inode:[hoststream]"


def fd_target(file: File) -> bytes:
    """readlink of /proc/<pid>/fd/N (fs/proc/fd.c, d_path): the path an fd was opened
    by, " (deleted)" once unlinked; pipe:[ino] for pipes; a file type can say for
    itself with proc_link() (sockets: socket:[ino], eventfd: anon_inode:...)."""
    link = file.proc_link()
    if link is not None:
        return link
    inode = file.inode
    if file.path is not None:
        text = file.path.text()
        if inode is not None and not inode.is_dir and inode.nlink == 0:
            text += b" (deleted)"
        return text
    if isinstance(file, PipeEnd):
        return b"pipe:[%d]" % file.pipe.ino
    if isinstance(file, HostStream):
        return _host_fd_name(file.host_fd)
    return b"anon_inode:[%s]" % type(file).__name__.lower().encode()


def _file_mount_id(file: File, vfs, numbers) -> int:
    if file.path is not None:
        return numbers.of(vfs, file.path.mount)
    if file.inode is not None:
        for m in vfs.mount_table():
            if m.fs is file.inode.fs:
                return numbers.of(vfs, m)
    if isinstance(file, PipeEnd):
        return numbers.of_internal(vfs, "pipefs")
    return numbers.of_internal(vfs, "host")


def _file_pos(file: File) -> int:
    if isinstance(file, HostStream):
        if file.seekable:
            try:
                return os.lseek(file.host_fd, 0, os.SEEK_CUR)
            except OSError:
                return 0
        return 0
    return file.offset


def _file_ino(file: File) -> int:
    if file.inode is not None:
        return file.inode.ino
    if isinstance(file, PipeEnd):
        return file.pipe.ino
    try:
        return file.stat()[1]
    except (KernelError, OSError):
        return 0


def fdinfo_text(file: File, cloexec: bool, vfs, numbers) -> bytes:
    """/proc/<pid>/fdinfo/N (fs/proc/fd.c seq_show): pos, flags (octal, with
    O_CLOEXEC from the fd), mnt_id, ino."""
    flags = file.flags | (L.O_CLOEXEC if cloexec else 0)
    return b"pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n" % (
        _file_pos(file), flags, _file_mount_id(file, vfs, numbers), _file_ino(file))


def _fd_mode(file: File) -> int:
    """proc_fd_link's mode: r-x for reading, -wx for writing (owner only)."""
    mode = 0
    if file.readable:
        mode |= 0o500
    if file.writable:
        mode |= 0o300
    return mode


class FdDir(GeneratedDir):
    """/proc/<pid>/fd: one magic link per open fd, owned by the process."""

    def __init__(self, fs, relpath, process):
        super().__init__(fs, relpath, 0o500, process.cred.euid, process.cred.egid)
        self.process = process

    def names(self):
        return [b"%d" % fd for fd in self.process.fds.open_fds()]

    def _file(self, name: bytes) -> File | None:
        if not name.isdigit() or (name.startswith(b"0") and name != b"0"):
            return None
        files = self.process.fds.files
        fd = int(name)
        return files[fd] if fd < len(files) else None

    def child(self, name):
        f = self._file(name)
        if f is None:
            return None
        fs, p = self.fs, self.process

        def target():
            fs.live(p)
            return fd_target(f)

        def follow():
            fs.live(p)
            if f.path is not None:
                return f.path
            if isinstance(f, (PipeEnd, HostStream)) and f.inode is None:
                return ReopenInode(fs, f, self.uid, self.gid)
            return None
        return PseudoSymlink(fs, self.child_path(name), target, self.uid, self.gid,
                             mode=_fd_mode(f), size=PROC_FD_LINK_SIZE, follow=follow)


class FdInfoDir(FdDir):
    """/proc/<pid>/fdinfo: one read-only file per open fd."""

    def __init__(self, fs, relpath, process):
        super().__init__(fs, relpath, process)
        self.mode = S.S_IFDIR | 0o555

    def child(self, name):
        f = self._file(name)
        if f is None:
            return None
        fs, p, fd = self.fs, self.process, int(name)

        def generate():
            fs.live(p)
            return fdinfo_text(f, p.fds.cloexec[fd], fs.vfs, fs.mount_numbers)
        return GeneratedFile(fs, self.child_path(name), 0o444, generate, uid=self.uid,
                             gid=self.gid, write_errno=EACCES)
