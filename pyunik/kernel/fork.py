"""New processes: fork(2), vfork(2), and clone(2)/clone3(2) without CLONE_THREAD
(Linux's kernel/fork.c, copy_process for a new thread group).

The child is a new Process with the caller's state copied or shared as the flags say
(kernel/process.py's table): its own address space on its own CPU engine, a copy of
the caller's (mm/address_space.py's AddressSpace.fork: private pages copied, MAP_SHARED
pages shared), unless CLONE_VM shares the caller's AddressSpace and engine; the fd
table copied with the open file descriptions shared (offsets move together), unless
CLONE_FILES; the fs context and signal dispositions copied, unless CLONE_FS or
CLONE_SIGHAND; credentials, limits, personality, the process group and session
copied; no pending signals, no timers. It has one thread, a copy of the calling one
at the syscall's return with rax 0 (the thread's tid is the new pid), its signal mask
and alternate stack kept; with a stack argument the child starts on that stack.

CLONE_VFORK parks the caller, killable only as Linux does (another signal waits for
the child), on the child's `vfork_done` until the child execs (kernel/exec.py wakes the
queue) or exits (kernel/exit.py). glibc's posix_spawn and vfork use
CLONE_VM|CLONE_VFORK: then parent and child are two processes on one engine, which
the scheduler switches between by saving and restoring their CPU contexts as it does
for threads (kernel/sched.py); the child runs on the caller's memory until it execs.

Layer: kernel. Called by kernel/syscalls/proc.py's fork, vfork, clone and clone3;
calls mm/ (AddressSpace.fork), cpu/ (a new Engine), the scheduler.
"""

from __future__ import annotations

from errno import EINVAL, ENOSYS

from ..abi import linux as L
from ..cpu.engine import Engine
from ..errors import KernelError
from ..wait import WouldBlock
from .process import Process, Thread
from .threads import check_nproc, child_context, put_tid

# Flags a new process may be made with. Namespaces are not offered (ENOSYS);
# CLONE_SYSVSEM (semaphore undo lists), CLONE_IO, CLONE_PTRACE, CLONE_UNTRACED and
# CLONE_DETACHED change nothing pyunik keeps.
_ALLOWED = (L.CSIGNAL | L.CLONE_VM | L.CLONE_FS | L.CLONE_FILES | L.CLONE_SIGHAND
            | L.CLONE_VFORK | L.CLONE_PARENT | L.CLONE_SETTLS | L.CLONE_PARENT_SETTID
            | L.CLONE_CHILD_CLEARTID | L.CLONE_CHILD_SETTID | L.CLONE_DETACHED
            | L.CLONE_UNTRACED | L.CLONE_IO | L.CLONE_PTRACE | L.CLONE_SYSVSEM
            | L.CLONE_PIDFD)

# Process-level state a child inherits as it is (copied by value).
_INHERITED = ("pgid", "sid", "exe", "auxv", "arg_area", "personality", "dumpable",
              "no_new_privs", "nice", "argv", "envp", "entry")


def clone_process(t, flags: int, exit_signal: int, stack: int, parent_tid: int,
                  child_tid: int, tls: int, pidfd_ptr: int = 0) -> int:
    """A new process made by t (flags already checked by threads.check_flags);
    returns its pid, after the child has exec'd or exited when CLONE_VFORK."""
    if flags & ~_ALLOWED:
        raise KernelError(ENOSYS)            # namespaces
    caller = t.process
    kernel = caller.kernel
    if flags & L.CLONE_PARENT and caller.parent is None and caller is kernel.first:
        raise KernelError(EINVAL)            # init may not make a sibling
    check_nproc(t)
    pidfd_file = None
    if flags & L.CLONE_PIDFD:
        from .pidfd import PidFile
        pidfd_file = PidFile(kernel)          # its process is set below
        pidfd = caller.fds.install(pidfd_file, cloexec=True)
    if flags & L.CLONE_VM:
        mm = caller.mm
    else:
        try:
            mm = caller.mm.fork(Engine())
        except KernelError:
            if pidfd_file is not None:
                caller.fds.close(pidfd)
            raise
    pid = kernel.next_pid
    kernel.next_pid += 1
    child = Process(pid, 0, mm,
                    caller.fds if flags & L.CLONE_FILES else caller.fds.copy(),
                    caller.exe,
                    caller.fs if flags & L.CLONE_FS else caller.fs.copy(),
                    caller.cred.copy(),
                    caller.sighand if flags & L.CLONE_SIGHAND else caller.sighand.copy())
    child.kernel = kernel
    child.start_time_ns = kernel.clock.monotonic_ns()
    for name in _INHERITED:
        setattr(child, name, getattr(caller, name))
    child.rlimits = [list(limit) for limit in caller.rlimits]
    if caller.brk_area is not None:    # a program of a shared address space (apps.py)
        if flags & L.CLONE_VM:
            child.brk_area = caller.brk_area
        else:
            mm.start_brk, mm.brk = caller.brk_area.start_brk, caller.brk_area.brk
    child.exit_signal = exit_signal
    parent = caller.parent if flags & L.CLONE_PARENT else caller
    child.parent = parent
    child.ppid = parent.pid if parent is not None else 1
    if parent is not None:
        parent.children.append(child)

    thread = Thread(pid, child, t.comm, ctx=child_context(caller.engine, flags, stack, tls))
    thread.sigmask = t.sigmask
    thread.trap = t.trap                   # the last fault's sigcontext values
    thread.timer_slack_ns = t.timer_slack_ns
    if flags & (L.CLONE_VM | L.CLONE_VFORK) != L.CLONE_VM:
        thread.altstack = t.altstack       # a CLONE_VM child without vfork gets none
    if flags & L.CLONE_CHILD_CLEARTID:
        thread.clear_child_tid = child_tid
    if flags & L.CLONE_CHILD_SETTID:
        put_tid(mm, child_tid, pid)       # in the child's memory (schedule_tail)
    if flags & L.CLONE_PARENT_SETTID:
        put_tid(caller.mm, parent_tid, pid)
    if pidfd_file is not None:
        pidfd_file.process = child
        put_tid(caller.mm, pidfd_ptr, pidfd)
    kernel.processes[pid] = child
    if child.rlimits[L.RLIMIT_CPU][0] != L.RLIM_INFINITY:
        from . import timers
        timers.of(child).cpu_limit_changed()   # its own CPU time, from 0
    mm.engine.on_syscall = kernel.syscall_callback()
    kernel.sched.add(thread)
    if flags & L.CLONE_VFORK:
        raise _vfork_wait(child, mm, pid)
    return pid


def _vfork_wait(child: Process, mm, pid: int) -> WouldBlock:
    """The caller's wait for a vfork child: until it has exec'd (it no longer uses
    the address space it was made with) or exited; the call then returns pid."""
    def released(_timed_out=False):
        if child.exit_state is not None or child.mm is not mm:
            return pid
        raise wait
    wait = WouldBlock((child.vfork_done,), retry=released, what=child.vfork_done.what,
                      uninterruptible=True)
    return wait
