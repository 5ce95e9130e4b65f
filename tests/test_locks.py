"""fs/locks.py on its own: record locks, OFD and flock tables, built from plain
objects (no guest, no VFS), each case against what Linux's fs/locks.c does."""

from __future__ import annotations

from errno import EAGAIN, EBADF, EINVAL

import pytest

from pyunik.errors import KernelError
from pyunik.fs import locks
from pyunik.fs.locks import READ, UNLOCK, WRITE
from pyunik.wait import WouldBlock


class Inode:
    size = 1000


class File:
    def __init__(self, inode, readable=True, writable=True, offset=0):
        self.inode, self.readable, self.writable, self.offset = inode, readable, writable, offset


def held(inode, table=locks.RECORD):
    """The locks on inode as sorted (owner name, kind, start, end) tuples."""
    return sorted((lk.owner.name, lk.kind, lk.start, lk.end) for lk in getattr(inode, table))


class Owner:
    def __init__(self, name):
        self.name = name


@pytest.fixture
def inode():
    return Inode()


A, B = Owner("a"), Owner("b")


def test_overlapping_locks_of_one_owner_merge(inode):
    locks.set_lock(inode, A, WRITE, 0, 10, 1)
    locks.set_lock(inode, A, WRITE, 5, 20, 1)
    locks.set_lock(inode, A, WRITE, 20, 30, 1)          # adjacent: merged too
    assert held(inode) == [("a", WRITE, 0, 30)]


def test_a_new_kind_splits_the_old_lock(inode):
    locks.set_lock(inode, A, WRITE, 0, 100, 1)
    locks.set_lock(inode, A, READ, 40, 60, 1)
    assert held(inode) == [("a", READ, 40, 60), ("a", WRITE, 0, 40), ("a", WRITE, 60, 100)]


def test_unlock_in_the_middle_leaves_two_pieces(inode):
    locks.set_lock(inode, A, READ, 10, None, 1)         # to the end of the file
    locks.set_lock(inode, A, UNLOCK, 20, 30, 1)
    assert held(inode) == [("a", READ, 10, 20), ("a", READ, 30, None)]
    locks.release(inode, A)
    assert held(inode) == []


def test_owners_conflict_only_over_a_write(inode):
    locks.set_lock(inode, A, READ, 0, 10, 1)
    assert locks.conflict(inode, B, READ, 5, 15) is None
    c = locks.conflict(inode, B, WRITE, 5, 15)
    assert (c.owner, c.kind, c.start, c.end, c.pid) == (A, READ, 0, 10, 1)
    assert locks.conflict(inode, B, WRITE, 10, 20) is None   # [0, 10) ends before 10
    assert locks.conflict(inode, A, WRITE, 0, 10) is None    # never with itself


def test_getlk_answers(inode):
    f = File(inode)
    locks.posix_lock(f, A, WRITE, 100, 200, 7, wait=False)
    c = locks.test_lock(inode, B, READ, 150, None)
    assert (c.kind, c.start, c.end, c.pid) == (WRITE, 100, 200, 7)
    assert locks.test_lock(inode, B, READ, 200, 300) is None
    assert locks.test_lock(inode, A, WRITE, 0, None) is None
    with pytest.raises(KernelError) as e:
        locks.test_lock(inode, B, UNLOCK, 0, None)
    assert e.value.errno == EINVAL


def test_setlk_conflict_and_access_mode(inode):
    locks.posix_lock(File(inode), A, READ, 0, None, 1, wait=False)
    with pytest.raises(KernelError) as e:
        locks.posix_lock(File(inode), B, WRITE, 5, 6, 2, wait=False)
    assert e.value.errno == EAGAIN
    # F_SETLKW waits on the inode's lock queue, which A's unlock wakes.
    with pytest.raises(WouldBlock) as w:
        locks.posix_lock(File(inode), B, WRITE, 5, 6, 2, wait=True)
    (queue,) = w.value.queues
    woken = []

    class Waiter:
        def wake(self):
            woken.append(self)
    queue.add(Waiter())
    locks.posix_lock(File(inode), A, UNLOCK, 0, None, 1, wait=False)
    assert len(woken) == 1 and not queue
    locks.posix_lock(File(inode), B, WRITE, 5, 6, 2, wait=True)
    with pytest.raises(KernelError) as e:
        locks.posix_lock(File(inode, writable=False), B, WRITE, 0, 1, 2, wait=False)
    assert e.value.errno == EBADF
    with pytest.raises(KernelError) as e:
        locks.posix_lock(File(inode), B, 7, 0, 1, 2, wait=False)
    assert e.value.errno == EINVAL


@pytest.mark.parametrize("whence,start,length,want", [
    (0, 10, 5, (10, 15)),
    (0, 10, 0, (10, None)),            # 0: to the end of the file, however it grows
    (0, 10, -4, (6, 10)),              # negative: the bytes before start
    (1, 5, 5, (55, 60)),               # SEEK_CUR: the file offset is 50
    (2, -10, 10, (990, 1000)),         # SEEK_END: the size is 1000
])
def test_posix_range(inode, whence, start, length, want):
    assert locks.posix_range(File(inode, offset=50), whence, start, length) == want


@pytest.mark.parametrize("whence,start,length", [(3, 0, 1), (0, -1, 1), (0, 2, -3)])
def test_posix_range_rejects(inode, whence, start, length):
    with pytest.raises(KernelError) as e:
        locks.posix_range(File(inode), whence, start, length)
    assert e.value.errno == EINVAL


def test_flock_table_is_apart_from_record_locks(inode):
    f, g = File(inode), File(inode)
    f.name, g.name = "f", "g"
    locks.flock(f, WRITE, False, 1)
    locks.posix_lock(File(inode), A, WRITE, 0, None, 1, wait=False)   # no conflict
    with pytest.raises(KernelError) as e:
        locks.flock(g, READ, False, 1)
    assert e.value.errno == EAGAIN
    locks.flock(f, UNLOCK, False, 1)
    locks.flock(g, READ, False, 1)
    assert held(inode, locks.FLOCK) == [("g", READ, 0, None)]
