"""poll(2), ppoll(2), select(2), pselect6(2): readiness of files.

Each File answers `poll(events)` for itself (fs/file.py): regular files are always
ready, pipes by their buffer and ends, host streams by asking the host; and
`wait_queues(events)` names what can change that (its WaitQueues, host fds). When
nothing is ready the call raises WouldBlock on all of them with its deadline, and
is scanned again when any of them wakes it, with the same deadline.

ppoll, pselect6 and epoll_pwait run with the caller's signal mask replaced by the one
given for the whole call, parked time included (`with_sigmask`); select, ppoll and
pselect6 write the time left back as poll_select_finish does (not for a zero or NULL
timeout; a write that faults is ignored), also when a signal interrupts them, so
that a restart waits only what was left. poll keeps its end time for a restart
(restart_syscall: pyunik/wait.py restartable).

Layer: kernel (syscall glue). Calls the Files of the fd table and pyunik/wait.py.
"""

from __future__ import annotations

from errno import EBADF, EINVAL

from ...abi import linux as L
from ...errors import KernelError
from ...abi.poll import (POLLERR, POLLFD, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM,
                        POLLWRNORM)
from ...wait import WouldBlock, restartable
from .. import signals

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
    if any(revents) or deadline is not None and t.process.kernel.clock.monotonic_ns() >= deadline:
        return revents
    queues, host = [], []
    files = t.process.fds.files
    for fd, events in wanted:
        f = files[fd] if 0 <= fd < len(files) else None
        if f is not None:
            q, h = f.wait_queues(events & (POLLIN | POLLPRI | POLLOUT))
            queues.extend(q)
            host.extend(h)
    raise interruptible(t, WouldBlock(queues, deadline, host, retry=again, what="poll"))


def _deadline(t, timeout_ns):
    return None if timeout_ns is None else t.process.kernel.clock.monotonic_ns() + timeout_ns


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
    """poll(2): timeout in milliseconds, negative for none. A signal without a
    handler restarts it with its end time (do_restart_poll)."""
    return restartable(t, do_poll, t, fds, nfds,
                       _deadline(t, None if timeout < 0 else timeout * 1000000))


def _timespec_ns(t, ptr):
    return t.mm.read_timespec(ptr) if ptr else None


def with_sigmask(t, sigmask, sigsetsize, call):
    """call() with t's signal mask set to the sigset at sigmask (when not NULL) for
    the call's whole duration, waits included (set_user_sigmask): the mask from
    before is kept in t.saved_sigmask, which signal delivery puts back when the
    call returns, or which the frame of a handler run then restores
    (kernel/delivery.py). EINVAL for a sigsetsize that is not the kernel's."""
    if not sigmask:
        return call()
    if sigsetsize != L.SIGSET_SIZE:
        raise KernelError(EINVAL)
    mask = t.mm.read_u64(sigmask) & ~signals.UNBLOCKABLE
    if t.saved_sigmask is None:
        t.saved_sigmask = t.sigmask
    t.sigmask = mask
    t.process.kernel.sched.stop_at_syscall_end(t)
    return call()


def interruptible(t, wait: WouldBlock) -> WouldBlock:
    """A wait about to park: one that ends at once as interrupted when a signal t
    takes is pending already (poll, select and epoll_wait check signal_pending
    before they sleep), so that delivery answers EINTR or restarts the call."""
    if signals.deliverable(t):
        wait.signal_pending = True
    return wait


def _write_remaining(t, ptr, deadline, layout, unit):
    """poll_select_finish: the time left until deadline (0 once past) into the
    timeval (unit 1000) or timespec (unit 1) at ptr; a fault is ignored."""
    left = max(0, deadline - t.process.kernel.clock.monotonic_ns())
    sec, ns = divmod(left, 1000000000)
    try:
        t.mm.write(ptr, layout.pack(sec, ns // unit))
    except KernelError:
        pass


def _finish(t, ptr, deadline, layout, unit, call):
    """call(), then the remaining time written back (whatever the outcome), unless
    the timeout was NULL. (Linux skips a zero timeout too: writing its zero back
    changes nothing, and a fault is ignored.)"""
    if not ptr or deadline is None:
        return call()
    return _finishing(t, ptr, deadline, layout, unit, call)


def _finishing(t, ptr, deadline, layout, unit, call, *args):
    try:
        result = call(*args)
    except WouldBlock as wait:
        retry, before = wait.retry, wait.on_interrupt
        wait.retry = lambda timed_out: _finishing(t, ptr, deadline, layout, unit, retry,
                                                  timed_out)

        def interrupted():
            # what a restart then reads as its timeout (ERESTARTNOHAND)
            _write_remaining(t, ptr, deadline, layout, unit)
            return before() if before is not None else None
        wait.on_interrupt = interrupted
        raise
    except KernelError:
        _write_remaining(t, ptr, deadline, layout, unit)
        raise
    _write_remaining(t, ptr, deadline, layout, unit)
    return result


def sys_ppoll(t, fds, nfds, tmo_p, sigmask, sigsetsize):
    """ppoll(2): tmo_p NULL waits for ever; the time left is written back."""
    deadline = _deadline(t, _timespec_ns(t, tmo_p))
    return with_sigmask(t, sigmask, sigsetsize, lambda: _finish(
        t, tmo_p, deadline, L.TIMESPEC, 1, lambda: do_poll(t, fds, nfds, deadline)))


def _read_fdset(t, ptr, nfds):
    if not ptr:
        return 0
    size = (nfds + 63) // 64 * 8
    return int.from_bytes(t.mm.read(ptr, size), "little") & ((1 << nfds) - 1)


def _write_fdset(t, ptr, nfds, bits):
    if ptr:
        t.mm.write(ptr, bits.to_bytes((nfds + 63) // 64 * 8, "little"))


def do_select(t, nfds, readfds, writefds, exceptfds, deadline):
    """core_sys_select: nfds past the fd table's size is cut to it (the sets' bits
    beyond are neither read nor written)."""
    if nfds < 0:
        raise KernelError(EINVAL)
    nfds = min(nfds, t.process.fds.capacity)
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
    """select(2): the timeval's microseconds may exceed a second (they carry into
    the seconds, as Linux normalizes them); the time left is written back."""
    ns = None
    if timeout:
        sec, usec = t.mm.read_struct(L.TIMEVAL, timeout)
        carry = abs(usec) // 1000000 * (1 if usec >= 0 else -1)   # C's division
        sec, usec = sec + carry, usec - carry * 1000000
        if sec < 0 or usec < 0:
            raise KernelError(EINVAL)
        ns = sec * 1000000000 + usec * 1000
    deadline = _deadline(t, ns)
    return _finish(t, timeout, deadline, L.TIMEVAL, 1000, lambda: do_select(
        t, nfds, readfds, writefds, exceptfds, deadline))


def sys_pselect6(t, nfds, readfds, writefds, exceptfds, timeout, sig):
    """pselect6(2): as select with a timespec, and sig points to {const sigset_t *ss;
    size_t ss_len} whose mask is the caller's for the call (NULL ss: unchanged)."""
    deadline = _deadline(t, _timespec_ns(t, timeout))
    sigmask = sigsetsize = 0
    if sig:
        sigmask, sigsetsize = t.mm.read_struct(L.SIGSET_ARGPACK, sig)
    return with_sigmask(t, sigmask, sigsetsize, lambda: _finish(
        t, timeout, deadline, L.TIMESPEC, 1, lambda: do_select(
            t, nfds, readfds, writefds, exceptfds, deadline)))

