"""/proc/<pid> and /proc/<pid>/task/<tid>: the directories of one process or thread.

fs layer, part of /proc (fs/proc/). A PidDir holds the per-process files (their
text comes from fs/proc/process.py, the maps from mm/maps, the mounts from
fs/proc/mounts.py) and the cwd/root/exe magic links; it is owned by the process's
effective ids, as task_dump_owner gives for a dumpable process. Every file checks
that its process is still alive when read (ESRCH once it is gone).

Calls: fs/pseudo (the inode kit), fs/proc/process, fs/proc/fd, fs/proc/mounts,
mm/maps.
"""

from __future__ import annotations

import os
from errno import EINVAL, ENOENT

from ...errors import KernelError
from ...mm.maps import maps_text, smaps_text
from ..pseudo import GeneratedDir, PseudoSymlink, text_file
from . import process as P
from .fd import FdDir, FdInfoDir
from .mounts import mounts_text, mountinfo_text


class PidDir(GeneratedDir):
    """/proc/<pid> (thread None) or /proc/<pid>/task/<tid> (a thread)."""

    def __init__(self, fs, relpath: bytes, process, thread=None, in_task=False):
        super().__init__(fs, relpath, 0o555, process.cred.euid, process.cred.egid)
        self.process = process
        self.thread = thread
        p, t, k = process, thread, fs.kernel
        # Files of a process: owned by it; a write where none is allowed is EINVAL.
        mine = {"uid": self.uid, "gid": self.gid, "write_errno": EINVAL}

        def gen(fn):
            def generate():
                fs.live(p)
                return fn()
            return generate

        def link(target_fn, follow=None):
            def target():
                fs.live(p)
                return target_fn()
            return lambda rp: PseudoSymlink(fs, rp, target, self.uid, self.gid,
                                            follow=follow)

        def exe() -> bytes:
            if not p.exe:
                raise KernelError(ENOENT)
            return os.fsencode(p.exe)

        table = {}
        if not in_task:
            table[b"task"] = lambda rp: TaskDir(fs, rp, p)
        table.update({
            b"fd": lambda rp: FdDir(fs, rp, p),
            b"fdinfo": lambda rp: FdInfoDir(fs, rp, p),
            b"environ": text_file(fs, 0o400, gen(lambda: P.environ_text(p)), **mine),
            b"auxv": text_file(fs, 0o400, gen(lambda: P.auxv_text(p)), **mine),
            b"status": text_file(fs, 0o444, gen(lambda: P.status_text(k, p, t)), **mine),
            b"personality": text_file(fs, 0o400, gen(lambda: b"%08x\n" % p.personality),
                                      **mine),
            b"limits": text_file(fs, 0o444, gen(lambda: P.limits_text(p)), **mine),
            b"comm": text_file(fs, 0o644, gen(lambda: P.comm(p, t) + b"\n"),
                               write_fn=self._write_comm, **mine),
            b"cmdline": text_file(fs, 0o444, gen(lambda: P.cmdline_text(p)), **mine),
            b"stat": text_file(fs, 0o444, gen(lambda: P.stat_text(k, p, t)), **mine),
            b"statm": text_file(fs, 0o444, gen(lambda: P.statm_text(p)), **mine),
            b"maps": text_file(fs, 0o444, gen(lambda: maps_text(p.mm)), **mine),
            b"smaps": text_file(fs, 0o444, gen(lambda: smaps_text(p.mm)), **mine),
            b"cwd": link(lambda: p.fs.cwd.text(), follow=lambda: p.fs.cwd),
            b"root": link(lambda: p.fs.root.text(), follow=lambda: p.fs.root),
            b"exe": link(exe),
            b"mounts": text_file(fs, 0o444, gen(lambda: mounts_text(fs.vfs, p.fs.root)),
                                 **mine),
            b"mountinfo": text_file(fs, 0o444, gen(
                lambda: mountinfo_text(fs.vfs, p.fs.root, fs.mount_numbers)), **mine),
        })
        self.table = table

    def _write_comm(self, data: bytes) -> int:
        """comm_write(): only a thread of the same process may rename."""
        self.fs.live(self.process)
        cur = self.fs.current()
        if cur is not None and cur.process is not self.process:
            raise KernelError(EINVAL)
        return P.set_comm(self.process, self.thread, data)

    def names(self):
        return list(self.table)

    def child(self, name):
        make = self.table.get(name)
        if make is None or not self.fs.alive(self.process):
            return None
        return make(self.child_path(name))


class TaskDir(GeneratedDir):
    """/proc/<pid>/task: one PidDir per thread, by tid."""

    def __init__(self, fs, relpath, process):
        super().__init__(fs, relpath, 0o555, process.cred.euid, process.cred.egid)
        self.process = process

    def _threads(self) -> dict:
        return {t.tid: t for t in self.process.threads}

    def names(self):
        return [b"%d" % tid for tid in sorted(self._threads())]

    def child(self, name):
        if not name.isdigit():
            return None
        t = self._threads().get(int(name))
        if t is None:
            return None
        return PidDir(self.fs, self.child_path(name), self.process, t, in_task=True)
