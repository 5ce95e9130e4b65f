"""An address space as Linux describes it: /proc/<pid>/maps lines and the mm counters.

mm layer. Formats an AddressSpace's VMAs as fs/proc/task_mmu.c show_map_vma does
(`maps_lines`, `maps_text`: /proc/<pid>/maps and the crash report's memory map) and
counts them as Linux's mm counters do (`MemoryCounts`: VmSize, VmRSS, VmData, ... for
/proc/<pid>/status, stat, statm and meminfo). A VMA's file is the inode it maps
(anything with .fs.dev, .ino and .nlink); nothing here imports fs/.

Calls: mm/host (page residency, for RSS), mm/address_space (prot_string), abi/.
"""

from __future__ import annotations

import os

from ..abi import linux as L
from ..abi.kdev_t import new_decode_dev, new_encode_dev
from . import host
from .address_space import page_up, prot_string

# mm/shmem.c: shared anonymous memory and SysV segments are unlinked shmem files
# (mm/shared.py names them) on the internal shm mount (device 00:01).
SHMEM_DEV = new_encode_dev(0, 1)


def vma_shared(v) -> bool:
    """MAP_SHARED or MAP_SHARED_VALIDATE (VM_SHARED)."""
    return v.flags & L.MAP_TYPE in (L.MAP_SHARED, L.MAP_SHARED_VALIDATE)


def vma_stack(v) -> bool:
    """VM_GROWSDOWN, or the initial stack (which Linux also makes grow down)."""
    return bool(v.flags & L.MAP_GROWSDOWN) or v.name == "[stack]"


def vma_is_file(v) -> bool:
    """Maps a file, or a copy of one named by its path (an ELF segment)."""
    return v.file is not None or v.name.startswith("/")


def _backing(v) -> tuple[int, int, int, bytes]:
    """(file offset, dev, ino, name) as show_map_vma prints them.

    A VMA carries the inode it maps in `file` (dev and ino come from it) and its file
    offset in `offset`; its `name` is the path. A VMA named by a path but without a
    file (an ELF segment copied into anonymous memory) prints its offset and device
    00:00, inode 0. Anonymous memory prints offset 0 and device 00:00, except shared
    anonymous memory and SysV segments, which Linux backs with an unlinked shmem file
    (/dev/zero, /SYSV<key>): its offset, device 00:01 and inode (a segment's shmid;
    pyunik has none for /dev/zero: 0).
    """
    name = os.fsencode(v.name)
    inode = v.file
    if inode is not None or name.startswith(b"/"):
        dev = ino = 0
        if inode is not None:
            dev, ino = inode.fs.dev, inode.ino
            if inode.nlink == 0:
                name += b" (deleted)"
        return v.offset, dev, ino, name.replace(b"\n", b"\\012")
    if v.shm is not None:
        return v.shm_offset, SHMEM_DEV, v.shm.ino, v.shm.name + b" (deleted)"
    return 0, 0, 0, name


def maps_line(v) -> bytes:
    """One VMA as a /proc/<pid>/maps line, without the newline."""
    offset, dev, ino, name = _backing(v)
    major, minor = new_decode_dev(dev)
    perms = prot_string(v.prot, L.MAP_SHARED if vma_shared(v) else L.MAP_PRIVATE).encode()
    # show_vma_header_prefix: the fields, a space, then seq_pad() to column 72 and one
    # more space before the name (so a name starts at column 73); no name, no padding.
    head = b"%08x-%08x %s %08x %02x:%02x %d " % (v.start, v.end, perms, offset, major,
                                                 minor, ino)
    if name:
        return head.ljust(72) + b" " + name
    return head


def maps_lines(mm) -> list[str]:
    """The address space as /proc/<pid>/maps prints it, one str per VMA (without the
    newline), for trace/crash.py."""
    return [maps_line(v).decode("utf-8", "backslashreplace")
            for v in mm.vmas + mm.kernel_mappings]


def maps_text(mm) -> bytes:
    """/proc/<pid>/maps: the process's VMAs, then the kernel's mappings above
    TASK_SIZE (mm/kernel_area.py), as Linux ends the list with [vsyscall]."""
    return b"".join(maps_line(v) + b"\n" for v in mm.vmas + mm.kernel_mappings)


def _resident(v) -> int:
    """Bytes of the VMA the host has in memory (mincore)."""
    if not v.host:
        return 0
    return sum(b & 1 for b in host.residency(v.host, v.end - v.start)) * L.PAGE_SIZE


class MemoryCounts:
    """Linux's mm counters, computed from the VMAs (mm/mmap.c vm_stat_account for the
    virtual sizes, mincore for what is resident). All in bytes.

    The program's text and data (start_code ... end_data) are the mappings named
    like the one holding the entry point: code the executable ones, data the last
    writable one (page-granular, where Linux has the ELF's exact addresses).
    """

    def __init__(self, mm, entry: int | None = None, resident: bool = True):
        self.total = self.data = self.stack = self.exec = 0
        self.rss_anon = self.rss_file = self.rss_shmem = 0
        self.start_code = self.end_code = self.start_data = self.end_data = 0
        vmas = mm.vmas
        for v in vmas:
            size = v.end - v.start
            self.total += size
            stack, shared, write = vma_stack(v), vma_shared(v), bool(v.prot & L.PROT_WRITE)
            if stack:
                self.stack += size
            elif write and not shared:
                self.data += size
            elif v.prot & L.PROT_EXEC and not write:
                self.exec += size
            if resident:
                rss = _resident(v)
                if vma_is_file(v):
                    self.rss_file += rss
                elif shared:
                    self.rss_shmem += rss
                else:
                    self.rss_anon += rss
        self.rss = self.rss_anon + self.rss_file + self.rss_shmem
        at_entry = [v for v in vmas if entry is not None and v.start <= entry < v.end]
        if at_entry and at_entry[0].name:
            mine = [v for v in vmas if v.name == at_entry[0].name]
            code = [v for v in mine if v.prot & L.PROT_EXEC]
            if code:
                self.start_code, self.end_code = code[0].start, code[-1].end
            data = [v for v in mine if v.prot & L.PROT_WRITE]
            if data:
                self.start_data, self.end_data = data[-1].start, data[-1].end
        text = page_up(self.end_code) - (self.start_code & L.PAGE_MASK)
        self.text = max(0, min(text, self.exec))
        self.lib = self.exec - self.text
