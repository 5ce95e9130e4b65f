"""Page tables for the guest CPU: what each guest page may be used for.

Layer: cpu/, used only by cpu/engine.py; knows nothing of VMAs.

Why the CPU runs with paging on. Unicorn's x86 CPU with paging off puts every page in
its TLB as readable, writable and executable, and Unicorn 2.1 lets a guest store use
the TLB's fast path only on a page whose entry is not executable (a store to a page
that may hold translated code goes through the slow path, which looks for
self-modifying code). So without paging every store is a slow-path call: CPython ran
about 10x slower than under qemu-user. With x86-64 4-level paging the MMU fills each
TLB entry from a page-table entry, so a data page (NX set) becomes a fast read-write
entry, while a page that is executable keeps the checked path and self-modifying code
is still found. The tables are walked by Unicorn's own MMU in C: no Python runs on a
TLB miss.

Physical and virtual addresses differ. This CPU model has 40 physical address bits
(CPUID 0x80000008), fewer than user space's 47, so guest pages cannot sit at their own
address in physical memory. Each mapping the engine makes gets a physical range from a
small first-fit allocator (`PhysicalSpace`) from DATA_BASE up; Unicorn maps the host
memory there and the page tables point the guest's virtual pages at it. `Extent`s
remember which virtual range went where, so the engine can translate for its own
reads and writes.

Leaf entries carry exactly the mapping's access: present for any access, writable
with PROT_WRITE, NX without PROT_EXEC; pages with no access, or unmapped, are not
present, so the guest faults there (#PF, the address in CR2) as it would on Linux.
Dirty bits are preset, and so are accessed bits, except in entries written over
entries that were not present (`set(..., fresh=True)`): the MMU sets the accessed bit
of such an entry on the page walk that puts its page in the TLB. So an entry without
it names a page the TLB does not hold, and `touched` lists the pages a TLB flush
must reach when access to a range is taken away (cpu/engine.py); they are also the
only pages of the range the guest can have read or written since its entries were
written fresh (munmap zeroes no others: mm/address_space.py `_written`). Table pages
are taken from one anonymous host mapping (committed lazily by the host, gone with
the engine) and never given back while the engine lives: a range mapped again reuses
its tables.
"""

from __future__ import annotations

import array
import bisect
import ctypes
import mmap

from ..abi.page import PAGE_SIZE as PAGE
from ..abi.x86 import (PAGE_ACCESSED, PAGE_DIRTY, PAGE_NX, PAGE_PRESENT, PAGE_RW,
                       PAGE_USER, PTE_PFN_MASK)

PHYS_BITS = 40                      # CPUID 0x80000008 of Unicorn's default x86-64 model
TABLE_AREA = 256 << 20              # host reservation for table pages (64 Ki pages)
TABLE_BASE = (1 << PHYS_BITS) - TABLE_AREA
# guest memory's physical ranges: [DATA_BASE, TABLE_BASE). Above 4 GiB, so that no
# physical address is also where a program's code usually sits (a non-PIE executable
# at 0x400000, or anything above 1 << PHYS_BITS): engine.py's code-range hooks rely on it.
DATA_BASE = 1 << 32

PRESENT, WRITABLE, NO_EXECUTE = PAGE_PRESENT, PAGE_RW, PAGE_NX
_TABLE_LINK = PAGE_PRESENT | PAGE_RW | PAGE_USER | PAGE_ACCESSED   # non-leaf: allows all
_LEAF = PAGE_PRESENT | PAGE_USER | PAGE_ACCESSED | PAGE_DIRTY
# A leaf entry's low byte to 1 where it is present and accessed (bits 0 and 5)
_TOUCHED = bytes(1 if b & (PAGE_PRESENT | PAGE_ACCESSED) == PAGE_PRESENT | PAGE_ACCESSED
                 else 0 for b in range(256))

_RUNS_KEPT = 64
_NOT_PRESENT = memoryview(array.array("Q", bytes(8 * 512)))   # a table's worth of 0s
_memset = ctypes.memset
_memmove = ctypes.memmove
_string_at = ctypes.string_at


def leaf_bits(prot: int) -> int:
    """The flag bits of a leaf entry for Linux prot bits (0: not present)."""
    if not prot & 7:
        return 0
    return _LEAF | (WRITABLE if prot & 2 else 0) | (0 if prot & 4 else NO_EXECUTE)


_LEAF_BITS = tuple(leaf_bits(prot) for prot in range(8))    # leaf_bits by prot & 7
# the same, accessed bit clear (entries written over ones not present: see above)
_FRESH_BITS = tuple(bits & ~PAGE_ACCESSED if bits else 0 for bits in _LEAF_BITS)


class Extent:
    """Guest virtual [start, end) is physical [phys, phys + (end - start))."""

    __slots__ = ("start", "end", "phys")

    def __init__(self, start: int, end: int, phys: int):
        self.start = start
        self.end = end
        self.phys = phys

    def __repr__(self) -> str:
        return "Extent(%#x-%#x at %#x)" % (self.start, self.end, self.phys)


class PhysicalSpace:
    """First-fit allocator of page-aligned physical ranges, neighbours merged on free."""

    def __init__(self, start: int, end: int):
        self.free: list[list[int]] = [[start, end]]      # sorted, never adjacent

    def allocate(self, size: int) -> int:
        for i, (a, b) in enumerate(self.free):
            if b - a >= size:
                if b - a == size:
                    del self.free[i]
                else:
                    self.free[i][0] = a + size
                return a
        raise MemoryError("guest physical address space exhausted")

    def release(self, start: int, size: int) -> None:
        end = start + size
        i = bisect.bisect_left(self.free, [start, end])
        if i > 0 and self.free[i - 1][1] == start:
            i -= 1
            self.free[i][1] = end
        else:
            self.free.insert(i, [start, end])
        if i + 1 < len(self.free) and self.free[i + 1][0] == self.free[i][1]:
            self.free[i][1] = self.free[i + 1][1]
            del self.free[i + 1]


class PhysicalRegions:
    """Unicorn's regions in physical memory, mirrored: where they start and end.

    Unicorn splits a region where an unmap or a protect cuts it, and it does so by
    unmapping the whole region and mapping the pieces again; each unmap looks the
    region's start up as a virtual address (to drop translated code), so the engine
    must know which starts it is about to look up (see Engine._unicorn)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)

    def overlapping(self, start: int, end: int) -> list[int]:
        """Starts of the regions that overlap [start, end)."""
        i = max(bisect.bisect_right(self.starts, start) - 1, 0)
        out = []
        while i < len(self.starts) and self.starts[i] < end:
            if self.ends[i] > start:
                out.append(self.starts[i])
            i += 1
        return out

    def cut(self, addr: int) -> None:
        """Split the region that contains addr strictly inside, at addr."""
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0 and self.starts[i] < addr < self.ends[i]:
            self.starts.insert(i + 1, addr)
            self.ends.insert(i + 1, self.ends[i])
            self.ends[i] = addr

    def remove(self, start: int, end: int) -> None:
        """Forget [start, end), which must be cut at both ends."""
        self.cut(start)
        self.cut(end)
        i = bisect.bisect_left(self.starts, start)
        j = bisect.bisect_left(self.starts, end)
        del self.starts[i:j], self.ends[i:j]


class PageTables:
    """4-level x86-64 page tables over host memory that the engine maps at TABLE_BASE.

    `host` is the host address of the table area and `root` the physical address of
    the PML4 (CR3). Tables are addressed by their index in the area."""

    def __init__(self) -> None:
        self._area = mmap.mmap(-1, TABLE_AREA, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self._pin = ctypes.c_char.from_buffer(self._area)     # keeps the mapping in place
        self.host = ctypes.addressof(self._pin)
        # Every entry of every table, by index from the area's start: a run of
        # entries in one table is written with one slice assignment (no ctypes call).
        self._cells = memoryview(self._area).cast("Q")
        # Runs of entries written lately, by (first entry, count): a thread's stack
        # made again at the same place writes the same run (built once: ~3 us).
        self._runs: dict[tuple[int, int], array.array] = {}
        # The same by (start, end, leaf bits) of the virtual range, with where the
        # run goes in _cells (first, end), while the extents stay as they are.
        self._placed: dict[tuple[int, int, int], tuple] = {}
        self.root = TABLE_BASE
        self._next = 1                       # table page 0 is the PML4
        self._pt: dict[int, int] = {}        # 2 MiB chunk number -> host address of its PT
        self.space = PhysicalSpace(DATA_BASE, TABLE_BASE)
        self.extents: list[Extent] = []      # sorted by start, never overlapping
        self._starts: list[int] = []


    # ---- tables ----------------------------------------------------------------------------

    def _entry(self, table: int, index: int) -> int:
        return ctypes.c_uint64.from_address(table + 8 * index).value

    def _child(self, table: int, index: int, create: bool) -> int:
        """Host address of the table an entry points to, made when missing (or 0)."""
        cell = ctypes.c_uint64.from_address(table + 8 * index)
        if cell.value & PRESENT:
            return self.host + ((cell.value & PTE_PFN_MASK) - TABLE_BASE)
        if not create:
            return 0
        if self._next * PAGE >= TABLE_AREA:
            raise MemoryError("page-table area full")
        page = self._next
        self._next += 1
        cell.value = (TABLE_BASE + page * PAGE) | _TABLE_LINK
        return self.host + page * PAGE

    def _leaf_table(self, chunk: int, create: bool) -> int:
        """Host address of the page table for 2 MiB chunk number chunk (or 0)."""
        pt = self._pt.get(chunk)
        if pt is None:
            t = self.host
            for shift in (18, 9):           # PML4 index, then PDPT index, of the chunk
                t = self._child(t, (chunk >> shift) & 511, create)
                if not t:
                    return 0
            pt = self._child(t, chunk & 511, create)
            if not pt:
                return 0
            self._pt[chunk] = pt
        return pt

    def _chunks(self, start: int, end: int):
        """(chunk, first page index, page count, virtual address) per 2 MiB chunk."""
        va = start
        while va < end:
            chunk = va >> 21
            stop = min(end, (chunk + 1) << 21)
            yield chunk, (va >> 12) & 511, (stop - va) >> 12, va
            va = stop

    def set(self, start: int, end: int, prot: int, fresh: bool = False) -> None:
        """Entries for the mapped pages of virtual [start, end), with prot. fresh:
        the entries there now are not present (nor held in the TLB), so the new ones
        are written unaccessed (see the module docstring)."""
        bits = (_FRESH_BITS if fresh else _LEAF_BITS)[prot & 7]
        if not bits:
            self.clear(start, end)
            return
        placed = self._placed.get((start, end, bits))
        if placed is not None:
            # A range written so before, its extent unchanged since: a thread's stack
            # made writable again at the same place.
            self._cells[placed[0]:placed[1]] = placed[2]
            return
        chunk = start >> 21
        i = bisect.bisect_right(self._starts, start) - 1
        if i >= 0 and chunk == (end - 1) >> 21 and end <= self.extents[i].end:
            # The common case (an mprotect, a thread's stack): one extent, one table.
            e = self.extents[i]
            pt = self._pt.get(chunk) or self._leaf_table(chunk, True)
            entry = (e.phys + (start - e.start)) | bits
            first = ((pt - self.host) >> 3) + ((start >> 12) & 511)
            count = (end - start) >> 12
            run = self._runs.get((entry, count))
            if run is None:
                # (a range of entries with NX, bit 63, set is a slow range of big ints)
                if len(self._runs) >= _RUNS_KEPT:
                    self._runs.clear()
                run = self._runs[entry, count] = array.array(
                    "Q", range(entry, entry + count * PAGE, PAGE))
            self._cells[first:first + count] = run
            if len(self._placed) >= _RUNS_KEPT:
                self._placed.clear()
            self._placed[start, end, bits] = (first, first + count, run)
            return
        for a, b, phys in self.pieces(start, end):
            for chunk, first, count, va in self._chunks(a, b):
                pt = self._leaf_table(chunk, True)
                entry = (phys + (va - a)) | bits
                values = array.array("Q", range(entry, entry + count * PAGE, PAGE))
                _memmove(pt + 8 * first, values.tobytes(), 8 * count)

    def clear(self, start: int, end: int) -> None:
        """Virtual [start, end) not present."""
        chunk = start >> 21
        if chunk == (end - 1) >> 21:
            pt = self._pt.get(chunk) or self._leaf_table(chunk, False)
            if pt:
                first = ((pt - self.host) >> 3) + ((start >> 12) & 511)
                self._cells[first:first + ((end - start) >> 12)] = \
                    _NOT_PRESENT[:(end - start) >> 12]
            return
        for chunk, first, count, _ in self._chunks(start, end):
            pt = self._leaf_table(chunk, False)
            if pt:
                _memset(pt + 8 * first, 0, 8 * count)

    def touched(self, start: int, end: int, most: int, clear: bool = False) \
            -> list[int] | None:
        """The pages of [start, end) whose entries are present and accessed: the
        only ones of the range the TLB may hold. None when there are more than
        most of them. clear: the range is made not present too (as clear())."""
        chunk = start >> 21
        count = (end - start) >> 12
        if chunk == (end - 1) >> 21:
            pt = self._pt.get(chunk) or self._leaf_table(chunk, False)
            if not pt:
                return []
            first = ((pt - self.host) >> 3) + ((start >> 12) & 511)
            cells = self._cells[first:first + count]
            held = cells.tobytes()[0::8].translate(_TOUCHED)
            if clear:
                cells[:] = _NOT_PRESENT[:count]
        else:
            held = self.entries(start, end).tobytes()[0::8].translate(_TOUCHED)
            if clear:
                self.clear(start, end)
        if held.count(1) > most:
            return None
        pages = []
        i = held.find(1)
        while i >= 0:
            pages.append(start + (i << 12))
            i = held.find(1, i + 1)
        return pages

    def entries(self, start: int, end: int) -> array.array:
        """The leaf entries of [start, end) (0 where there is no table)."""
        out = array.array("Q")
        for chunk, first, count, _ in self._chunks(start, end):
            pt = self._leaf_table(chunk, False)
            if pt:
                out.frombytes(_string_at(pt + 8 * first, 8 * count))
            else:
                out.extend([0] * count)
        return out

    def entry(self, addr: int) -> int:
        """The leaf entry for the page holding addr (0: not present)."""
        pt = self._leaf_table(addr >> 21, False)
        return self._entry(pt, (addr >> 12) & 511) if pt else 0

    def swap(self, addr: int, value: int) -> int:
        """Set the leaf entry for the page holding addr; returns the old one."""
        cell = ctypes.c_uint64.from_address(self._leaf_table(addr >> 21, True)
                                            + 8 * ((addr >> 12) & 511))
        old = cell.value
        cell.value = value
        return old

    # ---- virtual to physical ---------------------------------------------------------------

    def place(self, start: int, size: int) -> int:
        """A physical range for virtual [start, start+size), remembered as an extent."""
        phys = self.space.allocate(size)
        self._placed.clear()
        i = bisect.bisect_left(self._starts, start)
        self.extents.insert(i, Extent(start, start + size, phys))
        self._starts.insert(i, start)
        return phys

    def pieces(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """(virtual start, virtual end, physical start) of each mapped piece of
        [start, end), in order; unmapped gaps are left out."""
        i = max(bisect.bisect_right(self._starts, start) - 1, 0)
        out = []
        for e in self.extents[i:]:
            if e.start >= end:
                break
            if e.end > start:
                a, b = max(e.start, start), min(e.end, end)
                out.append((a, b, e.phys + (a - e.start)))
        return out

    def virtual(self, phys: int) -> int | None:
        """The virtual address physical address phys stands for, if any."""
        for e in self.extents:
            if e.phys <= phys < e.phys + (e.end - e.start):
                return e.start + (phys - e.phys)
        return None

    def forget(self, start: int, end: int) -> None:
        """Virtual [start, end) is unmapped: split its extents, free the physical pages."""
        self._placed.clear()
        i = max(bisect.bisect_right(self._starts, start) - 1, 0)
        old, new = [], []
        for e in self.extents[i:]:
            if e.start >= end:
                break
            if e.end <= start:
                continue
            a, b = max(e.start, start), min(e.end, end)
            self.space.release(e.phys + (a - e.start), b - a)
            old.append(e)
            if e.start < a:
                new.append(Extent(e.start, a, e.phys))
            if b < e.end:
                new.append(Extent(b, e.end, e.phys + (b - e.start)))
        for e in old:
            j = bisect.bisect_left(self._starts, e.start)
            del self.extents[j], self._starts[j]
        for e in new:
            j = bisect.bisect_left(self._starts, e.start)
            self.extents.insert(j, e)
            self._starts.insert(j, e.start)
