"""What virtqueues live in: any object with `read(addr, size) -> bytes` and
`write(addr, data)` that raises KernelError for an address it does not hold. An
AddressSpace (mm/usermem.py) is one; `BufferMemory` is a bytearray-backed one for
tests and for stacks that have no guest (the user-mode NAT's). `RegionAllocator`
carves a kernel region into rings and buffers.

Layer: net. Calls errors.py only.
"""

from __future__ import annotations

from errno import EFAULT, ENOMEM

from ...errors import KernelError


class BufferMemory:
    """size bytes of memory seen at guest addresses base .. base+size."""

    def __init__(self, size: int, base: int = 0):
        self.base = base
        self.data = bytearray(size)

    def _offset(self, addr: int, size: int) -> int:
        off = addr - self.base
        if size < 0 or off < 0 or off + size > len(self.data):
            raise KernelError(EFAULT)
        return off

    def read(self, addr: int, size: int) -> bytes:
        off = self._offset(addr, size)
        return bytes(self.data[off:off + size])

    def write(self, addr: int, data) -> None:
        off = self._offset(addr, len(data))
        self.data[off:off + len(data)] = data


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
