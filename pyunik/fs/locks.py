"""Advisory file locks: POSIX record locks (fcntl), OFD locks and flock.

Locks are kept on each inode (inode.locks for fcntl, inode.flocks for flock) as
(owner, kind, start, end) with end exclusive and None for "to the end of the file".
A POSIX lock's owner is the process, so a process never conflicts with itself (its
new lock replaces the old range); an OFD or flock lock's owner is the open file
description, so two opens of one file in the same process do conflict, as on Linux.

Any open file may be locked, as on Linux: the locks of a file with an inode here are
on the inode; a pipe's (anonymous or named) are on its buffer, which both ends share
(Linux's pipe inode); those of any other file (a socket, an eventfd) on the open file
itself, the one object all its fds share (`target`).

Layer: fs. Called by the fcntl and flock system calls (which decode struct flock and
encode the F_GETLK answer) and by close. A lock that would have to wait is EAGAIN
(F_SETLK, LOCK_NB) or, for F_SETLKW and flock without LOCK_NB, a WouldBlock on the
inode's lock queue, which every change of its locks wakes (the caller then tries
again). Linux's EDEADLK detection between POSIX lock owners needs two processes
waiting on each other, which one process cannot be.
"""

from __future__ import annotations

from errno import EAGAIN, EBADF, EINVAL

from ..abi.fs import SEEK_CUR, SEEK_END, SEEK_SET
from ..errors import KernelError
from ..wait import WaitQueue, WouldBlock

READ, WRITE, UNLOCK = 0, 1, 2       # F_RDLCK, F_WRLCK, F_UNLCK
RECORD, FLOCK = "locks", "flocks"   # the two independent tables on an inode


class Lock:
    __slots__ = ("owner", "kind", "start", "end", "pid")

    def __init__(self, owner, kind, start, end, pid):
        self.owner, self.kind, self.start, self.end, self.pid = owner, kind, start, end, pid

    def overlaps(self, start: int, end: int | None) -> bool:
        return (end is None or self.start < end) and (self.end is None or start < self.end)


def _locks(inode, table: str) -> list[Lock]:
    locks = getattr(inode, table, None)
    if locks is None:
        locks = []
        setattr(inode, table, locks)
    return locks


def conflict(inode, owner, kind, start, end, table: str = RECORD) -> Lock | None:
    """The first lock of another owner that kind over [start, end) would collide with."""
    for lk in _locks(inode, table):
        if lk.owner is owner or not lk.overlaps(start, end):
            continue
        if kind == WRITE or lk.kind == WRITE:
            return lk
    return None


def set_lock(inode, owner, kind, start, end, pid, table: str = RECORD) -> None:
    """Replace owner's locks over [start, end) with kind (UNLOCK removes them)."""
    kept = []
    for lk in _locks(inode, table):
        if lk.owner is not owner or not lk.overlaps(start, end):
            kept.append(lk)
            continue
        if lk.start < start:
            kept.append(Lock(owner, lk.kind, lk.start, start, lk.pid))
        if end is not None and (lk.end is None or lk.end > end):
            kept.append(Lock(owner, lk.kind, end, lk.end, lk.pid))
    if kind != UNLOCK:
        # Merge with the owner's adjacent or overlapping locks of the same kind, as
        # Linux's posix_lock_inode does.
        merged = []
        for lk in kept:
            if lk.owner is owner and lk.kind == kind and \
                    (lk.end is None or lk.end >= start) and (end is None or lk.start <= end):
                start = min(start, lk.start)
                end = None if end is None or lk.end is None else max(end, lk.end)
            else:
                merged.append(lk)
        kept = merged + [Lock(owner, kind, start, end, pid)]
    setattr(inode, table, kept)
    waiters = getattr(inode, "lock_waiters", None)
    if waiters:
        waiters.wake_all()


def _wait(inode, wait: bool):
    """A conflicting lock: EAGAIN, or wait for the inode's locks to change."""
    if not wait:
        raise KernelError(EAGAIN)
    waiters = getattr(inode, "lock_waiters", None)
    if waiters is None:
        waiters = inode.lock_waiters = WaitQueue("a file lock")
    raise WouldBlock((waiters,), what="a file lock")


def release(inode, owner, table: str = RECORD) -> None:
    """Drop every lock owner holds on inode."""
    if getattr(inode, table, None):
        set_lock(inode, owner, UNLOCK, 0, None, 0, table)


# ---- the system calls' operations -------------------------------------------------------

def target(file):
    """The object file's locks are kept on (see the module docstring)."""
    inode = file.inode
    if inode is not None:
        return inode
    pipe = getattr(file, "pipe", None)
    return pipe if pipe is not None else file


def posix_range(file, whence: int, start: int, length: int) -> tuple[int, int | None]:
    """flock_to_posix_lock: struct flock's (l_whence, l_start, l_len) as [start, end),
    end None for "to the end of the file"; a negative length locks the bytes before
    start. EINVAL for an unknown whence or a range that starts before 0."""
    if whence == SEEK_SET:
        base = 0
    elif whence == SEEK_CUR:
        base = file.offset
    elif whence == SEEK_END:
        base = file.inode.size if file.inode is not None else 0     # a pipe's i_size
    else:
        raise KernelError(EINVAL)
    start += base
    if length < 0:
        start, length = start + length, -length
    if start < 0:
        raise KernelError(EINVAL)
    return start, (start + length if length else None)


def _check_kind(kind: int) -> None:
    if kind not in (READ, WRITE, UNLOCK):
        raise KernelError(EINVAL)


def test_lock(inode, owner, kind: int, start: int, end: int | None) -> Lock | None:
    """F_GETLK: the lock of another owner that a kind lock over [start, end) would
    wait for, or None (the caller answers F_UNLCK). EINVAL for F_UNLCK itself."""
    _check_kind(kind)
    if kind == UNLOCK:
        raise KernelError(EINVAL)
    return conflict(inode, owner, kind, start, end)


def posix_lock(file, owner, kind: int, start: int, end: int | None, pid: int,
               wait: bool) -> None:
    """F_SETLK and F_SETLKW (and their OFD forms): a read lock needs the file open
    for reading, a write lock open for writing (EBADF); a conflicting lock is EAGAIN,
    or a wait (see the module docstring)."""
    _check_kind(kind)
    if kind == READ and not file.readable or kind == WRITE and not file.writable:
        raise KernelError(EBADF)
    inode = target(file)
    if kind != UNLOCK and conflict(inode, owner, kind, start, end):
        _wait(inode, wait)
    set_lock(inode, owner, kind, start, end, pid)


def flock(file, kind: int, wait: bool, pid: int) -> None:
    """flock(2): a whole-file lock owned by the open file description."""
    inode = target(file)
    if kind != UNLOCK and conflict(inode, file, kind, 0, None, FLOCK):
        _wait(inode, wait)
    set_lock(inode, file, kind, 0, None, pid, FLOCK)
