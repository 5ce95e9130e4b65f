"""Memory system calls: argument checks, then the AddressSpace (mm/) does the work."""

from __future__ import annotations

import os
from errno import EACCES, EBADF, EINVAL, ENODEV, ENOMEM, EOVERFLOW, EPERM

from ...abi import linux as L
from ...errors import KernelError
from ...mm.address_space import page_up


MAX_LFS_FILESIZE = (1 << 63) - 1


def sys_mmap(t, addr, length, prot, flags, fd, offset):
    """mmap(2): anonymous and file mappings. Files the host can map (ramfs, memfd,
    image files) share their pages with read()/write(); other files (hostfs) are
    copied at mmap time, their MAP_SHARED writes going back at msync and munmap."""
    if offset & ~L.PAGE_MASK:
        raise KernelError(EINVAL)
    if flags & L.MAP_ANONYMOUS:
        return t.mm.mmap(addr, length, prot, flags)
    f = t.process.fds.get(fd)            # EBADF first, as Linux checks the fd first
    if f.flags & L.O_PATH:
        raise KernelError(EBADF)
    inode = getattr(f, "inode", None)
    if inode is None or inode.is_dir:
        raise KernelError(ENODEV)
    if getattr(inode, "mmap_anonymous", False):
        return t.mm.mmap(addr, length, prot, flags | L.MAP_ANONYMOUS)
    if not inode.is_regular:
        raise KernelError(ENODEV)
    if not f.readable:
        raise KernelError(EACCES)
    shared = flags & L.MAP_TYPE in (L.MAP_SHARED, L.MAP_SHARED_VALIDATE)
    if shared and prot & L.PROT_WRITE and not f.writable:
        raise KernelError(EACCES)
    size = page_up(length)
    if length and (offset & 0xFFFFFFFFFFFFFFFF) > MAX_LFS_FILESIZE - size:
        raise KernelError(EOVERFLOW)
    may_write = f.writable or not shared
    source = inode.mmap_source(shared and f.writable, offset + size)
    start = t.mm.mmap(addr, length, prot, flags)
    if source is not None:
        # Map the host file only where it has pages: touching a host mapping past
        # the end of its file would fault pyunik itself. Pages wholly past the end
        # stay anonymous zeros (Linux would raise SIGBUS there).
        host_fd, host_offset = source[0], source[1] + offset
        backed = min(size, page_up(max(0, os.fstat(host_fd).st_size - host_offset)))
        if backed:
            t.mm.unmap_range(start, start + backed)
            t.mm.map_file(start, backed, prot, flags, host_fd, host_offset, may_write)
    else:
        data_size = min(size, max(0, inode.size - offset))
        if data_size:
            t.mm.engine.write(start, inode.read(offset, data_size))
    path = getattr(f, "path", None)
    t.mm.name_file_mapping(start, size, inode, offset,
                           path.text().decode(errors="replace") if path else "")
    if not may_write:
        for v in t.mm.overlapping(start, start + size):
            v.may_write = False
    return start


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


# ---- locking pages in memory ----------------------------------------------------------------

MLOCK_ONFAULT = 1
MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT = 1, 2, 4


def _lock_range(t, addr, length, locking=True):
    """The checks mlock and munlock share: a page range wholly mapped; locking also
    needs RLIMIT_MEMLOCK room without privilege."""
    start = addr & L.PAGE_MASK
    end = page_up(addr + length)
    if end < start:
        raise KernelError(EINVAL)
    if not t.mm.covered(start, end):
        raise KernelError(ENOMEM)
    if not locking:
        return 0
    limit = t.process.rlimits[L.RLIMIT_MEMLOCK][0]
    if t.process.euid != 0 and end - start > limit:
        raise KernelError(ENOMEM if limit else EPERM)
    return 0


def sys_mlock(t, addr, length):
    """mlock(2): the range is checked as Linux checks it; the host is not asked to pin
    the pages (guest memory is already resident host memory, lazily committed)."""
    return _lock_range(t, addr, length)


def sys_mlock2(t, addr, length, flags):
    """mlock2(2): MLOCK_ONFAULT or 0."""
    if flags & ~MLOCK_ONFAULT:
        raise KernelError(EINVAL)
    return _lock_range(t, addr, length)


def sys_munlock(t, addr, length):
    """munlock(2)."""
    return _lock_range(t, addr, length, locking=False)


def sys_mlockall(t, flags):
    """mlockall(2): MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT (not alone)."""
    if not flags or flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) or flags == MCL_ONFAULT:
        raise KernelError(EINVAL)
    if t.process.euid != 0 and t.process.rlimits[L.RLIMIT_MEMLOCK][0] == 0:
        raise KernelError(EPERM)
    return 0


def sys_munlockall(t):
    """munlockall(2)."""
    return 0
