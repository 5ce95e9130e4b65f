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

from ..abi import fcntl, fs, futex, inotify, mman, prctl, random, resource, sched, signal, wait
from ..abi import eventfd, eventpoll, ioctls, sigcontext, signalfd
from ..abi import socket as sockets, time as clocks
from ..abi.limits import PATH_MAX
from ..abi.page import PAGE_SIZE
from ..errors import KernelError
from . import fcntlfmt, netfmt, pollfmt

STRING_LIMIT = 32            # strace's default -s 32
# errno names as strace prints them: of two names for one number, Linux's own
# (Python's errorcode gives EDEADLOCK and ENOTSUP)
_ERRNO_NAMES = {**errno.errorcode, errno.EDEADLK: "EDEADLK", errno.EOPNOTSUPP: "EOPNOTSUPP"}
_RETURNS_ADDRESS = {"mmap", "brk", "mremap", "shmat"}
# calls whose 0 strace shows as "0 (Timeout)"
_TIMED_OUT_AT_ZERO = {"poll", "ppoll", "select", "pselect6"}
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
    "sfd": _flag_table(signalfd.SFD_FLAGS),
    "timer": _flag_table(clocks.TIMER_FLAGS),
    "epoll_create": _flag_table(eventpoll.EPOLL_CREATE_FLAGS),
}
ZERO = {"prot": "PROT_NONE", "access": "F_OK"}    # what a flags value of 0 prints as
# what strace appends to a value no name in an enum's table has: 0x7 /* SIG_??? */
UNKNOWN = {"sighow": "SIG_???", "epoll_ctl": "EPOLL_CTL_???"}
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
    "epoll_ctl": eventpoll.EPOLL_CTL_NAMES,
}


def _futex_op(op: int) -> str:
    """FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, as strace prints futex's op."""
    name = futex.FUTEX_OP_NAMES.get(op & futex.FUTEX_CMD_MASK)
    if name is None:
        return "%#x /* FUTEX_??? */" % (op & 0xFFFFFFFF)
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
    """strace's printflags: each name whose bits are all still set, in the table's
    order, its bits then taken (O_SYNC takes O_DSYNC's); what is left in hex."""
    names = []
    rest = value
    for bit, name in table:
        if bit and rest & bit == bit:
            names.append(name)
            rest &= ~bit
    if rest:
        names.append("%#x" % rest)
    return "|".join(names) if names else zero


def _open_flags(value: int) -> str:
    acc = fcntl.O_ACCMODE_NAMES.get(value & fcntl.O_ACCMODE, "O_ACCMODE")
    rest = _flags(value & ~fcntl.O_ACCMODE, FLAGS["open"], "")
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
    if show == "octal":                 # C's %#03o: 000, 022, 0644
        return ("0%o" % (value & 0xFFFFFFFF) if value else "0").rjust(3, "0")
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
        if name is not None:
            return name
        if kind.table in UNKNOWN:
            return "%s /* %s */" % (_hex(v & 0xFFFFFFFF), UNKNOWN[kind.table])
        return "%#x" % v if kind.table == "ioctl" else str(v)
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
    if show in _SIGNAL_SHOWS:
        return _SIGNAL_SHOWS[show](t, kind, value, args, result)
    if show == "cloneargs":
        return _clone3_args(t, value, args[kind.arg]) + _clone3_result(t, value, args[kind.arg],
                                                                       result)
    if show in pollfmt.SHOWS:
        return pollfmt.format_arg(kind, value, args, lambda a, n: _read(t, a, n), _flags,
                                  lambda a, n: _sigset_at(t, a, n))
    if show in pollfmt.EPOLL_SHOWS:
        return pollfmt.epoll_events(kind, value, result, _failed(result),
                                    lambda a, n: _read(t, a, n), _flags)
    if show in netfmt.SHOWS:
        return netfmt.format_arg(kind, value, args, result, t, lambda a, n: _read(t, a, n),
                                 quote, _iovec,
                                 lambda v, pairs, zero: _flags(v, _flag_table(pairs), zero))
    return "%#x" % value


# ---- signal sets, struct sigaction, clone and clone3 --------------------------------

# A set's members by bit, as strace names them: HUP ... SYS, RTMIN, RT_1 ... RT_32.
_SET_NAMES = tuple(signal.signal_name(n).removeprefix("SIG") for n in range(1, signal.NSIG + 1))
_SA_FLAGS = _flag_table(signal.SA_FLAGS)
_SS_FLAGS = _flag_table(signal.SS_FLAGS)
_CLONE_FLAGS = _flag_table(sched.CLONE_FLAGS)
_CLONE3_FLAGS = _flag_table(sched.CLONE_FLAGS + sched.CLONE3_FLAGS)
# strace reads a whole struct new_sigaction (its sa_mask is 64 bytes, glibc's NSIG
# bits rounded up to longs), not the kernel's 32: a shorter readable one prints as
# an address.
_STRACE_SIGACTION_SIZE = 88
_CLONE_AFTER = (sched.CLONE_PARENT_SETTID | sched.CLONE_PIDFD | sched.CLONE_CHILD_SETTID
                | sched.CLONE_CHILD_CLEARTID | sched.CLONE_SETTLS)


def _hex(value: int) -> str:
    """C's %#x: 0 prints as 0, not 0x0."""
    return "%#x" % value if value else "0"


def _named_flags(value: int, table: list, unknown: str) -> str:
    """strace's printflags: the names in table order, what is left in hex after them,
    `0x400 /* SA_??? */` when no name matches, 0 for none."""
    names = []
    for bit, name in table:
        if value & bit == bit:
            names.append(name)
            value &= ~bit
    if not names:
        return "%#x /* %s */" % (value, unknown) if value else "0"
    if value:
        names.append("%#x" % value)
    return "|".join(names)


def sigset(mask: int, size: int = signal.SIGSET_SIZE) -> str:
    """A sigset of size bytes as strace prints it: [HUP INT], or ~[KILL STOP] (the
    signals not in it) once two thirds of the bits of its 32-bit words are set."""
    bits = 32 * ((min(size, signal.SIGSET_SIZE) + 3) // 4)
    mask &= (1 << bits) - 1
    inverted = bin(mask).count("1") >= bits * 2 // 3
    if inverted:
        mask ^= (1 << bits) - 1
    names = [_SET_NAMES[n] for n in range(bits) if mask >> n & 1]
    return ("~[" if inverted else "[") + " ".join(names) + "]"


def _sigset_at(t, addr: int, size: int, smallest: int = signal.SIGSET_SIZE) -> str:
    """The set at addr, or the address when the size is not one strace reads (8; any
    of 1 to 8 for rt_sigpending) or the memory cannot be read."""
    if not addr or not smallest <= size <= signal.SIGSET_SIZE:
        return _ptr(addr)
    data = _read(t, addr, size)
    return _ptr(addr) if data is None else sigset(int.from_bytes(data, "little"), size)


def _sigaction_at(t, addr: int) -> str:
    data = _read(t, addr, _STRACE_SIGACTION_SIZE) if addr else None
    if data is None:
        return _ptr(addr)
    handler, flags, restorer, mask = signal.KERNEL_SIGACTION.unpack_from(data)
    out = "{sa_handler=%s, sa_mask=%s, sa_flags=%s" % (
        signal.SA_HANDLER_NAMES.get(handler) or _ptr(handler), sigset(mask),
        _named_flags(flags, _SA_FLAGS, "SA_???"))
    if flags & signal.SA_RESTORER:
        out += ", sa_restorer=" + _ptr(restorer)
    return out + "}"


def _failed(result: int | None) -> bool:
    """No answer yet, or an error: strace prints an output argument's address."""
    return result is None or -4096 < ((result & 0xFFFFFFFFFFFFFFFF ^ (1 << 63)) - (1 << 63)) < 0


def _show_sigset(t, kind, value, args, result) -> str:
    return _sigset_at(t, value, args[kind.arg])


def _show_out_sigset(t, kind, value, args, result) -> str:
    if _failed(result):
        return _ptr(value)
    return _sigset_at(t, value, args[kind.arg], 1 if kind.table == "pending" else 8)


def _show_sigaction(t, kind, value, args, result) -> str:
    return _sigaction_at(t, value)


def _show_out_sigaction(t, kind, value, args, result) -> str:
    return _ptr(value) if _failed(result) else _sigaction_at(t, value)


def _stack_at(t, addr: int) -> str:
    """A stack_t as strace prints it: {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}."""
    data = _read(t, addr, signal.STACK_T.size) if addr else None
    if data is None:
        return _ptr(addr)
    sp, flags, size = signal.STACK_T.unpack(data)
    return "{ss_sp=%s, ss_flags=%s, ss_size=%d}" % (
        _ptr(sp), _named_flags(flags & 0xFFFFFFFF, _SS_FLAGS, "SS_???"), size)


def _show_stack(t, kind, value, args, result) -> str:
    return _stack_at(t, value)


def _show_out_stack(t, kind, value, args, result) -> str:
    return _ptr(value) if _failed(result) else _stack_at(t, value)


def _show_timespec(t, kind, value, args, result) -> str:
    return _timespec_at(t, value)


def _show_rem(t, kind, value, args, result) -> str:
    """nanosleep's and clock_nanosleep's rem: what is left, only when a signal
    interrupted a relative sleep (the kernel writes it only then); else the address."""
    interrupted = result is not None and -result in signal.RESTART_ERRORS
    if interrupted and (kind.arg < 0 or not args[kind.arg] & clocks.TIMER_ABSTIME):
        return _timespec_at(t, value)
    return _ptr(value)


def _wait_status(status: int) -> str:
    """A wait status as strace spells it: [{WIFEXITED(s) && WEXITSTATUS(s) == 0}]."""
    if status & 0xFF == 0x7F:
        sig = status >> 8 & 0xFF
        text = "{WIFSTOPPED(s) && WSTOPSIG(s) == %s%s}" % (
            signal.signal_name(sig & 0x7F), " | 0x80" if sig & 0x80 else "")
        rest = status & ~0xFFFF
    elif status & 0x7F not in (0, 0x7F):
        text = "{WIFSIGNALED(s) && WTERMSIG(s) == %s%s}" % (
            signal.signal_name(status & 0x7F), " && WCOREDUMP(s)" if status & 0x80 else "")
        rest = status & ~0xFF
    elif not status & 0x7F:
        text = "{WIFEXITED(s) && WEXITSTATUS(s) == %d}" % (status >> 8 & 0xFF)
        rest = status & ~0xFF00
    elif status == 0xFFFF:
        text, rest = "{WIFCONTINUED(s)}", 0
    else:
        return "[%s]" % _hex(status)
    if rest:
        text += " | %s" % _hex(rest)
    return "[" + text + "]"


def _show_wait_status(t, kind, value, args, result) -> str:
    """wait4's status: the address when no child was reaped (0) or the call failed."""
    data = None if _failed(result) or not result or not value else _read(t, value, 4)
    return _ptr(value) if data is None else _wait_status(int.from_bytes(data, "little"))


def _show_rusage(t, kind, value, args, result) -> str:
    """A struct rusage wait4 filled, as strace prints it without -v: the two times,
    then `...`; the address when no child was reaped (0), the call failed or it
    cannot be read."""
    data = None if _failed(result) or not result or not value \
        else _read(t, value, resource.RUSAGE.size)
    if data is None:
        return _ptr(value)
    return "{ru_utime={tv_sec=%d, tv_usec=%d}, ru_stime={tv_sec=%d, tv_usec=%d}, ...}" \
        % resource.RUSAGE.unpack(data)[:4]


_SIGNAL_SHOWS = {"sigset": _show_sigset, "outsigset": _show_out_sigset,
                 "sigaction": _show_sigaction, "outsigaction": _show_out_sigaction,
                 "stack_t": _show_stack, "outstack_t": _show_out_stack,
                 "timespec": _show_timespec, "remtimespec": _show_rem,
                 "waitstatus": _show_wait_status, "rusage": _show_rusage}
# Input arguments strace prints at entry, before the call changes what they point at
# (the old mask written over the new one, a clone3 struct): read before the handler.
_AT_ENTRY = {"sigset", "sigaction", "cloneargs", "stack_t", "timespec"} | pollfmt.SHOWS


def _int_at(t, addr: int, result: int | None) -> str:
    """An int the call stored, as strace prints a returned pid or fd: [1001]."""
    data = None if _failed(result) or not addr else _read(t, addr, 4)
    return _ptr(addr) if data is None else "[%d]" % int.from_bytes(data, "little", signed=True)


def _clone_call(t, args: list[int], result: int | None) -> str:
    """clone's arguments as strace names them: child_stack and flags (with the exit
    signal), then what the call used: parent_tid=[tid], tls, child_tidptr."""
    flags, stack, parent_tid, child_tid, tls = args[:5]
    exit_signal = signal.signal_name(flags & sched.CSIGNAL)
    flags &= ~sched.CSIGNAL
    if flags:
        shown = _named_flags(flags, _CLONE_FLAGS, "CLONE_???")
        if exit_signal != "0":
            shown += "|" + exit_signal
    else:
        shown = exit_signal
    out = ["child_stack=" + _ptr(stack), "flags=" + shown]
    if flags & (sched.CLONE_PARENT_SETTID | sched.CLONE_PIDFD):
        out.append("parent_tid=" + _int_at(t, parent_tid, result))
    if flags & sched.CLONE_SETTLS:
        out.append("tls=" + _ptr(tls))
    if flags & (sched.CLONE_CHILD_SETTID | sched.CLONE_CHILD_CLEARTID):
        out.append("child_tidptr=" + _ptr(child_tid))
    return ", ".join(out)


def _timespec_at(t, addr: int) -> str:
    """A struct timespec as strace prints it: {tv_sec=1, tv_nsec=500000000}."""
    data = _read(t, addr, clocks.TIMESPEC.size) if addr else None
    if data is None:
        return _ptr(addr)
    return "{tv_sec=%d, tv_nsec=%d}" % clocks.TIMESPEC.unpack(data)


def _wake_op(val3: int) -> str:
    """FUTEX_WAKE_OP's encoded operation, as strace spells it out:
    FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1."""
    op, cmp = val3 >> 28 & 0xF, val3 >> 24 & 0xF
    out = []
    if op & futex.FUTEX_OP_OPARG_SHIFT:
        out.append("%s<<28" % futex.FUTEX_OP_FLAG_NAMES[futex.FUTEX_OP_OPARG_SHIFT])
    name = futex.FUTEX_OP_NAMES_WAKE.get(op & 7)
    out.append("%s<<28" % name if name else "%d<<28 /* FUTEX_OP_??? */" % (op & 7))
    out.append("%s<<12" % _hex(val3 >> 12 & 0xFFF))
    name = futex.FUTEX_OP_CMP_NAMES.get(cmp)
    out.append("%s<<24" % name if name else "%d<<24 /* FUTEX_OP_CMP_??? */" % cmp)
    out.append(_hex(val3 & 0xFFF))
    return "|".join(out)


def _futex_call(t, args: list[int], result: int | None) -> str:
    """futex's arguments as strace prints them: those the operation reads, the
    timeout as a timespec, a bitset by name, FUTEX_WAKE_OP's operation spelled out."""
    uaddr, op, val, timeout, uaddr2, val3 = args[:6]
    op, val, val2, val3 = _i32(op), val & 0xFFFFFFFF, timeout & 0xFFFFFFFF, val3 & 0xFFFFFFFF
    out = [_ptr(uaddr), _futex_op(op)]
    cmd = op & (futex.FUTEX_PRIVATE_FLAG - 1)
    bitset = futex.FUTEX_BITSET_NAMES.get(val3) or _hex(val3)
    if cmd in (futex.FUTEX_WAIT, futex.FUTEX_WAIT_BITSET, futex.FUTEX_WAIT_REQUEUE_PI):
        out += [str(val), _timespec_at(t, timeout)]
        if cmd == futex.FUTEX_WAIT_BITSET:
            out.append(bitset)
        elif cmd == futex.FUTEX_WAIT_REQUEUE_PI:
            out.append(_ptr(uaddr2))
    elif cmd in (futex.FUTEX_LOCK_PI, futex.FUTEX_LOCK_PI2):
        out.append(_timespec_at(t, timeout))
    elif cmd == futex.FUTEX_WAKE_BITSET:
        out += [str(val), bitset]
    elif cmd in (futex.FUTEX_REQUEUE, futex.FUTEX_CMP_REQUEUE, futex.FUTEX_CMP_REQUEUE_PI,
                 futex.FUTEX_WAKE_OP):
        out += [str(val), str(val2), _ptr(uaddr2)]
        if cmd == futex.FUTEX_WAKE_OP:
            out.append(_wake_op(val3))
        elif cmd != futex.FUTEX_REQUEUE:
            out.append(str(val3))
    elif cmd in (futex.FUTEX_WAKE, futex.FUTEX_FD):
        out.append(str(val))
    elif cmd not in (futex.FUTEX_UNLOCK_PI, futex.FUTEX_TRYLOCK_PI):
        out += [str(val), _ptr(timeout), _ptr(uaddr2), _hex(val3)]
    return ", ".join(out)


def _clone_args_at(t, addr: int, size: int) -> tuple | None:
    """struct clone_args's eleven fields, as much of it as size covers (strace reads
    at most the 88 bytes it knows), or None when it cannot be read."""
    fetch = min(size, sched.CLONE_ARGS_SIZE_VER2)
    data = _read(t, addr, fetch) if addr else None
    if data is None:
        return None
    data = data.ljust(sched.CLONE_ARGS_SIZE_VER2, b"\0")
    return tuple(int.from_bytes(data[i:i + 8], "little") for i in range(0, 88, 8))


def _clone3_args(t, addr: int, size: int) -> str:
    """clone3's struct as strace prints it at entry: {flags=..., exit_signal=SIGCHLD,
    stack=NULL, stack_size=0}, the fields the flags use and the ones always shown."""
    fields = _clone_args_at(t, addr, size) if size >= sched.CLONE_ARGS_SIZE_VER0 else None
    if fields is None:
        return _ptr(addr)
    (flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
     set_tid_size, cgroup) = fields
    out = ["flags=" + _named_flags(flags, _CLONE3_FLAGS, "CLONE_???")]
    if flags & sched.CLONE_PIDFD:
        out.append("pidfd=" + _ptr(pidfd))
    if flags & (sched.CLONE_CHILD_SETTID | sched.CLONE_CHILD_CLEARTID):
        out.append("child_tid=" + _ptr(child_tid))
    if flags & sched.CLONE_PARENT_SETTID:
        out.append("parent_tid=" + _ptr(parent_tid))
    out.append("exit_signal=" + (signal.signal_name(exit_signal) if exit_signal < 1 << 31
                                 else str(exit_signal)))
    out.append("stack=" + _ptr(stack))
    out.append("stack_size=" + _hex(stack_size))
    if flags & sched.CLONE_SETTLS:
        out.append("tls=" + _ptr(tls))
    if set_tid or set_tid_size:
        tids = None
        if set_tid and 0 < set_tid_size <= sched.MAX_PID_NS_LEVEL:
            tids = _read(t, set_tid, 4 * set_tid_size)
        out.append("set_tid=" + (_ptr(set_tid) if tids is None else "[%s]" % ", ".join(
            str(int.from_bytes(tids[i:i + 4], "little", signed=True))
            for i in range(0, len(tids), 4))))
        out.append("set_tid_size=%d" % set_tid_size)
    if size > 80 and (cgroup or flags & sched.CLONE_INTO_CGROUP):
        out.append("cgroup=%d" % cgroup)
    tail = _clone3_tail(t, addr, size)
    if tail:
        out.append(tail)
    return "{" + ", ".join(out) + "}"


def _clone3_tail(t, addr: int, size: int) -> str:
    """The bytes of a struct clone_args past the 88 strace knows, up to a page, as
    its print_nonzero_bytes shows them when one is not zero: `/* bytes 88..95 */
    "\\x01\\x00..."` (each byte in hex, the first 32, "..." if there are more);
    `???` when they cannot be read; "" when all are zero (or there are none)."""
    end = min(size, PAGE_SIZE)
    if end <= sched.CLONE_ARGS_SIZE_VER2:
        return ""
    data = _read(t, addr + sched.CLONE_ARGS_SIZE_VER2, end - sched.CLONE_ARGS_SIZE_VER2)
    if data is None:
        return "???"
    if not any(data):
        return ""
    return '/* bytes %d..%d */ "%s"%s' % (
        sched.CLONE_ARGS_SIZE_VER2, end - 1,
        "".join("\\x%02x" % b for b in data[:STRING_LIMIT]),
        "..." if len(data) > STRING_LIMIT else "")


def _clone3_result(t, addr: int, size: int, result: int | None) -> str:
    """What strace adds at exit: ` => {pidfd=[3], parent_tid=[1001]}`, the values the
    call stored through the struct."""
    if _failed(result) or size < sched.CLONE_ARGS_SIZE_VER0:
        return ""
    fields = _clone_args_at(t, addr, size)
    if fields is None:
        return " => " + _ptr(addr)
    stored = []
    if fields[0] & sched.CLONE_PIDFD:
        stored.append("pidfd=" + _int_at(t, fields[1], result))
    if fields[0] & sched.CLONE_PARENT_SETTID:
        stored.append("parent_tid=" + _int_at(t, fields[3], result))
    tail = _clone3_tail(t, addr, size)
    if tail:
        stored.append(tail)
    return " => {%s}" % ", ".join(stored) if stored else ""


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
        return "-1 %s (%s)" % (_ERRNO_NAMES.get(err, str(err)), os.strerror(err))
    if row is not None and row.name in _RETURNS_ADDRESS:
        return "%#x" % (result & 0xFFFFFFFFFFFFFFFF)
    if not signed and row is not None and row.name in _TIMED_OUT_AT_ZERO:
        return "0 (Timeout)"
    return str(signed)


def _restart_call(t, args: list[int], result: int | None) -> str:
    """restart_syscall: the call it resumes, as strace names the task's previous one
    (the call interrupted: restart_syscall itself when it was interrupted again)."""
    block = t.restart_block
    return "<... resuming interrupted %s ...>" % (block[0] if block and block[0]
                                                  else "system call")


def _fcntl_call(t, args: list[int], result: int | None) -> str:
    return fcntlfmt.arguments(args, result, _failed(result), lambda a, n: _read(t, a, n),
                              _flags, _open_flags)


# Calls whose arguments strace prints by what another argument says (their number,
# their names): formatted whole.
_WHOLE_CALLS = {"clone": _clone_call, "futex": _futex_call, "restart_syscall": _restart_call,
                "fcntl": _fcntl_call}


def entry_args(row, args: list[int], t) -> dict | None:
    """The arguments strace prints at entry, by position (sets and structs the call
    may overwrite), or None for a call that has none."""
    shown = None
    for i, kind in enumerate(row.args):
        if kind.show in _AT_ENTRY:
            if shown is None:
                shown = {}
            shown[i] = (_clone3_args(t, args[i], args[kind.arg]) if kind.show == "cloneargs"
                        else format_arg(kind, args[i], args, None, t))
    return shown


def format_args(row, args: list[int], result: int | None, t, entry: dict | None = None) -> str:
    """The arguments of a strace line, as the handler was given them; entry holds
    what entry_args read before the call."""
    if row.status == "missing":
        shown = ["%#x" % a for a in args]
    elif row.name in _WHOLE_CALLS:
        return _WHOLE_CALLS[row.name](t, args, result)
    else:
        shown = []
        for i, kind in enumerate(row.args):
            if entry is None or i not in entry:
                shown.append(format_arg(kind, args[i], args, result, t))
            elif kind.show == "cloneargs":       # then what the call stored through it
                shown.append(entry[i] + _clone3_result(t, args[i], args[kind.arg], result))
            else:
                shown.append(entry[i])
        at = _MODE_AFTER_FLAGS.get(row.name)
        if at is not None and not args[at] & fcntl.O_CREAT and \
                args[at] & fcntl.O_TMPFILE != fcntl.O_TMPFILE:
            shown = shown[:at + 1]
    return ", ".join(shown)


def format_call(row, args: list[int], result: int | None, t, entry: dict | None = None) -> str:
    """One strace line (without the newline) for a call of row with raw args."""
    shown = None
    if row.name == "fcntl" and result is not None and not _failed(result):
        shown = fcntlfmt.result_text(args, result, _flags, _open_flags)
    elif row.name in pollfmt.CALLS and result is not None and not _failed(result) and result:
        shown = str(result) + pollfmt.result_text(row.name, args, result,
                                                  lambda a, n: _read(t, a, n), _flags)
    return "%s(%s) = %s" % (row.name, format_args(row, args, result, t, entry),
                            shown or format_result(row, result))

