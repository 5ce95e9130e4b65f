"""brk(2) on an AddressSpace: the break, and the heap pages behind it in a host
reserve of their own.

Layer: mm. A mixin of AddressSpace (mm/address_space.py), whose VMAs and engine
regions it changes; calls mm/host.py for the heap's host reserve. BrkArea is the break
of one program of several sharing an address space (kernel/apps.py).
"""

from __future__ import annotations

from ..abi import linux as L
from . import host
from .vma import VMA, page_up

HEAP_RESERVE = 1 << 32             # host address space set aside for brk


class Brk:
    """brk for AddressSpace (see the module docstring)."""

    def set_initial_brk(self, addr: int) -> None:
        self.start_brk = self.brk = page_up(addr)

    def do_brk(self, requested: int, area: "BrkArea | None" = None) -> int:
        """brk(2): move the break, returning the new one, or the old one on failure.
        area: a program's own break in a shared address space (kernel/apps.py);
        None: this address space's."""
        a = self if area is None else area
        if requested < a.start_brk:
            return a.brk
        new_top, old_top = page_up(requested), page_up(a.brk)
        if new_top == old_top:
            a.brk = requested
            return a.brk
        if requested <= a.brk:
            self.unmap_range(new_top, old_top)
            a.brk = requested
            return a.brk
        # Growing: the new pages (and a guard page) must be free, and fit the reserve.
        if new_top - a.start_brk > HEAP_RESERVE \
                or not self.is_free(old_top, new_top + L.PAGE_SIZE) \
                or self.budget.used + (new_top - old_top) > self.budget.limit:
            return a.brk
        try:
            self._grow_heap(a, old_top, new_top)
        except host.HostMemoryError:
            return a.brk
        a.brk = requested
        return a.brk

    def _grow_heap(self, a, old_top: int, new_top: int) -> None:
        if a._heap is None:
            a._heap = host.HostReserve(HEAP_RESERVE)
        heap = a._heap
        offset = old_top - a.start_brk
        ptr = heap.commit(offset, new_top - old_top)
        last = self.find(old_top - 1) if old_top > a.start_brk else None
        if last is not None and last.reserve is heap and last.prot == 3 \
                and not last.vm_flags:
            grown = last.piece(last.start, new_top)      # extend the last heap VMA
            self._replace([last], [grown])
        else:
            v = VMA(old_top, new_top, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS, ptr, "[heap]", heap)
            self._replace([], [v])
        self.regions.show(old_top, new_top, 3, ptr)
        self.mapped += new_top - old_top


class BrkArea:
    """A program's own break (start_brk, brk) and the host reserve its heap pages
    live in, for a program sharing an address space with others (kernel/apps.py);
    AddressSpace.do_brk moves it. The AddressSpace lists it (brk_areas) and gives
    the reserve back with the owner's mappings or with everything."""

    def __init__(self, owner, end_of_image: int):
        self.owner = owner
        self.start_brk = self.brk = page_up(end_of_image)
        self._heap: host.HostReserve | None = None

    def release(self) -> None:
        if self._heap is not None:
            self._heap.release()
            self._heap = None
