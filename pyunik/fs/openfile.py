"""The open file description of an inode: offset, flags, and the path it was opened by.

Layer: fs. `InodeFile` turns read/write/seek/getdents on an fd into calls on the inode
(fs/inode.py); data reaches guest memory through the IovIter the caller hands in.
Filesystems with special files (devices, generated /proc files) give their own File
from `Inode.open`; everything else gets an InodeFile.
"""

from __future__ import annotations

import bisect
import stat as S
from errno import EFAULT, EINVAL, EISDIR, ENOTDIR, ENXIO, EOVERFLOW

from ..abi import linux as L
from ..abi.dirent import DIRENT as _DIRENT, DIRENT64 as _DIRENT64
from ..abi.fs import MAX_LFS_FILESIZE as MAX_OFFSET
from ..abi.fs import SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET
from ..errors import KernelError
from . import locks, seals
from .file import File
from .pipe import open_fifo
from .inode import Inode, dtype



class InodeFile(File):
    positional = True

    def __init__(self, inode: Inode, flags: int, path=None):
        super().__init__(flags)
        self.inode = inode
        self.path = path               # the vfs.Path it was opened by (for fchdir, /proc)
        self.offset = 0
        self._dir_snapshot: list | None = None

    # ---- data -----

    def read(self, size: int) -> bytes:
        if self.inode.is_dir:
            raise KernelError(EISDIR)
        data = self.inode.read(self.offset, size)
        self.offset += len(data)
        return data

    def write(self, data: bytes) -> int:
        if not data:
            return 0              # generic_write_checks: nothing moves, not even O_APPEND
        if self.flags & L.O_APPEND:
            self.offset = self.inode.size
        seals.check_write(self.inode, self.offset, len(data))
        n = self.inode.write(self.offset, data)
        self.offset += n
        return n

    def pread(self, size: int, offset: int) -> bytes:
        if self.inode.is_dir:
            raise KernelError(EISDIR)
        return self.inode.read(offset, size)

    def pwrite(self, data: bytes, offset: int) -> int:
        if not data:
            return 0
        # Linux: pwrite on an O_APPEND file appends (a documented bug kept for ABI).
        if self.flags & L.O_APPEND:
            offset = self.inode.size
        seals.check_write(self.inode, offset, len(data))
        return self.inode.write(offset, data)

    def read_iter(self, dst, offset: int | None = None) -> int:
        """read(2) and friends: filemap_read's rules (File.stream_read); the file
        position moves by what the guest got."""
        if self.inode.is_dir:
            raise KernelError(EISDIR)
        if offset is not None:
            return self.stream_read(dst, offset)
        start = self.offset
        done = self.stream_read(dst, start)
        self.offset = start + done
        return done

    def write_iter(self, src, offset: int | None = None) -> int:
        return self.stream_write(src, offset)

    def seek(self, offset: int, whence: int) -> int:
        size = self.inode.size
        if whence == SEEK_SET:
            new = offset
        elif whence == SEEK_CUR:
            new = self.offset + offset
        elif whence == SEEK_END:
            new = size + offset
        elif whence in (SEEK_DATA, SEEK_HOLE):
            if self.inode.is_dir:
                raise KernelError(EINVAL)
            if offset < 0 or offset >= size:
                raise KernelError(ENXIO)
            new = offset if whence == SEEK_DATA else size   # no holes are tracked
        else:
            raise KernelError(EINVAL)
        if new < 0:
            raise KernelError(EINVAL)
        if new > MAX_OFFSET:
            raise KernelError(EOVERFLOW)
        if self.inode.is_dir and new != self.offset:
            self._dir_snapshot = None if new == 0 else self._dir_snapshot
        self.offset = new
        return new

    def stat(self) -> tuple:
        return self.inode.stat()

    def stat_bytes(self) -> bytes:
        """The inode's packing, kept by the inode where it can be (a subclass that
        changes stat() must change this too)."""
        return self.inode.stat_bytes()

    def close(self) -> None:
        locks.release(self.inode, self)      # OFD and flock locks die with the file
        locks.release(self.inode, self, locks.FLOCK)

    def ioctl(self, request: int, arg: int, mm) -> int:
        if request == L.FIONREAD and self.inode.is_regular:
            mm.write_i32(arg, max(0, self.inode.size - self.offset))
            return 0
        return super().ioctl(request, arg, mm)

    def truncate(self, size: int) -> None:
        if not self.writable:
            raise KernelError(EINVAL)
        self.inode.truncate(size)

    # ---- directories -----

    def _listing(self) -> list[tuple[bytes, int, int]]:
        """(name, ino, d_type) for ., .., then the children; kept for the life of one
        pass so offsets stay stable while the directory changes."""
        if self._dir_snapshot is None or self.offset == 0:
            d = self.inode
            parent = self.path.parent().inode if self.path is not None else d
            self._dir_snapshot = [(b".", d.ino, 4), (b"..", parent.ino, 4)] + [
                (name, child.ino, dtype(child.mode)) for name, child in d.entries()]
        return self._dir_snapshot

    def getdents(self, dst, old_format: bool = False) -> int:
        """getdents64(2) (or getdents(2)'s old linux_dirent): whole records copied into
        dst while they fit. As filldir64 does, a record the guest cannot take ends the
        call: the records before it are the result (EFAULT if there are none) and the
        position stays at it; at the end of the directory dst is never touched. The
        records that fit are copied in one piece (a directory of hundreds of names
        is one copy, not one per name); a fault part way keeps the whole records
        before it."""
        if not self.inode.is_dir:
            raise KernelError(ENOTDIR)
        listing = self._listing()
        room = dst.count
        recs = []
        ends = []              # where each record ends in the buffer
        done = 0
        pos = self.offset
        while pos < len(listing):
            name, ino, kind = listing[pos]
            if old_format:
                reclen = (_DIRENT.size + len(name) + 2 + 7) & ~7
                rec = _DIRENT.pack(ino, pos + 1, reclen) + name + b"\0"
                rec += bytes(reclen - len(rec) - 1) + bytes([kind])
            else:
                reclen = (_DIRENT64.size + len(name) + 1 + 7) & ~7
                rec = _DIRENT64.pack(ino, pos + 1, reclen, kind) + name
                rec += bytes(reclen - len(rec))
            if done + reclen > room:
                if not done:
                    raise KernelError(EINVAL)     # buffer too small for one entry
                break
            recs.append(rec)
            done += reclen
            ends.append(done)
            pos += 1
        if not recs:
            return 0
        copied = dst.copy_out(b"".join(recs))
        if copied < done:                  # a bad page: the whole records before it
            whole = bisect.bisect_right(ends, copied)
            if not whole:
                raise KernelError(EFAULT)
            pos = self.offset + whole
            done = ends[whole - 1]
        self.offset = pos
        return done


def open_inode(inode: Inode, flags: int, path=None) -> File:
    """The File for an opened inode: the filesystem's own, a pipe end for a fifo
    (WouldBlock if the open must wait for the other end), ENXIO for a socket, or an
    InodeFile."""
    special = inode.open(flags)
    if special is not None:
        if special.path is None and special.inode is not None:
            special.path = path
        return special
    if S.S_ISFIFO(inode.mode):
        return open_fifo(inode, flags)
    if S.S_ISSOCK(inode.mode):
        raise KernelError(ENXIO)     # bad_sock_fops: a socket is reached by connect
    return InodeFile(inode, flags, path)


