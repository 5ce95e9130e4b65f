"""The guest's default root: a ramfs with /tmp, /etc's few files, and mount points.

Used when the user names no --root or --image. The kernel mounts devfs, procfs and
sysfs on /dev, /proc and /sys, and the user's -v volumes, after this.
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


def build_default_root(uid: int = 0, gid: int = 0) -> RamFS:
    """A fresh root filesystem tree; returns the RamFS (its .root is '/')."""
    fs = RamFS(mode=0o755)
    root = fs.root
    for name in (b"dev", b"proc", b"sys", b"etc", b"root", b"home", b"usr", b"bin"):
        root.mkdir(name, 0o755, 0, 0)
    root.mkdir(b"tmp", 0o1777, 0, 0)
    etc = root.lookup(b"etc")
    for name, text in ETC_FILES.items():
        f = etc.create(name, S.S_IFREG | 0o644, 0, 0)
        f.write(0, text)
    return fs
