"""strace's way of printing fcntl(2): the third argument by command (open flags for
F_SETFL, FD_CLOEXEC for F_SETFD, a signal for F_SETSIG, a struct flock for the
locks, a struct f_owner_ex, seals, lease types, dnotify events, an int otherwise,
none for the commands that take none) and the result of the commands that return
flags or names (`= 0x1 (flags FD_CLOEXEC)`, `= 29 (SIGIO)`).

Layer: trace. Called by trace/strace.py for fcntl lines; reads guest memory
through the function it is given, formats flags with its flag printer.
"""

from __future__ import annotations

from ..abi import fcntl as F
from ..abi import fs, signal

_NO_ARGUMENT = {F.F_GETFD, F.F_GETFL, F.F_GETOWN, F.F_GETSIG, F.F_GETPIPE_SZ,
                F.F_GET_SEALS, F.F_GETLEASE}
_SETTING_LOCKS = {F.F_SETLK, F.F_SETLKW, F.F_OFD_SETLK, F.F_OFD_SETLKW}
_GETTING_LOCKS = {F.F_GETLK, F.F_OFD_GETLK}
# (bit, name) tables for the flag printer, in strace's order
SEALS = [(value, name) for name, value in F.F_SEAL_FLAGS]
FD_FLAGS = [(value, name) for name, value in F.FD_FLAGS]
DNOTIFY = [(value, name) for name, value in F.DN_FLAGS]


def _i32(v: int) -> int:
    return ((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


def _xval(value: int, names: dict, unknown: str) -> str:
    return names.get(value) or "%#x /* %s */" % (value & 0xFFFFFFFF, unknown)


def _flock(read, addr: int, with_pid: bool) -> str:
    """struct flock: {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=0}, and
    l_pid for what F_GETLK answered; the address if it cannot be read."""
    data = read(addr, F.FLOCK.size) if addr else None
    if data is None:
        return "%#x" % addr if addr else "NULL"
    kind, whence, start, length, pid = F.FLOCK.unpack(data)
    text = "{l_type=%s, l_whence=%s, l_start=%d, l_len=%d" % (
        _xval(kind, F.F_LOCK_TYPE_NAMES, "F_???"), _xval(whence, fs.SEEK_NAMES, "SEEK_???"),
        start, length)
    return text + (", l_pid=%d}" % pid if with_pid else "}")


def _owner(read, addr: int) -> str:
    data = read(addr, F.F_OWNER_EX.size) if addr else None
    if data is None:
        return "%#x" % addr if addr else "NULL"
    kind, pid = F.F_OWNER_EX.unpack(data)
    return "{type=%s, pid=%d}" % (_xval(kind, F.F_OWNER_NAMES, "F_OWNER_???"), pid)


def arguments(args: list[int], result: int | None, failed: bool, read, flags,
              open_flags) -> str:
    """fcntl's arguments as strace prints them (at exit: result is the call's)."""
    fd, cmd, arg = _i32(args[0]), _i32(args[1]), args[2]
    name = F.FCNTL_COMMANDS.get(cmd)
    if name is None:
        return "%d, %#x /* F_??? */, %#x" % (fd, cmd & 0xFFFFFFFF, arg)
    shown = "%d, %s" % (fd, name)
    if cmd in _NO_ARGUMENT:
        return shown
    if cmd == F.F_SETFD:
        value = flags(arg & 0xFFFFFFFF, FD_FLAGS)
    elif cmd == F.F_SETFL:
        value = open_flags(arg & 0xFFFFFFFF)
    elif cmd == F.F_SETSIG:
        sig = _i32(arg)
        value = signal.signal_name(sig) if 0 < sig <= signal.NSIG else str(sig)
    elif cmd in _SETTING_LOCKS:
        value = _flock(read, arg, False)
    elif cmd in _GETTING_LOCKS:
        value = "%#x" % arg if failed else _flock(read, arg, True)
    elif cmd == F.F_SETOWN_EX:
        value = _owner(read, arg)
    elif cmd == F.F_GETOWN_EX:
        value = "%#x" % arg if failed else _owner(read, arg)
    elif cmd == F.F_ADD_SEALS:
        value = flags(arg & 0xFFFFFFFF, SEALS)
    elif cmd == F.F_SETLEASE:
        value = _xval(_i32(arg), F.F_LOCK_TYPE_NAMES, "F_???")
    elif cmd == F.F_NOTIFY:
        value = flags(arg & 0xFFFFFFFF, DNOTIFY)
    else:                       # F_DUPFD(_CLOEXEC), F_SETOWN, F_SETPIPE_SZ, F_CANCELLK
        value = str(_i32(arg))
    return shown + ", " + value


def result_text(args: list[int], result: int, flags, open_flags) -> str | None:
    """What strace adds to a successful result of the commands that return flags or
    names (`0x1 (flags FD_CLOEXEC)`), or None for a plain number."""
    cmd = _i32(args[1])
    if cmd == F.F_GETFL:
        return "%s (flags %s)" % (_hex(result), open_flags(result))
    if cmd == F.F_GETFD and result:
        return "%#x (flags %s)" % (result, flags(result, FD_FLAGS))
    if cmd == F.F_GET_SEALS and result:
        return "%#x (seals %s)" % (result, flags(result, SEALS))
    if cmd == F.F_GETSIG and 0 < result <= signal.NSIG:
        return "%d (%s)" % (result, signal.signal_name(result))
    if cmd == F.F_GETLEASE and result in F.F_LOCK_TYPE_NAMES:
        return "%s (%s)" % (_hex(result), F.F_LOCK_TYPE_NAMES[result])
    return None


def _hex(value: int) -> str:
    return "%#x" % value if value else "0"
