"""inotify system calls: inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch.

Argument checks in Linux's order (fs/notify/inotify/inotify_user.c), then calls into
fs/inotify.py, which keeps the instances, their watches and their events. The events
themselves are reported by the file system calls (files.py, fs.py) through that
module's hooks.

Layer: kernel, syscall handlers.
"""

from __future__ import annotations

from errno import EACCES, EINVAL, ENOTDIR

from ...abi import linux as L
from ...errors import KernelError
from ...abi.inotify import (ALL_INOTIFY_BITS, IN_CLOEXEC, IN_DONT_FOLLOW, IN_MASK_ADD,
                            IN_MASK_CREATE, IN_NONBLOCK, IN_ONLYDIR)
from ...fs.inotify import InotifyFile
from ...abi.fs import MAY_READ
from ...fs.vfs import permitted
from .files import resolve


def _new_instance(t, flags):
    if flags & ~(IN_CLOEXEC | IN_NONBLOCK):
        raise KernelError(EINVAL)
    p = t.process
    f = InotifyFile(p.kernel.fsnotify, flags, p.cred.euid)
    try:
        return p.fds.install(f, bool(flags & IN_CLOEXEC))
    except KernelError:
        f.close()
        raise


def sys_inotify_init(t):
    """inotify_init(2): inotify_init1(0)."""
    return _new_instance(t, 0)


def sys_inotify_init1(t, flags):
    """inotify_init1(2): IN_NONBLOCK and IN_CLOEXEC; any other bit is EINVAL; EMFILE
    past max_user_instances (128) of the caller's uid."""
    return _new_instance(t, flags)


def _instance(t, fd) -> InotifyFile:
    f = t.process.fds.get(fd)
    if not isinstance(f, InotifyFile):
        raise KernelError(EINVAL)
    return f


def sys_inotify_add_watch(t, fd, pathname, mask):
    """inotify_add_watch(2): EINVAL for a mask with no or unknown bits, EBADF, EINVAL
    for IN_MASK_ADD with IN_MASK_CREATE or an fd that is no inotify instance, then the
    path (relative to the cwd; IN_DONT_FOLLOW, IN_ONLYDIR), EACCES without read
    permission; the same inode keeps its wd."""
    if mask & ~ALL_INOTIFY_BITS or not mask & ALL_INOTIFY_BITS:
        raise KernelError(EINVAL)
    f = t.process.fds.get(fd)
    if mask & IN_MASK_ADD and mask & IN_MASK_CREATE:
        raise KernelError(EINVAL)
    if not isinstance(f, InotifyFile):
        raise KernelError(EINVAL)
    path = t.mm.read_cstring(pathname)
    target = resolve(t, L.AT_FDCWD, path, follow=not mask & IN_DONT_FOLLOW)
    if mask & IN_ONLYDIR and not target.inode.is_dir:
        raise KernelError(ENOTDIR)
    if not permitted(target.inode, MAY_READ, *t.process.cred.walk_creds):
        raise KernelError(EACCES)
    return f.add_watch(target.inode, mask)


def sys_inotify_rm_watch(t, fd, wd):
    """inotify_rm_watch(2): IN_IGNORED is queued for the watch; EINVAL for a wd the
    instance does not have."""
    _instance(t, fd).rm_watch(wd)
    return 0
