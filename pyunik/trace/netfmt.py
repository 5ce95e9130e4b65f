"""strace's way of printing socket arguments: sockaddrs (`{sa_family=AF_UNIX,
sun_path="/tmp/s"}`, `{sa_family=AF_INET, sin_port=htons(80),
sin_addr=inet_addr("127.0.0.1")}`, `{sa_family=AF_NETLINK, nl_pid=0,
nl_groups=00000000}`), socket types, option names, msghdrs and fd pairs.

Layer: trace. Called by trace/strace.py's format_arg for the socket argument kinds
of kernel/syscalls/args.py; reads guest memory through the helpers it is given.
"""

from __future__ import annotations

from ..abi import inet, netlink
from ..abi import socket as S

SHOWS = {"sockaddr", "outsockaddr", "socklenptr", "socktype", "optname", "msghdr",
         "outmsghdr", "intpair"}


def _i32(v: int) -> int:
    return ((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


def sockaddr(data: bytes | None, quote) -> str:
    """One sockaddr as strace prints it."""
    if data is None:
        return "NULL"
    if len(data) < S.SA_FAMILY.size:
        return "{sa_family=???}"
    family = S.SA_FAMILY.unpack_from(data)[0]
    name = S.AF_NAMES.get(family, str(family))
    if family == S.AF_UNIX:
        path = data[S.SUN_PATH_OFFSET:]
        if not path:
            return "{sa_family=AF_UNIX}"
        if path[0] == 0:
            return "{sa_family=AF_UNIX, sun_path=@%s}" % quote(path[1:], S.UNIX_PATH_MAX)
        return "{sa_family=AF_UNIX, sun_path=%s}" % quote(path.split(b"\0", 1)[0],
                                                         S.UNIX_PATH_MAX)
    if family == S.AF_INET and len(data) >= inet.SOCKADDR_IN.size:
        _, port, addr = inet.SOCKADDR_IN.unpack_from(data)
        return "{sa_family=AF_INET, sin_port=htons(%d), sin_addr=inet_addr(\"%s\")}" % (
            int.from_bytes(port, "big"), ".".join(str(b) for b in addr))
    if family == S.AF_NETLINK and len(data) >= netlink.SOCKADDR_NL.size:
        _, _, pid, groups = netlink.SOCKADDR_NL.unpack_from(data)
        return "{sa_family=AF_NETLINK, nl_pid=%d, nl_groups=%08x}" % (pid, groups)
    return "{sa_family=%s, sa_data=%s}" % (name, quote(data[2:]))


def format_arg(kind, value: int, args: list[int], result: int | None, t, read, quote,
               iovec, flags) -> str:
    """The argument of a socket kind. read(addr, size) gives guest bytes or None;
    quote, iovec and flags are strace's own helpers."""
    show = kind.show
    failed = result is None or result < 0
    if show == "socktype":
        v = _i32(value)
        name = S.SOCK_TYPE_NAMES.get(v & S.SOCK_TYPE_MASK, str(v & S.SOCK_TYPE_MASK))
        rest = flags(v & ~S.SOCK_TYPE_MASK & 0xFFFFFFFF, S.SOCK_FLAGS, "")
        return name + ("|" + rest if rest else "")
    if show == "optname":
        v = _i32(value)
        if _i32(args[kind.arg]) == S.SOL_SOCKET:
            return S.SO_NAMES.get(v, str(v))
        return str(v)
    if not value:
        return "NULL"
    if show == "sockaddr":
        length = _i32(args[kind.arg])
        return sockaddr(read(value, length) if 0 <= length <= 128 else None, quote) \
            if length >= 0 else "%#x" % value
    if show in ("outsockaddr", "socklenptr", "intpair") and failed:
        return "%#x" % value
    if show == "outsockaddr":
        raw = read(args[kind.arg], 4) if args[kind.arg] else None
        length = min(int.from_bytes(raw, "little"), 128) if raw else 0
        return sockaddr(read(value, length) if length else b"", quote)
    if show == "socklenptr":
        raw = read(value, 4)
        return "[%d]" % int.from_bytes(raw, "little") if raw else "%#x" % value
    if show == "intpair":
        raw = read(value, 8)
        if raw is None:
            return "%#x" % value
        return "[%d, %d]" % (int.from_bytes(raw[:4], "little", signed=True),
                             int.from_bytes(raw[4:], "little", signed=True))
    if show == "outmsghdr" and failed:
        return "%#x" % value
    raw = read(value, S.MSGHDR.size)
    if raw is None:
        return "%#x" % value
    name, namelen, iov, iovlen, control, controllen, mflags = S.MSGHDR.unpack(raw)
    shown_name = "NULL" if not name else sockaddr(read(name, max(0, min(namelen, 128))), quote)
    total = None if show == "msghdr" else result
    return ("{msg_name=%s, msg_namelen=%d, msg_iov=%s, msg_iovlen=%d, msg_control=%s, "
            "msg_controllen=%d, msg_flags=%s}" % (
                shown_name, namelen, iovec(t, iov, iovlen, total), iovlen,
                "NULL" if not control else "%#x" % control, controllen,
                flags(mflags, S.MSG_FLAGS, "0")))
