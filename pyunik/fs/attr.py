"""Attribute changes of the VFS: chmod, chown, times, size, access checks (Linux's
notify_change in fs/attr.c with chmod_common, chown_common, do_truncate,
vfs_fallocate and do_faccessat in fs/open.c and vfs_utimes in fs/utimes.c). Each
makes Linux's permission checks, changes the inode and sends the fsnotify event.

Layer: fs. Called by the path and fd system calls (kernel/syscalls/files.py) with
the Path or open File they found and a WalkContext saying for whom; calls the
inodes, fs/seals.py and fs/inotify.py. `shrinking(inode, size)` is the kernel's hook
run before a file shrinks (no address space may keep pages past the new end).
"""

from __future__ import annotations

import stat as S
from errno import (EACCES, EBADF, EINVAL, EISDIR, ENODEV, EOPNOTSUPP, EPERM, EROFS,
                   ESPIPE)

from ..errors import KernelError
from . import inotify, seals
from ..abi.fcntl import F_OK, W_OK
from ..abi.fs import FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, MAY_WRITE
from .vfs import Path, WalkContext, permitted

NOW = "now"          # a time to set: nanoseconds, NOW, or None (leave it)


def _owner_or_root(ctx: WalkContext, inode) -> None:
    if ctx.creds[0] not in (0, inode.uid):
        raise KernelError(EPERM)


def chmod(vfs, ctx: WalkContext, target: Path, mode: int) -> None:
    """chmod_common: the owner or root; a read-only mount is EROFS; a symlink's mode
    cannot change (EOPNOTSUPP)."""
    inode = target.inode
    _owner_or_root(ctx, inode)
    target.mount.check_writable()
    if inode.is_symlink:
        raise KernelError(EOPNOTSUPP)
    inode.set_mode(mode)
    vfs.changed()             # search permission is part of cached walks
    inotify.attr_changed(target, mode=True)


def chown(vfs, ctx: WalkContext, target: Path, uid: int, gid: int) -> None:
    """chown_common: only root gives a file away; the owner may change the group to one
    of its own. Set-user-ID (and set-group-ID with group execute) are dropped on a
    non-directory, as Linux does."""
    inode = target.inode
    euid, egid, groups = ctx.creds
    if euid != 0:
        if uid != -1 and uid != inode.uid:
            raise KernelError(EPERM)
        if gid != -1 and (euid != inode.uid or (gid != egid and gid not in groups)):
            raise KernelError(EPERM)
    target.mount.check_writable()
    inode.set_owner(uid, gid)
    vfs.changed()
    if not inode.is_dir and inode.mode & (S.S_ISUID | S.S_ISGID):
        kill = S.S_ISUID | (S.S_ISGID if inode.mode & S.S_IXGRP else 0)
        if inode.mode & kill:
            inode.set_mode(inode.mode & 0o7777 & ~kill)
    inotify.attr_changed(target, uid=uid != -1, gid=gid != -1)


def set_times(ctx: WalkContext, target: Path, atime, mtime) -> None:
    """vfs_utimes: setting both to now needs write access or ownership; any other
    time needs ownership. atime and mtime are nanoseconds, NOW, or None (unchanged)."""
    inode = target.inode
    target.mount.check_writable()
    explicit = (atime not in (None, NOW)) or (mtime not in (None, NOW))
    if ctx.creds[0] not in (0, inode.uid):
        if explicit:
            raise KernelError(EPERM)
        if not permitted(inode, MAY_WRITE, *ctx.creds):
            raise KernelError(EACCES)
    now = inode.fs.clock()
    inode.set_times(now if atime == NOW else atime, now if mtime == NOW else mtime)
    inotify.attr_changed(target, atime=atime is not None, mtime=mtime is not None)


def access(target: Path, mode: int, uid: int, gid: int, groups: tuple) -> None:
    """do_faccessat after the walk: mode's R/W/X bits checked with uid, gid and the
    supplementary groups (the real ids for access(2), the effective ones with
    AT_EACCESS); W_OK on a read-only mount is EROFS for files, directories and
    symlinks."""
    if mode == F_OK:
        return
    inode = target.inode
    if mode & W_OK and (target.mount.readonly or inode.fs.readonly) and \
            (inode.is_regular or inode.is_dir or inode.is_symlink):
        raise KernelError(EROFS)
    if not permitted(inode, mode, uid, gid, groups):
        raise KernelError(EACCES)


def truncate(ctx: WalkContext, target: Path, length: int, shrinking) -> None:
    """vfs_truncate: a regular file the caller may write, on a writable mount, its
    seals allowing it."""
    if length < 0:
        raise KernelError(EINVAL)
    inode = target.inode
    if inode.is_dir:
        raise KernelError(EISDIR)
    if not inode.is_regular:
        raise KernelError(EINVAL)
    if not permitted(inode, MAY_WRITE, *ctx.creds):
        raise KernelError(EACCES)
    target.mount.check_writable()
    seals.check_resize(inode, length)
    shrinking(inode, length)
    inode.truncate(length)
    inotify.attr_changed(target, size=True)


def ftruncate(file, length: int, shrinking) -> None:
    """do_ftruncate: a regular file open for writing (EINVAL otherwise, as Linux)."""
    if length < 0:
        raise KernelError(EINVAL)
    inode = file.inode
    if inode is None or not inode.is_regular or not file.writable:
        raise KernelError(EINVAL)
    seals.check_resize(inode, length)
    shrinking(inode, length)
    inode.truncate(length)
    inotify.attr_changed(file.path, size=True)


def fallocate(file, mode: int, offset: int, length: int) -> None:
    """vfs_fallocate: mode 0 and FALLOC_FL_KEEP_SIZE extend the file; punching holes
    where the filesystem can; the other modes are EOPNOTSUPP, as on a filesystem
    without them."""
    if offset < 0 or length <= 0:
        raise KernelError(EINVAL)
    if not file.writable:
        raise KernelError(EBADF)
    inode = file.inode
    if inode is None:
        raise KernelError(ESPIPE)
    if inode.is_dir:
        raise KernelError(EISDIR)
    if not inode.is_regular:
        raise KernelError(ENODEV)
    if mode == FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE and hasattr(inode, "punch"):
        inode.punch(offset, length)
        inotify.modified(file)
        return
    if mode & ~FALLOC_FL_KEEP_SIZE:
        raise KernelError(EOPNOTSUPP)
    grows = not mode & FALLOC_FL_KEEP_SIZE and offset + length > inode.size
    if hasattr(inode, "allocate"):          # tmpfs: blocks count against its size
        if grows:
            seals.check_resize(inode, offset + length)
        inode.allocate(offset, length, bool(mode & FALLOC_FL_KEEP_SIZE))
    elif grows:
        seals.check_resize(inode, offset + length)
        inode.truncate(offset + length)
    inotify.modified(file)
