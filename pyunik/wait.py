"""The one way to wait: a WaitQueue that files, pipes, futexes and locks own, and
`WouldBlock`, which a kernel operation raises when it must wait.

A handler (or the fs/ object it calls) that cannot go on raises
`WouldBlock(queues, deadline)` before it has changed anything. The dispatcher parks
the calling thread on every queue named, and on the deadline if there is one; the
scheduler (kernel/sched.py) runs another thread, or sleeps on the host until a host
fd, a timer or a host signal can change something. Whoever makes the awaited thing
possible (a pipe write, a futex wake, a lock release) calls `wake_all()` or `wake(n)`
on the queue; the woken thread then runs its call again from the start (or the
`retry` the raiser gave, for calls whose waiting has state of its own: the absolute
deadline of a poll, a futex waiter told it was woken). Whether a signal interrupts a
parked call (EINTR) or restarts it (SA_RESTART) is decided by the dispatcher only.

Layer: below fs/, net/ and kernel/, like errors.py: it imports nothing of pyunik, and
a waiter is any object with a `wake()` method (the kernel's Thread).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class WouldBlock(Exception):
    """The call must wait: raised before any side effect.

    queues:   WaitQueues whose wake ends the wait (the call is then run again);
    deadline: time.monotonic_ns() at which the wait ends by itself, or None;
    host:     (host fd, poll events) pairs whose readiness ends the wait;
    retry:    called as retry(timed_out) instead of running the call again, when the
              wait has state of its own; it returns the result, raises KernelError,
              or raises WouldBlock to wait again;
    what:     what is awaited, in words, for the report of a wait nothing can end;
    on_interrupt: called when a signal ends the wait (a nanosleep writes the time
              left), before the dispatcher answers EINTR or restarts the call; a
              value it returns (not None) is the call's result instead (a socket
              transfer that moved some bytes returns their count);
    uninterruptible: only SIGKILL ends the wait (a vfork parent's, as Linux's
              killable wait_for_vfork_done); other signals are taken once the call
              completes.
    signal_pending: set by a call that finds a signal pending before it would
              wait (poll, select, epoll_wait check signal_pending first): the wait
              ends at once as a signal's interruption ends it.
    """

    def __init__(self, queues: Iterable["WaitQueue"] = (), deadline: int | None = None,
                 host: Iterable[tuple[int, int]] = (), retry: Callable | None = None,
                 what: str = "", on_interrupt: Callable | None = None,
                 uninterruptible: bool = False):
        self.queues = tuple(queues)
        self.deadline = deadline
        self.host = tuple(host)
        self.retry = retry
        self.on_interrupt = on_interrupt
        self.uninterruptible = uninterruptible
        self.signal_pending = False
        self.what = what or ", ".join(q.what for q in self.queues) or "a timer"


class WaitQueue:
    """Threads waiting for one thing, oldest first (wakes are in arrival order).

    A waiter stays on the queue until it is woken or its wait ends another way (a
    deadline, another queue of the same wait, a signal); `wake()` on the waiter takes
    it off every queue it was parked on (the scheduler does that)."""

    __slots__ = ("waiters", "what", "pollers")

    def __init__(self, what: str):
        self.waiters: list = []
        self.what = what             # "a pipe's data", for the deadlock report
        # Entries that stay on the queue across wakes (an epoll registration, Linux's
        # wait_queue_entry with its own func): each wake_all calls notify(events) on
        # every one, except that of those with `exclusive` set only the first whose
        # notify returns True is told (EPOLLEXCLUSIVE, add_wait_queue_exclusive).
        self.pollers: list = []

    def __bool__(self) -> bool:
        """Whether a thread is parked here; pollers (epoll registrations, O_ASYNC
        owners) are not counted, so a wake is never skipped on this alone (test
        `waiters or pollers`, or just call wake_all, which costs little when empty)."""
        return bool(self.waiters)

    def add(self, waiter) -> None:
        self.waiters.append(waiter)

    def remove(self, waiter) -> None:
        try:
            self.waiters.remove(waiter)
        except ValueError:
            pass

    def add_poller(self, poller) -> None:
        self.pollers.append(poller)

    def remove_poller(self, poller) -> None:
        try:
            self.pollers.remove(poller)
        except ValueError:
            pass

    def wake_all(self, events: int = 0) -> int:
        """Wake every waiter and tell the pollers; events are the poll bits the
        change is about (0: any, as a plain wake_up); returns how many waiters."""
        if self.pollers:
            self._notify(events)
        woken = self.waiters
        if not woken:
            return 0
        self.waiters = []
        for w in woken:
            w.wake()
        return len(woken)

    def _notify(self, events: int) -> None:
        exclusive_done = False
        for p in list(self.pollers):
            if p.exclusive:
                if exclusive_done:
                    continue
                exclusive_done = p.notify(events)
            else:
                p.notify(events)

    def wake(self, n: int = 1, match: Callable | None = None) -> int:
        """Wake up to n waiters (those match(waiter) accepts, when given), oldest
        first; returns how many."""
        count = 0
        for w in list(self.waiters):
            if count >= n:
                break
            if match is not None and not match(w):
                continue
            self.waiters.remove(w)
            w.wake()
            count += 1
        return count


def restartable(t, call: Callable, *args):
    """call(*args) for a call that Linux restarts through restart_syscall(2) with
    what it left (ERESTART_RESTARTBLOCK): when a signal ends a wait it parks in,
    t.restart_block is left holding the call again with the same state (a
    nanosleep's first deadline, a poll's end time), which the dispatcher runs in
    place of the call if it restarts (kernel/delivery.py)."""
    try:
        return call(*args)
    except WouldBlock as wait:
        retry, before = wait.retry, wait.on_interrupt
        if retry is not None:
            wait.retry = lambda timed_out: restartable(t, retry, timed_out)

        def interrupted():
            t.restart_block = ["", lambda: restartable(t, call, *args)]
            return before() if before is not None else None
        wait.on_interrupt = interrupted
        raise
