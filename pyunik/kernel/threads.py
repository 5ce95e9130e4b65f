"""Threads: clone(2)/clone3(2) making a thread of the caller's process, and a
thread's exit (kernel/fork.c's copy_process checks, kernel/exit.c's exit_mm steps).

A new thread shares everything of its process (memory and engine, fds, fs, signal
handlers: a Thread holds only what Linux keeps per task) and starts as a copy of
the caller's registers at the syscall's return, with rax 0, its own stack (the
stack argument) and, with CLONE_SETTLS, its own thread pointer (fs base). It waits
on the scheduler's run queue (kernel/sched.py). A clone without CLONE_THREAD makes
a new process instead (kernel/fork.py).

At a thread's exit its robust futex list is walked (FUTEX_OWNER_DIED on each lock it
held, one waiter woken), then CLONE_CHILD_CLEARTID's word is cleared and one
waiter on it woken (pthread_join's wait), as mm_release does.

Layer: kernel. Called by kernel/syscalls/proc.py's clone handlers and the
scheduler's run loop; calls cpu/ through the engine, kernel/futex.py.
"""

from __future__ import annotations

from errno import E2BIG, EAGAIN, EINVAL, ENOSYS

from ..abi import linux as L
from ..abi import syscall_numbers as N
from ..abi.capability import CAP_SYS_ADMIN, CAP_SYS_RESOURCE
from ..abi.futex import (FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS, ROBUST_LIST_LIMIT)
from ..errors import KernelError
from . import futex
from .process import Thread
from .sched import DEAD

_THREAD_NEEDS = L.CLONE_VM | L.CLONE_FS | L.CLONE_FILES | L.CLONE_SIGHAND | L.CLONE_THREAD
_ALLOWED = (_THREAD_NEEDS | L.CLONE_SYSVSEM | L.CLONE_SETTLS | L.CLONE_PARENT_SETTID
            | L.CLONE_CHILD_CLEARTID | L.CLONE_CHILD_SETTID | L.CLONE_DETACHED
            | L.CLONE_UNTRACED | L.CLONE_IO | L.CLONE_PTRACE)
_NOT_A_THREAD = ~(_ALLOWED | L.CSIGNAL)
_CLONE_SETTLS, _CLONE_CHILD_CLEARTID = L.CLONE_SETTLS, L.CLONE_CHILD_CLEARTID
_CLONE_PARENT_SETTID, _CLONE_CHILD_SETTID = L.CLONE_PARENT_SETTID, L.CLONE_CHILD_SETTID
NR_CLONE = N.NUMBERS["clone"]
NR_EXIT = N.NUMBERS["exit"]
_ZERO_TID = bytes(4)                  # what CLONE_CHILD_CLEARTID stores


def check_flags(flags: int) -> None:
    """copy_process's EINVAL checks, in its order."""
    if flags & (L.CLONE_NEWNS | L.CLONE_FS) == L.CLONE_NEWNS | L.CLONE_FS:
        raise KernelError(EINVAL)
    if flags & (L.CLONE_NEWUSER | L.CLONE_FS) == L.CLONE_NEWUSER | L.CLONE_FS:
        raise KernelError(EINVAL)
    if flags & L.CLONE_THREAD and not flags & L.CLONE_SIGHAND:
        raise KernelError(EINVAL)
    if flags & L.CLONE_SIGHAND and not flags & L.CLONE_VM:
        raise KernelError(EINVAL)
    if flags & L.CLONE_THREAD and flags & (L.CLONE_NEWUSER | L.CLONE_NEWPID):
        raise KernelError(EINVAL)
    if flags & L.CLONE_PIDFD and flags & (L.CLONE_DETACHED | L.CLONE_THREAD):
        raise KernelError(EINVAL)


def check_nproc(t) -> None:
    """copy_process's RLIMIT_NPROC check: EAGAIN when the caller's real user has as
    many tasks as the limit allows already (every thread of its live processes, and
    each zombie until it is reaped), unless the real user is root or the caller has
    CAP_SYS_RESOURCE or CAP_SYS_ADMIN."""
    process = t.process
    cred = process.cred
    if cred.uid == 0:
        return
    limit = process.rlimits[L.RLIMIT_NPROC][0]
    if limit == L.RLIM_INFINITY or cred.capable(CAP_SYS_RESOURCE) or \
            cred.capable(CAP_SYS_ADMIN):
        return
    tasks = 0
    for p in process.kernel.processes.values():
        if p.cred.uid == cred.uid:
            tasks += 1 if p.exit_state is not None else \
                sum(1 for th in p.threads if th.state != "dead")
    if tasks >= limit:
        raise KernelError(EAGAIN)


def clone_thread(t, flags: int, stack: int, parent_tid: int, child_tid: int,
                 tls: int, at: tuple[int, int] | None = None) -> int:
    """A new thread of t's process (flags already checked); returns its tid.
    CLONE_PARENT_SETTID's and CLONE_CHILD_SETTID's stores of the tid are made as
    Linux makes them (kernel_clone's put_user, schedule_tail's): a fault there is
    ignored, the thread is made all the same. Its registers are the engine's
    own copy of the caller's (ContextSwitcher.new_thread; at: the syscall's rip
    and rflags, when the caller has them)."""
    if flags & _THREAD_NEEDS != _THREAD_NEEDS or flags & _NOT_A_THREAD:
        raise KernelError(ENOSYS)          # a new process, or a thread unsharing state
    return _new_thread(t, flags, stack, parent_tid, child_tid, tls, at)


def _new_thread(t, flags: int, stack: int, parent_tid: int, child_tid: int, tls: int,
                at: tuple[int, int] | None) -> int:
    """clone_thread's work once its flags are known to make a thread."""
    check_nproc(t)
    process = t.process
    kernel = process.kernel
    tid = kernel.next_pid
    kernel.next_pid = tid + 1
    mm = process.mm
    child = Thread(tid, process, t.comm, mm.engine.contexts.new_thread(
        stack, tls if flags & _CLONE_SETTLS else None, at))
    child.sigmask = t.sigmask
    child.trap = t.trap                  # (dup_task_struct copies thread.trap_nr, ...)
    if flags & _CLONE_PARENT_SETTID:
        put_tid(mm, parent_tid, tid)
    if flags & _CLONE_CHILD_SETTID:
        put_tid(mm, child_tid, tid)
    if flags & _CLONE_CHILD_CLEARTID:
        child.clear_child_tid = child_tid
    kernel.sched.add(child)
    return tid


def put_tid(mm, addr: int, tid: int) -> None:
    """A put_user of a tid (or pidfd) whose failure Linux ignores: the clone has
    happened (kernel_clone, schedule_tail). kernel/fork.py's clones use it too."""
    try:
        mm.write_int(addr, L.UINT, tid)
    except KernelError:
        pass


def clone_invoker(invoke):
    """clone(2)'s invoker in the kernel's fast dispatcher (Kernel._first_call): a
    new thread's flags, for which every check of copy_process passes (check_flags,
    sys_clone's), go straight to clone_thread; anything else (a new process, a bad
    combination, a thread unsharing state) is invoke's (sys_clone)."""
    def invoke_clone(t, regs):
        flags = regs[1] & 0xFFFFFFFF
        if flags & _THREAD_NEEDS != _THREAD_NEEDS or flags & _NOT_A_THREAD:
            return invoke(t, regs)
        return _new_thread(t, flags, regs[2], regs[3], regs[4], regs[5], (regs[7], regs[8]))
    return invoke_clone


def child_context(engine, flags: int, stack: int, tls: int):
    """The caller's registers inside its syscall (rip on the syscall instruction), as
    a new process returns from it (kernel/fork.py; clone_thread makes a thread's on
    the same engine as Unicorn's copy): rax 0, rcx and r11 as `syscall` leaves
    them, the stack argument's rsp and CLONE_SETTLS's thread pointer if given."""
    return engine.contexts.save_returning(stack, tls if flags & _CLONE_SETTLS else None)


def read_clone_args(t, uargs: int, size: int) -> tuple:
    """clone3's struct clone_args, checked as copy_clone_args_from_user and
    clone3_args_valid check it; returns (flags, exit_signal, stack top, tls,
    parent_tid, child_tid, pidfd)."""
    if size > L.PAGE_SIZE:
        raise KernelError(E2BIG)
    if size < L.CLONE_ARGS_SIZE_VER0:
        raise KernelError(EINVAL)
    raw = t.mm.read(uargs, size)
    if size > L.CLONE_ARGS_SIZE_VER2 and any(raw[L.CLONE_ARGS_SIZE_VER2:]):
        raise KernelError(E2BIG)
    raw = raw[:L.CLONE_ARGS_SIZE_VER2].ljust(L.CLONE_ARGS_SIZE_VER2, b"\0")
    (flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
     set_tid_size, cgroup) = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, 88, 8)]
    if set_tid_size > L.MAX_PID_NS_LEVEL or (not set_tid and set_tid_size) or \
            (set_tid and not set_tid_size):
        raise KernelError(EINVAL)
    if exit_signal & ~L.CSIGNAL or exit_signal > L.NSIG:
        raise KernelError(EINVAL)
    if flags & ~(L.CLONE_LEGACY_FLAGS | L.CLONE_CLEAR_SIGHAND | L.CLONE_INTO_CGROUP):
        raise KernelError(EINVAL)
    if flags & (L.CLONE_DETACHED | (L.CSIGNAL & ~L.CLONE_NEWTIME)):
        raise KernelError(EINVAL)
    if flags & (L.CLONE_SIGHAND | L.CLONE_CLEAR_SIGHAND) == \
            L.CLONE_SIGHAND | L.CLONE_CLEAR_SIGHAND:
        raise KernelError(EINVAL)
    if flags & (L.CLONE_THREAD | L.CLONE_PARENT) and exit_signal:
        raise KernelError(EINVAL)
    if (stack == 0) != (stack_size == 0):
        raise KernelError(EINVAL)
    if set_tid or flags & (L.CLONE_INTO_CGROUP | L.CLONE_CLEAR_SIGHAND | L.CLONE_NEWTIME):
        raise KernelError(ENOSYS)
    return flags, exit_signal, stack + stack_size, tls, parent_tid, child_tid, pidfd


# ---- exit -----------------------------------------------------------------------------

def exit_thread(t, status: int) -> None:
    """The end of one thread of a process that has others (exit(2))."""
    release_futexes(t)
    t.state = DEAD
    t.exit_status = status
    threads = t.process.threads
    if t in threads:
        threads.remove(t)


def release_futexes(t) -> None:
    """mm_release's futex steps: the robust list, the PI locks still held
    (kernel/futex_pi.py), then clear_child_tid."""
    process = t.process
    kernel = process.kernel
    table = kernel.futexes
    if t.robust_list[0]:
        try:
            _exit_robust_list(t, table)
        except KernelError:
            pass                      # a bad list is abandoned, as Linux does
    if kernel.pi_futexes.states:
        kernel.pi_futexes.exit_thread(t)
    addr = t.clear_child_tid
    if addr:
        mm = process.mm
        try:
            mm.write(addr, _ZERO_TID)
            if table.queues:            # (with no waiter anywhere, no key to compute)
                table.wake(table.key(mm, addr, False), 1)
        except KernelError:
            pass


def exit_invoker(sched, invoke):
    """exit(2)'s invoker in the kernel's fast dispatcher (Kernel._first_call): a
    thread whose process has another thread live ends through the scheduler
    (Scheduler.exit_thread: release_futexes, then the engine handed over in the
    syscall hook); the call never returns. The last thread's exit, which ends its
    process, is invoke's (sys_exit)."""
    exit_thread = sched.exit_thread

    def invoke_exit(t, regs):
        for other in t.process.threads:
            if other is not t and other.state != DEAD:
                exit_thread(t, regs[1] & 0xFF)
                return None             # t has gone
        return invoke(t, regs)
    return invoke_exit


def _exit_robust_list(t, table) -> None:
    head, _ = t.robust_list
    if not head:
        return
    mm = t.mm
    entry = mm.read_u64(head)
    offset = int.from_bytes(mm.read(head + 8, 8), "little", signed=True)
    pending = mm.read_u64(head + 16)
    for _ in range(ROBUST_LIST_LIMIT):
        if entry == head:
            break
        following = mm.read_u64(entry & ~1)
        if entry != pending:
            _futex_death(t, table, (entry & ~1) + offset, entry & 1)
        entry = following
    if pending:
        _futex_death(t, table, (pending & ~1) + offset, pending & 1)


def _futex_death(t, table, addr: int, pi: int) -> None:
    """handle_futex_death: a lock the dying thread holds is marked FUTEX_OWNER_DIED
    (its waiters bit kept) and one waiter woken."""
    if addr & 3:
        return
    word = futex.load(t.mm, addr)
    if word & FUTEX_TID_MASK != t.tid:
        return
    futex.store(t.mm, addr, (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED)
    if word & FUTEX_WAITERS and not pi:
        table.wake(table.key(t.mm, addr, False), 1)
