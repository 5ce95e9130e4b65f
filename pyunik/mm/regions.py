"""The CPU engine's regions: which guest ranges Unicorn maps, with what access.

Layer: mm/, under AddressSpace (which says what each guest page is); calls only the
Engine (cpu/), never unicorn directly.

Unicorn keeps one region per mapping call, and its costs (measured with unicorn 2.1.4
on bare map, unmap and protect calls; benchmarks/run.py row 8 measures the result) set
the policy here:
- mapping and unmapping get slower as regions pile up (~15 us with 10 regions, ~0.5 ms
  with 300, ~2 ms with 600), so neighbouring ranges with equal access whose host
  memory is contiguous share one region;
- unmapping a region, or splitting one by changing the access of part of it, flushes
  the CPU's TLB page by page (~70 ns a page: 20 ms for 1 GiB), so a neighbour is
  absorbed into a new region only while it is small (MERGE_LIMIT), and pieces left
  over are merged in one pass only when many have piled up (compact);
- changing access costs no Unicorn call at all: the CPU runs with paging on and the
  engine keeps access in the page tables (cpu/engine.py map_host), so a range the
  guest unmaps stays a region with no access when its host memory stays where it is
  (`hide`): malloc's munmap and mmap at recurring addresses become page-table flips
  (compaction drops such regions again). A guest touch there still faults as Linux
  would, and the kernel never reads guest memory through the engine without asking
  the VMAs first (mm/usermem.py).

`regions` holds runs of pages with one access and contiguous host memory: each lies
in one Unicorn region and they tile Unicorn's regions exactly (tests check both, and
each page's access in the page tables). An access change cuts a run (`_cut`) but
never a Unicorn region; an unmap cuts both.
"""

from __future__ import annotations

import bisect

MERGE_LIMIT = 4 << 20     # absorb a neighbour into a new region only up to this size
COMPACT_MIN = 32          # never compact below this many regions


def overlapping(items: list, starts: list[int], start: int, end: int) -> list:
    """The items of a sorted list of non-overlapping ranges (each with .start and .end;
    starts: their starts) that overlap [start, end). Regions and VMAs both use it."""
    i = max(bisect.bisect_right(starts, start) - 1, 0)
    j = bisect.bisect_left(starts, end, i)
    return [x for x in items[i:j] if x.end > start]


class Region:
    """One Unicorn region: guest [start, end) shows host memory at host with prot."""

    __slots__ = ("start", "end", "prot", "host")

    def __init__(self, start: int, end: int, prot: int, host: int):
        self.start = start
        self.end = end
        self.prot = prot          # Linux PROT_* bits (0: mapped, no access)
        self.host = host          # host address of self.start

    def host_at(self, addr: int) -> int:
        return self.host + (addr - self.start)

    def __repr__(self) -> str:
        return "Region(%#x-%#x prot %d)" % (self.start, self.end, self.prot)


class EngineRegions:
    """The Unicorn regions of one engine, kept few and reused."""

    def __init__(self, engine):
        self.engine = engine
        self.regions: list[Region] = []     # sorted by start, never overlapping
        self._starts: list[int] = []
        self._compact_at = COMPACT_MIN

    def __len__(self) -> int:
        return len(self.regions)

    # ---- what the address space asks for -------------------------------------------------

    def show(self, start: int, end: int, prot: int, host: int) -> None:
        """Guest [start, end) shows host memory from host with access prot."""
        regions = self.regions
        i = bisect.bisect_right(self._starts, start) - 1
        if i >= 0:
            r = regions[i]
            if end <= r.end and r.host + (start - r.start) == host:
                # The common case (an mprotect, a mapping made again where its
                # region stayed): one run already shows these very pages; it is
                # cut where the access changes, in place.
                old = r.prot
                if old != prot:
                    self.engine.protect(start, end - start, prot, old)
                    if r.start < start:
                        left, r = r, Region(start, r.end, old, host)
                        left.end = start
                        i += 1
                        regions.insert(i, r)
                        self._starts.insert(i, start)
                    if end < r.end:
                        regions.insert(i + 1, Region(end, r.end, old, r.host + (end - r.start)))
                        self._starts.insert(i + 1, end)
                        r.end = end
                    r.prot = prot
                    if len(regions) > self._compact_at:
                        self.compact()
                return
        here = self._overlapping(start, end)
        unmapped = False
        for r in here:
            a = max(r.start, start)
            if r.host_at(a) != host + (a - start):
                self._unmap(a, min(r.end, end))     # other host memory: not reusable
                unmapped = True
        if unmapped:
            here = self._overlapping(start, end)
        gaps = []
        pos = start
        for r in here:
            if r.start > pos:
                gaps.append((pos, r.start))
            pos = r.end
        if pos < end:
            gaps.append((pos, end))
        self._set_access(start, end, prot, here)
        for a, b in gaps:
            self._map(a, b, prot, host + (a - start))
        self._maybe_compact()

    def hide(self, start: int, end: int) -> list[int] | None:
        """No access to [start, end), keeping the regions there for reuse: the host
        memory behind them stays mapped on the host (AddressSpace's promise).
        Returns the pages of the range the guest touched since their entries were
        written fresh, when the engine could tell for each run (Engine.protect);
        else None."""
        # The common case (a munmap, a PROT_NONE mapping or mprotect where regions
        # stayed): the runs there lie wholly inside [start, end), so none is cut;
        # those with access lose it, one engine call per neighbouring run of them.
        regions = self.regions
        i = bisect.bisect_right(self._starts, start) - 1
        if i < 0 or regions[i].end <= start:
            i += 1
        n = len(regions)
        j = i
        while j < n:
            r = regions[j]
            if r.start >= end:
                break
            if r.start < start or r.end > end:
                self._set_access(start, end, 0)      # a run to cut
                self._maybe_compact()
                return None
            j += 1
        a, b, old = 0, -1, 0                # the run losing access: [a, b), its union
        touched: list[int] | None = []
        while i < j:
            r = regions[i]
            if r.prot:
                if r.start != b:
                    if old:
                        more = self.engine.protect(a, b - a, 0, old)
                        touched = None if more is None or touched is None else touched + more
                    a, old = r.start, 0
                b = r.end
                old |= r.prot
                r.prot = 0
            i += 1
        if old:
            more = self.engine.protect(a, b - a, 0, old)
            if more is None or touched is None:
                return None
            return more if not touched else touched + more
        return touched

    def remove(self, start: int, end: int) -> None:
        """Unmap [start, end) from the engine: the host memory behind it goes away,
        or held translated code that must not be found again."""
        for r in self._overlapping(start, end):
            self._unmap(max(r.start, start), min(r.end, end))

    def remove_all(self) -> None:
        for r in list(self.regions):
            self._unmap(r.start, r.end)

    def forget_all(self) -> None:
        """No regions, without asking the engine: it is being closed (uc_close)."""
        self.regions.clear()
        self._starts.clear()

    def compact(self) -> None:
        """Merge every run of adjacent regions with equal access and contiguous host
        memory into one region, and unmap the regions with no access (kept for reuse;
        when they pile up, they cost every other call more than they save)."""
        for r in [r for r in self.regions if not r.prot]:
            self._unmap(r.start, r.end)
        i = 0
        while i < len(self.regions):
            j = i + 1
            while j < len(self.regions) and self._joins(self.regions[j - 1], self.regions[j]):
                j += 1
            if j - i > 1:
                first, last = self.regions[i], self.regions[j - 1]
                start, end, prot, host = first.start, last.end, first.prot, first.host
                for r in self.regions[i:j]:
                    self.engine.unmap(r.start, r.end - r.start)
                del self.regions[i:j], self._starts[i:j]
                self.engine.map_host(start, end - start, prot, host)
                self._insert(Region(start, end, prot, host))
            i += 1
        self._compact_at = max(COMPACT_MIN, 2 * len(self.regions))

    # ---- bookkeeping mirrored on the engine ---------------------------------------------------

    @staticmethod
    def _joins(left: Region, right: Region) -> bool:
        return left.end == right.start and left.prot == right.prot \
            and left.host_at(left.end) == right.host

    def _maybe_compact(self) -> None:
        if len(self.regions) > self._compact_at:
            self.compact()

    def _overlapping(self, start: int, end: int) -> list[Region]:
        return overlapping(self.regions, self._starts, start, end)

    def _insert(self, r: Region) -> None:
        i = bisect.bisect_left(self._starts, r.start)
        self.regions.insert(i, r)
        self._starts.insert(i, r.start)

    def _delete(self, r: Region) -> None:
        i = bisect.bisect_left(self._starts, r.start)
        del self.regions[i], self._starts[i]

    def _cut(self, addr: int) -> None:
        """Split the region containing addr strictly inside at addr, as Unicorn does
        when an unmap or protect starts or ends there."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0:
            return
        r = self.regions[i]
        if r.start < addr < r.end:
            self._insert(Region(addr, r.end, r.prot, r.host_at(addr)))
            r.end = addr

    def _set_access(self, start: int, end: int, prot: int, here: list | None = None) -> None:
        """prot for every region in [start, end) that has another, one engine call
        per run of neighbouring regions (here: those regions, when the caller has
        just listed them)."""
        if here is None:
            # the regions from the one holding start on, walked in place (most
            # calls find every one with prot already, or one to change)
            regions = self.regions
            i = max(bisect.bisect_right(self._starts, start) - 1, 0)
            here = []
            while i < len(regions) and regions[i].start < end:
                r = regions[i]
                if r.prot != prot and r.end > start:
                    here.append(r)
                i += 1
        run = None
        for r in here:
            if r.prot == prot:
                continue
            a = r.start if r.start > start else start
            b = r.end if r.end < end else end
            if run is not None and run[1] == a:
                run[1] = b
                run[2] |= r.prot
                continue
            if run is not None:
                self._protect(run[0], run[1], prot, run[2])
            run = [a, b, r.prot]
        if run is not None:
            self._protect(run[0], run[1], prot, run[2])

    def _protect(self, start: int, end: int, prot: int, old: int) -> None:
        """prot for [start, end), whose regions' accesses had the union old (the
        engine then need not read the page tables to learn them)."""
        self.engine.protect(start, end - start, prot, old)
        self._cut(start)
        self._cut(end)
        regions = self.regions
        i = bisect.bisect_left(self._starts, start)
        while i < len(regions) and regions[i].start < end:
            regions[i].prot = prot
            i += 1

    def _unmap(self, start: int, end: int) -> None:
        self.engine.unmap(start, end - start)
        self._cut(start)
        self._cut(end)
        for r in self._overlapping(start, end):
            self._delete(r)

    def _map(self, start: int, end: int, prot: int, host: int) -> None:
        """Map a range no region covers, absorbing small neighbours it joins."""
        new = Region(start, end, prot, host)
        i = bisect.bisect_left(self._starts, start)
        left = self.regions[i - 1] if i > 0 else None
        right = self.regions[i] if i < len(self.regions) else None
        if left is not None and self._joins(left, new) \
                and left.end - left.start <= MERGE_LIMIT:
            self.engine.unmap(left.start, left.end - left.start)
            self._delete(left)
            new.start, new.host = left.start, left.host
        if right is not None and self._joins(new, right) \
                and right.end - right.start <= MERGE_LIMIT:
            self.engine.unmap(right.start, right.end - right.start)
            self._delete(right)
            new.end = right.end
        self.engine.map_host(new.start, new.end - new.start, prot, new.host)
        self._insert(new)
