"""Path-based file system calls: open, stat, directories, links, permissions, times.

Layer: kernel (syscall handlers). Decode the guest's arguments, find what they name
(the walk is fs/vfs.py's, for the caller's root and credentials), call the VFS
operation (fs/namei.py for names, fs/attr.py for attributes), encode the answer.
Every path is relative to the caller's cwd, or to a directory fd for the *at variants
(AT_FDCWD meaning the cwd).
"""

from __future__ import annotations

import os
from errno import E2BIG, EAGAIN, EBADF, EFBIG, EINVAL, ENOENT, ENOTDIR, EPERM, ERANGE

from ...abi import linux as L
from ...abi.capability import CAP_MKNOD, CAP_SYS_CHROOT
from ...abi.fcntl import AT_EACCESS
from ...abi.openat2 import (OPEN_HOW, RESOLVE_ALL, RESOLVE_BENEATH, RESOLVE_CACHED,
                            RESOLVE_IN_ROOT)
from ...abi.stat import (STATX_ATIME, STATX_BASIC_STATS, STATX_CTIME, STATX_DEVS,
                         STATX_DEVS_OFFSET, STATX_HEAD, STATX_MTIME, STATX_SIZE,
                         STATX_SIZES, STATX_SIZES_OFFSET, STATX_TIMESTAMP, STATX__RESERVED,
                         UTIME_NOW, UTIME_OMIT)
from ...abi.statfs import STATFS
from ...errors import KernelError
from ...fs import attr, namei, read_write
from ...fs.vfs import Path, WalkContext
from ...mm.iov_iter import IovIter
from .. import signals

O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC = L.O_CREAT, L.O_EXCL, L.O_NOCTTY, L.O_TRUNC
O_DIRECTORY, O_NOFOLLOW, O_PATH, O_TMPFILE = L.O_DIRECTORY, L.O_NOFOLLOW, L.O_PATH, L.O_TMPFILE
O_LARGEFILE = L.O_LARGEFILE
_VALID_OPEN = (0o3 | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | L.O_APPEND | L.O_NONBLOCK
               | L.O_DSYNC | L.O_ASYNC | L.O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW
               | L.O_NOATIME | L.O_CLOEXEC | L.O_SYNC | O_PATH | O_TMPFILE)


def _vfs(t):
    return t.process.kernel.vfs


def _creds(t):
    """(euid, egid, groups): what permission checks and walks go by."""
    return t.process.cred.walk_creds


def _base(t, dirfd: int, path: bytes) -> Path:
    """Where a relative path starts: the cwd for AT_FDCWD, else the directory fd's path."""
    if path.startswith(b"/"):
        return t.process.fs.cwd          # unused by the walk, which starts at the root
    return _dirfd_path(t, dirfd)


def _dirfd_path(t, dirfd: int) -> Path:
    if dirfd == L.AT_FDCWD:
        return t.process.fs.cwd
    f = t.process.fds.get(dirfd)
    p = f.path
    if p is None or not p.inode.is_dir:
        raise KernelError(ENOTDIR)
    return p


def _context(t) -> WalkContext:
    """Whom the walk is for: the calling process's root and credentials."""
    return t.process.walk_context()


def probe(t, dirfd: int, path: bytes, follow: bool = True, empty_ok: bool = False,
          ctx: WalkContext | None = None) -> Path:
    """resolve for the calls a PATH search makes before it execs (stat, access: a
    shell's or shutil.which's lookup): a name the automatic image lacks may be
    learned from the host first, as execve would (kernel/exec.py, README)."""
    try:
        return resolve(t, dirfd, path, follow, empty_ok, ctx)
    except KernelError as e:
        learn = t.process.kernel.exec_learner
        if e.errno != ENOENT or learn is None or not path or \
                not learn(ctx or _context(t), _base(t, dirfd, path), path):
            raise
    _vfs(t).changed()
    return resolve(t, dirfd, path, follow, empty_ok, ctx)


def resolve(t, dirfd: int, path: bytes, follow: bool = True, empty_ok: bool = False,
            ctx: WalkContext | None = None) -> Path:
    """The Path for (dirfd, path); AT_EMPTY_PATH (empty_ok) means dirfd itself.
    ctx: whom the walk is for, when not the caller with its effective ids."""
    if not path:
        if empty_ok:
            if dirfd == L.AT_FDCWD:
                return t.process.fs.cwd
            f = t.process.fds.get(dirfd)
            p = f.path
            if p is None:
                raise KernelError(ENOENT)
            return p
        raise KernelError(ENOENT)
    return _vfs(t).resolve(ctx or _context(t), _base(t, dirfd, path), path, follow)


def _lookup_parent(t, dirfd, path, follow=False):
    if not path:
        raise KernelError(ENOENT)
    return _vfs(t).resolve_parent(_context(t), _base(t, dirfd, path), path, follow)


def _shrinking(t):
    """The kernel's hook run before a file shrinks."""
    return t.process.kernel.file_shrinking


def _resizing(t):
    """The hook truncate runs before a file changes size: inode_newsize_ok's
    RLIMIT_FSIZE (growing past it is SIGXFSZ and EFBIG), then the kernel's."""
    limit = t.process.rlimits[L.RLIMIT_FSIZE][0]
    shrinking = t.process.kernel.file_shrinking

    def resizing(inode, length):
        if limit != L.RLIM_INFINITY and length > limit and length > inode.size:
            signals.send_self(t, L.SIGXFSZ)
            raise KernelError(EFBIG)
        shrinking(inode, length)
    return resizing


# ---- open ---------------------------------------------------------------------------------

def do_open(t, dirfd: int, path: bytes, flags: int, mode: int) -> int:
    """The VFS opens (fs/namei.py); the new file goes into the fd table."""
    p = t.process
    base = _base(t, dirfd, path)
    if p.kernel.leases.by_key:
        _break_lease(t, base, path, flags)
    if flags & L.O_TMPFILE == L.O_TMPFILE:
        file = namei.open_tmpfile(_vfs(t), _context(t), base, path, flags, mode, p.fs.umask)
    else:
        file = namei.open_path(_vfs(t), _context(t), base, path, flags, mode, p.fs.umask,
                               _shrinking(t))
    return p.fds.install(file, bool(flags & L.O_CLOEXEC))


def _break_lease(t, base, path: bytes, flags: int) -> None:
    """An open of a file with a lease breaks it (kernel/leases.py), before the open
    changes anything (Linux breaks it in do_dentry_open, before O_TRUNC's truncation;
    its permission checks come first there, not here)."""
    if flags & L.O_PATH or flags & L.O_TMPFILE == L.O_TMPFILE or \
            flags & (L.O_CREAT | L.O_EXCL) == L.O_CREAT | L.O_EXCL:
        return
    try:
        target = _vfs(t).resolve(_context(t), base, path, not flags & L.O_NOFOLLOW)
    except KernelError:
        return                          # the open itself says why
    if target.inode.is_regular:
        t.process.kernel.leases.break_lease(t, target.inode, flags)


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
                fds.close(fd)
    return 0


# ---- stat ----------------------------------------------------------------------------------

def sys_stat(t, path, statbuf):
    """stat(2). (The fast dispatcher answers a walk the VFS remembers first:
    kernel/syscalls/fast_stat.py.)"""
    t.mm.write(statbuf, probe(t, L.AT_FDCWD, path).inode.stat_bytes())
    return 0


def sys_lstat(t, path, statbuf):
    """lstat(2)."""
    t.mm.write(statbuf, probe(t, L.AT_FDCWD, path, follow=False).inode.stat_bytes())
    return 0


def sys_newfstatat(t, dirfd, path, statbuf, flags):
    """newfstatat(2): AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, AT_NO_AUTOMOUNT."""
    if flags & ~(L.AT_SYMLINK_NOFOLLOW | L.AT_EMPTY_PATH | L.AT_NO_AUTOMOUNT):
        raise KernelError(EINVAL)
    if not path and flags & L.AT_EMPTY_PATH and dirfd != L.AT_FDCWD:
        t.mm.write(statbuf, t.process.fds.get(dirfd).stat_bytes())
        return 0
    p = probe(t, dirfd, path, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
              empty_ok=bool(flags & L.AT_EMPTY_PATH))
    t.mm.write(statbuf, p.inode.stat_bytes())
    return 0


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
        st = probe(t, dirfd, path, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
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
    inode = f.inode
    if inode is None:
        raise KernelError(EINVAL)   # pipes and host streams: pipefs is not shown
    t.mm.write(buf, _statfs_bytes(inode.fs))
    return 0


# ---- directories --------------------------------------------------------------------------

def _getdents(t, fd, dirp, count, old_format):
    """EBADF (O_PATH too), then access_ok, then the VFS (fs/read_write.py)."""
    f = t.process.fds.get(fd)
    if f.flags & O_PATH:
        raise KernelError(EBADF)
    return read_write.iterate_dir(f, IovIter.buffer(t.mm, dirp, count), old_format)


def sys_getdents64(t, fd, dirp, count):
    """getdents64(2)."""
    return _getdents(t, fd, dirp, count, False)


def sys_getdents(t, fd, dirp, count):
    """getdents(2): the old linux_dirent records (d_type in the last byte)."""
    return _getdents(t, fd, dirp, count, True)


def do_mkdir(t, dirfd, path, mode):
    namei.mkdir(_vfs(t), _context(t), _lookup_parent(t, dirfd, path), mode, t.process.fs.umask)
    return 0


def sys_mkdir(t, path, mode):
    """mkdir(2)."""
    return do_mkdir(t, L.AT_FDCWD, path, mode)


def sys_mkdirat(t, dirfd, path, mode):
    """mkdirat(2)."""
    return do_mkdir(t, dirfd, path, mode)


def do_rmdir(t, dirfd, path):
    namei.rmdir(_vfs(t), _context(t), _lookup_parent(t, dirfd, path))
    return 0


def sys_rmdir(t, path):
    """rmdir(2)."""
    return do_rmdir(t, L.AT_FDCWD, path)


def do_unlink(t, dirfd, path):
    namei.unlink(_vfs(t), _context(t), _lookup_parent(t, dirfd, path))
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
    namei.check_rename_flags(flags)
    old = _lookup_parent(t, olddirfd, oldpath)
    new = _lookup_parent(t, newdirfd, newpath)
    namei.rename(_vfs(t), _context(t), old, new, flags)
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
    namei.check_link_source(src)
    namei.link(_vfs(t), _context(t), src, _lookup_parent(t, newdirfd, newpath))
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
    namei.symlink(_vfs(t), _context(t), _lookup_parent(t, newdirfd, linkpath), target)
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
    namei.check_mknod(mode)
    namei.mknod(_vfs(t), _context(t), _lookup_parent(t, dirfd, path), mode, dev,
                t.process.fs.umask, t.process.cred.capable(CAP_MKNOD))
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
    if namei.dead(t.process.fs.cwd.inode):
        raise KernelError(ENOENT)
    path = t.process.fs.cwd.text() + b"\0"
    if size < len(path):
        raise KernelError(ERANGE)
    t.mm.write(buf, path)
    return len(path)


def sys_chdir(t, path):
    """chdir(2)."""
    t.process.fs.cwd = namei.check_directory(_context(t), resolve(t, L.AT_FDCWD, path))
    return 0


def sys_fchdir(t, fd):
    """fchdir(2)."""
    t.process.fs.cwd = namei.check_directory(_context(t), t.process.fds.get(fd).path)
    return 0


def sys_chroot(t, path):
    """chroot(2): needs CAP_SYS_CHROOT (EPERM otherwise)."""
    p = namei.check_directory(_context(t), resolve(t, L.AT_FDCWD, path))
    if not t.process.cred.capable(CAP_SYS_CHROOT):
        raise KernelError(EPERM)
    t.process.fs.root = p
    return 0


# ---- permissions, owners, times ---------------------------------------------------------------

def _chmod(t, target: Path, mode):
    attr.chmod(_vfs(t), _context(t), target, mode)
    return 0


def sys_chmod(t, path, mode):
    """chmod(2)."""
    return _chmod(t, resolve(t, L.AT_FDCWD, path), mode)


def _fd_path(t, fd) -> Path:
    """The path an fd was opened by, for the f* metadata calls (EBADF on O_PATH)."""
    f = t.process.fds.get(fd)
    if f.flags & O_PATH or f.path is None:
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
    attr.chown(_vfs(t), _context(t), target, uid, gid)
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
    c = t.process.cred
    # Without AT_EACCESS, Linux runs the whole call with the real ids in place of
    # the effective ones (do_faccessat's access_override_creds): the walk too.
    ctx = None if flags & AT_EACCESS else WalkContext(t.process.fs.root,
                                                      c.access_creds())
    p = probe(t, dirfd, path, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
              empty_ok=bool(flags & L.AT_EMPTY_PATH), ctx=ctx)
    uid, gid = (c.fsuid, c.fsgid) if flags & AT_EACCESS else (c.uid, c.gid)
    attr.access(p, mode, uid, gid, c.groups)
    return 0


def sys_access(t, path, mode):
    """access(2): checks with the real uid and gid. (The fast dispatcher answers a
    walk the VFS remembers first: kernel/syscalls/fast_stat.py.)"""
    return do_access(t, L.AT_FDCWD, path, mode, 0)


def sys_faccessat(t, dirfd, path, mode):
    """faccessat(2) (the syscall has no flags)."""
    return do_access(t, dirfd, path, mode, 0)


def sys_faccessat2(t, dirfd, path, mode, flags):
    """faccessat2(2): AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH."""
    return do_access(t, dirfd, path, mode, flags)


def _set_times(t, target: Path, atime, mtime):
    attr.set_times(_context(t), target, atime, mtime)
    return 0


def _timespec_time(sec, nsec):
    if nsec == UTIME_NOW:
        return attr.NOW
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
        a = m = attr.NOW
    if path == 0:
        # utimensat(fd, NULL, ...) is futimens
        f = t.process.fds.get(dirfd)
        target = f.path
        if target is None:
            raise KernelError(EBADF)
    else:
        pathname = t.mm.read_cstring(path)
        target = resolve(t, dirfd, pathname, follow=not flags & L.AT_SYMLINK_NOFOLLOW,
                         empty_ok=bool(flags & L.AT_EMPTY_PATH))
    return _set_times(t, target, a, m)


def _timeval_times(t, times):
    if not times:
        return attr.NOW, attr.NOW
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
        a = m = attr.NOW
    return _set_times(t, resolve(t, L.AT_FDCWD, path), a, m)


# ---- sizes and syncing ------------------------------------------------------------------------

def _truncate_inode(t, target: Path, length):
    attr.truncate(_context(t), target, length, _resizing(t))
    return 0


def sys_truncate(t, path, length):
    """truncate(2): a lease on the file is broken first, as by an open for writing
    (vfs_truncate's break_lease, which waits)."""
    target = resolve(t, L.AT_FDCWD, path)
    if t.process.kernel.leases.by_key and target.inode.is_regular:
        t.process.kernel.leases.break_lease(t, target.inode, L.O_WRONLY)
    return _truncate_inode(t, target, length)


def sys_ftruncate(t, fd, length):
    """ftruncate(2): the fd must be open for writing (EINVAL otherwise, as Linux)."""
    attr.ftruncate(t.process.fds.get(fd), length, _resizing(t))
    return 0


def sys_fallocate(t, fd, mode, offset, length):
    """fallocate(2): mode 0 (and FALLOC_FL_KEEP_SIZE) extend the file; punching holes
    and the other modes are EOPNOTSUPP, as on a filesystem without them."""
    attr.fallocate(t.process.fds.get(fd), mode, offset, length)
    return 0


def _syncable(t, fd):
    inode = t.process.fds.get(fd).inode
    if inode is None:
        raise KernelError(EINVAL)       # pipes, sockets, terminals
    return inode.real


def sys_fsync(t, fd):
    """fsync(2): a host file (-v, --root) is synced on the host; in-memory files have
    nothing to write out, as on tmpfs."""
    _syncable(t, fd).sync(False)
    return 0


def sys_fdatasync(t, fd):
    """fdatasync(2)."""
    _syncable(t, fd).sync(True)
    return 0


def sys_sync(t):
    """sync(2): every mounted filesystem (the host's under each writable -v); sync
    never fails, as Linux's ksys_sync ignores each filesystem's error."""
    for m in _vfs(t).mount_table():
        try:
            m.fs.sync()
        except KernelError:
            pass
    return 0


def sys_syncfs(t, fd):
    """syncfs(2): the filesystem of fd's file (a pipe's or socket's has nothing)."""
    f = t.process.fds.get(fd)
    if f.inode is not None:
        f.inode.real.fs.sync()
    return 0
