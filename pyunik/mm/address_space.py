"""A process's address space: its VMAs and the Linux memory calls on them.

Layer: mm/; calls mm/host.py (host memory), mm/shared.py (shared memory objects),
mm/regions.py (the CPU engine's regions), mm/kernel_area.py (the kernel's mappings,
put into each new engine) and, through them, the Engine (cpu/). The
VMA is mm/vma.py's; mremap(2) is mm/remap.py's, brk(2) mm/brk.py's, fork(2)'s copy
mm/fork.py's and madvise(2), mincore(2) and msync(2) are mm/advice.py's (mixins of
AddressSpace).

The `AddressSpace` owns a sorted list of `VMA`s. Each VMA is a run of guest pages
with one protection, backed by host memory (`mm/host.py`) at `vma.host`, the host
address of `vma.start`; splitting a VMA splits only this bookkeeping, both halves keep
pointing into the same host mapping. Most guest memory lives in host windows that
mirror guest address space (`host.HostWindows`), so neighbouring mappings are
neighbours on the host and a range mapped again gets the same host pages.

The CPU engine sees the same pages through `regions` (mm/regions.py): every VMA whose
protection is not PROT_NONE is shown with its protection; a PROT_NONE or unmapped
range either has no engine region or a region with no access (kept for reuse), so a
guest touch faults as Linux would. The VMAs, never the engine, say what is mapped:
the usermem helpers ask them before touching guest memory.

Invariants:
- `vmas` is sorted by start and VMAs never overlap;
- `mapped` is the sum of VMA sizes and never exceeds `limit` (the `-m` size): a guest
  asking for more gets ENOMEM, never the host's OOM killer;
- host pages of a window or of the heap reserve that no VMA uses read as zero (given
  back to the host, or a few zeroed in place: `_keep_zeroed`);
- a range that ever held executable pages (`vma.code`) leaves the engine for good when
  it is unmapped, so no translated code outlives its pages.

The methods named after system calls implement their Linux semantics (checked
against mm/mmap.c, mm/mprotect.c and, in the mixins, mm/mremap.c and mm/madvise.c)
and raise KernelError.
"""

from __future__ import annotations

import bisect
from errno import EACCES, EEXIST, EFAULT, EINVAL, ENOMEM, EOPNOTSUPP, EPERM

from ..abi import linux as L
from ..errors import KernelError
from . import host
from .advice import Advice
from .brk import HEAP_RESERVE, BrkArea, Brk  # noqa: F401 (BrkArea re-exported)
from .fork import Fork
from .kernel_area import KernelArea
from .regions import EngineRegions, overlapping
from .remap import Remap
from .shared import SHMEM_ANON_NAME, SharedMemory
from .usermem import UserMemory
from .vma import VMA, own_pages, page_down, page_up, prot_string  # noqa: F401 (re-exported)

MMAP_MIN_ADDR = L.MMAP_MIN_ADDR     # /proc/sys/vm/mmap_min_addr
STACK_TOP = L.TASK_SIZE            # the initial stack ends here (no randomization)
STACK_SIZE = L.STK_LIM             # RLIMIT_STACK's default
# Linux: TASK_SIZE - max(rlimit stack, 128 MiB) - rnd (random under ASLR); rnd here is
# 128 pages, so that the first mapping's top page (a thread's stack) and the stack's
# top page, 2^15 pages apart with none, do not share a slot of the CPU's direct-mapped
# TLB (QEMU's: page number mod 256 or more; 66 slow-path accesses a create + join).
MMAP_BASE = STACK_TOP - (128 << 20) - 128 * L.PAGE_SIZE
PIE_BASE = L.ELF_ET_DYN_BASE       # where Linux puts an ET_DYN main program
_MAP_TYPE, _MAP_PRIVATE = L.MAP_TYPE, L.MAP_PRIVATE
_PAGE_OFFSET, _PAGE_MASK, _TASK_SIZE = L.PAGE_SIZE - 1, L.PAGE_MASK, L.TASK_SIZE
_MPROTECT_BITS = 7 | 8 | L.PROT_GROWSDOWN | L.PROT_GROWSUP     # what mprotect accepts
_bisect_right, _bisect_left = bisect.bisect_right, bisect.bisect_left
KEEP_MAX = 64 * L.PAGE_SIZE        # munmap zeroes pages in place (_keep_zeroed) of so
KEEP_PAGES = 4                     # large a range, when it used at most so many pages
# mmap flags that change nothing for fresh private pages placed by find_free
_PLAIN_FLAGS = L.MAP_ANONYMOUS | L.MAP_STACK | L.MAP_NORESERVE


def _covers(vmas: list[VMA], start: int, end: int, prot: int = 0,
            readable: bool = False) -> bool:
    """Do vmas, the VMAs overlapping [start, end) in order, map every page of it
    (see AddressSpace.covered)?"""
    pos = start
    for v in vmas:
        if v.start > pos or v.prot & prot != prot or (readable and not v.prot & 7):
            return False
        pos = v.end
    return pos >= end


class MemoryBudget:
    """The guest memory limit (-m) and what every address space charged to it has
    mapped: one per kernel, shared by all its processes' address spaces, so forking
    never multiplies the limit (a MAP_SHARED mapping counts once per address space
    that maps it). With it goes the kernel's own memory every such address space
    shows (`kernel_area`, mm/kernel_area.py), which counts against no limit."""

    __slots__ = ("limit", "used", "kernel_area")

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0
        self.kernel_area = KernelArea()


class AddressSpace(Advice, Brk, Fork, Remap, UserMemory):
    def __init__(self, engine, limit: "int | MemoryBudget"):
        self.engine = engine
        self.budget = limit if isinstance(limit, MemoryBudget) else MemoryBudget(limit)
        self._mapped = 0
        self.vmas: list[VMA] = []
        self._starts: list[int] = []
        self.mmap_base = MMAP_BASE
        self.start_brk = 0
        self.brk = 0
        # Where the loader put the initial stack (loader/stack.py), for
        # /proc/<pid>/stat; 0 until a program is loaded.
        self.start_stack = 0
        self._heap: host.HostReserve | None = None
        # find_free resumes below a point above which every gap under mmap_base is
        # known to be at most so wide: (point, width), or None to search from the top.
        self._free_below: tuple[int, int] | None = None
        self.windows = host.HostWindows()
        # The last range whose pages munmap zeroed in place and kept (start, end, host
        # address), or None (see _keep_zeroed).
        self._kept: tuple[int, int, int] | None = None
        self.regions = EngineRegions(engine)
        self.budget.kernel_area.install(engine)
        # Several programs in this one address space (kernel/apps.py): the one whose
        # thread runs now, whom new VMAs belong to, and the break areas (BrkArea)
        # of each, given back with the rest.
        self.owner = None
        self.brk_areas: list[BrkArea] = []

    @property
    def kernel_mappings(self) -> list[VMA]:
        """The kernel's mappings above TASK_SIZE (mm/kernel_area.py): in the engine and
        in /proc/<pid>/maps, never in `vmas`."""
        return self.budget.kernel_area.mappings

    # ---- lookup -------------------------------------------------------------------------

    def find(self, addr: int) -> VMA | None:
        """The VMA containing addr, or None."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0 and addr < self.vmas[i].end:
            return self.vmas[i]
        return None

    def overlapping(self, start: int, end: int) -> list[VMA]:
        return overlapping(self.vmas, self._starts, start, end)

    def is_free(self, start: int, end: int) -> bool:
        return not self.overlapping(start, end)

    def covered(self, start: int, end: int, prot: int = 0, readable: bool = False) -> bool:
        """Is every page of [start, end) mapped (with at least the prot bits given;
        readable: with any access at all, as x86-64 reads every page it maps)?"""
        return _covers(self.overlapping(start, end), start, end, prot, readable)

    def _replace(self, old: list[VMA], new: list[VMA]) -> None:
        if old and self._free_below is not None:
            top = freed = 0
            for v in old:
                top, freed = max(top, v.end), freed + v.end - v.start
            for v in new:
                freed -= v.end - v.start
            if top > self._free_below[0] and freed > 0:
                self._free_below = None     # space freed above the search's resume point
        for v in old:
            i = bisect.bisect_left(self._starts, v.start)
            del self.vmas[i], self._starts[i]
        for v in new:
            if v.owner is None:
                v.owner = self.owner
            i = bisect.bisect_left(self._starts, v.start)
            self.vmas.insert(i, v)
            self._starts.insert(i, v.start)

    def _insert(self, v: VMA) -> None:
        """Add v, a new VMA over free pages, and charge its pages (_replace([], [v])
        and `mapped`, for the one VMA a mapping call makes)."""
        if v.owner is None:
            v.owner = self.owner
        i = bisect.bisect_left(self._starts, v.start)
        self.vmas.insert(i, v)
        self._starts.insert(i, v.start)
        size = v.end - v.start
        self._mapped += size
        self.budget.used += size

    def find_free(self, size: int, hint: int = 0) -> int:
        """A free range of size bytes: at the hint if it is free, else top-down below
        mmap_base, as Linux's unmapped_area_topdown does."""
        if hint:
            h = page_down(hint)
            if h >= MMAP_MIN_ADDR and h + size <= L.TASK_SIZE and self.is_free(h, h + size):
                return h
        top, widest = self.mmap_base, 0
        if self._free_below is not None and size > self._free_below[1]:
            top, widest = self._free_below      # no gap above top is that wide
        i = bisect.bisect_left(self._starts, top)
        while i > 0:
            i -= 1
            v = self.vmas[i]
            if v.end <= top:
                if top - v.end >= size:
                    break
                widest = max(widest, top - v.end)
            top = min(top, v.start)
        else:
            if top - MMAP_MIN_ADDR < size:
                raise KernelError(ENOMEM)
        self._free_below = (top, widest)
        return top - size

    # ---- creating and destroying mappings -------------------------------------------------

    @property
    def limit(self) -> int:
        return self.budget.limit

    @property
    def mapped(self) -> int:
        """Bytes this address space maps (its VMAs' sizes), charged to the budget."""
        return self._mapped

    @mapped.setter
    def mapped(self, value: int) -> None:
        self.budget.used += value - self._mapped
        self._mapped = value

    def _charge(self, size: int) -> None:
        if self.budget.used + size > self.budget.limit:
            raise KernelError(ENOMEM)

    def _engine_map(self, v: VMA) -> None:
        """Show v's pages in the engine with v's protection."""
        if v.prot & 7:
            self.regions.show(v.start, v.end, v.prot & 7, v.host)
        else:
            self.regions.hide(v.start, v.end)

    def _engine_unmap(self, v: VMA, start: int, end: int) -> None:
        """Take [start, end) of v out of the engine's reach: a region with no access
        where v's host pages stay (windows, heap), else no region at all."""
        if v.reserve is not None and not v.code:
            self.regions.hide(start, end)
        else:
            self.regions.remove(start, end)

    def map_anonymous(self, start: int, size: int, prot: int, flags: int, name: str = "") -> VMA:
        """Map fresh zeroed pages at [start, start+size), which must be free. Shared
        ones are a new SharedMemory object of their own (shmem_zero_setup), so a
        forked child can map the same pages (`map_same_pages`)."""
        if (flags & L.MAP_TYPE) != L.MAP_PRIVATE:
            self._charge(size)
            try:
                shm = SharedMemory(size, SHMEM_ANON_NAME)
            except host.HostMemoryError:
                raise KernelError(ENOMEM) from None
            return self.map_shared_memory(start, size, prot, flags, shm, 0, name)
        self._charge(size)
        ptr = self.windows.host_for(start, size)
        reserve = self.windows if ptr is not None else None
        try:
            if ptr is None:
                ptr = host.allocate(size)
        except host.HostMemoryError:
            raise KernelError(ENOMEM) from None
        v = VMA(start, start + size, prot & 7, flags, ptr, name, reserve)
        self._insert(v)
        self._engine_map(v)
        return v

    def map_shared_memory(self, start: int, size: int, prot: int, flags: int, shm: SharedMemory,
                          offset: int, name: str = "") -> VMA:
        """Map the pages [offset, offset+size) of a SharedMemory object at [start,
        start+size), which must be free: the very host pages every other mapping of
        the object shows, in this address space or another (shmat, MAP_SHARED)."""
        self._charge(size)
        ptr = self.windows.host_for(start, size)
        reserve = self.windows if ptr is not None else None
        try:
            if ptr is None:
                ptr = shm.map(offset, size)
            else:
                shm.map_at(ptr, offset, size)
        except host.HostMemoryError:
            raise KernelError(ENOMEM) from None
        v = VMA(start, start + size, prot & 7, flags, ptr, name, reserve, shm=shm,
                shm_offset=offset)
        self._insert(v)
        self._engine_map(v)
        return v

    def map_same_pages(self, v: VMA) -> VMA:
        """Map into this address space, at v's addresses and with v's protection,
        flags, name and file, the very host pages that v, a MAP_SHARED VMA of
        another address space, shows: writes through either are seen by both at
        once. [v.start, v.end) must be free here.

        This is what fork does with a MAP_SHARED VMA of the parent (where it copies
        a private one): shared anonymous memory, SysV segments (v.shm), and shared
        mappings of host-mappable files (ramfs, /dev/shm, memfd, host files: the
        host mapping is duplicated with mremap(old_size=0), which Linux allows for
        shared mappings). Futex keys (`futex_identity`) agree between the two, and
        a SysV segment's attach count counts the new VMA. Pages hidden past a
        file's end stay hidden."""
        return self._map_pages_of(v, v.start, v.start, v.end - v.start)

    def _map_pages_of(self, v: VMA, addr: int, at: int, size: int) -> VMA:
        """Map at [at, at+size) (free) the pages that the shared VMA v (of this
        address space or another) shows from its address addr on, with v's
        protection, flags and file."""
        if v.flags & L.MAP_TYPE == L.MAP_PRIVATE or (v.shm is None and not v.host_backed):
            raise ValueError("%r is not shared memory" % (v,))
        delta = addr - v.start
        if v.shm is not None:
            w = self.map_shared_memory(at, size, v.prot, v.flags, v.shm,
                                       v.shm_offset + delta)
        else:
            self._charge(size)
            dst = self.windows.host_for(at, size)
            try:
                ptr = host.share(v.host_at(addr), size, dst)
            except host.HostMemoryError:
                raise KernelError(ENOMEM) from None
            w = VMA(at, at + size, v.prot, v.flags, ptr,
                    reserve=self.windows if dst is not None else None, host_backed=True)
            self._insert(w)
            self._engine_map(w)
        w.file, w.offset, w.name, w.may_write, w.code = v.file, v.offset + delta, v.name, \
            v.may_write, v.code
        if v.file is not None and v.prot & 7:
            valid = page_up(max(0, v.file.size - w.offset))
            if valid < size:
                self.hide_past_end(at + valid, at + size)
        return w

    def futex_identity(self, addr: int) -> tuple:
        """What a shared futex at addr is keyed by (get_futex_key): the memory
        behind the word, so every address space mapping the same pages agrees. A
        shared mapping of a file: its inode and file offset; shared anonymous
        memory or a SysV segment: its SharedMemory object and offset; private
        memory: this address space and the address (Linux's FUT_OFF_MMSHARED key:
        a private futex at the same address does not meet it). EFAULT where
        nothing is mapped."""
        v = self.find(addr)
        if v is None:
            raise KernelError(EFAULT)
        if v.flags & L.MAP_TYPE != L.MAP_PRIVATE:
            offset = v.offset + (addr - v.start)
            if v.file is not None:
                return ("inode", v.file.fs.dev, v.file.ino, offset)
            if v.shm is not None:
                return ("shm", v.shm, v.shm_offset + (addr - v.start))
        return ("mm", id(self), addr)

    def map_file(self, start: int, size: int, prot: int, flags: int, fd: int, offset: int,
                 may_write: bool) -> VMA:
        """Map a host file's pages at [start, start+size), which must be free: the
        pages are the file's own, so the mapping and read()/write() see each other."""
        self._charge(size)
        shared = (flags & L.MAP_TYPE) != L.MAP_PRIVATE
        ptr = self.windows.host_for(start, size)
        reserve = self.windows if ptr is not None else None
        try:
            if ptr is None:
                ptr = host.map_file(fd, offset, size, shared, may_write)
            else:
                host.map_file_at(ptr, fd, offset, size, shared, may_write)
        except host.HostMemoryError:
            raise KernelError(ENOMEM) from None
        v = VMA(start, start + size, prot & 7, flags, ptr, reserve=reserve,
                may_write=may_write or not shared, host_backed=True)
        self._insert(v)
        self._engine_map(v)
        return v

    def unmap_range(self, start: int, end: int) -> None:
        """Remove [start, end) from the address space, giving its host memory back."""
        vmas = self.vmas
        i = bisect.bisect_left(self._starts, start)
        if i < len(vmas) and vmas[i].start == start:
            # The shortest path (a thread's stack and its guard page given back):
            # whole VMAs, neighbours, of a host window's or the heap's own private
            # pages, host memory contiguous, no translated code: no region access
            # left, one madvise, the VMAs dropped in place.
            reserve = vmas[i].reserve
            pos, ptr, j = start, vmas[i].host, i
            while pos < end and j < len(vmas):
                v = vmas[j]
                if v.start != pos or v.host != ptr or v.reserve is not reserve or v.code \
                        or v.host_backed or v.flags & _MAP_TYPE != _MAP_PRIVATE \
                        or v.shm is not None:
                    break
                ptr += v.end - pos
                pos = v.end
                j += 1
            if pos == end and reserve is not None:
                touched = self.regions.hide(start, end)
                written = self._written(vmas[i:j], start, end, touched) \
                    if reserve is self.windows and end - start <= KEEP_MAX else None
                ptr = vmas[i].host
                del vmas[i:j], self._starts[i:j]
                self._mapped -= end - start
                self.budget.used -= end - start
                if self._free_below is not None and end > self._free_below[0]:
                    self._free_below = None     # as _replace says
                if reserve is not self.windows or \
                        not self._keep_zeroed(start, end, ptr, written):
                    reserve.decommit(ptr, end - start, True)
                return
        old, new = [], []
        here = self.overlapping(start, end)
        self.write_back(start, end, here)
        pending = None      # [a, b, v]: pieces of VMAs given back with one call each way
        for v in here:
            a, b = max(v.start, start), min(v.end, end)
            if pending is not None and pending[1] == a and self._give_back_together(pending[2], v):
                pending[1] = b
            else:
                if pending is not None:
                    self._give_back(*pending)
                pending = [a, b, v]
            self.mapped -= b - a
            old.append(v)
            if v.start < a:
                new.append(v.piece(v.start, a))
            if b < v.end:
                new.append(v.piece(b, v.end))
        if pending is not None:
            self._give_back(*pending)
        self._replace(old, new)

    @staticmethod
    def _written(vmas: list[VMA], start: int, end: int, touched: list | None) \
            -> list[int] | None:
        """The pages of [start, end), the whole of these VMAs, that may have been
        written since they were mapped, when each keeps a write log (VMA.log): those
        the guest touched (touched: regions.hide's answer, or None when unknown)
        and those the kernel wrote. None when unknown, or more than KEEP_PAGES."""
        if touched is None:
            return None
        pages, done = touched, None
        for v in vmas:
            log = v.log
            if log is None:
                return None
            if log and log is not done:     # (the pieces of one mapping share one)
                done = log
                for n in log:
                    a = n << 12
                    if start <= a < end and a not in pages:
                        pages.append(a)
        return pages if len(pages) <= KEEP_PAGES else None

    def _keep_zeroed(self, start: int, end: int, ptr: int, written: list | None) -> bool:
        """Zero the few window pages at ptr that [start, end), just unmapped, used
        and keep them rather than give them back: the range is mapped again soon,
        more often than not (a thread's stack), and each page given back would fault
        in afresh there. written: the pages written, when known (`_written`); else
        every page the host holds there is zeroed (/proc/self/pagemap says which:
        host.HostWindows.zero_in_place). One range is kept at a time; the one kept
        before goes back to the host now if still free. False when the range is
        large or used many pages: decommit it then."""
        if end - start > KEEP_MAX:
            return False
        if written is not None:
            self.windows.zero_pages(written)
        elif not self.windows.zero_in_place(start, end - start, KEEP_PAGES):
            return False
        kept, self._kept = self._kept, (start, end, ptr)
        if kept is not None and kept[0] != start and self.is_free(kept[0], kept[1]):
            self.windows.decommit(kept[2], kept[1] - kept[0], True)
        return True

    @staticmethod
    def _give_back_together(v: VMA, w: VMA) -> bool:
        """May w's pieces right after v's leave the engine and go back to the host in
        the same calls as v's (a thread stack and its guard page: one window, host
        memory contiguous, the same kind of pages)?"""
        return v.reserve is not None and w.reserve is v.reserve and not v.code \
            and not w.code and v.host_at(v.end) == w.host and own_pages(v) == own_pages(w)

    def _give_back(self, a: int, b: int, v: VMA) -> None:
        """[a, b) (of v, and of neighbours `_give_back_together` allows) leaves the
        engine and its host memory goes back."""
        self._engine_unmap(v, a, b)
        if v.reserve is not None:
            v.reserve.decommit(v.host_at(a), b - a, own_pages(v))
        else:
            host.release(v.host_at(a), b - a)

    # ---- mmap(2) and friends ----------------------------------------------------------------

    def mmap(self, addr: int, length: int, prot: int, flags: int, source=None,
             backed: int | None = None) -> int:
        """mmap(2). source is None for anonymous memory or a copied file,
        (host fd, offset, may_write) for a file the host can map (the caller checked
        the file and its access), or (SharedMemory, offset) for an object's pages
        (shmat). backed, for a host file: only its first backed bytes (a page
        multiple) are the file's pages, the rest fresh anonymous ones (past the
        file's end)."""
        if source is None and flags & ~_PLAIN_FLAGS == _MAP_PRIVATE \
                and 0 < length <= _TASK_SIZE:
            # The shortest path (a thread's stack, malloc's big blocks): fresh private
            # pages where find_free puts them, in a host window (map_anonymous's and
            # _insert's).
            size = (length + _PAGE_OFFSET) & _PAGE_MASK
            budget = self.budget
            if budget.used + size > budget.limit:
                raise KernelError(ENOMEM)
            start = self.find_free(size, addr)
            ptr = self.windows.host_for(start, size)
            if ptr is not None:
                v = VMA(start, start + size, prot & 7, flags, ptr, "", self.windows)
                v.log = set()       # zero pages, fresh entries (regions.show): VMA.log
                v.owner = self.owner
                i = _bisect_left(self._starts, start)
                self.vmas.insert(i, v)
                self._starts.insert(i, start)
                self._mapped += size
                budget.used += size
                if prot & 7:     # (PROT_NONE: a free range has no access already)
                    self.regions.show(start, start + size, prot & 7, ptr)
                return start
            self.map_anonymous(start, size, prot, flags)
            return start
        kind = flags & L.MAP_TYPE
        if kind not in (L.MAP_SHARED, L.MAP_PRIVATE, L.MAP_SHARED_VALIDATE):
            raise KernelError(EINVAL)
        if kind == L.MAP_SHARED_VALIDATE and flags & ~_VALIDATED_FLAGS:
            raise KernelError(EOPNOTSUPP)
        if length == 0:
            raise KernelError(EINVAL)
        size = page_up(length)
        if size == 0 or size > L.TASK_SIZE:
            raise KernelError(ENOMEM)
        fixed = flags & (L.MAP_FIXED | L.MAP_FIXED_NOREPLACE)
        if fixed:
            if addr & ~L.PAGE_MASK:
                raise KernelError(EINVAL)
            if addr + size > L.TASK_SIZE:
                raise KernelError(ENOMEM)
            if addr < MMAP_MIN_ADDR:
                raise KernelError(EPERM)
            if not self.is_free(addr, addr + size):
                if flags & L.MAP_FIXED_NOREPLACE:
                    raise KernelError(EEXIST)
                replaced = sum(min(v.end, addr + size) - max(v.start, addr)
                               for v in self.overlapping(addr, addr + size))
                self._charge(size - replaced)
                self.unmap_range(addr, addr + size)
            start = addr
        else:
            self._charge(size)
            start = self.find_free(size, addr)
        if source is None:
            self.map_anonymous(start, size, prot, flags)
        elif isinstance(source[0], SharedMemory):
            self.map_shared_memory(start, size, prot, flags, *source)
        else:
            backed = size if backed is None else min(backed, size)
            if backed:
                self.map_file(start, backed, prot, flags, *source)
            if backed < size:
                self.map_anonymous(start + backed, size - backed, prot, flags)
        return start

    def name_file_mapping(self, start: int, size: int, inode, offset: int, name: str) -> None:
        """Record that [start, start+size) maps inode from offset (for write-back and
        /proc/self/maps)."""
        for v in self.overlapping(start, start + size):
            v.file, v.offset, v.name = inode, offset + (v.start - start), name

    def detach_file_pages(self, inode, size: int) -> None:
        """inode is about to shrink to size. Host-mapped pages wholly past the new
        end would fault pyunik itself when touched; they get fresh zero pages
        instead (where Linux would raise SIGBUS in the guest)."""
        key = (inode.fs.dev, inode.ino)
        for v in list(self.vmas):
            if not v.host_backed or v.file is None or (v.file.fs.dev, v.file.ino) != key:
                continue
            cut = v.start + page_up(max(0, size - v.offset))
            if cut >= v.end:
                continue
            start, end, prot, flags = max(cut, v.start), v.end, v.prot, v.flags
            self.unmap_range(start, end)
            self.map_anonymous(start, end - start, prot, flags | L.MAP_ANONYMOUS)
            self.name_file_mapping(start, end - start, inode, v.offset + (start - v.start),
                                   v.name)
            self.hide_past_end(start, end)

    def hide_past_end(self, start: int, end: int) -> None:
        """[start, end) of a file mapping lies wholly past the file's end: no access
        in the engine, so a touch faults and the kernel raises SIGBUS as Linux does
        (kernel/faults.py reads the VMA and the file's size). The host pages behind
        stay zero-fill, ready for `reveal` when the file grows."""
        for v in self.overlapping(start, end):
            a, b = max(v.start, start), min(v.end, end)
            if a < b and v.prot & 7:
                self.regions.hide(a, b)

    def reveal(self, addr: int) -> bool:
        """The page at addr was hidden past a file's end and the file has grown over
        it since: show it with its VMA's access (its zero-fill pages, not the file's:
        a limit of pyunik's). False when the page is not such a hidden page."""
        v = self.find(addr)
        page = addr & L.PAGE_MASK
        if v is None or v.file is None or not v.prot & 7 or self.engine.page_access(page):
            return False
        self.regions.show(page, page + L.PAGE_SIZE, v.prot & 7, v.host_at(page))
        return True

    def munmap(self, addr: int, length: int) -> None:
        if addr & ~L.PAGE_MASK or length == 0:
            raise KernelError(EINVAL)
        size = page_up(length)
        if addr + size > L.TASK_SIZE or size == 0:
            raise KernelError(EINVAL)
        self.unmap_range(addr, addr + size)

    def mprotect(self, addr: int, length: int, prot: int) -> None:
        if addr & _PAGE_OFFSET or prot & ~_MPROTECT_BITS:
            raise KernelError(EINVAL)
        end = addr + ((length + _PAGE_OFFSET) & _PAGE_MASK)
        if end == addr:
            return
        if end < addr or end > _TASK_SIZE:
            raise KernelError(ENOMEM)
        i = _bisect_right(self._starts, addr) - 1
        if i >= 0:
            v = self.vmas[i]
            if end <= v.end:
                # The common case (a thread's stack made writable past its guard
                # page): one VMA holds the range.
                # It is cut in place, keeping its left part, new pieces inserted
                # (set_protection for one VMA, without its lists).
                if prot & 2 and not v.may_write:
                    raise KernelError(EACCES)
                prot &= 7
                if v.prot == prot:
                    return
                if prot:
                    self.regions.show(addr, end, prot, v.host + (addr - v.start))
                else:
                    self.regions.hide(addr, end)
                tail = v.piece(end, v.end) if end < v.end else None
                if v.start < addr:
                    w = v.piece(addr, end, prot)
                    v.end = addr
                    v.view = None                   # made again for the shorter range
                    i += 1
                    self.vmas.insert(i, w)
                    self._starts.insert(i, addr)
                else:
                    if tail is not None:
                        v.view = None
                    if v.prot & 7:
                        v.log = None                        # as piece() says
                    v.end, v.prot = end, prot
                    v.code = v.code or prot & 4 != 0        # as piece() says
                    v.written = v.written or prot & 2 != 0
                if tail is not None:
                    self.vmas.insert(i + 1, tail)
                    self._starts.insert(i + 1, end)
                return
        here = self.overlapping(addr, end)
        if not _covers(here, addr, end):
            # Linux changes the pages before the hole, then fails; pyunik changes none.
            raise KernelError(ENOMEM)
        if prot & L.PROT_WRITE and any(not v.may_write for v in here):
            raise KernelError(EACCES)     # a shared map of a file not open for writing
        self.set_protection(addr, end, prot & 7, here)

    def set_protection(self, start: int, end: int, prot: int, here: list | None = None) -> None:
        """prot for [start, end) (here: the VMAs overlapping it, when the caller has
        just listed them)."""
        old, new = [], []
        for v in self.overlapping(start, end) if here is None else here:
            if v.prot == prot:
                continue
            a, b = max(v.start, start), min(v.end, end)
            if prot:
                self.regions.show(a, b, prot, v.host_at(a))
            else:
                self.regions.hide(a, b)
            old.append(v)
            if v.start < a:
                new.append(v.piece(v.start, a))
            new.append(v.piece(a, b, prot))
            if b < v.end:
                new.append(v.piece(b, v.end))
        self._replace(old, new)

    def release_owned(self, owner) -> None:
        """Unmap every VMA owner made and give its break areas' reserves back (a
        program sharing this address space has exited: kernel/apps.py)."""
        for start, end in [(v.start, v.end) for v in self.vmas if v.owner is owner]:
            self.unmap_range(start, end)
        for a in [a for a in self.brk_areas if a.owner is owner]:
            a.release()
            self.brk_areas.remove(a)

    def write_back(self, start: int, end: int, here: list | None = None) -> None:
        """Copy the pages of shared file mappings in [start, end) to their file
        (here: the VMAs overlapping it, when the caller has just listed them)."""
        for v in self.overlapping(start, end) if here is None else here:
            if v.file is None or v.host_backed or v.flags & L.MAP_TYPE == L.MAP_PRIVATE \
                    or not v.prot & 2:
                continue
            a, b = max(v.start, start), min(v.end, end)
            offset = v.offset + (a - v.start)
            size = max(0, min(b - a, v.file.size - offset))
            if size:
                v.file.write(offset, self.engine.read(a, size))

    def write_back_all(self) -> None:
        """Every shared file mapping's pages written back to their files (msync of
        the whole address space, as its end does)."""
        for v in self.vmas:
            self.write_back(v.start, v.end)

    def free_all(self, close_engine: bool = False) -> None:
        """Give every host page back (the process is gone). close_engine: the engine
        goes too, closed before the host pages are released; Unicorn then drops its
        regions all at once in uc_close instead of one unmap (and TLB flush) each,
        which cost python3's exit ~60 unmaps."""
        self.write_back_all()
        if close_engine:
            self.regions.forget_all()
            self.engine.close()
        else:
            self.regions.remove_all()
        for v in self.vmas:
            if v.reserve is None:
                host.release(v.host, v.end - v.start)
        self._replace(list(self.vmas), [])
        self.mapped = 0
        self._kept = None
        self.windows.release_all()
        if self._heap is not None:
            self._heap.release()
            self._heap = None
        for a in self.brk_areas:
            a.release()
        self.brk_areas = []


_VALIDATED_FLAGS = (L.MAP_TYPE | L.MAP_FIXED | L.MAP_ANONYMOUS | L.MAP_32BIT | L.MAP_GROWSDOWN
                    | L.MAP_DENYWRITE | L.MAP_EXECUTABLE | L.MAP_LOCKED | L.MAP_NORESERVE
                    | L.MAP_POPULATE | L.MAP_NONBLOCK | L.MAP_STACK | L.MAP_HUGETLB
                    | L.MAP_SYNC | L.MAP_FIXED_NOREPLACE)
