"""Name operations of the VFS (Linux's fs/namei.c): the last step of open, mkdir,
mknod, symlink, link, unlink, rmdir and rename. Each makes Linux's checks in Linux's
order, calls the filesystem's inode operation, then sends the fsnotify events, as
vfs_mkdir, vfs_unlink, vfs_rename and friends do.

Layer: fs. Called by the path system calls (kernel/syscalls/files.py) with a
WalkContext saying for whom (root and credentials) and what the walk found (a
`Lookup` from VFS.resolve_parent, or a `Path`); calls fs/vfs.py, the inodes,
fs/openfile.py, fs/pipe.py and fs/inotify.py. Process state (umask, the fd table)
comes in as arguments; nothing here knows about processes.
"""

from __future__ import annotations

import stat as S
import time
from errno import (EACCES, EBUSY, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR,
                   ENOTEMPTY, EPERM, ETXTBSY, EXDEV)

from ..abi import linux as L
from ..errors import KernelError
from . import inotify
from .openfile import InodeFile, open_inode
from ..abi.fs import (MAY_EXEC, MAY_READ, MAY_WRITE, RENAME_EXCHANGE, RENAME_NOREPLACE,
                      RENAME_WHITEOUT)
from .vfs import Lookup, Path, WalkContext, permitted

O_CREAT, O_EXCL, O_TRUNC, O_PATH = L.O_CREAT, L.O_EXCL, L.O_TRUNC, L.O_PATH
O_DIRECTORY, O_NOFOLLOW, O_TMPFILE = L.O_DIRECTORY, L.O_NOFOLLOW, L.O_TMPFILE
# What stays in f_flags of the open file (not the open-time-only bits).
OPEN_KEEP = ~(O_CREAT | O_EXCL | L.O_NOCTTY | O_TRUNC | L.O_CLOEXEC)


# ---- the checks every name operation shares -------------------------------------------

def dead(inode) -> bool:
    """A directory that was removed (IS_DEADDIR): nothing can be made in it."""
    return inode.is_dir and inode.nlink == 0


def may(ctx: WalkContext, inode, mask: int) -> None:
    """inode_permission with the walk's credentials: EACCES unless allowed."""
    if not permitted(inode, mask, *ctx.creds):
        raise KernelError(EACCES)


def may_change_dir(vfs, ctx: WalkContext, parent: Path) -> None:
    """Creating or removing a name in parent (may_create, may_delete): the directory
    still exists, write and search permission, a writable mount. The cached walks
    are dropped, for a name is about to change."""
    if dead(parent.inode):
        raise KernelError(ENOENT)
    may(ctx, parent.inode, MAY_WRITE | MAY_EXEC)
    vfs.changed()
    parent.mount.check_writable()


def check_sticky(ctx: WalkContext, parent: Path, child) -> None:
    """check_sticky: in a sticky directory only the owner of the file or of the
    directory (or root) removes or renames a name."""
    euid = ctx.creds[0]
    if parent.inode.mode & S.S_ISVTX and euid not in (0, child.uid, parent.inode.uid):
        raise KernelError(EPERM)


def _creds(ctx: WalkContext) -> tuple[int, int]:
    return ctx.creds[0], ctx.creds[1]


# ---- open -----------------------------------------------------------------------------

def open_path(vfs, ctx: WalkContext, base: Path, path: bytes, flags: int, mode: int,
              umask: int, shrinking):
    """path_openat: the File that open(path, flags, mode) makes, from base. O_CREAT
    creates (mode less umask); O_TRUNC empties a regular file, calling
    shrinking(inode, 0) first so no mapping keeps pages past the new end. Raises
    WouldBlock for a fifo whose other end nobody has open yet."""
    acc = flags & L.O_ACCMODE
    if not path:
        raise KernelError(ENOENT)
    if flags & O_PATH:
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | L.O_CLOEXEC
        acc = L.O_RDONLY
    else:
        flags |= L.O_LARGEFILE        # always on 64-bit Linux (force_o_largefile)
    created = False
    if flags & O_CREAT:
        if flags & O_DIRECTORY:
            raise KernelError(EINVAL)     # Linux >= 6.4
        lk = vfs.resolve_parent(ctx, base, path, not flags & (O_EXCL | O_NOFOLLOW))
        if lk.child is None:
            if lk.trailing_slash:
                raise KernelError(EISDIR)
            may_change_dir(vfs, ctx, lk.parent)
            inode = lk.parent.inode.create(lk.name, S.S_IFREG | (mode & 0o7777 & ~umask),
                                           *_creds(ctx))
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
        target = vfs.resolve(ctx, base, path, not flags & O_NOFOLLOW)
    inode = target.inode
    if inode.is_symlink and not flags & O_PATH:
        raise KernelError(ELOOP)
    if flags & O_DIRECTORY and not inode.is_dir:
        raise KernelError(ENOTDIR)
    if flags & O_PATH:
        file = InodeFile(inode, flags & OPEN_KEEP, target)
    else:
        if inode.is_dir and (acc != L.O_RDONLY or flags & O_TRUNC):
            raise KernelError(EISDIR)
        if not created:
            mask = (MAY_READ if acc in (L.O_RDONLY, L.O_RDWR) else 0) | \
                   (MAY_WRITE if acc in (L.O_WRONLY, L.O_RDWR) or flags & O_TRUNC else 0)
            may(ctx, inode, mask)
        if (acc != L.O_RDONLY or flags & O_TRUNC) and (inode.is_regular or inode.is_dir):
            target.mount.check_writable()
        writer = acc != L.O_RDONLY and inode.is_regular
        if writer and inode.real.write_count < 0:
            raise KernelError(ETXTBSY)        # get_write_access: a program runs it
        if flags & O_TRUNC and inode.is_regular and not created and inode.size:
            shrinking(inode, 0)
            inode.truncate(0)
        file = open_inode(inode, flags & OPEN_KEEP, target)
        if writer:
            file.hold_write(inode)
    inotify.opened(file, target, truncated=bool(flags & O_TRUNC) and not created)
    return file


def open_tmpfile(vfs, ctx: WalkContext, base: Path, path: bytes, flags: int, mode: int,
                 umask: int):
    """O_TMPFILE: an unnamed regular file in the directory path names, linkable later
    unless O_EXCL came with it."""
    if flags & L.O_ACCMODE == L.O_RDONLY:
        raise KernelError(EINVAL)
    if not path:
        raise KernelError(ENOENT)
    d = vfs.resolve(ctx, base, path)
    if not d.inode.is_dir:
        raise KernelError(ENOTDIR)
    may_change_dir(vfs, ctx, d)
    name = b".pyunik-tmpfile-%d" % time.monotonic_ns()
    inode = d.inode.create(name, S.S_IFREG | (mode & 0o7777 & ~umask), *_creds(ctx))
    d.inode.unlink(name)
    inode.never_link = bool(flags & O_EXCL)     # O_TMPFILE|O_EXCL: linkat gives ENOENT
    file = InodeFile(inode, flags & OPEN_KEEP & ~O_TMPFILE | L.O_RDWR & flags,
                     d.child(name, inode, d.mount))
    file.hold_write(inode)              # O_WRONLY or O_RDWR: open_tmpfile requires it
    return file


# ---- making names -----------------------------------------------------------------------

def mkdir(vfs, ctx: WalkContext, lk: Lookup, mode: int, umask: int) -> None:
    """vfs_mkdir."""
    if lk.child is not None:
        raise KernelError(EEXIST)
    may_change_dir(vfs, ctx, lk.parent)
    lk.parent.inode.mkdir(lk.name, mode & 0o7777 & ~umask, *_creds(ctx))
    inotify.created(lk, is_dir=True)


def mknod(vfs, ctx: WalkContext, lk: Lookup, mode: int, dev: int, umask: int,
          may_mknod: bool = True) -> None:
    """vfs_mknod, after check_mknod: regular files, fifos, sockets, device nodes. A
    device node needs CAP_MKNOD (may_mknod), asked for after the name's checks, as
    Linux does: a missing directory is ENOENT, a name in use EEXIST, before EPERM."""
    kind = S.S_IFMT(mode) or S.S_IFREG
    if lk.child is not None:
        raise KernelError(EEXIST)
    may_change_dir(vfs, ctx, lk.parent)
    if kind in (S.S_IFCHR, S.S_IFBLK) and not may_mknod:
        raise KernelError(EPERM)
    lk.parent.inode.create(lk.name, kind | (mode & 0o7777 & ~umask), *_creds(ctx),
                           dev & 0xFFFFFFFF)
    inotify.created(lk)


def check_mknod(mode: int) -> None:
    """The checks mknod makes of the mode before looking the name up (may_mknod)."""
    kind = S.S_IFMT(mode) or S.S_IFREG
    if kind == S.S_IFDIR:
        raise KernelError(EPERM)
    if kind not in (S.S_IFREG, S.S_IFIFO, S.S_IFCHR, S.S_IFBLK, S.S_IFSOCK):
        raise KernelError(EINVAL)


def symlink(vfs, ctx: WalkContext, lk: Lookup, target: bytes) -> None:
    """vfs_symlink."""
    if lk.child is not None:
        raise KernelError(EEXIST)
    may_change_dir(vfs, ctx, lk.parent)
    lk.parent.inode.symlink(lk.name, target, *_creds(ctx))
    inotify.created(lk)


def check_link_source(src: Path) -> None:
    """What link(2) checks of the existing file before looking up the new name: not a
    directory (EPERM), not unlinked unless it may be linked again (an O_TMPFILE file
    made without O_EXCL)."""
    if src.inode.is_dir:
        raise KernelError(EPERM)
    if getattr(src.inode, "never_link", False) or \
            (src.inode.nlink == 0 and not hasattr(src.inode, "never_link")):
        raise KernelError(ENOENT)


def link(vfs, ctx: WalkContext, src: Path, lk: Lookup) -> None:
    """vfs_link: a new name for src's inode, on the same mount."""
    if lk.child is not None:
        raise KernelError(EEXIST)
    if lk.parent.mount is not src.mount:
        raise KernelError(EXDEV)
    may_change_dir(vfs, ctx, lk.parent)
    lk.parent.inode.link(lk.name, src.inode)
    inotify.linked(lk, src)


# ---- removing and moving names --------------------------------------------------------------

def rmdir(vfs, ctx: WalkContext, lk: Lookup) -> None:
    """do_rmdir and vfs_rmdir: "." is EINVAL, ".." ENOTEMPTY, a mount point EBUSY."""
    if lk.name == b".":
        raise KernelError(EINVAL)
    if lk.name == b"..":
        raise KernelError(ENOTEMPTY)
    if lk.child is None:
        raise KernelError(ENOENT)
    if not lk.child.inode.is_dir:
        raise KernelError(ENOTDIR)       # a symlink too, even to a directory
    if lk.child.mount is not lk.parent.mount or len(lk.child.steps) == 1:
        raise KernelError(EBUSY)         # a mount point
    may_change_dir(vfs, ctx, lk.parent)
    check_sticky(ctx, lk.parent, lk.child.inode)
    lk.parent.inode.rmdir(lk.name)
    inotify.removed(lk)


def unlink(vfs, ctx: WalkContext, lk: Lookup) -> None:
    """do_unlinkat and vfs_unlink: a directory is EISDIR, "name/" ENOTDIR."""
    if lk.child is None:
        raise KernelError(ENOENT)
    if lk.child.inode.is_dir:
        raise KernelError(EISDIR)
    if lk.trailing_slash:
        raise KernelError(ENOTDIR)
    may_change_dir(vfs, ctx, lk.parent)
    check_sticky(ctx, lk.parent, lk.child.inode)
    links = inotify.links(lk.child)
    lk.parent.inode.unlink(lk.name)
    inotify.removed(lk, links)


def check_rename_flags(flags: int) -> None:
    """renameat2's flag checks, made before any lookup."""
    if flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT):
        raise KernelError(EINVAL)
    if flags & RENAME_EXCHANGE and flags & (RENAME_NOREPLACE | RENAME_WHITEOUT):
        raise KernelError(EINVAL)
    if flags & RENAME_WHITEOUT:
        raise KernelError(EINVAL)      # whiteouts are overlayfs-internal


def rename(vfs, ctx: WalkContext, old: Lookup, new: Lookup, flags: int) -> None:
    """do_renameat2 and vfs_rename: RENAME_NOREPLACE and RENAME_EXCHANGE; renaming a
    name onto another name of the same inode does nothing."""
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
            return
        if not flags & RENAME_EXCHANGE:
            if src.is_dir and not dst.is_dir:
                raise KernelError(ENOTDIR)
            if dst.is_dir and not src.is_dir:
                raise KernelError(EISDIR)
    elif flags & RENAME_EXCHANGE:
        raise KernelError(ENOENT)
    if src.is_dir and src in [s.inode for s in new.parent.steps]:
        raise KernelError(EINVAL)      # a directory cannot move below itself
    may_change_dir(vfs, ctx, old.parent)
    may_change_dir(vfs, ctx, new.parent)
    check_sticky(ctx, old.parent, src)
    links = inotify.links(new.child)
    old.parent.inode.rename(old.name, new.parent.inode, new.name, flags)
    inotify.renamed(old, new, bool(flags & RENAME_EXCHANGE), links)


# ---- cwd and root ---------------------------------------------------------------------------

def check_directory(ctx: WalkContext, p: Path) -> Path:
    """chdir, fchdir and chroot's checks of the new directory: ENOTDIR, then search
    permission."""
    if p is None or not p.inode.is_dir:
        raise KernelError(ENOTDIR)
    may(ctx, p.inode, MAY_EXEC)
    return p
