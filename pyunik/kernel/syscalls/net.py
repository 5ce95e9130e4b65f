"""Socket system calls (net/socket.c, net/core/scm.c). Mostly argument checking and
the copying of sockaddrs, msghdrs and control messages between guest memory and the
socket layer (net/socket.py), which does the work.

Conventions kept from net/socket.c: a sockaddr from the guest is at most a
sockaddr_storage (EINVAL beyond); one written back is cut to the caller's length and
the full length stored (move_addr_to_user); a file that is no socket is ENOTSOCK;
O_NONBLOCK of the file adds MSG_DONTWAIT; a stream send on a broken connection
raises SIGPIPE unless MSG_NOSIGNAL. SCM_RIGHTS files travel as File objects: the
glue turns fds into files on sending and files into new fds on receiving
(scm_detach_fds: as many as the control buffer holds, MSG_CTRUNC for the rest).

Layer: kernel (syscall handlers). Calls net/ (socket, unix, netlink), the fd table,
mm/iov_iter.py, fs/namei.py for the socket inodes of unix path names, and
kernel/signals.py for SIGPIPE.
"""

from __future__ import annotations

import stat as statmod
from errno import (EADDRINUSE, EAFNOSUPPORT, ECONNREFUSED, EEXIST, EFAULT, EINVAL, EISCONN,
                   EMSGSIZE, ENOBUFS, ENOTSOCK, EOPNOTSUPP, EPERM, EPIPE)

from ...abi import linux as L
from ...abi import socket as S
from ...abi.capability import CAP_NET_ADMIN, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN
from ...abi.fs import MAY_WRITE
from ...errors import KernelError
from ...fs import namei
from ...mm.iov_iter import IovIter
from ...net import inet, netlink, unix
from ...net.socket import Caller, Socket, Transfer, family_of
from ...wait import WouldBlock
from .. import signals
from .files import _lookup_parent, resolve

# ---- looking things up ------------------------------------------------------------------

def _socket(t, fd) -> Socket:
    """sockfd_lookup: EBADF, then ENOTSOCK."""
    f = t.process.fds.get(fd)
    if not isinstance(f, Socket):
        raise KernelError(ENOTSOCK)
    return f


def caller(t) -> Caller:
    p = t.process
    c = p.cred
    return Caller(p.pid, c.uid, c.gid, c.euid, c.egid, p.kernel.vfs, p.walk_context(),
                  p.fs.cwd, p.fs.umask)


def _net(t):
    return t.process.kernel.net


def read_addr(t, addr, addrlen) -> bytes | None:
    """move_addr_to_kernel: EINVAL for a length outside 0..sizeof(sockaddr_storage);
    None for a NULL pointer or a length of 0."""
    if addrlen < 0 or addrlen > S.SOCKADDR_STORAGE_SIZE:
        raise KernelError(EINVAL)
    if not addr or not addrlen:
        return None
    return t.mm.read(addr, addrlen)


def write_addr(t, kaddr: bytes, uaddr, ulen_ptr) -> None:
    """move_addr_to_user: at most the caller's length copied, the full length stored."""
    length = L.INT.unpack(t.mm.read(ulen_ptr, 4))[0]
    if length < 0:
        raise KernelError(EINVAL)
    length = min(length, len(kaddr))
    if length:
        t.mm.write(uaddr, kaddr[:length])
    t.mm.write_i32(ulen_ptr, len(kaddr))


def _sigpipe(t, sock, flags, e: KernelError) -> None:
    """SIGPIPE with EPIPE from a stream socket, unless MSG_NOSIGNAL."""
    if e.errno == EPIPE and sock.sigpipe and not flags & S.MSG_NOSIGNAL:
        signals.send_sigpipe(t)


# ---- making sockets ---------------------------------------------------------------------

def _split_type(sock_type):
    """sys_socket: the flags SOCK_CLOEXEC and SOCK_NONBLOCK apart from the type."""
    flags = sock_type & ~S.SOCK_TYPE_MASK
    if flags & ~(S.SOCK_CLOEXEC | S.SOCK_NONBLOCK):
        raise KernelError(EINVAL)
    return sock_type & S.SOCK_TYPE_MASK, flags


def create(t, family, sock_type, protocol, flags) -> Socket:
    """__sock_create: EAFNOSUPPORT for a family out of range, EINVAL for a type out of
    range, then the family's own checks; a family pyunik has no sockets for is
    EAFNOSUPPORT, as a kernel built without it."""
    if family < 0 or family >= S.AF_MAX:
        raise KernelError(EAFNOSUPPORT)
    if sock_type < 0 or sock_type >= S.SOCK_MAX:
        raise KernelError(EINVAL)
    net = _net(t)
    if family == S.AF_UNIX:
        return unix.create(net, sock_type, protocol, flags)
    if family == S.AF_NETLINK:
        return netlink.create(net, sock_type, protocol, flags)
    if family == S.AF_INET:
        return inet.create(net, sock_type, protocol, flags, t.process.cred)
    raise KernelError(EAFNOSUPPORT)


def sys_socket(t, domain, sock_type, protocol):
    """socket(2): AF_UNIX, AF_INET (TCP, UDP, ICMP echo) and AF_NETLINK (NETLINK_ROUTE); other
    families EAFNOSUPPORT."""
    sock_type, flags = _split_type(sock_type)
    sock = create(t, domain, sock_type, protocol, flags)
    return _install(t, sock, flags)


def _install(t, sock, flags) -> int:
    try:
        return t.process.fds.install(sock, bool(flags & S.SOCK_CLOEXEC))
    except KernelError:
        _drop(sock)
        raise


def _drop(sock) -> None:
    """A socket made but never installed: released as at its last close."""
    sock.refs += 1
    sock.close_ref()


def sys_socketpair(t, domain, sock_type, protocol, sv):
    """socketpair(2): AF_UNIX only. The vector is checked first (EFAULT), then the
    socket is made as socket(2) would (its errors), then a family whose sockets
    cannot be paired is EOPNOTSUPP."""
    sock_type, flags = _split_type(sock_type)
    t.mm.check_writable(sv, 8)
    a = create(t, domain, sock_type, protocol, flags)
    _drop(a)
    if domain != S.AF_UNIX:
        raise KernelError(EOPNOTSUPP)
    first, second = unix.socketpair(_net(t), a.type, flags, caller(t))
    fds = t.process.fds
    try:
        fd0 = _install(t, first, flags)
    except KernelError:
        _drop(second)
        raise
    try:
        fd1 = _install(t, second, flags)
    except KernelError:
        fds.close(fd0)
        raise
    t.mm.write(sv, L.INT.pack(fd0) + L.INT.pack(fd1))
    return 0


# ---- names ------------------------------------------------------------------------------

def _unix_lookup(t, path: bytes):
    """The socket inode a unix path names: the walk's errors (ENOENT, ENOTDIR,
    EACCES), write permission on it (EACCES), ECONNREFUSED if it is no socket."""
    p = resolve(t, L.AT_FDCWD, path)
    inode = p.inode
    namei.may(t.process.walk_context(), inode, MAY_WRITE)
    if not statmod.S_ISSOCK(inode.mode):
        raise KernelError(ECONNREFUSED)
    return inode


def _unix_target(t, sock, addr: bytes):
    """unix_find_other for a sockaddr_un the guest gave."""
    path, kaddr = unix.split_address(addr)
    return sock.find_other(kaddr, None if path is None else _unix_lookup(t, path))


def _unix_bind(t, sock, addr: bytes) -> None:
    """unix_bind: the family alone autobinds; an abstract name; or a socket inode
    made at the path (mode 0777 less the umask; EADDRINUSE if the name exists)."""
    if len(addr) == S.SUN_PATH_OFFSET and family_of(addr) == S.AF_UNIX:
        sock.autobind()
        return
    path, kaddr = unix.split_address(addr)
    if path is None:
        sock.bind_abstract(kaddr)
        return
    p = t.process
    lk = _lookup_parent(t, L.AT_FDCWD, path)
    try:
        namei.mknod(p.kernel.vfs, p.walk_context(), lk, statmod.S_IFSOCK | 0o777, 0,
                    p.fs.umask)
    except KernelError as e:
        raise KernelError(EADDRINUSE) if e.errno == EEXIST else e
    inode = lk.parent.inode.lookup(lk.name)
    if sock.addr is not None:
        lk2 = _lookup_parent(t, L.AT_FDCWD, path)
        namei.unlink(p.kernel.vfs, p.walk_context(), lk2)
        raise KernelError(EINVAL)
    sock.bind_inode(kaddr, inode)


def sys_bind(t, sockfd, addr, addrlen):
    """bind(2)."""
    kaddr = read_addr(t, addr, addrlen) or b""
    sock = _socket(t, sockfd)
    if sock.family == S.AF_UNIX:
        if len(kaddr) < S.SUN_PATH_OFFSET:
            raise KernelError(EINVAL)
        _unix_bind(t, sock, kaddr)
        return 0
    sock.bind(kaddr, caller(t))
    return 0


def sys_listen(t, sockfd, backlog):
    """listen(2): the backlog is capped at somaxconn (a negative one too, read as
    unsigned)."""
    sock = _socket(t, sockfd)
    if backlog & 0xFFFFFFFF > S.SOMAXCONN:
        backlog = S.SOMAXCONN
    sock.listen(backlog, caller(t))
    return 0


def sys_connect(t, sockfd, addr, addrlen):
    """connect(2): a unix stream connect waits while the listener's backlog is full
    (EAGAIN when non-blocking); AF_UNSPEC disconnects a datagram socket."""
    kaddr = read_addr(t, addr, addrlen) or b""
    sock = _socket(t, sockfd)
    who = caller(t)
    if sock.family != S.AF_UNIX:
        return sock.blocking(lambda stop: sock.connect(kaddr, who, stop) or 0,
                             bool(sock.flags & L.O_NONBLOCK), sock.sndtimeo_us)
    if len(kaddr) >= S.SA_FAMILY.size and family_of(kaddr) == S.AF_UNSPEC and \
            sock.type == S.SOCK_DGRAM:
        sock.disconnect()
        return 0
    unix.check_address(kaddr)
    if sock.passcred:
        sock.autobind()
    other = _unix_target(t, sock, kaddr)
    return sock.blocking(lambda stop: sock.connect_to(other, who, stop) or 0,
                         bool(sock.flags & L.O_NONBLOCK), sock.sndtimeo_us)


def sys_accept(t, sockfd, addr, addrlen):
    """accept(2)."""
    return sys_accept4(t, sockfd, addr, addrlen, 0)


def sys_accept4(t, sockfd, addr, addrlen, flags):
    """accept4(2): the new socket's address is written after the connection is taken
    (an EFAULT then loses it, as in Linux)."""
    if flags & ~(S.SOCK_CLOEXEC | S.SOCK_NONBLOCK):
        raise KernelError(EINVAL)
    sock = _socket(t, sockfd)
    who = caller(t)

    def take(stop):
        new = sock.accept(flags, who, stop)
        if addr:
            try:
                write_addr(t, new.getname(True), addr, addrlen)
            except KernelError:
                _drop(new)
                raise
        return _install(t, new, flags)
    return sock.blocking(take, bool(sock.flags & L.O_NONBLOCK), sock.rcvtimeo_us)


def sys_getsockname(t, sockfd, addr, addrlen):
    """getsockname(2)."""
    write_addr(t, _socket(t, sockfd).getname(False), addr, addrlen)
    return 0


def sys_getpeername(t, sockfd, addr, addrlen):
    """getpeername(2): ENOTCONN without a peer."""
    write_addr(t, _socket(t, sockfd).getname(True), addr, addrlen)
    return 0


def sys_shutdown(t, sockfd, how):
    """shutdown(2)."""
    _socket(t, sockfd).shutdown(how)
    return 0


# ---- options ----------------------------------------------------------------------------

def sys_getsockopt(t, sockfd, level, optname, optval, optlen):
    """getsockopt(2): the value cut to the caller's length, the length written back."""
    sock = _socket(t, sockfd)
    length = L.INT.unpack(t.mm.read(optlen, 4))[0]
    if length < 0:
        raise KernelError(EINVAL)
    value = sock.getsockopt(level, optname)
    value = value[:length]
    if value:
        t.mm.write(optval, value)
    t.mm.write_i32(optlen, len(value))
    return 0


def sys_setsockopt(t, sockfd, level, optname, optval, optlen):
    """setsockopt(2): EINVAL for a negative length."""
    if optlen < 0:
        raise KernelError(EINVAL)
    sock = _socket(t, sockfd)
    # Every option read here is at most 16 bytes; a buffer that ends before that
    # (or before optlen) is EFAULT, as copy_from_sockptr of the option's size is.
    want = min(optlen, 64)
    value = t.mm.read_upto(optval, want) if want else b""
    if len(value) < min(want, 16):
        raise KernelError(EFAULT)
    sock.setsockopt(level, optname, value, t.process.cred.capable(CAP_NET_ADMIN))
    return 0


# ---- sending ----------------------------------------------------------------------------

def _control_in(t, sock, control, controllen):
    """__scm_send: (files, ucred) from the control messages; cmsgs at other levels
    are skipped; EINVAL for a malformed one or an unknown type, EBADF for a bad fd,
    EPERM for credentials not the caller's (unless root)."""
    if not controllen:
        return [], None
    if controllen > L.INT_MAX:
        raise KernelError(ENOBUFS)
    if controllen < S.CMSGHDR.size:
        raise KernelError(EINVAL)
    data = t.mm.read(control, min(controllen, 1 << 16))
    files, creds, pos = [], None, 0
    while pos + S.CMSGHDR.size <= len(data):
        length, level, kind = S.CMSGHDR.unpack_from(data, pos)
        if length < S.CMSGHDR.size or length > len(data) - pos:
            raise KernelError(EINVAL)
        body = data[pos + S.CMSGHDR.size:pos + length]
        if level == S.SOL_SOCKET:
            if kind == S.SCM_RIGHTS:
                if sock.family != S.AF_UNIX:
                    raise KernelError(EINVAL)
                count = len(body) // 4
                if len(files) + count > S.SCM_MAX_FD:
                    raise KernelError(EINVAL)
                for (fd,) in L.INT.iter_unpack(body[:count * 4]):
                    files.append(t.process.fds.get(fd))
            elif kind == S.SCM_CREDENTIALS:
                if length != S.CMSGHDR.size + S.UCRED.size:
                    raise KernelError(EINVAL)
                creds = S.UCRED.unpack(body)
                _check_creds(t, creds)
            else:
                raise KernelError(EINVAL)
        pos += (length + S.CMSG_ALIGNTO - 1) & ~(S.CMSG_ALIGNTO - 1)
    return files, creds


def _check_creds(t, creds) -> None:
    """scm_check_creds: one's own pid (else CAP_SYS_ADMIN), and a uid and gid among
    one's own (else CAP_SETUID, CAP_SETGID)."""
    p = t.process
    c = p.cred
    pid, uid, gid = creds
    if pid != p.pid and not c.capable(CAP_SYS_ADMIN) or \
            uid not in (c.uid, c.euid, c.suid) and not c.capable(CAP_SETUID) or \
            gid not in (c.gid, c.egid, c.sgid) and not c.capable(CAP_SETGID):
        raise KernelError(EPERM)


def _send(t, sock, src, flags, kaddr, files, creds):
    """One sendmsg: the unix target looked up first, then the socket's send, which
    may wait; SIGPIPE for EPIPE unless MSG_NOSIGNAL."""
    who = caller(t)
    target = kaddr
    if sock.family == S.AF_UNIX and kaddr is not None:
        if sock.connection:
            if sock.type == S.SOCK_SEQPACKET:
                target = None
            else:
                raise KernelError(EISCONN if sock.state == unix.ESTABLISHED
                                  else EOPNOTSUPP)
        else:
            unix.check_address(kaddr)
            target = (kaddr, _unix_target(t, sock, kaddr))
    nonblock = bool(flags & S.MSG_DONTWAIT or sock.flags & L.O_NONBLOCK)
    sent = Transfer()

    def op(stop):
        try:
            return sock.sendmsg(src, flags, target, files, creds, who, stop, sent)
        except KernelError as e:
            _sigpipe(t, sock, flags, e)
            raise
    return sock.blocking(op, nonblock, sock.sndtimeo_us)


def sys_sendto(t, sockfd, buf, length, flags, dest_addr, addrlen):
    """sendto(2) (and send(3))."""
    sock = _socket(t, sockfd)
    src = IovIter.buffer(t.mm, buf, min(length, L.INT_MAX))
    kaddr = read_addr(t, dest_addr, addrlen)
    return _send(t, sock, src, flags, kaddr, [], None)


def _read_msghdr(t, msg, receiving: bool):
    name, namelen, iov, iovlen, control, controllen, _ = S.MSGHDR.unpack(
        t.mm.read(msg, S.MSGHDR.size))
    if not name:
        namelen = 0
    if namelen < 0:
        raise KernelError(EINVAL)
    if receiving:
        namelen = min(namelen, S.SOCKADDR_STORAGE_SIZE)
    if iovlen > L.UIO_MAXIOV:
        raise KernelError(EMSGSIZE)
    return name, namelen, iov, iovlen, control, controllen


def _sendmsg(t, sock, msg, flags):
    name, namelen, iov, iovlen, control, controllen = _read_msghdr(t, msg, False)
    kaddr = read_addr(t, name, namelen) if name and namelen else None
    src = IovIter.iovec(t.mm, iov, iovlen)
    files, creds = _control_in(t, sock, control, controllen)
    return _send(t, sock, src, flags, kaddr, files, creds)


def sys_sendmsg(t, sockfd, msg, flags):
    """sendmsg(2): SCM_RIGHTS and SCM_CREDENTIALS on unix sockets."""
    return _sendmsg(t, _socket(t, sockfd), msg, flags)


def sys_sendmmsg(t, sockfd, msgvec, vlen, flags):
    """sendmmsg(2): each message as sendmsg, its count stored in msg_len; the number
    sent, or the first one's error."""
    sock = _socket(t, sockfd)
    return _each_message(t, msgvec, min(vlen, L.UIO_MAXIOV),
                         lambda entry, done: _sendmsg(t, sock, entry, flags))


def _each_message(t, msgvec, vlen, one, done=0):
    """The loop of sendmmsg and recvmmsg: one(entry, done) for each mmsghdr, its
    result stored in msg_len; a message that must wait parks the call, which goes on
    from that message when woken (a signal then ends it with the count done, if
    any); an error after the first message ends it with the count done."""
    while done < vlen:
        entry = msgvec + done * S.MMSGHDR_SIZE
        try:
            n = one(entry, done)
        except KernelError:
            if done:
                return done
            raise
        except WouldBlock as w:
            inner, at = w.retry, done

            def resume(timed_out, inner=inner, at=at, entry=entry):
                try:
                    n = inner(timed_out)
                except KernelError:
                    if at:
                        return at
                    raise
                t.mm.write(entry + S.MMSGHDR_LEN_OFFSET, L.UINT.pack(n))
                return _each_message(t, msgvec, vlen, one, at + 1)
            raise WouldBlock(w.queues, w.deadline, w.host, retry=resume, what=w.what,
                             on_interrupt=(lambda at=at: at or None)) from None
        t.mm.write(entry + S.MMSGHDR_LEN_OFFSET, L.UINT.pack(n))
        done += 1
    return done


# ---- receiving --------------------------------------------------------------------------

def _put_cmsg(t, out: list, room: list, level, kind, body: bytes) -> bool:
    """put_cmsg into the space left (room[0] bytes from out's end on): the header and
    as much of body as fits; False (MSG_CTRUNC) if not all did."""
    if room[0] < S.CMSGHDR.size:
        return False
    full = S.CMSGHDR.size + len(body)
    length = min(full, room[0])
    out.append(S.CMSGHDR.pack(full, level, kind)[:length] + body[:length - S.CMSGHDR.size])
    space = min((full + S.CMSG_ALIGNTO - 1) & ~(S.CMSG_ALIGNTO - 1), room[0])
    out.append(b"\0" * (space - length))
    room[0] -= space
    return length == full


def _control_out(t, sock, got: Transfer, control, controllen, flags) -> tuple[bytes, int]:
    """scm_recv: the control bytes to write and the msg_flags they add."""
    out, room, extra = [], [controllen if control else 0], 0
    files = got.rights
    got.rights = []
    if not control:
        if sock.passcred or files:
            extra |= S.MSG_CTRUNC
        for f in files:
            f.close_ref()
        return b"", extra
    if sock.passcred and got.creds is not None:
        if not _put_cmsg(t, out, room, S.SOL_SOCKET, S.SCM_CREDENTIALS, S.UCRED.pack(*got.creds)):
            extra |= S.MSG_CTRUNC
    if files:
        fdmax = (room[0] - S.CMSGHDR.size) // 4 if room[0] > S.CMSGHDR.size else 0
        fds = []
        for f in files[:fdmax]:
            try:
                fds.append(t.process.fds.install(f, bool(flags & S.MSG_CMSG_CLOEXEC)))
            except KernelError:
                break
        if fds:
            _put_cmsg(t, out, room, S.SOL_SOCKET, S.SCM_RIGHTS,
                      b"".join(L.INT.pack(fd) for fd in fds))
        if len(fds) < len(files) or fdmax <= 0:
            extra |= S.MSG_CTRUNC
        for f in files:
            f.close_ref()
    return b"".join(out), extra


def _recv(t, sock, dst, flags, finish):
    """One recvmsg: the socket's receive (which may wait), then finish(got), which
    writes the address and control data and gives the result."""
    who = caller(t)
    nonblock = bool(flags & S.MSG_DONTWAIT or sock.flags & L.O_NONBLOCK)
    got = Transfer()

    def op(stop):
        return finish(sock.recvmsg(dst, flags, who, stop, got))
    return sock.blocking(op, nonblock, sock.rcvtimeo_us)


def sys_recvfrom(t, sockfd, buf, length, flags, src_addr, addrlen):
    """recvfrom(2) (and recv(3)): the sender's address when there is one."""
    sock = _socket(t, sockfd)
    dst = IovIter.buffer(t.mm, buf, min(length, L.INT_MAX))

    def finish(got):
        for f in got.rights:
            f.close_ref()
        got.rights = []
        if src_addr:
            write_addr(t, got.addr or b"", src_addr, addrlen)
        return got.count
    return _recv(t, sock, dst, flags, finish)


def _recvmsg(t, sock, msg, flags, extra_flags=0):
    name, _, iov, iovlen, control, controllen = _read_msghdr(t, msg, True)
    dst = IovIter.iovec(t.mm, iov, iovlen)

    def finish(got):
        data, ctrunc = _control_out(t, sock, got, control, controllen, flags)
        if data:
            t.mm.write(control, data)
        msg_flags = got.flags | ctrunc | (flags & S.MSG_CMSG_CLOEXEC)
        if name:
            write_addr(t, got.addr or b"", name, msg + S.MSGHDR_NAMELEN_OFFSET)
        t.mm.write(msg + S.MSGHDR_CONTROLLEN_OFFSET, (len(data)).to_bytes(8, "little"))
        t.mm.write(msg + S.MSGHDR_FLAGS_OFFSET, L.UINT.pack(msg_flags))
        return got.count
    return _recv(t, sock, dst, flags | extra_flags, finish)


def sys_recvmsg(t, sockfd, msg, flags):
    """recvmsg(2): msg_namelen, msg_controllen and msg_flags written back; received
    files become fds (O_CLOEXEC with MSG_CMSG_CLOEXEC)."""
    return _recvmsg(t, _socket(t, sockfd), msg, flags)


def sys_recvmmsg(t, sockfd, msgvec, vlen, flags, timeout):
    """recvmmsg(2): each message as recvmsg, its count in msg_len; after the first,
    MSG_WAITFORONE makes the rest non-blocking. A timeout is not supported (EINVAL
    unless NULL)."""
    if timeout:
        raise KernelError(EINVAL)
    sock = _socket(t, sockfd)

    def one(entry, done):
        extra = S.MSG_DONTWAIT if done and flags & S.MSG_WAITFORONE else 0
        return _recvmsg(t, sock, entry, flags, extra)
    return _each_message(t, msgvec, min(vlen, L.UIO_MAXIOV), one)
