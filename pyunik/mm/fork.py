"""fork(2) of an address space: the child's copy of every VMA (Linux's dup_mmap).

Layer: mm. A mixin of AddressSpace (mm/address_space.py), whose VMAs, host windows
and heap reserve it copies; calls mm/host.py for the host memory and reads
mm/fork_advice.py's VMA flags.
"""

from __future__ import annotations

from errno import ENOMEM

from ..abi import linux as L
from ..errors import KernelError
from . import fork_advice, host
from .brk import HEAP_RESERVE
from .vma import VMA


class Fork:
    """AddressSpace's copy for fork(2) (a mixin of mm/address_space.py)."""

    def fork(self, engine):
        """A copy of this address space on engine (a new CPU), for a child process
        (Linux's dup_mmap): every VMA at the same place with the same protection;
        private pages copied now (only those the host holds: pages never touched stay
        zero-fill, so a sparse mapping costs nothing), MAP_SHARED pages shared (the
        child maps the very same host pages: host.share), the brk, the stack and
        argument bounds kept; MADV_DONTFORK's VMAs left out, MADV_WIPEONFORK's given
        zero pages (mm/fork_advice.py). The copy is eager, not copy-on-write:
        benchmarks/README.md gives its cost."""
        kept = [v for v in self.vmas if not v.vm_flags & fork_advice.VM_DONTCOPY]
        child_mapped = self.mapped - sum(v.end - v.start for v in self.vmas
                                         if v.vm_flags & fork_advice.VM_DONTCOPY)
        self._charge(child_mapped)             # the copy counts against the limit too
        child = type(self)(engine, self.budget)
        for name in ("mmap_base", "start_brk", "brk", "start_stack", "_free_below"):
            setattr(child, name, getattr(self, name))
        copies = []
        try:
            for v in kept:
                copies.append(child._copy_of(v, self._heap))
        except host.HostMemoryError:
            child._replace([], copies)
            child.free_all()
            raise KernelError(ENOMEM) from None
        child._replace([], copies)
        child.mapped = child_mapped
        for v in copies:
            child._engine_map(v)
        return child

    def _copy_of(self, v: VMA, parent_heap) -> VMA:
        """v of the parent as this (the child's) VMA, its host memory made (see fork)."""
        size = v.end - v.start
        shared = v.flags & L.MAP_TYPE != L.MAP_PRIVATE
        if v.reserve is not None and v.reserve is parent_heap:
            if self._heap is None:
                self._heap = host.HostReserve(HEAP_RESERVE)
            reserve = self._heap
            dst = reserve.commit(v.host - parent_heap.base, size)
        else:
            dst = self.windows.host_for(v.start, size)
            reserve = self.windows if dst is not None else None
        if shared:
            ptr = host.share(v.host, size, dst)
        else:
            ptr = dst if dst is not None else host.allocate(size)
            if v.vm_flags & fork_advice.VM_WIPEONFORK:
                pass                               # MADV_WIPEONFORK: zero pages
            elif v.host_backed:
                host.copy(ptr, v.host, size)       # a file's pages: read them all
            else:
                host.copy_populated(ptr, v.host, size)
        w = VMA(v.start, v.end, v.prot, v.flags, ptr, v.name, reserve, v.file, v.offset,
                v.may_write, v.host_backed and shared, v.shm if shared else None,
                v.shm_offset)
        w.code, w.vm_flags, w.written = v.code, v.vm_flags, v.written
        return w
