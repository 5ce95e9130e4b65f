"""ramfs: files that live in memory, with tmpfs semantics (/, /tmp, /dev/shm, overlay
upper layers).

A directory keeps a dict of children in insertion order (getdents lists them so);
a regular file keeps a bytearray; a symlink keeps its target. Hard links share the
inode; nlink counts names (and a directory's subdirectories, as on Linux).
"""

from __future__ import annotations

import ctypes
import os
import stat as S
from errno import EEXIST, EFBIG, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EPERM

from ..errors import KernelError
from .inode import DictDirectory, FileSystem, Inode, check_rename_target, now_ns

RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
MAX_FILE_SIZE = 1 << 40
_FALLOC_FL_KEEP_SIZE, _FALLOC_FL_PUNCH_HOLE = 1, 2
_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def _punch(fd: int, offset: int, length: int) -> None:
    """Zero [offset, offset+length) of a memfd, giving its pages back."""
    if length > 0 and _libc.fallocate(fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE,
                                      offset, length) != 0:
        os.pwrite(fd, bytes(length), offset)


class RamFS(FileSystem):

    cacheable = True
    name = "tmpfs"
    magic = 0x01021994       # TMPFS_MAGIC

    def __init__(self, readonly: bool = False, uid: int = 0, gid: int = 0, mode: int = 0o1777):
        super().__init__(readonly)
        self.root = RamInode(self, S.S_IFDIR | mode, uid, gid)
        self.root.parent = self.root

    def statfs(self) -> dict:
        return {"type": self.magic, "bsize": 4096, "blocks": 1 << 20, "bfree": 1 << 20,
                "bavail": 1 << 20, "files": 1 << 20, "ffree": 1 << 20,
                "namelen": 255, "frsize": 4096, "flags": 0}


class RamInode(DictDirectory, Inode):
    def __init__(self, fs, mode, uid=0, gid=0, rdev=0):
        super().__init__(fs, mode, uid, gid, rdev=rdev)
        self.children: dict[bytes, RamInode] | None = {} if S.S_ISDIR(mode) else None
        self.data = bytearray() if S.S_ISREG(mode) else None
        self.memfd: int | None = None    # once mapped: the contents live in a host memfd
        self.memfd_size = 0              # the file's size then (the memfd may be larger)
        self.target = b""
        self.parent: RamInode | None = None

    @property
    def size(self) -> int:
        if self.memfd is not None:
            return self.memfd_size
        if self.data is not None:
            return len(self.data)
        if self.is_symlink:
            return len(self.target)
        if self.is_dir:
            return 40 + 20 * len(self.children)    # tmpfs: 20 bytes per entry, 2 for . ..
        return 0

    # ---- directories -----

    def _add(self, name: bytes, child: "RamInode") -> "RamInode":
        self.fs.check_writable()
        if name in self.children:
            raise KernelError(EEXIST)
        self.children[name] = child
        if child.is_dir:
            child.parent = self
            self.nlink += 1
        self.touch_modified()
        return child

    def create(self, name, mode, uid, gid, rdev=0):
        self._need_dir()
        return self._add(name, RamInode(self.fs, mode, uid, gid, rdev))

    def mkdir(self, name, mode, uid, gid):
        self._need_dir()
        return self._add(name, RamInode(self.fs, S.S_IFDIR | (mode & 0o7777), uid, gid))

    def symlink(self, name, target, uid, gid):
        self._need_dir()
        link = RamInode(self.fs, S.S_IFLNK | 0o777, uid, gid)
        link.target = target
        return self._add(name, link)

    def link(self, name, inode):
        self._need_dir()
        if inode.is_dir:
            raise KernelError(EPERM)
        self._add(name, inode)
        inode.nlink += 1
        inode.ctime_ns = now_ns()

    def unlink(self, name):
        self._need_dir()
        self.fs.check_writable()
        child = self.children.get(name)
        if child is None:
            raise KernelError(ENOENT)
        if child.is_dir:
            raise KernelError(EISDIR)
        del self.children[name]
        child.nlink -= 1
        child.ctime_ns = now_ns()
        self.touch_modified()

    def rmdir(self, name):
        self._need_dir()
        self.fs.check_writable()
        child = self.children.get(name)
        if child is None:
            raise KernelError(ENOENT)
        if not child.is_dir:
            raise KernelError(ENOTDIR)
        if child.children:
            raise KernelError(ENOTEMPTY)
        del self.children[name]
        child.nlink = 0
        self.nlink -= 1
        self.touch_modified()

    def rename(self, old, new_dir, new, flags):
        self._need_dir()
        self.fs.check_writable()
        src = self.children.get(old)
        if src is None:
            raise KernelError(ENOENT)
        dst = new_dir.children.get(new)
        if flags & RENAME_EXCHANGE:
            if dst is None:
                raise KernelError(ENOENT)
            self.children[old], new_dir.children[new] = dst, src
            for node, parent in ((src, new_dir), (dst, self)):
                if node.is_dir:
                    node.parent = parent
            if src.is_dir != dst.is_dir and self is not new_dir:
                delta = 1 if src.is_dir else -1
                new_dir.nlink += delta
                self.nlink -= delta
            self.touch_modified()
            new_dir.touch_modified()
            return
        if dst is src:
            return
        check_rename_target(src, dst, flags)
        if dst is not None:
            if dst.is_dir and dst.children:
                raise KernelError(ENOTEMPTY)
            if dst.is_dir:
                new_dir.nlink -= 1
                dst.nlink = 0
            else:
                dst.nlink -= 1
        del self.children[old]
        new_dir.children[new] = src
        if src.is_dir:
            src.parent = new_dir
            self.nlink -= 1
            new_dir.nlink += 1
        src.ctime_ns = now_ns()
        self.touch_modified()
        new_dir.touch_modified()

    # ---- contents -----

    def read(self, offset, size):
        if self.is_dir:
            raise KernelError(EISDIR)
        if self.memfd is not None:
            size = max(0, min(size, self.memfd_size - offset))
            return os.pread(self.memfd, size, offset) if size else b""
        if self.data is None:
            return b""
        return bytes(self.data[offset:offset + size])

    def write(self, offset, data):
        if self.is_dir:
            raise KernelError(EISDIR)
        self.fs.check_writable()
        if self.data is None and self.memfd is None:
            raise KernelError(EINVAL)
        end = offset + len(data)
        if end > MAX_FILE_SIZE:
            raise KernelError(EFBIG)
        if self.memfd is not None:
            os.pwrite(self.memfd, data, offset)
            self.memfd_size = max(self.memfd_size, end)
        else:
            if offset > len(self.data):
                self.data.extend(bytes(offset - len(self.data)))
            self.data[offset:end] = data
        self.touch_modified()
        return len(data)

    def truncate(self, size):
        if self.is_dir:
            raise KernelError(EISDIR)
        self.fs.check_writable()
        if self.data is None and self.memfd is None:
            raise KernelError(EINVAL)
        if self.memfd is not None:
            if size < self.memfd_size:
                # The memfd never shrinks (a host mapping past its end would fault the
                # host); the cut-off bytes become zero, as a regrown file reads.
                _punch(self.memfd, size, self.memfd_size - size)
            elif size > os.fstat(self.memfd).st_size:
                os.ftruncate(self.memfd, size)
            self.memfd_size = size
        elif size < len(self.data):
            del self.data[size:]
        else:
            self.data.extend(bytes(size - len(self.data)))
        self.touch_modified()

    def punch(self, offset: int, length: int) -> None:
        """fallocate(FALLOC_FL_PUNCH_HOLE): zero a range without changing the size."""
        self.fs.check_writable()
        end = min(offset + length, self.size)
        if end <= offset:
            return
        if self.memfd is not None:
            _punch(self.memfd, offset, end - offset)
        else:
            self.data[offset:end] = bytes(end - offset)
        self.touch_modified()

    def mmap_source(self, writable, end):
        """Mapping a ramfs file moves its contents into a host memfd, so the mapping
        and read()/write() share the same pages, as tmpfs's page cache does."""
        if not self.is_regular:
            return None
        if self.memfd is None:
            fd = os.memfd_create("pyunik-ramfs", os.MFD_CLOEXEC)
            view = memoryview(self.data)
            while view:
                view = view[os.write(fd, view):]
            self.memfd, self.memfd_size, self.data = fd, len(self.data), None
        # Grow the memfd (not the file) so the whole mapping has host pages: the
        # file may grow into them later, as tmpfs pages past EOF become valid.
        if os.fstat(self.memfd).st_size < end:
            os.ftruncate(self.memfd, end)
        return self.memfd, 0

    def __del__(self):
        if getattr(self, "memfd", None) is not None:
            os.close(self.memfd)

    def readlink(self):
        if not self.is_symlink:
            raise KernelError(EINVAL)
        return self.target
