"""epoll_create(2), epoll_create1(2), epoll_ctl(2), epoll_wait(2), epoll_pwait(2),
epoll_pwait2(2): argument checks in Linux's order, then fs/eventpoll.py's Epoll.

Layer: kernel (syscall glue). Calls fs/eventpoll.py, the fd table, and poll.py's
signal-mask swap.
"""

from __future__ import annotations

from errno import EFAULT, EINVAL, ENOENT, EPERM

from ...abi.eventpoll import (EP_MAX_EVENTS, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
                              EPOLL_CTL_MOD, EPOLL_EVENT)
from ...abi.page import TASK_SIZE
from ...errors import KernelError
from ...fs.eventpoll import Epoll, check_events
from ...wait import WouldBlock
from .poll import interruptible, with_sigmask

def sys_epoll_create(t, size):
    """epoll_create(2): size is only checked to be positive."""
    if size <= 0:
        raise KernelError(EINVAL)
    return t.process.fds.install(Epoll(), False)


def sys_epoll_create1(t, flags):
    """epoll_create1(2): EPOLL_CLOEXEC is the only flag."""
    if flags & ~EPOLL_CLOEXEC:
        raise KernelError(EINVAL)
    return t.process.fds.install(Epoll(), bool(flags & EPOLL_CLOEXEC))


def sys_epoll_ctl(t, epfd, op, fd, event):
    """epoll_ctl(2): the event is read first (for every op but DEL), then the fds
    (EBADF), then the target's poll support (EPERM), the epoll itself (EINVAL), the
    mask (EINVAL), nesting (ELOOP), and the op (EEXIST, ENOENT, EINVAL)."""
    events = data = 0
    if op != EPOLL_CTL_DEL:
        events, data = t.mm.read_struct(EPOLL_EVENT, event)
    fds = t.process.fds
    ep = fds.get(epfd)
    target = fds.get(fd)
    if not target.can_poll:
        raise KernelError(EPERM)
    if target is ep or not isinstance(ep, Epoll):
        raise KernelError(EINVAL)
    if op != EPOLL_CTL_DEL:
        events = check_events(op == EPOLL_CTL_ADD, events, target)
    item = ep.find(target, fd)
    if op == EPOLL_CTL_ADD:
        ep.add(target, fd, events, data)
    elif op == EPOLL_CTL_DEL:
        if item is None:
            raise KernelError(ENOENT)
        ep.remove(item)
    elif op == EPOLL_CTL_MOD:
        if item is None:
            raise KernelError(ENOENT)
        ep.modify(item, events, data)
    else:
        raise KernelError(EINVAL)
    return 0


def do_epoll_wait(t, epfd, events, maxevents, deadline):
    """ep_check_params, then events now or after a wait; the events are copied one
    by one, and a copy that faults ends them (EFAULT if it was the first)."""
    if maxevents <= 0 or maxevents > EP_MAX_EVENTS:
        raise KernelError(EINVAL)
    if events + maxevents * EPOLL_EVENT.size > TASK_SIZE:
        raise KernelError(EFAULT)
    ep = t.process.fds.get(epfd)
    if not isinstance(ep, Epoll):
        raise KernelError(EINVAL)

    def attempt(timed_out=False):
        try:
            got = ep.wait(maxevents, deadline, attempt, t.process.kernel.clock.monotonic_ns)
        except WouldBlock as wait:
            raise interruptible(t, wait) from None
        for i, (revents, data) in enumerate(got):
            try:
                t.mm.write(events + i * EPOLL_EVENT.size, EPOLL_EVENT.pack(revents, data))
            except KernelError:
                if not i:
                    raise
                return i
        return len(got)
    return attempt()


def _deadline_ms(t, timeout):
    return None if timeout < 0 else t.process.kernel.clock.monotonic_ns() + timeout * 1000000


def sys_epoll_wait(t, epfd, events, maxevents, timeout):
    """epoll_wait(2): timeout in milliseconds, negative for none, 0 to look once."""
    return do_epoll_wait(t, epfd, events, maxevents, _deadline_ms(t, timeout))


def sys_epoll_pwait(t, epfd, events, maxevents, timeout, sigmask, sigsetsize):
    """epoll_pwait(2): epoll_wait with the signal mask swapped for the call."""
    deadline = _deadline_ms(t, timeout)
    return with_sigmask(t, sigmask, sigsetsize,
                        lambda: do_epoll_wait(t, epfd, events, maxevents, deadline))


def sys_epoll_pwait2(t, epfd, events, maxevents, timeout, sigmask, sigsetsize):
    """epoll_pwait2(2): the timeout is a timespec (NULL: none), read first."""
    deadline = None
    if timeout:
        deadline = t.process.kernel.clock.monotonic_ns() + t.mm.read_timespec(timeout)
    return with_sigmask(t, sigmask, sigsetsize,
                        lambda: do_epoll_wait(t, epfd, events, maxevents, deadline))
