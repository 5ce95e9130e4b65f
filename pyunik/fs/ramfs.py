"""ramfs: files that live in memory, with tmpfs semantics (/, /tmp, /dev/shm, overlay
upper layers).

A directory keeps a dict of children in insertion order (getdents lists them so);
a regular file keeps a bytearray, or a host memfd once it is mapped or has a large hole
(the host then keeps the hole sparse); a symlink keeps its target. Hard links share the
inode; nlink counts names (and a directory's subdirectories, as on Linux).

Space is bounded as tmpfs's size= option bounds it: each RamFS holds at most `size`
bytes of file contents (the blocks a file really uses: a hole costs nothing), and a
write or fallocate beyond it fails with ENOSPC; a file beyond MAX_FILE_SIZE is EFBIG.
So no guest-given size makes the host allocate more than the filesystem's size.
Callers that know the guest memory limit give half of it, tmpfs's default share of RAM.

Layer: fs, a filesystem under the VFS.
Calls: fs/inode.py (the inode and directory base classes) only.
"""

from __future__ import annotations

import ctypes
import os
import stat as S
from errno import EEXIST, EFBIG, EINVAL, EISDIR, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY, EPERM

from ..abi.fs import FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, MAX_LFS_FILESIZE, RENAME_EXCHANGE
from ..abi.magic import TMPFS_MAGIC
from ..errors import KernelError
from .inode import DictDirectory, FileSystem, Inode, check_rename_target

MAX_FILE_SIZE = MAX_LFS_FILESIZE  # tmpfs: s_maxbytes = MAX_LFS_FILESIZE
DEFAULT_SIZE = 1 << 30           # half of the default guest memory limit (2G)
DENSE_HOLE = 1 << 20             # a hole larger than this moves the file into a memfd
_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def _punch(fd: int, offset: int, length: int) -> None:
    """Zero [offset, offset+length) of a memfd, giving its pages back."""
    if length > 0 and _libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                      offset, length) != 0:
        os.pwrite(fd, bytes(length), offset)


class RamFS(FileSystem):

    cacheable = True
    name = "tmpfs"
    magic = TMPFS_MAGIC

    def __init__(self, readonly: bool = False, uid: int = 0, gid: int = 0, mode: int = 0o1777,
                 size: int | None = None):
        super().__init__(readonly)
        self.size_limit = DEFAULT_SIZE if size is None else size
        self.used = 0                    # bytes of file contents held, over all inodes
        self.root = RamInode(self, S.S_IFDIR | mode, uid, gid)
        self.root.parent = self.root

    def set_clock(self, clock) -> None:
        """The clock, and the root (made with the filesystem, still empty) stamped
        from it."""
        super().set_clock(clock)
        r = self.root
        r.atime_ns = r.mtime_ns = r.ctime_ns = clock()

    def reserve(self, growth: int) -> None:
        """Room for growth more bytes, or ENOSPC (shmem_inode_acct_blocks)."""
        if growth > 0 and self.used + growth > self.size_limit:
            raise KernelError(ENOSPC)

    def statfs(self) -> dict:
        blocks = self.size_limit // 4096
        free = max(0, blocks - (self.used + 4095) // 4096)
        return {"type": self.magic, "bsize": 4096, "blocks": blocks, "bfree": free,
                "bavail": free, "files": 1 << 20, "ffree": 1 << 20,
                "namelen": 255, "frsize": 4096, "flags": 0}


class RamInode(DictDirectory, Inode):
    stat_bytes = Inode.kept_stat_bytes
    def __init__(self, fs, mode, uid=0, gid=0, rdev=0):
        super().__init__(fs, mode, uid, gid, rdev=rdev)
        self.children: dict[bytes, RamInode] | None = {} if S.S_ISDIR(mode) else None
        self.data = bytearray() if S.S_ISREG(mode) else None
        self.memfd: int | None = None    # once mapped: the contents live in a host memfd
        self.memfd_size = 0              # the file's size then (the memfd may be larger)
        self.charged = 0                 # bytes counted in fs.used for this file
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
        inode.ctime_ns = self.fs.clock()

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
        child.ctime_ns = self.fs.clock()
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
        src.ctime_ns = self.fs.clock()
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
        if self.memfd is None and offset > len(self.data) + DENSE_HOLE:
            self._to_memfd()
        if self.memfd is not None:
            # Holes the write fills are not known here; the recount after it is exact.
            self.fs.reserve(max(len(data), end - self.memfd_size))
            os.pwrite(self.memfd, data, offset)
            self.memfd_size = max(self.memfd_size, end)
        else:
            self.fs.reserve(end - len(self.data))
            if offset > len(self.data):
                self.data.extend(bytes(offset - len(self.data)))
            self.data[offset:end] = data
        self._recount()
        self.touch_modified()
        return len(data)

    def _recount(self) -> None:
        """Bring fs.used up to date with the blocks this file really holds."""
        if self.memfd is not None:
            held = os.fstat(self.memfd).st_blocks * 512
        else:
            held = len(self.data) if self.data is not None else 0
        self.fs.used += held - self.charged
        self.charged = held

    def _to_memfd(self) -> None:
        """Move the contents into a host memfd: holes stay sparse on the host, and a
        mapping shares the pages with read() and write()."""
        fd = os.memfd_create("pyunik-ramfs", os.MFD_CLOEXEC)
        view = memoryview(self.data)
        while view:
            view = view[os.write(fd, view):]
        self.memfd, self.memfd_size, self.data = fd, len(self.data), None
        self._recount()

    def allocate(self, offset: int, length: int, keep_size: bool) -> None:
        """fallocate(2) modes 0 and FALLOC_FL_KEEP_SIZE: blocks for [offset,
        offset+length), counted against the filesystem's size as shmem_fallocate
        counts them (ENOSPC when they do not fit; EFBIG past the largest file)."""
        self.fs.check_writable()
        end = offset + length
        if end > MAX_FILE_SIZE:
            raise KernelError(EFBIG)
        self.fs.reserve(length)       # counted whole: holes in the range are not known
        if self.memfd is None:
            self._to_memfd()
        if os.fstat(self.memfd).st_size < end:
            os.ftruncate(self.memfd, end)
        if _libc.fallocate(self.memfd, FALLOC_FL_KEEP_SIZE, offset, length) != 0:
            raise KernelError(ctypes.get_errno())
        if not keep_size and end > self.memfd_size:
            self.memfd_size = end
        self._recount()
        self.touch_modified()

    def truncate(self, size):
        if self.is_dir:
            raise KernelError(EISDIR)
        self.fs.check_writable()
        if self.data is None and self.memfd is None:
            raise KernelError(EINVAL)
        if size > MAX_FILE_SIZE:
            raise KernelError(EFBIG)
        if self.memfd is None and size > len(self.data) + DENSE_HOLE:
            self._to_memfd()
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
            self.fs.reserve(size - len(self.data))
            self.data.extend(bytes(size - len(self.data)))
        self._recount()
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
        self._recount()
        self.touch_modified()

    def mmap_source(self, writable, end):
        """Mapping a ramfs file moves its contents into a host memfd, so the mapping
        and read()/write() share the same pages, as tmpfs's page cache does."""
        if not self.is_regular:
            return None
        if self.memfd is None:
            self._to_memfd()
        # Grow the memfd (not the file) so the whole mapping has host pages: the
        # file may grow into them later, as tmpfs pages past EOF become valid.
        if os.fstat(self.memfd).st_size < end:
            os.ftruncate(self.memfd, end)
        return self.memfd, 0

    def __del__(self):
        fs = getattr(self, "fs", None)
        if fs is not None:
            fs.used -= getattr(self, "charged", 0)
        if getattr(self, "memfd", None) is not None:
            os.close(self.memfd)

    def readlink(self):
        if not self.is_symlink:
            raise KernelError(EINVAL)
        return self.target
