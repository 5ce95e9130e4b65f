"""madvise(2)'s fork advice: MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK and
MADV_KEEPONFORK set or clear a VMA's VM_DONTCOPY or VM_WIPEONFORK (VMA.vm_flags),
splitting VMAs at the range's edges as mprotect does; AddressSpace.fork reads them
(a VM_DONTCOPY VMA is left out of the child, a VM_WIPEONFORK one gets zero pages).

Layer: mm. Calls mm/vma.py and the AddressSpace it is given (mm/address_space.py,
which calls advise from madvise).
"""

from __future__ import annotations

from ..abi import linux as L
from errno import EINVAL, ENOMEM
from ..errors import KernelError

VM_DONTCOPY, VM_WIPEONFORK = L.VM_DONTCOPY, L.VM_WIPEONFORK

FORK_ADVICE = (L.MADV_DONTFORK, L.MADV_DOFORK, L.MADV_WIPEONFORK, L.MADV_KEEPONFORK)


def advise(space, start: int, end: int, advice: int) -> None:
    """One fork advice for [start, end) of space, as Linux's madvise_walk_vmas with
    madvise_vma_behavior: the VMAs in order, each changed or refused (EINVAL stops
    the walk, the earlier ones stay changed); pages not mapped in the range give
    ENOMEM after the mapped ones have been changed."""
    covered = space.covered(start, end)
    for v in space.overlapping(start, end):
        flags = v.vm_flags
        if advice == L.MADV_DONTFORK:
            flags |= VM_DONTCOPY
        elif advice == L.MADV_DOFORK:
            flags &= ~VM_DONTCOPY
        elif advice == L.MADV_WIPEONFORK:
            # private anonymous memory only: no file, no shared memory (shmem is a file)
            if v.file is not None or v.shm is not None or v.host_backed \
                    or v.flags & L.MAP_TYPE != L.MAP_PRIVATE:
                raise KernelError(EINVAL)
            flags |= VM_WIPEONFORK
        else:
            flags &= ~VM_WIPEONFORK
        if flags == v.vm_flags:
            continue
        a, b = max(v.start, start), min(v.end, end)
        new = [v.piece(v.start, a)] if v.start < a else []
        new.append(v.piece(a, b))
        new[-1].vm_flags = flags
        if b < v.end:
            new.append(v.piece(b, v.end))
        space._replace([v], new)
    if not covered:
        raise KernelError(ENOMEM)
