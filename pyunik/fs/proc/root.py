"""/proc itself: the filesystem object and its top directory.

fs layer, part of /proc (fs/proc/). `ProcFS(kernel)` is a view of the kernel's own
state, generated when read (see fs/pseudo.py for how a file's text is kept per open
file, as seq_file does). The top directory holds the system-wide files
(fs/proc/system.py), /proc/sys, the self and thread-self links, and one directory
per process (fs/proc/pid.py).

From the kernel it reads: processes, current (the running thread, for self), vfs
(the mount table), config, ncpus, next_pid, boot_ns, clock, cpuid (the CPU model's leaves,
read by cpu/cpuid.py when a process starts), the uname strings and random_bytes.

Calls: fs/pseudo (the inode kit), fs/proc/system, fs/proc/pid, fs/proc/mounts.
"""

from __future__ import annotations

from errno import ENOENT, ESRCH

from ...abi.magic import PROC_SUPER_MAGIC
from ...errors import KernelError
from ..pseudo import GeneratedDir, PseudoFS, PseudoSymlink, StaticDir, text_file
from . import system as SY
from .mounts import MountNumbers
from .pid import PidDir


class ProcFS(PseudoFS):
    """/proc. `ProcFS(kernel)`; mount its .root."""

    name = "proc"
    magic = PROC_SUPER_MAGIC

    def __init__(self, kernel):
        super().__init__()
        self.kernel = kernel
        self.mount_numbers = MountNumbers()
        self.boot_id = SY.uuid4(kernel.random_bytes(16))
        self.root = ProcRoot(self)

    @property
    def vfs(self):
        return self.kernel.vfs

    def current(self):
        """The running thread, or None before the first process starts."""
        return self.kernel.current

    def find_task(self, number: int):
        """(process, thread) for a pid or tid; thread is None for a pid."""
        procs = self.kernel.processes
        if number in procs:
            return procs[number], None
        for p in procs.values():
            for t in p.threads:
                if t.tid == number:
                    return p, t
        return None, None

    def alive(self, process) -> bool:
        return self.kernel.processes.get(process.pid) is process

    def live(self, process) -> None:
        """ESRCH once the process is gone (what Linux answers for a stale fd)."""
        if not self.alive(process):
            raise KernelError(ESRCH)


def _linux_order(names):
    """The proc_dir_entry tree's order: shorter names first, then bytewise."""
    return sorted(names, key=lambda n: (len(n), n))


class ProcRoot(GeneratedDir):
    def __init__(self, fs: ProcFS):
        super().__init__(fs, b"/", 0o555)
        k = fs.kernel
        ro = 0o444
        self.table = {
            b"sys": lambda rp: SY.sys_dir(fs, rp),
            b"net": lambda rp: SY.net_dir(fs, rp),
            b"stat": text_file(fs, ro, lambda: SY.proc_stat_text(k)),
            b"mounts": lambda rp: PseudoSymlink(fs, rp, b"self/mounts"),
            b"uptime": text_file(fs, ro, lambda: SY.uptime_text(k)),
            b"cpuinfo": text_file(fs, ro, lambda: SY.cpuinfo_text(k.cpuid, k.ncpus)),
            b"loadavg": text_file(fs, ro, lambda: SY.loadavg_text(k)),
            b"meminfo": text_file(fs, ro, lambda: SY.meminfo_text(k)),
            b"version": text_file(fs, ro, lambda: SY.version_text(k)),
            b"filesystems": text_file(fs, ro, lambda: SY.filesystems_text(k)),
            b"sysvipc": lambda rp: StaticDir(fs, rp, {
                b"shm": text_file(fs, ro, lambda: k.ipc.shm.proc_text()),
                b"sem": text_file(fs, ro, lambda: k.ipc.sem.proc_text()),
                b"msg": text_file(fs, ro, lambda: k.ipc.msg.proc_text())}),
        }

    def _self_target(self) -> bytes:
        t = self.fs.current()
        if t is None:
            raise KernelError(ENOENT)
        return b"%d" % t.process.pid

    def _thread_self_target(self) -> bytes:
        t = self.fs.current()
        if t is None:
            raise KernelError(ENOENT)
        return b"%d/task/%d" % (t.process.pid, t.tid)

    def names(self):
        return (_linux_order(self.table) + [b"self", b"thread-self"]
                + [b"%d" % pid for pid in sorted(self.fs.kernel.processes)])

    def child(self, name):
        if name in self.table:
            return self.table[name](self.child_path(name))
        if name == b"self":
            return PseudoSymlink(self.fs, b"/self", self._self_target)
        if name == b"thread-self":
            return PseudoSymlink(self.fs, b"/thread-self", self._thread_self_target)
        if name.isdigit() and not name.startswith(b"0"):
            process, thread = self.fs.find_task(int(name))
            if process is not None:
                return PidDir(self.fs, self.child_path(name), process, thread)
        return None
