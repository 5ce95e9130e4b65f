"""sysfs: the few /sys files C libraries and runtimes read to size themselves.

glibc's get_nprocs() and sysconf(_SC_NPROCESSORS_ONLN/CONF) read
/sys/devices/system/cpu/online and possible; CPython's os.cpu_count() and many thread
pools go through them. Each holds a CPU list ("0\\n", "0-3\\n"); each CPU has its
cpuN/ directory. Attribute files report size 4096 as sysfs does. Nothing is writable.

Calls: fs/procfs (the shared pseudo-inode classes).
"""

from __future__ import annotations

from .procfs import PseudoFS, StaticDir, text_file

SYSFS_MAGIC = 0x62656572
SYSFS_ATTR_SIZE = 4096


def cpu_list(ncpus: int) -> bytes:
    """A CPU list as sysfs prints it (%*pbl)."""
    return b"0\n" if ncpus <= 1 else b"0-%d\n" % (ncpus - 1)


class SysFS(PseudoFS):
    """/sys. `SysFS(kernel)` (or `SysFS()`: one CPU); mount its .root at /sys."""
    cacheable = True

    name = "sysfs"
    magic = SYSFS_MAGIC
    blksize = 4096

    def __init__(self, kernel=None):
        super().__init__()
        self.kernel = kernel

        def cpus() -> bytes:
            return cpu_list(getattr(self.kernel, "ncpus", 1) or 1)

        def attr(generate):
            return text_file(self, 0o444, generate, size=SYSFS_ATTR_SIZE)

        def cpu_dirs():
            n = getattr(self.kernel, "ncpus", 1) or 1
            return {b"cpu%d" % i: (lambda rp: StaticDir(self, rp, {}, mode=0o755))
                    for i in range(n)}

        cpu = CpuDir(self, b"/devices/system/cpu", {
            b"online": attr(cpus), b"possible": attr(cpus), b"present": attr(cpus),
        }, cpu_dirs)
        system = {b"cpu": lambda rp: cpu}
        devices = {b"system": lambda rp: StaticDir(self, rp, system, mode=0o755)}
        self.root = StaticDir(self, b"/", {
            b"devices": lambda rp: StaticDir(self, rp, devices, mode=0o755)}, mode=0o555)


class CpuDir(StaticDir):
    """/sys/devices/system/cpu: the fixed files and one cpuN/ per CPU."""

    def __init__(self, fs, relpath, table, cpu_dirs):
        super().__init__(fs, relpath, table, mode=0o755)
        self.cpu_dirs = cpu_dirs

    def names(self):
        return list(self.table) + list(self.cpu_dirs())

    def child(self, name):
        make = self.table.get(name) or self.cpu_dirs().get(name)
        return make(self.child_path(name)) if make is not None else None
