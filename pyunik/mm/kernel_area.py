"""The kernel's own memory in every address space: ranges in the kernel half (above
TASK_SIZE, from Linux's VMALLOC_START), each one host mapping that every process's
CPU engine maps at the same guest address, as Linux's kernel half is the same in every
page table. The network card's virtqueues and buffers live in one (kernel/netdev.py),
so device and driver work on memory of the guest address space, as in OSv.

What the guest sees of them, as of any kernel-half page on Linux:
- no access: the engine maps the pages with no page-table entry, so a guest touch is
  a page fault the kernel answers with SIGSEGV/SEGV_MAPERR (kernel/faults.py), and
  syscalls refuse the addresses (usermem: EFAULT) before the VMAs are asked;
- /proc/<pid>/maps lists each after the process's own VMAs, named like a special
  mapping (`[virtio-net]`), with `---p`, as it lists [vsyscall] up there;
- munmap, mprotect, mremap and mmap cannot reach them (past TASK_SIZE: EINVAL,
  ENOMEM as Linux answers there), so no guest call can move, change or remove them;
- fork's child and execve's new image have them as every address space does (they
  are the kernel's, not copied: the child sees the same rings); they count against
  no process (VmSize and -m leave them out, as Linux leaves out [vsyscall]).

Layer: mm. Calls mm/vma.py and abi/; the engine (cpu/) through map_host. The kernel
adds mappings before its first process starts (an address space made earlier would
not show them).
"""

from __future__ import annotations

import ctypes
import mmap

from ..abi import linux as L
from .vma import VMA, page_up


class KernelArea:
    """The kernel-half mappings of one kernel. Owned here: `mappings` (VMAs with no
    guest access, sorted by address) and the host memory behind each (`buffers`,
    Python mmaps: a view handed out keeps its pages alive)."""

    def __init__(self, base: int = L.VMALLOC_START):
        self.next = base
        self.mappings: list[VMA] = []
        self.buffers: list[tuple[mmap.mmap, ctypes.c_char]] = []   # with what pins each

    def add(self, size: int, name: str) -> tuple[int, memoryview]:
        """A new mapping of size bytes (zeroed), named for /proc/<pid>/maps: its guest
        address and a writable view of its bytes. A 2 MiB gap stays unmapped after
        each."""
        size = page_up(size)
        memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        pin = ctypes.c_char.from_buffer(memory)       # keeps the mapping in place
        host = ctypes.addressof(pin)
        start = self.next
        self.next = (start + size + (4 << 20) - 1) & ~((2 << 20) - 1)
        self.mappings.append(VMA(start, start + size, 0, L.MAP_PRIVATE | L.MAP_ANONYMOUS,
                                 host, name))
        self.buffers.append((memory, pin))
        return start, memoryview(memory)

    def install(self, engine) -> None:
        """Map every kernel mapping into engine (a new address space's CPU)."""
        for v in self.mappings:
            engine.map_host(v.start, v.end - v.start, 0, v.host)
