"""strace's way of printing poll(2), ppoll(2), select(2), pselect6(2) and epoll: the pollfd
array (`[{fd=3, events=POLLIN}, {fd=-1}]`), fd sets (`[3 5]`), a timeval, pselect6's
`{sigmask=[USR1], sigsetsize=8}`, all read at entry; and what strace adds to a
positive result, read at exit: the pollfds that have revents (`([{fd=5,
revents=POLLIN}])`), the sets that came back (`(in [5], out [4])`), and the
timeout left (`left {tv_sec=0, tv_nsec=3117}`); epoll_ctl's struct epoll_event
(`{events=EPOLLIN|EPOLLET, data={u32=5, u64=5}}`) and the events epoll_wait returned.

Layer: trace. Called by trace/strace.py for the argument kinds of
kernel/syscalls/args.py named in SHOWS and for the results of these four calls;
reads guest memory through the function it is given.
"""

from __future__ import annotations

from ..abi import eventpoll as E
from ..abi import poll as P
from ..abi import signal
from ..abi import time as clocks

SHOWS = {"pollfds", "fdset", "timeval", "pselectsig"}
EPOLL_SHOWS = {"epollevent", "epollevents"}
CALLS = {"poll", "ppoll", "select", "pselect6"}
ARRAY_LIMIT = 32                # strace prints this many elements, then "..."
_EVENTS = [(value, name) for name, value in P.POLL_FLAGS]
_EPOLL_EVENTS = [(value, name) for name, value in E.EPOLL_EVENT_FLAGS]


def _ptr(value: int) -> str:
    return "NULL" if value == 0 else "%#x" % value


def _i32(v: int) -> int:
    return ((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


def _pollfds(read, addr: int, nfds: int, flags, field: str, only_set: bool) -> str:
    """The pollfd array, each {fd=N, events=...} (revents= at exit, where only_set
    keeps the entries that have some); {fd=-1} for a negative fd."""
    if not addr:
        return "NULL"
    data = read(addr, nfds * P.POLLFD.size) if 0 <= nfds <= 1 << 20 else None
    if data is None:
        return _ptr(addr)
    shown = []
    for i in range(nfds):
        fd, events, revents = P.POLLFD.unpack_from(data, i * P.POLLFD.size)
        value = events if field == "events" else revents
        if only_set and not value:
            continue
        if len(shown) == ARRAY_LIMIT:
            shown.append("...")
            break
        if fd < 0 and field == "events":
            shown.append("{fd=%d}" % fd)
        else:
            shown.append("{fd=%d, %s=%s}" % (fd, field, flags(value & 0xFFFF, _EVENTS)))
    return "[" + ", ".join(shown) + "]"


def _fdset(read, addr: int, nfds: int) -> str | None:
    """An fd_set's members below nfds: [3 5]; None when it cannot be read."""
    nfds = max(0, min(_i32(nfds), P.FD_SETSIZE))
    data = read(addr, (nfds + 63) // 64 * 8) if nfds else b""
    if data is None:
        return None
    bits = int.from_bytes(data, "little")
    return "[" + " ".join(str(fd) for fd in range(nfds) if bits >> fd & 1) + "]"


def _time_at(read, addr: int, unit: str) -> str:
    data = read(addr, clocks.TIMESPEC.size) if addr else None
    if data is None:
        return _ptr(addr)
    sec, fraction = clocks.TIMESPEC.unpack(data)
    return "{tv_sec=%d, %s=%d}" % (sec, unit, fraction)


def format_arg(kind, value: int, args: list[int], read, flags, sigset_at) -> str:
    """One argument of these calls at entry."""
    show = kind.show
    if show == "pollfds":
        return _pollfds(read, value, args[kind.arg], flags, "events", False)
    if show == "fdset":
        if not value:
            return "NULL"
        shown = _fdset(read, value, args[kind.arg])
        return _ptr(value) if shown is None else shown
    if show == "timeval":
        return _time_at(read, value, "tv_usec")
    # pselect6's {const sigset_t *ss; size_t ss_len}
    data = read(value, signal.SIGSET_ARGPACK.size) if value else None
    if data is None:
        return _ptr(value)
    ss, size = signal.SIGSET_ARGPACK.unpack(data)
    return "{sigmask=%s, sigsetsize=%d}" % (sigset_at(ss, size), size)


def result_text(name: str, args: list[int], result: int, read, flags) -> str:
    """What strace adds after a positive result: ` ([{fd=5, revents=POLLIN}], left
    {...})` for poll and ppoll, ` (in [5], out [4], left {...})` for the selects."""
    if name in ("poll", "ppoll"):
        parts = [_pollfds(read, args[0], _i32(args[1]), flags, "revents", True)]
        timeout, unit = (args[2], "tv_nsec") if name == "ppoll" else (0, "")
    else:
        parts = []
        for label, addr in (("in", args[1]), ("out", args[2]), ("except", args[3])):
            shown = _fdset(read, addr, args[0]) if addr else None
            if shown is not None and shown != "[]":
                parts.append("%s %s" % (label, shown))
        timeout, unit = args[4], "tv_usec" if name == "select" else "tv_nsec"
    if timeout:
        parts.append("left " + _time_at(read, timeout, unit))
    return " (%s)" % ", ".join(parts)


def epoll_events(kind, value: int, result: int | None, failed: bool, read, flags) -> str:
    """epoll_ctl's event (at exit too: the call does not change it), or the events
    epoll_wait stored: as many as it returned (none: []), the address if it
    failed."""
    if kind.show == "epollevent":
        count = 1
    elif result is None or failed:
        return _ptr(value)
    else:
        count = result
    if not value and kind.show == "epollevent":
        return "NULL"
    data = read(value, count * E.EPOLL_EVENT.size) if count else b""
    if data is None:
        return _ptr(value)
    shown = []
    for i in range(count):
        if i == ARRAY_LIMIT:
            shown.append("...")
            break
        events, word = E.EPOLL_EVENT.unpack_from(data, i * E.EPOLL_EVENT.size)
        shown.append("{events=%s, data={u32=%d, u64=%d}}" % (
            flags(events, _EPOLL_EVENTS), word & 0xFFFFFFFF, word))
    return shown[0] if kind.show == "epollevent" else "[" + ", ".join(shown) + "]"
