"""Argument kinds: how each syscall argument is decoded from its register, once.

A kind knows the C type of the argument: `Fd` and `Int` are signed 32-bit (so
AT_FDCWD arrives as -100), `Size` and `Ptr` are 64-bit unsigned, `Off` is signed
64-bit, `Path` is a bounded C string read through usermem (EFAULT, ENAMETOOLONG
before the handler runs). The table compiles each row's kinds into one small
function, so decoding costs a few bytecodes per argument. `trace/strace.py` reads the
`show` field to print the argument as strace does.

Layer: kernel (syscall glue). Calls nothing; table.py compiles the kinds and
trace/strace.py prints by them.
"""

from __future__ import annotations

_I32 = "((({r}) & 0xffffffff) ^ 0x80000000) - 0x80000000"
_U32 = "(({r}) & 0xffffffff)"
_I64 = "(({r}) ^ 0x8000000000000000) - 0x8000000000000000"
_U64 = "{r}"
_PATH = "t.process.mm.read_cstring({r})"


class Kind:
    """One argument's kind; compared and hashed by value, as the frozen record it is
    (a plain class: a dataclass compiles its methods at import, paid by every run)."""

    __slots__ = ("c_type", "expr", "show", "arg", "table")

    def __init__(self, c_type: str, expr: str, show: str, arg: int = -1, table: str = ""):
        self.c_type = c_type  # the C type, for the reader and `pyunik syscalls`
        self.expr = expr      # Python expression decoding register {r}
        self.show = show      # how strace prints it: int, uint, hex, ptr, path, fd, dirfd, ...
        self.arg = arg        # the argument index a buffer's length comes from (-1: return value)
        self.table = table    # the flag or name table strace decodes with

    def _key(self) -> tuple:
        return (self.c_type, self.expr, self.show, self.arg, self.table)

    def __eq__(self, other) -> bool:
        return self is other or (type(other) is Kind and self._key() == other._key())

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "Kind(%r, %r, %r, %d, %r)" % self._key()

    def __call__(self, arg: int = -1, table: str = "") -> "Kind":
        return Kind(self.c_type, self.expr, self.show, arg, table or self.table)


Int = Kind("int", _I32, "int")
UInt = Kind("unsigned int", _U32, "uint")
Long = Kind("long", _I64, "int")
ULong = Kind("unsigned long", _U64, "uint")
Size = Kind("size_t", _U64, "uint")
Off = Kind("off_t", _I64, "int")
Ptr = Kind("void *", _U64, "ptr")
Fd = Kind("int fd", _I32, "int")
DirFd = Kind("int dirfd", _I32, "dirfd")
Mode = Kind("mode_t", _U32, "octal")
Path = Kind("const char *path", _PATH, "path")
Signal = Kind("int sig", _I32, "signal")
Flags = Kind("int flags", _U32, "flags")          # Flags(table="open") etc.
Enum = Kind("int", _I32, "enum")                  # Enum(table="clock")
Request = Kind("unsigned int request", _U32, "enum", table="ioctl")
InBuf = Kind("const void *buf", _U64, "inbuf")    # InBuf(arg=2): length in argument 2
OutBuf = Kind("void *buf", _U64, "outbuf")        # OutBuf(): length is the return value
InIovec = Kind("const struct iovec *", _U64, "iniovec")
OutIovec = Kind("const struct iovec *", _U64, "outiovec")
Argv = Kind("char *const argv[]", _U64, "argv")   # strace: ["a", "b"]
Envp = Kind("char *const envp[]", _U64, "envp")   # strace: 0x7ffc... /* 3 vars */
# signals and clone3: strace prints the memory they point at, the inputs as they were
# at entry (trace/strace.py)
SigSet = Kind("const sigset_t *set", _U64, "sigset")               # SigSet(arg=N): its size
OutSigSet = Kind("sigset_t *oldset", _U64, "outsigset")            # table="pending": 1..8 bytes
SigAction = Kind("const struct sigaction *act", _U64, "sigaction")
OutSigAction = Kind("struct sigaction *oldact", _U64, "outsigaction")
CloneArgs = Kind("struct clone_args *cl_args", _U64, "cloneargs")  # CloneArgs(arg=N): its size
TimeSpec = Kind("const struct timespec *", _U64, "timespec")
RemTimeSpec = Kind("struct timespec *rem", _U64, "remtimespec")     # arg: the flags, or -1
StackT = Kind("const stack_t *ss", _U64, "stack_t")
OutStackT = Kind("stack_t *old_ss", _U64, "outstack_t")
WaitStatus = Kind("int *wstatus", _U64, "waitstatus")
Rusage = Kind("struct rusage *ru", _U64, "rusage")
# poll and select (trace/pollfmt.py prints them)
PollFds = Kind("struct pollfd *fds", _U64, "pollfds")             # PollFds(arg=N): nfds
FdSet = Kind("fd_set *", _U64, "fdset")                             # FdSet(arg=N): nfds
TimeVal = Kind("struct timeval *", _U64, "timeval")
PselectSig = Kind("const struct {sigset_t *ss; size_t ss_len} *sig", _U64, "pselectsig")
EpollEvent = Kind("struct epoll_event *event", _U64, "epollevent")
EpollEvents = Kind("struct epoll_event *events", _U64, "epollevents")   # as many as returned
# sockets (trace/netfmt.py prints them)
SockAddr = Kind("const struct sockaddr *addr", _U64, "sockaddr")   # SockAddr(arg=N): length
OutSockAddr = Kind("struct sockaddr *addr", _U64, "outsockaddr")   # arg: its socklen_t *
SockLenPtr = Kind("socklen_t *addrlen", _U64, "socklenptr")
SockType = Kind("int type", _I32, "socktype")
OptName = Kind("int optname", _I32, "optname")                     # arg: the level
MsgHdr = Kind("const struct msghdr *msg", _U64, "msghdr")
OutMsgHdr = Kind("struct msghdr *msg", _U64, "outmsghdr")
IntPair = Kind("int sv[2]", _U64, "intpair")
