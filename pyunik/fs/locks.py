"""Advisory file locks: POSIX record locks (fcntl), OFD locks and flock.

Locks are kept on each inode (inode.locks for fcntl, inode.flocks for flock) as
(owner, kind, start, end) with end exclusive and None for "to the end of the file".
A POSIX lock's owner is the process, so a process never conflicts with itself (its
new lock replaces the old range); an OFD or flock lock's owner is the open file
description, so two opens of one file in the same process do conflict, as on Linux.
"""

from __future__ import annotations

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


def release(inode, owner, table: str = RECORD) -> None:
    """Drop every lock owner holds on inode."""
    if getattr(inode, table, None):
        set_lock(inode, owner, UNLOCK, 0, None, 0, table)
