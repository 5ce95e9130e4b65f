"""The text of the per-process files of /proc/<pid>: status, stat, statm, limits,
cmdline, environ, auxv, comm.

fs layer, part of /proc (fs/proc/). Plain functions of a kernel.process.Process (and
one of its threads for /proc/<pid>/task/<tid>), in Linux 6.1's formats byte for byte
(fs/proc/array.c, fs/proc/base.c). Where pyunik keeps no such state (CPU time,
pending signals, context switches) the value is the one Linux prints for "none", and
the comment says so; nothing is invented.

Calls: mm/maps (the memory counters), abi/.
"""

from __future__ import annotations

import os

from ...abi import linux as L
from ...abi.proc import (LIMIT_NAMES, MAX_NUMNODES, NORMAL_PRIO_BASE, NR_OPEN_DEFAULT,
                         USER_HZ)
from ...errors import KernelError
from ...mm.address_space import page_up
from ...mm.maps import MemoryCounts

TICK_NS = 10**9 // USER_HZ

# get_task_state(): the scheduler's state of a thread (kernel/sched.py), a zombie's
# (kernel/exit.py); a thread parked in a system call sleeps interruptibly (S).
TASK_STATE = {"running": "R (running)", "runnable": "R (running)",
              "blocked": "S (sleeping)", "stopped": "T (stopped)", "dead": "X (dead)"}
RUNNING = TASK_STATE["running"]


def task_state(process, thread) -> str:
    """The State line of a process (its main thread's) or thread."""
    if process.exit_state is not None:
        return "Z (zombie)"
    if thread is None:
        return RUNNING
    return TASK_STATE.get(thread.state, RUNNING)


def main_thread(process):
    """The thread whose tid is the pid (the group leader), else the first one."""
    for t in process.threads:
        if t.tid == process.pid:
            return t
    return process.threads[0] if process.threads else None


def comm(process, thread) -> bytes:
    """The task's name (TASK_COMM_LEN - 1 bytes at most)."""
    t = thread if thread is not None else main_thread(process)
    name = t.comm if t is not None else os.path.basename(os.fsencode(process.exe))
    return name[:L.TASK_COMM_LEN - 1]


def entry(process) -> int | None:
    """The program's entry point (AT_ENTRY), which lies in its text."""
    return dict(process.auxv).get(L.AT_ENTRY)


def _sig_dispositions(process) -> tuple[int, int]:
    """(ignored, caught) masks from the process's signal dispositions."""
    ign = cgt = 0
    for sig in range(1, L.NSIG + 1):
        handler = process.sighand.actions[sig].handler
        if handler == L.SIG_IGN:
            ign |= 1 << (sig - 1)
        elif handler != L.SIG_DFL:
            cgt |= 1 << (sig - 1)
    return ign, cgt


def _fd_max(process) -> int:
    """fdtable->max_fds: NR_OPEN_DEFAULT slots, grown to a power-of-two count of
    128-slot pages (fs/file.c alloc_fdtable)."""
    n = len(process.fds.files)
    if n <= NR_OPEN_DEFAULT:
        return NR_OPEN_DEFAULT
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
    p = process
    t = thread if thread is not None else main_thread(p)
    tid = thread.tid if thread is not None else p.pid
    name = comm(p, t).replace(b"\\", b"\\\\").replace(b"\n", b"\\n")
    c = p.cred
    out = [b"Name:\t" + name,
           b"Umask:\t%04o" % p.fs.umask,
           b"State:\t" + task_state(p, t).encode(),
           b"Tgid:\t%d" % p.pid, b"Ngid:\t0", b"Pid:\t%d" % tid,
           b"PPid:\t%d" % p.ppid, b"TracerPid:\t0",
           b"Uid:\t%d\t%d\t%d\t%d" % (c.uid, c.euid, c.suid, c.fsuid),
           b"Gid:\t%d\t%d\t%d\t%d" % (c.gid, c.egid, c.sgid, c.fsgid),
           b"FDSize:\t%d" % _fd_max(p),
           b"Groups:\t" + b" ".join(b"%d" % g for g in c.groups) + b" ",
           b"NStgid:\t%d" % p.pid, b"NSpid:\t%d" % tid,
           b"NSpgid:\t%d" % p.pgid, b"NSsid:\t%d" % p.sid]
    m = MemoryCounts(p.mm, entry(p))
    # No high-water marks are kept: VmPeak and VmHWM are the current sizes.
    for label, value in (("VmPeak", m.total), ("VmSize", m.total), ("VmLck", 0),
                         ("VmPin", 0), ("VmHWM", m.rss), ("VmRSS", m.rss),
                         ("RssAnon", m.rss_anon), ("RssFile", m.rss_file),
                         ("RssShmem", m.rss_shmem), ("VmData", m.data),
                         ("VmStk", m.stack), ("VmExe", m.text), ("VmLib", m.lib),
                         ("VmPTE", 0), ("VmSwap", 0)):
        out.append(b"%s:\t%8d kB" % (label.encode(), value >> 10))
    out += [b"HugetlbPages:\t       0 kB", b"CoreDumping:\t0", b"THP_enabled:\t1"]
    ign, cgt = _sig_dispositions(p)
    out += [b"Threads:\t%d" % max(len(p.threads), 1),
            # No signal is ever left pending (kernel/signals.py): nothing queued.
            b"SigQ:\t0/%d" % p.rlimits[L.RLIMIT_SIGPENDING][0],
            b"SigPnd:\t%016x" % 0, b"ShdPnd:\t%016x" % 0,
            b"SigBlk:\t%016x" % (t.sigmask if t is not None else 0),
            b"SigIgn:\t%016x" % ign, b"SigCgt:\t%016x" % cgt,
            b"CapInh:\t%016x" % c.cap_inheritable,
            b"CapPrm:\t%016x" % c.cap_permitted,
            b"CapEff:\t%016x" % c.cap_effective,
            b"CapBnd:\t%016x" % c.cap_bset, b"CapAmb:\t%016x" % c.cap_ambient,
            b"NoNewPrivs:\t%d" % p.no_new_privs,
            b"Seccomp:\t0", b"Seccomp_filters:\t0",
            b"Speculation_Store_Bypass:\tnot vulnerable",
            b"SpeculationIndirectBranch:\tnot affected"]
    cpus = (1 << kernel.ncpus) - 1
    out += [b"Cpus_allowed:\t" + _bitmap(kernel.ncpus, cpus).encode(),
            b"Cpus_allowed_list:\t" + _bitmap_list(cpus).encode(),
            b"Mems_allowed:\t" + _bitmap(MAX_NUMNODES, 1).encode(),
            b"Mems_allowed_list:\t0",
            # Context switches are not counted.
            b"voluntary_ctxt_switches:\t0",
            b"nonvoluntary_ctxt_switches:\t0"]
    return b"\n".join(out) + b"\n"


def _start_ticks(kernel, process) -> int:
    """start_time: clock ticks after boot when the process started."""
    return max(0, process.start_time_ns - kernel.boot_ns) // TICK_NS


def stat_text(kernel, process, thread=None) -> bytes:
    """/proc/<pid>/stat (do_task_stat), all 52 fields. With a thread, the
    /proc/<pid>/task/<tid>/stat view of it."""
    p = process
    t = thread if thread is not None else main_thread(p)
    tid = thread.tid if thread is not None else p.pid
    mm = p.mm
    m = MemoryCounts(mm, entry(p))
    ign, cgt = _sig_dispositions(p)
    blocked = t.sigmask if t is not None else 0
    low31 = 0x7FFFFFFF
    # exit_signal: SIGCHLD for a process, -1 for a thread that is not the leader.
    exit_signal = L.SIGCHLD if tid == p.pid else -1
    fields = [
        tid, p.ppid, p.pgid, p.sid,
        0, -1,                                   # tty_nr, tpgid: no controlling terminal
        0,                                       # flags: no PF_ flag applies
        0, 0, 0, 0,                              # minflt cminflt majflt cmajflt
        0, 0, 0, 0,                              # utime stime cutime cstime: not counted
        NORMAL_PRIO_BASE + p.nice, p.nice, max(len(p.threads), 1), 0,
        _start_ticks(kernel, p),
        m.total, m.rss // L.PAGE_SIZE,
        p.rlimits[L.RLIMIT_RSS][0],
        m.start_code, m.end_code, mm.start_stack,
        0, 0,                                    # kstkesp kstkeip: only while dumping core
        0, blocked & low31, ign & low31, cgt & low31,   # pending: none is kept
        0,                                       # wchan: none while running
        0, 0, exit_signal, 0, 0, 0, 0, 0, 0,     # nswap cnswap exit_signal cpu rt_prio
                                                 # policy blkio guest_time cguest_time
        m.start_data, m.end_data, mm.start_brk,
        *p.arg_area,
        0,                                       # exit_code (a zombie's: below)
    ]
    if p.exit_state is not None:
        fields[-1] = p.wait_status               # exit_code of a zombie
    head = b"%d (%s) %s " % (fields[0], comm(p, t), task_state(p, t)[0].encode())
    return head + b" ".join(b"%d" % f for f in fields[1:]) + b"\n"


def statm_text(process) -> bytes:
    """/proc/<pid>/statm: size resident shared text lib data dt, in pages."""
    m = MemoryCounts(process.mm, entry(process))
    p = L.PAGE_SIZE
    return b"%d %d %d %d 0 %d 0\n" % (m.total // p, m.rss // p, (m.rss_file + m.rss_shmem) // p,
                                      page_up(m.text) // p, (m.data + m.stack) // p)


def limits_text(process) -> bytes:
    """/proc/<pid>/limits (fs/proc/base.c proc_pid_limits)."""
    out = ["%-25s %-20s %-20s %-10s\n" % ("Limit", "Soft Limit", "Hard Limit", "Units")]
    for res, (name, unit) in enumerate(LIMIT_NAMES):
        soft, hard = process.rlimits[res]
        line = "%-25s %-20s " % (name, "unlimited" if soft == L.RLIM_INFINITY else soft)
        line += "%-20s " % ("unlimited" if hard == L.RLIM_INFINITY else hard)
        line += ("%-10s\n" % unit) if unit else "\n"
        out.append(line)
    return "".join(out).encode()


def _memory_strings(process, start: int, end: int, given: list) -> bytes:
    """cmdline/environ: from the process's memory where the loader put them (so a
    program that rewrites its argv is seen), else the list given to execve."""
    if 0 < start < end:
        try:
            return bytes(process.mm.read(start, end - start))
        except KernelError:
            pass
    return b"".join(os.fsencode(s) + b"\0" for s in given)


def cmdline_text(process) -> bytes:
    """/proc/<pid>/cmdline: argv, each NUL-terminated. As Linux's get_mm_cmdline: when
    the last byte of the area is no longer a NUL (setproctitle), the text up to the
    first NUL. A zombie has no memory: empty."""
    if process.exit_state is not None:
        return b""
    start, end = process.arg_area[:2]
    data = _memory_strings(process, start, end, process.argv)
    if data and data[-1] != 0:
        data = data.split(b"\0", 1)[0]
    return data


def environ_text(process) -> bytes:
    """/proc/<pid>/environ: the environment, each string NUL-terminated (a
    zombie's: empty)."""
    if process.exit_state is not None:
        return b""
    start, end = process.arg_area[2:]
    return _memory_strings(process, start, end, process.envp)


def auxv_text(process) -> bytes:
    """/proc/<pid>/auxv: the (type, value) u64 pairs given on the stack, AT_NULL last."""
    pairs = list(process.auxv)
    if not pairs or pairs[-1][0] != L.AT_NULL:
        pairs.append((L.AT_NULL, 0))
    return b"".join(L.AUXV_ENTRY.pack(k & (2**64 - 1), v & (2**64 - 1)) for k, v in pairs)


def set_comm(process, thread, data: bytes) -> int:
    """comm_write(): the first 15 bytes become the name, up to a NUL (no newline
    stripping)."""
    t = thread if thread is not None else main_thread(process)
    if t is not None:
        t.comm = bytes(data[:L.TASK_COMM_LEN - 1]).split(b"\0", 1)[0]
    return len(data)
