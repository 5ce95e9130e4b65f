"""madvise(2), mincore(2) and msync(2) on an AddressSpace.

Layer: mm. A mixin of AddressSpace (mm/address_space.py), whose VMAs it reads; calls
mm/host.py for the host pages behind them, mm/fork_advice.py for the advice fork
reads and mm/punch.py for MADV_REMOVE. Checked against Linux's mm/madvise.c,
mm/mincore.c and mm/msync.c.
"""

from __future__ import annotations

import ctypes
from errno import EINVAL, ENOMEM

from ..abi import linux as L
from ..errors import KernelError
from . import fork_advice, host
from .vma import VMA, own_pages, page_up


class Advice:
    """madvise, mincore and msync for AddressSpace (see the module docstring)."""


    def madvise(self, addr: int, length: int, advice: int) -> None:
        if addr & ~L.PAGE_MASK:
            raise KernelError(EINVAL)
        if advice not in L.MADV_NAMES:
            raise KernelError(EINVAL)
        size = page_up(length)
        if size == 0:
            return
        end = addr + size
        if advice in fork_advice.FORK_ADVICE:
            fork_advice.advise(self, addr, end, advice)
            return
        if advice == L.MADV_REMOVE:
            from . import punch         # (imported by the programs that punch holes)
            punch.remove(self, addr, end)
            return
        if not self.covered(addr, end):
            raise KernelError(ENOMEM)
        vmas = self.overlapping(addr, end)
        if advice == L.MADV_FREE and any(v.file is not None or v.shm is not None
                                         or v.flags & L.MAP_TYPE != L.MAP_PRIVATE
                                         for v in vmas):
            raise KernelError(EINVAL)   # madvise_free_single_vma: private anonymous only
        if advice == L.MADV_DONTNEED:
            # Private anonymous pages read back as zero; shared ones keep their
            # contents (host shared memory behaves exactly so); a private mapping of
            # a file reads the file again (a host-mapped file's host pages do so by
            # themselves, a copied file's pages are filled again from it).
            for v in vmas:
                a, b = max(v.start, addr), min(v.end, end)
                host.discard(v.host_at(a), b - a)
                if v.file is not None and own_pages(v):
                    self._refill_from_file(v, a, b)
        # Every other
        # advice (WILLNEED, SEQUENTIAL, HUGEPAGE, MERGEABLE, COLD, ...) is a hint that
        # changes nothing a program can see, and Linux may ignore it too.

    def _refill_from_file(self, v: VMA, a: int, b: int) -> None:
        """The file's bytes back into [a, b) of v, a private mapping of a copied file
        (mm/mmap_file.py's fill, on pages just discarded)."""
        offset = v.offset + (a - v.start)
        size = min(b - a, max(0, v.file.size - offset))
        if size <= 0:
            return
        data = v.file.read(offset, size)
        if v.prot & 7:
            self.engine.write(a, data)
        else:
            ctypes.memmove(v.host_at(a), data, len(data))

    def mincore(self, addr: int, length: int) -> bytes:
        if addr & ~L.PAGE_MASK:
            raise KernelError(EINVAL)
        size = page_up(length)
        end = addr + size
        if end > L.TASK_SIZE:
            raise KernelError(ENOMEM)
        if not self.covered(addr, end):
            raise KernelError(ENOMEM)
        out = bytearray()
        for v in self.overlapping(addr, end):
            a, b = max(v.start, addr), min(v.end, end)
            out += bytes(x & 1 for x in host.residency(v.host_at(a), b - a))
        return bytes(out)

    def msync(self, addr: int, length: int, flags: int) -> None:
        if addr & ~L.PAGE_MASK:
            raise KernelError(EINVAL)
        if flags & ~(L.MS_ASYNC | L.MS_SYNC | L.MS_INVALIDATE):
            raise KernelError(EINVAL)
        if flags & L.MS_ASYNC and flags & L.MS_SYNC:
            raise KernelError(EINVAL)
        end = addr + page_up(length)
        if not self.covered(addr, end):
            raise KernelError(ENOMEM)
        self.write_back(addr, end)
        if flags & L.MS_SYNC:
            # a host file mapped shared (-v): its pages are the host's page cache,
            # which MS_SYNC must get to the disk as Linux's would
            for v in self.overlapping(addr, end):
                if v.host_backed and v.flags & L.MAP_TYPE != L.MAP_PRIVATE:
                    a, b = max(v.start, addr), min(v.end, end)
                    host.sync_file_pages(v.host_at(a), b - a)
