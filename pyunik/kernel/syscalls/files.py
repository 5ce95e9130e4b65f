"""Path-based file system calls: open, stat, directories, links, permissions, times.

Argument checking and the order of Linux's checks; the walking is fs/vfs.py's, the
files are the filesystems' (fs/). Every path is relative to the caller's cwd, or to
a directory fd for the *at variants (AT_FDCWD meaning the cwd).
"""

from __future__ import annotations

import os
import stat as S
import time
from errno import (E2BIG, EACCES, EAGAIN, EBADF, EBUSY, EEXIST, EINVAL, EISDIR, ELOOP,
                   ENODATA, ENODEV, ENOENT, ENOTDIR, ENOTEMPTY, ENOTSUP, EOPNOTSUPP, EPERM,
                   ERANGE, EROFS, ESPIPE, EXDEV)

from ...abi import linux as L
from ...abi.fcntl import AT_EACCESS, F_OK, W_OK
from ...abi.fs import (FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, MAY_EXEC, MAY_READ, MAY_WRITE,
                       RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT)
from ...abi.limits import XATTR_NAME_MAX
from ...abi.openat2 import (OPEN_HOW, RESOLVE_ALL, RESOLVE_BENEATH, RESOLVE_CACHED,
                            RESOLVE_IN_ROOT)
from ...abi.stat import (STATX_ATIME, STATX_BASIC_STATS, STATX_CTIME, STATX_DEVS,
                         STATX_DEVS_OFFSET, STATX_HEAD, STATX_MTIME, STATX_SIZE,
                         STATX_SIZES, STATX_SIZES_OFFSET, STATX_TIMESTAMP, STATX__RESERVED,
                         UTIME_NOW, UTIME_OMIT)
from ...abi.statfs import STATFS
from ...errors import KernelError
from ...fs import inotify
from ...fs import seals
from ...fs.openfile import InodeFile, open_inode
from ...fs.pipe import FifoWouldBlock
from ...fs.vfs import Path, WalkContext, permitted
from ...mm.iov_iter import IovIter

O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC = L.O_CREAT, L.O_EXCL, L.O_NOCTTY, L.O_TRUNC
O_DIRECTORY, O_NOFOLLOW, O_PATH, O_TMPFILE = L.O_DIRECTORY, L.O_NOFOLLOW, L.O_PATH, L.O_TMPFILE
O_LARGEFILE = L.O_LARGEFILE
_OPEN_KEEP = ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | L.O_CLOEXEC)   # kept in f_flags
_VALID_OPEN = (0o3 | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | L.O_APPEND | L.O_NONBLOCK
               | 0o10000 | 0o20000 | L.O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW
               | 0o1000000 | L.O_CLOEXEC | 0o4010000 | O_PATH | O_TMPFILE)


def _vfs(t):
    return t.process.kernel.vfs


def _creds(t):
    """(euid, egid, groups): what permission checks and walks go by."""
    return t.process.cred.walk_creds


def _base(t, dirfd: int, path: bytes) -> Path:
    """Where a relative path starts: the cwd for AT_FDCWD, else the directory fd's path."""
    if path.startswith(b"/"):
        return t.process.fs.cwd       # unused by the walk, which starts at the root
    return _dirfd_path(t, dirfd)


def _dirfd_path(t, dirfd: int) -> Path:
    if dirfd == L.AT_FDCWD:
        return t.process.fs.cwd
    f = t.process.fds.get(dirfd)
    p = getattr(f, "path", None)
    if p is None or not p.inode.is_dir:
        raise KernelError(ENOTDIR)
    return p


def _context(t) -> WalkContext:
    """Whom the walk is for: the calling process's root and credentials."""
    return t.process.walk_context()


def resolve(t, dirfd: int, path: bytes, follow: bool = True, empty_ok: bool = False) -> Path:
    """The Path for (dirfd, path); AT_EMPTY_PATH (empty_ok) means dirfd itself."""
    if not path:
        if empty_ok:
            if dirfd == L.AT_FDCWD:
                return t.process.fs.cwd
            f = t.process.fds.get(dirfd)
            p = getattr(f, "path", None)
            if p is None:
                raise KernelError(ENOENT)
            return p
        raise KernelError(ENOENT)
    return _vfs(t).resolve(_context(t), _base(t, dirfd, path), path, follow)


def _lookup_parent(t, dirfd, path, follow=False):
    if not path:
        raise KernelError(ENOENT)
    return _vfs(t).resolve_parent(_context(t), _base(t, dirfd, path), path, follow)


def _may(t, inode, mask):
    if not permitted(inode, mask, *_creds(t)):
        raise KernelError(EACCES)


def _dead(inode) -> bool:
    """A directory that was removed (IS_DEADDIR): nothing can be made in it."""
    return inode.is_dir and inode.nlink == 0


def _may_change_dir(t, parent: Path) -> None:
    """Creating or removing a name: write and search permission, a writable mount, and
    a directory that still exists."""
    if _dead(parent.inode):
        raise KernelError(ENOENT)
    _may(t, parent.inode, MAY_WRITE | MAY_EXEC)
    _vfs(t).changed()
    parent.mount.check_writable()


def _sticky_ok(t, parent, child) -> None:
    c = t.process.cred
    if parent.inode.mode & S.S_ISVTX and c.euid not in (0, child.uid, parent.inode.uid):
        raise KernelError(EPERM)


# ---- open ---------------------------------------------------------------------------------

def do_open(t, dirfd: int, path: bytes, flags: int, mode: int) -> int:
    p = t.process
    acc = flags & L.O_ACCMODE
    if flags & O_TMPFILE == O_TMPFILE:
        return _open_tmpfile(t, dirfd, path, flags, mode)
    if flags & O_PATH:
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | L.O_CLOEXEC
        acc = L.O_RDONLY
    created = False
    if not flags & O_PATH:
        flags |= O_LARGEFILE          # always on 64-bit Linux (force_o_largefile)
    if flags & O_CREAT:
        if flags & O_DIRECTORY:
            raise KernelError(EINVAL)     # Linux >= 6.4
        lk = _lookup_parent(t, dirfd, path, follow=not flags & (O_EXCL | O_NOFOLLOW))
        if lk.child is None:
            if lk.trailing_slash:
                raise KernelError(EISDIR)
            _may_change_dir(t, lk.parent)
            inode = lk.parent.inode.create(lk.name, S.S_IFREG | (mode & 0o7777 & ~p.fs.umask),
                                           p.cred.euid, p.cred.egid)
            target = lk.parent.child(lk.name, inode, lk.parent.mount)
            created = True
            inotify.created(lk)
        else:
            if flags & O_EXCL:
                raise KernelError(EEXIST)
            target = lk.child
            if target.inode.is_symlink:
                raise KernelError(ELOOP)      # O_NOFOLLOW on a symlink
            if target.inode.is_dir:
                raise KernelError(EISDIR)
    else:
        target = resolve(t, dirfd, path, follow=not flags & O_NOFOLLOW)
    inode = target.inode
    if inode.is_symlink and not flags & O_PATH:
        raise KernelError(ELOOP)
    if flags & O_DIRECTORY and not inode.is_dir:
        raise KernelError(ENOTDIR)
    if not flags & O_PATH:
        if inode.is_dir and (acc != L.O_RDONLY or flags & O_TRUNC):
            raise KernelError(EISDIR)
        if not created:
            mask = (MAY_READ if acc in (L.O_RDONLY, L.O_RDWR) else 0) | \
                   (MAY_WRITE if acc in (L.O_WRONLY, L.O_RDWR) or flags & O_TRUNC else 0)
            _may(t, inode, mask)
        if (acc != L.O_RDONLY or flags & O_TRUNC) and (inode.is_regular or inode.is_dir):
            target.mount.check_writable()
        if flags & O_TRUNC and inode.is_regular and not created and inode.size:
            p.kernel.file_shrinking(inode, 0)
            inode.truncate(0)
        try:
            file = open_inode(inode, flags & _OPEN_KEEP, target)
        except FifoWouldBlock:
            t.process.kernel.deadlock(t, "opening a fifo whose other end nobody opens")
    else:
        file = InodeFile(inode, flags & _OPEN_KEEP, target)
    inotify.opened(file, target, truncated=bool(flags & O_TRUNC) and not created)
    return p.fds.install(file, bool(flags & L.O_CLOEXEC))


def _open_tmpfile(t, dirfd, path, flags, mode):
    """O_TMPFILE: an unnamed regular file in the directory, linkable later."""
    p = t.process
    if flags & L.O_ACCMODE == L.O_RDONLY:
        raise KernelError(EINVAL)
    d = resolve(t, dirfd, path)
    if not d.inode.is_dir:
        raise KernelError(ENOTDIR)
    _may_change_dir(t, d)
    name = b".pyunik-tmpfile-%d" % time.monotonic_ns()
    inode = d.inode.create(name, S.S_IFREG | (mode & 0o7777 & ~p.fs.umask), p.cred.euid,
                           p.cred.egid)
    d.inode.unlink(name)
    inode.never_link = bool(flags & O_EXCL)     # O_TMPFILE|O_EXCL: linkat gives ENOENT
    file = InodeFile(inode, flags & _OPEN_KEEP & ~O_TMPFILE | L.O_RDWR & flags,
                     d.child(name, inode, d.mount))
    return p.fds.install(file, bool(flags & L.O_CLOEXEC))


def _check_open_flags(flags):
    """open(2) ignores unknown flag bits (openat2 rejects them); O_TMPFILE may not
    come with O_CREAT."""
    if flags & O_TMPFILE == O_TMPFILE and flags & O_CREAT:
        raise KernelError(EINVAL)


def sys_open(t, path, flags, mode):
    """open(2)."""
    _check_open_flags(flags)
    return do_open(t, L.AT_FDCWD, path, flags, mode)


def sys_openat(t, dirfd, path, flags, mode):
    """openat(2)."""
    _check_open_flags(flags)
    return do_open(t, dirfd, path, flags, mode)


def sys_creat(t, path, mode):
    """creat(2): open(path, O_CREAT|O_WRONLY|O_TRUNC, mode)."""
    return do_open(t, L.AT_FDCWD, path, O_CREAT | L.O_WRONLY | O_TRUNC, mode)


def sys_openat2(t, dirfd, path, how, size):
    """openat2(2): unknown flags or resolve bits are EINVAL; RESOLVE_NO_SYMLINKS,
    RESOLVE_BENEATH, RESOLVE_IN_ROOT and RESOLVE_NO_XDEV are honoured."""
    if size < OPEN_HOW.size or size > 4096:
        raise KernelError(EINVAL)
    raw = t.mm.read(how, size)
    if any(raw[OPEN_HOW.size:]):
        raise KernelError(E2BIG)   # unknown trailing fields set
    flags, mode, resolve_bits = OPEN_HOW.unpack(raw[:OPEN_HOW.size])
    if flags & ~_VALID_OPEN or resolve_bits & ~RESOLVE_ALL:
        raise KernelError(EINVAL)
    if mode and not flags & (O_CREAT | O_TMPFILE):
        raise KernelError(EINVAL)
    if mode & ~0o7777:
        raise KernelError(EINVAL)
    if resolve_bits & RESOLVE_BENEATH and resolve_bits & RESOLVE_IN_ROOT:
        raise KernelError(EINVAL)
    if resolve_bits & RESOLVE_CACHED:
        raise KernelError(EAGAIN)  # nothing is cached
    if resolve_bits & ~RESOLVE_CACHED:
        path = _vfs(t).scoped_path(_context(t), _dirfd_path(t, dirfd), path, resolve_bits,
                                   not flags & O_NOFOLLOW)
    _check_open_flags(flags)
    return do_open(t, dirfd, path, flags, mode)


def sys_close_range(t, first, last, flags):
    """close_range(2): CLOSE_RANGE_CLOEXEC marks instead of closing; UNSHARE is a no-op
    with one process per fd table."""
    if flags & ~0x6 or first > last:
        raise KernelError(EINVAL)
    fds = t.process.fds
    for fd in fds.open_fds():
        if first <= fd <= last:
            if flags & 0x4:
                fds.cloexec[fd] = True
            else:
                closing = fds.files[fd]
                fds.close(fd)
                inotify.closed(closing)
    return 0


# ---- stat ----------------------------------------------------------------------------------

def _write_stat(t, statbuf, fields):
    t.mm.write(statbuf, L.STAT.pack(*fields))
    return 0


def sys_stat(t, path, statbuf):
    """stat(2)."""
    return _write_stat(t, statbuf, resolve(t, L.AT_FDCWD, path).inode.stat())


def sys_lstat(t, path, statbuf):
    """lstat(2)."""
    return _write_stat(t, statbuf, resolve(t, L.AT_FDCWD, path, follow=False).inode.stat())


def sys_newfstatat(t, dirfd, path, statbuf, flags):
    """newfstatat(2): AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, AT_NO_AUTOMOUNT."""
    if flags & ~(L.AT_SYMLINK_NOFOLLOW | L.AT_EMPTY_PATH | L.AT_NO_AUTOMOUNT):
        raise KernelError(EINVAL)
    if not path and flags & L.AT_EMPTY_PATH and dirfd != L.AT_FDCWD:
        return _write_stat(t, statbuf, t.process.fds.get(dirfd).stat())
    p = resolve(t, dirfd, path, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
                empty_ok=bool(flags & L.AT_EMPTY_PATH))
    return _write_stat(t, statbuf, p.inode.stat())


def sys_statx(t, dirfd, path, flags, mask, statxbuf):
    """statx(2): the basic stats and btime-less fields; STATX_ATTR bits are 0."""
    if flags & ~(L.AT_SYMLINK_NOFOLLOW | L.AT_EMPTY_PATH | L.AT_NO_AUTOMOUNT
                 | L.AT_STATX_SYNC_TYPE):
        raise KernelError(EINVAL)
    if flags & L.AT_STATX_SYNC_TYPE == L.AT_STATX_SYNC_TYPE or mask & STATX__RESERVED:
        raise KernelError(EINVAL)
    if not path and flags & L.AT_EMPTY_PATH and dirfd != L.AT_FDCWD:
        st = t.process.fds.get(dirfd).stat()
    else:
        st = resolve(t, dirfd, path, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
                     empty_ok=bool(flags & L.AT_EMPTY_PATH)).inode.stat()
    (dev, ino, nlink, mode, uid, gid, _, rdev, size, blksize, blocks,
     at, atn, mt, mtn, ct, ctn, *_rest) = st
    raw = bytearray(STATX_SIZE)
    STATX_HEAD.pack_into(raw, 0, STATX_BASIC_STATS, blksize, 0, nlink, uid, gid, mode)
    STATX_SIZES.pack_into(raw, STATX_SIZES_OFFSET, ino, size, blocks, 0)
    STATX_TIMESTAMP.pack_into(raw, STATX_ATIME, at, atn)
    STATX_TIMESTAMP.pack_into(raw, STATX_CTIME, ct, ctn)
    STATX_TIMESTAMP.pack_into(raw, STATX_MTIME, mt, mtn)
    STATX_DEVS.pack_into(raw, STATX_DEVS_OFFSET, os.major(rdev), os.minor(rdev), os.major(dev),
                         os.minor(dev))
    t.mm.write(statxbuf, bytes(raw))
    return 0


def _statfs_bytes(fs) -> bytes:
    info = fs.statfs()
    return STATFS.pack(info["type"], info["bsize"], info["blocks"], info["bfree"],
                       info["bavail"], info["files"], info["ffree"], 0, 0, info["namelen"],
                       info["frsize"], info["flags"] | (L.ST_RDONLY if fs.readonly else 0),
                       0, 0, 0, 0)


def sys_statfs(t, path, buf):
    """statfs(2)."""
    p = resolve(t, L.AT_FDCWD, path)
    t.mm.write(buf, _statfs_bytes(p.inode.fs))
    return 0


def sys_fstatfs(t, fd, buf):
    """fstatfs(2)."""
    f = t.process.fds.get(fd)
    inode = getattr(f, "inode", None)
    if inode is None:
        raise KernelError(EINVAL)   # pipes and host streams: pipefs is not shown
    t.mm.write(buf, _statfs_bytes(inode.fs))
    return 0


# ---- directories --------------------------------------------------------------------------

def _getdents(t, fd, dirp, count, old_format):
    """EBADF, then access_ok, then ENOTDIR and ENOENT (iterate_dir); the records
    are copied as filldir64 copies them (InodeFile.getdents)."""
    f = t.process.fds.get(fd)
    if f.flags & O_PATH:
        raise KernelError(EBADF)
    dst = IovIter.buffer(t.mm, dirp, count)
    if not hasattr(f, "getdents"):
        raise KernelError(ENOTDIR)
    if _dead(f.inode):
        raise KernelError(ENOENT)
    n = f.getdents(dst, old_format)
    inotify.accessed(f)
    return n


def sys_getdents64(t, fd, dirp, count):
    """getdents64(2)."""
    return _getdents(t, fd, dirp, count, False)


def sys_getdents(t, fd, dirp, count):
    """getdents(2): the old linux_dirent records (d_type in the last byte)."""
    return _getdents(t, fd, dirp, count, True)


def do_mkdir(t, dirfd, path, mode):
    p = t.process
    lk = _lookup_parent(t, dirfd, path)
    if lk.child is not None:
        raise KernelError(EEXIST)
    _may_change_dir(t, lk.parent)
    lk.parent.inode.mkdir(lk.name, mode & 0o7777 & ~p.fs.umask, p.cred.euid, p.cred.egid)
    inotify.created(lk, is_dir=True)
    return 0


def sys_mkdir(t, path, mode):
    """mkdir(2)."""
    return do_mkdir(t, L.AT_FDCWD, path, mode)


def sys_mkdirat(t, dirfd, path, mode):
    """mkdirat(2)."""
    return do_mkdir(t, dirfd, path, mode)


def do_rmdir(t, dirfd, path):
    lk = _lookup_parent(t, dirfd, path)
    if lk.name == b".":
        raise KernelError(EINVAL)
    if lk.name == b"..":
        raise KernelError(ENOTEMPTY)
    if lk.child is None:
        raise KernelError(ENOENT)
    if not lk.child.inode.is_dir:
        raise KernelError(ENOTDIR)       # a symlink too, even to a directory
    if lk.child.mount is not lk.parent.mount or len(lk.child.steps) == 1:
        raise KernelError(EBUSY)   # a mount point
    _may_change_dir(t, lk.parent)
    _sticky_ok(t, lk.parent, lk.child.inode)
    lk.parent.inode.rmdir(lk.name)
    inotify.removed(lk)
    return 0


def sys_rmdir(t, path):
    """rmdir(2)."""
    return do_rmdir(t, L.AT_FDCWD, path)


def do_unlink(t, dirfd, path):
    lk = _lookup_parent(t, dirfd, path)
    if lk.child is None:
        raise KernelError(ENOENT)
    if lk.child.inode.is_dir:
        raise KernelError(EISDIR)
    if lk.trailing_slash:
        raise KernelError(ENOTDIR)
    _may_change_dir(t, lk.parent)
    _sticky_ok(t, lk.parent, lk.child.inode)
    links = inotify.links(lk.child)
    lk.parent.inode.unlink(lk.name)
    inotify.removed(lk, links)
    return 0


def sys_unlink(t, path):
    """unlink(2)."""
    return do_unlink(t, L.AT_FDCWD, path)


def sys_unlinkat(t, dirfd, path, flags):
    """unlinkat(2): AT_REMOVEDIR makes it rmdir."""
    if flags & ~L.AT_REMOVEDIR:
        raise KernelError(EINVAL)
    if flags & L.AT_REMOVEDIR:
        return do_rmdir(t, dirfd, path)
    return do_unlink(t, dirfd, path)


def do_rename(t, olddirfd, oldpath, newdirfd, newpath, flags):
    if flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT):
        raise KernelError(EINVAL)
    if flags & RENAME_EXCHANGE and flags & (RENAME_NOREPLACE | RENAME_WHITEOUT):
        raise KernelError(EINVAL)
    if flags & RENAME_WHITEOUT:
        raise KernelError(EINVAL)      # whiteouts are overlayfs-internal
    old = _lookup_parent(t, olddirfd, oldpath)
    new = _lookup_parent(t, newdirfd, newpath)
    if old.name in (b".", b"..", b"/") or new.name in (b".", b"..", b"/"):
        raise KernelError(EBUSY)
    if old.child is None:
        raise KernelError(ENOENT)
    if old.parent.mount is not new.parent.mount:
        raise KernelError(EXDEV)
    src = old.child.inode
    if (old.trailing_slash or new.trailing_slash) and not src.is_dir:
        raise KernelError(ENOTDIR)
    if new.child is not None:
        if flags & RENAME_NOREPLACE:
            raise KernelError(EEXIST)
        dst = new.child.inode
        if dst is src:
            return 0
        if not flags & RENAME_EXCHANGE:
            if src.is_dir and not dst.is_dir:
                raise KernelError(ENOTDIR)
            if dst.is_dir and not src.is_dir:
                raise KernelError(EISDIR)
    elif flags & RENAME_EXCHANGE:
        raise KernelError(ENOENT)
    # A directory cannot move below itself.
    if src.is_dir:
        steps = [s.inode for s in new.parent.steps]
        if src in steps:
            raise KernelError(EINVAL)
    _may_change_dir(t, old.parent)
    _may_change_dir(t, new.parent)
    _sticky_ok(t, old.parent, src)
    links = inotify.links(new.child)
    old.parent.inode.rename(old.name, new.parent.inode, new.name, flags)
    inotify.renamed(old, new, bool(flags & RENAME_EXCHANGE), links)
    return 0


def sys_rename(t, oldpath, newpath):
    """rename(2)."""
    return do_rename(t, L.AT_FDCWD, oldpath, L.AT_FDCWD, newpath, 0)


def sys_renameat(t, olddirfd, oldpath, newdirfd, newpath):
    """renameat(2)."""
    return do_rename(t, olddirfd, oldpath, newdirfd, newpath, 0)


def sys_renameat2(t, olddirfd, oldpath, newdirfd, newpath, flags):
    """renameat2(2): RENAME_NOREPLACE and RENAME_EXCHANGE."""
    return do_rename(t, olddirfd, oldpath, newdirfd, newpath, flags)


def do_link(t, olddirfd, oldpath, newdirfd, newpath, flags):
    if flags & ~(L.AT_SYMLINK_FOLLOW | L.AT_EMPTY_PATH):
        raise KernelError(EINVAL)
    src = resolve(t, olddirfd, oldpath, follow=bool(flags & L.AT_SYMLINK_FOLLOW),
                  empty_ok=bool(flags & L.AT_EMPTY_PATH))
    if src.inode.is_dir:
        raise KernelError(EPERM)
    if getattr(src.inode, "never_link", False) or \
            (src.inode.nlink == 0 and not hasattr(src.inode, "never_link")):
        raise KernelError(ENOENT)
    lk = _lookup_parent(t, newdirfd, newpath)
    if lk.child is not None:
        raise KernelError(EEXIST)
    if lk.parent.mount is not src.mount:
        raise KernelError(EXDEV)
    _may_change_dir(t, lk.parent)
    lk.parent.inode.link(lk.name, src.inode)
    inotify.linked(lk, src)
    return 0


def sys_link(t, oldpath, newpath):
    """link(2)."""
    return do_link(t, L.AT_FDCWD, oldpath, L.AT_FDCWD, newpath, 0)


def sys_linkat(t, olddirfd, oldpath, newdirfd, newpath, flags):
    """linkat(2): AT_SYMLINK_FOLLOW, AT_EMPTY_PATH (relinks an O_TMPFILE)."""
    return do_link(t, olddirfd, oldpath, newdirfd, newpath, flags)


def do_symlink(t, target, newdirfd, linkpath):
    if not target:
        raise KernelError(ENOENT)
    p = t.process
    lk = _lookup_parent(t, newdirfd, linkpath)
    if lk.child is not None:
        raise KernelError(EEXIST)
    _may_change_dir(t, lk.parent)
    lk.parent.inode.symlink(lk.name, target, p.cred.euid, p.cred.egid)
    inotify.created(lk)
    return 0


def sys_symlink(t, target, linkpath):
    """symlink(2)."""
    return do_symlink(t, target, L.AT_FDCWD, linkpath)


def sys_symlinkat(t, target, newdirfd, linkpath):
    """symlinkat(2)."""
    return do_symlink(t, target, newdirfd, linkpath)


def do_readlink(t, dirfd, path, buf, size):
    if size <= 0:
        raise KernelError(EINVAL)
    p = resolve(t, dirfd, path, follow=False, empty_ok=True)
    if not p.inode.is_symlink:
        raise KernelError(EINVAL if path else ENOENT)
    target = p.inode.readlink()[:size]
    t.mm.write(buf, target)
    return len(target)


def sys_readlink(t, path, buf, size):
    """readlink(2)."""
    return do_readlink(t, L.AT_FDCWD, path, buf, size)


def sys_readlinkat(t, dirfd, path, buf, size):
    """readlinkat(2): an empty path reads the symlink dirfd (opened O_PATH|O_NOFOLLOW)."""
    return do_readlink(t, dirfd, path, buf, size)


def do_mknod(t, dirfd, path, mode, dev):
    p = t.process
    kind = S.S_IFMT(mode) or S.S_IFREG
    if kind == S.S_IFDIR:
        raise KernelError(EPERM)
    if kind not in (S.S_IFREG, S.S_IFIFO, S.S_IFCHR, S.S_IFBLK, S.S_IFSOCK):
        raise KernelError(EINVAL)
    if kind in (S.S_IFCHR, S.S_IFBLK) and p.cred.euid != 0:
        raise KernelError(EPERM)
    lk = _lookup_parent(t, dirfd, path)
    if lk.child is not None:
        raise KernelError(EEXIST)
    _may_change_dir(t, lk.parent)
    lk.parent.inode.create(lk.name, kind | (mode & 0o7777 & ~p.fs.umask), p.cred.euid,
                           p.cred.egid,
                           dev & 0xFFFFFFFF)
    inotify.created(lk)
    return 0


def sys_mknod(t, path, mode, dev):
    """mknod(2): regular files, fifos, sockets; device nodes need root (and opening one
    on a ramfs gives ENXIO: there is no driver behind it)."""
    return do_mknod(t, L.AT_FDCWD, path, mode, dev)


def sys_mknodat(t, dirfd, path, mode, dev):
    """mknodat(2)."""
    return do_mknod(t, dirfd, path, mode, dev)


# ---- cwd and root ---------------------------------------------------------------------------

def sys_getcwd(t, buf, size):
    """getcwd(2): the path with its NUL; ERANGE when it does not fit, ENOENT when the
    directory was removed."""
    if _dead(t.process.fs.cwd.inode):
        raise KernelError(ENOENT)
    path = t.process.fs.cwd.text() + b"\0"
    if size < len(path):
        raise KernelError(ERANGE)
    t.mm.write(buf, path)
    return len(path)


def sys_chdir(t, path):
    """chdir(2)."""
    p = resolve(t, L.AT_FDCWD, path)
    if not p.inode.is_dir:
        raise KernelError(ENOTDIR)
    _may(t, p.inode, MAY_EXEC)
    t.process.fs.cwd = p
    return 0


def sys_fchdir(t, fd):
    """fchdir(2)."""
    f = t.process.fds.get(fd)
    p = getattr(f, "path", None)
    if p is None or not p.inode.is_dir:
        raise KernelError(ENOTDIR)
    _may(t, p.inode, MAY_EXEC)
    t.process.fs.cwd = p
    return 0


def sys_chroot(t, path):
    """chroot(2): needs root (EPERM otherwise)."""
    p = resolve(t, L.AT_FDCWD, path)
    if not p.inode.is_dir:
        raise KernelError(ENOTDIR)
    _may(t, p.inode, MAY_EXEC)
    if t.process.cred.euid != 0:
        raise KernelError(EPERM)
    t.process.fs.root = p
    return 0


# ---- permissions, owners, times ---------------------------------------------------------------

def _owner_or_root(t, inode):
    if t.process.cred.euid not in (0, inode.uid):
        raise KernelError(EPERM)


def _chmod(t, target: Path, mode):
    inode = target.inode
    _owner_or_root(t, inode)
    target.mount.check_writable()
    if inode.is_symlink:
        raise KernelError(EOPNOTSUPP)
    inode.set_mode(mode)
    _vfs(t).changed()             # search permission is part of cached walks
    inotify.attr_changed(target, mode=True)
    return 0


def sys_chmod(t, path, mode):
    """chmod(2)."""
    return _chmod(t, resolve(t, L.AT_FDCWD, path), mode)


def _fd_path(t, fd) -> Path:
    """The path an fd was opened by, for the f* metadata calls (EBADF on O_PATH)."""
    f = t.process.fds.get(fd)
    if f.flags & O_PATH or getattr(f, "path", None) is None:
        raise KernelError(EBADF)
    return f.path


def sys_fchmod(t, fd, mode):
    """fchmod(2)."""
    return _chmod(t, _fd_path(t, fd), mode)


def sys_fchmodat(t, dirfd, path, mode):
    """fchmodat(2) (the syscall has no flags argument)."""
    return _chmod(t, resolve(t, dirfd, path), mode)


def sys_fchmodat2(t, dirfd, path, mode, flags):
    """fchmodat2(2): AT_SYMLINK_NOFOLLOW (EOPNOTSUPP on a symlink) and AT_EMPTY_PATH."""
    if flags & ~(L.AT_SYMLINK_NOFOLLOW | L.AT_EMPTY_PATH):
        raise KernelError(EINVAL)
    return _chmod(t, resolve(t, dirfd, path, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
                             empty_ok=bool(flags & L.AT_EMPTY_PATH)), mode)


def _chown(t, target: Path, uid, gid):
    inode = target.inode
    c = t.process.cred
    if c.euid != 0:
        if uid != -1 and uid != inode.uid:
            raise KernelError(EPERM)
        if gid != -1 and (c.euid != inode.uid or (gid != c.egid and gid not in c.groups)):
            raise KernelError(EPERM)
    target.mount.check_writable()
    inode.set_owner(uid, gid)
    _vfs(t).changed()
    if not inode.is_dir and inode.mode & (S.S_ISUID | S.S_ISGID):
        # Linux drops set-user-ID, and set-group-ID with group execute, on chown.
        kill = S.S_ISUID | (S.S_ISGID if inode.mode & S.S_IXGRP else 0)
        if inode.mode & kill:
            inode.set_mode(inode.mode & 0o7777 & ~kill)
    inotify.attr_changed(target, uid=uid != -1, gid=gid != -1)
    return 0


def sys_chown(t, path, uid, gid):
    """chown(2)."""
    return _chown(t, resolve(t, L.AT_FDCWD, path), uid, gid)


def sys_lchown(t, path, uid, gid):
    """lchown(2)."""
    return _chown(t, resolve(t, L.AT_FDCWD, path, follow=False), uid, gid)


def sys_fchown(t, fd, uid, gid):
    """fchown(2)."""
    return _chown(t, _fd_path(t, fd), uid, gid)


def sys_fchownat(t, dirfd, path, uid, gid, flags):
    """fchownat(2)."""
    if flags & ~(L.AT_SYMLINK_NOFOLLOW | L.AT_EMPTY_PATH):
        raise KernelError(EINVAL)
    return _chown(t, resolve(t, dirfd, path, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
                             empty_ok=bool(flags & L.AT_EMPTY_PATH)), uid, gid)


def do_access(t, dirfd, path, mode, flags):
    if mode & ~7:
        raise KernelError(EINVAL)
    if flags & ~(AT_EACCESS | L.AT_SYMLINK_NOFOLLOW | L.AT_EMPTY_PATH):
        raise KernelError(EINVAL)
    p = resolve(t, dirfd, path, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
                empty_ok=bool(flags & L.AT_EMPTY_PATH))
    if mode == F_OK:
        return 0
    c = t.process.cred
    uid, gid = (c.euid, c.egid) if flags & AT_EACCESS else (c.uid, c.gid)
    if mode & W_OK and (p.mount.readonly or p.inode.fs.readonly) and \
            (p.inode.is_regular or p.inode.is_dir or p.inode.is_symlink):
        raise KernelError(EROFS)
    if not permitted(p.inode, mode, uid, gid, c.groups):
        raise KernelError(EACCES)
    return 0


def sys_access(t, path, mode):
    """access(2): checks with the real uid and gid."""
    return do_access(t, L.AT_FDCWD, path, mode, 0)


def sys_faccessat(t, dirfd, path, mode):
    """faccessat(2) (the syscall has no flags)."""
    return do_access(t, dirfd, path, mode, 0)


def sys_faccessat2(t, dirfd, path, mode, flags):
    """faccessat2(2): AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH."""
    return do_access(t, dirfd, path, mode, flags)


def _set_times(t, target: Path, atime, mtime):
    """utimensat's rules: setting both to now needs write access or ownership; any
    other time needs ownership."""
    inode = target.inode
    target.mount.check_writable()
    explicit = (atime not in (None, "now")) or (mtime not in (None, "now"))
    if t.process.cred.euid not in (0, inode.uid):
        if explicit:
            raise KernelError(EPERM)
        if not permitted(inode, MAY_WRITE, *_creds(t)):
            raise KernelError(EACCES)
    now = time.time_ns()
    inode.set_times(now if atime == "now" else atime, now if mtime == "now" else mtime)
    inotify.attr_changed(target, atime=atime is not None, mtime=mtime is not None)
    return 0


def _timespec_time(sec, nsec):
    if nsec == UTIME_NOW:
        return "now"
    if nsec == UTIME_OMIT:
        return None
    if not 0 <= nsec < 1000000000:
        raise KernelError(EINVAL)
    return sec * 1000000000 + nsec


def sys_utimensat(t, dirfd, path, times, flags):
    """utimensat(2): NULL times means now; UTIME_NOW and UTIME_OMIT per field."""
    if flags & ~(L.AT_SYMLINK_NOFOLLOW | L.AT_EMPTY_PATH):
        raise KernelError(EINVAL)
    if times:
        raw = t.mm.read(times, 2 * L.TIMESPEC.size)
        a = _timespec_time(*L.TIMESPEC.unpack_from(raw, 0))
        m = _timespec_time(*L.TIMESPEC.unpack_from(raw, L.TIMESPEC.size))
        if a is None and m is None:
            return 0
    else:
        a = m = "now"
    if path == 0:
        # utimensat(fd, NULL, ...) is futimens
        f = t.process.fds.get(dirfd)
        target = getattr(f, "path", None)
        if target is None:
            raise KernelError(EBADF)
    else:
        pathname = t.mm.read_cstring(path)
        target = resolve(t, dirfd, pathname, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
                         empty_ok=bool(flags & L.AT_EMPTY_PATH))
    return _set_times(t, target, a, m)


def _timeval_times(t, times):
    if not times:
        return "now", "now"
    raw = t.mm.read(times, 2 * L.TIMEVAL.size)
    out = []
    for sec, usec in L.TIMEVAL.iter_unpack(raw):
        if not 0 <= usec < 1000000:
            raise KernelError(EINVAL)
        out.append(sec * 1000000000 + usec * 1000)
    return out


def sys_utimes(t, path, times):
    """utimes(2)."""
    a, m = _timeval_times(t, times)
    return _set_times(t, resolve(t, L.AT_FDCWD, path), a, m)


def sys_futimesat(t, dirfd, path, times):
    """futimesat(2)."""
    a, m = _timeval_times(t, times)
    return _set_times(t, resolve(t, dirfd, path), a, m)


def sys_utime(t, path, times):
    """utime(2): struct utimbuf {actime, modtime} in seconds."""
    if times:
        a, m = L.UTIMBUF.unpack(t.mm.read(times, L.UTIMBUF.size))
        a, m = a * 1000000000, m * 1000000000
    else:
        a = m = "now"
    return _set_times(t, resolve(t, L.AT_FDCWD, path), a, m)


# ---- sizes and syncing ------------------------------------------------------------------------

def _truncate_inode(t, target: Path, length):
    if length < 0:
        raise KernelError(EINVAL)
    inode = target.inode
    if inode.is_dir:
        raise KernelError(EISDIR)
    if not inode.is_regular:
        raise KernelError(EINVAL)
    _may(t, inode, MAY_WRITE)
    target.mount.check_writable()
    seals.check_resize(inode, length)
    t.process.kernel.file_shrinking(inode, length)
    inode.truncate(length)
    inotify.attr_changed(target, size=True)
    return 0


def sys_truncate(t, path, length):
    """truncate(2)."""
    return _truncate_inode(t, resolve(t, L.AT_FDCWD, path), length)


def sys_ftruncate(t, fd, length):
    """ftruncate(2): the fd must be open for writing (EINVAL otherwise, as Linux)."""
    f = t.process.fds.get(fd)
    if length < 0:
        raise KernelError(EINVAL)
    inode = getattr(f, "inode", None)
    if inode is None or not inode.is_regular:
        raise KernelError(EINVAL)
    if not f.writable:
        raise KernelError(EINVAL)
    seals.check_resize(inode, length)
    t.process.kernel.file_shrinking(inode, length)
    inode.truncate(length)
    inotify.attr_changed(f.path, size=True)
    return 0


def sys_fallocate(t, fd, mode, offset, length):
    """fallocate(2): mode 0 (and FALLOC_FL_KEEP_SIZE) extend the file; punching holes
    and the other modes are EOPNOTSUPP, as on a filesystem without them."""
    f = t.process.fds.get(fd)
    if offset < 0 or length <= 0:
        raise KernelError(EINVAL)
    if not f.writable:
        raise KernelError(EBADF)
    inode = getattr(f, "inode", None)
    if inode is None:
        raise KernelError(ESPIPE)
    if inode.is_dir:
        raise KernelError(EISDIR)
    if not inode.is_regular:
        raise KernelError(ENODEV)
    if mode == FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE and hasattr(inode, "punch"):
        inode.punch(offset, length)
        inotify.modified(f)
        return 0
    if mode & ~FALLOC_FL_KEEP_SIZE:
        raise KernelError(EOPNOTSUPP)
    if hasattr(inode, "allocate"):          # tmpfs: blocks count against its size
        if not mode & FALLOC_FL_KEEP_SIZE and offset + length > inode.size:
            seals.check_resize(inode, offset + length)
        inode.allocate(offset, length, bool(mode & FALLOC_FL_KEEP_SIZE))
    elif not mode & FALLOC_FL_KEEP_SIZE and offset + length > inode.size:
        seals.check_resize(inode, offset + length)
        inode.truncate(offset + length)
    inotify.modified(f)
    return 0


def _syncable(t, fd):
    if getattr(t.process.fds.get(fd), "inode", None) is None:
        raise KernelError(EINVAL)       # pipes, sockets, terminals


def sys_fsync(t, fd):
    """fsync(2): files live in memory or on a host fs written through; nothing waits."""
    _syncable(t, fd)
    return 0


def sys_fdatasync(t, fd):
    """fdatasync(2)."""
    _syncable(t, fd)
    return 0


def sys_sync(t):
    """sync(2)."""
    return 0


def sys_syncfs(t, fd):
    """syncfs(2)."""
    t.process.fds.get(fd)
    return 0


# ---- extended attributes: none, as on a filesystem without user xattrs ---------------------------

_XATTR_PREFIXES = (b"user.", b"trusted.", b"security.", b"system.")


def _xattr_name(name: bytes) -> None:
    """The name checks Linux makes before looking for the attribute."""
    if not name or len(name) > XATTR_NAME_MAX:
        raise KernelError(ERANGE)
    if not name.startswith(_XATTR_PREFIXES):
        raise KernelError(EOPNOTSUPP)


def _xattr(t, target, name, missing):
    """Resolve the target (a path with follow flag, or an fd), check the name, and fail
    with `missing`: no attribute is ever stored."""
    if isinstance(target, int):
        t.process.fds.get(target)
    else:
        resolve(t, L.AT_FDCWD, *target)
    _xattr_name(name)
    raise KernelError(missing)


def sys_getxattr(t, path, name, value, size):
    """getxattr(2): no attributes are stored (ENODATA)."""
    _xattr(t, (path, True), name, ENODATA)


def sys_lgetxattr(t, path, name, value, size):
    """lgetxattr(2): no attributes are stored (ENODATA)."""
    _xattr(t, (path, False), name, ENODATA)


def sys_fgetxattr(t, fd, name, value, size):
    """fgetxattr(2): no attributes are stored (ENODATA)."""
    _xattr(t, fd, name, ENODATA)


def sys_listxattr(t, path, buf, size):
    """listxattr(2): an empty list."""
    resolve(t, L.AT_FDCWD, path, True)
    return 0


def sys_llistxattr(t, path, buf, size):
    """llistxattr(2): an empty list."""
    resolve(t, L.AT_FDCWD, path, False)
    return 0


def sys_flistxattr(t, fd, buf, size):
    """flistxattr(2): an empty list."""
    t.process.fds.get(fd)
    return 0


def sys_setxattr(t, path, name, value, size, flags):
    """setxattr(2): not supported (ENOTSUP), as tmpfs without user xattrs."""
    _xattr(t, (path, True), name, ENOTSUP)


def sys_lsetxattr(t, path, name, value, size, flags):
    """lsetxattr(2): not supported (ENOTSUP)."""
    _xattr(t, (path, False), name, ENOTSUP)


def sys_fsetxattr(t, fd, name, value, size, flags):
    """fsetxattr(2): not supported (ENOTSUP)."""
    _xattr(t, fd, name, ENOTSUP)


def sys_removexattr(t, path, name):
    """removexattr(2): nothing to remove (ENODATA)."""
    _xattr(t, (path, True), name, ENODATA)


def sys_lremovexattr(t, path, name):
    """lremovexattr(2): nothing to remove (ENODATA)."""
    _xattr(t, (path, False), name, ENODATA)


def sys_fremovexattr(t, fd, name):
    """fremovexattr(2): nothing to remove (ENODATA)."""
    _xattr(t, fd, name, ENODATA)
