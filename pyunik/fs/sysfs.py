"""sysfs: the few /sys files C libraries and runtimes read to size themselves.

glibc's get_nprocs() and sysconf(_SC_NPROCESSORS_ONLN/CONF) read
/sys/devices/system/cpu/online and possible; CPython's os.cpu_count() and many thread
pools go through them. Each holds a CPU list ("0\\n", "0-3\\n"); each CPU has its
cpuN/ directory. Attribute files report size 4096 as sysfs does. Nothing is writable.

fs layer. Calls: fs/pseudo (the pseudo-file kit it shares with /proc).
"""

from __future__ import annotations

from ..abi.magic import SYSFS_MAGIC
from ..abi.proc import SYSFS_ATTR_SIZE
from .pseudo import PseudoFS, StaticDir, text_file


def cpu_list(ncpus: int) -> bytes:
    """A CPU list as sysfs prints it (%*pbl)."""
    return b"0\n" if ncpus <= 1 else b"0-%d\n" % (ncpus - 1)


class SysFS(PseudoFS):
    """/sys. `SysFS(kernel)`; mount its .root at /sys. Reads kernel.ncpus."""
    cacheable = True

    name = "sysfs"
    magic = SYSFS_MAGIC
    blksize = SYSFS_ATTR_SIZE     # PAGE_SIZE, as for the attributes' size

    def __init__(self, kernel):
        super().__init__()
        self.kernel = kernel

        def cpus() -> bytes:
            return cpu_list(self.kernel.ncpus)

        def attr(generate):
            return text_file(self, 0o444, generate, size=SYSFS_ATTR_SIZE)

        def cpu_dirs():
            return {b"cpu%d" % i: (lambda rp: StaticDir(self, rp, {}, mode=0o755))
                    for i in range(self.kernel.ncpus)}

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
