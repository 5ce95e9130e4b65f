"""/proc: the kernel's state as files, generated when read (Linux 6.1's formats).

fs layer. The package's modules:
  root.py     ProcFS and the top directory (self, thread-self, one dir per pid)
  system.py   meminfo, cpuinfo, uptime, loadavg, stat, filesystems, version, /proc/sys
  pid.py      /proc/<pid> and /proc/<pid>/task/<tid>
  process.py  the text of status, stat, statm, limits, cmdline, environ, auxv, comm
  fd.py       /proc/<pid>/fd (magic links) and fdinfo
  mounts.py   mounts, mountinfo and the mount numbers
The inodes come from fs/pseudo.py (shared with /sys); /proc/<pid>/maps from mm/maps.

Calls: fs/proc/root.py, which the kernel's namespace mounts.
"""

from .root import ProcFS

__all__ = ["ProcFS"]
