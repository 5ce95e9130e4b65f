"""The guest's file namespace: what root it gets and what is mounted where.

- no --root/--image: a writable overlay over a read-only image holding the program
  (at its host path) and, for a dynamic program, its interpreter and libraries
  (loader/autoimage.py), with /etc's generated files in the upper layer;
- --root DIR: DIR from the host, read-only, under a writable overlay;
- --image IMG: a built image (loader/image.py), under a writable overlay;
then devfs on /dev, procfs on /proc, sysfs on /sys, a tmpfs on /dev/shm, and each
-v HOST:GUEST[:ro|:rw] as a hostfs (read-only unless :rw).

Layer: kernel. Calls: the filesystems of fs/ (ramfs, overlay, imagefs, hostfs,
devfs, proc/, sysfs) and fs/vfs.py, loader/image.py and loader/autoimage.py.
"""

from __future__ import annotations

import os

from ..errors import KernelError
from ..fs.ramfs import RamFS
from ..fs.rootfs import build_default_root
from ..fs.vfs import VFS


class Volume:
    """A host directory shown at a guest path (-v, -w). A plain class: a dataclass
    compiles its methods at import, paid by every run."""

    def __init__(self, host: str, guest: str, writable: bool = False):
        self.host = host
        self.guest = guest
        self.writable = writable

    def __eq__(self, other) -> bool:
        return type(other) is Volume and (self.host, self.guest, self.writable) == \
            (other.host, other.guest, other.writable)

    def __repr__(self) -> str:
        return "Volume(%r, %r, writable=%r)" % (self.host, self.guest, self.writable)


class NamespaceError(Exception):
    """A user error in --root/--image/-v/-w: one line for the user."""


def _mkdir_p(vfs: VFS, path: bytes) -> None:
    ctx = vfs.init_context
    at = vfs.root
    for name in [c for c in path.split(b"/") if c]:
        nxt = vfs.lookup(ctx, at, name)
        if nxt is None:
            at.inode.mkdir(name, 0o755, 0, 0)
            vfs.changed()
            nxt = vfs.lookup(ctx, at, name)
        at = nxt


def build(kernel, root_dir: str | None = None, image: str | None = None,
          volumes: list[Volume] = (), image_entries: list | None = None,
          auto_image=None) -> VFS:
    """The VFS for the first process (see the module docstring). auto_image (a
    loader/autoimage.py AutoImage) gives the entries and learns the programs execve
    asks for later (`kernel.exec_learner`)."""
    if auto_image is not None:
        image_entries = auto_image.entries()
    uid, gid = os.getuid(), os.getgid()
    upper = build_default_root(uid, gid, tmpfs_size(kernel), kernel.clock.realtime_ns)
    lower = None
    if root_dir is not None:
        from ..fs.hostfs import HostFS
        if not os.path.isdir(root_dir):
            raise NamespaceError("--root %s: not a directory" % root_dir)
        lower = HostFS(root_dir, readonly=True).root
    elif image is not None:
        from ..loader.image import ImageError, open_image
        try:
            lower = open_image(image).root
        except ImageError as e:
            raise NamespaceError(str(e)) from None
    elif image_entries:
        from ..fs.imagefs import ImageFS
        image_fs = ImageFS.from_entries(
            image_entries, lister=None if auto_image is None else auto_image.list_directory)
        lower = image_fs.root
        if auto_image is not None:
            auto_image.attach(image_fs)
    if lower is not None:
        from ..fs.overlay import OverlayFS
        fs = OverlayFS(lower, upper)
        vfs = VFS(fs, fs.root, kernel.devices, kernel.fsnotify, upper.clock)
    else:
        vfs = VFS(upper, upper.root, kernel.devices, kernel.fsnotify, upper.clock)
    for where in (b"/dev", b"/proc", b"/sys", b"/tmp"):
        _mkdir_p(vfs, where)
    _mount_pseudo(kernel, vfs)
    for v in volumes:
        _mount_volume(vfs, v)
    if auto_image is not None and image_entries:
        kernel.exec_learner = _exec_learner(vfs, auto_image)
    return vfs


def _exec_learner(vfs: VFS, auto_image):
    """execve's question to the automatic image: may the name (base, path) a walk
    did not find be learned from the host? Only for a walk from the namespace's own
    root (not a chroot) whose absolute path, taken lexically, lies on the root
    filesystem rather than under any mount (-v volumes, /proc, /dev, ...): there a
    guest path is the host path of the same name."""
    def learn(ctx, base, path: bytes) -> bool:
        if ctx.root.inode is not vfs.root.inode or ctx.root.mount is not vfs.root.mount:
            return False
        full = path if path.startswith(b"/") else base.text().rstrip(b"/") + b"/" + path
        parts = tuple(c for c in os.path.normpath(full).split(b"/") if c)
        for m in vfs.mount_table():
            if m.names and parts[:len(m.names)] == m.names:
                return False
        return auto_image.learn(os.fsdecode(b"/" + b"/".join(parts)))
    return learn


def tmpfs_size(kernel) -> int:
    """What an in-memory filesystem may hold: half the guest memory limit, as tmpfs's
    default size is half of RAM."""
    return kernel.config.memory_limit // 2


def _mount_pseudo(kernel, vfs: VFS) -> None:
    try:
        from ..fs.devfs import DevFS
        from ..fs.proc import ProcFS
        from ..fs.sysfs import SysFS
    except ImportError:
        return
    dev = DevFS(kernel)
    vfs.mount(b"/dev", dev, dev.root, source="devtmpfs", options="nosuid,mode=755")
    shm = RamFS(mode=0o1777, size=tmpfs_size(kernel))
    vfs.mount(b"/dev/shm", shm, shm.root, source="tmpfs", options="nosuid,nodev")
    proc = ProcFS(kernel)
    vfs.mount(b"/proc", proc, proc.root, source="proc", options="nosuid,nodev,noexec")
    sys_fs = SysFS(kernel)
    vfs.mount(b"/sys", sys_fs, sys_fs.root, readonly=True, source="sysfs",
              options="nosuid,nodev,noexec")


def _mount_volume(vfs: VFS, v: Volume) -> None:
    from ..fs.hostfs import HostFS
    if not os.path.isdir(v.host):
        raise NamespaceError("-v %s: not a directory on the host" % v.host)
    if not v.guest.startswith("/"):
        raise NamespaceError("-v %s:%s: the guest path must be absolute" % (v.host, v.guest))
    guest = os.fsencode(os.path.normpath(v.guest))
    try:
        _mkdir_p(vfs, guest)
    except KernelError as e:
        raise NamespaceError("-v %s: cannot make the mount point (%s)" % (v.guest, e)) from None
    fs = HostFS(v.host, readonly=not v.writable)
    vfs.mount(guest, fs, fs.root, readonly=not v.writable, source=v.host,
              options="rw" if v.writable else "ro")


def parse_volume(text: str) -> Volume:
    """-v HOST:GUEST[:ro|:rw]. An empty HOST is an error (not the working directory),
    and so is GUEST "/": a host directory as the whole root is --root."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or len(parts) == 3 and parts[2] not in ("ro", "rw"):
        raise NamespaceError("-v %s: expected HOST:GUEST[:ro|:rw]" % text)
    if not parts[0]:
        raise NamespaceError("-v %s: no host directory before the ':'" % text)
    if parts[1].startswith("/") and os.path.normpath(parts[1]) in ("/", "//"):
        raise NamespaceError("-v %s: a host directory cannot replace the guest's root; "
                             "use --root %s" % (text, parts[0]))
    return Volume(os.path.abspath(parts[0]), parts[1], len(parts) == 3 and parts[2] == "rw")
