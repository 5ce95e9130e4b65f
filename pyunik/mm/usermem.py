"""usermem: the only way the kernel reads and writes guest memory.

Every helper bounds its length and raises KernelError(EFAULT) for an address the
guest could not use itself (unmapped, PROT_NONE, or read-only for a write), and
ENAMETOOLONG for a path longer than PATH_MAX, as Linux's copy_from_user,
copy_to_user and strncpy_from_user do. Mixed into AddressSpace.

Layer: mm. Calls: cpu/engine.py (reads and writes of guest memory).
"""

from __future__ import annotations

import bisect
import ctypes
import struct
from errno import EFAULT, EINVAL, ENAMETOOLONG

from ..abi import linux as L
from ..errors import KernelError
from ..cpu.engine import MemoryFault

_PAGE = L.PAGE_SIZE
_bisect_right = bisect.bisect_right
_string_at = ctypes.string_at
# A VMA's host memory as a memoryview (one per VMA, kept in VMA.view): slicing it
# copies a few hundred bytes in a tenth of a microsecond, where a ctypes call
# (string_at, memmove) takes three or four. A VMA in a host window or the heap's
# reserve slices the view its reserve keeps; others are made with a ctypes call.
_view_of_memory = ctypes.pythonapi.PyMemoryView_FromMemory
_view_of_memory.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int)
_view_of_memory.restype = ctypes.py_object
_PYBUF_WRITE = 0x200                      # CPython's flag for a writable view


def _view(v) -> memoryview:
    reserve = v.reserve
    view = None if reserve is None else reserve.view(v.start, v.host, v.end - v.start)
    if view is None:
        view = _view_of_memory(v.host, v.end - v.start, _PYBUF_WRITE)
    v.view = view
    return view


def _note(log: set, addr: int, end: int) -> None:
    """The kernel wrote guest [addr, end) of a VMA that keeps a write log (VMA.log)."""
    first, last = addr >> 12, (end - 1) >> 12
    if first == last:
        log.add(first)
    elif first < last:
        log.update(range(first, last + 1))


class UserMemory:
    engine: object

    def read(self, addr: int, size: int) -> bytes:
        """copy_from_user: size bytes at addr.

        Guest memory is host memory: the bytes are copied straight from the host
        pages of the VMAs, one C call per VMA. The VMAs say what is readable (any of
        r, w, x on x86-64), never the engine: its regions may outlive a mapping."""
        i = _bisect_right(self._starts, addr) - 1
        if i >= 0 and size > 0:
            v = self.vmas[i]
            if addr + size <= v.end and v.prot & 7:
                at = addr - v.start
                return (v.view or _view(v))[at:at + size].tobytes()
        if size <= 0:
            if size == 0:
                return b""
            raise KernelError(EFAULT)
        end = addr + size
        if end > L.TASK_SIZE or not self.covered(addr, end, 0, readable=True):
            raise KernelError(EFAULT)
        parts = []
        for w in self.overlapping(addr, end):
            a = max(w.start, addr)
            parts.append(_string_at(w.host_at(a), min(w.end, end) - a))
        return b"".join(parts)

    def read_int(self, addr: int, layout: struct.Struct) -> int:
        """copy_from_user of one unsigned integer (layout: a Struct of one field,
        such as a sigset or a futex word): unpacked straight from the VMA's
        memoryview when one readable VMA holds it (no bytes made); else read's
        answer, EFAULT included."""
        i = _bisect_right(self._starts, addr) - 1
        if i >= 0:
            v = self.vmas[i]
            if addr + layout.size <= v.end and v.prot & 7:
                return layout.unpack_from(v.view or _view(v), addr - v.start)[0]
        return layout.unpack(self.read(addr, layout.size))[0]

    def write(self, addr: int, data: bytes) -> None:
        """copy_to_user: the whole destination must be mapped writable."""
        end = addr + len(data)
        i = _bisect_right(self._starts, addr) - 1
        if i >= 0:
            v = self.vmas[i]
            if end <= v.end and v.prot & 2 and not v.code:
                # Straight into the host pages: no translated code can live there.
                start = v.start
                view = v.view or _view(v)
                try:
                    view[addr - start:end - start] = data
                except (TypeError, ValueError):      # a buffer of another format
                    view[addr - start:end - start] = bytes(data)
                if v.log is not None:
                    _note(v.log, addr, end)
                return
        if end == addr:
            return
        if end > L.TASK_SIZE:
            raise KernelError(EFAULT)
        v = self.find(addr)
        if v is None or not v.prot & 2:
            raise KernelError(EFAULT)
        if end > v.end and not self.covered(v.end, end, L.PROT_WRITE):
            raise KernelError(EFAULT)
        self.poke(addr, data)

    def write_int(self, addr: int, layout: struct.Struct, value: int) -> None:
        """copy_to_user of one integer (layout: a Struct of one field, such as a
        sigset or a tid): packed straight into the VMA's memoryview when one
        writable VMA without translated code holds it (no bytes made); else
        write's way, EFAULT included."""
        i = _bisect_right(self._starts, addr) - 1
        if i >= 0:
            v = self.vmas[i]
            end = addr + layout.size
            if end <= v.end and v.prot & 2 and not v.code:
                layout.pack_into(v.view or _view(v), addr - v.start, value)
                if v.log is not None:
                    _note(v.log, addr, end)
                return
        self.write(addr, layout.pack(value))

    def poke(self, addr: int, data) -> None:
        """Write guest memory through the engine, whatever its protection (the
        debugger's writes; copy_to_user's across VMAs or into code, checked
        first): write logs note the pages (VMA.log). EFAULT where unmapped."""
        end = addr + len(data)
        if end > L.TASK_SIZE or not self.covered(addr, end):
            raise KernelError(EFAULT)       # (the engine may show pages no VMA holds)
        try:
            self.engine.write(addr, data)
        except MemoryFault:
            raise KernelError(EFAULT) from None
        finally:
            for v in self.overlapping(addr, end):
                if v.log is not None:
                    _note(v.log, max(addr, v.start), min(end, v.end))

    def write_pair(self, addr: int, data: bytes, addr2: int, data2: bytes) -> None:
        """copy_to_user of data2 at addr2, then of data at addr (a signal frame's
        fpstate and the frame below it): one VMA lookup when both lie in one
        writable VMA holding no translated code, as on a stack; else two writes."""
        v = self.find(addr)
        if v is not None and v.prot & 2 and not v.code:
            start = v.start
            at, at2 = addr - start, addr2 - start
            end, end2 = at + len(data), at2 + len(data2)
            if at2 >= 0 and end2 <= v.end - start and end <= v.end - start:
                view = v.view or _view(v)
                view[at2:end2] = data2
                view[at:end] = data
                if v.log is not None:
                    _note(v.log, addr2, addr2 + len(data2))
                    _note(v.log, addr, addr + len(data))
                return
        self.write(addr2, data2)
        self.write(addr, data)

    def view_at(self, addr: int, size: int, writable: bool = False):
        """Where the guest's bytes [addr, addr + size) are in one VMA's host memory:
        (a memoryview of that VMA's memory, the offset of addr in it), when one VMA
        holds them all and the guest could read them (writable: write them, and no
        translated code lives there); else None, and read or write answer (with
        EFAULT where it is due). A signal frame's shortest path: it copies through
        the view with a slice (no memoryview made for the copy)."""
        i = _bisect_right(self._starts, addr) - 1
        if i >= 0:
            v = self.vmas[i]
            if addr + size <= v.end and v.prot & (2 if writable else 7) \
                    and not (writable and v.code):
                if writable and v.log is not None:
                    _note(v.log, addr, addr + size)
                return v.view or _view(v), addr - v.start
        return None

    def accessible(self, addr: int, size: int, prot: int = 0) -> int:
        """How many bytes from addr on (at most size) the guest itself could touch with
        prot (0: read, which any access bit allows on x86-64): what copy_from_user
        and copy_to_user would copy before their first fault."""
        end = min(addr + size, L.TASK_SIZE)
        pos = addr
        while pos < end:
            v = self.find(pos)
            if v is None or not v.prot & 7 or v.prot & prot != prot:
                break
            pos = v.end
        return max(0, min(pos, end) - addr)

    def read_upto(self, addr: int, size: int) -> bytes:
        """copy_from_user that stops at the first byte the guest could not read."""
        n = self.accessible(addr, size)
        return self.read(addr, n) if n else b""

    def write_upto(self, addr: int, data) -> int:
        """copy_to_user that stops at the first byte the guest could not write;
        returns how many bytes were written."""
        n = self.accessible(addr, len(data), L.PROT_WRITE)
        if n:
            self.write(addr, data if n == len(data) else data[:n])
        return n

    def check_writable(self, addr: int, size: int) -> None:
        """Fail with EFAULT now, before a call consumes anything it cannot return."""
        if size and (addr + size > L.TASK_SIZE or
                     not self.covered(addr, addr + size, L.PROT_WRITE)):
            raise KernelError(EFAULT)

    def read_cstring(self, addr: int, limit: int = L.PATH_MAX) -> bytes:
        """strncpy_from_user: a NUL-terminated string of at most limit bytes with its NUL.

        Reads page by page so a string ending just before an unmapped page is fine.
        The common case is a short string inside one readable VMA: its first 256
        bytes (fewer at the VMA's end) are copied from the VMA's host memory and the
        NUL found with one call.
        """
        i = _bisect_right(self._starts, addr) - 1
        if i >= 0:
            v = self.vmas[i]
            if addr < v.end and v.prot & 7:
                at = addr - v.start
                data = (v.view or _view(v))[at:at + 256].tobytes()     # ends at v.end
                nul = data.find(0)
                if 0 <= nul < limit:
                    return data[:nul]
        out = b""
        chunk = min(256, _PAGE - (addr & (_PAGE - 1)))     # most paths are short
        while True:
            data = self.read(addr, chunk)
            nul = data.find(b"\0")
            if nul >= 0:
                out += data[:nul]
                if len(out) >= limit:
                    raise KernelError(ENAMETOOLONG)
                return out
            out += data
            if len(out) >= limit:
                raise KernelError(ENAMETOOLONG)
            addr += chunk
            chunk = _PAGE - (addr & (_PAGE - 1))

    def read_struct(self, layout: struct.Struct, addr: int) -> tuple:
        return layout.unpack(self.read(addr, layout.size))

    def write_struct(self, layout: struct.Struct, addr: int, *values) -> None:
        self.write(addr, layout.pack(*values))

    def read_timespec(self, addr: int) -> int:
        """A struct timespec as nanoseconds; EINVAL unless 0 <= tv_nsec < 10^9 and
        tv_sec >= 0 (timespec64_valid)."""
        sec, nsec = self.read_struct(L.TIMESPEC, addr)
        if sec < 0 or not 0 <= nsec < 1000000000:
            raise KernelError(EINVAL)
        return sec * 1000000000 + nsec

    def read_u64(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 8), "little")

    def write_u64(self, addr: int, value: int) -> None:
        self.write_int(addr, L.ULONG, value & 0xFFFFFFFFFFFFFFFF)

    def write_i32(self, addr: int, value: int) -> None:
        self.write_int(addr, L.INT, value)

    def read_iovec(self, addr: int, count: int) -> list[tuple[int, int]]:
        """An iovec array as (base, len) pairs; Linux's import_iovec checks."""
        if count < 0 or count > L.UIO_MAXIOV:
            raise KernelError(EINVAL)
        if count == 0:
            return []
        raw = self.read(addr, count * L.IOVEC.size)
        vecs = list(L.IOVEC.iter_unpack(raw))
        total = 0
        for _, length in vecs:
            if length > L.SSIZE_MAX:
                raise KernelError(EINVAL)
            total += length
            if total > L.SSIZE_MAX:
                raise KernelError(EINVAL)
        return vecs
