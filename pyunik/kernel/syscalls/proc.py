"""Process and system information system calls.

Argument checking and copying; the state lives in kernel/process.py.

Layer: kernel, syscall handlers.
"""

from __future__ import annotations

from errno import EINVAL, EPERM, ESRCH

from ...abi import linux as L
from ...abi.capability import CAP_SETPCAP, CAP_SYS_RESOURCE
from ...errors import KernelError
from .. import clocks, threads
from ..process import ProcessExit



def sys_exit(t, status):
    """exit(2): end the calling thread; the last thread's exit ends the process."""
    for other in t.process.threads:
        if other is not t and other.state != "dead":
            t.process.kernel.sched.exit_thread(t, status & 0xFF)
            return None                 # the call never returns: t has gone
    raise ProcessExit(status & 0xFF)


def sys_clone(t, flags, stack, parent_tid, child_tid, tls):
    """clone(2): a thread of the caller's process with CLONE_THREAD
    (kernel/threads.py), else a new process (kernel/fork.py) whose exit signal is
    the flags' low byte; with CLONE_PIDFD, parent_tid receives the pidfd. (fork is
    imported by the calls that make processes, which most runs never make.)"""
    flags &= 0xFFFFFFFF
    threads.check_flags(flags)
    if flags & L.CLONE_PIDFD and flags & L.CLONE_PARENT_SETTID:
        raise KernelError(EINVAL)          # both would use parent_tid
    if flags & L.CLONE_THREAD:
        return threads.clone_thread(t, flags, stack, parent_tid, child_tid, tls)
    from .. import fork
    return fork.clone_process(t, flags & ~L.CSIGNAL, flags & L.CSIGNAL, stack, parent_tid,
                              child_tid, tls, parent_tid)


def sys_clone3(t, uargs, size):
    """clone3(2): struct clone_args checked as Linux does, then as clone."""
    flags, exit_signal, stack, tls, parent_tid, child_tid, pidfd = \
        threads.read_clone_args(t, uargs, size)
    threads.check_flags(flags)
    if flags & L.CLONE_THREAD:
        return threads.clone_thread(t, flags, stack, parent_tid, child_tid, tls)
    from .. import fork
    return fork.clone_process(t, flags, exit_signal, stack, parent_tid, child_tid, tls, pidfd)


def sys_fork(t):
    """fork(2): clone(SIGCHLD) — a copy of the caller."""
    from .. import fork
    return fork.clone_process(t, 0, L.SIGCHLD, 0, 0, 0, 0)


def sys_vfork(t):
    """vfork(2): clone(CLONE_VM|CLONE_VFORK|SIGCHLD) — the child runs on the caller's
    memory while the caller waits for it to exec or exit."""
    from .. import fork
    return fork.clone_process(t, L.CLONE_VM | L.CLONE_VFORK, L.SIGCHLD, 0, 0, 0, 0)


def sys_exit_group(t, status):
    """exit_group(2): end every thread of the process."""
    raise ProcessExit(status & 0xFF)


def sys_getpid(t):
    """getpid(2)."""
    return t.process.pid


def sys_getppid(t):
    """getppid(2)."""
    return t.process.ppid


def sys_gettid(t):
    """gettid(2)."""
    return t.tid


def sys_getuid(t):
    """getuid(2)."""
    return t.process.cred.uid


def sys_geteuid(t):
    """geteuid(2)."""
    return t.process.cred.euid


def sys_getgid(t):
    """getgid(2)."""
    return t.process.cred.gid


def sys_getegid(t):
    """getegid(2)."""
    return t.process.cred.egid


def sys_getgroups(t, size, list_ptr):
    """getgroups(2): size 0 asks for the count; a smaller buffer is EINVAL."""
    groups = t.process.cred.groups
    if size == 0:
        return len(groups)
    if size < len(groups) or size < 0:
        raise KernelError(EINVAL)
    t.mm.write(list_ptr, b"".join(g.to_bytes(4, "little") for g in groups))
    return len(groups)


def sys_getpgrp(t):
    """getpgrp(2)."""
    return t.process.pgid


def sys_uname(t, buf):
    """uname(2): struct new_utsname, six 65-byte NUL-padded fields."""
    k = t.process.kernel
    t.mm.write_struct(L.UTSNAME, buf, b"Linux", k.hostname, k.uname_release, k.uname_version,
                      b"x86_64", b"(none)")
    return 0


def sys_arch_prctl(t, code, addr):
    """arch_prctl(2): the FS and GS bases (TLS); CPUID faulting is not offered."""
    engine = t.process.engine
    if code == L.ARCH_SET_FS or code == L.ARCH_SET_GS:
        if addr >= L.TASK_SIZE:
            raise KernelError(EPERM)
        engine.set_reg("fs_base" if code == L.ARCH_SET_FS else "gs_base", addr)
        return 0
    if code == L.ARCH_GET_FS or code == L.ARCH_GET_GS:
        t.mm.write_u64(addr, engine.reg("fs_base" if code == L.ARCH_GET_FS else "gs_base"))
        return 0
    if code == L.ARCH_GET_CPUID:
        return 1          # cpuid is enabled (not faulting)
    if code == L.ARCH_SET_CPUID:
        if addr:
            return 0
        raise KernelError(EINVAL)   # Linux: ENODEV without CPUID-faulting hardware
    raise KernelError(EINVAL)


def sys_set_tid_address(t, tidptr):
    """set_tid_address(2): remember where to clear the tid at thread exit."""
    t.clear_child_tid = tidptr
    return t.tid


def sys_set_robust_list(t, head, length):
    """set_robust_list(2): remember the robust futex list head (24-byte header)."""
    if length != 24:
        raise KernelError(EINVAL)
    t.robust_list = (head, length)
    return 0


def _task(t, tid):
    """The thread a pid argument names: 0 is the caller, else a thread of its
    process (the only process there is); ESRCH for any other."""
    if tid == 0:
        return t
    for other in t.process.threads:
        if other.tid == tid:
            return other
    raise KernelError(ESRCH)


def sys_get_robust_list(t, pid, head_ptr, len_ptr):
    """get_robust_list(2): the caller's or another thread's of its process."""
    task = _task(t, pid)
    t.mm.write_u64(head_ptr, task.robust_list[0])
    t.mm.write_u64(len_ptr, 24)
    return 0


# ---- resource limits ----------------------------------------------------------------------

def _check_resource(resource):
    if not 0 <= resource < L.RLIM_NLIMITS:
        raise KernelError(EINVAL)


def _set_limit(t, resource, soft, hard):
    if soft > hard:
        raise KernelError(EINVAL)
    current = t.process.rlimits[resource]
    if hard > current[1] and not t.process.cred.capable(CAP_SYS_RESOURCE):
        raise KernelError(EPERM)
    if resource == L.RLIMIT_NOFILE and hard > 1 << 20:
        raise KernelError(EPERM)    # fs.nr_open
    t.process.rlimits[resource] = [soft, hard]
    if resource == L.RLIMIT_NOFILE:
        t.process.fds.set_limit(soft)
    elif resource == L.RLIMIT_CPU:
        from .. import timers
        timers.of(t.process).cpu_limit_changed()


def sys_prlimit64(t, pid, resource, new_ptr, old_ptr):
    """prlimit64(2): get and/or set a limit of the calling process (pid 0 or its own)."""
    if pid not in (0, t.process.pid):
        raise KernelError(ESRCH)
    _check_resource(resource)
    new = t.mm.read_struct(L.RLIMIT, new_ptr) if new_ptr else None
    if old_ptr:
        t.mm.write_struct(L.RLIMIT, old_ptr, *t.process.rlimits[resource])
    if new is not None:
        _set_limit(t, resource, *new)
    return 0


def sys_getrlimit(t, resource, rlim):
    """getrlimit(2)."""
    _check_resource(resource)
    t.mm.write_struct(L.RLIMIT, rlim, *t.process.rlimits[resource])
    return 0


def sys_setrlimit(t, resource, rlim):
    """setrlimit(2)."""
    _check_resource(resource)
    _set_limit(t, resource, *t.mm.read_struct(L.RLIMIT, rlim))
    return 0


def sys_getrusage(t, who, usage):
    """getrusage(2): the guest CPU time of the process or thread (all of it user
    time: kernel/clocks.py); RUSAGE_CHILDREN that of the children waited for (and
    their waited-for descendants), with the largest one's size."""
    if who not in (L.RUSAGE_SELF, L.RUSAGE_CHILDREN, L.RUSAGE_THREAD):
        raise KernelError(EINVAL)
    fields = [0] * 18
    if who == L.RUSAGE_CHILDREN:
        ns = t.process.children_cpu_ns
        fields[0], fields[1] = ns // 1000000000, ns % 1000000000 // 1000
        fields[4] = t.process.children_maxrss
    else:
        ns = clocks.thread_cpu_ns(t) if who == L.RUSAGE_THREAD else \
            clocks.process_cpu_ns(t.process)
        fields[0], fields[1] = ns // 1000000000, ns % 1000000000 // 1000
        fields[4] = t.mm.mapped // 1024     # ru_maxrss in KiB, bounded by the mapping
    t.mm.write_struct(L.RUSAGE, usage, *fields)
    return 0


# ---- the machine -----------------------------------------------------------------------------

def sys_sysinfo(t, info):
    """sysinfo(2): RAM is the guest memory limit (-m); uptime is the kernel's."""
    k = t.process.kernel
    mm = t.mm
    uptime = -(-(k.clock.monotonic_ns() - k.boot_ns) // 1000000000)   # Linux rounds up
    t.mm.write_struct(L.SYSINFO, info, uptime, 0, 0, 0, mm.limit, mm.limit - mm.budget.used,
                      0, 0, 0, 0, len(k.processes), 0, 0, 1)
    return 0


def sys_personality(t, persona):
    """personality(2): 0xffffffff queries; only PER_LINUX domains are accepted."""
    old = t.process.personality
    if persona != 0xFFFFFFFF:
        if persona & 0xFF:
            raise KernelError(EINVAL)   # another execution domain
        t.process.personality = persona
    return old


def sys_umask(t, mask):
    """umask(2)."""
    fs = t.process.fs
    old = fs.umask
    fs.umask = mask & 0o777
    return old


def sys_sched_getaffinity(t, pid, size, mask):
    """sched_getaffinity(2): the one CPU the scheduler runs every guest thread on;
    returns the size of the kernel's cpumask (8)."""
    _task(t, pid)
    if size * 8 < t.process.kernel.ncpus or size & 7:
        raise KernelError(EINVAL)
    t.mm.write(mask, (1).to_bytes(8, "little"))
    return 8


def sys_sched_setaffinity(t, pid, size, mask):
    """sched_setaffinity(2): the mask is read as Linux reads it (bytes past its
    cpumask ignored, missing ones zero) and must allow the one CPU (else EINVAL);
    every thread keeps running on it."""
    _task(t, pid)
    raw = t.mm.read(mask, min(size, 8)) if size else b""
    if not int.from_bytes(raw, "little") & 1:
        raise KernelError(EINVAL)
    return 0


def sys_sched_yield(t):
    """sched_yield(2): the next runnable thread runs; alone, return at once."""
    t.process.kernel.sched.yield_cpu(t)
    return 0


def sys_getrandom(t, buf, count, flags):
    """getrandom(2): host randomness; GRND_RANDOM and GRND_INSECURE may not combine."""
    if flags & ~(L.GRND_NONBLOCK | L.GRND_RANDOM | L.GRND_INSECURE):
        raise KernelError(EINVAL)
    if flags & L.GRND_RANDOM and flags & L.GRND_INSECURE:
        raise KernelError(EINVAL)
    count = min(count, L.GETRANDOM_MAX)
    if count == 0:
        return 0
    t.mm.check_writable(buf, count)
    t.mm.write(buf, t.process.kernel.random_bytes(count))
    return count


def sys_prctl(t, option, arg2, arg3, arg4, arg5):
    """prctl(2): names, dumpable, parent-death signal, no_new_privs, subreaper, timer
    slack, seccomp mode and the capability bounding set; other options are EINVAL."""
    p = t.process
    if option == L.PR_SET_NAME:
        t.comm = t.mm.read(arg2, L.TASK_COMM_LEN).split(b"\0", 1)[0][:L.TASK_COMM_LEN - 1]
        return 0
    if option == L.PR_GET_NAME:
        t.mm.write(arg2, t.comm + b"\0")
        return 0
    if option == L.PR_GET_DUMPABLE:
        return p.dumpable
    if option == L.PR_SET_DUMPABLE:
        if arg2 not in (0, 1):
            raise KernelError(EINVAL)
        p.dumpable = arg2
        return 0
    if option == L.PR_SET_PDEATHSIG:
        if not 0 <= arg2 <= L.NSIG:
            raise KernelError(EINVAL)
        p.pdeath_signal = arg2
        return 0
    if option == L.PR_GET_PDEATHSIG:
        t.mm.write_i32(arg2, p.pdeath_signal)
        return 0
    if option == L.PR_SET_NO_NEW_PRIVS:
        if arg2 != 1 or arg3 or arg4 or arg5:
            raise KernelError(EINVAL)
        p.no_new_privs = 1
        return 0
    if option == L.PR_GET_NO_NEW_PRIVS:
        if arg2 or arg3 or arg4 or arg5:
            raise KernelError(EINVAL)
        return p.no_new_privs
    if option == L.PR_SET_CHILD_SUBREAPER:
        p.child_subreaper = 1 if arg2 else 0
        return 0
    if option == L.PR_GET_CHILD_SUBREAPER:
        t.mm.write_i32(arg2, p.child_subreaper)
        return 0
    if option == L.PR_SET_TIMERSLACK:
        t.timer_slack_ns = arg2 if arg2 else 50000
        return 0
    if option == L.PR_GET_TIMERSLACK:
        return t.timer_slack_ns
    if option == L.PR_GET_SECCOMP:
        return 0
    if option == L.PR_CAPBSET_READ:
        if arg2 > L.CAP_LAST_CAP:
            raise KernelError(EINVAL)
        return p.cred.cap_bset >> arg2 & 1
    if option == L.PR_CAPBSET_DROP:
        if arg2 > L.CAP_LAST_CAP:
            raise KernelError(EINVAL)
        if not p.cred.capable(CAP_SETPCAP):
            raise KernelError(EPERM)
        p.cred.cap_bset &= ~(1 << arg2)
        return 0
    if option == L.PR_GET_KEEPCAPS:
        return int(p.cred.keep_caps)
    if option == L.PR_SET_KEEPCAPS:
        if arg2 > 1:
            raise KernelError(EINVAL)
        p.cred.keep_caps = bool(arg2)
        return 0
    raise KernelError(EINVAL)
