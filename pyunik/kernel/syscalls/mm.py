"""Memory system calls: argument checks, then the AddressSpace (mm/) does the work.

Layer: kernel (syscall handlers). Calls mm/address_space.py and mm/mmap_file.py."""

from __future__ import annotations

from errno import EINVAL, ENOMEM, EPERM

from ...abi import linux as L
from ...abi.capability import CAP_IPC_LOCK
from ...abi.mman import MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT
from ...errors import KernelError
from ...mm.address_space import page_up
from ...mm.mmap_file import mmap_file

_PAGE_OFFSET, _MAP_ANONYMOUS = L.PAGE_SIZE - 1, L.MAP_ANONYMOUS
_RLIMIT_AS, _RLIM_INFINITY = L.RLIMIT_AS, L.RLIM_INFINITY


def sys_mmap(t, addr, length, prot, flags, fd, offset):
    """mmap(2): anonymous and file mappings (mm/mmap_file.py says which file maps
    how), within RLIMIT_AS."""
    if offset & _PAGE_OFFSET:
        raise KernelError(EINVAL)
    if flags & _MAP_ANONYMOUS:
        process = t.process
        if process.rlimits[_RLIMIT_AS][0] != _RLIM_INFINITY:
            _may_expand(t, addr, length, flags)
        return process.mm.mmap(addr, length, prot, flags)
    f = t.process.fds.get(fd)            # EBADF first, as Linux checks the fd first
    _may_expand(t, addr, length, flags)
    return mmap_file(t.mm, addr, length, prot, flags, f, offset)


def _may_expand(t, addr, length, flags, grow=None):
    """may_expand_vm: ENOMEM when the address space would pass RLIMIT_AS (pages a
    MAP_FIXED mapping replaces do not count twice)."""
    limit = t.process.rlimits[L.RLIMIT_AS][0]
    if limit == L.RLIM_INFINITY:
        return
    if grow is None:
        grow = page_up(length)
        if flags & (L.MAP_FIXED | L.MAP_FIXED_NOREPLACE) and addr + grow > addr:
            grow -= sum(min(v.end, addr + grow) - max(v.start, addr)
                        for v in t.mm.overlapping(addr, addr + grow))
    if grow > 0 and t.mm.mapped + grow > limit:
        raise KernelError(ENOMEM)


def sys_munmap(t, addr, length):
    """munmap(2): any part of any mappings; unmapped pages in the range are fine."""
    t.process.mm.munmap(addr, length)
    return 0


def sys_mprotect(t, addr, length, prot):
    """mprotect(2): splits mappings; a hole in the range is ENOMEM."""
    t.process.mm.mprotect(addr, length, prot)
    return 0


def sys_brk(t, addr):
    """brk(2): returns the new break, or the old one when it cannot move. A program
    sharing its address space with others (kernel/apps.py) moves its own."""
    area = t.process.brk_area or t.mm
    grow = page_up(addr) - page_up(area.brk)
    if grow > 0 and addr >= area.start_brk:
        # check_data_rlimit and may_expand_vm: past RLIMIT_DATA or RLIMIT_AS the
        # break stays where it is
        data = t.process.rlimits[L.RLIMIT_DATA][0]
        if data != L.RLIM_INFINITY and addr - area.start_brk > data:
            return area.brk
        try:
            _may_expand(t, 0, 0, 0, grow)
        except KernelError:
            return area.brk
    return t.mm.do_brk(addr, t.process.brk_area)


def sys_mremap(t, old_address, old_size, new_size, flags, new_address):
    """mremap(2): shrink, grow in place, MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP,
    and old_size 0 (a second mapping of a shared mapping's pages)."""
    _may_expand(t, 0, 0, 0, page_up(new_size) - page_up(old_size))
    return t.mm.mremap(old_address, old_size, new_size, flags, new_address)


def sys_madvise(t, addr, length, advice):
    """madvise(2): MADV_DONTNEED drops pages (mm/address_space.py says what they read
    then), MADV_REMOVE punches a hole in the file behind a shared mapping,
    DONTFORK and WIPEONFORK mark VMAs for fork; other advice is a hint."""
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
    if not t.process.cred.capable(CAP_IPC_LOCK) and end - start > limit:
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
    if not t.process.cred.capable(CAP_IPC_LOCK) and t.process.rlimits[L.RLIMIT_MEMLOCK][0] == 0:
        raise KernelError(EPERM)
    return 0


def sys_munlockall(t):
    """munlockall(2)."""
    return 0
