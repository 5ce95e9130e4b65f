"""The shortest paths of mmap, mprotect and munmap (mm/address_space.py) and of the
engine regions under them (mm/regions.py show and hide), and every case they decline.

A thread's stack is made and given back by three calls that pyunik answers on a path
of their own: mmap of fresh private pages, mprotect within one VMA, munmap of whole
neighbouring VMAs of a host window's own pages. Each case below is done once on that
path or, where it must not be, on the general one, and the address space is checked
against the engine after each (test_address_space.check: the regions tile Unicorn's,
each page's access in the page tables, `mapped` the VMAs' total).
"""

from __future__ import annotations

from errno import EACCES, EFAULT, ENOMEM

import pytest
from test_address_space import ANON, FIXED, NONE, PAGE, RW, RX, WINDOW_EDGE, R, check, errno_of
import test_address_space

from pyunik.abi import linux as L
from pyunik.abi.page import PM_MMAP_EXCLUSIVE, PM_PRESENT, PM_SWAP
from pyunik.mm import host
from pyunik.mm.address_space import AddressSpace
from pyunik.mm.shared import SharedMemory

STACK, GUARD = 35 * PAGE, 2 * PAGE         # musl's default thread stack and its guard
mm = test_address_space.mm                  # the fixture: a fresh address space


@pytest.fixture
def general(mm, monkeypatch):
    """Counts the calls that reach the general paths."""
    calls = {"unmap": 0, "protect": 0}
    write_back, protect = AddressSpace.write_back, AddressSpace.set_protection

    def counting_write_back(self, *args):      # called by the general unmap_range only
        calls["unmap"] += 1
        return write_back(self, *args)

    def counting_protect(self, *args):
        calls["protect"] += 1
        return protect(self, *args)
    monkeypatch.setattr(AddressSpace, "write_back", counting_write_back)
    monkeypatch.setattr(AddressSpace, "set_protection", counting_protect)
    return calls


def thread_stack(mm: AddressSpace) -> int:
    """A stack as musl's pthread_create makes it: PROT_NONE, then read-write past the
    guard page."""
    a = mm.mmap(0, STACK, NONE, ANON)
    mm.mprotect(a + GUARD, STACK - GUARD, RW)
    return a


def test_a_thread_stack_is_made_and_given_back_on_the_shortest_paths(mm, general):
    used = mm.budget.used
    a = thread_stack(mm)
    assert [(v.start, v.end, v.prot) for v in mm.vmas] == [(a, a + GUARD, NONE),
                                                           (a + GUARD, a + STACK, RW)]
    assert mm.engine.page_access(a) == 0 and mm.engine.page_access(a + GUARD) == RW
    mm.write(a + STACK - 64, b"stack data")
    check(mm)
    calls = dict(mm.engine.calls)
    mm.munmap(a, STACK)
    assert mm.vmas == [] and mm.mapped == 0 and mm.budget.used == used
    assert mm.engine.page_access(a + STACK - PAGE) == 0
    check(mm)
    for _ in range(3):                            # made again at the same place
        assert thread_stack(mm) == a
        assert mm.read(a + STACK - 64, 10) == bytes(10)
        check(mm)
        mm.munmap(a, STACK)
        check(mm)
    # access flips only: no region mapped or unmapped, and never the general paths
    assert (mm.engine.calls["map_host"], mm.engine.calls["unmap"]) == \
        (calls["map_host"], calls["unmap"])
    assert general == {"unmap": 0, "protect": 0}


@pytest.mark.parametrize("first, length", [(GUARD, STACK - GUARD), (0, GUARD), (0, STACK),
                                           (PAGE, PAGE), (GUARD, PAGE)])
def test_mprotect_within_one_vma_cuts_it_in_place(mm, general, first, length):
    """At the start, the end, the middle or the whole of a VMA: the pieces are as
    the general path makes them (the left part keeps its object and its view)."""
    a = mm.mmap(0, STACK, RW, ANON)
    mm.write(a, b"x")
    left = mm.vmas[0]
    mm.mprotect(a + first, length, R)
    want = [(a, a + first, RW)] if first else []
    want.append((a + first, a + first + length, R))
    if first + length < STACK:
        want.append((a + first + length, a + STACK, RW))
    assert [(v.start, v.end, v.prot) for v in mm.vmas] == want
    assert mm.vmas[0] is left and mm.read(a, 1) == b"x"
    assert all(v.written for v in mm.vmas)          # VM_ACCOUNT stays with each piece
    mm.mprotect(a + first, length, R)               # no change: nothing to do
    check(mm)
    assert general["protect"] == 0


def test_mprotect_across_vmas_or_a_hole_takes_the_general_path(mm, general):
    a = mm.mmap(0, 8 * PAGE, RW, ANON)
    mm.mprotect(a, 4 * PAGE, R)
    mm.mprotect(a + 2 * PAGE, 4 * PAGE, NONE)       # across two VMAs
    assert general["protect"] == 1
    check(mm)
    mm.munmap(a + 6 * PAGE, PAGE)
    assert errno_of(mm.mprotect, a + 4 * PAGE, 4 * PAGE, RW) == ENOMEM   # a hole
    assert general["protect"] == 1                  # refused before any change
    check(mm)


def test_mprotect_write_on_a_read_only_shared_file_mapping_is_eacces(mm):
    a = mm.mmap(0, 4 * PAGE, R, L.MAP_SHARED | L.MAP_ANONYMOUS)
    for v in mm.vmas:
        v.may_write = False                          # as a file opened O_RDONLY leaves it
    assert errno_of(mm.mprotect, a + PAGE, PAGE, RW) == EACCES
    assert errno_of(mm.mprotect, a, 4 * PAGE, RW) == EACCES
    assert [(v.start, v.end, v.prot) for v in mm.vmas] == [(a, a + 4 * PAGE, R)]
    check(mm)


def test_munmap_of_part_of_a_vma_takes_the_general_path(mm, general):
    a = thread_stack(mm)
    mm.munmap(a + PAGE, STACK - PAGE)               # starts inside the guard's VMA
    assert general["unmap"] == 1
    assert [(v.start, v.end) for v in mm.vmas] == [(a, a + PAGE)]
    check(mm)
    b = thread_stack(mm)
    mm.munmap(b, STACK - PAGE)                      # ends inside the stack's VMA
    assert general["unmap"] == 2
    assert [(v.start, v.end) for v in mm.vmas if b <= v.start < b + STACK] == \
        [(b + STACK - PAGE, b + STACK)]
    check(mm)


def test_munmap_across_a_hole_takes_the_general_path(mm, general):
    a = mm.mmap(0, 8 * PAGE, RW, ANON)
    mm.munmap(a + 4 * PAGE, 2 * PAGE)
    assert general["unmap"] == 1
    mm.munmap(a, 8 * PAGE)                          # two VMAs with a hole between
    assert general["unmap"] == 2 and mm.vmas == [] and mm.mapped == 0
    check(mm)


def test_munmap_of_code_takes_it_out_of_the_engine(mm, general):
    a = mm.mmap(0x10000000, 4 * PAGE, RX, FIXED)
    mm.mprotect(a, 4 * PAGE, RW)                    # no longer executable: still code
    mm.munmap(a, 4 * PAGE)
    assert general["unmap"] == 1
    assert mm.engine.region_count() == 0
    check(mm)


def test_munmap_of_shared_memory_takes_the_general_path(mm, general):
    a = mm.mmap(0, 4 * PAGE, RW, L.MAP_SHARED | L.MAP_ANONYMOUS)
    shm = mm.vmas[0].shm
    b = mm.mmap(0, 4 * PAGE, RW, L.MAP_SHARED, source=(shm, 0))   # the same pages again
    mm.write(a, b"shared")
    mm.munmap(a, 4 * PAGE)
    assert general["unmap"] == 1
    assert mm.read(b, 6) == b"shared"               # the other mapping keeps them
    mm.munmap(b, 4 * PAGE)
    assert isinstance(shm, SharedMemory) and general["unmap"] == 2
    check(mm)


def test_munmap_outside_the_windows_takes_the_general_path(mm, general):
    """A mapping across a host window's edge has a host mapping of its own, given
    back to the host (released) by the general path."""
    a = mm.mmap(WINDOW_EDGE - 2 * PAGE, 4 * PAGE, RW, FIXED)
    assert mm.vmas[0].reserve is None
    mm.write(a, b"edge")
    mm.munmap(a, 4 * PAGE)
    assert general["unmap"] == 1 and mm.vmas == []
    check(mm)


def test_munmap_of_neighbours_in_different_windows_takes_the_general_path(mm, general):
    a = mm.mmap(WINDOW_EDGE - 2 * PAGE, 2 * PAGE, RW, FIXED)
    b = mm.mmap(WINDOW_EDGE, 2 * PAGE, RW, FIXED)
    assert mm.vmas[0].host + 2 * PAGE != mm.vmas[1].host or \
        mm.vmas[0].reserve is not mm.vmas[1].reserve
    mm.munmap(a, 4 * PAGE)
    assert general["unmap"] == 1 and mm.find(b) is None
    check(mm)


def test_mmap_shortest_path_keeps_the_limit_exact(mm):
    a = mm.mmap(0, 4 * PAGE, RW, ANON | L.MAP_STACK | L.MAP_NORESERVE)
    assert mm.mapped == 4 * PAGE
    room = mm.budget.limit - mm.budget.used
    assert errno_of(mm.mmap, 0, room + PAGE, NONE, ANON) == ENOMEM
    b = mm.mmap(0, room, NONE, ANON)
    assert mm.budget.used == mm.budget.limit
    mm.munmap(b, room)
    c = mm.mmap(a - 8 * PAGE, PAGE, RW, ANON)       # a free hint is taken
    assert c == a - 8 * PAGE
    check(mm)


def test_mmap_prot_none_asks_nothing_of_the_engine(mm, monkeypatch):
    """A fresh PROT_NONE mapping (a thread stack's first call) leaves the engine as
    it is: a free range has no access there, whether a region stayed (hidden, the
    stack given back before) or not. Any other protection is shown."""
    a = thread_stack(mm)
    mm.munmap(a, STACK)                             # its region stays, hidden
    calls = []
    for name in ("show", "hide"):
        def counting(*args, name=name, call=getattr(mm.regions, name)):
            calls.append(name)
            return call(*args)
        monkeypatch.setattr(mm.regions, name, counting)
    assert mm.mmap(0, STACK, NONE, ANON) == a
    assert mm.mmap(0, STACK, NONE, ANON) < a        # where no region ever was
    assert calls == []
    mm.mmap(0, PAGE, R, ANON)
    assert calls == ["show"]
    assert all(mm.engine.page_access(p) == 0 for p in range(a, a + STACK, PAGE))
    check(mm)


def test_mmap_growsdown_takes_the_general_path(mm):
    a = mm.mmap(0, 4 * PAGE, RW, ANON | L.MAP_GROWSDOWN)
    assert mm.find(a).flags & L.MAP_GROWSDOWN
    check(mm)


def test_hide_cutting_a_run_takes_the_general_path(mm):
    """PROT_NONE in the middle of one region cuts its run (regions.hide declines)."""
    a = mm.mmap(0, 8 * PAGE, RW, ANON)
    mm.mprotect(a + 2 * PAGE, 2 * PAGE, NONE)
    assert [(r.start, r.end, r.prot) for r in mm.regions.regions] == \
        [(a, a + 2 * PAGE, RW), (a + 2 * PAGE, a + 4 * PAGE, NONE),
         (a + 4 * PAGE, a + 8 * PAGE, RW)]
    mm.mprotect(a, 8 * PAGE, NONE)                  # three VMAs: general, one run
    assert all(r.prot == NONE for r in mm.regions.regions)
    check(mm)


# ---- pages zeroed in place and kept (AddressSpace._keep_zeroed) -------------------------

def resident(mm: AddressSpace, addr: int, pages: int) -> bytes:
    """Per page of the window at addr: 1 where the host holds it."""
    return bytes(b & 1 for b in host.residency(mm.windows.host_for(addr, pages * PAGE),
                                                 pages * PAGE))


def test_a_stack_given_back_keeps_its_few_pages_zeroed(mm):
    a = thread_stack(mm)
    mm.write(a + STACK - 64, b"stack data")
    mm.munmap(a, STACK)
    assert resident(mm, a, 35)[-1] == 1             # kept, not given back
    assert thread_stack(mm) == a
    assert mm.read(a + STACK - 64, 10) == bytes(10)
    check(mm)


def test_the_range_kept_before_goes_back_when_another_is_kept(mm):
    a = thread_stack(mm)
    b = thread_stack(mm)
    mm.write(a + STACK - 8, b"a")
    mm.write(b + STACK - 8, b"b")
    mm.munmap(a, STACK)
    assert resident(mm, a, 35)[-1] == 1
    mm.munmap(b, STACK)
    assert resident(mm, a, 35)[-1] == 0             # free: given back to the host
    assert resident(mm, b, 35)[-1] == 1
    c = thread_stack(mm)                            # where a or b was
    assert c in (a, b) and mm.read(c + STACK - 8, 1) == b"\0"
    check(mm)


def test_a_kept_range_mapped_again_is_not_given_back(mm):
    a = thread_stack(mm)
    mm.write(a + STACK - 8, b"a")
    mm.munmap(a, STACK)
    assert thread_stack(mm) == a                    # a in use again
    mm.write(a + STACK - 8, b"live")
    b = thread_stack(mm)
    mm.write(b + STACK - 8, b"b")
    mm.munmap(b, STACK)                             # keeps b; a is not free
    assert mm.read(a + STACK - 8, 4) == b"live"
    check(mm)


@pytest.mark.parametrize("case", ["many pages", "a large range", "only read"])
def test_ranges_that_used_many_pages_or_shared_ones_go_back(mm, case):
    size = 128 * PAGE if case == "a large range" else 16 * PAGE
    a = mm.mmap(0, size, RW, ANON)
    if case == "only read":
        # (without a write log, so that munmap asks /proc/self/pagemap: with one,
        # nothing written means nothing to zero, and the range is kept)
        mm.mprotect(a, size, R)
        mm.mprotect(a, size, RW)
        assert all(v.log is None for v in mm.overlapping(a, a + size))
        mm.read(a, 8)                               # the host's shared zero page
    else:
        for page in range(0, 8 if case == "many pages" else 1):
            mm.write(a + page * PAGE, b"x")
    mm.munmap(a, size)
    assert resident(mm, a, size // PAGE) == bytes(size // PAGE)
    assert mm._kept is None
    assert mm.mmap(0, size, RW, ANON) == a and mm.read(a, 1) == b"\0"
    check(mm)


def test_pagemap_entries_are_sorted_as_own_none_or_shared():
    own = host._OWN
    assert own[(PM_PRESENT | PM_MMAP_EXCLUSIVE) >> 56] == 1
    assert own[PM_PRESENT >> 56] == 2                          # the zero page, or COW
    assert own[PM_SWAP >> 56] == 2 and own[(PM_SWAP | PM_MMAP_EXCLUSIVE) >> 56] == 2
    assert own[0] == 0


def test_a_vma_cut_in_place_is_read_only_up_to_its_new_end(mm):
    """The VMA an mprotect cuts in place keeps its object: reads through it stop at its
    new end (its memoryview is made again), as they would at a new VMA's."""
    a = mm.mmap(0, 4 * PAGE, RW, ANON)
    mm.write(a + PAGE - 4, b"abcd")                 # the VMA's view, for all four pages
    mm.write(a + PAGE, b"efgh\0")
    mm.mprotect(a + PAGE, 3 * PAGE, NONE)           # [a, a + PAGE) stays the same VMA
    assert errno_of(mm.read_cstring, a + PAGE - 4, 4096) == EFAULT
    assert errno_of(mm.read, a + PAGE - 4, 8) == EFAULT
    assert mm.read(a + PAGE - 4, 4) == b"abcd"
