"""Host memory behind guest pages: anonymous host mappings, committed lazily.

Guest memory is host memory handed to the CPU engine by address (mem_map_ptr), so a
large sparse guest mapping costs nothing until touched. This module is the only place
that calls the host's mmap family; the address space above it decides what to map.

Two kinds of block:
- `HostBlock`: one host mapping per guest mapping; pieces of it are returned to the
  host with munmap as the guest unmaps them.
- `HostReserve`: a range of host address space reserved once (the brk heap), whose
  pages are given back by mapping fresh PROT_NONE pages over them, never munmap, so
  the range stays ours and can be committed again with MAP_FIXED safely.
"""

from __future__ import annotations

import ctypes
import os

from ..abi.mman import (MADV_DONTNEED as _MADV_DONTNEED, MAP_ANONYMOUS as _MAP_ANON,
                        MAP_FIXED as _MAP_FIXED, MAP_NORESERVE as _MAP_NORESERVE,
                        MAP_PRIVATE as _MAP_PRIVATE, MAP_SHARED as _MAP_SHARED,
                        MREMAP_MAYMOVE as _MREMAP_MAYMOVE, PROT_NONE as _PROT_NONE, PROT_READ,
                        PROT_WRITE)

_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                  ctypes.c_int, ctypes.c_long]
_munmap = _libc.munmap
_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_madvise = _libc.madvise
_madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_mremap = _libc.mremap
_mremap.restype = ctypes.c_void_p
_mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]
_mincore = _libc.mincore
_mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]

# the host is x86-64 Linux too: its mmap takes the guest's flag values
_PROT_RW = PROT_READ | PROT_WRITE
_MAP_FAILED = ctypes.c_void_p(-1).value


class HostMemoryError(Exception):
    """The host refused memory (its errno is in .errno)."""

    def __init__(self, err: int):
        super().__init__(os.strerror(err))
        self.errno = err


def _check(ptr) -> int:
    if ptr is None or ptr == _MAP_FAILED:
        raise HostMemoryError(ctypes.get_errno())
    return ptr


def allocate(size: int, shared: bool = False) -> int:
    """A fresh zeroed host mapping of size bytes (committed lazily)."""
    flags = (_MAP_SHARED if shared else _MAP_PRIVATE) | _MAP_ANON | _MAP_NORESERVE
    return _check(_mmap(None, size, _PROT_RW, flags, -1, 0))


def map_file(fd: int, offset: int, size: int, shared: bool, writable: bool) -> int:
    """The host file's pages at offset, shared with the file (MAP_SHARED) or
    copy-on-write (MAP_PRIVATE, always writable since writes stay private)."""
    prot = _PROT_RW if writable or not shared else PROT_READ
    flags = _MAP_SHARED if shared else _MAP_PRIVATE
    return _check(_mmap(None, size, prot, flags, fd, offset))


def release(ptr: int, size: int) -> None:
    _munmap(ptr, size)


def discard(ptr: int, size: int) -> None:
    """Drop the pages' contents: private anonymous pages read as zero afterwards."""
    _madvise(ptr, size, _MADV_DONTNEED)


def move(ptr: int, old_size: int, new_size: int) -> int:
    """Resize a host mapping, moving it if it must; contents are kept without copying."""
    return _check(_mremap(ptr, old_size, new_size, _MREMAP_MAYMOVE))


def residency(ptr: int, size: int) -> bytes:
    """One byte per page, bit 0 set when the host has the page in memory (mincore)."""
    pages = (size + 4095) // 4096
    vec = ctypes.create_string_buffer(pages)
    if _mincore(ptr, size, vec) != 0:
        return b"\x01" * pages
    return vec.raw


def copy(dst: int, src: int, size: int) -> None:
    ctypes.memmove(dst, src, size)


class HostReserve:
    """A reserved host range whose pages are committed and decommitted in place."""

    def __init__(self, size: int):
        self.size = size
        self.base = _check(_mmap(None, size, _PROT_NONE,
                                 _MAP_PRIVATE | _MAP_ANON | _MAP_NORESERVE, -1, 0))

    def commit(self, offset: int, size: int) -> int:
        """Fresh zeroed read-write pages at base+offset."""
        return _check(_mmap(self.base + offset, size, _PROT_RW,
                            _MAP_PRIVATE | _MAP_ANON | _MAP_NORESERVE | _MAP_FIXED, -1, 0))

    def decommit(self, ptr: int, size: int) -> None:
        """Give the pages back to the host but keep the address range reserved."""
        _check(_mmap(ptr, size, _PROT_NONE,
                     _MAP_PRIVATE | _MAP_ANON | _MAP_NORESERVE | _MAP_FIXED, -1, 0))
