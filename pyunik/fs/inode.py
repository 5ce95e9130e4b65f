"""Inodes: one file, directory, symlink, device or fifo of some filesystem.

`Inode` holds the metadata Linux keeps in struct inode (mode, nlink, owner, size,
timestamps in nanoseconds, rdev) and declares every operation a filesystem may offer,
each defaulting to the errno Linux gives when the operation does not apply (ENOTDIR
for a directory operation on a file, EROFS for a change on a read-only filesystem,
EINVAL for readlink of a non-symlink). Filesystems subclass it and override what they
support; the VFS (fs/vfs.py) calls only these methods.

Names are bytes, as Linux paths are.

Layer: fs, the bottom of it: every filesystem builds on these classes; it calls nothing
but abi/ and errors.
"""

from __future__ import annotations

import stat as S
import time
import weakref
from errno import EEXIST, EINVAL, EISDIR, ENOTDIR, EPERM, EROFS

from ..abi.stat import STAT
from ..abi.dirent import (DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK,
                          DT_UNKNOWN)
from ..errors import KernelError



def dtype(mode: int) -> int:
    return {S.S_IFIFO: DT_FIFO, S.S_IFCHR: DT_CHR, S.S_IFDIR: DT_DIR, S.S_IFBLK: DT_BLK,
            S.S_IFREG: DT_REG, S.S_IFLNK: DT_LNK, S.S_IFSOCK: DT_SOCK}.get(S.S_IFMT(mode),
                                                                          DT_UNKNOWN)


class FileSystem:
    """What all inodes of one filesystem share: a device number, inode numbering,
    a name for /proc/mounts, and whether it can be changed at all.

    The device number and `notify` (the kernel's fs/inotify.Fsnotify) are the kernel's
    to give: both are set when the filesystem is attached to a kernel's VFS
    (`VFS.attach`, at mount), as Linux gives a superblock its anonymous device number
    when it is mounted. Until then dev is 0 and nothing is notified."""

    name = "none"
    magic = 0            # f_type for statfs
    # May the VFS cache this filesystem's lookups? Only if names change solely by the
    # guest's own calls (not for hostfs, where the host can change them, nor procfs).
    cacheable = False
    dev = 0
    notify = None
    # The wall clock file times are stamped from, in ns: the kernel's, given at
    # attach like dev (deterministic mode's virtual clock there); the host's until.
    clock = staticmethod(time.time_ns)

    def __init__(self, readonly: bool = False):
        self.readonly = readonly
        self._next_ino = 1
        # ino -> the pipe of a named pipe open on it (fs/pipe.py), as Linux's i_pipe
        self.fifos: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def set_clock(self, clock) -> None:
        """Stamp file times from clock() from now on (VFS.attach)."""
        self.clock = clock

    def layers(self) -> tuple["FileSystem", ...]:
        """The filesystems this one is built from (an overlay's upper and lower), which
        are attached with it."""
        return ()

    def sync(self) -> None:
        """syncfs(2): make what was written durable. A filesystem in memory has
        nothing to write out (as tmpfs); hostfs asks the host (HostFS.sync); one built
        from others syncs them."""
        for layer in self.layers():
            layer.sync()

    def new_ino(self) -> int:
        self._next_ino += 1
        return self._next_ino

    def check_writable(self) -> None:
        if self.readonly:
            raise KernelError(EROFS)

    def statfs(self) -> dict:
        return {"type": self.magic, "bsize": 4096, "blocks": 0, "bfree": 0, "bavail": 0,
                "files": 0, "ffree": 0, "namelen": 255, "frsize": 4096, "flags": 0}


class DeviceNumbers:
    """Anonymous device numbers (Linux's get_anon_bdev): each filesystem attached to
    a kernel gets the next one. One per kernel, so the numbers a guest sees do not
    depend on what else ran in the same Python process."""

    FIRST = 0x31

    def __init__(self):
        self.next = self.FIRST

    def assign(self, fs: FileSystem) -> None:
        """Give fs a number, once."""
        if not fs.dev:
            fs.dev = self.next
            self.next += 1


class Inode:
    # Linux's i_writecount: open files that may write it (> 0), or programs running
    # it (< 0: execve denies writers, open for writing is ETXTBSY); never both. Kept
    # on `real`, the inode holding the data (an overlay's layer inode).
    write_count = 0

    @property
    def real(self) -> "Inode":
        """The inode that holds this one's data: itself (an overlay's is a layer's)."""
        return self

    def __init__(self, fs: FileSystem, mode: int, uid: int = 0, gid: int = 0,
                 ino: int | None = None, rdev: int = 0):
        self.fs = fs
        self.ino = ino if ino is not None else fs.new_ino()
        self.mode = mode
        self.nlink = 2 if S.S_ISDIR(mode) else 1
        self.uid = uid
        self.gid = gid
        self.rdev = rdev
        t = fs.clock()
        self.atime_ns = self.mtime_ns = self.ctime_ns = t

    # ---- metadata -----

    @property
    def size(self) -> int:
        return 0

    @property
    def is_dir(self) -> bool:
        return S.S_ISDIR(self.mode)

    @property
    def is_symlink(self) -> bool:
        return S.S_ISLNK(self.mode)

    @property
    def is_regular(self) -> bool:
        return S.S_ISREG(self.mode)

    def stat(self) -> tuple:
        """The fields of Linux's struct stat (abi.linux.STAT)."""
        size = self.size
        a, m, c = self.atime_ns, self.mtime_ns, self.ctime_ns
        return (self.fs.dev, self.ino, self.nlink, self.mode, self.uid, self.gid, 0, self.rdev,
                size, 4096, (size + 511) >> 9, a // 10**9, a % 10**9, m // 10**9, m % 10**9,
                c // 10**9, c % 10**9, 0, 0, 0)

    def stat_bytes(self) -> bytes:
        """stat() packed as Linux's struct stat (abi.stat.STAT): what stat(2) copies
        out. (Filesystems whose stat() is this class's keep the packing: see
        kept_stat_bytes.)"""
        return STAT.pack(*self.stat())

    # kept_stat_bytes' last packing: (every field it was made from, the bytes)
    _kept_stat: tuple | None = None

    def kept_stat_bytes(self) -> bytes:
        """stat_bytes for an inode whose stat() is Inode.stat, a function of its own
        fields alone (RamInode, ImageInode take it as their stat_bytes): the packing
        is kept with every one of those fields and given again while all of them
        compare equal, so any change at all, wherever it is made, packs anew.
        Comparing eleven fields costs a fifth of packing them."""
        key = (self.fs.dev, self.ino, self.nlink, self.mode, self.uid, self.gid, self.rdev,
               self.size, self.atime_ns, self.mtime_ns, self.ctime_ns)
        kept = self._kept_stat
        if kept is not None and kept[0] == key:
            return kept[1]
        packed = STAT.pack(*self.stat())
        self._kept_stat = (key, packed)
        return packed

    def set_mode(self, mode: int) -> None:
        self.fs.check_writable()
        self.mode = S.S_IFMT(self.mode) | (mode & 0o7777)
        self.ctime_ns = self.fs.clock()

    def set_owner(self, uid: int, gid: int) -> None:
        self.fs.check_writable()
        if uid != -1:
            self.uid = uid
        if gid != -1:
            self.gid = gid
        self.ctime_ns = self.fs.clock()

    def set_times(self, atime_ns: int | None, mtime_ns: int | None) -> None:
        self.fs.check_writable()
        if atime_ns is not None:
            self.atime_ns = atime_ns
        if mtime_ns is not None:
            self.mtime_ns = mtime_ns
        self.ctime_ns = self.fs.clock()

    def touch_modified(self) -> None:
        self.mtime_ns = self.ctime_ns = self.fs.clock()

    # ---- directories -----

    def _need_dir(self) -> None:
        if not self.is_dir:
            raise KernelError(ENOTDIR)

    def lookup(self, name: bytes) -> Inode | None:
        """The child called name, or None."""
        self._need_dir()
        return None

    def entries(self) -> list[tuple[bytes, Inode]]:
        """The children, without . and .. (getdents adds them)."""
        self._need_dir()
        return []

    def create(self, name: bytes, mode: int, uid: int, gid: int, rdev: int = 0) -> Inode:
        """A new regular file, fifo or device node (mode has its S_IFMT)."""
        self._need_dir()
        self.fs.check_writable()
        raise KernelError(EPERM)

    def mkdir(self, name: bytes, mode: int, uid: int, gid: int) -> Inode:
        self._need_dir()
        self.fs.check_writable()
        raise KernelError(EPERM)

    def symlink(self, name: bytes, target: bytes, uid: int, gid: int) -> Inode:
        self._need_dir()
        self.fs.check_writable()
        raise KernelError(EPERM)

    def link(self, name: bytes, inode: Inode) -> None:
        self._need_dir()
        self.fs.check_writable()
        raise KernelError(EPERM)

    def unlink(self, name: bytes) -> None:
        """Remove a non-directory entry."""
        self._need_dir()
        self.fs.check_writable()
        raise KernelError(EPERM)

    def rmdir(self, name: bytes) -> None:
        self._need_dir()
        self.fs.check_writable()
        raise KernelError(EPERM)

    def rename(self, old: bytes, new_dir: Inode, new: bytes, flags: int) -> None:
        """Move old to new_dir/new (same filesystem; the VFS checked that)."""
        self._need_dir()
        self.fs.check_writable()
        raise KernelError(EPERM)

    # ---- contents -----

    def sync(self, data_only: bool) -> None:
        """fsync(2) (fdatasync(2): data_only) of this inode's data. In memory there is
        nothing to write out, as on tmpfs; hostfs's inodes ask the host."""

    def read(self, offset: int, size: int) -> bytes:
        if self.is_dir:
            raise KernelError(EISDIR)
        return b""

    def write(self, offset: int, data: bytes) -> int:
        if self.is_dir:
            raise KernelError(EISDIR)
        self.fs.check_writable()
        raise KernelError(EINVAL)

    def truncate(self, size: int) -> None:
        if self.is_dir:
            raise KernelError(EISDIR)
        self.fs.check_writable()
        raise KernelError(EINVAL)

    def readlink(self) -> bytes:
        raise KernelError(EINVAL)

    def mmap_source(self, writable: bool, end: int):
        """(host fd, offset) whose pages mmap can map directly for this file, or None
        to have mmap copy the contents instead. writable: a shared writable mapping
        is wanted; end: the mapping reaches file offset end (a filesystem may grow
        its host file to cover it; pages past the host file's end are not mapped)."""
        return None

    def open(self, flags: int):
        """A special File for this inode (a device, a generated proc file), or None
        for the VFS's ordinary file description over read()/write()."""
        return None


class DictDirectory:
    """lookup/entries for inodes keeping their children in a `children` dict."""

    children: dict

    def lookup(self, name):
        self._need_dir()
        return self.children.get(name)

    def entries(self):
        self._need_dir()
        return list(self.children.items())


def check_rename_target(src: Inode, dst: Inode | None, flags: int) -> None:
    """rename(2)'s rules for an existing destination (RENAME_NOREPLACE = 1)."""
    if dst is None:
        return
    if flags & 1:
        raise KernelError(EEXIST)
    if src.is_dir and not dst.is_dir:
        raise KernelError(ENOTDIR)
    if dst.is_dir and not src.is_dir:
        raise KernelError(EISDIR)
