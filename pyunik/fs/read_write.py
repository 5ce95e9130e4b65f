"""The VFS read and write operations (Linux's fs/read_write.c): a File's read_iter
or write_iter, then the fsnotify event (IN_ACCESS, IN_MODIFY) when bytes moved, as
vfs_read, vfs_readv and vfs_write do; the chunked copy between two files that
sendfile and copy_file_range make; and reading a directory (iterate_dir, from
fs/readdir.c).

Layer: fs. Called by the read/write family of system calls with the File and an
IovIter over the guest's buffers (mm/iov_iter.py); calls the File and fs/inotify.py.
Signals (SIGPIPE on a broken pipe) are the caller's.
"""

from __future__ import annotations

from errno import ENOENT, ENOTDIR

from ..errors import KernelError
from . import inotify
from .file import transfer


def read(f, dst, offset: int | None = None) -> int:
    """vfs_read: at the file position, or at offset. A read of 0 bytes still asks
    the file (a directory says EISDIR, an eventfd EINVAL)."""
    return inotify.accessed(f, f.read_iter(dst, offset))


def readv(f, dst, offset: int | None = None) -> int:
    """vfs_readv: nothing at all for 0 bytes; a file that reads only whole records
    (inotify: no read_iter in Linux) reads each buffer alone, as
    do_loop_readv_writev does."""
    if not dst.count:
        return 0
    if getattr(f, "read_each_iovec", False):
        return inotify.accessed(f, _read_each(f, dst, offset))
    return inotify.accessed(f, f.read_iter(dst, offset))


def _read_each(f, dst, offset):
    done = 0
    for one in dst.segments():
        want = one.count
        try:
            n = f.read_iter(one, None if offset is None else offset + done) if want else 0
        except KernelError:
            if done:
                break
            raise
        done += n
        if n != want:
            break
    return done


def write(f, src, offset: int | None = None) -> int:
    """vfs_write (and vfs_writev: the buffers as one write)."""
    return inotify.modified(f, f.write_iter(src, offset))


def copy_range(fin, pin: int, fout, pout: int | None, length: int) -> int:
    """length bytes of fin from pin on to fout at pout (at its own position if pout
    is None), a chunk at a time (do_splice_direct); how many moved."""
    if pout is None:
        def put(data, done):
            return fout.write(data)
    else:
        def put(data, done):
            return fout.pwrite(data, pout + done)
    n = transfer(lambda size, done: fin.pread(size, pin + done), put, length)
    inotify.accessed(fin, n)
    return inotify.modified(fout, n)


def splice(fin, pin: int | None, fout, pout: int | None, length: int) -> tuple[int, int]:
    """do_splice as one read and one write (at the files' positions, or at pin and
    pout): (bytes taken from fin, bytes given to fout)."""
    data = fin.read(length) if pin is None else fin.pread(length, pin)
    inotify.accessed(fin, len(data))
    if not data:
        return 0, 0
    n = fout.write(data) if pout is None else fout.pwrite(data, pout)
    return len(data), inotify.modified(fout, n)


def iterate_dir(f, dst, old_format: bool = False) -> int:
    """iterate_dir: ENOTDIR for a file that is no directory, ENOENT for a removed
    one, else the records that fit in dst (InodeFile.getdents) and IN_ACCESS."""
    if not hasattr(f, "getdents"):
        raise KernelError(ENOTDIR)
    if f.inode.is_dir and f.inode.nlink == 0:
        raise KernelError(ENOENT)
    n = f.getdents(dst, old_format)
    inotify.accessed(f)
    return n
