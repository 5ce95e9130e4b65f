"""procfs: /proc, a view of the kernel's own state, generated when it is read.

Nothing here is stored. Every file is a function of the kernel object given to
`ProcFS(kernel)`: its processes (credentials, fd table, address space, signal state),
the current thread (for /proc/self), the VFS mount table and the config. A file's text
is made at its first read and kept by that open file description until a read or seek
goes back to offset 0, as Linux's seq_file does, so a program reading in pieces sees
one consistent snapshot while a program that re-reads from the start sees fresh
values. stat() reports size 0, as Linux does for /proc.

The formats are Linux 6.1's, byte for byte (fs/proc/array.c, task_mmu.c, base.c,
fd.c, meminfo.c, arch/x86/kernel/cpu/proc.c, fs/proc_namespace.c); where pyunik has no
such notion the value is the one Linux prints for "none" (0, -1, an empty set), never
an invention. The formatters are plain functions (`maps_lines`, `status_text`,
`stat_text`, ...) so that crash reports and tests can use them without a mount.

Kernel fields are read with getattr defaults: a field the kernel does not keep yet
reads as Linux's "none". The pseudo-inode classes at the top (`PseudoInode`,
`GeneratedFile`, `GeneratedDir`, `PseudoSymlink`) are shared with sysfs.

Calls: fs/ (inodes, InodeFile, pipes, host streams), mm/host (page residency for
RSS), cpu/ (one throwaway engine, to read the CPU model's cpuid for /proc/cpuinfo).
"""

from __future__ import annotations

import os
import platform
import stat as S
import struct
import time
import weakref
from errno import EACCES, EINVAL, EIO, ENOENT, ENXIO, ESRCH

from ..abi import linux as L
from ..errors import KernelError
from .devfs import new_encode_dev
from .file import File, HostStream
from .inode import FileSystem, Inode, now_ns
from .openfile import InodeFile
from .pipe import PipeEnd

PROC_SUPER_MAGIC = 0x9FA0
PROC_ROOT_INO = 1
USER_HZ = 100                       # clock ticks in /proc/<pid>/stat (AT_CLKTCK)
PAGE_SIZE = 4096
PROC_BLKSIZE = 1024                 # st_blksize Linux reports for /proc files
PID_MAX = 4194304                   # /proc/sys/kernel/pid_max on 64-bit
CAP_LAST_CAP = 40                   # CAP_CHECKPOINT_RESTORE, the last in Linux 6.1
CAP_FULL = (1 << (CAP_LAST_CAP + 1)) - 1
MAX_NUMNODES = 1024                 # CONFIG_NODES_SHIFT=10, as distribution kernels
VMALLOC_TOTAL_KB = 34359738367      # x86-64 with 4-level page tables
SIGCHLD = 17
MAP_SHARED_VALIDATE = 0x03

# The filesystems pyunik always has, in Linux's registration order; the types of
# whatever is mounted are added after them (fs/filesystems.c prints "nodev\t<name>").
BASE_FILESYSTEMS = ["sysfs", "tmpfs", "proc", "devtmpfs", "pipefs"]


def _fsencode(x) -> bytes:
    if isinstance(x, bytes):
        return x
    return os.fsencode(x)


def _path_text(p) -> bytes | None:
    """A vfs.Path, a str or bytes path as bytes; None when there is none."""
    if p is None:
        return None
    text = getattr(p, "text", None)
    if callable(text):
        return text()
    return _fsencode(p)


def decode_dev(dev: int) -> tuple[int, int]:
    """(major, minor) of a user-space dev_t (glibc's gnu_dev_major/minor, which also
    reads Linux's new_encode_dev numbers right)."""
    return os.major(dev), os.minor(dev)


# ---- pseudo inodes (shared with sysfs and devfs) ------------------------------------------


class PseudoFS(FileSystem):
    """A filesystem of generated inodes whose numbers stay fixed per path."""

    blksize = PROC_BLKSIZE

    def __init__(self, readonly: bool = False):
        super().__init__(readonly)
        self._inos: dict[bytes, int] = {}
        self.created_ns = now_ns()

    def ino_for(self, relpath: bytes) -> int:
        ino = self._inos.get(relpath)
        if ino is None:
            ino = PROC_ROOT_INO if relpath == b"/" else self.new_ino()
            self._inos[relpath] = ino
        return ino


class PseudoInode(Inode):
    """An inode made on lookup: its number is fixed by its path inside the filesystem
    (relpath), so the same entry keeps its number across lookups."""

    def __init__(self, fs: PseudoFS, relpath: bytes, mode: int, uid: int = 0, gid: int = 0,
                 size: int = 0):
        super().__init__(fs, mode, uid, gid, ino=fs.ino_for(relpath))
        self.relpath = relpath
        self._size = size
        self.atime_ns = self.mtime_ns = self.ctime_ns = fs.created_ns

    @property
    def size(self) -> int:
        return self._size

    def stat(self) -> tuple:
        st = list(super().stat())
        st[9] = self.fs.blksize       # st_blksize
        st[10] = 0                    # st_blocks: nothing is stored
        return tuple(st)

    def child_path(self, name: bytes) -> bytes:
        return (self.relpath.rstrip(b"/") + b"/" + name) if self.relpath != b"/" else b"/" + name


class GeneratedFile(PseudoInode):
    """A regular file whose contents come from generate() -> bytes.

    Writes go to write_fn(data) -> int when given; otherwise they fail with
    write_errno, which is what Linux gives root for a file with no write operation
    (EINVAL for /proc/<pid> files, EIO for the top-level ones); others are refused
    with EACCES by the permission check on open, from the mode.
    """

    def __init__(self, fs, relpath, mode, generate, write_fn=None, uid=0, gid=0,
                 size=0, write_errno=EIO):
        super().__init__(fs, relpath, S.S_IFREG | mode, uid, gid, size)
        self.generate = generate
        self.write_fn = write_fn
        self.write_errno = write_errno

    def read(self, offset: int, size: int) -> bytes:
        return self.generate()[offset:offset + size]

    def write(self, offset: int, data: bytes) -> int:
        if self.write_fn is None:
            raise KernelError(self.write_errno)
        return self.write_fn(data)

    def truncate(self, size: int) -> None:
        pass    # O_TRUNC on a /proc or sysfs file is accepted and changes nothing

    def open(self, flags: int):
        return SnapshotFile(self, flags)


class SnapshotFile(InodeFile):
    """An open generated file: the text made at the first read, kept until a read or
    seek returns to offset 0 (seq_file's behaviour)."""

    def __init__(self, inode: GeneratedFile, flags: int, path=None):
        super().__init__(inode, flags, path)
        self.snapshot: bytes | None = None

    def _text(self, offset: int) -> bytes:
        if self.snapshot is None or offset == 0:
            self.snapshot = self.inode.generate()
        return self.snapshot

    def read(self, size: int) -> bytes:
        data = self._text(self.offset)[self.offset:self.offset + size]
        self.offset += len(data)
        return data

    def pread(self, size: int, offset: int) -> bytes:
        return self._text(offset)[offset:offset + size]

    def write(self, data: bytes) -> int:
        return self.inode.write(self.offset, data)

    def pwrite(self, data: bytes, offset: int) -> int:
        return self.inode.write(offset, data)

    def seek(self, offset: int, whence: int) -> int:
        if whence == 2 and self.inode.size == 0:
            raise KernelError(EINVAL)     # seq_lseek knows no end
        new = super().seek(offset, whence)
        if new == 0:
            self.snapshot = None
        return new


class PseudoSymlink(PseudoInode):
    def __init__(self, fs, relpath, target, uid=0, gid=0, mode=0o777, size=0, follow=None):
        """target: bytes, or a function giving them (raising ENOENT when gone).

        follow: for /proc's "magic" links (fd/N, cwd, root), a function giving where
        the link leads as Linux's proc_get_link does, without reading its text: a
        vfs.Path (the open file's or directory's own location, even if since unlinked
        or renamed), an Inode to open in place (a pipe or host stream, which has no
        path: opening it opens the same object again), or None to walk the text."""
        super().__init__(fs, relpath, S.S_IFLNK | mode, uid, gid, size)
        self._target = target
        self._follow = follow

    def readlink(self) -> bytes:
        t = self._target
        return t() if callable(t) else t

    def follow(self):
        """Where a walk through this link should continue (see __init__), or None."""
        return self._follow() if self._follow is not None else None


class ReopenInode(Inode):
    """Where /proc/<pid>/fd/N leads when the fd has no path: a pipe or a host stream.
    It stats as the open file does; opening it opens the same object again, as
    Linux's fifo_open does for a pipe reached through /proc (a new reader or writer)."""

    def __init__(self, fs: FileSystem, file: File, uid: int, gid: int):
        st = file.stat()
        super().__init__(fs, st[3], uid, gid, ino=st[1])
        self.file = file

    def stat(self) -> tuple:
        st = list(self.file.stat())
        st[4], st[5] = self.uid, self.gid
        return tuple(st)

    def open(self, flags: int):
        f = self.file
        if isinstance(f, PipeEnd):
            end = PipeEnd(f.pipe, flags)
            if end.readable:
                f.pipe.readers += 1
            if end.writable:
                f.pipe.writers += 1
            return end
        if isinstance(f, HostStream):
            return HostStream(f.host_fd, flags)
        raise KernelError(ENXIO)       # sockets and the like cannot be reopened


class GeneratedDir(PseudoInode):
    """A directory whose children are listed by names() and made by child(name)."""

    def __init__(self, fs, relpath, mode=0o555, uid=0, gid=0):
        super().__init__(fs, relpath, S.S_IFDIR | mode, uid, gid)

    def names(self) -> list[bytes]:
        return []

    def child(self, name: bytes) -> Inode | None:
        return None

    def lookup(self, name: bytes) -> Inode | None:
        return self.child(name)

    def entries(self) -> list[tuple[bytes, Inode]]:
        out = []
        for name in self.names():
            inode = self.child(name)
            if inode is not None:
                out.append((name, inode))
        return out

    @property
    def nlink(self) -> int:
        return 2 + sum(1 for _, i in self.entries() if i.is_dir)

    @nlink.setter
    def nlink(self, value: int) -> None:
        pass


class StaticDir(GeneratedDir):
    """A directory with a fixed table of children: name -> factory(relpath) -> Inode."""

    def __init__(self, fs, relpath, table: dict, mode=0o555, uid=0, gid=0):
        super().__init__(fs, relpath, mode, uid, gid)
        self.table = table

    def names(self):
        return list(self.table)

    def child(self, name):
        make = self.table.get(name)
        return make(self.child_path(name)) if make is not None else None


def text_file(fs, mode, generate, **kw):
    """A factory for StaticDir tables: relpath -> GeneratedFile."""
    return lambda relpath: GeneratedFile(fs, relpath, mode, generate, **kw)


# ---- the CPU model (for /proc/cpuinfo) ----------------------------------------------------

_CPUID_LEAVES = (0, 1, 7, 0x80000000, 0x80000001, 0x80000002, 0x80000003, 0x80000004,
                 0x80000008)
_cpuid_cache: dict[int, tuple[int, int, int, int]] = {}


def probe_cpuid(engine=None) -> dict[int, tuple[int, int, int, int]]:
    """The cpuid leaves /proc/cpuinfo describes, from the CPU model every guest engine
    emulates (the same one AT_HWCAP was read from). Runs cpuid on a throwaway engine
    unless one is given, so call it while no guest is running (ProcFS does, when it
    is made); the answer is kept for the life of the host process."""
    if not _cpuid_cache:
        if engine is None:
            from ..cpu.engine import Engine
            engine = Engine()
        _cpuid_cache.update(engine.cpuid(_CPUID_LEAVES))
    return _cpuid_cache


# arch/x86/kernel/cpu/capflags.c: names of the feature bits, by cpuid register, in
# the order Linux prints them (word 0: 1.EDX, word 1: 80000001.EDX, word 4: 1.ECX,
# word 6: 80000001.ECX, word 9: 7.0.EBX). Bits Linux does not name are left out.
_FLAGS_1_EDX = {
    0: "fpu", 1: "vme", 2: "de", 3: "pse", 4: "tsc", 5: "msr", 6: "pae", 7: "mce",
    8: "cx8", 9: "apic", 11: "sep", 12: "mtrr", 13: "pge", 14: "mca", 15: "cmov",
    16: "pat", 17: "pse36", 18: "pn", 19: "clflush", 21: "dts", 22: "acpi", 23: "mmx",
    24: "fxsr", 25: "sse", 26: "sse2", 27: "ss", 28: "ht", 29: "tm", 30: "ia64", 31: "pbe"}
_FLAGS_EXT_EDX = {
    11: "syscall", 19: "mp", 20: "nx", 22: "mmxext", 25: "fxsr_opt", 26: "pdpe1gb",
    27: "rdtscp", 29: "lm", 30: "3dnowext", 31: "3dnow"}
_FLAGS_1_ECX = {
    0: "pni", 1: "pclmulqdq", 2: "dtes64", 3: "monitor", 4: "ds_cpl", 5: "vmx", 6: "smx",
    7: "est", 8: "tm2", 9: "ssse3", 10: "cid", 11: "sdbg", 12: "fma", 13: "cx16",
    14: "xtpr", 15: "pdcm", 17: "pcid", 18: "dca", 19: "sse4_1", 20: "sse4_2",
    21: "x2apic", 22: "movbe", 23: "popcnt", 24: "tsc_deadline_timer", 25: "aes",
    26: "xsave", 28: "avx", 29: "f16c", 30: "rdrand", 31: "hypervisor"}
_FLAGS_EXT_ECX = {
    0: "lahf_lm", 1: "cmp_legacy", 2: "svm", 3: "extapic", 4: "cr8_legacy", 5: "abm",
    6: "sse4a", 7: "misalignsse", 8: "3dnowprefetch", 9: "osvw", 10: "ibs", 11: "xop",
    12: "skinit", 13: "wdt", 15: "lwp", 16: "fma4", 17: "tce", 19: "nodeid_msr",
    21: "tbm", 22: "topoext", 23: "perfctr_core", 24: "perfctr_nb", 26: "bpext",
    27: "ptsc", 28: "perfctr_llc", 29: "mwaitx"}
_FLAGS_7_EBX = {
    0: "fsgsbase", 1: "tsc_adjust", 2: "sgx", 3: "bmi1", 4: "hle", 5: "avx2", 7: "smep",
    8: "bmi2", 9: "erms", 10: "invpcid", 11: "rtm", 12: "cqm", 14: "mpx", 15: "rdt_a",
    16: "avx512f", 17: "avx512dq", 18: "rdseed", 19: "adx", 20: "smap", 21: "avx512ifma",
    23: "clflushopt", 24: "clwb", 25: "intel_pt", 26: "avx512pf", 27: "avx512er",
    28: "avx512cd", 29: "sha_ni", 30: "avx512bw", 31: "avx512vl"}


def cpu_flags(leaves: dict) -> list[str]:
    """The cpuinfo "flags" of a CPU model, from its cpuid feature bits."""
    zero = (0, 0, 0, 0)
    words = [(leaves.get(1, zero)[3], _FLAGS_1_EDX),
             (leaves.get(0x80000001, zero)[3], _FLAGS_EXT_EDX),
             (leaves.get(1, zero)[2], _FLAGS_1_ECX),
             (leaves.get(0x80000001, zero)[2], _FLAGS_EXT_ECX),
             (leaves.get(7, zero)[1] if leaves.get(0, zero)[0] >= 7 else 0, _FLAGS_7_EBX)]
    return [names[bit] for value, names in words for bit in sorted(names)
            if value >> bit & 1]


def cpuinfo_text(leaves: dict, ncpus: int = 1) -> bytes:
    """/proc/cpuinfo (arch/x86/kernel/cpu/proc.c show_cpuinfo), one block per CPU."""
    zero = (0, 0, 0, 0)
    l0, l1 = leaves.get(0, zero), leaves.get(1, zero)
    vendor = struct.pack("<III", l0[1], l0[3], l0[2]).rstrip(b"\0").decode("latin-1")
    eax = l1[0]
    family = (eax >> 8) & 0xF
    model = (eax >> 4) & 0xF
    if family == 0xF:
        family += (eax >> 20) & 0xFF
    if family >= 6:
        model += ((eax >> 16) & 0xF) << 4
    stepping = eax & 0xF
    brand = b""
    if leaves.get(0x80000000, zero)[0] >= 0x80000004:
        brand = b"".join(struct.pack("<IIII", *leaves.get(leaf, zero))
                         for leaf in (0x80000002, 0x80000003, 0x80000004))
    brand = brand.split(b"\0")[0].strip().decode("latin-1") or "unknown"
    flags = cpu_flags(leaves)
    clflush = ((l1[1] >> 8) & 0xFF) * 8
    sizes = leaves.get(0x80000008, zero)[0]
    phys, virt = (sizes & 0xFF, (sizes >> 8) & 0xFF) if sizes else (36, 48)
    out = []
    for cpu in range(ncpus):
        lines = ["processor\t: %d" % cpu,
                 "vendor_id\t: %s" % (vendor or "unknown"),
                 "cpu family\t: %d" % family,
                 "model\t\t: %d" % model,
                 "model name\t: %s" % brand,
                 "stepping\t: %d" % stepping]
        if "tsc" in flags:
            # pyunik does not know the frequency of the clock the guest sees; Linux
            # prints 0.000 when calibration found none.
            lines.append("cpu MHz\t\t: 0.000")
        lines += ["physical id\t: 0", "siblings\t: %d" % ncpus, "core id\t\t: %d" % cpu,
                  "cpu cores\t: %d" % ncpus, "apicid\t\t: %d" % cpu,
                  "initial apicid\t: %d" % cpu,
                  "fpu\t\t: %s" % ("yes" if "fpu" in flags else "no"),
                  "fpu_exception\t: %s" % ("yes" if "fpu" in flags else "no"),
                  "cpuid level\t: %d" % l0[0], "wp\t\t: yes",
                  "flags\t\t:" + "".join(" " + f for f in flags),
                  "bugs\t\t:",
                  "bogomips\t: 0.00",
                  "clflush size\t: %d" % clflush,
                  "cache_alignment\t: %d" % (clflush or 64),
                  "address sizes\t: %d bits physical, %d bits virtual" % (phys, virt),
                  "power management:", "", ""]
        out.append("\n".join(lines))
    return "".join(out).encode()


# ---- address spaces: maps, memory counters -------------------------------------------------

def _vma_shared(v) -> bool:
    return v.flags & L.MAP_TYPE in (L.MAP_SHARED, MAP_SHARED_VALIDATE)


def _vma_stack(v) -> bool:
    return bool(v.flags & L.MAP_GROWSDOWN) or v.name == "[stack]"


def _vma_inode(v):
    """The inode a VMA maps (VMA.file: an Inode, or an open File of one), or None."""
    f = getattr(v, "file", None)
    if f is None:
        return None
    return getattr(f, "inode", None) if not isinstance(f, Inode) else f


def _vma_is_file(v) -> bool:
    return _vma_inode(v) is not None or _fsencode(v.name or "").startswith(b"/")


def _vma_backing(v) -> tuple[int, int, int, bytes]:
    """(file offset, dev, ino, name) as show_map_vma prints them.

    A VMA carries the file it maps in `file` (dev and ino come from its inode) and
    its file offset in `offset`; its `name` is the path. A VMA named by a path but
    without a file (an ELF segment copied into anonymous memory) prints its offset
    and device 00:00, inode 0. Anonymous memory prints offset 0 and device 00:00,
    except shared anonymous memory, which Linux backs with an unlinked shmem file
    called /dev/zero.
    """
    name = _fsencode(v.name or "")
    inode = _vma_inode(v)
    if inode is not None and not name:
        name = _path_text(getattr(getattr(v, "file", None), "path", None)) or b""
    if inode is not None or name.startswith(b"/"):
        dev = inode.fs.dev if inode is not None else getattr(v, "dev", 0)
        ino = inode.ino if inode is not None else getattr(v, "ino", 0)
        if inode is not None and inode.nlink == 0:
            name += b" (deleted)"
        return getattr(v, "offset", 0), dev, ino, name.replace(b"\n", b"\\012")
    if not name and _vma_shared(v):
        return 0, new_encode_dev(0, 1), getattr(v, "ino", 0), b"/dev/zero (deleted)"
    return 0, 0, 0, name


def _maps_line(v) -> bytes:
    offset, dev, ino, name = _vma_backing(v)
    major, minor = decode_dev(dev)
    perms = (("r" if v.prot & 1 else "-") + ("w" if v.prot & 2 else "-")
             + ("x" if v.prot & 4 else "-") + ("s" if _vma_shared(v) else "p")).encode()
    # show_vma_header_prefix: the fields, a space, then seq_pad() to column 72 and one
    # more space before the name (so a name starts at column 73); no name, no padding.
    head = b"%08x-%08x %s %08x %02x:%02x %d " % (v.start, v.end, perms, offset, major,
                                                 minor, ino)
    if name:
        return head.ljust(72) + b" " + name
    return head


def maps_lines(mm) -> list[str]:
    """The address space as /proc/<pid>/maps prints it, one str per VMA (without the
    newline); trace/crash.py can print these."""
    return [_maps_line(v).decode("utf-8", "backslashreplace") for v in mm.vmas]


def maps_text(mm) -> bytes:
    return b"".join(_maps_line(v) + b"\n" for v in mm.vmas)


def _resident(v) -> int:
    """Bytes of the VMA the host has in memory."""
    ptr = getattr(v, "host", None)
    if not ptr:
        return 0
    from ..mm import host
    try:
        return sum(b & 1 for b in host.residency(ptr, v.end - v.start)) * PAGE_SIZE
    except (OSError, ValueError, host.HostMemoryError):
        return 0


class MemoryCounts:
    """Linux's mm counters, computed from the VMAs (mm/mmap.c vm_stat_account for the
    virtual sizes, mincore for what is resident). All in bytes."""

    def __init__(self, mm, entry: int | None = None, resident: bool = True):
        self.total = self.data = self.stack = self.exec = 0
        self.rss_anon = self.rss_file = self.rss_shmem = 0
        self.start_code = self.end_code = self.start_data = self.end_data = 0
        vmas = list(getattr(mm, "vmas", ()) or ())
        for v in vmas:
            size = v.end - v.start
            self.total += size
            stack, shared, write = _vma_stack(v), _vma_shared(v), bool(v.prot & 2)
            if stack:
                self.stack += size
            elif write and not shared:
                self.data += size
            elif v.prot & 4 and not write:
                self.exec += size
            if resident:
                rss = _resident(v)
                if _vma_is_file(v):
                    self.rss_file += rss
                elif shared:
                    self.rss_shmem += rss
                else:
                    self.rss_anon += rss
        self.rss = self.rss_anon + self.rss_file + self.rss_shmem
        # The program's text and data: mm's own fields when the loader set them, else
        # the mappings named like the one holding the entry point (page-granular).
        for field in ("start_code", "end_code", "start_data", "end_data"):
            setattr(self, field, getattr(mm, field, 0) or 0)
        at_entry = [v for v in vmas if entry is not None and v.start <= entry < v.end]
        if not self.end_code and at_entry and at_entry[0].name:
            mine = [v for v in vmas if v.name == at_entry[0].name]
            code = [v for v in mine if v.prot & 4]
            if code:
                self.start_code, self.end_code = code[0].start, code[-1].end
            data = [v for v in mine if v.prot & 2]
            if data:
                self.start_data, self.end_data = data[-1].start, data[-1].end
        text = _page_up(self.end_code) - (self.start_code & ~(PAGE_SIZE - 1))
        self.text = max(0, min(text, self.exec))
        self.lib = self.exec - self.text


def _entry(process) -> int | None:
    """The program's entry point (AT_ENTRY), which lies in its text."""
    for key, value in getattr(process, "auxv", None) or ():
        if key == L.AT_ENTRY:
            return value
    return getattr(process, "entry", None)


def _page_up(x: int) -> int:
    return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


# ---- per-process files ---------------------------------------------------------------------

def _sigset(x) -> int:
    """A signal set as a mask (bit n-1 for signal n), from a mask or signal numbers."""
    if x is None:
        return 0
    if isinstance(x, int):
        return x
    mask = 0
    for item in (x.keys() if isinstance(x, dict) else x):
        sig = item if isinstance(item, int) else getattr(item, "signo",
                                                         getattr(item, "sig", 0))
        if 0 < sig <= L.NSIG:
            mask |= 1 << (sig - 1)
    return mask


def _sig_dispositions(process) -> tuple[int, int]:
    """(ignored, caught) masks from the process's sigactions."""
    ign = cgt = 0
    for sig, act in enumerate(getattr(process, "sigactions", ()) or ()):
        if sig == 0 or sig > L.NSIG or act is None:
            continue
        handler = getattr(act, "handler", L.SIG_DFL)
        if handler == L.SIG_IGN:
            ign |= 1 << (sig - 1)
        elif handler != L.SIG_DFL:
            cgt |= 1 << (sig - 1)
    return ign, cgt


def _main_thread(process):
    threads = list(getattr(process, "threads", ()) or ())
    for t in threads:
        if getattr(t, "tid", None) == process.pid:
            return t
    return threads[0] if threads else None


def _comm(process, thread) -> bytes:
    t = thread if thread is not None else _main_thread(process)
    comm = getattr(t, "comm", None) if t is not None else None
    if comm is None:
        comm = os.path.basename(_fsencode(getattr(process, "exe", "") or b""))
    return _fsencode(comm)[:L.TASK_COMM_LEN - 1]


def _state(kernel, process, thread) -> str:
    """get_task_state(): the one-letter state and its word."""
    if getattr(process, "zombie", False) or getattr(process, "exited", False):
        return "Z (zombie)"
    if thread is not None and getattr(kernel, "current", None) is thread:
        return "R (running)"
    for obj in (thread, process):
        if obj is not None and getattr(obj, "stopped", False):
            return "T (stopped)"
    if thread is not None and any(getattr(thread, a, None) for a in
                                  ("waiting", "wait_queue", "blocked_on", "sleeping")):
        return "S (sleeping)"
    return "R (running)"


def _rlimit(process, res: int) -> tuple[int, int]:
    limits = getattr(process, "rlimits", None)
    if limits and res < len(limits):
        return limits[res][0], limits[res][1]
    return L.RLIM_INFINITY, L.RLIM_INFINITY


def _fd_max(process) -> int:
    """fdtable->max_fds: 64 slots, grown to a power-of-two count of 128-slot pages."""
    fds = getattr(process, "fds", None)
    n = len(getattr(fds, "files", ()) or ())
    if n <= 64:
        return 64
    pages = (n - 1) // 128 + 1
    return (1 << (pages - 1).bit_length()) * 128


def _bitmap(nbits: int, mask: int) -> str:
    """%*pb (lib/vsprintf.c bitmap_string): hex in 32-bit groups, most significant
    first, comma separated; the first group only as wide as its bits need."""
    groups = (nbits + 31) // 32
    top = nbits % 32 or 32
    out = []
    for i in range(groups - 1, -1, -1):
        width = (top + 3) // 4 if i == groups - 1 else 8
        out.append("%0*x" % (width, (mask >> (32 * i)) & 0xFFFFFFFF))
    return ",".join(out)


def _bitmap_list(mask: int) -> str:
    """%*pbl: runs like 0-3,5."""
    runs, bit = [], 0
    while mask >> bit:
        if mask >> bit & 1:
            start = bit
            while mask >> (bit + 1) & 1:
                bit += 1
            runs.append(str(start) if start == bit else "%d-%d" % (start, bit))
        bit += 1
    return ",".join(runs)


def status_text(kernel, process, thread=None) -> bytes:
    """/proc/<pid>/status (fs/proc/array.c proc_pid_status, Linux 6.1 order). With a
    thread, the /proc/<pid>/task/<tid>/status view of it."""
    t = thread if thread is not None else _main_thread(process)
    tid = getattr(t, "tid", process.pid) if thread is not None else process.pid
    name = _comm(process, t).replace(b"\\", b"\\\\").replace(b"\n", b"\\n")
    uid, euid = getattr(process, "uid", 0), getattr(process, "euid", 0)
    suid, fsuid = getattr(process, "suid", euid), getattr(process, "fsuid", euid)
    gid, egid = getattr(process, "gid", 0), getattr(process, "egid", 0)
    sgid, fsgid = getattr(process, "sgid", egid), getattr(process, "fsgid", egid)
    groups = list(getattr(process, "groups", ()) or ())
    pgid, sid = getattr(process, "pgid", process.pid), getattr(process, "sid", process.pid)
    out = [b"Name:\t" + name,
           b"Umask:\t%04o" % getattr(process, "umask", 0o022),
           b"State:\t" + _state(kernel, process, t).encode(),
           b"Tgid:\t%d" % process.pid, b"Ngid:\t0", b"Pid:\t%d" % tid,
           b"PPid:\t%d" % getattr(process, "ppid", 0), b"TracerPid:\t0",
           b"Uid:\t%d\t%d\t%d\t%d" % (uid, euid, suid, fsuid),
           b"Gid:\t%d\t%d\t%d\t%d" % (gid, egid, sgid, fsgid),
           b"FDSize:\t%d" % _fd_max(process),
           b"Groups:\t" + b" ".join(b"%d" % g for g in groups) + b" ",
           b"NStgid:\t%d" % process.pid, b"NSpid:\t%d" % tid,
           b"NSpgid:\t%d" % pgid, b"NSsid:\t%d" % sid]
    mm = getattr(process, "mm", None)
    if mm is not None:
        m = MemoryCounts(mm, _entry(process))
        peak = max(m.total, getattr(mm, "peak_mapped", 0) or 0)
        hwm = max(m.rss, getattr(mm, "peak_rss", 0) or 0)
        for label, value in (("VmPeak", peak), ("VmSize", m.total), ("VmLck", 0),
                             ("VmPin", 0), ("VmHWM", hwm), ("VmRSS", m.rss),
                             ("RssAnon", m.rss_anon), ("RssFile", m.rss_file),
                             ("RssShmem", m.rss_shmem), ("VmData", m.data),
                             ("VmStk", m.stack), ("VmExe", m.text), ("VmLib", m.lib),
                             ("VmPTE", 0), ("VmSwap", 0)):
            out.append(b"%s:\t%8d kB" % (label.encode(), value >> 10))
        out += [b"HugetlbPages:\t       0 kB", b"CoreDumping:\t0",
                b"THP_enabled:\t%d" % (0 if getattr(process, "thp_disable", 0) else 1)]
    ign, cgt = _sig_dispositions(process)
    threads = list(getattr(process, "threads", ()) or ())
    shared = _sigset(getattr(process, "shared_pending", None))
    pending = _sigset(getattr(t, "pending", None)) if t is not None else 0
    queued = bin(shared).count("1") + sum(bin(_sigset(getattr(x, "pending", None))).count("1")
                                          for x in threads)
    root = euid == 0
    out += [b"Threads:\t%d" % max(len(threads), 1),
            b"SigQ:\t%d/%d" % (queued, _rlimit(process, 11)[0]),   # RLIMIT_SIGPENDING
            b"SigPnd:\t%016x" % pending, b"ShdPnd:\t%016x" % shared,
            b"SigBlk:\t%016x" % (getattr(t, "sigmask", 0) if t is not None else 0),
            b"SigIgn:\t%016x" % ign, b"SigCgt:\t%016x" % cgt,
            b"CapInh:\t%016x" % 0,
            b"CapPrm:\t%016x" % (CAP_FULL if root else 0),
            b"CapEff:\t%016x" % (CAP_FULL if root else 0),
            b"CapBnd:\t%016x" % CAP_FULL, b"CapAmb:\t%016x" % 0,
            b"NoNewPrivs:\t%d" % getattr(process, "no_new_privs", 0),
            b"Seccomp:\t0", b"Seccomp_filters:\t0",
            b"Speculation_Store_Bypass:\tnot vulnerable",
            b"SpeculationIndirectBranch:\tnot affected"]
    ncpus = getattr(kernel, "ncpus", 1) or 1
    cpus = (1 << ncpus) - 1
    out += [b"Cpus_allowed:\t" + _bitmap(ncpus, cpus).encode(),
            b"Cpus_allowed_list:\t" + _bitmap_list(cpus).encode(),
            b"Mems_allowed:\t" + _bitmap(MAX_NUMNODES, 1).encode(),
            b"Mems_allowed_list:\t0",
            b"voluntary_ctxt_switches:\t%d" % getattr(t, "nvcsw", 0),
            b"nonvoluntary_ctxt_switches:\t%d" % getattr(t, "nivcsw", 0)]
    return b"\n".join(out) + b"\n"


def _start_ticks(kernel, process) -> int:
    start_ns = getattr(process, "start_time_ns", None)
    boot = getattr(kernel, "boot_time", None)
    if start_ns is None or boot is None:
        return 0
    return max(0, start_ns - int(boot * 1e9)) // (10**9 // USER_HZ)


def stat_text(kernel, process, thread=None) -> bytes:
    """/proc/<pid>/stat (do_task_stat), all 52 fields. With a thread, the
    /proc/<pid>/task/<tid>/stat view of it."""
    t = thread if thread is not None else _main_thread(process)
    tid = getattr(t, "tid", process.pid) if thread is not None else process.pid
    state = _state(kernel, process, t)[0]
    threads = list(getattr(process, "threads", ()) or ())
    mm = getattr(process, "mm", None)
    m = MemoryCounts(mm, _entry(process)) if mm else None
    ign, cgt = _sig_dispositions(process)
    pending = _sigset(getattr(t, "pending", None)) if t is not None else 0
    blocked = getattr(t, "sigmask", 0) if t is not None else 0
    nice = getattr(process, "nice", 0)
    low31 = 0x7FFFFFFF
    # exit_signal: SIGCHLD for a process, -1 for a thread that is not the leader.
    exit_signal = SIGCHLD if tid == process.pid else -1
    fields = [
        process.pid if thread is None else tid,
        getattr(process, "ppid", 0), getattr(process, "pgid", process.pid),
        getattr(process, "sid", process.pid),
        0, -1,                                   # tty_nr, tpgid: no controlling terminal
        0,                                       # flags: no PF_ flag applies
        0, 0, 0, 0,                              # minflt cminflt majflt cmajflt
        getattr(process, "utime_ns", 0) // (10**9 // USER_HZ),
        getattr(process, "stime_ns", 0) // (10**9 // USER_HZ),
        0, 0,                                    # cutime cstime
        20 + nice, nice, max(len(threads), 1), 0,
        _start_ticks(kernel, process),
        m.total if m else 0, (m.rss // PAGE_SIZE) if m else 0,
        _rlimit(process, 5)[0],                  # RLIMIT_RSS
        m.start_code if m else 0, m.end_code if m else 0,
        getattr(mm, "start_stack", 0) if mm else 0,
        0, 0,                                    # kstkesp kstkeip: only while dumping core
        pending & low31, blocked & low31, ign & low31, cgt & low31,
        0 if state == "R" else 1,                # wchan: is there one (0/1 since 4.x)
        0, 0, exit_signal, 0, 0, 0, 0, 0, 0,     # nswap cnswap exit_signal cpu rt_prio
                                                 # policy blkio guest_time cguest_time
    ]
    if mm is not None:
        fields += [m.start_data, m.end_data, getattr(mm, "start_brk", 0) or 0,
                   getattr(mm, "arg_start", 0), getattr(mm, "arg_end", 0),
                   getattr(mm, "env_start", 0), getattr(mm, "env_end", 0)]
    else:
        fields += [0] * 7
    fields.append(getattr(process, "exit_code", 0) or 0)
    head = b"%d (%s) %s " % (fields[0], _comm(process, t), state.encode())
    return head + b" ".join(b"%d" % f for f in fields[1:]) + b"\n"


def statm_text(process) -> bytes:
    """/proc/<pid>/statm: size resident shared text lib data dt, in pages."""
    mm = getattr(process, "mm", None)
    if mm is None:
        return b"0 0 0 0 0 0 0\n"
    m = MemoryCounts(mm, _entry(process))
    p = PAGE_SIZE
    return b"%d %d %d %d 0 %d 0\n" % (m.total // p, m.rss // p, (m.rss_file + m.rss_shmem) // p,
                                      _page_up(m.text) // p, (m.data + m.stack) // p)


_LIMIT_NAMES = [("Max cpu time", "seconds"), ("Max file size", "bytes"),
                ("Max data size", "bytes"), ("Max stack size", "bytes"),
                ("Max core file size", "bytes"), ("Max resident set", "bytes"),
                ("Max processes", "processes"), ("Max open files", "files"),
                ("Max locked memory", "bytes"), ("Max address space", "bytes"),
                ("Max file locks", "locks"), ("Max pending signals", "signals"),
                ("Max msgqueue size", "bytes"), ("Max nice priority", None),
                ("Max realtime priority", None), ("Max realtime timeout", "us")]


def limits_text(process) -> bytes:
    """/proc/<pid>/limits (fs/proc/base.c proc_pid_limits)."""
    out = ["%-25s %-20s %-20s %-10s\n" % ("Limit", "Soft Limit", "Hard Limit", "Units")]
    for res, (name, unit) in enumerate(_LIMIT_NAMES):
        soft, hard = _rlimit(process, res)
        line = "%-25s %-20s " % (name, "unlimited" if soft == L.RLIM_INFINITY else soft)
        line += "%-20s " % ("unlimited" if hard == L.RLIM_INFINITY else hard)
        line += ("%-10s\n" % unit) if unit else "\n"
        out.append(line)
    return "".join(out).encode()


def _memory_strings(process, start: str, end: str, fallback: list) -> bytes:
    """cmdline/environ: from the process's memory when the loader recorded where they
    are (so a program that rewrites its argv is seen), else the list given to execve."""
    mm = getattr(process, "mm", None)
    a, b = getattr(mm, start, 0) or 0, getattr(mm, end, 0) or 0
    if mm is not None and 0 < a < b:
        try:
            return bytes(mm.read(a, b - a))
        except (KernelError, AttributeError):
            pass
    return b"".join(_fsencode(s) + b"\0" for s in (fallback or []))


def cmdline_text(process) -> bytes:
    """/proc/<pid>/cmdline: argv, each NUL-terminated. As Linux's get_mm_cmdline: when
    the last byte of the area is no longer a NUL (setproctitle), the text up to the
    first NUL."""
    data = _memory_strings(process, "arg_start", "arg_end", getattr(process, "argv", []))
    if data and data[-1] != 0:
        data = data.split(b"\0", 1)[0]
    return data


def environ_text(process) -> bytes:
    return _memory_strings(process, "env_start", "env_end", getattr(process, "envp", []))


def auxv_text(process) -> bytes:
    """/proc/<pid>/auxv: the (type, value) u64 pairs given on the stack, AT_NULL last."""
    pairs = list(getattr(process, "auxv", None) or [])
    if not pairs or pairs[-1][0] != L.AT_NULL:
        pairs.append((L.AT_NULL, 0))
    return b"".join(struct.pack("<QQ", k & (2**64 - 1), v & (2**64 - 1)) for k, v in pairs)


# ---- mounts --------------------------------------------------------------------------------

class _MountNumbers:
    """The numbers given out to the mounts of one VFS (and to the kernel-internal
    mounts its files can live on)."""

    def __init__(self):
        self.next = 1
        self.internal: dict[str, int] = {}

    def take(self) -> int:
        self.next += 1
        return self.next - 1


_numbering: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_no_vfs_numbering = _MountNumbers()


def _numbers(vfs) -> _MountNumbers:
    if vfs is None:
        return _no_vfs_numbering
    numbers = _numbering.get(vfs)
    if numbers is None:
        numbers = _numbering[vfs] = _MountNumbers()
    for m in vfs.mount_table():        # the VFS's own mounts are numbered first
        if getattr(m, "mnt_id", None) is None:
            m.mnt_id = numbers.take()
    return numbers


def mount_id(vfs, mount) -> int:
    """The mount's number (mountinfo's first field, fdinfo's mnt_id; statx's
    stx_mnt_id can use it too): given on first need in mount-table order, so the
    root is 1, and kept on the Mount as .mnt_id."""
    mid = getattr(mount, "mnt_id", None)
    if mid is None:
        numbers = _numbers(vfs)
        mid = getattr(mount, "mnt_id", None)
        if mid is None:
            mount.mnt_id = mid = numbers.take()
    return mid


def internal_mount_id(vfs, kind: str) -> int:
    """mnt_id of a kernel-internal mount files live on ("pipefs"; "host" for host
    streams), numbered after the VFS's mounts as Linux numbers its internal ones
    apart from the visible tree."""
    numbers = _numbers(vfs)
    if kind not in numbers.internal:
        numbers.internal[kind] = numbers.take()
    return numbers.internal[kind]


# Mount options by where Linux prints them (fs/proc_namespace.c): superblock flags,
# then per-mount flags, then the filesystem's own options (size=, mode=, ...).
_SB_OPTIONS = ("sync", "dirsync", "mand", "lazytime")
_MNT_OPTIONS = ("nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime",
                "nosymfollow")


def _split_options(options: str) -> tuple[list[str], list[str], list[str]]:
    given = [o for o in (options or "").split(",") if o and o not in ("ro", "rw")]
    sb = [o for o in _SB_OPTIONS if o in given]
    mnt = [o for o in _MNT_OPTIONS if o in given]
    own = [o for o in given if o not in _SB_OPTIONS and o not in _MNT_OPTIONS]
    return sb, mnt, own


def _mangle(text: bytes) -> bytes:
    """fs/proc_namespace.c mangle(): space, tab, newline and backslash in octal."""
    for ch in (b"\\", b" ", b"\t", b"\n"):
        text = text.replace(ch, b"\\%03o" % ch[0])
    return text


def _visible_mounts(vfs, process) -> list[tuple[bytes, object]]:
    """(mount point as the process sees it, Mount), for mounts inside its root."""
    if vfs is None:
        return []
    root = getattr(process, "root", None)
    root_names = tuple(getattr(root, "names", ()) or ())
    out = []
    for m in vfs.mount_table():
        names = tuple(m.names)
        if names[:len(root_names)] != root_names:
            continue
        rel = names[len(root_names):]
        out.append((b"/" + b"/".join(rel), m))
    return out


def _mount_ro(m) -> bool:
    return bool(m.readonly or m.fs.readonly)


def mounts_text(vfs, process) -> bytes:
    """/proc/<pid>/mounts (show_vfsmnt): source point type options 0 0, the options
    being ro|rw, superblock flags, mount flags, then the filesystem's own."""
    out = []
    for point, m in _visible_mounts(vfs, process):
        sb, mnt, own = _split_options(m.options)
        opts = ",".join(["ro" if _mount_ro(m) else "rw"] + sb + mnt + own).encode()
        out.append(b"%s %s %s %s 0 0\n" % (_mangle(_fsencode(m.source or "none")),
                                           _mangle(point), _fsencode(m.fs.name), opts))
    return b"".join(out)


def mountinfo_text(vfs, process) -> bytes:
    """/proc/<pid>/mountinfo (show_mountinfo): id parent major:minor root point
    mount-options - type source super-options. No propagation tags: every mount is
    private."""
    out = []
    visible = _visible_mounts(vfs, process)
    by_names = {tuple(m.names): m for _, m in visible}
    for point, m in visible:
        names = tuple(m.names)
        parent = m
        for k in range(len(names) - 1, -1, -1):
            if names[:k] in by_names:
                parent = by_names[names[:k]]
                break
        major, minor = decode_dev(m.fs.dev)
        sb, mnt, own = _split_options(m.options)
        mount_opts = ",".join(["ro" if m.readonly else "rw"] + mnt).encode()
        super_opts = ",".join(["ro" if m.fs.readonly else "rw"] + sb + own).encode()
        out.append(b"%d %d %d:%d / %s %s - %s %s %s\n" % (
            mount_id(vfs, m), mount_id(vfs, parent), major, minor, _mangle(point),
            mount_opts, _fsencode(m.fs.name), _mangle(_fsencode(m.source or "none")),
            super_opts))
    return b"".join(out)


# ---- open files ----------------------------------------------------------------------------

def _host_fd_name(host_fd: int) -> bytes:
    """What a host stream is, for /proc/<pid>/fd: a terminal or device by its name,
    a pipe or socket by inode number; anything else by what it is to the guest."""
    try:
        st = os.fstat(host_fd)
    except OSError:
        return b"anon_inode:[hoststream]"
    if S.S_ISCHR(st.st_mode):
        try:
            return os.fsencode(os.ttyname(host_fd))
        except OSError:
            pass
        try:
            return os.fsencode(os.readlink("/proc/self/fd/%d" % host_fd))
        except OSError:
            return b"anon_inode:[hoststream]"
    if S.S_ISFIFO(st.st_mode):
        return b"pipe:[%d]" % st.st_ino
    if S.S_ISSOCK(st.st_mode):
        return b"socket:[%d]" % st.st_ino
    return b"anon_inode:[hoststream]"


def _mount_point_of(vfs, fs) -> bytes | None:
    for m in (vfs.mount_table() if vfs is not None else []):
        if m.fs is fs:
            return b"/" + b"/".join(m.names)
    return None


def fd_target(file: File, vfs=None) -> bytes:
    """readlink of /proc/<pid>/fd/N (fs/proc/fd.c, d_path): the path an fd was opened
    by, " (deleted)" once unlinked; pipe:[ino] for pipes; a file type can say for
    itself with a proc_link() method (sockets: socket:[ino], eventfd: anon_inode:...)."""
    link = getattr(file, "proc_link", None)
    if callable(link):
        return link()
    inode = getattr(file, "inode", None)
    path = getattr(file, "path", None)
    text = _path_text(path) if path is not None else None
    if text is None and inode is not None and getattr(inode, "relpath", None) is not None:
        point = _mount_point_of(vfs, inode.fs)
        if point is not None:
            text = point.rstrip(b"/") + inode.relpath if inode.relpath != b"/" else point
    if text is not None:
        if inode is not None and not inode.is_dir and inode.nlink == 0:
            text += b" (deleted)"
        return text
    if isinstance(file, PipeEnd):
        return b"pipe:[%d]" % file.pipe.ino
    if isinstance(file, HostStream):
        return _host_fd_name(file.host_fd)
    return b"anon_inode:[%s]" % type(file).__name__.lower().encode()


def _file_mount_id(file: File, vfs) -> int:
    path = getattr(file, "path", None)
    mount = getattr(path, "mount", None) if path is not None else None
    if mount is not None:
        return mount_id(vfs, mount)
    inode = getattr(file, "inode", None)
    if inode is not None and vfs is not None:
        for m in vfs.mount_table():
            if m.fs is inode.fs:
                return mount_id(vfs, m)
    if isinstance(file, PipeEnd):
        return internal_mount_id(vfs, "pipefs")
    return internal_mount_id(vfs, "host")


def _file_pos(file: File) -> int:
    if isinstance(file, HostStream):
        if getattr(file, "seekable", False):
            try:
                return os.lseek(file.host_fd, 0, os.SEEK_CUR)
            except OSError:
                return 0
        return 0
    return getattr(file, "offset", 0) or 0


def _file_ino(file: File) -> int:
    inode = getattr(file, "inode", None)
    if inode is not None:
        return inode.ino
    if isinstance(file, PipeEnd):
        return file.pipe.ino
    try:
        return file.stat()[1]
    except (KernelError, OSError):
        return 0


def fdinfo_text(file: File, cloexec: bool, vfs=None) -> bytes:
    """/proc/<pid>/fdinfo/N (fs/proc/fd.c seq_show): pos, flags (octal, with
    O_CLOEXEC from the fd), mnt_id, ino."""
    flags = file.flags | (L.O_CLOEXEC if cloexec else 0)
    return b"pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n" % (
        _file_pos(file), flags, _file_mount_id(file, vfs), _file_ino(file))


# ---- system-wide files ----------------------------------------------------------------------

def _processes(kernel) -> dict:
    return dict(getattr(kernel, "processes", None) or {})


def meminfo_text(kernel) -> bytes:
    """/proc/meminfo (fs/proc/meminfo.c, Linux 6.1 order and widths). MemTotal is the
    guest memory limit (-m); what the guests have mapped is what is used, since that
    is what the limit counts."""
    limit = getattr(getattr(kernel, "config", None), "memory_limit", 0) or 0
    used = anon = shmem = mapped_file = 0
    for p in _processes(kernel).values():
        mm = getattr(p, "mm", None)
        if mm is None:
            continue
        for v in getattr(mm, "vmas", ()) or ():
            size = v.end - v.start
            used += size
            if _vma_is_file(v):
                mapped_file += size
            elif _vma_shared(v):
                shmem += size
            else:
                anon += size
    total = limit >> 10
    free = max(limit - used, 0) >> 10
    kb = [("MemTotal", total), ("MemFree", free), ("MemAvailable", free),
          ("Buffers", 0), ("Cached", shmem >> 10), ("SwapCached", 0),
          ("Active", used >> 10), ("Inactive", 0),
          ("Active(anon)", used >> 10), ("Inactive(anon)", 0),
          ("Active(file)", 0), ("Inactive(file)", 0), ("Unevictable", 0), ("Mlocked", 0),
          ("SwapTotal", 0), ("SwapFree", 0), ("Zswap", 0), ("Zswapped", 0),
          ("Dirty", 0), ("Writeback", 0), ("AnonPages", (anon + mapped_file) >> 10),
          ("Mapped", mapped_file >> 10), ("Shmem", shmem >> 10), ("KReclaimable", 0),
          ("Slab", 0), ("SReclaimable", 0), ("SUnreclaim", 0), ("KernelStack", 0),
          ("PageTables", 0), ("NFS_Unstable", 0), ("Bounce", 0), ("WritebackTmp", 0),
          ("CommitLimit", total), ("Committed_AS", used >> 10),
          ("VmallocTotal", VMALLOC_TOTAL_KB), ("VmallocUsed", 0), ("VmallocChunk", 0),
          ("Percpu", 0)]
    out = ["%-15s %8d kB\n" % (name + ":", value) for name, value in kb]
    out.append("HardwareCorrupted: %5d kB\n" % 0)
    out += ["%-15s %8d kB\n" % (name + ":", 0) for name in
            ("AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages",
             "FilePmdMapped")]
    out += ["HugePages_Total:   %5d\n" % 0, "HugePages_Free:    %5d\n" % 0,
            "HugePages_Rsvd:    %5d\n" % 0, "HugePages_Surp:    %5d\n" % 0,
            "Hugepagesize:   %8d kB\n" % 2048, "Hugetlb:        %8d kB\n" % 0,
            "DirectMap4k:    %8d kB\n" % total, "DirectMap2M:    %8d kB\n" % 0]
    # No DirectMap1G: the CPU model has no pdpe1gb.
    return "".join(out).encode()


def _uptime_ns(kernel) -> int:
    boot = getattr(kernel, "boot_time", None)
    if boot is None:
        return 0
    return max(0, time.monotonic_ns() - int(boot * 1e9))


def uptime_text(kernel) -> bytes:
    """/proc/uptime: seconds since the kernel started, and idle seconds (time spent
    with every guest thread parked, when the kernel counts it)."""
    up = _uptime_ns(kernel)
    idle = getattr(kernel, "idle_ns", 0) or 0
    return b"%d.%02d %d.%02d\n" % (up // 10**9, up % 10**9 // 10**7,
                                   idle // 10**9, idle % 10**9 // 10**7)


def _last_pid(kernel) -> int:
    nxt = getattr(kernel, "next_pid", None)
    if isinstance(nxt, int):
        return nxt - 1
    return max(_processes(kernel), default=0)


def loadavg_text(kernel) -> bytes:
    """/proc/loadavg: pyunik keeps no load average; runnable/total threads and the
    last pid given out are real."""
    procs = _processes(kernel).values()
    threads = [t for p in procs for t in (getattr(p, "threads", ()) or ())]
    running = sum(1 for p in procs for t in (getattr(p, "threads", ()) or ())
                  if _state(kernel, p, t)[0] == "R")
    return b"0.00 0.00 0.00 %d/%d %d\n" % (max(running, 1), max(len(threads), 1),
                                          _last_pid(kernel))


def proc_stat_text(kernel) -> bytes:
    """/proc/stat (fs/proc/stat.c): no CPU time accounting, so the times are 0; btime,
    processes and procs_running are real."""
    ncpus = getattr(kernel, "ncpus", 1) or 1
    zeros = b" 0" * 10
    lines = [b"cpu " + zeros] + [b"cpu%d" % i + zeros for i in range(ncpus)]
    btime = int(time.time() - _uptime_ns(kernel) / 1e9)
    procs = _processes(kernel).values()
    running = sum(1 for p in procs for t in (getattr(p, "threads", ()) or ())
                  if _state(kernel, p, t)[0] == "R")
    lines += [b"intr 0", b"ctxt 0", b"btime %d" % btime,
              b"processes %d" % getattr(kernel, "forks", len(procs)),
              b"procs_running %d" % max(running, 1), b"procs_blocked 0",
              b"softirq 0" + b" 0" * 10]
    return b"\n".join(lines) + b"\n"


def filesystems_text(kernel) -> bytes:
    names = list(BASE_FILESYSTEMS)
    vfs = getattr(kernel, "vfs", None)
    for m in (vfs.mount_table() if vfs is not None else []):
        if m.fs.name not in names and m.fs.name != "none":
            names.append(m.fs.name)
    return b"".join(b"nodev\t%s\n" % n.encode() for n in names)


def _uname(kernel) -> tuple[bytes, bytes, bytes]:
    """(release, version, nodename) as uname(2) gives them."""
    return (_fsencode(kernel.uname_release), _fsencode(kernel.uname_version),
            _fsencode(kernel.hostname))


def version_text(kernel) -> bytes:
    release, version, _ = _uname(kernel)
    return b"Linux version %s (pyunik@pyunik) (Python %s) %s\n" % (
        release, platform.python_version().encode(), version)


# ---- the filesystem ------------------------------------------------------------------------

class ProcFS(PseudoFS):
    """/proc. `ProcFS(kernel)`; mount its .root. The kernel probes the CPU model's
    cpuid on its first engine (probe_cpuid) before any guest runs."""

    name = "proc"
    magic = PROC_SUPER_MAGIC

    def __init__(self, kernel=None, cpuid: dict | None = None):
        super().__init__()
        self.kernel = kernel
        self._cpuid = cpuid
        self.boot_id = _uuid4(self._random(16))
        self.root = ProcRoot(self)

    @property
    def cpuid(self) -> dict:
        """The cpuid leaves: from the kernel's first engine (probed at spawn), else
        from a throwaway engine."""
        if self._cpuid is None:
            self._cpuid = probe_cpuid()
        return self._cpuid

    # ---- kernel state, read with Linux's "none" for what is not kept -----

    @property
    def vfs(self):
        return getattr(self.kernel, "vfs", None)

    def _random(self, n: int) -> bytes:
        source = getattr(self.kernel, "random_bytes", None) or os.urandom
        return source(n)

    def current(self):
        return getattr(self.kernel, "current", None)

    def processes(self) -> dict:
        return _processes(self.kernel)

    def find_task(self, number: int):
        """(process, thread) for a pid or tid; thread is None for a pid."""
        procs = self.processes()
        if number in procs:
            return procs[number], None
        for p in procs.values():
            for t in getattr(p, "threads", ()) or ():
                if getattr(t, "tid", None) == number:
                    return p, t
        return None, None

    def live(self, process) -> None:
        """ESRCH once the process is gone (what Linux answers for a stale fd)."""
        if self.processes().get(process.pid) is not process:
            raise KernelError(ESRCH)


def _uuid4(raw: bytes) -> bytes:
    b = bytearray(raw)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return ("%s-%s-%s-%s-%s\n" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])).encode()


def _as_path(p):
    """p when it is a vfs.Path (it has steps), else None."""
    return p if hasattr(p, "steps") else None


def _linux_order(names):
    """The proc_dir_entry tree's order: shorter names first, then bytewise."""
    return sorted(names, key=lambda n: (len(n), n))


class ProcRoot(GeneratedDir):
    def __init__(self, fs: ProcFS):
        super().__init__(fs, b"/", 0o555)
        k = fs.kernel
        ro = 0o444
        self.table = {
            b"sys": lambda rp: _sys_dir(fs, rp),
            b"stat": text_file(fs, ro, lambda: proc_stat_text(k)),
            b"mounts": lambda rp: PseudoSymlink(fs, rp, b"self/mounts"),
            b"uptime": text_file(fs, ro, lambda: uptime_text(k)),
            b"cpuinfo": text_file(fs, ro, lambda: cpuinfo_text(
                fs.cpuid, getattr(k, "ncpus", 1) or 1)),
            b"loadavg": text_file(fs, ro, lambda: loadavg_text(k)),
            b"meminfo": text_file(fs, ro, lambda: meminfo_text(k)),
            b"version": text_file(fs, ro, lambda: version_text(k)),
            b"filesystems": text_file(fs, ro, lambda: filesystems_text(k)),
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
                + [b"%d" % pid for pid in sorted(self.fs.processes())])

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


def _sys_dir(fs: ProcFS, relpath: bytes) -> StaticDir:
    k = fs.kernel
    ro = 0o444

    def uname_field(i):
        return lambda: _uname(k)[i] + b"\n"

    def uuid():
        return _uuid4(fs._random(16))

    random = {b"boot_id": text_file(fs, ro, lambda: fs.boot_id),
              b"uuid": text_file(fs, ro, uuid),
              b"poolsize": text_file(fs, ro, lambda: b"256\n"),
              b"entropy_avail": text_file(fs, ro, lambda: b"256\n")}
    kernel = {b"ostype": text_file(fs, ro, lambda: b"Linux\n"),
              b"osrelease": text_file(fs, ro, uname_field(0)),
              b"version": text_file(fs, ro, uname_field(1)),
              b"hostname": text_file(fs, ro, uname_field(2)),
              b"pid_max": text_file(fs, ro, lambda: b"%d\n" % PID_MAX),
              b"random": lambda rp: StaticDir(fs, rp, random)}
    vm = {b"mmap_min_addr": text_file(fs, ro, lambda: b"65536\n")}
    return StaticDir(fs, relpath, {b"kernel": lambda rp: StaticDir(fs, rp, kernel),
                                   b"vm": lambda rp: StaticDir(fs, rp, vm)})


class PidDir(GeneratedDir):
    """/proc/<pid> (thread None) or /proc/<pid>/task/<tid> (a thread). Owned by the
    process's effective ids, as task_dump_owner gives for a dumpable process."""

    def __init__(self, fs: ProcFS, relpath: bytes, process, thread=None, in_task=False):
        super().__init__(fs, relpath, 0o555, getattr(process, "euid", 0),
                         getattr(process, "egid", 0))
        self.process = process
        self.thread = thread
        p, t, k = process, thread, fs.kernel
        mine = {"uid": self.uid, "gid": self.gid, "write_errno": EINVAL}

        def gen(fn):
            def generate():
                fs.live(p)
                return fn()
            return generate

        def link(target_fn, follow=None):
            def target():
                fs.live(p)
                value = target_fn()
                if value is None:
                    raise KernelError(ENOENT)
                return value
            return lambda rp: PseudoSymlink(fs, rp, target, self.uid, self.gid,
                                            follow=follow)

        table = {}
        if not in_task:
            table[b"task"] = lambda rp: TaskDir(fs, rp, p)
        table.update({
            b"fd": lambda rp: FdDir(fs, rp, p),
            b"fdinfo": lambda rp: FdInfoDir(fs, rp, p),
            b"environ": text_file(fs, 0o400, gen(lambda: environ_text(p)), **mine),
            b"auxv": text_file(fs, 0o400, gen(lambda: auxv_text(p)), **mine),
            b"status": text_file(fs, 0o444, gen(lambda: status_text(k, p, t)), **mine),
            b"personality": text_file(fs, 0o400, gen(
                lambda: b"%08x\n" % getattr(p, "personality", 0)), **mine),
            b"limits": text_file(fs, 0o444, gen(lambda: limits_text(p)), **mine),
            b"comm": text_file(fs, 0o644, gen(lambda: _comm(p, t) + b"\n"),
                               write_fn=self._write_comm, **mine),
            b"cmdline": text_file(fs, 0o444, gen(lambda: cmdline_text(p)), **mine),
            b"stat": text_file(fs, 0o444, gen(lambda: stat_text(k, p, t)), **mine),
            b"statm": text_file(fs, 0o444, gen(lambda: statm_text(p)), **mine),
            b"maps": text_file(fs, 0o444, gen(lambda: maps_text(p.mm)), **mine),
            b"cwd": link(lambda: _path_text(getattr(p, "cwd", None)),
                         follow=lambda: _as_path(getattr(p, "cwd", None))),
            b"root": link(lambda: _path_text(getattr(p, "root", None)) or b"/",
                          follow=lambda: _as_path(getattr(p, "root", None))),
            b"exe": link(lambda: _path_text(getattr(p, "exe", None) or None)),
            b"mounts": text_file(fs, 0o444, gen(lambda: mounts_text(fs.vfs, p)), **mine),
            b"mountinfo": text_file(fs, 0o444, gen(lambda: mountinfo_text(fs.vfs, p)),
                                    **mine),
        })
        self.table = table

    def _write_comm(self, data: bytes) -> int:
        """comm_write(): the first 15 bytes become the name (no newline stripping);
        only a thread of the same process may rename."""
        self.fs.live(self.process)
        cur = self.fs.current()
        if cur is not None and cur.process is not self.process:
            raise KernelError(EINVAL)
        t = self.thread if self.thread is not None else _main_thread(self.process)
        if t is not None:
            t.comm = bytes(data[:L.TASK_COMM_LEN - 1]).split(b"\0", 1)[0]
        return len(data)

    def names(self):
        return list(self.table)

    def child(self, name):
        make = self.table.get(name)
        if make is None or self.fs.processes().get(self.process.pid) is not self.process:
            return None
        return make(self.child_path(name))


class TaskDir(GeneratedDir):
    def __init__(self, fs, relpath, process):
        super().__init__(fs, relpath, 0o555, getattr(process, "euid", 0),
                         getattr(process, "egid", 0))
        self.process = process

    def _threads(self):
        return {getattr(t, "tid", 0): t for t in getattr(self.process, "threads", ()) or ()}

    def names(self):
        return [b"%d" % tid for tid in sorted(self._threads())]

    def child(self, name):
        if not name.isdigit():
            return None
        t = self._threads().get(int(name))
        if t is None:
            return None
        return PidDir(self.fs, self.child_path(name), self.process, t, in_task=True)


def _fd_mode(file: File) -> int:
    """proc_fd_link's mode: r-x for reading, -wx for writing (owner only)."""
    mode = 0
    if file.readable:
        mode |= 0o500
    if file.writable:
        mode |= 0o300
    return mode


class FdDir(GeneratedDir):
    def __init__(self, fs, relpath, process):
        super().__init__(fs, relpath, 0o500, getattr(process, "euid", 0),
                         getattr(process, "egid", 0))
        self.process = process

    def _files(self) -> list:
        fds = getattr(self.process, "fds", None)
        return list(getattr(fds, "files", ()) or ())

    def names(self):
        return [b"%d" % fd for fd, f in enumerate(self._files()) if f is not None]

    def _file(self, name: bytes):
        if not name.isdigit() or (name.startswith(b"0") and name != b"0"):
            return None
        files = self._files()
        fd = int(name)
        return files[fd] if fd < len(files) else None

    def child(self, name):
        f = self._file(name)
        if f is None:
            return None
        fs, p = self.fs, self.process

        def target():
            fs.live(p)
            return fd_target(f, fs.vfs)

        def follow():
            fs.live(p)
            path = getattr(f, "path", None)
            if path is not None:
                return path
            if isinstance(f, (PipeEnd, HostStream)) and getattr(f, "inode", None) is None:
                return ReopenInode(fs, f, self.uid, self.gid)
            return None
        return PseudoSymlink(fs, self.child_path(name), target, self.uid, self.gid,
                             mode=_fd_mode(f), size=64, follow=follow)


class FdInfoDir(FdDir):
    def __init__(self, fs, relpath, process):
        super().__init__(fs, relpath, process)
        self.mode = S.S_IFDIR | 0o555

    def child(self, name):
        f = self._file(name)
        if f is None:
            return None
        fs, p, fd = self.fs, self.process, int(name)

        def generate():
            fs.live(p)
            cloexec = getattr(p.fds, "cloexec", [])
            return fdinfo_text(f, bool(cloexec[fd]) if fd < len(cloexec) else False, fs.vfs)
        return GeneratedFile(fs, self.child_path(name), 0o444, generate, uid=self.uid,
                             gid=self.gid, write_errno=EACCES)
