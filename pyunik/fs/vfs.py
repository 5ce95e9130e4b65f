"""The VFS core: the mount table and the path walk.

A location in the tree is a `Path`: the chain of (name, inode, mount) steps from the
root to it. Keeping the chain, rather than parent pointers in inodes, is what makes
`..` right across mount points and symlinks: `..` pops one step, so it returns to
where the walk came from, in whichever filesystem that was. A process's cwd and each
open directory keep their Path; getcwd joins its names.

The walk follows Linux's namei: one component at a time; `.` stays, `..` pops (never
above the root); a symlink met before the last component, or as the last with
follow=True, is replaced by its target's components (an absolute target restarts
at the root), at most 40 times (ELOOP); a trailing slash demands a directory. Mount
points are keyed by their name chain and entered as the walk reaches them.
Filesystems only answer lookups inside one directory, so no filesystem (hostfs
included) ever resolves a path itself.

Every walk is for someone: a `WalkContext` carries the caller's root (where `/`
restarts and `..` stops) and credentials (search permission), as Linux's nameidata
carries the task's fs->root and cred. The kernel builds one per call from the calling
process; nothing about the caller is ever stored on the shared VFS.

Layer: fs core. Called by the kernel (syscall handlers, exec, the namespace builder)
and procfs; calls the filesystems' inodes (lookup, readlink) and nothing above fs/.
"""

from __future__ import annotations

from errno import EACCES, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EROFS, EXDEV

from ..abi.openat2 import (RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS,
                           RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV)
from ..abi.fs import MAY_EXEC
from ..abi.limits import MAXSYMLINKS, NAME_MAX
from ..errors import KernelError
from .inode import DeviceNumbers, FileSystem, Inode
from .inotify import Fsnotify



class Mount:
    """A filesystem mounted at a place; compared and hashed by identity. (vfs.py's
    records are plain classes: a dataclass compiles its methods at import, paid by
    every run.)"""

    def __init__(self, names: tuple[bytes, ...], fs: FileSystem, root: Inode,
                 readonly: bool = False, source: str = "none", options: str = ""):
        self.names = names          # where it is mounted: () for the root
        self.fs = fs
        self.root = root
        self.readonly = readonly
        self.source = source        # what /proc/mounts prints first
        self.options = options

    def check_writable(self) -> None:
        if self.readonly or self.fs.readonly:
            raise KernelError(EROFS)


class Step:
    """One step of a Path: the name walked, the inode reached, the mount it is in."""

    __slots__ = ("name", "inode", "mount")

    def __init__(self, name: bytes, inode: Inode, mount: Mount):
        self.name = name
        self.inode = inode
        self.mount = mount


class Path:
    """A walked location: the steps from the root (steps[0] is the root itself)."""

    __slots__ = ("steps",)

    def __init__(self, steps: tuple[Step, ...]):
        self.steps = steps

    @property
    def inode(self) -> Inode:
        return self.steps[-1].inode

    @property
    def mount(self) -> Mount:
        return self.steps[-1].mount

    @property
    def names(self) -> tuple[bytes, ...]:
        return tuple(s.name for s in self.steps[1:])

    def text(self) -> bytes:
        return b"/" + b"/".join(self.names)

    def child(self, name: bytes, inode: Inode, mount: Mount) -> "Path":
        return Path(self.steps + (Step(name, inode, mount),))

    def parent(self) -> "Path":
        return Path(self.steps[:-1]) if len(self.steps) > 1 else self


class WalkContext:
    """Whom a walk is for: the root that `/` restarts at and `..` stops at, and the
    credentials (uid, gid, groups) search permission is checked with. Part of every
    path-cache key, so a chroot or a change of credentials never meets a walk cached
    for another root or another user."""

    __slots__ = ("root", "creds")

    def __init__(self, root: Path, creds: tuple = (0, 0, ())):
        self.root = root
        self.creds = creds


class Lookup:
    """What resolve_parent found: the directory, the last name, and the child
    (None when it does not exist yet)."""

    __slots__ = ("parent", "name", "child", "trailing_slash")

    def __init__(self, parent: Path, name: bytes, child: Path | None, trailing_slash: bool):
        self.parent = parent
        self.name = name
        self.child = child
        self.trailing_slash = trailing_slash


def permitted(inode: Inode, mask: int, uid: int, gid: int, groups=()) -> bool:
    """generic_permission(): owner, group, other bits; root may do all but exec a
    file with no x bit at all."""
    mode = inode.mode
    if uid == 0:
        if mask & MAY_EXEC and not inode.is_dir and not mode & 0o111:
            return False
        return True
    if uid == inode.uid:
        bits = (mode >> 6) & 7
    elif gid == inode.gid or inode.gid in groups:
        bits = (mode >> 3) & 7
    else:
        bits = mode & 7
    return bits & mask == mask


class VFS:
    """One mount namespace: the mount table and the caches of the walk. devices and
    notify are the kernel's (its device numbers and its inotify state), handed to
    every filesystem mounted here; a VFS made without them has its own. clock is the
    kernel's wall clock (ns) file times are stamped from, the host's by default."""

    def __init__(self, root_fs: FileSystem, root_inode: Inode,
                 devices: DeviceNumbers | None = None, notify: Fsnotify | None = None,
                 clock=None):
        self.devices = devices if devices is not None else DeviceNumbers()
        self.notify = notify if notify is not None else Fsnotify()
        self.clock = clock if clock is not None else FileSystem.clock
        self.attach(root_fs)
        self.mounts: dict[tuple[bytes, ...], Mount] = {}
        root = Mount((), root_fs, root_inode, source="rootfs")
        self.mounts[()] = root
        self.root = Path((Step(b"", root_inode, root),))    # the namespace's root
        # The kernel's own walks (mounting, building the namespace, the first
        # process's cwd): from the namespace's root, with root's credentials.
        self.init_context = WalkContext(self.root)
        # The name cache: (directory inode, mount, name) -> (inode, mount) or
        # (None, None) for "no such name"; cleared by changed().
        self._names: dict = {}
        self._mount_names: set[bytes] = set()
        # The path cache: (start Path, path, follow, root Path, creds) -> Path, for
        # walks that met only cacheable filesystems; cleared by changed() with the
        # name cache. The caller's root and creds are in the key, so chroot and
        # set*id need not clear it: a walk for another root simply misses.
        self._paths: dict = {}
        self._uncached = False
        # The latest walk of each path string, in front of the path cache, for the
        # calls that walk one path over and over (stat, access): path ->
        # (start Path, root Path, creds, result Path, its inode), one dict for walks
        # that follow a last symlink and one for walks that do not. An entry answers
        # only a caller whose start, root and creds are those (see `recent`); it is
        # filled and cleared with the path cache, so it is as right as that is.
        self.recent_follow: dict = {}
        self.recent_nofollow: dict = {}

    # ---- mounts -----

    def attach(self, fs: FileSystem) -> None:
        """Make fs (and the filesystems it is built from) the kernel's: a device number
        and the kernel's inotify state. Mounting does it; a kernel-internal filesystem
        that is never mounted (memfd's) calls it itself."""
        self.devices.assign(fs)
        fs.notify = self.notify
        if fs.clock is not self.clock:
            fs.set_clock(self.clock)
        for layer in fs.layers():
            self.attach(layer)

    def mount(self, where: bytes, fs: FileSystem, root: Inode, readonly: bool = False,
              source: str = "none", options: str = "") -> Mount:
        """Mount fs at the directory where (which must exist)."""
        target = self.resolve_absolute(where)
        if not target.inode.is_dir:
            raise KernelError(ENOTDIR)
        self.attach(fs)
        m = Mount(target.names, fs, root, readonly, source, options)
        self.mounts[target.names] = m
        self._mount_names.add(target.names[-1] if target.names else b"")
        self.changed()
        return m

    def mount_table(self) -> list[Mount]:
        return [self.mounts[k] for k in sorted(self.mounts, key=len)]

    # ---- the walk -----

    @staticmethod
    def _start(ctx: WalkContext, base: Path, path: bytes) -> Path:
        if not path:
            raise KernelError(ENOENT)
        return ctx.root if path.startswith(b"/") else base

    def lookup(self, ctx: WalkContext, at: Path, name: bytes) -> Path | None:
        """One component below the directory at, entering a mount point; None when
        the name does not exist. `..` at ctx's root stays there.

        Answers for filesystems whose names only the guest can change come from the
        name cache (see `changed`), like Linux's dcache. The name cache holds no
        answer that depends on the caller: search permission is checked before it,
        and `.`/`..` never reach it."""
        d = at.inode
        if d.mode & 0o170000 != 0o040000:
            raise KernelError(ENOTDIR)
        creds = ctx.creds
        if creds[0] != 0 and not permitted(d, MAY_EXEC, *creds):
            raise KernelError(EACCES)
        if name == b".":
            return at
        if name == b"..":
            root = ctx.root
            if d is root.inode and at.mount is root.mount:
                return at               # ".." at the (chroot) root stays there
            return at.parent()
        if len(name) > NAME_MAX:
            raise KernelError(ENAMETOOLONG)
        key = (d, at.mount, name)
        hit = self._names.get(key)
        if hit is None:
            child = d.lookup(name)
            if child is None:
                hit = (None, None)
            else:
                m = self.mounts.get(at.names + (name,)) if name in self._mount_names else None
                hit = (m.root, m) if m is not None else (child, at.mount)
            if d.fs.cacheable:
                if len(self._names) > 50000:
                    self._names.clear()
                self._names[key] = hit
            else:
                self._uncached = True
        if hit[0] is None:
            return None
        return Path(at.steps + (Step(name, hit[0], hit[1]),))

    def changed(self) -> None:
        """A name was made, removed or moved, a mount added, or a directory's
        permissions changed: forget cached names and paths. (A chroot or a change
        of credentials needs no call: both are part of the path-cache key.)"""
        self._names.clear()
        self._paths.clear()
        self.recent_follow.clear()
        self.recent_nofollow.clear()

    def _walk(self, ctx: WalkContext, base: Path, components: list[bytes],
              follow_last: bool, links: list[int]) -> Path:
        """Walk components from base; every one must exist."""
        at = base
        queue = list(reversed(components))
        while queue:
            name = queue.pop()
            nxt = self.lookup(ctx, at, name)
            if nxt is None:
                raise KernelError(ENOENT)
            if nxt.inode.is_symlink and (queue or follow_last):
                links[0] += 1
                if links[0] > MAXSYMLINKS:
                    raise KernelError(ELOOP)
                jump = _magic_follow(at, name, nxt)
                if jump is not None:        # /proc/<pid>/fd/N and the like
                    self._uncached = True
                    at = jump
                    continue
                target = nxt.inode.readlink()
                if not target:
                    raise KernelError(ENOENT)
                if target.startswith(b"/"):
                    at = ctx.root
                queue.extend(reversed([c for c in target.split(b"/") if c]))
                continue
            at = nxt
        return at

    def resolve(self, ctx: WalkContext, base: Path, path: bytes,
                follow: bool = True) -> Path:
        """The location path names for ctx, relative to base unless absolute. Whole
        walks through cacheable filesystems are remembered until `changed`."""
        start = self._start(ctx, base, path)
        key = (start, path, follow, ctx.root, ctx.creds)
        hit = self._paths.get(key)
        if hit is not None:
            return hit
        self._uncached = False
        trailing = path.endswith(b"/")
        comps = [c for c in path.split(b"/") if c]
        result = self._walk(ctx, start, comps, follow or trailing, [0])
        if trailing and not result.inode.is_dir:
            raise KernelError(ENOTDIR)
        if not self._uncached and result.inode.fs.cacheable:
            if len(self._paths) > 20000:
                self._paths.clear()
                self.recent_follow.clear()
                self.recent_nofollow.clear()
            self._paths[key] = result
            (self.recent_follow if follow else self.recent_nofollow)[path] = \
                (start, ctx.root, ctx.creds, result, result.steps[-1].inode)
        return result

    def recent(self, path: bytes, follow: bool, start: Path, root: Path,
               creds: tuple) -> Path | None:
        """What resolve(ctx, start, path, follow) would answer from the cache for a
        ctx of this root and creds, if it is the latest walk of path; else None.
        (kernel/syscalls/fast_stat.py makes the same test inline.)
        Paths are compared by identity, as the path cache does; creds by identity
        first (Credentials keeps one tuple until the ids change), then by value."""
        hit = (self.recent_follow if follow else self.recent_nofollow).get(path)
        if hit is not None and hit[0] is start and hit[1] is root and \
                (hit[2] is creds or hit[2] == creds):
            return hit[3]
        return None

    def resolve_absolute(self, path: bytes, follow: bool = True) -> Path:
        """The kernel's own walk (Linux's kern_path()): path from the namespace's
        root, with root's credentials; for starting programs, never for a guest."""
        return self.resolve(self.init_context, self.root, path, follow)

    def resolve_parent(self, ctx: WalkContext, base: Path, path: bytes,
                       follow: bool = False) -> Lookup:
        """For calls that create or remove a name: the directory holding the last
        component, and the child if it exists (followed when follow is set and it
        is a symlink, as open(O_CREAT) without O_EXCL does; a trailing slash alone
        does not follow, so rmdir("link/") sees the symlink)."""
        start = self._start(ctx, base, path)
        trailing = path.endswith(b"/")
        comps = [c for c in path.split(b"/") if c]
        links = [0]
        if not comps:                          # "/" itself
            return Lookup(start.parent(), b"/", start, trailing)
        parent = self._walk(ctx, start, comps[:-1], True, links)
        name = comps[-1]
        while True:
            if not parent.inode.is_dir:
                raise KernelError(ENOTDIR)
            child = self.lookup(ctx, parent, name)
            if name in (b".", b".."):
                return Lookup(parent, name, child, trailing)
            if child is not None and child.inode.is_symlink and follow:
                links[0] += 1
                if links[0] > MAXSYMLINKS:
                    raise KernelError(ELOOP)
                jump = _magic_follow(parent, name, child)
                if jump is not None:
                    return Lookup(jump.parent(), name, jump, trailing)
                target = child.inode.readlink()
                tcomps = [c for c in target.split(b"/") if c]
                base2 = ctx.root if target.startswith(b"/") else parent
                if not tcomps:
                    return Lookup(base2, b"/", base2, trailing)
                parent = self._walk(ctx, base2, tcomps[:-1], True, links)
                name = tcomps[-1]
                continue
            return Lookup(parent, name, child, trailing)

    def scoped_path(self, ctx: WalkContext, base: Path, path: bytes, bits: int,
                    follow_last: bool) -> bytes:
        """openat2's RESOLVE_* walk from the directory base. Returns path rewritten
        relative to base with every symlink before the last component resolved, so
        the open that follows lands where this walk did (for RESOLVE_IN_ROOT, ".."
        at base and absolute paths stay in it).

        RESOLVE_BENEATH: leaving base (.., absolute paths or symlinks) is EXDEV;
        RESOLVE_IN_ROOT: base is the root; RESOLVE_NO_SYMLINKS: any symlink is ELOOP;
        RESOLVE_NO_MAGICLINKS: /proc links are ELOOP; RESOLVE_NO_XDEV: crossing a
        mount is EXDEV."""
        scoped = bits & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)
        at, names = base, []            # names: where we are, below base
        queue = [c for c in path.split(b"/") if c]

        def restart_absolute():
            if bits & RESOLVE_BENEATH:
                raise KernelError(EXDEV)
            if not bits & RESOLVE_IN_ROOT:
                return None             # plain absolute: not below base, nothing to rewrite
            return base

        if path.startswith(b"/"):
            if restart_absolute() is None:
                return path
        links = 0
        while queue:
            c = queue.pop(0)
            if c == b".":
                continue
            if c == b"..":
                if not names:
                    if bits & RESOLVE_BENEATH:
                        raise KernelError(EXDEV)
                    if bits & RESOLVE_IN_ROOT:
                        continue        # base is the root: ".." stays
                    return path
                names.pop()
                at = at.parent()
                continue
            nxt = self.lookup(ctx, at, c)
            if nxt is None:
                names.append(c)
                names += queue
                break
            if nxt.mount is not at.mount and bits & RESOLVE_NO_XDEV:
                raise KernelError(EXDEV)
            if nxt.inode.is_symlink and (queue or follow_last):
                if bits & RESOLVE_NO_SYMLINKS:
                    raise KernelError(ELOOP)
                if getattr(nxt.inode, "follow", None) is not None:
                    raise KernelError(ELOOP if bits & RESOLVE_NO_MAGICLINKS or not scoped
                                      else EXDEV)
                links += 1
                if links > MAXSYMLINKS:
                    raise KernelError(ELOOP)
                target = nxt.inode.readlink()
                if target.startswith(b"/"):
                    if restart_absolute() is None:
                        return path
                    at, names = base, []
                queue = [x for x in target.split(b"/") if x] + queue
                continue
            at = nxt
            names.append(c)
        return b"/".join(names) or b"."


def _magic_follow(parent: Path, name: bytes, link: Path) -> Path | None:
    """A "magic" symlink (procfs's fd, cwd, root, exe) leads to the object itself, not
    to the text it reads as: its inode's follow() gives a Path, or an inode standing
    for an object with no name (a pipe, a host stream)."""
    follow = getattr(link.inode, "follow", None)
    target = follow() if follow is not None else None
    if target is None:
        return None
    if isinstance(target, Path):
        return target
    return parent.child(name, target, parent.mount)
