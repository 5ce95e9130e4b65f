"""What virtqueues live in: any object with `read(addr, size) -> bytes` and
`write(addr, data)` that raises KernelError for an address it does not hold. An
AddressSpace (mm/usermem.py) is one; `BufferMemory` is the one the card uses: a
buffer seen at guest addresses, either the kernel's own mapping in the guest address
space (mm/kernel_area.py, given by kernel/netdev.py) or a bytearray of its own (tests,
and a network with no guest). `RegionAllocator` carves a kernel region into rings
and buffers.

Layer: net. Calls errors.py only.
"""

from __future__ import annotations

from errno import EFAULT, ENOMEM

from ...errors import KernelError


class BufferMemory:
    """size bytes of memory seen at guest addresses base .. base+size: those of
    buffer (a writable memoryview of at least size bytes) or of a new bytearray."""

    def __init__(self, size: int, base: int = 0, buffer: memoryview | None = None):
        self.base = base
        self.size = size
        self.view = memoryview(bytearray(size)) if buffer is None else buffer[:size]

    def read(self, addr: int, size: int) -> bytes:
        off = addr - self.base
        if off < 0 or size < 0 or off + size > self.size:
            raise KernelError(EFAULT)
        return self.view[off:off + size].tobytes()

    def write(self, addr: int, data) -> None:
        off = addr - self.base
        end = off + len(data)
        if off < 0 or end > self.size:
            raise KernelError(EFAULT)
        self.view[off:end] = data


class RegionAllocator:
    """Hands out aligned pieces of [base, base+size) in order; nothing is freed (the
    rings and buffers of a device live as long as the device)."""

    def __init__(self, base: int, size: int):
        self.next = base
        self.end = base + size

    def take(self, size: int, align: int = 16) -> int:
        start = (self.next + align - 1) & ~(align - 1)
        if start + size > self.end:
            raise KernelError(ENOMEM)
        self.next = start + size
        return start
