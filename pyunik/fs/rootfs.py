"""The guest's default root: a ramfs with /tmp, /etc's few files, and mount points.

Used when the user names no --root or --image. The kernel mounts devfs, procfs and
sysfs on /dev, /proc and /sys, and the user's -v volumes, after this.

Layer: fs. Calls: fs/ramfs.py; kernel/namespace.py mounts it.
"""

from __future__ import annotations

import stat as S

from .ramfs import RamFS

ETC_FILES = {
    b"passwd": b"root:x:0:0:root:/root:/bin/sh\n"
               b"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    b"group": b"root:x:0:\nnogroup:x:65534:\n",
    b"hosts": b"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    b"resolv.conf": b"nameserver 10.0.2.3\n",
    b"nsswitch.conf": b"passwd: files\ngroup: files\nhosts: files dns\n",
    b"hostname": b"pyunik\n",
}


def etc_files(uid: int = 0, gid: int = 0) -> dict[bytes, bytes]:
    """/etc's files for a guest running as uid:gid. The guest inherits the host's
    uid, so when that is not one /etc/passwd knows, a "user" entry (home /root, the
    one home that exists) names it, and a "user" group its gid: programs that look
    up their own name (id, whoami, Python's getpass) find one."""
    files = dict(ETC_FILES)
    known_uids, known_gids = (0, 65534), (0, 65534)
    if uid not in known_uids:
        files[b"passwd"] += b"user:x:%d:%d::/root:/bin/sh\n" % (uid, gid)
    if gid not in known_gids:
        files[b"group"] += b"user:x:%d:\n" % gid
    return files


def build_default_root(uid: int = 0, gid: int = 0, size: int | None = None,
                       clock=None) -> RamFS:
    """A fresh root filesystem tree holding at most size bytes of file contents, its
    times from clock() (ns, the wall clock; the host's by default); returns the RamFS
    (its .root is '/')."""
    fs = RamFS(mode=0o755, size=size)
    if clock is not None:
        fs.set_clock(clock)
    root = fs.root
    # Only what pyunik itself provides: a lower layer (the program's image, --root,
    # --image) brings /bin, /usr and the rest, which a directory here would shadow.
    for name in (b"dev", b"proc", b"sys", b"etc", b"root"):
        root.mkdir(name, 0o755, 0, 0)
    root.mkdir(b"tmp", 0o1777, 0, 0)
    etc = root.lookup(b"etc")
    for name, text in etc_files(uid, gid).items():
        f = etc.create(name, S.S_IFREG | 0o644, 0, 0)
        f.write(0, text)
    return fs
