"""Pseudo files: inodes made on lookup whose contents are generated when read.

fs layer, the kit /proc (fs/proc/) and /sys (fs/sysfs.py) are built from:
  GeneratedFile  a read-only file (or a writable knob, with write_fn) whose text is
                 generate() -> bytes, made at the first read of an open file and kept
                 until a read or seek returns to offset 0, as Linux's seq_file does
  GeneratedDir   a directory whose children come from names() and child(name)
  StaticDir      a directory from a fixed table name -> factory(relpath) -> Inode
  PseudoSymlink  a symlink whose text may be computed, and may lead somewhere
                 without being walked (/proc's "magic" links, see follow())
Inode numbers stay fixed per path inside the filesystem; stat() reports size 0 (or
the size given) and no blocks, as Linux does for these files.

Calls: fs/inode (Inode, FileSystem), fs/openfile (InodeFile).
"""

from __future__ import annotations

import stat as S
from errno import EINVAL, EIO

from ..abi.proc import PROC_BLKSIZE, PROC_ROOT_INO
from ..errors import KernelError
from .inode import FileSystem, Inode
from .openfile import InodeFile


class PseudoFS(FileSystem):
    """A filesystem of generated inodes whose numbers stay fixed per path (the root
    is inode 1, as /proc's and sysfs's are)."""

    blksize = PROC_BLKSIZE        # st_blksize of its files; sysfs sets its own

    def __init__(self, readonly: bool = False):
        super().__init__(readonly)
        self._inos: dict[bytes, int] = {}
        self.created_ns = self.clock()

    def set_clock(self, clock) -> None:
        super().set_clock(clock)
        self.created_ns = clock()
        root = getattr(self, "root", None)      # made with the filesystem
        if isinstance(root, Inode):
            root.atime_ns = root.mtime_ns = root.ctime_ns = self.created_ns

    def ino_for(self, relpath: bytes) -> int:
        ino = self._inos.get(relpath)
        if ino is None:
            ino = PROC_ROOT_INO if relpath == b"/" else self.new_ino()
            self._inos[relpath] = ino
        return ino


class PseudoInode(Inode):
    """An inode made on lookup: its number is fixed by its path inside the filesystem
    (relpath), so the same entry keeps its number across lookups."""

    def __init__(self, fs: PseudoFS, relpath: bytes, mode: int, uid: int = 0, gid: int = 0,
                 size: int = 0):
        super().__init__(fs, mode, uid, gid, ino=fs.ino_for(relpath))
        self.relpath = relpath
        self._size = size
        self.atime_ns = self.mtime_ns = self.ctime_ns = fs.created_ns

    @property
    def size(self) -> int:
        return self._size

    def stat(self) -> tuple:
        st = list(super().stat())
        st[9] = self.fs.blksize       # st_blksize
        st[10] = 0                    # st_blocks: nothing is stored
        return tuple(st)

    def child_path(self, name: bytes) -> bytes:
        return (self.relpath.rstrip(b"/") + b"/" + name) if self.relpath != b"/" else b"/" + name


class GeneratedFile(PseudoInode):
    """A regular file whose contents come from generate() -> bytes.

    Writes go to write_fn(data) -> int when given; otherwise they fail with
    write_errno, which is what Linux gives root for a file with no write operation
    (EINVAL for /proc/<pid> files, EIO for the top-level ones); others are refused
    with EACCES by the permission check on open, from the mode.
    """

    def __init__(self, fs, relpath, mode, generate, write_fn=None, uid=0, gid=0,
                 size=0, write_errno=EIO):
        super().__init__(fs, relpath, S.S_IFREG | mode, uid, gid, size)
        self.generate = generate
        self.write_fn = write_fn
        self.write_errno = write_errno

    def read(self, offset: int, size: int) -> bytes:
        return self.generate()[offset:offset + size]

    def write(self, offset: int, data: bytes) -> int:
        if self.write_fn is None:
            raise KernelError(self.write_errno)
        return self.write_fn(data)

    def truncate(self, size: int) -> None:
        pass    # O_TRUNC on a /proc or sysfs file is accepted and changes nothing

    def open(self, flags: int):
        return SnapshotFile(self, flags)


class SnapshotFile(InodeFile):
    """An open generated file: the text made at the first read, kept until a read or
    seek returns to offset 0 (seq_file's behaviour)."""

    def __init__(self, inode: GeneratedFile, flags: int, path=None):
        super().__init__(inode, flags, path)
        self.snapshot: bytes | None = None

    def _text(self, offset: int) -> bytes:
        if self.snapshot is None or offset == 0:
            self.snapshot = self.inode.generate()
        return self.snapshot

    def read(self, size: int) -> bytes:
        data = self._text(self.offset)[self.offset:self.offset + size]
        self.offset += len(data)
        return data

    def pread(self, size: int, offset: int) -> bytes:
        return self._text(offset)[offset:offset + size]

    def write(self, data: bytes) -> int:
        return self.inode.write(self.offset, data)

    def pwrite(self, data: bytes, offset: int) -> int:
        return self.inode.write(offset, data)

    def seek(self, offset: int, whence: int) -> int:
        if whence == 2 and self.inode.size == 0:
            raise KernelError(EINVAL)     # seq_lseek knows no end
        new = super().seek(offset, whence)
        if new == 0:
            self.snapshot = None
        return new


class PseudoSymlink(PseudoInode):
    def __init__(self, fs, relpath, target, uid=0, gid=0, mode=0o777, size=0, follow=None):
        """target: bytes, or a function giving them (raising ENOENT when gone).

        follow: for /proc's "magic" links (fd/N, cwd, root), a function giving where
        the link leads as Linux's proc_get_link does, without reading its text: a
        vfs.Path (the open file's or directory's own location, even if since unlinked
        or renamed), an Inode to open in place (a pipe or host stream, which has no
        path: opening it opens the same object again), or None to walk the text."""
        super().__init__(fs, relpath, S.S_IFLNK | mode, uid, gid, size)
        self._target = target
        self._follow = follow

    def readlink(self) -> bytes:
        t = self._target
        return t() if callable(t) else t

    def follow(self):
        """Where a walk through this link should continue (see __init__), or None."""
        return self._follow() if self._follow is not None else None


class GeneratedDir(PseudoInode):
    """A directory whose children are listed by names() and made by child(name)."""

    def __init__(self, fs, relpath, mode=0o555, uid=0, gid=0):
        super().__init__(fs, relpath, S.S_IFDIR | mode, uid, gid)

    def names(self) -> list[bytes]:
        return []

    def child(self, name: bytes) -> Inode | None:
        return None

    def lookup(self, name: bytes) -> Inode | None:
        return self.child(name)

    def entries(self) -> list[tuple[bytes, Inode]]:
        out = []
        for name in self.names():
            inode = self.child(name)
            if inode is not None:
                out.append((name, inode))
        return out

    @property
    def nlink(self) -> int:
        return 2 + sum(1 for _, i in self.entries() if i.is_dir)

    @nlink.setter
    def nlink(self, value: int) -> None:
        pass


class StaticDir(GeneratedDir):
    """A directory with a fixed table of children: name -> factory(relpath) -> Inode."""

    def __init__(self, fs, relpath, table: dict, mode=0o555, uid=0, gid=0):
        super().__init__(fs, relpath, mode, uid, gid)
        self.table = table

    def names(self):
        return list(self.table)

    def child(self, name):
        make = self.table.get(name)
        return make(self.child_path(name)) if make is not None else None


def text_file(fs, mode, generate, **kw):
    """A factory for StaticDir tables: relpath -> GeneratedFile."""
    return lambda relpath: GeneratedFile(fs, relpath, mode, generate, **kw)
