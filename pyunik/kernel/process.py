"""Processes and threads, and the pieces of their state that clone(2) shares or copies.

Linux splits a task's state by what clone's flags share, and so does pyunik:

    FsContext     cwd, root, umask          fs_struct       shared by CLONE_FS
    FdTable       the open files            files_struct    shared by CLONE_FILES
    SigHand       signal dispositions       sighand_struct  shared by CLONE_SIGHAND
    AddressSpace  memory, its CPU engine    mm_struct       shared by CLONE_VM
    Credentials   user and group ids        cred            copied for every new task

Each is an object with a `copy()` for a clone without its flag; with the flag the new
task is given the same object. A `Process` (a thread group) holds one of each and what
Linux keeps in signal_struct (pid, process group, session, resource limits); a
`Thread` holds what Linux keeps per task (tid, signal mask, alternate signal stack,
clear_child_tid, robust-list head) and reaches memory as `t.mm`, which follows the
process's address space (execve replaces it). Handlers receive the calling Thread as
`t` and reach the rest as `t.process.fs`, `.fds`, `.sighand`, `.cred`.

The FdTable lives in kernel/fdtable.py, Credentials in kernel/credentials.py, the
AddressSpace in mm/. Layer: kernel. Calls mm/ and fs/ only through the objects held.
"""

from __future__ import annotations

import os
import resource

from ..abi import linux as L
from ..fs.vfs import WalkContext
from .credentials import Credentials
from ..wait import WaitQueue
from .signals import SigPending


class ProcessExit(Exception):
    """Raised by exit/exit_group (and fatal signals) to leave the CPU loop: the
    process of the thread the kernel was running ends, or `process` when given."""

    def __init__(self, status: int, signal: int = 0, core: bool = False, process=None):
        self.status = status      # exit code (0..255) when signal == 0
        self.signal = signal      # the killing signal, or 0
        self.core = core
        self.process = process

    @property
    def wait_status(self) -> int:
        """The status wait(2) reports: the code << 8, or the signal. pyunik writes
        no core files, so the core-dump bit (0x80) is never set, as on a Linux whose
        RLIMIT_CORE is 0."""
        if self.signal:
            return self.signal
        return (self.status & 0xFF) << 8


ZOMBIE, REAPED = "zombie", "reaped"


class FsContext:
    """Where paths start and what new files lose (Linux's fs_struct): the working
    directory and root (vfs.Paths; chdir and chroot change them) and the umask.
    Shared by CLONE_FS; unshare(CLONE_FS) or a clone without it copies."""

    __slots__ = ("cwd", "root", "umask")

    def __init__(self, cwd, root, umask: int = 0o022):
        self.cwd = cwd
        self.root = root
        self.umask = umask

    def copy(self) -> "FsContext":
        return FsContext(self.cwd, self.root, self.umask)


class SigAction:
    __slots__ = ("handler", "flags", "restorer", "mask")

    def __init__(self, handler=L.SIG_DFL, flags=0, restorer=0, mask=0):
        self.handler = handler
        self.flags = flags
        self.restorer = restorer
        self.mask = mask

    def copy(self) -> "SigAction":
        return SigAction(self.handler, self.flags, self.restorer, self.mask)


class SigHand:
    """The signal dispositions (Linux's sighand_struct): actions[sig] for 1..NSIG.
    Shared by CLONE_SIGHAND (which CLONE_THREAD requires); a fork copies them."""

    __slots__ = ("actions",)

    def __init__(self, actions: list[SigAction] | None = None):
        self.actions = actions if actions is not None else \
            [SigAction() for _ in range(L.NSIG + 1)]

    def copy(self) -> "SigHand":
        return SigHand([a.copy() for a in self.actions])

    def for_exec(self) -> "SigHand":
        """What execve leaves (flush_signal_handlers): a caught signal goes back to
        SIG_DFL, an ignored one stays ignored, flags and masks are cleared. A new
        object, so a table shared with another process is left alone (de_thread's
        unshare_sighand)."""
        return SigHand([SigAction(L.SIG_IGN if a.handler == L.SIG_IGN else L.SIG_DFL)
                        for a in self.actions])


def _host_rlimits() -> list[list[int]]:
    """The limits pyunik itself runs with: a child inherits its parent's limits."""
    out = []
    for res in range(L.RLIM_NLIMITS):
        try:
            soft, hard = resource.getrlimit(res)
        except (ValueError, OSError):
            soft = hard = resource.RLIM_INFINITY
        out.append([L.RLIM_INFINITY if soft == resource.RLIM_INFINITY else soft,
                    L.RLIM_INFINITY if hard == resource.RLIM_INFINITY else hard])
    return out


def live_thread(kernel, tid: int):
    """find_task_by_vpid: the live thread with this TID, of any process, or None."""
    for process in kernel.processes.values():
        for th in process.threads:
            if th.tid == tid and th.state != "dead":
                return th
    return None


class Process:
    """A thread group: its pid and place among processes, what it shares (fs, fds,
    sighand, mm, cred: see the module docstring) and what Linux keeps in its
    signal_struct and mm (limits, personality, argv/envp, the auxiliary vector)."""

    def __init__(self, pid: int, ppid: int, mm, fds, exe: str, fs: FsContext | None = None,
                 cred: Credentials | None = None, sighand: SigHand | None = None):
        self.pid = pid
        self.ppid = ppid
        self.pgid = pid         # a job of its own, as a shell starts it ...
        self.sid = ppid         # ... in its parent's session
        self.mm = mm            # AddressSpace (its engine is the process's CPU)
        self.fds = fds          # FdTable
        self.fs = fs if fs is not None else FsContext(None, None)
        # Credentials are inherited from pyunik's own process, as a child's are.
        self.cred = cred if cred is not None else Credentials.of_host()
        self.sighand = sighand if sighand is not None else SigHand()
        self.exe = exe                  # guest path of the executable (/proc/self/exe)
        self.exe_inode = None           # its inode, kept from being written (ETXTBSY)
        self.auxv: list[tuple[int, int]] = []
        # (arg_start, arg_end, env_start, env_end): where the loader put argv's and
        # envp's strings, for /proc/<pid>/{cmdline,environ,stat}. Linux keeps them
        # in mm_struct; here they are the process's, since programs started side by
        # side (kernel/apps.py) share one address space.
        self.arg_area = (0, 0, 0, 0)
        self.start_time_ns = 0     # on the kernel's monotonic clock, set when it starts
        self.personality = L.PER_LINUX
        self.dumpable = 1
        self.pdeath_signal = 0
        self.no_new_privs = 0
        self.child_subreaper = 0
        try:
            self.nice = os.getpriority(os.PRIO_PROCESS, 0)   # inherited, like the limits
        except OSError:
            self.nice = 0
        self.rlimits = _host_rlimits()
        self.threads: list[Thread] = []
        # Process-directed pending signals (signal_struct's shared_pending) and the
        # thread a process-directed signal was last given to (curr_target).
        self.shared_pending = SigPending()
        self.signal_target = 0
        self.signalfd_waiters = WaitQueue("a signalfd")   # woken by every signal sent
        self.exited_cpu_ns = 0          # CPU time of its threads that have exited
        self.timers = None              # kernel/timers.py's ProcessTimers, on first use
        self.argv: list[bytes] = []
        self.envp: list[bytes] = []
        self.entry = 0
        # Its place among processes (kernel/fork.py, kernel/exit.py). `parent` is None
        # for pyunik's imaginary init (pid 1), which reaps orphans at once.
        self.parent: Process | None = None
        self.children: list[Process] = []
        self.exit_signal = L.SIGCHLD     # what the parent is sent at exit (clone's CSIGNAL)
        self.exit_state = None           # None alive, ZOMBIE until reaped, then REAPED
        self.wait_status = 0             # the zombie's status, as wait(2) reports it
        self.cpu_ns = 0                  # the zombie's CPU time, all threads
        self.children_cpu_ns = 0         # reaped children's (and theirs): RUSAGE_CHILDREN
        self.maxrss = 0                  # its peak mapped size at exit, in KiB
        self.children_maxrss = 0         # the largest reaped child's, in KiB
        # Job control (kernel/jobs.py): stopped by a stop signal, and the stop or
        # continue not yet reported to wait.
        self.stopped = False
        self.stop_report = 0             # the stopping signal, until a wait takes it
        self.continue_report = False
        self.continue_notify = False     # the parent is told of the continue when it runs
        self.did_exec = False            # setpgid on a child that has exec'd: EACCES
        self.child_wait = WaitQueue("a child to change state")   # wait4, waitid
        self.exit_waiters = WaitQueue("a process to exit")         # pidfd poll
        self.vfork_done = WaitQueue("a vfork child to exec or exit")
        self.brk_area = None    # its own break in a shared address space (kernel/apps.py)

    @property
    def engine(self):
        """The CPU this process runs on: its address space's."""
        return self.mm.engine

    def walk_context(self) -> WalkContext:
        """Whom this process's path walks are for: its root and its credentials."""
        return WalkContext(self.fs.root, self.cred.walk_creds)


class Thread:
    """A task: what Linux keeps per thread, and the scheduler's record of it."""

    def __init__(self, tid: int, process: Process, comm: bytes | None = None, ctx=None):
        self.tid = tid
        self.process = process
        # The scheduler's (kernel/sched.py): state, the parked call (a Blocked) and
        # the saved CPU context while another thread has the engine.
        self.state = "runnable"
        self.blocked = None
        self.futex_parked = None    # its untimed FUTEX_WAIT's, reused (kernel/futex.py)
        self.ctx = ctx
        self.cpu_ns = 0        # host CPU time spent running it (kernel/sched.py)
        self.exit_status = 0
        self.sigmask = 0
        self.pending = SigPending()            # thread-directed pending signals
        self.saved_sigmask = None              # sigsuspend's mask to restore after it
        self.restart = None                    # an interrupted call's entry registers
        # what restart_syscall(2) resumes: [the interrupted call's name, a function
        # of no arguments that goes on with its wait], set when a call that answers
        # ERESTART_RESTARTBLOCK is interrupted (pyunik/wait.py restartable), the
        # name when the call restarts (kernel/delivery.py)
        self.restart_block = None
        self.trap = None                       # the last fault (trapno, error, cr2); kept
        self.revealed = None                   # the page mm.reveal last showed
                                               # when the call has returned
        # (ss_sp, ss_flags, ss_size), the flags as sigaltstack was given them (a
        # frame's uc_stack holds them so); a new thread's as sas_ss_reset leaves it
        self.altstack = (0, L.SS_DISABLE, 0)
        self.clear_child_tid = 0
        self.timer_slack_ns = 50000
        self.robust_list = (0, 0)              # (head, len)
        # The name (prctl PR_SET_NAME, /proc/<pid>/comm): execve's binary name, or
        # the creating thread's.
        self.comm = comm if comm is not None else \
            os.path.basename(os.fsencode(process.exe))[:L.TASK_COMM_LEN - 1]
        process.threads.append(self)

    @property
    def mm(self):
        """The address space: the process's, whatever execve last made it."""
        return self.process.mm

    def wake(self) -> None:
        """A WaitQueue this thread is parked on was woken (pyunik/wait.py)."""
        self.process.kernel.sched.wake(self)
