"""Memory system calls: argument checks, then the AddressSpace (mm/) does the work."""

from __future__ import annotations

from errno import EINVAL, ENODEV

from ...abi import linux as L
from ...errors import KernelError


def sys_mmap(t, addr, length, prot, flags, fd, offset):
    """mmap(2): anonymous mappings; file mappings need the VFS (ENODEV for now)."""
    if offset & ~L.PAGE_MASK:
        raise KernelError(EINVAL)
    if not flags & L.MAP_ANONYMOUS:
        t.process.fds.get(fd)            # EBADF first, as Linux checks the fd first
        raise KernelError(ENODEV)
    return t.mm.mmap(addr, length, prot, flags)


def sys_munmap(t, addr, length):
    """munmap(2): any part of any mappings; unmapped pages in the range are fine."""
    t.mm.munmap(addr, length)
    return 0


def sys_mprotect(t, addr, length, prot):
    """mprotect(2): splits mappings; a hole in the range is ENOMEM."""
    t.mm.mprotect(addr, length, prot)
    return 0


def sys_brk(t, addr):
    """brk(2): returns the new break, or the old one when it cannot move."""
    return t.mm.do_brk(addr)


def sys_mremap(t, old_address, old_size, new_size, flags, new_address):
    """mremap(2): shrink, grow in place, MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP."""
    return t.mm.mremap(old_address, old_size, new_size, flags, new_address)


def sys_madvise(t, addr, length, advice):
    """madvise(2): MADV_DONTNEED zeroes private anonymous pages; other advice is a hint."""
    t.mm.madvise(addr, length, advice)
    return 0


def sys_mincore(t, addr, length, vec):
    """mincore(2): one byte per page, 1 where the host holds the page in memory."""
    pages = t.mm.mincore(addr, length)
    t.mm.write(vec, pages)
    return 0


def sys_msync(t, addr, length, flags):
    """msync(2): checks the range and flags; anonymous memory has nothing to write."""
    t.mm.msync(addr, length, flags)
    return 0
