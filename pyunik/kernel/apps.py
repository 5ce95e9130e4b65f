"""Several programs side by side in ONE address space, as OSv runs them:
`pyunik run --apps '/app/a x; /app/b &'`.

The command line is OSv's (core/commands.cc): commands are separated by `;` (the
next command starts once this one has exited) or ended by `&` (it runs in the
background: the next starts at once); words are split as a shell splits them
(single quotes, double quotes, backslash); leading NAME=VALUE words set that
program's environment over the run's. `parse` turns it into AppCommands, or one
AppsSyntaxError line.

Each command is a process of its own: its pid (parent pyunik's pid 1), argv,
environment, fd table (stdio from the host, shared with the others only in that the
host fds are the same), cwd, signal dispositions and threads. They share one
AddressSpace and one CPU engine; the scheduler switches between them by saving and
restoring CPU contexts, as it does for threads and a vfork child (kernel/sched.py).

Where each program goes:
- an ET_DYN program (static-pie, PIE, dynamic) at PIE_BASE + k * APP_SLOT for the
  k-th command started (k from 0: the first where Linux would put it); its interpreter
  where mmap would put it;
- an ET_EXEC program at its own fixed addresses when they are free; when another
  program holds them it is refused with one line (AppError), as it cannot move;
- its break (brk) after its own image, in a BrkArea of its own (mm/), with the rest of
  its slot as room to grow;
- its stack: the first program's at the usual top, the others' where mmap would put
  them.

What is not as with separate processes (README: "Several programs in one address
space"): every program can read and write every other's memory (a wild write hits a
neighbour), /proc/self/maps shows the one shared map, and the address space's
mmap_base, limit (-m) and region count are shared.

An app's exit (exit, exit_group, a fatal signal, a fault) ends its threads only; the
mappings it made (VMA.owner: the process whose thread ran when the VMA was made) are
unmapped from the shared space and its fds closed; pyunik reaps it at once. As OSv
does, the run ends when every command has started and every app has exited,
background ones included; processes the apps forked still alive then are killed.
The run's status is 0 when every app exited 0, else the first failing app's, in
command-line order (its exit code, or 128 + the signal).

Not done: an app that execs leaves the shared space for an address space of its own
(its old mappings stay in the shared one until the run ends); fork from an app
copies the whole shared space, neighbours included.

Layer: kernel. Called by kernel/kernel.py (start, run's end) and api.py (parse);
calls kernel/exec.py (finding and building an image), mm/ (AddressSpace, BrkArea),
kernel/exit.py, the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..abi import elf as E
from ..abi import linux as L
from ..cpu.context import CpuContext
from ..cpu.engine import Engine
from ..errors import KernelError
from ..loader import elf
from ..mm.address_space import PIE_BASE, STACK_SIZE, STACK_TOP, AddressSpace, BrkArea
from . import exec as exec_
from . import exit as exit_
from .fdtable import FdTable
from .process import FsContext, Process, Thread

APP_SLOT = 1 << 36      # 64 GiB of address space per ET_DYN program and its heap


class AppsSyntaxError(ValueError):
    """A --apps command line that does not parse (one line, for the user)."""


class AppError(Exception):
    """A command that cannot start: the message and the status a shell would give."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass
class AppCommand:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)   # NAME=VALUE words before argv
    background: bool = False                          # ended by '&'

    def text(self) -> str:
        return " ".join(self.argv)


def _words(text: str) -> list[tuple[str, bool]]:
    """Shell words and the separators ';' and '&': (text, is_separator)."""
    out: list[tuple[str, bool]] = []
    word: list[str] | None = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\n":
            if word is not None:
                out.append(("".join(word), False))
                word = None
        elif c in ";&":
            if word is not None:
                out.append(("".join(word), False))
                word = None
            out.append((c, True))
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise AppsSyntaxError("unterminated ' quote")
            word = (word or []) + [text[i + 1:end]]
            i = end
        elif c == '"':
            word = word or []
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\$`':
                    i += 1
                word.append(text[i])
                i += 1
            if i >= n:
                raise AppsSyntaxError('unterminated " quote')
        elif c == "\\":
            if i + 1 >= n:
                raise AppsSyntaxError("a backslash at the end")
            word = (word or []) + [text[i + 1]]
            i += 1
        else:
            word = (word or []) + [c]
        i += 1
    if word is not None:
        out.append(("".join(word), False))
    return out


def parse(text: str) -> list[AppCommand]:
    """OSv's command line: commands separated by ';' or ended by '&' (background).
    AppsSyntaxError for an empty command (';;', a leading ';', '&&', nothing)."""
    commands: list[AppCommand] = []
    current: list[str] = []
    for word, separator in _words(text):
        if not separator:
            current.append(word)
            continue
        if not current:
            raise AppsSyntaxError("empty command before '%s'" % word)
        commands.append(_command(current, word == "&"))
        current = []
    if current:
        commands.append(_command(current, False))
    if not commands:
        raise AppsSyntaxError("no command")
    return commands


def _command(words: list[str], background: bool) -> AppCommand:
    env = {}
    while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    if not words:
        raise AppsSyntaxError("a command of only NAME=VALUE words")
    return AppCommand(words, env, background)


# ---- running them ---------------------------------------------------------------------

@dataclass
class Launch:
    """A command ready for execve's steps: the guest path of its program, argv,
    envp and the name given (AT_EXECFN), and its words for messages."""
    path: bytes
    argv: list[bytes]
    envp: list[bytes]
    filename: bytes
    text: str
    background: bool


class AppRunner:
    """The run's commands: which have started, which runs in the foreground (the
    next waits for it), every app's status. Kept by the kernel as `kernel.apps`."""

    def __init__(self, kernel, launches: list[Launch], workdir: str, report):
        self.kernel = kernel
        self.launches = launches
        self.workdir = workdir
        self.report = report              # report(line): a command that failed to start
        self.next = 0                     # index of the next command to start
        self.processes: list[Process] = []
        self.status: dict[int, int] = {}  # command index -> its status
        self.index: dict[Process, int] = {}
        self.foreground: Process | None = None
        self.mm: AddressSpace | None = None
        self.slots = 0

    # -- starting

    def start(self) -> None:
        """The first batch: commands up to the first foreground one. Raises AppError
        when the very first command cannot start."""
        self._start_batch(first=True)
        if not self.processes:
            raise AppError("pyunik: --apps: no command could start", 127)

    def _start_batch(self, first: bool = False) -> None:
        while self.next < len(self.launches) and self.foreground is None:
            i = self.next
            self.next += 1
            launch = self.launches[i]
            try:
                process = self._load(launch)
            except AppError as e:
                if first and i == 0:
                    raise
                self.report(str(e))
                self.status[i] = e.status
                continue
            self.index[process] = i
            self.processes.append(process)
            if not launch.background:
                self.foreground = process

    def _load(self, launch: Launch) -> Process:
        kernel = self.kernel
        vfs = kernel.vfs
        try:
            cwd = vfs.resolve_absolute(self.workdir.encode())
        except KernelError as e:
            raise AppError("pyunik: working directory %s: %s" % (self.workdir, e), 2) from None
        fds = FdTable()
        process = Process(kernel.next_pid, 1, None, fds, "", fs=FsContext(cwd, vfs.root))
        process.kernel = kernel
        fds.set_limit(min(process.rlimits[L.RLIMIT_NOFILE][0], 1 << 20))
        if self.mm is None:
            self.mm = AddressSpace(Engine(), kernel.memory)
        mm = self.mm
        saved_owner, mm.owner = mm.owner, process
        try:
            image, binary = self._build(launch, process, cwd)
        except BaseException:
            mm.release_owned(process)
            if not self.processes:
                mm.free_all(close_engine=True)
                self.mm = None
            raise
        finally:
            mm.owner = saved_owner
        kernel.next_pid += 1
        process.mm = mm
        process.start_time_ns = kernel.clock.monotonic_ns()
        area = BrkArea(process, image.brk)
        mm.brk_areas.append(area)
        process.brk_area = area
        exec_.hold_exe(process, binary.inode)
        process.exe = binary.path.text().decode(errors="surrogateescape")
        process.auxv, process.arg_area = image.auxv, image.arg_area
        process.argv, process.envp = binary.argv, launch.envp
        process.entry = image.entry
        kernel.cpuid = image.cpuid
        kernel.install_stdio(fds)
        ctx = CpuContext.initial()
        ctx.update({"rsp": image.sp, "rip": image.entry})
        thread = Thread(process.pid, process, binary.comm, ctx=ctx)
        thread.altstack = (0, 0, 0)     # a new program's (Kernel.spawn says why)
        kernel.processes[process.pid] = process
        if kernel.first is None:
            kernel.first = process
            kernel.current = thread
        else:
            kernel.sched.add(thread)
        return process

    def _build(self, launch: Launch, process: Process, cwd):
        """The program found and mapped into the shared space (see the module
        docstring for where); AppError with the shell's status when it cannot."""
        kernel = self.kernel
        mm = self.mm
        ctx = process.walk_context()
        name = launch.argv[0].decode(errors="replace") if launch.argv else launch.text
        try:
            binary = exec_.find_binary(kernel.vfs, ctx, cwd, process.cred, launch.path,
                                       launch.argv, launch.filename, learn=kernel.exec_learner)
            at = None
            header = elf.parse(binary.data)
            if header.type == E.ET_DYN:
                at = PIE_BASE + self.slots * APP_SLOT
                self.slots += 1
            else:
                low = min(s.vaddr for s in header.loads) & L.PAGE_MASK
                high = max(s.vaddr + s.memsz for s in header.loads)
                if not mm.is_free(low, high):
                    raise AppError("pyunik: --apps: %s: its fixed addresses %#x-%#x are "
                                   "another program's (a non-PIE program cannot move; build "
                                   "it with -static-pie or -pie)" % (name, low, high), 126)
            # the usual top while it is free, else where mmap would put it
            stack_top = STACK_TOP if mm.is_free(STACK_TOP - STACK_SIZE, STACK_TOP) else None
            image = exec_.build_image(kernel.vfs, ctx, cwd, process.cred, binary,
                                      launch.envp, mm, kernel.random_bytes(16),
                                      learn=kernel.exec_learner, cpuid=kernel.cpuid or None,
                                      at=at, stack_top=stack_top)
        except elf.ExecFormatError as e:
            raise AppError("pyunik: --apps: %s: exec format error (%s)" % (name, e),
                           126) from None
        except KernelError as e:
            import os
            raise AppError("pyunik: --apps: %s: %s" % (name, os.strerror(e.errno).lower()),
                           127 if e.errno == 2 else 126) from None
        return image, binary

    # -- ending

    def live(self) -> list[Process]:
        return [p for p in self.processes if p.exit_state is None]

    def exited(self, process: Process, e) -> bool:
        """process has exited (the run loop's ProcessExit). True when the run ends:
        every command started and every app gone."""
        kernel = self.kernel
        if process.exit_state is not None:
            # The scheduler's deadlock (nothing can ever run): the run ends killed.
            kernel.end_run(128 + L.SIGKILL, 0)
            return True
        if process not in self.index:
            exit_.exit_process(process, e)         # a process an app forked
            return False
        self.status[self.index[process]] = 128 + e.signal if e.signal else e.status & 0xFF
        self.mm.release_owned(process)
        if process is self.foreground:
            self.foreground = None
            self._start_batch()
        exit_.exit_process(process, e)
        if self.live() or self.next < len(self.launches):
            return False
        statuses = [self.status[i] for i in sorted(self.status)]
        kernel.end_run(next((s for s in statuses if s), 0), 0)
        return True
