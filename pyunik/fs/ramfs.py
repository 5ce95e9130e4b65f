"""ramfs: files that live in memory, with tmpfs semantics (/, /tmp, /dev/shm, overlay
upper layers).

A directory keeps a dict of children in insertion order (getdents lists them so);
a regular file keeps a bytearray; a symlink keeps its target. Hard links share the
inode; nlink counts names (and a directory's subdirectories, as on Linux).
"""

from __future__ import annotations

import stat as S
from errno import EEXIST, EFBIG, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EPERM

from ..errors import KernelError
from .inode import FileSystem, Inode, now_ns

RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
MAX_FILE_SIZE = 1 << 40


class RamFS(FileSystem):
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


class RamInode(Inode):
    def __init__(self, fs, mode, uid=0, gid=0, rdev=0):
        super().__init__(fs, mode, uid, gid, rdev=rdev)
        self.children: dict[bytes, RamInode] | None = {} if S.S_ISDIR(mode) else None
        self.data = bytearray() if S.S_ISREG(mode) else None
        self.target = b""
        self.parent: RamInode | None = None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        if self.is_symlink:
            return len(self.target)
        if self.is_dir:
            return 40 + 20 * len(self.children)    # tmpfs: 20 bytes per entry, 2 for . ..
        return 0

    # ---- directories -----

    def lookup(self, name):
        self._need_dir()
        return self.children.get(name)

    def entries(self):
        self._need_dir()
        return list(self.children.items())

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
        if dst is not None:
            if flags & RENAME_NOREPLACE:
                raise KernelError(EEXIST)
            if src.is_dir and not dst.is_dir:
                raise KernelError(ENOTDIR)
            if dst.is_dir and not src.is_dir:
                raise KernelError(EISDIR)
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
        if self.data is None:
            return b""
        return bytes(self.data[offset:offset + size])

    def write(self, offset, data):
        if self.is_dir:
            raise KernelError(EISDIR)
        self.fs.check_writable()
        if self.data is None:
            raise KernelError(EINVAL)
        end = offset + len(data)
        if end > MAX_FILE_SIZE:
            raise KernelError(EFBIG)
        if offset > len(self.data):
            self.data.extend(bytes(offset - len(self.data)))
        self.data[offset:end] = data
        self.touch_modified()
        return len(data)

    def truncate(self, size):
        if self.is_dir:
            raise KernelError(EISDIR)
        self.fs.check_writable()
        if self.data is None:
            raise KernelError(EINVAL)
        if size < len(self.data):
            del self.data[size:]
        else:
            self.data.extend(bytes(size - len(self.data)))
        self.touch_modified()

    def readlink(self):
        if not self.is_symlink:
            raise KernelError(EINVAL)
        return self.target
