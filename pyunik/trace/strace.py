"""strace-style lines: `write(1, "hello\\n", 6) = 6`.

Reads only the syscall table's row (name and argument kinds) and guest memory, so
what is printed is what the handler was given. Strings and buffers are cut at 32
bytes like strace's default -s 32; flags are decoded symbolically; errors print as
`-1 ENOENT (No such file or directory)`.

Layer: trace. Calls: abi/ (names) and usermem; the kernel's traced dispatch
calls it.
"""

from __future__ import annotations

import errno
import os

from ..abi import fcntl, fs, futex, inotify, mman, prctl, random, resource, signal, wait
from ..abi import eventfd, ioctls, sigcontext, socket as sockets, time as clocks
from ..abi.limits import PATH_MAX
from ..errors import KernelError
from . import netfmt

STRING_LIMIT = 32            # strace's default -s 32
_RETURNS_ADDRESS = {"mmap", "brk", "mremap", "shmat"}
# open and openat print their mode only when the flags create a file (O_CREAT or
# O_TMPFILE), as strace does: the position of the flags argument.
_MODE_AFTER_FLAGS = {"open": 1, "openat": 2}


def _flag_table(pairs):
    return [(v, n) for n, v in pairs]


# Every name below comes from abi/: flag tables print set bits in order, enums one name.
FLAGS = {
    "prot": _flag_table(mman.PROT_FLAGS),
    "mmap": _flag_table(mman.MAP_FLAGS),
    "open": _flag_table(fcntl.O_FLAGS),
    "fd_flags": _flag_table(fcntl.O_FLAGS),      # O_* bits with no access mode (pipe2, dup3)
    "eventfd": _flag_table(eventfd.EFD_FLAGS),
    "mremap": _flag_table(mman.MREMAP_FLAGS),
    "msync": _flag_table(mman.MS_FLAGS),
    "at": _flag_table(fcntl.AT_FLAG_NAMES),
    "rename": _flag_table(fs.RENAME_FLAGS),
    "wait": _flag_table(wait.WAIT_FLAGS),
    "grnd": _flag_table(random.GRND_FLAGS),
    "flock": _flag_table(fcntl.LOCK_FLAGS),
    "access": _flag_table(fcntl.ACCESS_FLAGS),
    "inotify": inotify.MASK_NAMES,
    "inotify_init": inotify.INIT_FLAG_NAMES,
    "msg": _flag_table(sockets.MSG_FLAGS),
    "sock_flags": _flag_table(sockets.SOCK_FLAGS),
}
ZERO = {"prot": "PROT_NONE", "access": "F_OK"}    # what a flags value of 0 prints as
ENUMS = {
    "whence": fs.SEEK_NAMES,
    "sighow": signal.SIGPROCMASK_HOW,
    "fcntl": fcntl.FCNTL_COMMANDS,
    "rlimit": dict(enumerate(resource.RLIMIT_NAMES)),
    "clock": clocks.CLOCK_NAMES,
    "arch_prctl": prctl.ARCH_NAMES,
    "madvise": mman.MADV_NAMES,
    "ioctl": ioctls.IOCTL_NAMES,
    "prctl": prctl.PRCTL_NAMES,
    "fadvise": fcntl.POSIX_FADV_NAMES,
    "af": sockets.AF_NAMES,
    "sol": sockets.SOL_NAMES,
    "shut": sockets.SHUT_NAMES,
}


def _futex_op(op: int) -> str:
    """FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, as strace prints futex's op."""
    name = futex.FUTEX_OP_NAMES.get(op & futex.FUTEX_CMD_MASK)
    if name is None:
        return str(op)
    if op & futex.FUTEX_PRIVATE_FLAG:
        name += "_PRIVATE"
    if op & futex.FUTEX_CLOCK_REALTIME:
        name += "|FUTEX_CLOCK_REALTIME"
    return name


def quote(data: bytes, limit: int = STRING_LIMIT) -> str:
    """A C string literal as strace prints it, '...' after it when cut."""
    cut = len(data) > limit
    data = data[:limit]
    out = ['"']
    for i, b in enumerate(data):
        c = chr(b)
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif c == "\v":
            out.append("\\v")
        elif c == "\f":
            out.append("\\f")
        elif 32 <= b < 127:
            out.append(c)
        else:
            nxt = data[i + 1] if i + 1 < len(data) else 0
            out.append("\\%03o" % b if 48 <= nxt <= 57 else "\\%o" % b)
    out.append('"')
    if cut:
        out.append("...")
    return "".join(out)


def _flags(value: int, table: list, zero: str = "0") -> str:
    names = []
    rest = value
    for bit, name in table:
        if bit and value & bit == bit:
            names.append(name)
            rest &= ~bit
    if rest:
        names.append("%#x" % rest)
    return "|".join(names) if names else zero


def _open_flags(value: int) -> str:
    acc = fcntl.O_ACCMODE_NAMES.get(value & fcntl.O_ACCMODE, "O_ACCMODE")
    rest = _flags(value & ~fcntl.O_ACCMODE & ~fcntl.O_LARGEFILE, FLAGS["open"], "")
    return acc + ("|" + rest if rest else "")


def _mmap_flags(value: int) -> str:
    kind = mman.MAP_TYPES.get(value & mman.MAP_TYPE, "%#x" % (value & mman.MAP_TYPE))
    rest = _flags(value & ~mman.MAP_TYPE, FLAGS["mmap"], "")
    return kind + ("|" + rest if rest else "")


def _ptr(value: int) -> str:
    return "NULL" if value == 0 else "%#x" % value


def _i32(v: int) -> int:
    return ((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


def _read(t, addr: int, size: int) -> bytes | None:
    try:
        return t.mm.read(addr, size)
    except KernelError:
        return None


def _buffer(t, addr: int, size: int) -> str:
    data = _read(t, addr, min(size, STRING_LIMIT + 1)) if addr else None
    if data is None:
        return _ptr(addr)
    return quote(data[:size])


def _iovec(t, addr: int, count: int, total: int | None) -> str:
    try:
        vecs = t.mm.read_iovec(addr, min(max(count, 0), 1024))
    except KernelError:
        return _ptr(addr)
    parts = []
    left = total
    for base, length in vecs:
        shown = length if left is None else max(min(length, left), 0)
        if left is not None:
            left -= shown
        parts.append("{iov_base=%s, iov_len=%d}" % (_buffer(t, base, shown), length))
    return "[" + ", ".join(parts) + "]"


def _argv(t, addr: int) -> str:
    """execve's argv as strace prints it: its strings, at most 32 of them."""
    if not addr:
        return "NULL"
    parts = []
    for i in range(STRING_LIMIT + 1):
        p = _read(t, addr + 8 * i, 8)
        if p is None:
            return _ptr(addr) if not parts else "[" + ", ".join(parts) + ", ...]"
        p = int.from_bytes(p, "little")
        if not p:
            return "[" + ", ".join(parts) + "]"
        if i == STRING_LIMIT:
            break
        try:
            parts.append(quote(t.mm.read_cstring(p, 1 << 17)))
        except KernelError:
            parts.append(_ptr(p))
    return "[" + ", ".join(parts) + ", ...]"


def _envp(t, addr: int) -> str:
    """execve's envp as strace prints it by default: the pointer and a count."""
    if not addr:
        return "NULL"
    n = 0
    while n < 1 << 16:
        p = _read(t, addr + 8 * n, 8)
        if p is None:
            return _ptr(addr)
        if not any(p):
            break
        n += 1
    return "%s /* %d var%s */" % (_ptr(addr), n, "" if n == 1 else "s")


def format_arg(kind, value: int, args: list[int], result: int | None, t) -> str:
    show = kind.show
    if show == "int":
        return str(_i32(value) if kind.c_type in ("int", "int fd") else
                   ((value ^ (1 << 63)) - (1 << 63)))
    if show == "uint":
        return str(value)
    if show == "ptr":
        return _ptr(value)
    if show == "dirfd":
        v = _i32(value)
        return "AT_FDCWD" if v == fcntl.AT_FDCWD else str(v)
    if show == "octal":
        return "0%03o" % (value & 0xFFFFFFFF)
    if show == "path":
        try:
            return quote(t.mm.read_cstring(value), PATH_MAX)
        except KernelError:
            return _ptr(value)
    if show == "signal":
        v = _i32(value)
        return signal.signal_name(v) if v > 0 else str(v)
    if show == "flags":
        if kind.table == "open":
            return _open_flags(value & 0xFFFFFFFF)
        if kind.table == "mmap":
            return _mmap_flags(value & 0xFFFFFFFF)
        return _flags(value & 0xFFFFFFFF, FLAGS[kind.table], ZERO.get(kind.table, "0"))
    if show == "enum":
        if kind.table == "futex":
            return _futex_op(_i32(value))
        if kind.table in FLAGS:       # bit sets the table decodes as an int (access, flock)
            return _flags(value & 0xFFFFFFFF, FLAGS[kind.table], ZERO.get(kind.table, "0"))
        v = value & 0xFFFFFFFF if kind.table == "ioctl" else _i32(value)
        name = ENUMS[kind.table].get(v)
        return name if name is not None else ("%#x" % v if kind.table == "ioctl" else str(v))
    if show == "argv":
        return _argv(t, value)
    if show == "envp":
        return _envp(t, value)
    if show == "inbuf":
        return _buffer(t, value, args[kind.arg])
    if show == "outbuf":
        if result is None or result < 0:
            return _ptr(value)
        return _buffer(t, value, result)
    if show == "iniovec":
        return _iovec(t, value, _i32(args[kind.arg]), None)
    if show == "outiovec":
        if result is None or result < 0:
            return _ptr(value)
        return _iovec(t, value, _i32(args[kind.arg]), result)
    if show in netfmt.SHOWS:
        return netfmt.format_arg(kind, value, args, result, t, lambda a, n: _read(t, a, n),
                                 quote, _iovec,
                                 lambda v, pairs, zero: _flags(v, _flag_table(pairs), zero))
    return "%#x" % value


def sigset(mask: int) -> str:
    """A kernel sigset as strace prints it: [HUP INT], or ~[KILL STOP] (the signals
    not in it) when at least half of the 64 are."""
    mask &= (1 << signal.NSIG) - 1
    inverted = bin(mask).count("1") >= signal.NSIG // 2
    if inverted:
        mask ^= (1 << signal.NSIG) - 1
    names = [signal.signal_name(n).removeprefix("SIG") for n in range(1, signal.NSIG + 1)
             if mask >> (n - 1) & 1]
    return ("~[" if inverted else "[") + " ".join(names) + "]"


def sigreturn_args(t, sp: int) -> str:
    """rt_sigreturn's argument as strace prints it at entry: the mask the frame at sp
    (the handler's return popped pretcode: the ucontext is there) will restore."""
    data = _read(t, sp - 8 + sigcontext.RT_SIGFRAME_UC + sigcontext.UCONTEXT_SIGMASK, 8)
    if data is None:
        return "{mask=?}"
    return "{mask=%s}" % sigset(int.from_bytes(data, "little"))


def format_result(row, result: int | None) -> str:
    if result is None:
        return "?"
    signed = (result & 0xFFFFFFFFFFFFFFFF ^ (1 << 63)) - (1 << 63)
    if -4096 < signed < 0:
        err = -signed
        if err in signal.RESTART_ERRORS:
            return "? %s (%s)" % signal.RESTART_ERRORS[err]
        return "-1 %s (%s)" % (errno.errorcode.get(err, str(err)), os.strerror(err))
    if row is not None and row.name in _RETURNS_ADDRESS:
        return "%#x" % (result & 0xFFFFFFFFFFFFFFFF)
    return str(signed)


def format_args(row, args: list[int], result: int | None, t) -> str:
    """The arguments of a strace line, as the handler was given them."""
    if row.status == "missing":
        shown = ["%#x" % a for a in args]
    else:
        shown = [format_arg(k, args[i], args, result, t) for i, k in enumerate(row.args)]
        at = _MODE_AFTER_FLAGS.get(row.name)
        if at is not None and not args[at] & fcntl.O_CREAT and \
                args[at] & fcntl.O_TMPFILE != fcntl.O_TMPFILE:
            shown = shown[:at + 1]
    return ", ".join(shown)


def format_call(row, args: list[int], result: int | None, t) -> str:
    """One strace line (without the newline) for a call of row with raw args."""
    return "%s(%s) = %s" % (row.name, format_args(row, args, result, t),
                            format_result(row, result))

