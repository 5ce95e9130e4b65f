"""/proc/<pid>/mounts and mountinfo, and the mount numbers fdinfo and mountinfo give.

fs layer, part of /proc (fs/proc/). Formats the VFS mount table as
fs/proc_namespace.c does (show_vfsmnt, show_mountinfo), seen from a process's root.

Calls: fs/vfs (the mount table), abi/ (option groups, device numbers).
"""

from __future__ import annotations

import os

from ...abi.kdev_t import new_decode_dev
from ...abi.proc import MNT_OPTIONS, SB_OPTIONS


class MountNumbers:
    """The numbers given out to one VFS's mounts (mountinfo's first field, fdinfo's
    mnt_id) and to the kernel-internal mounts its files can live on. A mount gets its
    number on first need, the VFS's mounts in mount-table order first, so the root
    is 1; internal mounts ("pipefs"; "host" for host streams) are numbered after
    them, as Linux numbers its internal mounts apart from the visible tree."""

    def __init__(self):
        self.next = 1
        self.ids: dict = {}             # Mount -> number (Mounts hash by identity)
        self.internal: dict[str, int] = {}

    def _take(self) -> int:
        self.next += 1
        return self.next - 1

    def _number_all(self, vfs) -> None:
        for m in vfs.mount_table():
            if m not in self.ids:
                self.ids[m] = self._take()

    def of(self, vfs, mount) -> int:
        """The mount's number."""
        if mount not in self.ids:
            self._number_all(vfs)
            if mount not in self.ids:
                self.ids[mount] = self._take()
        return self.ids[mount]

    def of_internal(self, vfs, kind: str) -> int:
        """The number of the kernel-internal mount `kind`."""
        self._number_all(vfs)
        if kind not in self.internal:
            self.internal[kind] = self._take()
        return self.internal[kind]


def _split_options(options: str) -> tuple[list[str], list[str], list[str]]:
    given = [o for o in options.split(",") if o and o not in ("ro", "rw")]
    sb = [o for o in SB_OPTIONS if o in given]
    mnt = [o for o in MNT_OPTIONS if o in given]
    own = [o for o in given if o not in SB_OPTIONS and o not in MNT_OPTIONS]
    return sb, mnt, own


def _mangle(text: bytes) -> bytes:
    """fs/proc_namespace.c mangle(): space, tab, newline and backslash in octal."""
    for ch in (b"\\", b" ", b"\t", b"\n"):
        text = text.replace(ch, b"\\%03o" % ch[0])
    return text


def _visible_mounts(vfs, root) -> list[tuple[bytes, object]]:
    """(mount point as seen from root, Mount), for the mounts inside root (a Path)."""
    root_names = root.names
    out = []
    for m in vfs.mount_table():
        names = tuple(m.names)
        if names[:len(root_names)] != root_names:
            continue
        rel = names[len(root_names):]
        out.append((b"/" + b"/".join(rel), m))
    return out


def _source(m) -> bytes:
    return _mangle(os.fsencode(m.source))


def mounts_text(vfs, root) -> bytes:
    """/proc/<pid>/mounts (show_vfsmnt): source point type options 0 0, the options
    being ro|rw, superblock flags, mount flags, then the filesystem's own."""
    out = []
    for point, m in _visible_mounts(vfs, root):
        sb, mnt, own = _split_options(m.options)
        ro = m.readonly or m.fs.readonly
        opts = ",".join(["ro" if ro else "rw"] + sb + mnt + own).encode()
        out.append(b"%s %s %s %s 0 0\n" % (_source(m), _mangle(point), m.fs.name.encode(),
                                           opts))
    return b"".join(out)


def mountinfo_text(vfs, root, numbers: MountNumbers) -> bytes:
    """/proc/<pid>/mountinfo (show_mountinfo): id parent major:minor root point
    mount-options - type source super-options. No propagation tags: every mount is
    private."""
    out = []
    visible = _visible_mounts(vfs, root)
    by_names = {tuple(m.names): m for _, m in visible}
    for point, m in visible:
        names = tuple(m.names)
        parent = m
        for k in range(len(names) - 1, -1, -1):
            if names[:k] in by_names:
                parent = by_names[names[:k]]
                break
        major, minor = new_decode_dev(m.fs.dev)
        sb, mnt, own = _split_options(m.options)
        mount_opts = ",".join(["ro" if m.readonly else "rw"] + mnt).encode()
        super_opts = ",".join(["ro" if m.fs.readonly else "rw"] + sb + own).encode()
        out.append(b"%d %d %d:%d / %s %s - %s %s %s\n" % (
            numbers.of(vfs, m), numbers.of(vfs, parent), major, minor, _mangle(point),
            mount_opts, m.fs.name.encode(), _source(m), super_opts))
    return b"".join(out)
