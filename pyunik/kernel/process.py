"""Processes and threads: the state a Linux task_struct and its mm/files/signal hold.

A `Process` owns an address space (its own CPU engine), an fd table, credentials,
resource limits, a working directory, a umask and the signal dispositions. A
`Thread` owns what Linux keeps per task: its tid, signal mask, alternate signal stack,
clear_child_tid and robust-list head. Handlers receive the calling Thread as `t`
and reach the process as `t.process` and memory as `t.mm`.
"""

from __future__ import annotations

import os
import resource
import time

from ..abi import linux as L


class ProcessExit(Exception):
    """Raised by exit/exit_group (and fatal signals) to leave the CPU loop."""

    def __init__(self, status: int, signal: int = 0, core: bool = False):
        self.status = status      # exit code (0..255) when signal == 0
        self.signal = signal      # the killing signal, or 0
        self.core = core


class SigAction:
    __slots__ = ("handler", "flags", "restorer", "mask")

    def __init__(self, handler=L.SIG_DFL, flags=0, restorer=0, mask=0):
        self.handler = handler
        self.flags = flags
        self.restorer = restorer
        self.mask = mask


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


class Process:
    def __init__(self, pid: int, ppid: int, mm, engine, fds, exe: str):
        self.pid = pid
        self.ppid = ppid
        self.pgid = pid         # a job of its own, as a shell starts it ...
        self.sid = ppid         # ... in its parent's session
        self.mm = mm
        self.engine = engine
        self.fds = fds
        self.exe = exe                  # guest path of the executable (/proc/self/exe)
        self.cwd = None                 # vfs.Path of the working directory
        self.root = None                # vfs.Path of the root (chroot changes it)
        self.auxv: list[tuple[int, int]] = []
        self.start_time_ns = time.monotonic_ns()
        self.umask = 0o022
        self.personality = L.PER_LINUX
        self.dumpable = 1
        self.pdeath_signal = 0
        self.no_new_privs = 0
        self.child_subreaper = 0
        # Credentials are inherited from pyunik's own process, as a child's are.
        self.uid = self.euid = self.suid = os.getuid()
        self.gid = self.egid = self.sgid = os.getgid()
        self.fsuid, self.fsgid = self.euid, self.egid
        try:
            self.nice = os.getpriority(os.PRIO_PROCESS, 0)   # inherited, like the limits
        except OSError:
            self.nice = 0
        self.groups = tuple(os.getgroups())
        self.rlimits = _host_rlimits()
        self.sigactions = [SigAction() for _ in range(L.NSIG + 1)]
        self.threads: list[Thread] = []
        self.argv: list[bytes] = []
        self.envp: list[bytes] = []


class Thread:
    def __init__(self, tid: int, process: Process):
        self.tid = tid
        self.process = process
        self.mm = process.mm
        self.sigmask = 0
        self.altstack = (0, L.SS_DISABLE, 0)   # (ss_sp, ss_flags, ss_size)
        self.clear_child_tid = 0
        self.timer_slack_ns = 50000
        self.robust_list = (0, 0)              # (head, len)
        self.comm = os.path.basename(process.exe).encode()[:L.TASK_COMM_LEN - 1]
        process.threads.append(self)
