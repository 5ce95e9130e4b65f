"""dnotify: fcntl(F_NOTIFY) on a directory, a signal for each change in it
(fs/notify/dnotify/dnotify.c).

A directory with dnotify requests has one `DnotifyMark` (Linux's dnotify_mark),
registered with the kernel's Fsnotify (fs/inotify.py) as a watch on the directory,
so the file system calls' fsnotify hooks reach it exactly as they reach an inotify
watch: entry events (create, delete, moves, FS_RENAME), events of the objects in it
(access, modify, attrib) and of the directory itself. Each request (`Request`, Linux's
dnotify_struct) belongs to one open file and one fd table (the `id` dnotify_flush
compares); an event its mask asks for sends the file's owner its signal (F_SETSIG's,
si_code POLL_MSG, si_fd the fd given, or SIGIO) through the `send` the caller gave,
and a request without DN_MULTISHOT is spent by its first event.

Layer: fs. Called by kernel/syscalls/fs.py (fcntl F_NOTIFY, close) and, through the
watch, by fs/inotify.py's hooks; the signal goes out through the kernel's `send`.
"""

from __future__ import annotations

from errno import ENOTDIR

from ..abi.fcntl import (DN_ACCESS, DN_ATTRIB, DN_CREATE, DN_DELETE, DN_MODIFY, DN_MULTISHOT,
                         DN_RENAME)
from ..abi.inotify import (FS_RENAME, IN_ACCESS, IN_ATTRIB, IN_CREATE, IN_DELETE, IN_MODIFY,
                           IN_MOVED_FROM, IN_MOVED_TO)
from ..errors import KernelError
from .inotify import Watch, key_of

# convert_arg: each DN_* event and the fsnotify events it stands for
_EVENTS = ((DN_ACCESS, IN_ACCESS), (DN_MODIFY, IN_MODIFY), (DN_CREATE, IN_CREATE | IN_MOVED_TO),
           (DN_DELETE, IN_DELETE | IN_MOVED_FROM), (DN_RENAME, FS_RENAME),
           (DN_ATTRIB, IN_ATTRIB))


def _mask(arg: int) -> int:
    mask = 0
    for dn, events in _EVENTS:
        if arg & dn:
            mask |= events
    return mask


class Request:
    """One F_NOTIFY request: file (the directory's open file), fd (si_fd), owner (the
    fd table it was made through), mask (fsnotify bits), multishot, send(file, fd)."""

    __slots__ = ("file", "fd", "owner", "mask", "multishot", "send")

    def __init__(self, file, fd: int, owner, send):
        self.file, self.fd, self.owner, self.send = file, fd, owner, send
        self.mask = 0
        self.multishot = False


class DnotifyMark:
    """The requests on one directory; the owner of its Fsnotify watch (kept alive by
    Fsnotify.dnotify, as the watch refers to its owner weakly)."""

    def __init__(self, notify, key):
        self.notify = notify
        self.key = key
        self.requests: list[Request] = []
        self.watch = Watch(0, key, self)        # wd 0: never seen, never < 0 while live
        notify.register(self.watch)
        notify.dnotify[key] = self

    def queue(self, wd: int, mask: int, cookie: int = 0, name: bytes = b"") -> None:
        """dnotify_handle_event: the signal for each request that asks for the event;
        one-shot requests go."""
        for r in list(self.requests):
            if r.mask & mask:
                r.send(r.file, r.fd)
                if not r.multishot:
                    self.remove(r)

    def drop(self, w: Watch) -> None:
        """The directory is gone (Fsnotify.delete_self): every request with it."""
        for r in list(self.requests):
            self.remove(r)

    def remove(self, r: Request) -> None:
        """A request goes: spent, flushed, or its file closed for the last time."""
        if r in self.requests:
            self.requests.remove(r)
            self._recalc()
        entries = r.file.dnotify
        if entries and (self, r) in entries:
            entries.remove((self, r))

    def _recalc(self) -> None:
        """dnotify_recalc_inode_mask; the last request takes the mark with it."""
        if self.requests:
            self.watch.mask = 0
            for r in self.requests:
                self.watch.mask |= r.mask
            return
        self.notify.unregister(self.watch)
        self.notify.dnotify.pop(self.key, None)


def request(file, fd: int, arg: int, owner, send) -> None:
    """fcntl_dirnotify: arg with no event (DN_MULTISHOT aside) removes the requests of
    this file and fd table; else ENOTDIR for anything but a directory, and the events
    are added to this file's request (a new one, or the old one's mask grows and
    its fd is the new one). The caller makes the caller's process the file's owner."""
    arg &= 0xFFFFFFFF
    if not arg & ~DN_MULTISHOT:
        flush(file, owner)
        return
    inode = file.inode
    if inode is None or not inode.is_dir:
        raise KernelError(ENOTDIR)
    notify = inode.fs.notify
    key = key_of(inode)
    mark = notify.dnotify.get(key) or DnotifyMark(notify, key)
    for r in mark.requests:
        if r.owner is owner and r.file is file:
            break
    else:
        r = Request(file, fd, owner, send)
        mark.requests.append(r)
        if file.dnotify is None:
            file.dnotify = []
        file.dnotify.append((mark, r))
    r.fd = fd
    r.mask |= _mask(arg)
    r.multishot = r.multishot or bool(arg & DN_MULTISHOT)
    mark._recalc()


def flush(file, owner=None) -> None:
    """dnotify_flush: close(2) of one of file's fds through fd table owner drops the
    requests made through it; owner None (the file's last close) drops them all."""
    for mark, r in list(file.dnotify or ()):
        if owner is None or r.owner is owner:
            mark.remove(r)
