"""AF_UNIX sockets (net/unix/af_unix.c): SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET,
socketpair, names in the file system and in the abstract namespace, autobind,
SCM_RIGHTS and SCM_CREDENTIALS, SO_PASSCRED and SO_PEERCRED.

State (all of it guarded by the kernel's one thread of control):
- `state`: CLOSE, LISTEN or ESTABLISHED (a connected datagram socket is ESTABLISHED
  too, as in Linux); `peer` the other end (a datagram socket's default destination);
- `recvq`: the receive queue of Messages (net/socket.py); a listening socket's holds
  instead the embryo sockets of connections not yet accepted (`pending`);
- `inflight`: the bytes this socket has sent that still sit in some receive queue,
  counted against its SO_SNDBUF as Linux counts sk_wmem_alloc (data bytes only, not
  the skb overhead Linux adds);
- `addr`: the sockaddr getsockname returns (family and name); `names` and `key`
  where the name is registered in the namespace: the abstract names by sockaddr,
  or the path sockets by (fs, ino) of their inode.

A stream connect to a listening socket completes at once, as in Linux: an embryo
socket, already connected to the caller, waits in the listener's queue for accept;
the queue is full (connect waits or says EAGAIN) above the listen backlog.

A name in the file system is a socket inode the glue (kernel/syscalls/net.py) makes
with mknod; the socket is found from the inode (fs, ino), as unix_find_socket_byinode
does. On a host directory (-v, --root) that inode is a real socket file on the host,
but nothing listens behind it there: a host process that connects to it is refused,
and a guest never reaches a host socket through a path.

Not done: MSG_OOB (EOPNOTSUPP), SO_PEEK_OFF, the garbage collector for sockets sent
over themselves (such a cycle lives until the kernel ends).

Layer: net. Called by kernel/syscalls/net.py through the Socket operations.
"""

from __future__ import annotations

import errno
import stat as statmod
from collections import deque

from ..abi import socket as S
from ..abi.poll import (POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND,
                        POLLWRNORM)
from ..errors import KernelError
from ..fs.file import TRANSFER_CHUNK
from ..wait import WouldBlock
from .socket import Caller, Message, Socket, Transfer, copy_datagram, family_of

CLOSE, LISTEN, ESTABLISHED = "close", "listen", "established"


def check_address(addr: bytes) -> None:
    """unix_validate_addr: a family and at least one byte of name, at most a
    sockaddr_un."""
    if len(addr) <= S.SUN_PATH_OFFSET or len(addr) > S.SOCKADDR_UN_SIZE:
        raise KernelError(errno.EINVAL)
    if family_of(addr) != S.AF_UNIX:
        raise KernelError(errno.EINVAL)


def split_address(addr: bytes) -> tuple[bytes | None, bytes]:
    """(path, sockaddr as stored) for a path name, cut at its first NUL
    (unix_mkname_bsd); (None, sockaddr) for an abstract one, whose name is every
    byte given."""
    check_address(addr)
    name = addr[S.SUN_PATH_OFFSET:]
    if name[0] == 0:
        return None, addr
    path = name.split(b"\0", 1)[0]
    return path, addr[:S.SUN_PATH_OFFSET] + path + b"\0"


def _family_only() -> bytes:
    return S.SA_FAMILY.pack(S.AF_UNIX)


class UnixSocket(Socket):
    family = S.AF_UNIX

    def __init__(self, net, sock_type: int, flags: int):
        super().__init__(net, sock_type, 0, flags)
        self.state = CLOSE
        self.peer: UnixSocket | None = None
        self.recvq: deque = deque()
        self.queued = 0             # bytes in recvq (SIOCINQ)
        self.inflight = 0
        self.addr: bytes | None = None
        self.names: dict | None = None
        self.key = None
        self.backlog = 0
        self.pending: deque = deque()
        self.peer_cred: tuple | None = None
        self.dead = False

    @property
    def connection(self) -> bool:
        return self.type in (S.SOCK_STREAM, S.SOCK_SEQPACKET)

    # ---- names --------------------------------------------------------------------------

    def bind_abstract(self, addr: bytes) -> None:
        """unix_bind_abstract: EINVAL if bound, EADDRINUSE if the name is taken."""
        if self.addr is not None:
            raise KernelError(errno.EINVAL)
        names = self.net.unix_abstract
        if addr in names:
            raise KernelError(errno.EADDRINUSE)
        names[addr] = self
        self.addr, self.names, self.key = addr, names, addr

    def bind_inode(self, addr: bytes, inode) -> None:
        """unix_bind_bsd, once the glue has made the socket inode at the path."""
        self.addr, self.names, self.key = addr, self.net.unix_paths, (inode.fs, inode.ino)
        self.names[self.key] = self

    def autobind(self) -> None:
        """unix_autobind: an abstract name of five hex digits, if none yet."""
        if self.addr is not None:
            return
        names = self.net.unix_abstract
        while True:
            self.net.unix_autobind = (self.net.unix_autobind + 1) & 0xFFFFF
            addr = _family_only() + b"\0" + b"%05x" % self.net.unix_autobind
            if addr not in names:
                break
        self.bind_abstract(addr)

    def getname(self, peer: bool) -> bytes:
        if peer:
            if self.peer is None or self.state != ESTABLISHED and self.connection:
                raise KernelError(errno.ENOTCONN)
            other = self.peer
            return other.addr if other.addr is not None else _family_only()
        return self.addr if self.addr is not None else _family_only()

    def find_other(self, addr: bytes, path_inode) -> "UnixSocket":
        """unix_find_other for an abstract name (path_inode None) or the inode the
        glue found at a path (already checked for write permission): ECONNREFUSED
        when no socket is bound there, EPROTOTYPE for a socket of another type."""
        if path_inode is None:
            other = self.net.unix_abstract.get(addr)
        else:
            other = self.net.unix_paths.get((path_inode.fs, path_inode.ino))
        if other is None or other.dead:
            raise KernelError(errno.ECONNREFUSED)
        if other.type != self.type:
            raise KernelError(errno.EPROTOTYPE)
        return other

    # ---- connections --------------------------------------------------------------------

    def listen(self, backlog: int, caller: Caller) -> None:
        if not self.connection:
            raise KernelError(errno.EOPNOTSUPP)
        if self.addr is None or self.state not in (CLOSE, LISTEN):
            raise KernelError(errno.EINVAL)
        self.backlog = backlog
        self.state = LISTEN
        self.peer_cred = caller.peercred
        self.wake()

    def acceptconn(self) -> int:
        return 1 if self.state == LISTEN else 0

    def peercred(self):
        return self.peer_cred

    def connect_to(self, other: "UnixSocket", caller: Caller, stop: bool) -> None:
        """The rest of unix_stream_connect or unix_dgram_connect once the target is
        found."""
        if not self.connection:
            if other.peer is not None and other.peer is not self:
                raise KernelError(errno.EPERM)       # unix_may_send
            if self.peer is not None and self.peer is not other:
                self.peer.wake(POLLOUT)
            self.peer = other
            self.state = ESTABLISHED
            return
        if other.state != LISTEN or other.shut & S.RCV_SHUTDOWN:
            raise KernelError(errno.ECONNREFUSED)
        if len(other.pending) > other.backlog:
            if stop:
                raise KernelError(errno.EAGAIN)
            raise_wait(self, other, "room in a listening socket's backlog")
        if self.state == ESTABLISHED:
            raise KernelError(errno.EISCONN)
        if self.state != CLOSE:
            raise KernelError(errno.EINVAL)
        embryo = UnixSocket(self.net, self.type, 0)
        embryo.state = ESTABLISHED
        embryo.peer = self
        embryo.addr = other.addr
        embryo.peer_cred = caller.peercred
        embryo.passcred = other.passcred
        embryo.sndbuf, embryo.rcvbuf = other.sndbuf, other.rcvbuf
        self.peer = embryo
        self.state = ESTABLISHED
        self.peer_cred = other.peer_cred
        other.pending.append(embryo)
        other.wake(POLLIN | POLLRDNORM)

    def disconnect(self) -> None:
        """connect(AF_UNSPEC) of a datagram socket: no default destination."""
        if not self.connection and self.peer is not None:
            self.peer.wake(POLLOUT)
            self.peer = None
            self.state = CLOSE

    def accept(self, flags: int, caller: Caller, stop: bool) -> "UnixSocket":
        if not self.connection:
            raise KernelError(errno.EOPNOTSUPP)
        if self.state != LISTEN:
            raise KernelError(errno.EINVAL)
        if not self.pending:
            if self.shut & S.RCV_SHUTDOWN:
                raise KernelError(errno.EINVAL)
            if stop:
                raise KernelError(errno.EAGAIN)
            self.must_wait("a connection (accept)")
        embryo = self.pending.popleft()
        embryo.flags = (embryo.flags & ~S.SOCK_NONBLOCK) | (flags & S.SOCK_NONBLOCK)
        self.wake(POLLOUT)          # a connect waiting for room in the backlog
        return embryo

    def shutdown(self, how: int) -> None:
        if how not in (S.SHUT_RD, S.SHUT_WR, S.SHUT_RDWR):
            raise KernelError(errno.EINVAL)
        mode = how + 1
        self.shut |= mode
        self.wake()
        other = self.peer
        if other is not None and self.connection:
            peer_mode = (S.SEND_SHUTDOWN if mode & S.RCV_SHUTDOWN else 0) | \
                (S.RCV_SHUTDOWN if mode & S.SEND_SHUTDOWN else 0)
            other.shut |= peer_mode
            other.wake()

    def release(self, embryo: bool = False) -> None:
        """unix_release_sock: the name goes, the peer of a connection sees it shut
        (and ECONNRESET if this end left data unread or was never accepted), queued
        messages and embryos are dropped."""
        self.dead = True
        if self.names is not None and self.names.get(self.key) is self:
            del self.names[self.key]
        self.state = CLOSE
        self.shut = S.SHUTDOWN_MASK
        other, self.peer = self.peer, None
        if other is not None:
            if self.connection:
                other.shut = S.SHUTDOWN_MASK
                if self.recvq or embryo:
                    other.error = errno.ECONNRESET
            other.wake()
        while self.pending:
            self.pending.popleft().release(embryo=True)
        while self.recvq:
            msg = self.recvq.popleft()
            self._consumed(msg, len(msg.data))
            msg.drop_rights()
        self.queued = 0

    # ---- sending --------------------------------------------------------------------------

    def sendmsg(self, src, flags, addr, rights, creds, caller, stop, sent) -> int:
        """unix_stream_sendmsg, unix_dgram_sendmsg, unix_seqpacket_sendmsg. For a
        datagram to an address, addr is (sockaddr, the socket the glue found there)."""
        if flags & S.MSG_OOB:
            raise KernelError(errno.EOPNOTSUPP)
        if self.type == S.SOCK_STREAM:
            return self._send_stream(src, flags, addr, rights, creds, caller, stop, sent)
        if self.type == S.SOCK_SEQPACKET:
            err = self.take_error()
            if err:
                raise KernelError(err)
            if self.state != ESTABLISHED:
                raise KernelError(errno.ENOTCONN)
            addr = None
        return self._send_dgram(src, flags, addr, rights, creds, caller, stop)

    def _send_stream(self, src, flags, addr, rights, creds, caller, stop, sent) -> int:
        if addr is not None:
            raise KernelError(errno.EISCONN if self.state == ESTABLISHED else errno.EOPNOTSUPP)
        other = self.peer
        if other is None or self.state != ESTABLISHED:
            raise KernelError(errno.ENOTCONN)
        if self.shut & S.SEND_SHUTDOWN and not sent.count:
            raise KernelError(errno.EPIPE)
        while src.count:
            if self.shut & S.SEND_SHUTDOWN or other.dead or other.shut & S.RCV_SHUTDOWN:
                if sent.count:
                    return sent.count
                raise KernelError(errno.EPIPE)
            room = self.sndbuf - self.inflight
            if room <= 0:
                if stop:
                    if sent.count:
                        return sent.count
                    raise KernelError(errno.EAGAIN)
                raise_wait(self, other, "room in a socket's buffer")
            data = src.copy_in(min(src.count, room, TRANSFER_CHUNK, self.sndbuf // 2))
            if not data:
                if sent.count:
                    return sent.count
                raise KernelError(errno.EFAULT)
            msg = Message(data, [], creds or caller.ucred, None, self)
            if not sent.rights_sent:
                msg.rights = _hold(rights)
                sent.rights_sent = True
            other.deliver(msg)
            sent.count += len(data)
            if src.faulted:
                break
        return sent.count

    def _send_dgram(self, src, flags, addr, rights, creds, caller, stop) -> int:
        other = addr[1] if addr is not None else self.peer
        if other is None:
            raise KernelError(errno.ENOTCONN)
        if self.passcred:
            self.autobind()
        size = src.count
        if size > self.sndbuf - 32:
            raise KernelError(errno.EMSGSIZE)
        if other.dead:
            if self.type == S.SOCK_SEQPACKET:
                raise KernelError(errno.EPIPE)
            if self.peer is other:
                self.peer = None
                self.state = CLOSE
            raise KernelError(errno.ECONNREFUSED)
        if other.peer is not None and other.peer is not self and not other.connection:
            raise KernelError(errno.EPERM)
        if other.shut & S.RCV_SHUTDOWN:
            raise KernelError(errno.EPIPE)
        full = (other.peer is not self and len(other.recvq) > S.UNIX_MAX_DGRAM_QLEN) or \
            self.inflight + size > self.sndbuf and self.inflight
        if full:
            if stop:
                raise KernelError(errno.EAGAIN)
            raise_wait(self, other, "room in a socket's queue")
        data = src.copy_in(size)
        if src.faulted:
            raise KernelError(errno.EFAULT)
        other.deliver(Message(data, _hold(rights), creds or caller.ucred, self.addr, self))
        return size

    def deliver(self, msg: Message) -> None:
        """Queue a message here (the sender counts it in flight) and wake readers."""
        self.recvq.append(msg)
        self.queued += len(msg.data)
        if msg.sender is not None:
            msg.sender.inflight += len(msg.data)
        self.wake(POLLIN | POLLRDNORM)

    def _consumed(self, msg: Message, n: int) -> None:
        """n bytes of msg left the queue: the sender has that much room again."""
        self.queued -= n
        sender = msg.sender
        if sender is not None:
            sender.inflight -= n
            sender.wake(POLLOUT | POLLWRNORM)
        self.wake(POLLOUT | POLLWRNORM)      # senders waiting for room in this queue

    # ---- receiving ------------------------------------------------------------------------

    def recvmsg(self, dst, flags, caller, stop, got: Transfer) -> Transfer:
        if flags & S.MSG_OOB:
            raise KernelError(errno.EOPNOTSUPP if self.type != S.SOCK_STREAM else errno.EINVAL)
        if self.type == S.SOCK_STREAM:
            if self.state != ESTABLISHED:
                raise KernelError(errno.EINVAL)
            return self._recv_stream(dst, flags, stop, got)
        if self.type == S.SOCK_SEQPACKET and self.state != ESTABLISHED:
            raise KernelError(errno.ENOTCONN)
        return self._recv_dgram(dst, flags, stop, got)

    def _nothing_to_read(self, got: Transfer, stop: bool) -> Transfer:
        """The queue is empty: an error once, end of file, EAGAIN, or a wait."""
        err = self.take_error()
        if err:
            raise KernelError(err)
        if self.shut & S.RCV_SHUTDOWN:
            return got
        if stop:
            raise KernelError(errno.EAGAIN)
        self.must_wait("data on a socket")

    def _recv_stream(self, dst, flags, stop, got: Transfer) -> Transfer:
        """unix_stream_read_generic: bytes from as many messages as fit, stopping at
        one that carried files, or from another writer under SO_PASSCRED; waiting
        until at least one byte (all of them with MSG_WAITALL) has come."""
        peek = flags & S.MSG_PEEK
        size = dst.count + got.count
        # sock_rcvlowat: at least one byte, even for a read of none
        target = max(1, size if flags & S.MSG_WAITALL else min(self.rcvlowat, size))
        skip = got.count if peek else 0
        index = 0
        if not size:
            return got if self.recvq else self._nothing_to_read(got, stop)
        while dst.count:
            while index < len(self.recvq) and skip >= len(self.recvq[index].data):
                skip -= len(self.recvq[index].data)
                index += 1
            if index >= len(self.recvq):
                if got.count >= target or peek and got.count:
                    break
                try:
                    return self._nothing_to_read(got, stop)
                except KernelError:
                    if got.count:
                        return got
                    raise
            msg = self.recvq[index]
            if self.passcred:
                if got.creds is not None and msg.creds != got.creds:
                    break
                got.creds = msg.creds
            chunk = msg.data[skip:skip + dst.count]
            n = dst.copy_out(chunk)
            if n == 0 and chunk:
                if got.count:
                    break
                raise KernelError(errno.EFAULT)
            got.count += n
            if peek:
                if msg.rights:
                    got.rights += _hold(msg.rights)
                    break
                skip += n
                continue
            if msg.rights:
                got.rights += msg.rights
                msg.rights = []
            msg.data = msg.data[n:]
            if msg.data:
                self._consumed(msg, n)
                break
            self.recvq.popleft()
            self._consumed(msg, n)
            if got.rights:
                break
        return got

    def _recv_dgram(self, dst, flags, stop, got: Transfer) -> Transfer:
        """__unix_dgram_recvmsg: one message; MSG_TRUNC in msg_flags when it was
        longer than the buffers, and its whole length returned with MSG_TRUNC."""
        if not self.recvq:
            return self._nothing_to_read(got, stop)
        msg = self.recvq[0]
        copy_datagram(dst, msg.data, flags, got)
        got.addr = msg.sender.addr if msg.sender is not None else None
        if self.passcred:
            got.creds = msg.creds
        if flags & S.MSG_PEEK:
            got.rights = _hold(msg.rights)
        else:
            self.recvq.popleft()
            got.rights, msg.rights = msg.rights, []
            self._consumed(msg, len(msg.data))
        return got

    # ---- readiness and ioctls ----------------------------------------------------------------

    def writable(self) -> bool:
        """unix_writable: the data in flight is at most a quarter of the send buffer."""
        return self.inflight * 4 <= self.sndbuf

    def poll(self, events: int) -> int:
        mask = 0
        if self.error:
            mask |= POLLERR
        if self.shut == S.SHUTDOWN_MASK:
            mask |= POLLHUP
        if self.shut & S.RCV_SHUTDOWN:
            mask |= POLLRDHUP | POLLIN | POLLRDNORM
        if self.recvq or self.pending:
            mask |= POLLIN | POLLRDNORM
        if self.connection:
            if self.state == CLOSE:
                mask |= POLLHUP
            if self.state == LISTEN:
                return mask & (events | POLLERR | POLLHUP)
        writable = self.writable()
        other = self.peer
        if not self.connection and other is not None and other.peer is not self and \
                len(other.recvq) > S.UNIX_MAX_DGRAM_QLEN:
            writable = False
        if writable:
            mask |= POLLOUT | POLLWRNORM | POLLWRBAND
        return mask & (events | POLLERR | POLLHUP)

    def wait_queues(self, events: int):
        if self.peer is not None and not self.connection:
            return (self.wait, self.peer.wait), ()
        return (self.wait,), ()

    def inq(self) -> int:
        """SIOCINQ: the bytes queued for a stream, the first datagram's length."""
        if self.state == LISTEN:
            raise KernelError(errno.EINVAL)
        if self.type == S.SOCK_STREAM:
            return self.queued
        return len(self.recvq[0].data) if self.recvq else 0

    def outq(self) -> int:
        """SIOCOUTQ: the bytes sent and not yet read by the other side."""
        return self.inflight


def raise_wait(sock: Socket, other: Socket, what: str):
    """Wait for room: the sender's own buffer or the receiver's queue."""
    raise WouldBlock((sock.wait, other.wait), what=what)


def _hold(files) -> list:
    """Files going into a message: each holds a reference while in flight."""
    out = list(files)
    for f in out:
        f.refs += 1
    return out


def socketpair(net, sock_type: int, flags: int, caller: Caller) -> tuple[UnixSocket, UnixSocket]:
    """unix_socketpair: two sockets connected to each other, each with the caller's
    credentials as its peer's."""
    a, b = UnixSocket(net, sock_type, flags), UnixSocket(net, sock_type, flags)
    a.peer, b.peer = b, a
    a.state = b.state = ESTABLISHED
    a.peer_cred = b.peer_cred = caller.peercred
    return a, b


def create(net, sock_type: int, protocol: int, flags: int) -> UnixSocket:
    """unix_create: EPROTONOSUPPORT for a protocol but 0 (or PF_UNIX), SOCK_RAW is a
    datagram socket, the other types ESOCKTNOSUPPORT."""
    if protocol and protocol != S.AF_UNIX:
        raise KernelError(errno.EPROTONOSUPPORT)
    if sock_type == S.SOCK_RAW:
        sock_type = S.SOCK_DGRAM
    if sock_type not in (S.SOCK_STREAM, S.SOCK_DGRAM, S.SOCK_SEQPACKET):
        raise KernelError(errno.ESOCKTNOSUPPORT)
    return UnixSocket(net, sock_type, flags)


def may_connect(inode) -> None:
    """A path names a socket only if it is one (ECONNREFUSED otherwise); write
    permission was checked by the glue (MAY_WRITE)."""
    if not statmod.S_ISSOCK(inode.mode):
        raise KernelError(errno.ECONNREFUSED)
