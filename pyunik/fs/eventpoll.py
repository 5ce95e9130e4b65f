"""epoll: an interest list of (open file, fd) registrations and a ready list
(fs/eventpoll.c).

A registration (`EpollItem`, Linux's epitem) follows the open file description, not
the fd number: it is keyed by (file, fd), it stays when the fd is closed while a dup
keeps the file open, and it goes when the file's last reference goes (File.close_ref
releases `epoll_links`). It sits as a poller on the file's WaitQueues (pyunik/wait.py),
so every change the file announces (`wake_all(events)`, events being Linux's wake key)
calls `notify`, which puts it on the ready list when the key could concern it
(ep_poll_callback). Collecting events (ep_send_events) polls each ready item again:
an item no longer ready is dropped, a level-triggered one goes back to the end of the
ready list, an edge-triggered one waits for the next notify, and EPOLLONESHOT disarms
it until EPOLL_CTL_MOD. An EPOLLEXCLUSIVE item is told of a wake only if no other
exclusive item on that queue took it first.

Files whose readiness is a host fd's (HostStream: a terminal or pipe given to pyunik)
announce nothing: their items are polled at each collection, and a thread waiting in
epoll_wait names their host fds, so the scheduler's selectors wait ends when one is
ready. An edge-triggered item on a host fd reports once and is re-armed when a poll
finds the fd drained (the host gives no edge of its own).

An Epoll is itself a pollable file: readable while one of its ready items really is
(ep_eventpoll_poll), and it announces readiness on `poll_wait`, which is what nested
epolls and poll(2) on an epoll fd wait on. Threads in epoll_wait park on `wq` and are
woken one at a time, as Linux's exclusive waiters are.

Layer: fs. Called by kernel/syscalls/epoll.py; calls the Files it watches through
File.poll and File.wait_queues, and pyunik/wait.py.
"""

from __future__ import annotations

from errno import EEXIST, EINVAL, ELOOP

from ..abi import linux as L
from ..abi.eventpoll import (EP_MAX_NESTS, EP_PRIVATE_BITS, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE,
                             EPOLLEXCLUSIVE_OK_BITS, EPOLLHUP, EPOLLIN, EPOLLINOUT_BITS,
                             EPOLLONESHOT, EPOLLOUT, EPOLLPRI, EPOLLRDNORM, EPOLLWAKEUP)
from ..errors import KernelError
from ..wait import WaitQueue, WouldBlock
from .file import AnonInodeFile, File

_ALL_POLL = EPOLLIN | EPOLLOUT | EPOLLPRI


class EpollItem:
    """One registration: what file (and the fd it was added by), the events asked
    for (with EPOLLERR|EPOLLHUP always, and the private bits), the user's data, and
    whether it is on its epoll's ready list. Fields are the epoll's to change."""

    __slots__ = ("ep", "file", "fd", "events", "data", "ready", "queues", "host", "armed")

    def __init__(self, ep: "Epoll", file: File, fd: int, events: int, data: int):
        self.ep = ep
        self.file = file
        self.fd = fd
        self.events = events
        self.data = data
        self.ready = False
        queues, host = file.wait_queues(_ALL_POLL)
        self.queues = tuple(queues)
        self.host = tuple(host)      # (host fd, events): readiness the host keeps
        self.armed = True            # an edge-triggered host item may report

    @property
    def exclusive(self) -> bool:
        return bool(self.events & EPOLLEXCLUSIVE)

    def notify(self, key: int) -> bool:
        """ep_poll_callback: the file announced a change of the poll bits in key (0:
        any). Returns whether an exclusive wake was taken."""
        events = self.events
        if not events & ~EP_PRIVATE_BITS:
            return False             # disarmed by EPOLLONESHOT
        if key and not key & events:
            return False
        self.ep.mark_ready(self)
        if events & EPOLLEXCLUSIVE:
            inout = key & EPOLLINOUT_BITS
            return inout == 0 or inout == EPOLLIN and bool(events & EPOLLIN) or \
                inout == EPOLLOUT and bool(events & EPOLLOUT)
        return False

    def poll(self, depth: int = 0) -> int:
        """The file's ready bits among those registered (ep_item_poll)."""
        f = self.file
        if isinstance(f, Epoll):
            return f.poll_depth(self.events, depth + 1) & self.events
        return f.poll(self.events & ~EP_PRIVATE_BITS) & self.events

    def release(self) -> None:
        """The file's last reference is gone (eventpoll_release)."""
        self.ep.remove(self)


class Epoll(AnonInodeFile):
    anon_name = b"[eventpoll]"
    """An epoll instance (struct eventpoll). Fields:
    items       (file id, fd) -> EpollItem, the interest list;
    rdlist      items believed ready, oldest first (each has .ready set);
    wq          threads parked in epoll_wait, woken one at a time;
    poll_wait   announces this epoll's readiness to pollers (nested epolls, poll)."""

    can_poll = True

    def __init__(self):
        super().__init__(L.O_RDWR)
        self.items: dict[tuple[int, int], EpollItem] = {}
        self.rdlist: list[EpollItem] = []
        self.wq = WaitQueue("an epoll")
        self.poll_wait = WaitQueue("an epoll")

    # ---- the ready list -----

    def mark_ready(self, item: EpollItem) -> None:
        if not item.ready:
            item.ready = True
            self.rdlist.append(item)
        self.wq.wake(1)
        self.poll_wait.wake_all(EPOLLIN | EPOLLRDNORM)

    def _unready(self, item: EpollItem) -> None:
        if item.ready:
            item.ready = False
            self.rdlist.remove(item)

    def _poll_host_items(self) -> None:
        """Host fds announce nothing: ask them (and re-arm drained edge items)."""
        for item in self.items.values():
            if not item.host or item.ready or not item.events & ~EP_PRIVATE_BITS:
                continue
            if item.poll():
                if item.armed:
                    item.ready = True
                    self.rdlist.append(item)
            else:
                item.armed = True

    # ---- the interest list (epoll_ctl) -----

    def find(self, file: File, fd: int) -> EpollItem | None:
        return self.items.get((id(file), fd))

    def add(self, file: File, fd: int, events: int, data: int) -> None:
        """EPOLL_CTL_ADD (ep_insert), after the checks of the fds themselves."""
        if self.find(file, fd) is not None:
            raise KernelError(EEXIST)
        if isinstance(file, Epoll):
            self._loop_check(file)
        item = EpollItem(self, file, fd, events | EPOLLERR | EPOLLHUP, data)
        self.items[(id(file), fd)] = item
        if file.epoll_links is None:
            file.epoll_links = []
        file.epoll_links.append(item)
        for q in item.queues:
            q.add_poller(item)
        if item.poll():
            self.mark_ready(item)

    def modify(self, item: EpollItem, events: int, data: int) -> None:
        """EPOLL_CTL_MOD (ep_modify): new events and data, re-armed; ready at once
        if the file already is."""
        if item.exclusive:
            raise KernelError(EINVAL)
        item.events = events | EPOLLERR | EPOLLHUP
        item.data = data
        item.armed = True
        if item.poll():
            self.mark_ready(item)

    def remove(self, item: EpollItem) -> None:
        """EPOLL_CTL_DEL, or the file's last close (ep_remove)."""
        if self.items.pop((id(item.file), item.fd), None) is None:
            return
        for q in item.queues:
            q.remove_poller(item)
        links = item.file.epoll_links
        if links is not None and item in links:
            links.remove(item)
        self._unready(item)

    def _loop_check(self, to: "Epoll") -> None:
        """ep_loop_check: adding epoll `to` here must make no cycle, and no chain of
        nested epolls deeper than EP_MAX_NESTS. ELOOP otherwise."""
        def down(ep: Epoll, depth: int) -> int:
            if ep is self:
                raise KernelError(ELOOP)
            deepest = depth
            for item in ep.items.values():
                if isinstance(item.file, Epoll):
                    if depth + 1 > EP_MAX_NESTS:
                        raise KernelError(ELOOP)
                    deepest = max(deepest, down(item.file, depth + 1))
            return deepest

        def up(ep: Epoll, depth: int) -> int:
            parents = [i.ep for i in ep.epoll_links or ()]
            return max((up(p, depth + 1) for p in parents), default=depth)

        if down(to, 0) + 1 + up(self, 0) > EP_MAX_NESTS:
            raise KernelError(ELOOP)

    # ---- collecting events (epoll_wait) -----

    def collect(self, maxevents: int) -> list[tuple[int, int]]:
        """ep_send_events: up to maxevents (revents, data) pairs from the ready list."""
        self._poll_host_items()
        txlist, self.rdlist = self.rdlist, []
        out = []
        requeue = []
        done = 0
        for item in txlist:
            if len(out) >= maxevents:
                break
            done += 1
            item.ready = False
            revents = item.poll()
            if not revents:
                continue
            out.append((revents, item.data))
            if item.events & EPOLLONESHOT:
                item.events &= EP_PRIVATE_BITS
            elif not item.events & EPOLLET:
                item.ready = True
                requeue.append(item)
            elif item.host:
                item.armed = False
        # Items not reached stay first, then the level-triggered ones just reported,
        # then whatever became ready meanwhile (the ready flag keeps these apart).
        self.rdlist = txlist[done:] + requeue + self.rdlist
        if self.rdlist:
            self.wq.wake(1)          # ep_done_scan: another waiter may take the rest
        return out

    def wait(self, maxevents: int, deadline: int | None, retry,
             now=None) -> list[tuple[int, int]]:
        """Events now, or at the deadline (ns on the clock now() reads, which a
        deadline needs; None: never) none; else
        WouldBlock on the epoll's queue and its host fds, which calls retry."""
        out = self.collect(maxevents)
        if out or deadline is not None and now() >= deadline:
            return out
        raise WouldBlock((self.wq,), deadline, self.host_fds(), retry=retry, what="an epoll")

    def host_fds(self, depth: int = 0) -> list[tuple[int, int]]:
        """The host fds whose readiness would make an item ready (nested too)."""
        out = []
        for item in self.items.values():
            if not item.events & ~EP_PRIVATE_BITS:
                continue
            if item.host and item.armed:
                # only what the item asks for: a terminal is always writable
                out.extend((fd, ev & item.events & _ALL_POLL) for fd, ev in item.host
                           if ev & item.events & _ALL_POLL)
            elif isinstance(item.file, Epoll) and depth < EP_MAX_NESTS:
                out.extend(item.file.host_fds(depth + 1))
        return out

    # ---- the epoll as a file -----

    def poll_depth(self, events: int, depth: int) -> int:
        """ep_eventpoll_poll: readable while an item on the ready list really is
        ready; items found not ready leave the list."""
        if depth > EP_MAX_NESTS:
            return 0
        self._poll_host_items()
        for item in list(self.rdlist):
            if item.poll(depth):
                return (EPOLLIN | EPOLLRDNORM) & events
            self._unready(item)
        return 0

    def poll(self, events: int) -> int:
        return self.poll_depth(events, 0)

    def wait_queues(self, events: int):
        return (self.poll_wait,), tuple(self.host_fds())

    def close(self) -> None:
        """ep_free: every registration goes."""
        for item in list(self.items.values()):
            self.remove(item)


def check_events(op_add: bool, events: int, target: File) -> int:
    """do_epoll_ctl's checks of an event mask for ADD/MOD: EPOLLEXCLUSIVE only with
    ADD, never on an epoll, and only with EPOLLEXCLUSIVE_OK_BITS; EPOLLWAKEUP dropped
    (it needs CAP_BLOCK_SUSPEND, which pyunik never grants)."""
    if op_add:
        events &= ~EPOLLWAKEUP
    if events & EPOLLEXCLUSIVE:
        if not op_add or isinstance(target, Epoll) or events & ~EPOLLEXCLUSIVE_OK_BITS:
            raise KernelError(EINVAL)
    return events
