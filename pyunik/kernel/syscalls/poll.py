"""poll(2), ppoll(2), select(2), pselect6(2): readiness of files, for one thread.

Each File answers `poll(events)` for itself (fs/file.py): regular files are always
ready, pipes by their buffer and ends, host streams by asking the host. When nothing
is ready the call waits on the host fds among them (the only things that can change
while the single guest thread waits) until its timeout; with no host fd to wait for
and no timeout, it could never return, which is reported as a deadlock.
"""

from __future__ import annotations

import select
import time
from errno import EBADF, EINVAL

from ...abi import linux as L
from ...errors import KernelError
from ...abi.poll import (POLLERR, POLLFD, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM,
                        POLLWRNORM)
from ...fs.file import HostStream

_IN_SET = POLLIN | POLLRDNORM | POLLHUP | POLLERR
_OUT_SET = POLLOUT | POLLWRNORM | POLLERR
_EX_SET = POLLPRI


def _scan(t, wanted):
    """wanted: list of (fd, events); returns the revents of each."""
    fds = t.process.fds
    out = []
    for fd, events in wanted:
        if fd < 0:
            out.append(0)
            continue
        try:
            f = fds.get(fd)
        except KernelError:
            out.append(POLLNVAL)
            continue
        out.append(f.poll(events | POLLERR | POLLHUP) & (events | POLLERR | POLLHUP | POLLNVAL))
    return out


def _wait(t, wanted, deadline):
    """Scan until something is ready or the deadline (None: forever) passes."""
    while True:
        revents = _scan(t, wanted)
        if any(revents):
            return revents
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return revents
        hosts = []
        for fd, events in wanted:
            f = t.process.fds.files[fd] if 0 <= fd < len(t.process.fds.files) else None
            if isinstance(f, HostStream):
                hosts.append((f.host_fd, events))
        if not hosts:
            if deadline is None:
                t.process.kernel.deadlock(t, "poll on files no thread can make ready")
            time.sleep(max(0.0, deadline - now))
            continue
        p = select.poll()
        for host_fd, events in hosts:
            p.register(host_fd, events & (POLLIN | POLLPRI | POLLOUT))
        timeout = None if deadline is None else max(0, int((deadline - now) * 1000) + 1)
        p.poll(timeout)


def _deadline(timeout_ns):
    return None if timeout_ns is None else time.monotonic() + timeout_ns / 1e9


def do_poll(t, fds_ptr, nfds, timeout_ns):
    if nfds > t.process.fds.limit or nfds < 0:
        raise KernelError(EINVAL)
    raw = t.mm.read(fds_ptr, nfds * POLLFD.size)
    entries = [POLLFD.unpack_from(raw, i * POLLFD.size) for i in range(nfds)]
    t.mm.check_writable(fds_ptr, nfds * POLLFD.size)
    revents = _wait(t, [(fd, events & 0xFFFF) for fd, events, _ in entries],
                    _deadline(timeout_ns))
    out = b"".join(POLLFD.pack(fd, events, r) for (fd, events, _), r in zip(entries, revents))
    t.mm.write(fds_ptr, out)
    return sum(1 for r in revents if r)


def sys_poll(t, fds, nfds, timeout):
    """poll(2): timeout in milliseconds, negative for none."""
    return do_poll(t, fds, nfds, None if timeout < 0 else timeout * 1000000)


def _timespec_ns(t, ptr):
    return t.mm.read_timespec(ptr) if ptr else None


def sys_ppoll(t, fds, nfds, tmo_p, sigmask, sigsetsize):
    """ppoll(2): the signal mask is checked but, with no signal delivery yet, unused."""
    if sigmask and sigsetsize != L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    return do_poll(t, fds, nfds, _timespec_ns(t, tmo_p))


def _read_fdset(t, ptr, nfds):
    if not ptr:
        return 0
    size = (nfds + 63) // 64 * 8
    return int.from_bytes(t.mm.read(ptr, size), "little") & ((1 << nfds) - 1)


def _write_fdset(t, ptr, nfds, bits):
    if ptr:
        t.mm.write(ptr, bits.to_bytes((nfds + 63) // 64 * 8, "little"))


def do_select(t, nfds, readfds, writefds, exceptfds, timeout_ns):
    if nfds < 0 or nfds > t.process.fds.limit:
        raise KernelError(EINVAL)
    sets = [_read_fdset(t, p, nfds) for p in (readfds, writefds, exceptfds)]
    wanted = []
    for fd in range(nfds):
        events = (POLLIN if sets[0] >> fd & 1 else 0) | (POLLOUT if sets[1] >> fd & 1 else 0) \
            | (POLLPRI if sets[2] >> fd & 1 else 0)
        if events:
            wanted.append((fd, events))
    revents = _wait(t, wanted, _deadline(timeout_ns))
    if any(r & POLLNVAL for r in revents):
        raise KernelError(EBADF)     # select on a closed fd
    result = [0, 0, 0]
    count = 0
    for (fd, events), r in zip(wanted, revents):
        for i, (want, mask) in enumerate(((POLLIN, _IN_SET), (POLLOUT, _OUT_SET),
                                          (POLLPRI, _EX_SET))):
            if events & want and r & mask:
                result[i] |= 1 << fd
                count += 1
    for p, bits in zip((readfds, writefds, exceptfds), result):
        _write_fdset(t, p, nfds, bits)
    return count


def sys_select(t, nfds, readfds, writefds, exceptfds, timeout):
    """select(2): the remaining time is not written back (Linux does; partial)."""
    ns = None
    if timeout:
        sec, usec = t.mm.read_struct(L.TIMEVAL, timeout)
        if sec < 0 or not 0 <= usec < 1000000:
            raise KernelError(EINVAL)
        ns = sec * 1000000000 + usec * 1000
    return do_select(t, nfds, readfds, writefds, exceptfds, ns)


def sys_pselect6(t, nfds, readfds, writefds, exceptfds, timeout, sigmask):
    """pselect6(2): as select with a timespec; the signal mask is not used yet."""
    return do_select(t, nfds, readfds, writefds, exceptfds, _timespec_ns(t, timeout))
