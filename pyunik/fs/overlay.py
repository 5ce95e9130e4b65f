"""overlay: a writable ramfs upper layer over a read-only lower tree, as Linux's overlayfs.

Layer: fs, a filesystem under the VFS (fs/vfs.py) built from two inode trees: the lower
(an imagefs, a read-only hostfs, any Inode tree), which it only reads, and an upper
RamFS, which takes every change. An OverlayInode stands for one merged object and calls
its upper inode when it has one, else its lower one.

- Lookups see the upper first, then the lower. A directory present in both merges: its
  listing is the upper's entries, then the lower's not shadowed and not whited out.
  A non-directory in the upper hides whatever the lower has under that name.
- Any change to a lower object first copies it up: its data, mode, owner and times (the
  ctime is the copy's), creating its parent directories in the upper as needed. Opening a
  regular file for writing (or with O_TRUNC) copies it up then, as Linux does.
- Removing or renaming away a name the lower has records a whiteout. Whiteouts are kept
  as a set of names per upper directory (not as 0/0 character devices), and are never
  dropped while the directory lives: a name removed and created again hides the lower's
  entry for good, so a directory removed and re-created is opaque.
- Renaming a directory that has a lower part (a lower or merged directory) gives EXDEV,
  as Linux does without redirect_dir; `mv` then copies and deletes. Directories made in
  the upper only, and all non-directories, rename normally.
- Inode numbers are stable per merged object: an object from the lower (copied up or not)
  keeps the lower's ino, as Linux's xino does; an object made in the upper uses the
  upper's ino with bit 62 set, so it never collides with a lower number. st_dev is the
  overlay's own for every object. A merged directory reports st_nlink 1, as Linux does.

State: OverlayFS.whiteouts (upper directory -> names) and OverlayFS.origin (upper inode
-> the lower inode it was copied from) are weak-keyed by the upper inode, so they live
exactly as long as the upper object. Each directory's OverlayInode keeps its live children
in a weak dict so an object is the same while anything holds it.

Deviations from Linux: hard links in the lower are copied up separately (Linux keeps them
only with the index feature); an object removed while open and never copied up cannot be
changed any more (ESTALE); an open with O_TRUNC copies up no data (Linux copies, then
truncates: the same result); changes made to the lower tree behind the overlay's back
reach objects not currently held only (Linux: undefined). The upper is a ramfs, so every
change, whiteouts included, is gone when pyunik exits.
"""

from __future__ import annotations

import stat as S
import weakref
from errno import (EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EOPNOTSUPP, EPERM,
                   ESTALE, EXDEV)

from ..abi import linux as L
from ..abi.fs import RENAME_EXCHANGE, RENAME_NOREPLACE
from ..abi.magic import OVERLAYFS_SUPER_MAGIC
from ..abi.stat import STAT_HEAD2, STAT_HEAD3
from ..errors import KernelError
from .inode import FileSystem, Inode, check_rename_target
from .ramfs import RamFS

UPPER_INO_BIT = 1 << 62
COPY_CHUNK = 1 << 20


class OverlayFS(FileSystem):
    name = "overlay"
    magic = OVERLAYFS_SUPER_MAGIC

    def __init__(self, lower_root: Inode, upper: RamFS | None = None):
        super().__init__(readonly=False)
        if not lower_root.is_dir:
            raise KernelError(ENOTDIR)
        if upper is None:
            st = lower_root.stat()
            upper = RamFS(mode=S.S_IMODE(st[3]), uid=st[4], gid=st[5])
            upper.root.set_times(st[11] * 10**9 + st[12], st[13] * 10**9 + st[14])
        self.upper = upper
        # Names change only through the guest unless the lower is a host directory.
        self.cacheable = getattr(lower_root.fs, "cacheable", False)
        self.lower_root = lower_root
        self.whiteouts: weakref.WeakKeyDictionary[Inode, set[bytes]] = \
            weakref.WeakKeyDictionary()
        self.origin: weakref.WeakKeyDictionary[Inode, Inode] = weakref.WeakKeyDictionary()
        self.origin[upper.root] = lower_root
        self.root = OverlayInode(self, None, b"", upper.root, lower_root)

    def layers(self) -> tuple[FileSystem, ...]:
        return (self.upper, self.lower_root.fs)

    def close(self) -> None:
        """Give back what the lower filesystem holds on the host."""
        close = getattr(self.lower_root.fs, "close", None)
        if close is not None:
            close()

    def statfs(self) -> dict:
        info = dict(self.upper.statfs())
        info["type"] = self.magic
        return info


def _real_attr(name: str) -> property:
    return property(lambda self: getattr(self.upper if self.upper is not None
                                         else self.lower, name))


class OverlayInode(Inode):
    """One merged object. upper/lower are its inodes in each layer (lower None for an
    object made in the upper or a directory made opaque; upper None until copied up);
    parent and name say where it is (parent None: the root, or removed)."""

    fs: OverlayFS
    # stat_bytes' last answer: (the layer's bytes it was made from, it)
    _kept_stat: tuple | None = None

    def __init__(self, fs: OverlayFS, parent: OverlayInode | None, name: bytes,
                 upper: Inode | None, lower: Inode | None):
        # Inode.__init__ is not called: every attribute is the real inode's.
        self.fs = fs
        self.parent = parent
        self.name = name
        self.upper = upper
        self.lower = lower
        self._children: weakref.WeakValueDictionary[bytes, OverlayInode] | None = (
            weakref.WeakValueDictionary() if self.real.is_dir else None)
        if upper is None:
            self.ino = lower.ino
        else:
            origin = fs.origin.get(upper, lower)
            self.ino = origin.ino if origin is not None else upper.ino | UPPER_INO_BIT

    @property
    def real(self) -> Inode:
        return self.upper if self.upper is not None else self.lower

    mode = _real_attr("mode")
    uid = _real_attr("uid")
    gid = _real_attr("gid")
    rdev = _real_attr("rdev")
    atime_ns = _real_attr("atime_ns")
    mtime_ns = _real_attr("mtime_ns")
    ctime_ns = _real_attr("ctime_ns")
    size = _real_attr("size")

    @property
    def _merged(self) -> bool:
        return self.upper is not None and self.lower is not None and self.upper.is_dir

    @property
    def nlink(self) -> int:
        return 1 if self._merged else self.real.nlink

    def stat(self) -> tuple:
        upper = self.upper
        if upper is None:
            st = self.lower.stat()
        else:
            st = upper.stat()
            if self.lower is not None and upper.is_dir:       # merged
                return (self.fs.dev, self.ino, 1) + st[3:]
        return (self.fs.dev, self.ino) + st[2:]

    def stat_bytes(self) -> bytes:
        """The layer's packed stat (kept by the layer where it can be: RamInode,
        ImageInode) with the overlay's dev and ino in front (and nlink 1 for a merged
        directory), kept while the layer answers with the same bytes object. That
        object stands for the layer inode and every field it shows (each inode packs
        its own, and keeping it here keeps its identity from being reused); a copy-up
        changes the layer, so the object too; ino and lower are fixed when this
        object is made, and nothing is kept before the overlay has its device number
        (given once, at mount)."""
        upper = self.upper
        packed = (upper if upper is not None else self.lower).stat_bytes()
        kept = self._kept_stat
        if kept is not None and kept[0] is packed:
            return kept[1]
        dev = self.fs.dev
        if upper is not None and self.lower is not None and upper.is_dir:      # merged
            mine = STAT_HEAD3.pack(dev, self.ino, 1) + packed[STAT_HEAD3.size:]
        else:
            mine = STAT_HEAD2.pack(dev, self.ino) + packed[STAT_HEAD2.size:]
        if dev:
            self._kept_stat = (packed, mine)
        return mine

    # ---- the merge -----

    def _whiteouts(self) -> set[bytes] | tuple:
        if self.upper is None:
            return ()
        return self.fs.whiteouts.get(self.upper, ())

    def _lower_for(self, name: bytes, upper: Inode | None) -> Inode | None:
        """The lower inode that goes with the upper one found under name (or stands
        alone when upper is None)."""
        if upper is not None and not upper.is_dir:
            return self.fs.origin.get(upper)          # a copied-up file, wherever it is
        if self.lower is None or name in self._whiteouts():
            return None
        lower = self.lower.lookup(name)
        if upper is not None and (lower is None or not lower.is_dir):
            return None
        return lower

    def _adopt(self, name: bytes, upper: Inode | None, lower: Inode | None) -> OverlayInode:
        child = self._children.get(name)
        if child is not None and child.upper is upper and \
                (upper is not None or child.lower is lower):
            return child
        child = OverlayInode(self.fs, self, name, upper, lower)
        self._children[name] = child
        return child

    def lookup(self, name):
        self._need_dir()
        child = self._children.get(name)
        if child is not None:
            return child
        upper = self.upper.lookup(name) if self.upper is not None else None
        lower = self._lower_for(name, upper)
        if upper is None and lower is None:
            return None
        return self._adopt(name, upper, lower)

    def entries(self):
        """The lower's names in the lower's order (a host directory's getdents order,
        so `find` lists what it lists natively), each replaced in place by its upper
        copy; then the names only the upper has, in the upper's order."""
        self._need_dir()
        upper_entries = self.upper.entries() if self.upper is not None else []
        uppers = dict(upper_entries)
        out = []
        if self.lower is not None:
            whiteouts = self._whiteouts()
            for name, lower in self.lower.entries():
                if name in uppers:
                    out.append((name, self._upper_child(name, uppers.pop(name))))
                elif name not in whiteouts:
                    out.append((name, self._adopt(name, None, lower)))
        for name, upper in upper_entries:
            if name in uppers:
                out.append((name, self._upper_child(name, upper)))
        return out

    def _upper_child(self, name: bytes, upper: Inode):
        child = self._children.get(name)
        if child is None or child.upper is not upper:
            child = self._adopt(name, upper, self._lower_for(name, upper))
        return child

    def _detach(self) -> None:
        parent = self.parent
        if parent is not None and parent._children.get(self.name) is self:
            del parent._children[self.name]
        self.parent = None

    def _hide_lower(self, name: bytes) -> None:
        """After the upper lost name (or got a new object under it): keep the lower's
        entry of that name out of sight with a whiteout."""
        if self.lower is None or name in self._whiteouts():
            return
        if self.lower.lookup(name) is None:
            return
        upper = self.copy_up()
        self.fs.whiteouts.setdefault(upper, set()).add(name)
        upper.touch_modified()

    # ---- copy-up -----

    def copy_up(self, limit: int | None = None) -> Inode:
        """This object's upper inode, copying it from the lower first if need be (at most
        limit bytes of a regular file's data)."""
        if self.upper is not None:
            return self.upper
        if self.parent is None:
            raise KernelError(ESTALE)        # removed while open, never copied
        parent_upper = self.parent.copy_up()
        parent_times = (parent_upper.atime_ns, parent_upper.mtime_ns)
        lower = self.lower
        st = lower.stat()
        mode, uid, gid, rdev = st[3], st[4], st[5], st[7]
        kind = S.S_IFMT(mode)
        if kind == S.S_IFDIR:
            upper = parent_upper.mkdir(self.name, S.S_IMODE(mode), uid, gid)
        elif kind == S.S_IFLNK:
            upper = parent_upper.symlink(self.name, lower.readlink(), uid, gid)
        else:
            upper = parent_upper.create(self.name, mode, uid, gid, rdev)
        try:
            if kind == S.S_IFREG:
                offset = 0
                end = st[8] if limit is None else min(limit, st[8])
                while offset < end:
                    data = lower.read(offset, min(COPY_CHUNK, end - offset))
                    if not data:
                        break
                    upper.write(offset, data)
                    offset += len(data)
            if kind != S.S_IFLNK:
                upper.set_mode(mode)
            upper.set_times(st[11] * 10**9 + st[12], st[13] * 10**9 + st[14])
        except BaseException:
            if kind == S.S_IFDIR:
                parent_upper.rmdir(self.name)
            else:
                parent_upper.unlink(self.name)
            raise
        parent_upper.set_times(*parent_times)     # a copy-up does not change the parent
        self.fs.origin[upper] = lower
        self.upper = upper
        return upper

    # ---- metadata -----

    def set_mode(self, mode):
        self.copy_up().set_mode(mode)

    def set_owner(self, uid, gid):
        self.copy_up().set_owner(uid, gid)

    def set_times(self, atime_ns, mtime_ns):
        self.copy_up().set_times(atime_ns, mtime_ns)

    def touch_modified(self):
        self.copy_up().touch_modified()

    # ---- directories -----

    def _new_name(self, name: bytes) -> Inode:
        """The upper directory to create name in, after EEXIST is ruled out."""
        self._need_dir()
        if self.lookup(name) is not None:
            raise KernelError(EEXIST)
        return self.copy_up()

    def _made(self, name: bytes, upper: Inode) -> OverlayInode:
        # No lower part: the lower has no visible entry under name (EEXIST otherwise), so
        # any it has is whited out and a new directory is opaque.
        return self._adopt(name, upper, self.fs.origin.get(upper))

    def create(self, name, mode, uid, gid, rdev=0):
        upper = self._new_name(name).create(name, mode, uid, gid, rdev)
        return self._made(name, upper)

    def mkdir(self, name, mode, uid, gid):
        upper = self._new_name(name).mkdir(name, mode, uid, gid)
        return self._made(name, upper)

    def symlink(self, name, target, uid, gid):
        upper = self._new_name(name).symlink(name, target, uid, gid)
        return self._made(name, upper)

    def link(self, name, inode):
        self._need_dir()
        if not isinstance(inode, OverlayInode) or inode.fs is not self.fs:
            raise KernelError(EXDEV)
        if inode.is_dir:
            raise KernelError(EPERM)
        if inode.parent is None and inode.upper is None:
            raise KernelError(ENOENT)
        parent_upper = self._new_name(name)
        upper = inode.copy_up()
        parent_upper.link(name, upper)
        self._made(name, upper)

    def unlink(self, name):
        self._need_dir()
        child = self.lookup(name)
        if child is None:
            raise KernelError(ENOENT)
        if child.is_dir:
            raise KernelError(EISDIR)
        if child.upper is not None:
            self.upper.unlink(name)
        self._hide_lower(name)
        child._detach()

    def rmdir(self, name):
        self._need_dir()
        child = self.lookup(name)
        if child is None:
            raise KernelError(ENOENT)
        if not child.is_dir:
            raise KernelError(ENOTDIR)
        if child.entries():
            raise KernelError(ENOTEMPTY)
        if child.upper is not None:
            self.upper.rmdir(name)
            self.fs.whiteouts.pop(child.upper, None)
        self._hide_lower(name)
        child._detach()

    def rename(self, old, new_dir, new, flags):
        self._need_dir()
        if not isinstance(new_dir, OverlayInode) or new_dir.fs is not self.fs:
            raise KernelError(EXDEV)
        new_dir._need_dir()
        if flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) or \
                flags == RENAME_NOREPLACE | RENAME_EXCHANGE:
            raise KernelError(EINVAL)
        exchange = bool(flags & RENAME_EXCHANGE)
        src = self.lookup(old)
        if src is None:
            raise KernelError(ENOENT)
        dst = new_dir.lookup(new)
        if dst is not None and (dst is src or
                                (src.upper is not None and dst.upper is src.upper)):
            return                  # the same object (or two links of it): nothing to do
        if dst is None and exchange:
            raise KernelError(ENOENT)
        if not exchange:
            check_rename_target(src, dst, flags)
        # Linux without redirect_dir: a directory with a lower part does not move.
        if src.is_dir and src.lower is not None:
            raise KernelError(EXDEV)
        if exchange and dst.is_dir and dst.lower is not None:
            raise KernelError(EXDEV)
        if dst is not None and not exchange and dst.is_dir and dst.entries():
            raise KernelError(ENOTEMPTY)
        for moving in (src, dst) if exchange else (src,):
            if moving.is_dir:
                at = new_dir if moving is src else self
                while at is not None:              # not into itself: Linux's EINVAL
                    if at is moving:
                        raise KernelError(EINVAL)
                    at = at.parent
        src.copy_up()
        if exchange:
            dst.copy_up()
        old_upper = self.copy_up()
        new_upper = new_dir.copy_up()
        replaced = dst.upper if dst is not None and not exchange else None
        old_upper.rename(old, new_upper, new, RENAME_EXCHANGE if exchange else 0)
        if replaced is not None:
            self.fs.whiteouts.pop(replaced, None)
        self._hide_lower(old)
        new_dir._hide_lower(new)
        self._children.pop(old, None)
        new_dir._children.pop(new, None)
        if exchange:
            dst.parent, dst.name = self, old
            self._children[old] = dst
        elif dst is not None:
            dst.parent = None
        src.parent, src.name = new_dir, new
        new_dir._children[new] = src

    # ---- contents -----

    def read(self, offset, size):
        if self.is_dir:
            raise KernelError(EISDIR)
        return self.real.read(offset, size)

    def write(self, offset, data):
        if self.is_dir:
            raise KernelError(EISDIR)
        if not self.is_regular:
            raise KernelError(EINVAL)
        return self.copy_up().write(offset, data)

    def truncate(self, size):
        if self.is_dir:
            raise KernelError(EISDIR)
        if not self.is_regular:
            raise KernelError(EINVAL)
        self.copy_up(limit=size).truncate(size)

    def readlink(self):
        return self.real.readlink()

    def punch(self, offset, length):
        """fallocate(PUNCH_HOLE) when the upper filesystem can."""
        upper = self.copy_up()
        if not hasattr(upper, "punch"):
            raise KernelError(EOPNOTSUPP)
        upper.punch(offset, length)

    def allocate(self, offset, length, keep_size):
        """fallocate(2) modes 0 and KEEP_SIZE, counted by the upper filesystem."""
        upper = self.copy_up()
        if hasattr(upper, "allocate"):
            upper.allocate(offset, length, keep_size)
        elif not keep_size and offset + length > upper.size:
            upper.truncate(offset + length)

    def mmap_source(self, writable, end):
        if writable and self.is_regular:
            self.copy_up()
        return self.real.mmap_source(writable, end)

    def open(self, flags):
        if flags & L.O_PATH:
            return None
        if self.is_regular and self.upper is None and (
                (flags & L.O_ACCMODE) in (L.O_WRONLY, L.O_RDWR) or flags & L.O_TRUNC):
            self.copy_up(limit=0 if flags & L.O_TRUNC else None)
        return self.real.open(flags)
