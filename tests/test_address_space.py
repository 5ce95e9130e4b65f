"""AddressSpace on its own: VMAs, the engine's regions under them, the -m limit, mremap.

These build an Engine and an AddressSpace directly (no guest program, no kernel) and
check the kernel object against what Linux does and against the engine's own list of
regions, which must mirror the bookkeeping in mm/regions.py exactly.
"""

from __future__ import annotations

import random
import struct
from errno import EFAULT, EINVAL, ENOMEM

import pytest

from pyunik.abi import linux as L
from pyunik.cpu.engine import Engine
from pyunik.errors import KernelError
from pyunik.mm import regions as regions_mod
from pyunik.mm.address_space import AddressSpace
from pyunik.mm.host import WINDOW_SIZE

PAGE = L.PAGE_SIZE
RW, R, RX, NONE = 3, 1, 5, 0
ANON = L.MAP_PRIVATE | L.MAP_ANONYMOUS
FIXED = ANON | L.MAP_FIXED
WINDOW_EDGE = L.TASK_SIZE // WINDOW_SIZE * WINDOW_SIZE   # below mmap_base


class CountingEngine(Engine):
    """An Engine that counts the region calls made on it."""

    def __init__(self):
        super().__init__()
        self.calls = {"map_host": 0, "unmap": 0, "protect": 0}

    def map_host(self, *a):
        self.calls["map_host"] += 1
        super().map_host(*a)

    def unmap(self, *a):
        self.calls["unmap"] += 1
        super().unmap(*a)

    def protect(self, *a):
        self.calls["protect"] += 1
        return super().protect(*a)


@pytest.fixture
def mm():
    space = AddressSpace(CountingEngine(), 64 << 20)
    yield space
    space.free_all()
    assert space.engine.region_count() == 0


def access(prot: int) -> int:
    """What the page tables give for Linux prot bits: x86-64 reads every page it maps."""
    return (prot & 7) | 1 if prot & 7 else 0


def check(mm: AddressSpace) -> None:
    """The invariants: the bookkeeping's regions tile Unicorn's exactly, and the page
    tables give each of their pages the region's access; every accessible VMA page is
    shown with its protection and its own host memory; every page outside the VMAs, or
    under a PROT_NONE VMA, has no access; `mapped` is the VMAs' total."""
    unicorn = mm.engine.regions()
    book = [(r.start, r.end) for r in mm.regions.regions]
    for start, end in unicorn:                       # the pieces tile each region
        pieces = [(a, b) for a, b in book if start <= a < end]
        assert pieces and pieces[0][0] == start and pieces[-1][1] == end, (start, end)
        assert all(x[1] == y[0] for x, y in zip(pieces, pieces[1:])), (start, end)
    assert sum(len([1 for a, b in book if s <= a < e]) for s, e in unicorn) == len(book)
    for r in mm.regions.regions:
        for page in range(r.start, r.end, PAGE):
            assert mm.engine.page_access(page) == access(r.prot), (hex(page), r)
    assert mm.mapped == sum(v.end - v.start for v in mm.vmas)
    for r in mm.regions.regions:
        for v in mm.overlapping(r.start, r.end):
            a = max(r.start, v.start)
            if v.prot:
                assert r.prot == v.prot, (r, v)
                assert r.host_at(a) == v.host_at(a), (r, v)
            else:
                assert r.prot == 0, (r, v)
        covered = sum(min(v.end, r.end) - max(v.start, r.start)
                      for v in mm.overlapping(r.start, r.end))
        if covered < r.end - r.start:
            assert r.prot == 0, r        # an unmapped page never has access
    for v in mm.vmas:
        if v.prot:
            shown = sum(min(r.end, v.end) - max(r.start, v.start)
                        for r in mm.regions._overlapping(v.start, v.end))
            assert shown == v.end - v.start, v


def errno_of(fn, *args) -> int:
    with pytest.raises(KernelError) as e:
        fn(*args)
    return e.value.errno


# ---- merging and splitting --------------------------------------------------------------

def test_neighbouring_mappings_share_a_region(mm):
    """Five anonymous mappings placed top-down one after another, all read-write: one
    engine region, though they stay five VMAs (as on Linux, before VMA merging)."""
    starts = [mm.mmap(0, 8 * PAGE, RW, ANON) for _ in range(5)]
    assert starts == sorted(starts, reverse=True)
    assert all(a - b == 8 * PAGE for a, b in zip(starts, starts[1:]))
    assert len(mm.vmas) == 5
    assert mm.engine.region_count() == 1
    check(mm)


def test_different_protections_are_different_regions(mm):
    a = mm.mmap(0, 4 * PAGE, R, ANON)
    mm.mmap(a - 4 * PAGE, 4 * PAGE, RW, FIXED)
    mm.mmap(a - 8 * PAGE, 4 * PAGE, R, FIXED)
    assert [r.prot for r in mm.regions.regions] == [R, RW, R]
    assert mm.engine.region_count() == 3             # no neighbour with equal access
    check(mm)


def test_mprotect_splits_the_vma_and_the_region(mm):
    a = mm.mmap(0, 16 * PAGE, RW, ANON)
    mm.mprotect(a + 4 * PAGE, 4 * PAGE, R)
    assert [(v.start - a, v.end - a, v.prot) for v in mm.vmas] == [
        (0, 4 * PAGE, RW), (4 * PAGE, 8 * PAGE, R), (8 * PAGE, 16 * PAGE, RW)]
    assert [(r.start - a, r.end - a, r.prot) for r in mm.regions.regions] == [
        (0, 4 * PAGE, RW), (4 * PAGE, 8 * PAGE, R), (8 * PAGE, 16 * PAGE, RW)]
    assert mm.engine.region_count() == 1             # access lives in the page tables
    check(mm)


def test_prot_none_keeps_or_makes_no_access_regions(mm):
    """A guard page (mprotect PROT_NONE) is a region with no access; a stack mapped
    PROT_NONE and opened read-write the way glibc's pthread_create does shows only
    the read-write part."""
    a = mm.mmap(0, 8 * PAGE, RW, ANON)
    mm.mprotect(a, PAGE, NONE)
    assert mm.regions.regions[0].prot == NONE and mm.engine.page_access(a) == 0
    check(mm)
    s = mm.mmap(0, 64 * PAGE, NONE, ANON | L.MAP_STACK)
    assert mm.engine.region_count() == 1           # nothing shown for PROT_NONE
    mm.mprotect(s + PAGE, 63 * PAGE, RW)
    r = mm.regions.regions[0]
    assert (r.start, r.end, r.prot) == (s + PAGE, s + 64 * PAGE, RW)
    assert mm.engine.page_access(s) == 0
    check(mm)


def test_a_small_neighbour_is_absorbed_a_big_one_is_not(mm, monkeypatch):
    monkeypatch.setattr(regions_mod, "MERGE_LIMIT", 8 * PAGE)
    a = mm.mmap(0, 8 * PAGE, RW, ANON)
    mm.mmap(a - 8 * PAGE, 8 * PAGE, RW, FIXED)       # absorbs [a, a+8p): 16 pages now
    assert mm.engine.region_count() == 1
    mm.mmap(a - 16 * PAGE, 8 * PAGE, RW, FIXED)      # the neighbour is too big now
    assert mm.engine.region_count() == 2
    check(mm)
    mm.regions.compact()
    assert mm.engine.region_count() == 1
    check(mm)


def test_pieces_are_compacted_when_they_pile_up(mm, monkeypatch):
    """With no neighbour ever absorbed, 64 one-page mappings would be 64 regions;
    compaction merges them as they pile up."""
    monkeypatch.setattr(regions_mod, "MERGE_LIMIT", 0)
    monkeypatch.setattr(regions_mod, "COMPACT_MIN", 8)
    mm.regions._compact_at = 8
    for _ in range(64):
        mm.mmap(0, PAGE, RW, ANON)
    check(mm)
    assert mm.engine.region_count() <= 16
    a = mm.vmas[0].start
    for i in range(0, 64, 2):                        # alternating: nothing to merge
        mm.mprotect(a + i * PAGE, PAGE, R)
    assert len(mm.regions.regions) == 64             # pieces of access, in page tables;
    assert mm.engine.region_count() <= 16           # Unicorn's regions are not split
    check(mm)


# ---- reuse after munmap, and faults there -----------------------------------------------

def test_munmap_leaves_a_no_access_region_that_is_reused(mm):
    live = mm.mmap(0, 16 * PAGE, RW, ANON)
    a = mm.mmap(0, 16 * PAGE, RW, ANON)
    mm.munmap(a, 16 * PAGE)
    assert mm.find(a) is None
    assert [(r.start, r.end, r.prot) for r in mm.regions.regions][0] == (a, live, NONE)
    assert mm.engine.regions()[0][0] == a and mm.engine.page_access(a) == 0
    check(mm)
    calls = dict(mm.engine.calls)
    for _ in range(50):
        b = mm.mmap(0, 16 * PAGE, RW, ANON)
        assert b == a
        mm.mprotect(b, PAGE, NONE)
        mm.munmap(b, 16 * PAGE)
    # The churn is access flips only: no region was mapped or unmapped again.
    assert mm.engine.calls["map_host"] == calls["map_host"]
    assert mm.engine.calls["unmap"] == calls["unmap"]
    assert mm.engine.region_count() <= 3
    check(mm)


def test_reused_pages_read_zero(mm):
    a = mm.mmap(0, 4 * PAGE, RW, ANON)
    mm.write(a + 100, b"secret")
    mm.munmap(a, 4 * PAGE)
    b = mm.mmap(0, 4 * PAGE, RW, ANON)
    assert b == a
    assert mm.read(a + 100, 6) == bytes(6)


def _run_one(mm: AddressSpace, code: bytes):
    """Run code from a fresh executable page; return the engine's fault."""
    pc = mm.mmap(0x10000000, PAGE, RX, FIXED)
    mm.engine.write(pc, code + b"\xf4")
    return mm.engine.run(pc)


def test_touching_a_munmapped_range_faults_at_its_address(mm):
    a = mm.mmap(0x20000000, 16 * PAGE, RW, FIXED)
    mm.munmap(a, 16 * PAGE)
    assert mm.engine.region_count() >= 1            # still a region, with no access
    fault = _run_one(mm, b"\xa2" + struct.pack("<Q", a + 0x1234))     # movabs [a+0x1234], al
    assert (fault.kind, fault.address, fault.access) == ("segv", a + 0x1234, "write")
    mm.engine.fault = None
    fault = _run_one(mm, b"\xa0" + struct.pack("<Q", a + 8))          # movabs al, [a+8]
    assert (fault.kind, fault.address, fault.access) == ("segv", a + 8, "read")


def test_one_protect_across_regions_reaches_every_page(mm, monkeypatch):
    """Two neighbouring mappings made apart (two engine regions), unmapped and mapped
    again as one: a single engine call gives both old regions access again, and the
    guest can store to every page."""
    monkeypatch.setattr(regions_mod, "MERGE_LIMIT", 0)
    a = mm.mmap(0x28000000, 2 * PAGE, RW, FIXED)
    mm.mmap(0x2c000000, PAGE, RW, FIXED)             # so the two are apart in the engine
    mm.mmap(a + 2 * PAGE, 2 * PAGE, RW, FIXED)
    assert mm.engine.region_count() == 3
    mm.munmap(a, 4 * PAGE)
    assert mm.mmap(a, 4 * PAGE, RW, FIXED) == a
    for page in range(4):
        target = a + page * PAGE + 0xfff
        assert _run_one(mm, b"\xb0\x5a" + b"\xa2" + struct.pack("<Q", target)) is None
        assert mm.read(target, 1) == b"\x5a"               # mov al, 0x5a; movabs [t], al
    check(mm)


def test_usermem_asks_the_vmas_not_the_engine(mm):
    """The engine would read a no-access region happily; the kernel must not."""
    a = mm.mmap(0x30000000, 8 * PAGE, RW, FIXED)
    mm.munmap(a + 4 * PAGE, 4 * PAGE)                # region stays, no access
    mm.mprotect(a + 2 * PAGE, PAGE, NONE)
    assert errno_of(mm.read, a + 4 * PAGE, 16) == EFAULT
    assert errno_of(mm.read, a + 4 * PAGE - 8, 16) == EFAULT      # across into it
    assert errno_of(mm.read, a + 2 * PAGE, 16) == EFAULT          # PROT_NONE
    assert errno_of(mm.read, a + PAGE, 2 * PAGE) == EFAULT
    assert errno_of(mm.write, a + 4 * PAGE, b"x") == EFAULT
    assert errno_of(mm.write, a + 4 * PAGE - 1, b"xy") == EFAULT
    assert errno_of(mm.check_writable, a + 3 * PAGE, PAGE + 1) == EFAULT
    mm.write(a + PAGE - 2, b"abcd")                  # within mapped pages
    assert mm.read(a + PAGE - 2, 4) == b"abcd"
    mm.mprotect(a + 2 * PAGE, PAGE, RW)
    mm.write(a + 3 * PAGE - 2, b"wxyz")              # across two VMAs
    assert mm.read(a + 3 * PAGE - 2, 4) == b"wxyz"


def test_executable_pages_leave_the_engine_when_unmapped(mm):
    """Translated code must not outlive its pages: an ever-executable range is
    unmapped from the engine for good, not kept with no access."""
    a = mm.mmap(0x40000000, 4 * PAGE, RX, FIXED)
    mm.munmap(a, 4 * PAGE)
    assert not [r for r in mm.engine.regions() if r[0] < a + 4 * PAGE and r[1] > a]
    check(mm)


# ---- the -m limit -----------------------------------------------------------------------

def test_limit_is_exact():
    mm = AddressSpace(Engine(), 64 * PAGE)
    try:
        a = mm.mmap(0, 64 * PAGE, RW, ANON)
        assert errno_of(mm.mmap, 0, PAGE, RW, ANON) == ENOMEM
        mm.munmap(a, PAGE)
        b = mm.mmap(0, PAGE, RW, ANON)                   # exactly the page freed
        assert mm.mapped == 64 * PAGE
        # MAP_FIXED over mapped pages needs room only for what is new.
        mm.mmap(a + PAGE, 8 * PAGE, R, FIXED)
        assert mm.mapped == 64 * PAGE
        # mprotect and its splits do not count; neither do no-access regions left behind.
        mm.mprotect(a + 16 * PAGE, PAGE, NONE)
        mm.munmap(b, PAGE)
        for _ in range(100):
            c = mm.mmap(0, PAGE, RW, ANON)
            mm.munmap(c, PAGE)
        assert mm.mapped == 63 * PAGE
        # mremap growth is charged, shrinking gives back.
        assert errno_of(mm.mremap, a + 60 * PAGE, 4 * PAGE, 6 * PAGE, L.MREMAP_MAYMOVE, 0) \
            == ENOMEM
        assert mm.mremap(a + 60 * PAGE, 4 * PAGE, 5 * PAGE, L.MREMAP_MAYMOVE, 0)
        assert mm.mapped == 64 * PAGE
        assert mm.mremap(a + PAGE, 8 * PAGE, 4 * PAGE, 0, 0) == a + PAGE
        assert mm.mapped == 60 * PAGE
        check(mm)
    finally:
        mm.free_all()


def test_brk_churn_reuses_the_heap_region():
    mm = AddressSpace(CountingEngine(), 64 << 20)
    try:
        mm.set_initial_brk(0x600000)
        top = mm.do_brk(0x600000 + 64 * PAGE)
        mm.write(top - 8, b"heapdata")
        calls = dict(mm.engine.calls)
        for _ in range(20):
            assert mm.do_brk(0x600000 + 16 * PAGE) == 0x600000 + 16 * PAGE
            assert mm.do_brk(top) == top
        assert mm.read(top - 8, 8) == bytes(8)            # trimmed pages come back zero
        assert mm.engine.calls["map_host"] == calls["map_host"]
        assert mm.engine.region_count() <= 2
        check(mm)
    finally:
        mm.free_all()


# ---- mremap: Linux's checks, in Linux's order -------------------------------------------

@pytest.fixture
def layout(mm):
    """Two mapped pages, a hole of four, one page; returns (mm, a, hole)."""
    a = mm.mmap(0x50000000, 7 * PAGE, RW, FIXED)
    mm.munmap(a + 2 * PAGE, 4 * PAGE)
    mm.write(a, b"a" * 2 * PAGE)
    return mm, a, a + 2 * PAGE


M, F, D = L.MREMAP_MAYMOVE, L.MREMAP_FIXED, L.MREMAP_DONTUNMAP


@pytest.mark.parametrize("case,old,old_len,new_len,flags,new_addr,err", [
    ("unmapped, huge lengths", "hole", 0xffffffffff600000, 0x200000000008, M, 0, EFAULT),
    ("unmapped, shrink", "hole", 2 * PAGE, PAGE, 0, 0, EFAULT),
    ("unmapped, same size", "hole", PAGE, PAGE, 0, 0, EFAULT),
    ("unmapped, huge grow", "hole", PAGE, 0x7fffffffffff0000, M, 0, EINVAL),
    ("unmapped, zero new length", "hole", PAGE, 0, M, 0, EINVAL),
    ("unmapped, bad flags", "hole", PAGE, PAGE, 0x80, 0, EINVAL),
    ("unmapped, unaligned", "hole+1", PAGE, PAGE, M, 0, EINVAL),
    ("unmapped, FIXED without MAYMOVE", "hole", PAGE, PAGE, F, "hole+4096", EINVAL),
    ("unmapped, FIXED", "hole", PAGE, PAGE, M | F, "hole+8192", EFAULT),
    ("unmapped, FIXED huge new", "hole", PAGE, PAGE, M | F, 2**64 - PAGE, EINVAL),
    ("unmapped, DONTUNMAP resize", "hole", PAGE, 2 * PAGE, M | D, 0, EINVAL),
    ("mapped, huge old length shrink", "a", 0xffffffffff600000, PAGE, 0, 0, EINVAL),
    ("mapped, huge lengths", "a", 0xffffffffff600000, 0x200000000008, M, 0, EINVAL),
    ("mapped, past its mapping", "a", 3 * PAGE, 4 * PAGE, M, 0, EFAULT),
    ("mapped, old length wraps to 0", "a", 2**64 - 1, PAGE, M, 0, EINVAL),
    ("mapped, FIXED overlapping", "a", PAGE, PAGE, M | F, "a", EINVAL),
    ("mapped, FIXED past TASK_SIZE", "a", PAGE, PAGE, M | F, L.TASK_SIZE, EINVAL),
])
def test_mremap_errors_change_nothing(layout, case, old, old_len, new_len, flags, new_addr,
                                      err):
    mm, a, hole = layout
    names = {"a": a, "hole": hole, "hole+1": hole + 1, "hole+4096": hole + PAGE,
             "hole+8192": hole + 2 * PAGE}
    before = [(v.start, v.end, v.prot) for v in mm.vmas]
    got = errno_of(mm.mremap, names[old], old_len, new_len, flags,
                   names.get(new_addr, new_addr))
    assert got == err, case
    assert [(v.start, v.end, v.prot) for v in mm.vmas] == before
    assert mm.read(a, 2 * PAGE) == b"a" * 2 * PAGE
    check(mm)


def test_mremap_moves_grows_and_shrinks(layout):
    mm, a, hole = layout
    assert mm.mremap(a, 2 * PAGE, 3 * PAGE, 0, 0) == a          # grows into the hole
    assert mm.read(a, 2 * PAGE) == b"a" * 2 * PAGE and mm.read(a + 2 * PAGE, 4) == bytes(4)
    check(mm)
    b = mm.mremap(a, 3 * PAGE, 8 * PAGE, M, 0)                   # no room: moves
    assert b != a and mm.find(a) is None
    assert mm.read(b, 2 * PAGE) == b"a" * 2 * PAGE
    check(mm)
    c = mm.mremap(b, 8 * PAGE, 2 * PAGE, M | F, 0x60000000)
    assert c == 0x60000000 and mm.read(c, 2 * PAGE) == b"a" * 2 * PAGE
    assert mm.find(b) is None and mm.mapped == 3 * PAGE
    assert mm.mremap(c, 2 * PAGE, PAGE, 0, 0) == c
    assert mm.mapped == 2 * PAGE
    check(mm)


# ---- everything at once, against a model -------------------------------------------------

def test_random_operations_keep_every_invariant(mm):
    """A seeded mix of mmap, munmap, mprotect, mremap and writes: after each step the
    engine mirrors the bookkeeping, and every mapped byte reads what was written (or
    zero) through both the kernel's view and the model."""
    rng = random.Random(7)
    base = WINDOW_EDGE - (2 << 20)      # half the churn crosses a host window's edge
    model: dict[int, int] = {}          # page -> the byte written to its first offset
    for step in range(400):
        op = rng.random()
        start = base + rng.randrange(0, 1024) * PAGE
        npages = rng.randrange(1, 24)
        end = start + npages * PAGE
        if op < 0.35:
            mm.mmap(start, end - start, rng.choice([RW, RW, R, NONE]), FIXED)
            for p in range(start, end, PAGE):
                model[p] = 0
        elif op < 0.6:
            mm.munmap(start, end - start)
            for p in range(start, end, PAGE):
                model.pop(p, None)
        elif op < 0.8:
            if mm.covered(start, end):
                mm.mprotect(start, end - start, rng.choice([RW, R, NONE]))
        elif op < 0.9:
            v = mm.find(start)
            if v is not None:
                new_len = rng.randrange(1, 24) * PAGE
                old_len = min(v.end - start, npages * PAGE)
                try:
                    to = mm.mremap(start, old_len, new_len, M, 0)
                except KernelError as e:
                    assert e.errno == ENOMEM
                else:
                    moved = {p: model.pop(p) for p in range(start, start + old_len, PAGE)}
                    for i in range(0, new_len, PAGE):
                        model[to + i] = moved.get(start + i, 0)
        else:
            for p in list(model)[:8]:
                v = mm.find(p)
                if v.prot & 2:
                    val = rng.randrange(1, 256)
                    mm.write(p, bytes([val]))
                    model[p] = val
        check(mm)
        assert sorted(model) == [p for v in mm.vmas for p in range(v.start, v.end, PAGE)]
    for p, val in model.items():
        v = mm.find(p)
        if v.prot:
            assert mm.read(p, 1) == bytes([val]), hex(p)
        else:
            assert errno_of(mm.read, p, 1) == EFAULT
