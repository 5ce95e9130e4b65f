"""madvise(2)'s MADV_REMOVE: a hole punched in the file behind a shared mapping, as
Linux's madvise_remove does it with vfs_fallocate(FALLOC_FL_PUNCH_HOLE |
FALLOC_FL_KEEP_SIZE): its pages read as zeros through every mapping of it, and the
file keeps its size.

Shared anonymous memory and SysV segments are such files (shmem): their host memfd
(mm/shared.py) is punched through the VMA's host mapping. A mapped file is punched
by its inode when its filesystem can (`punch`: ramfs, so /dev/shm and memfd files,
and an overlay's upper layer); elsewhere EOPNOTSUPP, as fallocate(2) answers there.

Layer: mm. Calls mm/host.py and the inode a VMA maps (duck-typed: nothing here
imports fs/); AddressSpace.madvise calls it.
"""

from __future__ import annotations

from errno import EACCES, EINVAL, ENOMEM, EOPNOTSUPP

from ..abi import linux as L
from ..errors import KernelError
from . import host


def remove(space, start: int, end: int) -> None:
    """MADV_REMOVE of [start, end) (page-aligned, non-empty) in space: each VMA of the
    range in turn, the first refusal stopping the walk (what came before it stays
    punched), a hole in the range ENOMEM at the end. EINVAL where no file is behind
    the memory (private anonymous memory), EACCES for a private mapping or a shared
    one of a file not open for writing (vma_is_shared_maywrite). VM_LOCKED's EINVAL
    does not arise: mlock is not kept."""
    covered = space.covered(start, end)
    for v in space.overlapping(start, end):
        if v.shm is None and v.file is None and not v.name.startswith("/"):
            raise KernelError(EINVAL)
        if v.flags & L.MAP_TYPE not in (L.MAP_SHARED, L.MAP_SHARED_VALIDATE) \
                or not v.may_write:
            raise KernelError(EACCES)
        a, b = max(v.start, start), min(v.end, end)
        if v.shm is not None:
            try:
                host.remove(v.host_at(a), b - a)
            except host.HostMemoryError as e:
                raise KernelError(e.errno) from None
            continue
        punch_file = getattr(v.file, "punch", None)
        if punch_file is None:
            raise KernelError(EOPNOTSUPP)
        punch_file(v.offset + (a - v.start), b - a)
    if not covered:
        raise KernelError(ENOMEM)
