"""An address space as Linux describes it: /proc/<pid>/maps lines and the mm counters.

mm layer. Formats an AddressSpace's VMAs as fs/proc/task_mmu.c show_map_vma does
(`maps_lines`, `maps_text`: /proc/<pid>/maps and the crash report's memory map;
`smaps_text`: /proc/<pid>/smaps, each VMA with its sizes and VmFlags) and
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


def maps_line(v, end: int | None = None) -> bytes:
    """One VMA as a /proc/<pid>/maps line, without the newline (end: where the
    mapping it begins ends, when later VMAs continue it: `mappings`)."""
    offset, dev, ino, name = _backing(v)
    major, minor = new_decode_dev(dev)
    perms = prot_string(v.prot, L.MAP_SHARED if vma_shared(v) else L.MAP_PRIVATE).encode()
    # show_vma_header_prefix: the fields, a space, then seq_pad() to column 72 and one
    # more space before the name (so a name starts at column 73); no name, no padding.
    head = b"%08x-%08x %s %08x %02x:%02x %d " % (v.start, v.end if end is None else end,
                                                 perms, offset, major, minor, ino)
    if name:
        return head.ljust(72) + b" " + name
    return head


def continues(v, w) -> bool:
    """Is w, right after v, more of the same mapping, so that Linux would have one
    VMA for both (vma_merge)? The same protection and vm_flags, the same name, and
    the same pages further on: the same file at the next offset, the same shared
    memory object at the next offset, or both anonymous private memory (whose
    vm_pgoff is its address). pyunik keeps such pieces apart where they differ in
    ways Linux does not see (host pages a file's own or fresh zero pages, a region
    in the engine or hidden past a file's end, a piece made by an earlier mprotect)."""
    if v.end != w.start or v.prot != w.prot or v.name != w.name or v.file is not w.file \
            or v.shm is not w.shm or vm_flags(v) != vm_flags(w):
        return False
    if v.shm is not None:
        return w.shm_offset == v.shm_offset + (v.end - v.start)
    if vma_is_file(v):
        return w.offset == v.offset + (v.end - v.start)
    return True


def mappings(vmas) -> list[list]:
    """The VMAs grouped into the mappings Linux would show, one list per line of
    /proc/<pid>/maps: runs of VMAs each continuing the one before (`continues`)."""
    out: list[list] = []
    for v in vmas:
        if out and continues(out[-1][-1], v):
            out[-1].append(v)
        else:
            out.append([v])
    return out


def maps_lines(mm) -> list[str]:
    """The address space as /proc/<pid>/maps prints it, one str per mapping (without
    the newline), for trace/crash.py."""
    return [maps_line(g[0], g[-1].end).decode("utf-8", "backslashreplace")
            for g in mappings(mm.vmas) + [[v] for v in mm.kernel_mappings]]


def maps_text(mm) -> bytes:
    """/proc/<pid>/maps: the process's mappings, then the kernel's mappings above
    TASK_SIZE (mm/kernel_area.py), as Linux ends the list with [vsyscall]."""
    return b"".join(maps_line(g[0], g[-1].end) + b"\n"
                    for g in mappings(mm.vmas) + [[v] for v in mm.kernel_mappings])


def vm_flags(v) -> int:
    """The VMA's vm_flags as Linux's mmap and mprotect would have made them: the
    protection; VM_MAY* (no VM_MAYWRITE, and no VM_SHARED, for a shared mapping of a
    file not open for writing); VM_SHARED and VM_MAYSHARE for shared mappings;
    VM_GROWSDOWN for stacks; VM_NORESERVE for MAP_NORESERVE; VM_ACCOUNT for a
    private mapping that is or was writable without MAP_NORESERVE (Linux takes it
    back from anonymous memory never written when it is made read-only; pyunik keeps
    it); madvise's VM_DONTCOPY and VM_WIPEONFORK. mlock is not kept: no VM_LOCKED."""
    flags = v.prot & (L.VM_READ | L.VM_WRITE | L.VM_EXEC) | L.VM_MAYREAD | L.VM_MAYWRITE \
        | L.VM_MAYEXEC | v.vm_flags & (L.VM_DONTCOPY | L.VM_WIPEONFORK)
    if vma_shared(v):
        flags |= L.VM_MAYSHARE | L.VM_SHARED if v.may_write else L.VM_MAYSHARE
        if not v.may_write:
            flags &= ~L.VM_MAYWRITE
    if vma_stack(v):
        flags |= L.VM_GROWSDOWN
    if v.flags & L.MAP_NORESERVE:
        flags |= L.VM_NORESERVE
    elif v.written and not vma_shared(v):
        flags |= L.VM_ACCOUNT
    return flags


# The fields of a smaps entry after the maps line, as Linux 6.x prints them; pyunik
# fills in the sizes it knows (below) and 0 for what it has no such thing as.
_SMAPS_FIELDS = ("Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty",
                 "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
                 "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
                 "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb",
                 "Swap", "SwapPss", "Locked")


def smaps_entry(v, more: list = ()) -> bytes:
    """One mapping as /proc/<pid>/smaps shows it (show_smap): its maps line, sizes in
    kB, THPeligible and VmFlags. v is its first VMA, more the VMAs continuing it.

    Rss is what the host holds of the VMA (mincore). pyunik does not see which pages
    were written or who else maps them, so the rest follows the mapping's kind: every
    page is mapped once (Pss is Rss); private anonymous memory and writable private
    file mappings are dirty and anonymous (copy-on-write copies), read-only private
    file mappings clean, shared mappings dirty when writable, else clean. Nothing is
    swapped, locked or huge."""
    end = more[-1].end if more else v.end
    size, rss = end - v.start, _resident(v) + sum(_resident(w) for w in more)
    values = dict.fromkeys(_SMAPS_FIELDS, 0)
    values.update(Size=size, KernelPageSize=L.PAGE_SIZE, MMUPageSize=L.PAGE_SIZE, Rss=rss,
                  Pss=rss, Referenced=rss)
    writable = bool(v.prot & L.PROT_WRITE)
    if vma_shared(v) or not writable and vma_is_file(v):
        dirty = writable
    else:
        dirty = True
        values["Anonymous"] = rss
    values["Private_Dirty" if dirty else "Private_Clean"] = rss
    if dirty:
        values["Pss_Dirty"] = rss
    lines = [maps_line(v, end)]
    lines += [b"%-16s%8d kB" % (name.encode() + b":", values[name] // 1024)
              for name in _SMAPS_FIELDS]
    flags = vm_flags(v)
    lines.append(b"THPeligible:    0")
    lines.append(b"VmFlags: " + b"".join(name.encode() + b" " for bit, name
                                         in L.VM_FLAG_MNEMONICS if flags & bit))
    return b"\n".join(lines) + b"\n"


def smaps_text(mm) -> bytes:
    """/proc/<pid>/smaps: every mapping of maps_text, each followed by its fields."""
    return b"".join(smaps_entry(g[0], g[1:])
                    for g in mappings(mm.vmas) + [[v] for v in mm.kernel_mappings])


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
