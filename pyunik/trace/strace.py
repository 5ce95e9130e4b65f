"""strace-style lines: `write(1, "hello\\n", 6) = 6`.

Reads only the syscall table's row (name and argument kinds) and guest memory, so
what is printed is what the handler was given. Strings and buffers are cut at 32
bytes like strace's default -s 32; flags are decoded symbolically; errors print as
`-1 ENOENT (No such file or directory)`.
"""

from __future__ import annotations

import errno
import os

from ..abi import linux as L
from ..errors import KernelError
from ..abi import inotify

STRING_LIMIT = 32
_RETURNS_ADDRESS = {"mmap", "brk", "mremap", "shmat"}


def _flag_table(pairs):
    return [(v, n) for n, v in pairs]


FLAGS = {
    "prot": _flag_table(L.PROT_FLAGS),
    "mmap": _flag_table(L.MAP_FLAGS),
    "open": _flag_table(L.O_FLAGS),
    "mremap": [(L.MREMAP_MAYMOVE, "MREMAP_MAYMOVE"), (L.MREMAP_FIXED, "MREMAP_FIXED"),
               (L.MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP")],
    "msync": [(L.MS_ASYNC, "MS_ASYNC"), (L.MS_INVALIDATE, "MS_INVALIDATE"),
              (L.MS_SYNC, "MS_SYNC")],
    "at": [(L.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"), (L.AT_REMOVEDIR, "AT_REMOVEDIR"),
           (L.AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"), (L.AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"),
           (L.AT_EMPTY_PATH, "AT_EMPTY_PATH")],
    "rename": [(1, "RENAME_NOREPLACE"), (2, "RENAME_EXCHANGE"), (4, "RENAME_WHITEOUT")],
    "wait": [(1, "WNOHANG"), (2, "WUNTRACED"), (4, "WEXITED"), (8, "WCONTINUED"),
             (0x01000000, "WNOWAIT"), (0x20000000, "__WNOTHREAD"), (0x40000000, "__WALL"),
             (0x80000000, "__WCLONE")],
    "grnd": [(L.GRND_NONBLOCK, "GRND_NONBLOCK"), (L.GRND_RANDOM, "GRND_RANDOM"),
             (L.GRND_INSECURE, "GRND_INSECURE")],
    "inotify": inotify.MASK_NAMES,
    "inotify_init": inotify.INIT_FLAG_NAMES,
}
ENUMS = {
    "whence": {0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"},
    "sighow": {0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK"},
    "fcntl": {0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL",
              5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 1030: "F_DUPFD_CLOEXEC",
              1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ", 36: "F_OFD_GETLK",
              37: "F_OFD_SETLK", 38: "F_OFD_SETLKW"},
    "rlimit": dict(enumerate(L.RLIMIT_NAMES)),
    "clock": L.CLOCK_NAMES,
    "arch_prctl": L.ARCH_NAMES,
    "madvise": L.MADV_NAMES,
    "ioctl": L.IOCTL_NAMES,
    "prctl": L.PRCTL_NAMES,
    "flock": {1: "LOCK_SH", 2: "LOCK_EX", 5: "LOCK_SH|LOCK_NB", 6: "LOCK_EX|LOCK_NB",
              8: "LOCK_UN"},
    "futex": {0: "FUTEX_WAIT", 1: "FUTEX_WAKE", 3: "FUTEX_REQUEUE", 4: "FUTEX_CMP_REQUEUE",
              5: "FUTEX_WAKE_OP", 6: "FUTEX_LOCK_PI", 7: "FUTEX_UNLOCK_PI",
              8: "FUTEX_TRYLOCK_PI", 9: "FUTEX_WAIT_BITSET", 10: "FUTEX_WAKE_BITSET",
              128: "FUTEX_WAIT_PRIVATE", 129: "FUTEX_WAKE_PRIVATE",
              131: "FUTEX_REQUEUE_PRIVATE", 132: "FUTEX_CMP_REQUEUE_PRIVATE",
              133: "FUTEX_WAKE_OP_PRIVATE", 134: "FUTEX_LOCK_PI_PRIVATE",
              135: "FUTEX_UNLOCK_PI_PRIVATE", 137: "FUTEX_WAIT_BITSET_PRIVATE",
              138: "FUTEX_WAKE_BITSET_PRIVATE", 393: "FUTEX_WAIT_BITSET_PRIVATE|"
                                                    "FUTEX_CLOCK_REALTIME"},
    "fadvise": {0: "POSIX_FADV_NORMAL", 1: "POSIX_FADV_RANDOM", 2: "POSIX_FADV_SEQUENTIAL",
                3: "POSIX_FADV_WILLNEED", 4: "POSIX_FADV_DONTNEED", 5: "POSIX_FADV_NOREUSE"},
    "access": {0: "F_OK", 1: "X_OK", 2: "W_OK", 3: "W_OK|X_OK", 4: "R_OK", 5: "R_OK|X_OK",
               6: "R_OK|W_OK", 7: "R_OK|W_OK|X_OK"},
}


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
    acc = {0: "O_RDONLY", 1: "O_WRONLY", 2: "O_RDWR"}.get(value & 3, "O_ACCMODE")
    rest = _flags(value & ~3 & ~0o100000, FLAGS["open"], "")
    return acc + ("|" + rest if rest else "")


def _mmap_flags(value: int) -> str:
    kind = L.MAP_TYPES.get(value & L.MAP_TYPE, "%#x" % (value & L.MAP_TYPE))
    rest = _flags(value & ~L.MAP_TYPE, FLAGS["mmap"], "")
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
        return "AT_FDCWD" if v == L.AT_FDCWD else str(v)
    if show == "octal":
        return "0%03o" % (value & 0xFFFFFFFF)
    if show == "path":
        try:
            return quote(t.mm.read_cstring(value), L.PATH_MAX)
        except KernelError:
            return _ptr(value)
    if show == "signal":
        v = _i32(value)
        return L.signal_name(v) if v > 0 else str(v)
    if show == "flags":
        if kind.table == "open":
            return _open_flags(value & 0xFFFFFFFF)
        if kind.table == "mmap":
            return _mmap_flags(value & 0xFFFFFFFF)
        return _flags(value & 0xFFFFFFFF, FLAGS[kind.table],
                      "PROT_NONE" if kind.table == "prot" else "0")
    if show == "enum":
        v = value & 0xFFFFFFFF if kind.table == "ioctl" else _i32(value)
        name = ENUMS[kind.table].get(v)
        return name if name is not None else ("%#x" % v if kind.table == "ioctl" else str(v))
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
    return "%#x" % value


def format_result(row, result: int | None) -> str:
    if result is None:
        return "?"
    signed = (result & 0xFFFFFFFFFFFFFFFF ^ (1 << 63)) - (1 << 63)
    if -4096 < signed < 0:
        err = -signed
        return "-1 %s (%s)" % (errno.errorcode.get(err, str(err)), os.strerror(err))
    if row is not None and row.name in _RETURNS_ADDRESS:
        return "%#x" % (result & 0xFFFFFFFFFFFFFFFF)
    return str(signed)


def format_call(row, args: list[int], result: int | None, t) -> str:
    """One strace line (without the newline) for a call of row with raw args."""
    if row.status == "missing":
        shown = ["%#x" % a for a in args]
    else:
        shown = [format_arg(k, args[i], args, result, t) for i, k in enumerate(row.args)]
    return "%s(%s) = %s" % (row.name, ", ".join(shown), format_result(row, result))

