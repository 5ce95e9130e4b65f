"""poll(2), ppoll(2), select(2), pselect6(2): readiness of files.

Each File answers `poll(events)` for itself (fs/file.py): regular files are always
ready, pipes by their buffer and ends, host streams by asking the host; and
`wait_queues(events)` names what can change that (its WaitQueues, host fds). When
nothing is ready the call raises WouldBlock on all of them with its deadline, and
is scanned again when any of them wakes it, with the same deadline.
"""

from __future__ import annotations

import time
from errno import EBADF, EINVAL

from ...abi import linux as L
from ...errors import KernelError
from ...abi.poll import (POLLERR, POLLFD, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM,
                        POLLWRNORM)
from ...wait import WouldBlock

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


def _wait(t, wanted, deadline, again):
    """The revents of wanted now, if any is ready or the deadline (monotonic ns;
    None: never) has passed; else WouldBlock on whatever could change them, which
    calls again(timed_out) when woken."""
    revents = _scan(t, wanted)
    if any(revents) or deadline is not None and time.monotonic_ns() >= deadline:
        return revents
    queues, host = [], []
    files = t.process.fds.files
    for fd, events in wanted:
        f = files[fd] if 0 <= fd < len(files) else None
        if f is not None:
            q, h = f.wait_queues(events & (POLLIN | POLLPRI | POLLOUT))
            queues.extend(q)
            host.extend(h)
    raise WouldBlock(queues, deadline, host, retry=again, what="poll")


def _deadline(timeout_ns):
    return None if timeout_ns is None else time.monotonic_ns() + timeout_ns


def do_poll(t, fds_ptr, nfds, deadline):
    if nfds > t.process.fds.limit or nfds < 0:
        raise KernelError(EINVAL)
    raw = t.mm.read(fds_ptr, nfds * POLLFD.size)
    entries = [POLLFD.unpack_from(raw, i * POLLFD.size) for i in range(nfds)]
    t.mm.check_writable(fds_ptr, nfds * POLLFD.size)
    revents = _wait(t, [(fd, events & 0xFFFF) for fd, events, _ in entries], deadline,
                    lambda timed_out: do_poll(t, fds_ptr, nfds, deadline))
    out = b"".join(POLLFD.pack(fd, events, r) for (fd, events, _), r in zip(entries, revents))
    t.mm.write(fds_ptr, out)
    return sum(1 for r in revents if r)


def sys_poll(t, fds, nfds, timeout):
    """poll(2): timeout in milliseconds, negative for none."""
    return do_poll(t, fds, nfds, _deadline(None if timeout < 0 else timeout * 1000000))


def _timespec_ns(t, ptr):
    return t.mm.read_timespec(ptr) if ptr else None


def sys_ppoll(t, fds, nfds, tmo_p, sigmask, sigsetsize):
    """ppoll(2): the signal mask is checked but, with no signal delivery yet, unused."""
    if sigmask and sigsetsize != L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    return do_poll(t, fds, nfds, _deadline(_timespec_ns(t, tmo_p)))


def _read_fdset(t, ptr, nfds):
    if not ptr:
        return 0
    size = (nfds + 63) // 64 * 8
    return int.from_bytes(t.mm.read(ptr, size), "little") & ((1 << nfds) - 1)


def _write_fdset(t, ptr, nfds, bits):
    if ptr:
        t.mm.write(ptr, bits.to_bytes((nfds + 63) // 64 * 8, "little"))


def do_select(t, nfds, readfds, writefds, exceptfds, deadline):
    if nfds < 0 or nfds > t.process.fds.limit:
        raise KernelError(EINVAL)
    sets = [_read_fdset(t, p, nfds) for p in (readfds, writefds, exceptfds)]
    wanted = []
    for fd in range(nfds):
        events = (POLLIN if sets[0] >> fd & 1 else 0) | (POLLOUT if sets[1] >> fd & 1 else 0) \
            | (POLLPRI if sets[2] >> fd & 1 else 0)
        if events:
            wanted.append((fd, events))
    revents = _wait(t, wanted, deadline, lambda timed_out: do_select(
        t, nfds, readfds, writefds, exceptfds, deadline))
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
    return do_select(t, nfds, readfds, writefds, exceptfds, _deadline(ns))


def sys_pselect6(t, nfds, readfds, writefds, exceptfds, timeout, sigmask):
    """pselect6(2): as select with a timespec; the signal mask is not used yet."""
    return do_select(t, nfds, readfds, writefds, exceptfds, _deadline(_timespec_ns(t, timeout)))
