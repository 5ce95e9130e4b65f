"""execve's work, apart from making a process (Linux's fs/exec.c, binfmt_script.c,
binfmt_elf.c): find the program, check that the caller may run it, follow `#!` lines,
and build the program's image in a new address space.

- `open_exec`: the file a path names, walked with the caller's root and credentials;
  EACCES unless it is a regular file on a mount without noexec that the caller's
  credentials may execute (do_open_execat: path_noexec, may_open with MAY_EXEC).
- `find_binary`: open_exec, then binfmt_script: a file starting with "#!" is run by
  its interpreter, argv becoming [interpreter, (its one optional argument), the
  script's name, argv[1:]...], up to 4 levels deep (ELOOP beyond).
- `load_binary`: the ELF and its PT_INTERP interpreter (opened as open_exec does)
  mapped into a new AddressSpace on a new CPU engine, the brk set, the auxiliary
  vector and the initial stack built. Nothing of the caller changes: a failure
  leaves it as it was, and the caller commits the image (`Kernel.spawn` for the
  first process; execve(2) will replace a live process's mm, close its
  close-on-exec fds and reset its handlers with SigHand.for_exec()).

Layer: kernel. Calls fs/ (the walk, permission checks), loader/ (ELF, stack), mm/
(AddressSpace), cpu/ (a new Engine, its cpuid probe).
"""

from __future__ import annotations

from dataclasses import dataclass
from errno import EACCES, ELOOP

from ..abi import linux as L
from ..abi.binfmts import BINPRM_BUF_SIZE, BINPRM_MAX_RECURSION
from ..abi.fs import MAY_EXEC
from ..abi.proc import USER_HZ
from ..cpu.cpuid import probe_cpuid
from ..cpu.engine import Engine
from ..errors import KernelError
from ..fs.vfs import Path, WalkContext, permitted
from ..loader import elf, stack
from ..mm.address_space import AddressSpace
from .credentials import Credentials


@dataclass
class Binary:
    """What execve found: the file to load (its Path, symlinks resolved, is what
    /proc/self/exe names) and its bytes, argv after any #! rewriting, and the name
    the caller gave (AT_EXECFN)."""
    path: Path
    data: bytes
    argv: list[bytes]
    filename: bytes

    @property
    def comm(self) -> bytes:
        """The task's new name: the last part of the name given, even for a script
        (begin_new_exec's __set_task_comm(kbasename(bprm->filename)))."""
        return self.filename.rsplit(b"/", 1)[-1][:L.TASK_COMM_LEN - 1]


@dataclass
class Image:
    """A program ready to run: its address space, where to start, the stack pointer
    and the auxiliary vector it was given, the CPU model's cpuid leaves."""
    mm: AddressSpace
    entry: int
    sp: int
    auxv: list[tuple[int, int]]
    cpuid: dict


def open_exec(vfs, ctx: WalkContext, base: Path, path: bytes,
              cred: Credentials) -> tuple[Path, bytes]:
    """The file path names (relative to base unless absolute) and its bytes, if cred
    may execute it: ENOENT and the walk's errors as they come, EACCES for anything
    but a regular file, a noexec mount or no execute permission."""
    where = vfs.resolve(ctx, base, path)
    inode = where.inode
    if not inode.is_regular:
        raise KernelError(EACCES)
    if "noexec" in where.mount.options.split(","):
        raise KernelError(EACCES)
    if not permitted(inode, MAY_EXEC, *cred.walk_creds):
        raise KernelError(EACCES)
    return where, inode.read(0, inode.size)


def find_binary(vfs, ctx: WalkContext, cwd: Path, cred: Credentials, path: bytes,
                argv: list[bytes], filename: bytes | None = None) -> Binary:
    """The binary to load for execve(path, argv): path itself, or the interpreter its
    #! line names (with that line's one optional argument and the script's name
    inserted before argv[1:]). filename is the name the caller gave (default: path);
    it is what the script's interpreter is told to run."""
    filename = path if filename is None else filename
    name = filename
    where, data = open_exec(vfs, ctx, cwd, path, cred)
    for _ in range(BINPRM_MAX_RECURSION + 1):
        if not data.startswith(b"#!"):
            return Binary(where, data, argv, filename)
        line = data[2:BINPRM_BUF_SIZE].split(b"\n", 1)[0].strip(b" \t")
        if not line:
            raise elf.ExecFormatError("empty #! line")
        parts = line.split(None, 1)
        argv = [parts[0]] + parts[1:] + [name] + argv[1:]
        name = parts[0]
        where, data = open_exec(vfs, ctx, cwd, name, cred)
    raise KernelError(ELOOP)


def load_binary(vfs, ctx: WalkContext, cwd: Path, cred: Credentials, binary: Binary,
                envp: list[bytes], memory_limit: int, random16: bytes) -> Image:
    """binary mapped into a new address space with its interpreter, and the initial
    stack (argv, envp, auxv, AT_RANDOM's random16) built there."""
    engine = Engine()
    mm = AddressSpace(engine, memory_limit)
    exe = binary.path.text().decode(errors="surrogateescape")
    image = elf.load(mm, binary.data, exe)
    entry, interp_base = image.entry, 0
    if image.interp is not None:
        # An interpreter that cannot be opened fails execve with open_exec's errno
        # (ENOENT for a missing one), as load_elf_binary does, not ENOEXEC.
        _, interp_data = open_exec(vfs, ctx, cwd, image.interp.encode(), cred)
        interp = elf.load(mm, interp_data, image.interp, interpreter=True)
        if interp.interp is not None:
            raise elf.ExecFormatError("interpreter %s has an interpreter" % image.interp)
        entry, interp_base = interp.entry, interp.base
    mm.set_initial_brk(image.brk)
    cpuid = probe_cpuid(engine)
    auxv = [
        (L.AT_HWCAP, cpuid[1][3]), (L.AT_PAGESZ, L.PAGE_SIZE),
        (L.AT_CLKTCK, USER_HZ), (L.AT_PHDR, image.phdr), (L.AT_PHENT, image.phent),
        (L.AT_PHNUM, image.phnum), (L.AT_BASE, interp_base), (L.AT_FLAGS, 0),
        (L.AT_ENTRY, image.entry), (L.AT_UID, cred.uid), (L.AT_EUID, cred.euid),
        (L.AT_GID, cred.gid), (L.AT_EGID, cred.egid), (L.AT_SECURE, 0),
        (L.AT_HWCAP2, 0), (L.AT_MINSIGSTKSZ, L.MINSIGSTKSZ),
    ]
    sp = stack.build(mm, binary.argv, envp, binary.filename, auxv, random16)
    engine.clear_registers()
    engine.set_reg("rsp", sp)
    return Image(mm, entry, sp, auxv, cpuid)
