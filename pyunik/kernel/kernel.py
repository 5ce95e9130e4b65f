"""The kernel: starts a program in a fresh process and runs it to the end.

`Kernel.spawn()` makes a process and runs execve's steps for it (kernel/exec.py: the
program found and checked with the process's credentials, #! followed, the ELF mapped
into a new address space on its own CPU engine, the initial stack), then puts stdio in
its fd table; `Kernel.run()`
drives the CPUs of it and the processes it forks until it exits or a fault kills
it; processes still alive then are killed (kernel/exit.py's release_all). System calls reach
`_dispatch`, the hot path: decode through the table's compiled row, call the handler,
turn a KernelError into -errno. When --strace, a syscall hook or an observer
(--stats, --trace-out: trace/observer.py) is on, the engine calls `_dispatch_traced`
instead, so the fast path pays nothing for them.

Layer: kernel.
Calls: kernel/exec.py, fs/ (stdio files, the VFS), cpu/ (the engine's run loop), trace/
(strace lines, crash reports).
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import time
from collections.abc import Callable

from ..abi import linux as L
from ..cpu.engine import GuestFault
from ..errors import KernelError
from ..fs.file import HostStream
from ..fs.inode import DeviceNumbers
from ..fs.inotify import Fsnotify
from ..fs.pipe import PipeFS
from ..fs.ramfs import RamFS
from ..fs.vfs import Mount
from ..loader import elf
from ..mm.address_space import MemoryBudget
from ..mm.maps import SHMEM_DEV
from ..wait import WouldBlock
from .fdtable import FdTable
from .leases import Leases
from . import delivery, signals
from . import exec as exec_
from . import exit as exit_
from .process import FsContext, Process, ProcessExit, Thread
from . import futex
from .futex import FutexTable
from .futex_pi import PiFutexes
from .clocks import SYSCALL_NS, HostClock, VirtualClock
from . import threads
from .sched import Scheduler
from .syscalls import fast_stat
from .syscalls.table import STUB, SyscallTable

TYPE_CHECKING = False      # typing is imported by type checkers only: a run needs none of it
if TYPE_CHECKING:
    from typing import BinaryIO, TextIO

FIRST_PID = 1000   # pid of the first guest process; its parent (ppid 1) is imaginary
UNAME_RELEASE = b"6.1.0-pyunik"
UNAME_VERSION = b"#1 SMP PREEMPT_DYNAMIC pyunik"
HOSTNAME = b"pyunik"

_FAULT_SIGNAL = {"segv": L.SIGSEGV, "bus": L.SIGBUS, "ill": L.SIGILL, "trap": L.SIGTRAP,
                 "fpe": L.SIGFPE}


class Config:
    """What a run is configured with (api.Unikernel fills it in). The kernel's records
    are plain classes: a dataclass compiles its methods at import, paid by every run."""

    def __init__(self, *, memory_limit: int = 2 << 30, quiet: bool = False,
                 strace: TextIO | None = None, stdin: int = 0, stdout: int = 1,
                 stderr: int = 2, warn: TextIO | None = None, crash_report: bool = True,
                 random_seed: int | None = None, deterministic: bool = False,
                 observer: object | None = None, net: str | None = None,
                 pcap: BinaryIO | None = None, trace_virtio: TextIO | None = None,
                 trace_tcp: TextIO | None = None, dns: dict | None = None,
                 host_exit_frees: bool = False):
        self.memory_limit = memory_limit
        self.quiet = quiet
        self.strace = strace
        self.stdin = stdin            # host fds handed to the guest as its 0, 1, 2
        self.stdout = stdout
        self.stderr = stderr
        self.warn = warn if warn is not None else sys.stderr
        self.crash_report = crash_report
        self.random_seed = random_seed      # seeded getrandom, AT_RANDOM, /dev/urandom
        self.deterministic = deterministic  # a virtual clock, budgeted switches (kernel/clocks.py)
        self.observer = observer        # trace/observer.py: --stats, --trace-out
        self.net = net                  # --net: the card's backend (net/network.py's words)
        self.pcap = pcap                # --pcap: eth0's frames as a libpcap file
        self.trace_virtio = trace_virtio    # --trace virtio: rings and notifications
        self.trace_tcp = trace_tcp          # --trace tcp: the guest's TCP state changes
        self.dns = dns if dns is not None else {}   # --dns NAME=IP for the DNS at 10.0.2.3
        # The host process ends when the run does (the pyunik command ends with
        # os._exit): the last process's guest memory and engine are left to the host's
        # exit rather than freed one region at a time (uc_close: ~3 ms for python3).
        self.host_exit_frees = host_exit_frees


class SyscallEvent:
    """What a syscall hook sees and may change: args before, result after."""

    def __init__(self, thread: Thread, nr: int, name: str, args: list[int],
                 result: int | None = None, start_ns: int = 0, shown: str | None = None):
        self.thread = thread
        self.nr = nr
        self.name = name
        self.args = args
        self.result = result
        self.start_ns = start_ns      # time.perf_counter_ns() at entry, when observed
        self.shown = shown            # strace's arguments, formatted before the call (execve)
        self.entry = None             # strace's input arguments read at entry (sets, structs)

    def __repr__(self) -> str:
        return "SyscallEvent(tid=%d, nr=%d, name=%r, args=%r, result=%r)" % (
            self.thread.tid, self.nr, self.name, self.args, self.result)


def _who(t: Thread) -> str:
    """strace's prefix of a line: the thread's id once its process has several, or
    there are several processes (strace -f)."""
    if len(t.process.threads) > 1 or len(t.process.kernel.processes) > 1:
        return "[pid %d] " % t.tid
    return ""


class Kernel:
    def __init__(self, config: Config | None = None):
        self.config = config or Config()
        self.table = SyscallTable()
        self.processes: dict[int, Process] = {}   # live processes and zombies, by pid
        self.first: Process | None = None          # the one spawn() started
        # The -m limit, shared by every process's address space (mm/).
        self.memory = MemoryBudget(self.config.memory_limit)
        self.console_pgrp: int | None = None       # the console's foreground group (jobs.py)
        self.apps = None      # several programs in one address space (kernel/apps.py)
        self.next_pid = FIRST_PID
        # The guest's clocks (kernel/clocks.py): the host's, or deterministic mode's
        # virtual clock. boot_ns is the kernel's start on its monotonic clock.
        self.clock = VirtualClock() if self.config.deterministic else HostClock()
        self.boot_ns = self.clock.monotonic_ns()
        self.ncpus = 1
        self.cpuid: dict = {}     # the CPU model's cpuid leaves (cpu/cpuid.py), for /proc
        self.current: Thread | None = None    # the thread running now
        self.vfs = None                         # the file namespace, from boot()
        self.uname_release = UNAME_RELEASE      # what uname(2) and /proc/version say
        self.uname_version = UNAME_VERSION
        self.hostname = HOSTNAME
        # The automatic image's learner (loader/autoimage.py): asked by execve about a
        # name the guest's image lacks; None with --root or --image.
        self.exec_learner: Callable | None = None
        self.hooks_before: dict[int, list[Callable]] = {}
        self.hooks_after: dict[int, list[Callable]] = {}
        self._warned: set[int] = set()
        self.exit_status: int | None = None
        self.exit_signal = 0
        self.host_signals: list[int] = []   # signals from the host (Ctrl-C), newest last
        self.observer = self.config.observer     # None, or told what the run does
        self.debugger = None      # a gdb stub (trace/gdbstub.py) the run loop hands over to
        self.sched = Scheduler(self)
        self.futexes = FutexTable(self.sched.wake)
        self.pi_futexes = PiFutexes(self.futexes)
        self._ipc = None      # System V shared memory, semaphores, queues: `ipc`
        seed = self.config.random_seed
        if seed is None and self.config.deterministic:
            seed = 0
        if seed is not None:
            import random
            rng = random.Random(seed)
            self.random_bytes = rng.randbytes
        else:
            self.random_bytes = os.urandom
        # Kernel-wide file state (fs/ objects the kernel owns and hands down): the
        # device numbers of filesystems, inotify's watches, pipefs's inode numbers,
        # the internal tmpfs of memfd files (made on first use); file leases.
        self.devices = DeviceNumbers()
        self.fsnotify = Fsnotify()
        self.leases = Leases(self)
        self.pipefs = PipeFS()
        self.pipefs.set_clock(self.clock.realtime_ns)
        self.fsnotify.boot_ns = self.clock.realtime_ns()
        self._memfd_mount: Mount | None = None
        self._net = None      # the network namespace: `net`
        # Dispatch's list of compiled invokers, filled as the guest first makes each
        # call (compiling all ~380 rows up front would cost every start ~25 ms).
        self._invokers = [None] * SyscallTable.SIZE

    # ---- namespaces made on first use ----------------------------------------------------
    # A run that opens no socket and makes no System V object never imports net/ or
    # kernel/ipc/ (tests/test_startup.py checks it).

    @property
    def net(self):
        """The network namespace (net/socket.py): sockfs, unix names, netlink ports,
        interfaces; made on first use."""
        if self._net is None:
            from ..net.socket import NetNamespace
            from .syscalls.net import caller
            self._net = NetNamespace(lambda: caller(self.current),
                                     lambda deadline, fire: self.sched.add_timer(deadline, fire),
                                     lambda: self.clock.monotonic_ns())
            from .netdev import signal_owner
            self._net.signal_owner = lambda owner, sig: signal_owner(self, owner, sig)
            out = self.config.trace_tcp
            if out is not None:
                self._net.trace_tcp = lambda line: out.write("pyunik: %s\n" % line)
        return self._net

    @property
    def ipc(self):
        """System V shared memory, semaphores and queues (kernel/ipc/), made on first use."""
        if self._ipc is None:
            from .ipc import IpcNamespace
            self._ipc = IpcNamespace(self)
        return self._ipc

    def exit_ipc(self, process) -> None:
        """A process is exiting: its System V semaphore adjustments apply (exit_sem)."""
        if self._ipc is not None:
            self._ipc.exit_process(process)

    # ---- hooks --------------------------------------------------------------------------

    def on_syscall(self, name: str, fn: Callable[[SyscallEvent], None], when: str = "before"):
        """Call fn(event) before (it may change event.args or set event.result to skip
        the handler) or after (it may change event.result) every call of `name`."""
        nr = self.table.by_name(name).nr
        hooks = self.hooks_before if when == "before" else self.hooks_after
        if when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        hooks.setdefault(nr, []).append(fn)

    # ---- starting a program -------------------------------------------------------------------

    def boot(self, vfs) -> None:
        """Give the kernel its file namespace (kernel/namespace.py builds it), and
        bring its network card up if --net asked for one."""
        self.vfs = vfs
        if self.config.net and not self.net.has_network:
            from .netdev import start_network
            self.net.attach(start_network(self))

    def proc_net_text(self, name: bytes) -> bytes:
        """/proc/net/NAME (dev, tcp), for fs/proc."""
        from .netdev import proc_net_text
        return proc_net_text(self, name)

    def close_network(self) -> None:
        """The run is over: host sockets of the backend closed, the capture flushed."""
        if self._net is not None and self._net.has_network:
            self._net.network.close()

    def memfd_mount(self) -> Mount:
        """The kernel-internal tmpfs memfd files live on (Linux's shm_mnt): in no
        mount table, made on first use."""
        if self._memfd_mount is None:
            fs = RamFS(size=self.config.memory_limit // 2)   # tmpfs: half of "RAM"
            fs.dev = SHMEM_DEV        # shm_mnt's device, as shared anonymous memory's
            self.vfs.attach(fs)
            self._memfd_mount = Mount((), fs, fs.root, source="tmpfs")
        return self._memfd_mount

    def spawn(self, path: bytes, argv: list[bytes], envp: list[bytes], workdir: str = "/",
              filename: bytes | None = None) -> Process:
        """A new process running execve(path, argv, envp) (kernel/exec.py), with its
        cwd at workdir and stdio from the config. path is walked in the guest's
        namespace with the new process's credentials; filename is the name the
        caller gave (AT_EXECFN, and what a script's interpreter is told to run)."""
        try:
            cwd = self.vfs.resolve_absolute(workdir.encode())
        except KernelError as e:
            raise elf.ExecFormatError("working directory %s: %s" % (workdir, e)) from None
        fds = FdTable()
        pid = self.next_pid
        process = Process(pid, 1, None, fds, "", fs=FsContext(cwd, self.vfs.root))
        process.kernel = self
        process.start_time_ns = self.clock.monotonic_ns()
        fds.set_limit(min(process.rlimits[L.RLIMIT_NOFILE][0], 1 << 20))
        ctx = process.walk_context()
        binary = exec_.find_binary(self.vfs, ctx, cwd, process.cred, path, argv, filename,
                                   learn=self.exec_learner)
        image = exec_.load_binary(self.vfs, ctx, cwd, process.cred, binary, envp,
                                  self.memory, self.random_bytes(16),
                                  learn=self.exec_learner)
        self.next_pid += 1
        process.mm = image.mm
        exec_.hold_exe(process, binary.inode)
        process.exe = binary.path.text().decode(errors="surrogateescape")
        process.auxv, process.arg_area = image.auxv, image.arg_area
        process.argv, process.envp = binary.argv, envp
        process.entry = image.entry
        self.cpuid = image.cpuid
        self.install_stdio(fds)
        thread = Thread(pid, process, binary.comm)
        # no alternate stack, flags 0: init's, which execve keeps (Thread's default
        # is a new thread's, SS_DISABLE)
        thread.altstack = (0, 0, 0)
        self.processes[pid] = process
        self.first = process
        self.current = thread
        self._dispatch = self._make_dispatch()
        process.engine.on_syscall = self._dispatch
        return process

    def spawn_apps(self, launches: list, workdir: str = "/", report=None) -> None:
        """Several programs in one address space, OSv style (kernel/apps.py): the
        first commands started (up to the first foreground one), the rest as the
        run goes. launches: apps.Launch each; report(line) is told of a later
        command that could not start. Raises apps.AppError."""
        from .apps import AppRunner
        self.apps = AppRunner(self, launches, workdir,
                              report or (lambda line: self.config.warn.write(line + "\n")))
        self._dispatch = self._make_dispatch()
        self.apps.start()
        self.apps.mm.engine.on_syscall = self._dispatch

    def install_stdio(self, fds: FdTable) -> None:
        """The host's stdin, stdout and stderr (the config's fds) as fds 0, 1, 2."""
        for guest_fd, host_fd in enumerate((self.config.stdin, self.config.stdout,
                                            self.config.stderr)):
            try:
                flags = fcntl.fcntl(host_fd, fcntl.F_GETFL)
            except OSError:
                continue            # closed on the host: closed in the guest
            fds.install_at(guest_fd, HostStream(host_fd, flags & ~os.O_CLOEXEC), False)

    def syscall_callback(self):
        """What a new engine's syscall callback is (kernel/fork.py, execve)."""
        return self._dispatch

    # ---- system calls ---------------------------------------------------------------------------

    def _make_dispatch(self):
        """The engine's syscall callback. It reads the calling thread from
        `self.current` on every call (whoever the scheduler last switched to), never
        a thread captured when the callback was made."""
        if self.config.strace is not None or self.hooks_before or self.hooks_after \
                or self.observer is not None:
            dispatch = lambda regs: self._dispatch_traced(self.current, regs)  # noqa: E731
        else:
            dispatch = self._make_fast_dispatch()
        if not self.config.deterministic:
            return dispatch
        advance = self.clock.advance

        def deterministic(regs):
            advance(SYSCALL_NS)      # a system call's work on the virtual clock
            return dispatch(regs)
        return deterministic

    def _make_fast_dispatch(self):
        invokers = self._invokers
        size = len(invokers)
        unknown = self._unknown
        first_call = self._first_call
        kernel = self
        block = self.sched.block

        def dispatch(regs):
            nr = regs[0] & 0xFFFFFFFF     # Linux reads the number as a 32-bit int
            invoke = invokers[nr] if nr < size else None
            if invoke is None:
                invoke = first_call(nr)
                if invoke is None:
                    return unknown(nr)
            try:
                return invoke(kernel.current, regs)
            except KernelError as e:
                return -e.errno
            except WouldBlock as wait:   # park the thread; the result comes later
                return block(kernel.current, regs, wait, invoke)
        return dispatch

    def file_shrinking(self, inode, size: int) -> None:
        """Before a file shrinks: no process may keep host pages past its new end."""
        for p in self.processes.values():
            p.mm.detach_file_pages(inode, size)

    def _first_call(self, nr: int):
        """The invoker of call nr, compiled into dispatch's list; None if no handler
        serves nr."""
        r = self.table.rows.get(nr) if nr < SyscallTable.SIZE else None
        invoke = r.invoke if r is not None else None
        if invoke is not None:
            if nr in delivery.DELIVERED_ON_RETURN:
                invoke = delivery.on_return_invoker(self, nr, self._delivering_on_return(invoke))
            elif nr == futex.NR_FUTEX:
                invoke = futex.parking_invoker(self.futexes, self.sched, invoke)
            elif nr in fast_stat.INVOKERS:
                invoke = fast_stat.INVOKERS[nr](invoke, self)
            elif nr == threads.NR_CLONE:
                invoke = threads.clone_invoker(invoke)
            elif nr == threads.NR_EXIT:
                invoke = threads.exit_invoker(self.sched, invoke)
            self._invokers[nr] = invoke
        return invoke

    def _delivering_on_return(self, invoke):
        """The invoker of a call that often makes a signal deliverable to its own
        thread (kill, tgkill, a mask change, rt_sigreturn: delivery.DELIVERED_ON_RETURN):
        such a signal is delivered inside the syscall hook as the call returns
        (Scheduler.syscall_return) rather than by ending the run. Other calls pay
        nothing for it: a signal they make deliverable ends the run at their end."""
        sched = self.sched
        returning = sched.returning
        syscall_return = sched.syscall_return

        def delivering(t, regs):
            sched.in_checked_call = True
            try:
                result = invoke(t, regs)
            except KernelError as e:
                result = -e.errno
            finally:
                sched.in_checked_call = False
            if returning:                # a signal to take as the call returns
                return syscall_return(result, regs)
            return result
        return delivering

    def _unknown(self, nr: int) -> int:
        """A number with no handler: a stub's errno, or ENOSYS with one warning."""
        r = self.table.rows.get(nr)
        if r is not None and r.status == STUB:
            return -r.errno
        if nr not in self._warned and not self.config.quiet:
            self._warned.add(nr)
            if r is not None:
                self.config.warn.write("pyunik: warning: syscall '%s' (%d) not implemented\n"
                                       % (r.name, nr))
            else:
                self.config.warn.write("pyunik: warning: unknown syscall %d\n"
                                       % (((nr & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000))
            self.config.warn.flush()
        return -errno.ENOSYS

    def _dispatch_traced(self, t: Thread, regs: list) -> int | None:
        """The slow path: syscall hooks and strace around the same handler call. A
        call that must wait is printed when it completes."""
        nr = regs[0] & 0xFFFFFFFF
        r = self.table.rows.get(nr)
        event = SyscallEvent(t, nr, r.name if r else "syscall_%d" % nr, list(regs[1:7]))
        observer = self.observer
        if observer is not None:
            event.start_ns = time.perf_counter_ns()
        for fn in self.hooks_before.get(nr, ()):
            fn(event)
        out = self.config.strace
        if out is not None:
            from ..trace import strace
        if r is not None and r.name in ("exit", "exit_group"):
            if out is not None:
                out.write(_who(t) + strace.format_call(r, event.args, None, t) + "\n")
            if observer is not None:       # the call never returns: seen at entry
                observer.syscall(t, r, r.name, event.args, None, event.start_ns,
                                 event.start_ns)
        if out is not None and r is not None and r.name in ("execve", "execveat"):
            # printed from the memory they name, which a successful call replaces
            event.shown = _who(t) + r.name + "(" + strace.format_args(r, event.args, None, t)
        elif out is not None and r is not None and r.name == "rt_sigreturn":
            # the mask it will restore, read from the frame before the call pops it
            event.shown = _who(t) + "rt_sigreturn(" \
                + strace.sigreturn_args(t, t.process.engine.reg("rsp"))
        elif out is not None and r is not None:
            event.entry = strace.entry_args(r, event.args, t)
        if event.result is None:
            invoke = r.invoke if r is not None and nr < SyscallTable.SIZE else None
            try:
                if invoke is None:
                    event.result = self._unknown(nr)
                else:
                    event.result = invoke(t, [nr] + event.args + regs[7:])
                    if event.result is None and r.name == "exit":
                        return None     # the thread has gone (printed at entry)
            except KernelError as e:
                event.result = -e.errno
            except WouldBlock as wait:
                parked_ns = time.perf_counter_ns() if observer is not None else 0
                what = wait.what            # (the except clause unbinds `wait`)

                def done(result):
                    event.result = result
                    if observer is not None:
                        observer.blocked(t, event.name, what, parked_ns,
                                         time.perf_counter_ns())
                    return self._traced_done(event, r, regs)
                args = [nr] + event.args + regs[7:]
                return self.sched.block(t, args, wait, invoke, done)
        return self._traced_done(event, r, regs)

    def _traced_done(self, event: SyscallEvent, r, regs: list) -> int:
        for fn in self.hooks_after.get(event.nr, ()):
            fn(event)
        if self.observer is not None:
            self.observer.syscall(event.thread, r, event.name, event.args, event.result,
                                  event.start_ns, time.perf_counter_ns())
        out = self.config.strace
        if out is not None:
            from ..trace import strace
            if r is None:
                args = ", ".join("%#x" % a for a in event.args)
                out.write(_who(event.thread) + "syscall_%#x(%s) = %s\n" % (
                    regs[0], args, strace.format_result(None, event.result)))
            elif event.shown is not None:
                result = event.result
                if result is None and r.name == "rt_sigreturn":     # the restored rax
                    result = event.thread.process.engine.reg("rax")
                out.write(event.shown + ") = %s\n" % strace.format_result(r, result))
            else:
                out.write(_who(event.thread) + strace.format_call(
                    r, event.args, event.result, event.thread, event.entry) + "\n")
        return event.result

    # ---- running ------------------------------------------------------------------------------

    def interrupt(self, sig: int) -> None:
        """A signal from the host for the guest (the terminal's Ctrl-C, a kill of
        pyunik). Called from another host thread, so it only records the signal and
        makes sure the kernel looks at it at a safe point (see below); the kernel
        then sends it to the guest process as the terminal would (SI_KERNEL).

        - Every thread parked (a read, a sleep, a poll): the idle wait is woken
          through the scheduler's pipe, at once; the parked call is interrupted.
        - A thread running guest code: its run is stopped from this thread. With
          `engine.block_stops` (cpu/stops.py) the stop lands between two
          instructions and the run loop resumes the thread after delivering the
          signal, so even a guest that makes no system call sees it at once.
          Without it, a stop from another thread can replay a store on resuming
          (cpu/engine.py), so it is used only when the signal's action ends the
          process; otherwise the engine's syscall callback is swapped for one that
          ends the run when the current system call returns (the fast path pays
          nothing for that), and a budgeted run ends by itself within a slice.
        """
        self.host_signals.append(sig)
        self.sched.notify()
        t = self.current
        if t is None or self.exit_status is not None or t.process.exit_state is not None:
            return                  # (a process that has just ended: its engine is gone)
        process = t.process
        action = process.sighand.actions[sig]
        fatal = action.handler == L.SIG_DFL and sig not in signals.DEFAULT_IGNORE \
            and sig not in signals.STOP_SIGNALS
        process.engine.on_syscall = self._dispatch_then_stop
        if process.engine.block_stops or \
                fatal and any(not th.sigmask & signals.bit(sig) for th in process.threads):
            self.sched.host_stop(process.engine)

    def _dispatch_then_stop(self, regs):
        """The syscall callback while a host signal waits: the call, then the end of
        the run, so the run loop takes the signal."""
        result = self._dispatch(regs)
        self.sched.stop_at_syscall_end(self.current)
        return result

    def take_host_signal(self, t: Thread) -> None:
        """Send the oldest host signal to the console's foreground process group (the
        first process's until tcsetpgrp moves it), as the terminal sends Ctrl-C (the
        run loop's safe point); to the first process when that group has gone, so
        that Ctrl-C always reaches the guest."""
        for p in self.processes.values():
            if p.exit_state is None:
                p.engine.on_syscall = self._dispatch
        sig = self.host_signals.pop(0)
        info = signals.kill_info(sig, L.SI_KERNEL, 0, 0)
        group = self.console_pgrp if self.console_pgrp is not None else self.first.pgid
        targets = [p for p in self.processes.values()
                   if p.exit_state is None and p.pgid == group]
        if self.apps is not None:       # every app is in the foreground (kernel/apps.py)
            targets += [p for p in self.apps.live() if p not in targets]
        for p in targets or [self.first]:
            signals.send(p, sig, info)

    def run(self) -> int:
        """Run the spawned process and its descendants (kernel/sched.py drives the
        CPUs) until the first process exits; returns its exit status in shell form
        (the exit code, or 128 + the signal number)."""
        t = self.current
        if self.apps is not None:       # its registers: the last program loaded holds none
            t.process.engine.restore_context(t.ctx)
            t.process.mm.owner = t.process
        self.sched.run(t, t.process.entry)
        return self.exit_status

    def fatal_fault(self, t: Thread, fault: GuestFault | None) -> None:
        """A CPU fault with no handler (None: the CPU stopped by itself, at a hlt
        or the like, which Linux answers with SIGSEGV, #GP in user mode): a crash
        report (for the first process: another's death is its parent's to report,
        through wait, as on Linux) and death by signal (raises ProcessExit)."""
        if fault is None:
            fault = GuestFault("segv", t.process.engine.reg("rip"), "exec")
        sig = _FAULT_SIGNAL[fault.kind]
        if self.config.crash_report and (t.process is self.first or self.apps is not None
                                         and t.process in self.apps.index):
            from ..trace import crash
            crash.report(t, fault, sig, self.config.warn)
        raise ProcessExit(0, signal=sig, core=True)

    def process_exit(self, process: Process, e: ProcessExit) -> bool:
        """process has exited (the run loop caught e). True when it was the first
        process: the run ends, and every process still alive is killed."""
        if self.apps is not None:
            return self.apps.exited(process, e)
        if process is not self.first:
            exit_.exit_process(process, e)
            return False
        self._exit(process, e)
        return True

    def _exit(self, process: Process, e: ProcessExit) -> None:
        """The end of the run: the first process has exited and pyunik reaps it;
        the processes still alive are killed (kernel/exit.py's release_all)."""
        exit_.trace_exit(process, e)
        self.end_run(128 + e.signal if e.signal else e.status, e.signal)

    def end_run(self, status: int, signal: int) -> None:
        """The run is over with status (signal: the one that killed the first
        process, or 0): what is still alive is killed and everything given back."""
        self.exit_signal = signal
        self.exit_status = status
        exit_.release_all(self)
        # Every process is gone: filesystems give back what they hold on the host
        # (hostfs's cached file descriptors, its mount root).
        for m in self.vfs.mount_table():
            close = getattr(m.fs, "close", None)
            if close is not None:
                close()
        self.sched.close()
