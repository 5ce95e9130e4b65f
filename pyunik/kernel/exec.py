"""execve(2) and execveat(2) (Linux's fs/exec.c, binfmt_script.c, binfmt_elf.c): find
the program, check that the caller may run it, follow `#!` lines, build the program's
image in a new address space, and then, past the point of no return, make it the
calling process's.

Before the point of no return nothing of the caller changes, so every failure is a
plain -errno and the caller runs on:
- `open_exec`: the file a path names, walked with the caller's root and credentials
  (do_open_execat): ENOENT and the walk's errors as they come, ELOOP for a symlink
  under AT_SYMLINK_NOFOLLOW, EACCES for anything but a regular file, on a noexec
  mount or without execute permission, ETXTBSY while some open file may write it
  (deny_write_access). In the automatic image a name the image lacks may be learned
  from the host first (loader/autoimage.py, `AutoImage.learn`).
- `read_arguments`: argv and envp copied from guest memory as copy_strings does:
  EFAULT for a bad pointer, E2BIG for a string longer than MAX_ARG_STRLEN or for
  strings and pointers together past bprm_stack_limits (a quarter of RLIMIT_STACK,
  at most 3/4 of _STK_LIM, at least ARG_MAX); an empty argv gets "" as argv[0].
- `find_binary`: open_exec, then binfmt_script: a file starting with "#!" is run by
  its interpreter, argv becoming [interpreter, (its one optional argument), the
  script's name, argv[1:]...]; exec_binprm allows five such rewrites (ELOOP beyond).
- `load_binary`: the ELF and its PT_INTERP interpreter mapped into a new
  AddressSpace on a new CPU engine, the brk set, the auxiliary vector and the
  initial stack built (ENOEXEC for what is not a loadable x86-64 ELF).

`begin_new_exec` is the point of no return: the other threads of the process end
(de_thread: the caller takes the pid as its tid), the old image's futex duties are
done (robust list; clear_child_tid only while another process shares the memory, as
a vfork parent does), the new address space replaces the old one (the old engine is
closed once its run has ended: `Scheduler.retire`), close-on-exec fds close, caught
signals go back to SIG_DFL (ignored ones stay ignored; mask and pending signals
stay), the alternate signal stack, robust list and clear_child_tid are reset, POSIX
timers go (interval timers stay), comm, /proc/self/exe and the auxv follow, and a
vfork parent waiting on `vfork_done` is woken. The call never returns: the thread
goes on at the new entry point with the registers Linux's start_thread leaves.

A new engine for each exec (~5.6 ms) rather than a reset one: the new image is built
before the point of no return, beside the old one, which a failure leaves untouched.

Layer: kernel. Calls fs/ (the walk, permission checks), loader/ (ELF, stack), mm/
(AddressSpace), cpu/ (a new Engine, its cpuid probe), kernel/threads.py (futexes).
"""

from __future__ import annotations

from errno import E2BIG, EACCES, EFAULT, EINVAL, ELOOP, ENOENT, ENOEXEC, ENOTDIR, ETXTBSY

from ..abi import linux as L
from ..abi.binfmts import (ARG_MAX, BINPRM_BUF_SIZE, MAX_ARG_STRINGS, MAX_ARG_STRLEN,
                           MAX_EXEC_DEPTH)
from ..abi.resource import STK_LIM
from ..abi.fs import MAY_EXEC
from ..abi.proc import USER_HZ
from ..cpu.cpuid import probe_cpuid
from ..cpu.engine import Engine
from ..errors import KernelError
from ..fs.vfs import Path, WalkContext, permitted
from ..loader import elf, stack
from ..mm.address_space import AddressSpace
from .credentials import Credentials


class Binary:
    """What execve found: the file to load (its Path, symlinks resolved, is what
    /proc/self/exe names), its inode and bytes, argv after any #! rewriting, and the
    name the caller gave (AT_EXECFN). (A plain class, as Image: a dataclass compiles
    its methods at import, ~0.5 ms apiece paid by every run.)"""

    def __init__(self, path: Path, data: ExecBytes, argv: list[bytes], filename: bytes,
                 inode: object = None, comm_name: bytes | None = None):
        self.path = path
        self.data = data
        self.argv = argv
        self.filename = filename
        self.inode = inode
        self.comm_name = comm_name   # execveat(fd, "", AT_EMPTY_PATH): the file's name

    @property
    def comm(self) -> bytes:
        """The task's new name: the last part of the name given, even for a script
        (begin_new_exec's __set_task_comm(kbasename(bprm->filename))), or the file's
        own name for an fd executed by AT_EMPTY_PATH (bprm->comm_from_dentry)."""
        name = self.comm_name if self.comm_name is not None else self.filename
        return name.rsplit(b"/", 1)[-1][:L.TASK_COMM_LEN - 1]


class Image:
    """A program ready to run: its address space, where to start, the stack pointer
    and the auxiliary vector it was given, the CPU model's cpuid leaves."""

    def __init__(self, mm: AddressSpace, entry: int, sp: int, auxv: list[tuple[int, int]],
                 cpuid: dict, brk: int = 0, arg_area: tuple = (0, 0, 0, 0)):
        self.mm = mm
        self.entry = entry
        self.sp = sp
        self.auxv = auxv
        self.cpuid = cpuid
        self.brk = brk               # the end of the program's image: where its break starts
        self.arg_area = arg_area     # where argv's and envp's strings are (loader/stack.py)


# ---- finding and checking the file -------------------------------------------------

def check_exec(where: Path, cred: Credentials) -> "ExecBytes":
    """may_open with MAY_EXEC, path_noexec and deny_write_access on a walked file;
    returns its bytes (read as they are asked for)."""
    inode = where.inode
    if inode.is_symlink:
        raise KernelError(ELOOP)             # AT_SYMLINK_NOFOLLOW on a symlink
    if not inode.is_regular:
        raise KernelError(EACCES)
    if not permitted(inode, MAY_EXEC, *cred.walk_creds):
        raise KernelError(EACCES)
    if "noexec" in where.mount.options.split(","):
        raise KernelError(EACCES)
    if inode.real.write_count > 0:
        raise KernelError(ETXTBSY)
    return ExecBytes(inode)


class ExecBytes:
    """An executable's bytes as execve reads them: the first page at once (the #!
    line, the ELF and program headers of any ordinary program), any other slice
    from the file when asked for. So loading python3 reads its headers and the few
    bytes of its segments' partial pages (the rest are mapped: loader/elf.py), not
    its 6.8 MB."""

    def __init__(self, inode):
        self.inode = inode
        self.size = inode.size
        self.head = inode.read(0, min(self.size, L.PAGE_SIZE))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: slice) -> bytes:
        start, stop, step = key.indices(self.size)
        if step != 1:
            raise ValueError("a slice of an executable has step 1")
        if stop <= len(self.head):
            return self.head[start:stop]
        return self.inode.read(start, stop - start) if start < stop else b""

    def startswith(self, prefix: bytes) -> bool:
        return self.head.startswith(prefix)

    def __bytes__(self) -> bytes:
        return self[:]


def open_exec(vfs, ctx: WalkContext, base: Path, path: bytes, cred: Credentials,
              follow: bool = True, learn=None) -> tuple[Path, ExecBytes]:
    """The file path names (relative to base unless absolute) and its bytes, if cred
    may execute it (check_exec). learn(ctx, base, path), when given, is asked once
    whether a name the walk did not find has just been added (the automatic image)."""
    if not path:
        raise KernelError(ENOENT)
    try:
        where = vfs.resolve(ctx, base, path, follow)
    except KernelError as e:
        if e.errno != ENOENT or learn is None or not learn(ctx, base, path):
            raise
        vfs.changed()
        where = vfs.resolve(ctx, base, path, follow)
    return where, check_exec(where, cred)


def find_binary(vfs, ctx: WalkContext, cwd: Path, cred: Credentials, path: bytes,
                argv: list[bytes], filename: bytes | None = None, *, learn=None,
                first: tuple[Path, ExecBytes] | None = None, script_ok: bool = True) -> Binary:
    """The binary to load for execve(path, argv): path itself, or the interpreter its
    #! line names (with that line's one optional argument and the script's name
    inserted before argv[1:]). filename is the name the caller gave (default: path);
    it is what the script's interpreter is told to run. first, when given, is the
    already opened file (execveat's fd or nofollow walk); script_ok false makes a
    script ENOENT (its name, /dev/fd/N of a close-on-exec fd, will be gone)."""
    filename = path if filename is None else filename
    name = filename
    where, data = first if first is not None else \
        open_exec(vfs, ctx, cwd, path, cred, learn=learn)
    for _ in range(MAX_EXEC_DEPTH + 1):
        if not data.startswith(b"#!"):
            return Binary(where, data, argv, filename, where.inode)
        if not script_ok:
            raise KernelError(ENOENT)        # BINPRM_FLAGS_PATH_INACCESSIBLE
        line = data[2:BINPRM_BUF_SIZE].split(b"\n", 1)[0].strip(b" \t")
        if not line:
            raise elf.ExecFormatError("empty #! line")
        parts = line.split(None, 1)
        argv = [parts[0]] + parts[1:] + [name] + argv[1:]
        name = parts[0]
        where, data = open_exec(vfs, ctx, cwd, name, cred, learn=learn)
    raise KernelError(ELOOP)


def load_binary(vfs, ctx: WalkContext, cwd: Path, cred: Credentials, binary: Binary,
                envp: list[bytes], memory_limit, random16: bytes, *, learn=None,
                cpuid: dict | None = None) -> Image:
    """binary mapped into a new address space with its interpreter, and the initial
    stack (argv, envp, auxv, AT_RANDOM's random16) built there. cpuid: the CPU
    model's leaves when already probed."""
    engine = Engine()
    mm = AddressSpace(engine, memory_limit)
    try:
        image = build_image(vfs, ctx, cwd, cred, binary, envp, mm, random16, learn=learn,
                            cpuid=cpuid)
    except BaseException:
        mm.free_all(close_engine=True)
        raise
    mm.set_initial_brk(image.brk)
    engine.clear_registers()
    engine.set_reg("rsp", image.sp)
    engine.set_reg("rip", image.entry)
    return image


def build_image(vfs, ctx, cwd, cred, binary: Binary, envp: list[bytes], mm, random16: bytes,
                *, learn=None, cpuid: dict | None = None, at: int | None = None,
                stack_top: int | None = stack.STACK_TOP) -> Image:
    """binary and its interpreter mapped into mm and its initial stack built there
    (ending at stack_top, or where mmap would put it when None; an ET_DYN program
    at `at` when given): the CPU's
    registers and the break are the caller's to set (Image.sp, .entry, .brk)."""
    engine = mm.engine
    exe = binary.path.text().decode(errors="surrogateescape")
    image = elf.load(mm, binary.data, exe, at=at, file=binary.inode)
    entry, interp_base = image.entry, 0
    if image.interp is not None:
        # An interpreter that cannot be opened fails execve with open_exec's errno
        # (ENOENT for a missing one), as load_elf_binary does, not ENOEXEC.
        where, interp_data = open_exec(vfs, ctx, cwd, image.interp.encode(), cred,
                                       learn=learn)
        interp = elf.load(mm, interp_data, image.interp, interpreter=True, file=where.inode)
        if interp.interp is not None:
            raise elf.ExecFormatError("interpreter %s has an interpreter" % image.interp)
        entry, interp_base = interp.entry, interp.base
    if cpuid is None:
        cpuid = probe_cpuid(engine)
    auxv = [
        (L.AT_HWCAP, cpuid[1][3]), (L.AT_PAGESZ, L.PAGE_SIZE),
        (L.AT_CLKTCK, USER_HZ), (L.AT_PHDR, image.phdr), (L.AT_PHENT, image.phent),
        (L.AT_PHNUM, image.phnum), (L.AT_BASE, interp_base), (L.AT_FLAGS, 0),
        (L.AT_ENTRY, image.entry), (L.AT_UID, cred.uid), (L.AT_EUID, cred.euid),
        (L.AT_GID, cred.gid), (L.AT_EGID, cred.egid), (L.AT_SECURE, 0),
        (L.AT_HWCAP2, 0), (L.AT_MINSIGSTKSZ, L.MINSIGSTKSZ),
    ]
    if stack_top is None:
        stack_top = mm.find_free(stack.STACK_SIZE) + stack.STACK_SIZE
    sp, arg_area = stack.build(mm, binary.argv, envp, binary.filename, auxv, random16,
                               stack_top)
    return Image(mm, entry, sp, auxv, cpuid, image.brk, arg_area)


# ---- the arguments -------------------------------------------------------------------

def _pointers(mm, addr: int, keep: int) -> tuple[int, list[int]]:
    """count(): the length of a NULL-terminated array of pointers (EFAULT where it
    cannot be read, E2BIG past MAX_ARG_STRINGS) and its first `keep` pointers (more
    could never fit the argument limit, so a huge array costs no memory). A NULL
    array is empty, as Linux takes it."""
    out: list[int] = []
    count = 0
    if not addr:
        return count, out
    while True:
        chunk = mm.read_upto(addr, L.PAGE_SIZE - (addr & (L.PAGE_SIZE - 1)))
        if len(chunk) < 8:
            # A pointer straddling the end of readable memory, or none readable.
            chunk = mm.read(addr, 8)
        words = memoryview(chunk)[:len(chunk) & ~7].cast("Q")
        try:
            n = words.tolist().index(0)
        except ValueError:
            n = len(words)
        if len(out) < keep:
            out.extend(words[:min(n, keep - len(out))].tolist())
        count += n
        if count > MAX_ARG_STRINGS:
            raise KernelError(E2BIG)
        if n < len(words):
            return count, out
        addr += len(words) * 8


def _arg_limit(rlim_stack: int, count: int) -> int:
    """bprm_stack_limits: the bytes of strings allowed once count pointers are
    accounted for (E2BIG when none are)."""
    limit = max(min(STK_LIM // 4 * 3, rlim_stack // 4), ARG_MAX)
    limit = min(limit, stack.MAX_ARG_AREA)     # what pyunik's fixed stack can hold
    pointers = count * 8
    if limit <= pointers:
        raise KernelError(E2BIG)
    return limit - pointers


def read_arguments(t, argv_ptr: int, envp_ptr: int,
                   filename: bytes) -> tuple[list[bytes], list[bytes]]:
    """argv and envp from the caller's memory, checked and in copy_strings's order
    (the file name, then envp and argv each from the last string back)."""
    mm = t.mm
    keep = max(STK_LIM // 4 * 3, ARG_MAX) // 8       # more pointers can never fit
    argc, argv_ptrs = _pointers(mm, argv_ptr, keep)
    envc, envp_ptrs = _pointers(mm, envp_ptr, keep)
    left = _arg_limit(t.process.rlimits[L.RLIMIT_STACK][0], argc + envc)
    left -= len(filename) + 1
    if left < 0:
        raise KernelError(E2BIG)
    strings = {}
    for ptrs in (envp_ptrs, argv_ptrs):
        for p in reversed(ptrs):
            try:
                s = mm.read_cstring(p, MAX_ARG_STRLEN)
            except KernelError as e:
                raise KernelError(E2BIG if e.errno != EFAULT else EFAULT) from None
            left -= len(s) + 1
            if left < 0:
                raise KernelError(E2BIG)
            strings[p] = s
    argv = [strings[p] for p in argv_ptrs] or [b""]
    return argv, [strings[p] for p in envp_ptrs]


# ---- execve itself ---------------------------------------------------------------------

def execveat(t, dirfd: int, path: bytes, argv_ptr: int, envp_ptr: int, flags: int) -> None:
    """do_execveat_common: everything that may fail, then begin_new_exec. Returns
    only past the point of no return (the caller's result is then unused)."""
    if not path and not flags & L.AT_EMPTY_PATH:
        raise KernelError(ENOENT)           # getname_uflags, before anything else
    if flags & ~(L.AT_SYMLINK_NOFOLLOW | L.AT_EMPTY_PATH):
        raise KernelError(EINVAL)
    process = t.process
    kernel = process.kernel
    vfs = kernel.vfs
    ctx = process.walk_context()
    cwd = process.fs.cwd
    learn = kernel.exec_learner
    follow = not flags & L.AT_SYMLINK_NOFOLLOW
    script_ok = True
    comm_name = None
    where = base = cwd
    filename = path
    if dirfd != L.AT_FDCWD and not path.startswith(b"/"):
        file = process.fds.get(dirfd)
        filename = b"/dev/fd/%d" % dirfd + (b"/" + path if path else b"")
        # The interpreter of a script could not open /dev/fd/N once N has closed.
        script_ok = not process.fds.cloexec[dirfd]
        if path:
            base = file.path
            if base is None or not base.inode.is_dir:
                raise KernelError(ENOTDIR)
        else:
            where = file.path
            if where is None or getattr(file, "inode", None) is not where.inode:
                raise KernelError(EACCES)    # a pipe, socket or other fd with no file
            comm_name = b""
    if not path:                             # AT_EMPTY_PATH: the fd's file (or cwd)
        first = (where, check_exec(where, process.cred))
    else:
        first = open_exec(vfs, ctx, base, path, process.cred, follow, learn)
    argv, envp = read_arguments(t, argv_ptr, envp_ptr, filename)
    try:
        binary = find_binary(vfs, ctx, cwd, process.cred, path, argv, filename,
                             learn=learn, first=first, script_ok=script_ok)
        if comm_name is not None:
            # the name of the file finally loaded (bprm->file's dentry)
            binary.comm_name = binary.path.names[-1] if binary.path.names else b"/"
        image = load_binary(vfs, ctx, cwd, process.cred, binary, envp,
                            kernel.memory, kernel.random_bytes(16),
                            learn=learn, cpuid=kernel.cpuid or None)
    except elf.ExecFormatError:
        raise KernelError(ENOEXEC) from None
    begin_new_exec(t, binary, image, envp)


def begin_new_exec(t, binary: Binary, image: Image, envp: list[bytes]) -> None:
    """The point of no return: image becomes t's process's (see the module
    docstring for each step)."""
    from . import threads, timers
    process = t.process
    kernel = process.kernel
    sched = kernel.sched
    # de_thread: every other thread ends, and t takes the pid as its tid.
    for other in list(process.threads):
        if other is not t:
            _end_thread(other, sched)
    t.tid = process.pid
    # exec_mm_release on the old memory: the robust list is walked; clear_child_tid
    # is written only where someone else still sees that memory (a vfork parent).
    old_mm = process.mm
    shared = any(p is not process and p.mm is old_mm and p.exit_state is None
                 for p in kernel.processes.values())
    if not shared:
        t.clear_child_tid = 0
    threads.release_futexes(t)
    t.robust_list = (0, 0)
    t.clear_child_tid = 0
    # unshare_files: a table shared with another process becomes this one's own.
    if any(p is not process and p.fds is process.fds and p.exit_state is None
           for p in kernel.processes.values()):
        process.fds = process.fds.copy()
    # exec_mmap: the new address space, on its engine; the old engine stops when
    # this call returns and is closed after its run (unless a vfork parent has it).
    sched.stop_at_syscall_end(t)
    image.mm.engine.on_syscall = kernel.syscall_callback()
    process.mm = image.mm
    process.brk_area = None       # (a program of a shared address space leaves it)
    if not shared:
        sched.retire(old_mm)
    kernel.cpuid = image.cpuid
    release_exe(process)
    hold_exe(process, binary.inode)
    process.exe = binary.path.text().decode(errors="surrogateescape")
    process.auxv, process.arg_area = image.auxv, image.arg_area
    process.argv, process.envp = binary.argv, envp
    process.entry = image.entry
    process.dumpable = 1
    process.did_exec = True
    process.cred.exec_caps()            # no file capabilities, no set-id bits here
    t.comm = binary.comm
    # Signals: handlers reset, ignored stay ignored; mask and pending stay.
    process.sighand = process.sighand.for_exec()
    t.altstack = (0, t.altstack[1], 0)     # setup_new_exec: the flags stay
    t.saved_sigmask = None
    t.restart = t.restart_block = None
    if process.timers is not None:
        timers.of(process).cancel_all()          # POSIX timers; itimers survive exec
    process.fds.close_on_exec()
    process.vfork_done.wake_all()


def hold_exe(process, inode) -> None:
    """The running image keeps its executable from being opened for writing
    (exe_file_deny_write_access): such an open fails with ETXTBSY."""
    inode = inode.real if inode is not None else None
    process.exe_inode = inode
    if inode is not None:
        inode.write_count -= 1


def release_exe(process) -> None:
    """The image's hold on its executable ends (exe_file_allow_write_access): it
    may be opened for writing again."""
    inode = process.exe_inode
    if inode is not None:
        inode.write_count += 1
        process.exe_inode = None


def _end_thread(other, sched) -> None:
    """de_thread's end of another thread: off its wait queues and the CPU's queues,
    its futex duties done (zap_other_threads, then its exit)."""
    from . import threads
    process = other.process
    if other.blocked is not None:
        for q in other.blocked.wait.queues:
            q.remove(other)
        other.blocked = None
    process.exited_cpu_ns += other.cpu_ns
    threads.exit_thread(other, 0)
