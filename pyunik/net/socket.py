"""The socket layer: what every socket is as an open file, the options every socket
has (SOL_SOCKET), and the kernel's network namespace the families keep their
names in.

A `Socket` is a File (fs/file.py) on sockfs: fstat says S_IFSOCK, /proc/<pid>/fd/N
reads socket:[ino], O_NONBLOCK lives in the file's flags, read(2) and write(2) are
recvmsg and sendmsg without flags. Each family (net/unix.py, net/netlink.py, the
AF_INET sockets) subclasses it and gives the protocol operations Linux's proto_ops
name: bind, connect, listen, accept, sendmsg, recvmsg, shutdown, getname, ioctl.

Blocking. A family's operation takes `stop`: when it would have to wait and stop is
false, it raises WouldBlock on the socket's wait queue before changing anything
that a retry could not continue from; when stop is true (O_NONBLOCK, MSG_DONTWAIT,
a timeout that has expired, a signal after part of a transfer) it returns what it
has done, or fails with EAGAIN (EINPROGRESS for a connect). `Socket.blocking` runs
an operation so: the deadline of SO_RCVTIMEO/SO_SNDTIMEO, a retry that continues the
same transfer (its IovIter and counts live in the operation's closure), and, when
a signal ends the wait after part of a transfer, that part as the result
(sock_intr_errno and the partial-count rule of tcp_sendmsg/unix_stream_sendmsg).
Every change a waiter could be waiting for (data in, room freed, a connection, a
peer gone) calls `wake`, which is the socket's one WaitQueue, so poll, select and
epoll see sockets as they see pipes.

Messages carry files (SCM_RIGHTS) as File objects that hold a reference while in
flight (`refs`, as an fd would); the receiving side's glue installs them. The state
of one transfer across its waits is a `Transfer`.

Layer: net. Called by kernel/syscalls/net.py (and, as Files, by the read/write and
poll system calls); calls fs/file.py and pyunik/wait.py.
"""

from __future__ import annotations

import errno
import stat as statmod
import time
from dataclasses import dataclass, field

from ..abi import linux as L
from ..abi import netdevice as D
from ..abi import socket as S
from ..abi.poll import POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from ..errors import KernelError
from ..fs.file import File
from ..fs.inode import FileSystem
from ..wait import WaitQueue, WouldBlock
from .interfaces import describe, ifreq_ioctl, loopback


class SockFS(FileSystem):
    """sockfs: the inode numbers of one kernel's sockets. Never mounted."""

    name = "sockfs"
    dev = S.SOCKFS_DEV
    magic = S.SOCKFS_MAGIC

    def __init__(self):
        super().__init__()
        self._next_ino = 10000


@dataclass
class Caller:
    """Who makes a socket call (what the families need of the calling task):
    credentials for SCM_CREDENTIALS and SO_PEERCRED, and for unix path names the
    walk (vfs, WalkContext, cwd) and umask."""
    pid: int
    uid: int
    gid: int
    euid: int
    egid: int
    vfs: object = None
    walk: object = None
    cwd: object = None
    umask: int = 0o022

    @property
    def ucred(self) -> tuple[int, int, int]:
        """What scm_send records of the sender: tgid, real uid, real gid."""
        return (self.pid, self.uid, self.gid)

    @property
    def peercred(self) -> tuple[int, int, int]:
        """What SO_PEERCRED reports (cred_to_ucred): tgid, effective uid and gid."""
        return (self.pid, self.euid, self.egid)


@dataclass
class Message:
    """One queued skb: bytes, the files it carries (SCM_RIGHTS), the sender's
    credentials (SCM_CREDENTIALS) and address (msg_name)."""
    data: bytes
    rights: list = field(default_factory=list)
    creds: tuple | None = None
    addr: bytes | None = None
    sender: object = None       # the sending socket, whose send buffer this counts in

    def drop_rights(self) -> None:
        """The message goes unread (its queue is purged): its files lose the
        references they held in flight."""
        rights, self.rights = self.rights, []
        for f in rights:
            f.close_ref()


@dataclass
class Transfer:
    """One sendmsg or recvmsg in progress, kept across its waits: the bytes moved so
    far (for recvmsg with MSG_TRUNC, the datagram's whole length), and what a recvmsg
    hands back to the glue: the sender's address, the files (each holding one
    reference for the glue to install or drop) and credentials for the control
    messages, and msg_flags. `rights_sent`: a sendmsg's files went with its first
    message."""
    count: int = 0
    addr: bytes | None = None
    rights: list = field(default_factory=list)
    creds: tuple | None = None
    flags: int = 0
    rights_sent: bool = False


class HostBytes:
    """An IovIter's face (count, copy_in, copy_out, faulted) over host bytes: what
    sendfile and splice give a socket instead of guest buffers."""

    __slots__ = ("data", "pos", "count", "out", "faulted")

    def __init__(self, data: bytes, room: int | None = None):
        self.data = data
        self.pos = 0
        self.count = len(data) if room is None else room
        self.out = bytearray()
        self.faulted = False

    def copy_in(self, size: int) -> bytes:
        n = min(size, self.count)
        piece = self.data[self.pos:self.pos + n]
        self.pos += n
        self.count -= n
        return piece

    def copy_out(self, data) -> int:
        n = min(len(data), self.count)
        self.out += data[:n]
        self.count -= n
        return n


def copy_datagram(dst, data: bytes, flags: int, got: Transfer) -> None:
    """One datagram into dst (skb_copy_datagram_msg): EFAULT if the buffers take
    less than they could; MSG_TRUNC in msg_flags when the datagram was longer, and
    with the MSG_TRUNC flag its whole length is the result."""
    want = dst.count
    n = dst.copy_out(data[:want])
    if n < min(want, len(data)):
        raise KernelError(errno.EFAULT)
    if len(data) > want:
        got.flags |= S.MSG_TRUNC
    got.count = len(data) if flags & S.MSG_TRUNC else n


def family_of(addr: bytes) -> int:
    """sa_family of a sockaddr the guest gave (EINVAL if it is shorter than that)."""
    if len(addr) < S.SA_FAMILY.size:
        raise KernelError(errno.EINVAL)
    return S.SA_FAMILY.unpack_from(addr)[0]


class Socket(File):
    """A socket file. Subclasses set family and implement the operations; the base
    answers each with Linux's error for a family that lacks it (sock_no_*)."""

    can_poll = True
    fasync_events = POLLIN    # what O_ASYNC signals (kernel/fasync.py)
    family = S.AF_UNSPEC

    def __init__(self, net, sock_type: int, protocol: int, flags: int):
        super().__init__(L.O_RDWR | (flags & L.O_NONBLOCK))
        self.net = net
        self.type = sock_type
        self.protocol = protocol
        self.sigpipe = sock_type == S.SOCK_STREAM     # sk_stream_error's SIGPIPE
        self.ino = net.sockfs.new_ino()
        self.ctime = time.time_ns()
        self.wait = WaitQueue("a socket")
        self.error = 0              # sk_err: reported once by SO_ERROR or an operation
        self.shut = 0               # sk_shutdown: RCV_SHUTDOWN | SEND_SHUTDOWN
        # SOL_SOCKET options (sock_setsockopt): kept and reported
        self.reuseaddr = 0
        self.reuseport = 0
        self.keepalive = 0
        self.broadcast = 0
        self.passcred = 0
        self.oobinline = 0
        self.dontroute = 0
        self.priority = 0
        self.mark = 0
        self.rcvlowat = 1
        self.linger = (0, 0)
        self.rcvtimeo_us = 0        # 0: wait forever
        self.sndtimeo_us = 0
        self.sndbuf = S.SOCK_BUF_DEFAULT
        self.rcvbuf = S.SOCK_BUF_DEFAULT

    # ---- the file ---------------------------------------------------------------------

    def stat(self) -> tuple:
        s, ns = divmod(self.ctime, 10**9)
        return (S.SOCKFS_DEV, self.ino, 1, statmod.S_IFSOCK | 0o777, 0, 0, 0, 0, 0, 4096, 0,
                s, ns, s, ns, s, ns, 0, 0, 0)

    def proc_link(self) -> bytes:
        return b"socket:[%d]" % self.ino

    def wait_queues(self, events: int):
        return (self.wait,), ()

    def read_iter(self, dst, offset: int | None = None) -> int:
        """read(2) and readv(2): recvmsg without flags (a read of 0 bytes returns 0
        at once, as sock_read_iter does)."""
        if offset is not None:
            raise KernelError(errno.ESPIPE)
        if not dst.count:
            return 0
        got = Transfer()
        who = self.net.current_caller()
        return self.blocking(lambda stop: self.recvmsg(dst, 0, who, stop, got).count,
                             bool(self.flags & L.O_NONBLOCK), self.rcvtimeo_us)

    def write_iter(self, src, offset: int | None = None) -> int:
        """write(2) and writev(2): sendmsg without flags (so EPIPE, with the SIGPIPE
        the write system call adds)."""
        if offset is not None:
            raise KernelError(errno.ESPIPE)
        sent = Transfer()
        who = self.net.current_caller()
        return self.blocking(lambda stop: self.sendmsg(src, 0, None, (), None, who, stop,
                                                       sent),
                             bool(self.flags & L.O_NONBLOCK), self.sndtimeo_us)

    def write(self, data: bytes) -> int:
        """What sendfile and splice write with: what fits now is sent; a blocking
        socket with no room at all waits (the call runs again), one with some never
        does, so a transfer that moved bytes is never sent twice."""
        try:
            return self.sendmsg(HostBytes(data), 0, None, (), None, self.net.current_caller(),
                                True, Transfer())
        except KernelError as e:
            if e.errno != errno.EAGAIN or self.flags & L.O_NONBLOCK:
                raise
        raise WouldBlock(self.wait_queues(POLLOUT)[0], what="room in a socket")

    def read(self, size: int) -> bytes:
        """What splice reads a socket with: what is there now, else a wait (EAGAIN
        without blocking)."""
        sink = HostBytes(b"", size)
        try:
            self.recvmsg(sink, 0, self.net.current_caller(), True, Transfer())
        except KernelError as e:
            if e.errno != errno.EAGAIN or self.flags & L.O_NONBLOCK:
                raise
            raise WouldBlock(self.wait_queues(POLLIN)[0], what="data on a socket") from None
        return bytes(sink.out)

    def close(self) -> None:
        self.release()
        self.wait.wake_all()

    # ---- waiting --------------------------------------------------------------------------

    def wake(self, events: int = 0) -> None:
        self.wait.wake_all(events)

    def must_wait(self, what: str = "a socket"):
        """Raise WouldBlock on this socket's queue (for an operation with stop false)."""
        raise WouldBlock((self.wait,), what=what)

    def blocking(self, op, nonblock: bool, timeout_us: int):
        """Run op(stop), which gives the system call's result, to its end: at once
        with stop for a non-blocking call; else
        waiting on what op names, until the deadline timeout_us sets (then op(True):
        what was done, or EAGAIN), or until a signal, which ends the call with what
        op has done if it did anything. If it did nothing: with a timeout (SO_RCVTIMEO,
        SO_SNDTIMEO) EINTR whatever SA_RESTART says, as sock_intr_errno gives a wait
        with a timeout and man 7 signal lists; without one, EINTR or a restart, the
        dispatcher's (ERESTARTSYS)."""
        if nonblock:
            return op(True)
        deadline = self.net.now() + timeout_us * 1000 if timeout_us else None

        def partial():
            try:
                return op(True)
            except KernelError as e:
                if e.errno in (errno.EAGAIN, errno.EINPROGRESS):
                    return -errno.EINTR if timeout_us else None
                return -e.errno

        def attempt(timed_out: bool):
            try:
                return op(timed_out)
            except WouldBlock as w:
                raise WouldBlock(w.queues, deadline, w.host, retry=attempt, what=w.what,
                                 on_interrupt=partial) from None
        return attempt(False)

    def ioctl(self, request: int, arg: int, mm) -> int:
        """sock_ioctl: SIOCINQ (FIONREAD) and SIOCOUTQ where the family counts them,
        the SIOCGIF* requests on any socket (net/interfaces.py); ENOTTY for others."""
        if request in (D.SIOCINQ, D.SIOCOUTQ):
            count = self.inq() if request == D.SIOCINQ else self.outq()
            mm.write_i32(arg, count)
            return 0
        result = ifreq_ioctl(self.net.interfaces, request, arg, mm, self.family == S.AF_INET)
        if result is None:
            raise KernelError(errno.ENOTTY)
        return result

    def inq(self) -> int:
        raise KernelError(errno.ENOTTY)

    def outq(self) -> int:
        raise KernelError(errno.ENOTTY)

    # ---- readiness ------------------------------------------------------------------------

    def poll(self, events: int) -> int:
        return events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

    # ---- operations (sock_no_*: what a family without them answers) ----------------------

    def bind(self, addr: bytes, caller: Caller) -> None:
        raise KernelError(errno.EOPNOTSUPP)

    def connect(self, addr: bytes, caller: Caller, stop: bool) -> None:
        raise KernelError(errno.EOPNOTSUPP)

    def listen(self, backlog: int, caller: Caller) -> None:
        raise KernelError(errno.EOPNOTSUPP)

    def accept(self, flags: int, caller: Caller, stop: bool) -> "Socket":
        raise KernelError(errno.EOPNOTSUPP)

    def sendmsg(self, src, flags: int, addr: bytes | None, rights, creds, caller,
                stop: bool, sent: Transfer) -> int:
        """Send from src (an IovIter); rights are Files, creds a ucred tuple or None
        (the caller's own then); the count sent so far is in sent."""
        raise KernelError(errno.EOPNOTSUPP)

    def recvmsg(self, dst, flags: int, caller, stop: bool, got: Transfer) -> Transfer:
        """Receive into dst (an IovIter), filling got."""
        raise KernelError(errno.EOPNOTSUPP)

    def shutdown(self, how: int) -> None:
        raise KernelError(errno.EOPNOTSUPP)

    def getname(self, peer: bool) -> bytes:
        raise KernelError(errno.EOPNOTSUPP)

    def release(self) -> None:
        """The last close: the family lets go of names, peers and queued messages."""

    def take_error(self) -> int:
        """sock_error: the pending error, cleared."""
        err, self.error = self.error, 0
        return err

    # ---- SOL_SOCKET options ------------------------------------------------------------------

    def acceptconn(self) -> int:
        return 0

    def peercred(self) -> tuple[int, int, int] | None:
        return None

    def getsockopt(self, level: int, name: int) -> bytes:
        """The option's value as the bytes Linux copies out (the glue truncates them to
        the caller's length, as sock_getsockopt does)."""
        if level != S.SOL_SOCKET:
            return self.protocol_getsockopt(level, name)
        ints = {
            S.SO_TYPE: self.type, S.SO_PROTOCOL: self.protocol, S.SO_DOMAIN: self.family,
            S.SO_ERROR: None, S.SO_REUSEADDR: self.reuseaddr, S.SO_REUSEPORT: self.reuseport,
            S.SO_KEEPALIVE: self.keepalive, S.SO_BROADCAST: self.broadcast,
            S.SO_PASSCRED: self.passcred, S.SO_OOBINLINE: self.oobinline,
            S.SO_DONTROUTE: self.dontroute, S.SO_PRIORITY: self.priority,
            S.SO_SNDBUF: self.sndbuf, S.SO_RCVBUF: self.rcvbuf, S.SO_RCVLOWAT: self.rcvlowat,
            S.SO_SNDLOWAT: 1, S.SO_ACCEPTCONN: None, S.SO_MARK: self.mark,
            S.SO_DEBUG: 0, S.SO_BSDCOMPAT: 0, S.SO_NO_CHECK: 0,
        }
        if name in ints:
            value = ints[name]
            if name == S.SO_ERROR:
                value = self.take_error()
            elif name == S.SO_ACCEPTCONN:
                value = self.acceptconn()
            return L.INT.pack(value)
        if name == S.SO_LINGER:
            return S.LINGER.pack(*self.linger)
        if name in (S.SO_RCVTIMEO_OLD, S.SO_SNDTIMEO_OLD):
            us = self.rcvtimeo_us if name == S.SO_RCVTIMEO_OLD else self.sndtimeo_us
            return L.TIMEVAL.pack(us // 1000000, us % 1000000)
        if name == S.SO_PEERCRED:
            cred = self.peercred()
            return S.UCRED.pack(*(cred if cred is not None else (0, 0xFFFFFFFF, 0xFFFFFFFF)))
        if name == S.SO_COOKIE:
            return self.ino.to_bytes(8, "little")
        raise KernelError(errno.ENOPROTOOPT)

    def setsockopt(self, level: int, name: int, value: bytes, privileged: bool) -> None:
        """sock_setsockopt: int options need at least an int (EINVAL), a timeval's
        microseconds must be below a second (EDOM)."""
        if level != S.SOL_SOCKET:
            return self.protocol_setsockopt(level, name, value)
        if name in (S.SO_RCVTIMEO_OLD, S.SO_SNDTIMEO_OLD):
            if len(value) < L.TIMEVAL.size:
                raise KernelError(errno.EINVAL)
            sec, usec = L.TIMEVAL.unpack_from(value)
            if not 0 <= usec < 1000000:
                raise KernelError(errno.EDOM)
            us = 0 if sec < 0 else sec * 1000000 + usec
            if name == S.SO_RCVTIMEO_OLD:
                self.rcvtimeo_us = us
            else:
                self.sndtimeo_us = us
            return
        if name == S.SO_LINGER:
            if len(value) < S.LINGER.size:
                raise KernelError(errno.EINVAL)
            onoff, secs = S.LINGER.unpack_from(value)
            self.linger = (1, secs) if onoff else (0, self.linger[1])
            return
        if len(value) < L.INT.size:
            raise KernelError(errno.EINVAL)
        v = L.INT.unpack_from(value)[0]
        flag = 1 if v else 0
        flags = {S.SO_REUSEADDR: "reuseaddr", S.SO_REUSEPORT: "reuseport",
                 S.SO_KEEPALIVE: "keepalive", S.SO_BROADCAST: "broadcast",
                 S.SO_PASSCRED: "passcred", S.SO_OOBINLINE: "oobinline",
                 S.SO_DONTROUTE: "dontroute"}
        if name in flags:
            setattr(self, flags[name], flag)
        elif name == S.SO_DEBUG:
            if flag and not privileged:
                raise KernelError(errno.EACCES)
        elif name == S.SO_PRIORITY:
            if not 0 <= v <= 6 and not privileged:
                raise KernelError(errno.EPERM)
            self.priority = v
        elif name == S.SO_MARK:
            if not privileged:
                raise KernelError(errno.EPERM)
            self.mark = v & 0xFFFFFFFF
        elif name in (S.SO_SNDBUF, S.SO_RCVBUF, S.SO_SNDBUFFORCE, S.SO_RCVBUFFORCE):
            # the value asked for, capped at wmem_max/rmem_max unless forced, doubled
            # for bookkeeping overhead, at least the minimum
            if name in (S.SO_SNDBUFFORCE, S.SO_RCVBUFFORCE) and not privileged:
                raise KernelError(errno.EPERM)
            size = v & 0xFFFFFFFF
            if name in (S.SO_SNDBUF, S.SO_RCVBUF):
                size = min(size, S.SOCK_BUF_MAX)
            size = min(size, 0x7FFFFFFF // 2) * 2
            if name in (S.SO_SNDBUF, S.SO_SNDBUFFORCE):
                self.sndbuf = max(size, S.SOCK_MIN_SNDBUF)
            else:
                self.rcvbuf = max(size, S.SOCK_MIN_RCVBUF)
            self.wake(POLLOUT)
        elif name == S.SO_RCVLOWAT:
            self.rcvlowat = max(v, 1) if v >= 0 else 0x7FFFFFFF
        elif name not in (S.SO_BSDCOMPAT, S.SO_NO_CHECK):
            raise KernelError(errno.ENOPROTOOPT)

    def protocol_getsockopt(self, level: int, name: int) -> bytes:
        raise KernelError(errno.EOPNOTSUPP)

    def protocol_setsockopt(self, level: int, name: int, value: bytes) -> None:
        raise KernelError(errno.EOPNOTSUPP)


class NetNamespace:
    """One kernel's network state (Linux's struct net): sockfs, the AF_UNIX name
    tables (net/unix.py), netlink's port ids (net/netlink.py), and the interfaces
    that netlink and the SIOCGIF* ioctls describe."""

    def __init__(self, current_caller, add_timer=None, now=time.monotonic_ns, network=None):
        # current_caller(): the Caller of the running system call, for the socket
        # operations read(2) and write(2) reach without one; add_timer(deadline,
        # fire): the scheduler's kernel timers; now(): the kernel clock's monotonic
        # time, which deadlines and the stack go by (all three the kernel's to give)
        self.current_caller = current_caller
        self.add_timer = add_timer
        self.now = now
        self._network = network       # net/network.Network, made on first use
        self.trace_tcp = None         # --trace tcp: write(line), given to the stack's TCP
        self._timer = None            # the kernel timer armed at its next deadline
        self.tcp_bound: dict[tuple, object] = {}   # (addr, port) -> bound TCP socket
        self.sockfs = SockFS()
        # AF_UNIX: abstract names -> socket; bound path sockets by (fs, ino) of their
        # socket inode (as Linux finds a socket from its inode); the next autobind name
        self.unix_abstract: dict[bytes, object] = {}
        self.unix_paths: dict[tuple, object] = {}
        self.unix_autobind = 0
        # AF_NETLINK: port id -> socket
        self.netlink_ports: dict[int, object] = {}
        # AF_INET ping sockets (net/ping_socket.py): net.ipv4.ping_group_range, pyunik's
        # "0 2147483647" as Debian's (Linux's default "1 0" admits nobody), and the
        # last echo identifier an unbound socket took
        # signal_owner(owner, sig): sig to F_SETOWN's process (owner > 0) or process
        # group (-pgid), as send_sigurg does (the kernel's to give; None: no signals)
        self.signal_owner = None
        self.ping_group_range = (0, 2147483647)
        self.ping_rover = 0
        self._interfaces: list = [loopback()]

    @property
    def has_network(self) -> bool:
        return self._network is not None

    def attach(self, network) -> None:
        """The network --net made at boot (kernel/netdev.py), before any socket."""
        self._network = network
        if self.trace_tcp is not None:
            network.stack.tcp.set_trace(self.trace_tcp)

    @property
    def network(self):
        """The stack sockets of AF_INET use (lo only unless --net gave a card)."""
        if self._network is None:
            from .network import Network
            self._network = Network.configure(None)
            if self.trace_tcp is not None:
                self._network.stack.tcp.set_trace(self.trace_tcp)
        return self._network

    def pump(self, now: int | None = None) -> None:
        """Run the stack now (frames in, loopback delivered, timers), and keep a
        kernel timer at its next deadline so that it runs again then."""
        network = self._network
        if network is None:
            return
        network.poll(self.now() if now is None else now)
        deadline = network.next_deadline()
        if deadline is None or self.add_timer is None:
            return
        if self._timer is not None and self._timer.live and self._timer.deadline <= deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.add_timer(deadline, self.pump)

    @property
    def interfaces(self) -> list:
        """The interfaces netlink and the SIOCGIF* ioctls describe: the stack's once
        there is one, else loopback's description."""
        if self._network is None:
            return self._interfaces
        return [describe(i) for i in self._network.stack.interfaces.values()]
