"""Seeded fuzzers for hostile input, run by tests/test_hostile.py in a child process
(so that its peak RSS is the fuzzer's alone), or by hand:

    python tests/hostile_fuzz.py elf SEED COUNT
    python tests/hostile_fuzz.py syscalls SEED COUNT
    python tests/hostile_fuzz.py objects SEED COUNT
    python tests/hostile_fuzz.py wild FIRST COUNT

`elf` mutates one header field (ELF header or a program header) of the committed guest
binaries and runs each result in an in-process Unikernel; `syscalls` runs small guest
programs, built here, that issue random system calls with random arguments; `objects`
first makes sockets of every family, an epoll, an eventfd, a pidfd and System V IPC
objects, then calls the network, epoll, futex, signal, IPC, pidfd and execve system
calls on them with arguments drawn by kind (fds of those objects; pointers into
planted structures whose own pointers are wild, to the edge of the mapping, to
read-only code, to nowhere; edge values); `wild` makes those calls on every object
fd with each pointer argument in turn wild and the others plausible. All print
one JSON line: the cases run, the failures (a Python exception other than the
ProgramError every refused file gives), how the cases ended, and the peak RSS in bytes.
A guest still running after WATCHDOG seconds is killed as by SIGKILL from the host.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import struct
import sys
import tempfile
import threading
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pyunik  # noqa: E402

BIN = REPO / "guest_images" / "bin"
MEMORY = 64 << 20            # the guests' -m
WATCHDOG = 5.0
ELF_SOURCES = ["hello-musl", "hello-musl-pie", "hello-glibc", "hello-glibc-pie",
               "hello-glibc-dyn", "args-musl-pie"]

# (offset, size) of each ELF header field the loader might read, after e_ident.
EHDR_FIELDS = [(16, 2), (18, 2), (20, 4), (24, 8), (32, 8), (40, 8), (48, 4), (52, 2),
               (54, 2), (56, 2), (58, 2), (60, 2), (62, 2)]
PHDR_FIELDS = [(0, 4), (4, 4), (8, 8), (16, 8), (24, 8), (32, 8), (40, 8), (48, 8)]
INTERESTING = [0, 1, 2, 3, 7, 0x38, 0x40, 0xFFF, 0x1000, 0x10000, 0x400000,
               0x7FFFFFFFF000, 0x800000000000, 0xFFFF800000000000, 0xFFFFFFFFFF600000,
               0x200000001000, 1 << 40, 1 << 62, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]


def _run_guarded(vm: pyunik.Unikernel) -> bool:
    """Run vm to its end; a guest still running after WATCHDOG seconds is killed (and
    the answer is True)."""
    fired = []

    def stop():
        fired.append(True)
        vm.kernel.interrupt(signal.SIGKILL)
    timer = threading.Timer(WATCHDOG, stop)
    timer.daemon = True
    timer.start()
    try:
        vm.run()
    finally:
        timer.cancel()
    return bool(fired)


def _case(argv, failures, what, **kw) -> str:
    """Run one case; returns how it ended (for the summary)."""
    vm = None
    ended = "refused"
    try:
        vm = pyunik.Unikernel(argv, env={}, memory=MEMORY, quiet=True, capture_output=True,
                              crash_report=False, **kw)
        # A guest looping in its own code is no pyunik bug (it would loop natively
        # too): the watchdog ends it. A hang inside pyunik never returns here, and the
        # test's timeout reports it.
        ended = ("watchdog" if _run_guarded(vm) else
                 "killed by %d" % vm.kernel.exit_signal if vm.kernel.exit_signal else
                 "exit %d" % vm.kernel.exit_status)
    except pyunik.ProgramError:
        pass
    except BaseException:
        failures.append("%s:\n%s" % (what, traceback.format_exc(limit=-4)))
        ended = "exception"
    finally:
        if vm is not None:
            vm.close()
    return ended


def _mutate(rng: random.Random, data: bytearray, phoff: int, phnum: int) -> str:
    """Change one field: of the ELF header, or of a program header of the unchanged
    file (at phoff, phnum of them)."""
    if rng.random() < 0.35:
        off, size = rng.choice(EHDR_FIELDS)
        where = "ehdr+%d" % off
    else:
        k = rng.randrange(phnum)
        field_off, size = rng.choice(PHDR_FIELDS)
        off = phoff + 56 * k + field_off
        where = "phdr[%d]+%d" % (k, field_off)
    old = int.from_bytes(data[off:off + size], "little")
    choice = rng.random()
    if choice < 0.5:
        new = rng.choice(INTERESTING)
    elif choice < 0.7:
        new = old + rng.choice([-1, 1]) * rng.choice([1, 8, 0x1000, 0x10000, 1 << 32])
    elif choice < 0.85:
        new = old ^ (1 << rng.randrange(8 * size))
    else:
        new = rng.getrandbits(8 * size)
    new &= (1 << (8 * size)) - 1
    data[off:off + size] = new.to_bytes(size, "little")
    return "%s %#x -> %#x" % (where, old, new)


def fuzz_elf(seed: int, count: int) -> dict:
    rng = random.Random(seed)
    sources = {name: (BIN / name).read_bytes() for name in ELF_SOURCES}
    failures: list[str] = []
    endings: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            name = rng.choice(ELF_SOURCES)
            data = bytearray(sources[name])
            phoff, = struct.unpack_from("<Q", data, 32)
            phnum, = struct.unpack_from("<H", data, 56)
            what = "%s case %d: %s" % (name, i, "; ".join(
                _mutate(rng, data, phoff, phnum) for _ in range(rng.choice([1, 1, 1, 2, 3]))))
            path = os.path.join(tmp, "m%d" % i)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o755)
            if i % 3 == 2:
                # the same file through a guest's execve: refused with an errno (the
                # launcher then exits 99), or run in the launcher's place
                launcher = os.path.join(tmp, "launch%d" % i)
                with open(launcher, "wb") as f:
                    f.write(exec_program(path))
                os.chmod(launcher, 0o755)
                ended = "execve: " + _case([launcher], failures, "execve of " + what)
                os.unlink(launcher)
            else:
                ended = _case([path], failures, what)
            endings[ended] = endings.get(ended, 0) + 1
            os.unlink(path)
    return {"cases": count, "failures": failures, "endings": endings}


def exec_program(path: str) -> bytes:
    """A static ELF that calls execve(path, [path], []) and exits 99 if it returns."""
    structs = bytearray(0x300)
    name = path.encode() + b"\0"
    structs[:len(name)] = name
    struct.pack_into("<QQQ", structs, 0x200, DATA + 0x1000, 0, 0)
    return syscall_program([(59, [DATA + 0x1000, DATA + 0x1200, DATA + 0x1210, 0, 0, 0]),
                            (231, [99, 0, 0, 0, 0, 0])], bytes(structs))


def _run_listing(tmp: str, name: str, listing: list, shown: list, first: int, failures: list,
                 endings: dict, structs: bytes = b"") -> None:
    """Build syscall_program(listing, structs) as tmp/name, run it, count how it ended;
    a failure names the calls in shown (numbered from first)."""
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(syscall_program(listing, structs))
    os.chmod(path, 0o755)
    what = "program at call %d: %s" % (first, ", ".join(
        "%d(%s)" % (nr, ", ".join("%#x" % a for a in args)) for nr, args in shown))
    ended = _case([path], failures, what)
    endings[ended] = endings.get(ended, 0) + 1
    os.unlink(path)


# ---- random system calls -----------------------------------------------------------

# Calls that end the run, wait for a signal or a child, or sleep for a guest-given time:
# each would end the program before the other calls, or stall the fuzzer.
SKIP = {"exit", "exit_group", "kill", "tkill", "tgkill", "rt_sigqueueinfo",
        "rt_tgsigqueueinfo", "pause", "nanosleep", "clock_nanosleep", "rt_sigsuspend",
        "rt_sigtimedwait", "poll", "ppoll", "select", "pselect6", "epoll_wait",
        "epoll_pwait", "epoll_pwait2", "wait4", "waitid", "futex", "futex_waitv",
        "execve", "execveat", "fork", "vfork", "clone", "clone3", "alarm", "setitimer",
        "timer_settime", "timerfd_settime", "rt_sigreturn", "reboot", "vhangup",
        "setrlimit", "prlimit64", "sched_yield", "io_getevents", "io_pgetevents",
        "msgrcv", "semop", "semtimedop", "mq_timedreceive", "mq_timedsend"}

# Calls that move guest-given sizes of data or memory: drawn ten times as often.
FAVOURED = {"read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev",
            "preadv2", "pwritev2", "sendfile", "copy_file_range", "splice", "getdents64",
            "mmap", "munmap", "mprotect", "mremap", "brk", "madvise", "mincore", "msync",
            "ftruncate", "fallocate", "lseek", "openat", "memfd_create", "pipe2", "dup2",
            "getcwd", "readlink", "getrandom", "uname", "fstat", "statx", "ioctl", "fcntl"}
CODE_BASE = 0x400000
DATA = CODE_BASE + 0x1000        # strings and a scratch buffer the arguments point into
STRINGS = [b"/tmp/f\0", b"/\0", b".\0", b"/proc/self/maps\0", b"/dev/zero\0", b"x" * 300 + b"\0"]


def _arg(rng: random.Random, pointers: list[int], first: bool = False) -> int:
    if first and rng.random() < 0.5:           # most first arguments are fds
        return rng.choice([0, 1, 2, 3, 4, 5, 0xFFFFFF9C])
    r = rng.random()
    if r < 0.25:
        return rng.choice([0, 1, 2, 3, 4, 0xFFFFFF9C, (1 << 64) - 1, (1 << 64) - 100])
    if r < 0.5:
        return rng.choice(pointers)
    if r < 0.7:
        return rng.choice(INTERESTING)
    if r < 0.85:
        return rng.randrange(0, 0x10000)
    return rng.getrandbits(64)


def _strings() -> tuple[bytes, list[int]]:
    """The data page's strings and the pointers the arguments draw from."""
    pointers = [DATA, DATA + 0x800, DATA + 0x1000 - 8, 0x10, 0xFFFFFFFFFF600000,
                0x7FFFFFFFE000, 0x7FFFFFFFF000]
    strings = b""
    for s in STRINGS:
        pointers.append(DATA + len(strings))
        strings += s
    return strings, pointers


def random_calls(rng: random.Random, calls: int, numbers: list[int]) -> list:
    pointers = _strings()[1]
    return [(rng.choice(numbers), [_arg(rng, pointers, k == 0) for k in range(6)])
            for _ in range(calls)]


# Calls found to hurt the host once (issue 7): each must answer without a host buffer
# of the size given. DATA + 0x800 receives pipe2's fds (3 and 4); the memfd is then 5.
HOSTILE_CALLS = [
    (1, [1, 0x7FFF00000000, 0x20000000C300, 0, 0, 0]),      # write from unmapped memory
    (1, [1, DATA, 0x20000000C300, 0, 0, 0]),                # write far past the mapping
    (293, [DATA + 0x800, 0, 0, 0, 0, 0]),                   # pipe2
    (18, [4, 0x7FFF00000000, 0x20000000C300, 0, 0, 0]),     # pwrite64 on the pipe
    (319, [DATA, 0, 0, 0, 0, 0]),                           # memfd_create("/tmp/f")
    (285, [5, 0, 1, 0x200000001000, 0, 0]),                 # fallocate(memfd): ENOSPC
    (77, [5, 0x200000001000, 0, 0, 0, 0]),                  # ftruncate: a hole, no memory
    (18, [5, DATA, 8, 0x100000000000, 0, 0]),               # pwrite64 far into the hole
]


def syscall_program(listing: list, structs: bytes = b"") -> bytes:
    """A static ELF issuing the (nr, args) system calls from a table in its data,
    then exit_group(0); structs go at DATA + 0x1000 (STRUCTS)."""
    strings = _strings()[0].ljust(0x1000, b"\0") + structs
    table = b"".join(struct.pack("<7Q", nr, *args) for nr, args in listing)
    table += struct.pack("<Q", (1 << 64) - 1)
    table_addr = DATA + 0x2000
    code = (b"\x48\xbb" + struct.pack("<Q", table_addr)         # movabs rbx, table
            + b"\x48\x8b\x03"                                   # loop: mov rax, [rbx]
            + b"\x48\x83\xf8\xff"                               # cmp rax, -1
            + b"\x74\x20"                                       # je done
            + b"\x48\x8b\x7b\x08\x48\x8b\x73\x10\x48\x8b\x53\x18"   # rdi, rsi, rdx
            + b"\x4c\x8b\x53\x20\x4c\x8b\x43\x28\x4c\x8b\x4b\x30"   # r10, r8, r9
            + b"\x0f\x05"                                       # syscall
            + b"\x48\x83\xc3\x38"                               # add rbx, 56
            + b"\xeb\xd7"                                       # jmp loop
            + b"\x31\xff\xb8\xe7\x00\x00\x00\x0f\x05")          # done: exit_group(0)
    hdr = 64 + 56
    body = code.ljust(0x1000 - hdr, b"\xcc") + strings.ljust(0x2000, b"\0") + table
    ehdr = (b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
            + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, CODE_BASE + hdr, 64, 0, 0, 64, 56,
                          1, 0, 0, 0))
    phdr = struct.pack("<IIQQQQQQ", 1, 7, 0, CODE_BASE, CODE_BASE, hdr + len(body),
                       hdr + len(body) + 0x10000, 0x1000)
    return ehdr + phdr + body


def fuzz_syscalls(seed: int, count: int, per_program: int = 25) -> dict:
    from pyunik.kernel.syscalls.table import SyscallTable
    rows = SyscallTable().sorted()
    numbers = [r.nr for r in rows if r.name not in SKIP]
    numbers += [r.nr for r in rows if r.name in FAVOURED] * 9
    rng = random.Random(seed)
    failures: list[str] = []
    endings: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        done = 0
        while done < count:
            n = min(per_program, count - done)
            listing = HOSTILE_CALLS if done == 0 else random_calls(rng, n, numbers)
            n = len(listing)
            _run_listing(tmp, "calls%d" % done, listing, listing, done, failures, endings)
            done += n
    return {"cases": count, "failures": failures, "endings": endings}


# ---- random calls on live objects: sockets, epoll, futexes, signals, IPC, pidfd, exec ----

# The handler modules of kernel/syscalls/ whose calls `objects` makes; of those, calls
# that end the program or send signals it would die of are left out.
OBJECT_MODULES = {"net", "epoll", "futex", "signal", "ipc", "wait", "execve", "poll"}
OBJECT_SKIP = {"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
               "pidfd_send_signal", "rt_sigreturn", "pause", "rt_sigsuspend", "wait4",
               "waitid"}
STRUCTS = DATA + 0x1000          # planted structures (object_structs)
SCRATCH = STRUCTS + 0x300        # out-pointers land here
MAP_END = CODE_BASE + 0x14000    # the program's mapping ends here (syscall_program)
WILD = [0x10, MAP_END - 4, MAP_END - 1, CODE_BASE, 0xFFFFFFFFFF600000, 0x7FFFFFFFF000,
        0x800000000000, 0xFFFF800000000000, (1 << 64) - 8]


def object_structs() -> bytes:
    """What the pointers of `objects` calls point at, at STRUCTS: a sockaddr_in for
    127.0.0.1:7 and a sockaddr_un, iovecs and msghdrs with one good and one wild part,
    a zero timespec (a wait that returns at once), an epoll_event, a full sigset, a
    socklen_t, a sigaction with a wild handler, an SCM_RIGHTS message, argv/envp with
    a wild entry, a sembuf, a msgbuf, a futex word."""
    b = bytearray(0x300)

    def put(off, fmt, *values):
        struct.pack_into(fmt, b, off, *values)
    put(0x000, "<HH4s8x", 2, 7 << 8, bytes((127, 0, 0, 1)))
    put(0x010, "<H108s", 1, b"/tmp/s")
    put(0x080, "<QQQQ", SCRATCH, 16, WILD[1], 64)
    put(0x0A0, "<QQQQ", WILD[6], 1 << 40, SCRATCH, 8)
    put(0x0C0, "<QI4xQQQQi4x", STRUCTS, 16, STRUCTS + 0x80, 2, STRUCTS + 0x200, 24, 0)
    put(0x100, "<QI4xQQQQi4x", WILD[0], 16, STRUCTS + 0xA0, 2, WILD[1], 64, 0)
    put(0x140, "<qq", 0, 0)
    put(0x150, "<IQ", 1, 7)
    put(0x160, "<Q", (1 << 64) - 1)
    put(0x170, "<I", 16)
    put(0x180, "<QQQQ", WILD[0], 0x04000004, WILD[1], 0)
    put(0x1C0, "<QQQQ", 1, 0, 0, 0)            # SIG_IGN
    put(0x200, "<QiiI", 20, 1, 1, 3)
    put(0x240, "<QQQ", DATA, WILD[2], 0)
    put(0x280, "<HhH", 0, -1, 0o4000)
    put(0x288, "<q8s", 1, b"hi")
    put(0x2C0, "<I", 0)
    return bytes(b)


# Made first in every `objects` program: fds 3-15 and the IPC ids 0.
OBJECT_SETUP = [
    (13, [13, STRUCTS + 0x1C0, 0, 8]),      # SIGPIPE ignored: EPIPE ends no program
    (41, [2, 1 | 0x800, 0]),                # 3 TCP
    (41, [2, 2 | 0x800, 0]),                # 4 UDP
    (41, [1, 1 | 0x800, 0]),                # 5 unix stream
    (41, [1, 2 | 0x800, 0]),                # 6 unix datagram
    (41, [16, 3 | 0x800, 0]),               # 7 netlink route
    (53, [1, 1 | 0x800, 0, SCRATCH]),       # 8, 9 a unix pair
    (291, [0]),                             # 10 epoll
    (290, [0, 0x800]),                      # 11 eventfd
    (41, [2, 2 | 0x800, 1]),                # 12 ping
    (434, [1000, 0]),                       # 13 pidfd of the first process, if it is 1000
    (49, [3, STRUCTS, 16]),                 # TCP bound to 127.0.0.1:7, listening
    (50, [3, 5]),
    (41, [2, 1 | 0x800, 0]),                # 13 or 14: connecting to it
    (42, [14, STRUCTS, 16]),
    (42, [13, STRUCTS, 16]),
    (233, [10, 1, 3, STRUCTS + 0x150]),     # epoll watching the listener
    (68, [0, 0o1600]),                      # msgget, semget, shmget (IPC_PRIVATE)
    (64, [0, 4, 0o1600]),
    (29, [0, 4096, 0o1600]),
    (41, [2, 3 | 0x800, 1]),                # 15 raw ICMP (the guest's root may)
]
OBJECT_FDS = list(range(3, 16))
OBJECT_POINTERS = WILD + [STRUCTS + off for off in (0, 0x10, 0x80, 0xA0, 0xC0, 0x100, 0x140,
                                                      0x150, 0x160, 0x170, 0x180, 0x200,
                                                      0x240, 0x280, 0x288, 0x2C0)] + [SCRATCH]
_POINTER_SHOWS = {"ptr", "path", "inbuf", "outbuf", "iniovec", "outiovec", "argv", "envp",
                  "sockaddr", "outsockaddr", "socklenptr", "msghdr", "outmsghdr", "intpair",
                  "pollfds", "fdset", "timeval", "pselectsig", "epollevent", "epollevents",
                  "rusage", "timespec", "sigset"}


def _object_arg(rng: random.Random, kind) -> int:
    if kind.show in ("int", "dirfd") and kind.c_type.endswith("fd") and rng.random() < 0.85:
        return rng.choice(OBJECT_FDS)
    if kind.show in _POINTER_SHOWS:
        r = rng.random()
        if r < 0.45:
            return rng.choice(WILD)
        if r < 0.9:
            return rng.choice(OBJECT_POINTERS)
        return 0
    if rng.random() < 0.6:                    # counts, lengths, flags, levels: mostly small
        return rng.choice([0, 0, 1, 1, 2, 3, 4, 6, 8, 16, 20, 24, 41, 56, 64, 256, 4096])
    return _arg(rng, OBJECT_POINTERS)


def fuzz_objects(seed: int, count: int, per_program: int = 25) -> dict:
    from pyunik.kernel.syscalls.table import HandlerName, SyscallTable
    rows = [r for r in SyscallTable().sorted()
            if isinstance(r._handler, HandlerName) and r._handler.module in OBJECT_MODULES
            and r.name not in OBJECT_SKIP]
    rng = random.Random(seed)
    failures: list[str] = []
    endings: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        done = 0
        while done < count:
            n = min(per_program, count - done)
            calls = []
            for _ in range(n):
                r = rng.choice(rows)
                args = [_object_arg(rng, k) for k in r.args]
                calls.append((r.nr, args + [0] * (6 - len(args))))
            _run_listing(tmp, "objects%d" % done, _with_setup(calls), calls, done, failures,
                         endings, object_structs())
            done += n
    return {"cases": count, "failures": failures, "endings": endings}


def _with_setup(calls: list) -> list:
    """OBJECT_SETUP's calls (padded to six arguments), then calls."""
    return [(nr, args + [0] * (6 - len(args))) for nr, args in OBJECT_SETUP] + calls


def _good_arg(kind, fd: int) -> int:
    """A plausible value of kind: the fd, a planted structure, a small number."""
    if kind.show in ("int", "dirfd") and kind.c_type.endswith("fd"):
        return fd
    if kind.show in ("sockaddr", "ptr", "path", "argv", "envp"):
        return STRUCTS
    if kind.show in ("msghdr", "outmsghdr"):
        return STRUCTS + 0xC0
    if kind.show in ("iniovec", "outiovec"):
        return STRUCTS + 0x80
    if kind.show == "socklenptr":
        return STRUCTS + 0x170
    if kind.show in _POINTER_SHOWS:
        return SCRATCH
    return 16 if kind.c_type in ("size_t", "int", "unsigned int") else 0


def wild_listing() -> list:
    """Every object call on every object fd with each pointer argument wild in turn
    (the others plausible): (nr, args) for all of them."""
    from pyunik.kernel.syscalls.table import HandlerName, SyscallTable
    listing = []
    for r in SyscallTable().sorted():
        if not isinstance(r._handler, HandlerName) or r._handler.module not in OBJECT_MODULES \
                or r.name in OBJECT_SKIP:
            continue
        fd_args = any(k.c_type.endswith("fd") for k in r.args)
        for fd in OBJECT_FDS if fd_args else [0]:
            for i, k in enumerate(r.args):
                if k.show not in _POINTER_SHOWS:
                    continue
                for wild in (WILD[0], WILD[1], CODE_BASE, WILD[7]):
                    args = [_good_arg(kk, fd) for kk in r.args]
                    args[i] = wild
                    listing.append((r.nr, args + [0] * (6 - len(args))))
    return listing


def fuzz_wild(seed: int, count: int, per_program: int = 60) -> dict:
    """wild_listing's calls (count of them at most, from seed on), after OBJECT_SETUP,
    per_program to a program."""
    calls = wild_listing()[seed:seed + count]
    failures: list[str] = []
    endings: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for start in range(0, len(calls), per_program):
            chunk = calls[start:start + per_program]
            _run_listing(tmp, "wild%d" % start, _with_setup(chunk), chunk, seed + start,
                         failures, endings, object_structs())
    return {"cases": len(calls), "failures": failures, "endings": endings}


def main(argv: list[str]) -> int:
    kind, seed, count = argv[0], int(argv[1]), int(argv[2])
    result = {"elf": fuzz_elf, "syscalls": fuzz_syscalls, "objects": fuzz_objects,
              "wild": fuzz_wild}[kind](seed, count)
    result["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sys.stdout.flush()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
