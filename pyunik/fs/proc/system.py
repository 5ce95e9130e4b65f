"""The system-wide files of /proc: meminfo, cpuinfo, uptime, loadavg, stat,
filesystems, version, and the /proc/sys tree.

fs layer, part of /proc (fs/proc/). Plain functions of the kernel object, in Linux
6.1's formats (fs/proc/meminfo.c, arch/x86/kernel/cpu/proc.c, fs/proc/uptime.c,
loadavg.c, stat.c, fs/filesystems.c, init/version.c). What pyunik does not count
(CPU time, idle time, load) prints as Linux's zero; what it knows is real.

Calls: mm/maps (what each VMA is), fs/pseudo (the /proc/sys tree), abi/.
"""

from __future__ import annotations

import struct
import sys

from ...abi import ipc as IPC
from ...abi.cpufeatures import (FLAGS_1_ECX, FLAGS_1_EDX, FLAGS_7_EBX, FLAGS_EXT_ECX,
                                FLAGS_EXT_EDX)
from ...abi.page import MMAP_MIN_ADDR
from ...abi.proc import PID_MAX_LIMIT, POOLSIZE_BITS, VMALLOC_TOTAL_KB
from ...mm.maps import vma_is_file, vma_shared
from ..pseudo import StaticDir, text_file

# The filesystems pyunik always has, in Linux's registration order; the types of
# whatever is mounted are added after them (fs/filesystems.c prints "nodev\t<name>").
BASE_FILESYSTEMS = ["sysfs", "tmpfs", "proc", "devtmpfs", "pipefs"]


def cpu_flags(leaves: dict) -> list[str]:
    """The cpuinfo "flags" of a CPU model, from its cpuid feature bits."""
    zero = (0, 0, 0, 0)
    words = [(leaves.get(1, zero)[3], FLAGS_1_EDX),
             (leaves.get(0x80000001, zero)[3], FLAGS_EXT_EDX),
             (leaves.get(1, zero)[2], FLAGS_1_ECX),
             (leaves.get(0x80000001, zero)[2], FLAGS_EXT_ECX),
             (leaves.get(7, zero)[1] if leaves.get(0, zero)[0] >= 7 else 0, FLAGS_7_EBX)]
    return [names[bit] for value, names in words for bit in sorted(names)
            if value >> bit & 1]


def cpuinfo_text(leaves: dict, ncpus: int = 1) -> bytes:
    """/proc/cpuinfo (arch/x86/kernel/cpu/proc.c show_cpuinfo), one block per CPU,
    from the cpuid leaves of the CPU model (cpu/cpuid.py)."""
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


def meminfo_text(kernel) -> bytes:
    """/proc/meminfo (fs/proc/meminfo.c, Linux 6.1 order and widths). MemTotal is the
    guest memory limit (-m); what the guests have mapped is what is used, since that
    is what the limit counts."""
    limit = kernel.config.memory_limit
    used = anon = shmem = mapped_file = 0
    for p in kernel.processes.values():
        for v in p.mm.vmas:
            size = v.end - v.start
            used += size
            if vma_is_file(v):
                mapped_file += size
            elif vma_shared(v):
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
    return max(0, kernel.clock.monotonic_ns() - kernel.boot_ns)


def uptime_text(kernel) -> bytes:
    """/proc/uptime: seconds since the kernel started, and idle seconds (0: idle time
    is not counted)."""
    up = _uptime_ns(kernel)
    return b"%d.%02d 0.00\n" % (up // 10**9, up % 10**9 // 10**7)


def _threads(kernel) -> int:
    """Threads alive; every one is runnable as far as /proc can tell."""
    return max(sum(len(p.threads) for p in kernel.processes.values()), 1)


def loadavg_text(kernel) -> bytes:
    """/proc/loadavg: pyunik keeps no load average; runnable/total threads and the
    last pid given out are real."""
    n = _threads(kernel)
    return b"0.00 0.00 0.00 %d/%d %d\n" % (n, n, kernel.next_pid - 1)


def proc_stat_text(kernel) -> bytes:
    """/proc/stat (fs/proc/stat.c): no CPU time accounting, so the times are 0; btime,
    processes and procs_running are real."""
    zeros = b" 0" * 10
    lines = [b"cpu " + zeros] + [b"cpu%d" % i + zeros for i in range(kernel.ncpus)]
    btime = (kernel.clock.realtime_ns() - _uptime_ns(kernel)) // 10**9
    lines += [b"intr 0", b"ctxt 0", b"btime %d" % btime,
              b"processes %d" % len(kernel.processes),
              b"procs_running %d" % _threads(kernel), b"procs_blocked 0",
              b"softirq 0" + b" 0" * 10]
    return b"\n".join(lines) + b"\n"


def filesystems_text(kernel) -> bytes:
    """/proc/filesystems: what pyunik always has, then the types mounted."""
    names = list(BASE_FILESYSTEMS)
    for m in kernel.vfs.mount_table():
        if m.fs.name not in names and m.fs.name != "none":
            names.append(m.fs.name)
    return b"".join(b"nodev\t%s\n" % n.encode() for n in names)


def version_text(kernel) -> bytes:
    """/proc/version (init/version.c linux_proc_banner)."""
    return b"Linux version %s (pyunik@pyunik) (Python %s) %s\n" % (
        kernel.uname_release, sys.version.split()[0].encode(), kernel.uname_version)


def uuid4(raw: bytes) -> bytes:
    """16 random bytes as a version-4 UUID line (random/boot_id, random/uuid)."""
    b = bytearray(raw)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return ("%s-%s-%s-%s-%s\n" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])).encode()


def sys_dir(fs, relpath: bytes) -> StaticDir:
    """/proc/sys: the few sysctls programs read (kernel/, net/ipv4/, vm/), all read-only."""
    k = fs.kernel
    ro = 0o444

    def line(value: bytes):
        return lambda: value + b"\n"

    random = {b"boot_id": text_file(fs, ro, lambda: fs.boot_id),
              b"uuid": text_file(fs, ro, lambda: uuid4(k.random_bytes(16))),
              b"poolsize": text_file(fs, ro, line(b"%d" % POOLSIZE_BITS)),
              b"entropy_avail": text_file(fs, ro, line(b"%d" % POOLSIZE_BITS))}
    kernel = {b"ostype": text_file(fs, ro, line(b"Linux")),
              b"osrelease": text_file(fs, ro, lambda: k.uname_release + b"\n"),
              b"version": text_file(fs, ro, lambda: k.uname_version + b"\n"),
              b"hostname": text_file(fs, ro, lambda: k.hostname + b"\n"),
              b"pid_max": text_file(fs, ro, line(b"%d" % PID_MAX_LIMIT)),
              b"shmmax": text_file(fs, ro, line(b"%d" % IPC.SHMMAX)),
              b"shmall": text_file(fs, ro, line(b"%d" % IPC.SHMALL)),
              b"shmmni": text_file(fs, ro, line(b"%d" % IPC.SHMMNI)),
              b"msgmax": text_file(fs, ro, line(b"%d" % IPC.MSGMAX)),
              b"msgmnb": text_file(fs, ro, line(b"%d" % IPC.MSGMNB)),
              b"msgmni": text_file(fs, ro, line(b"%d" % IPC.MSGMNI)),
              b"sem": text_file(fs, ro, line(b"%d\t%d\t%d\t%d" % (
                  IPC.SEMMSL, IPC.SEMMNS, IPC.SEMOPM, IPC.SEMMNI))),
              b"random": lambda rp: StaticDir(fs, rp, random)}
    vm = {b"mmap_min_addr": text_file(fs, ro, line(b"%d" % MMAP_MIN_ADDR))}
    # net.ipv4.ping_group_range: who may make ping sockets (net/ping_socket.py)
    ipv4 = {b"ping_group_range": text_file(fs, ro, lambda: b"%d\t%d\n" % k.net.ping_group_range)}
    net = {b"ipv4": lambda rp: StaticDir(fs, rp, ipv4)}
    return StaticDir(fs, relpath, {b"kernel": lambda rp: StaticDir(fs, rp, kernel),
                                   b"net": lambda rp: StaticDir(fs, rp, net),
                                   b"vm": lambda rp: StaticDir(fs, rp, vm)})


def net_dir(fs, relpath: bytes) -> StaticDir:
    """/proc/net: dev (interface counters) and tcp (sockets), the kernel's text
    (kernel/netdev.py) from the network's real state."""
    k, ro = fs.kernel, 0o444
    return StaticDir(fs, relpath, {name: text_file(fs, ro, lambda n=name: k.proc_net_text(n))
                                   for name in (b"dev", b"tcp")})
