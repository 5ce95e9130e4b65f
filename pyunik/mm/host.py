"""Host memory behind guest pages: anonymous host mappings, committed lazily.

Guest memory is host memory handed to the CPU engine by address (mem_map_ptr), so a
large sparse guest mapping costs nothing until touched. This module is the only place
that calls the host's mmap family; the address space above it decides what to map.

Three kinds of host memory:
- `HostWindows`: host address space reserved in windows that mirror aligned 1 GiB
  windows of guest address space, so guest pages that are neighbours are neighbours
  on the host too (the CPU engine can show them as one region), and a guest range
  mapped again gets the same host pages back. Anonymous private guest memory is the
  window's own memory; shared and file mappings are placed over it with MAP_FIXED.
- one host mapping of its own for a guest mapping no window can hold (it crosses a
  window boundary, or the windows are used up); pieces of it are returned to the host
  with munmap as the guest unmaps them.
- `HostReserve`: a range reserved once (the brk heap), committed in place.
Host pages no guest mapping uses are given back (MADV_DONTNEED, or a fresh anonymous
mapping over a file's pages), or a few of a window's zeroed where they are
(`HostWindows.zero_in_place`), but stay mapped read-write, never munmapped: the range
stays ours, reads as zeros when mapped again, and cannot fault pyunik itself.

Layer: mm, the bottom of it. Calls the host's libc (mmap, munmap, madvise, mremap)
and reads /proc/self/pagemap, nothing else.
"""

from __future__ import annotations

import ctypes
import os

from ..abi.page import PM_MMAP_EXCLUSIVE, PM_PRESENT, PM_SWAP
from ..abi.mman import (MADV_DONTNEED as _MADV_DONTNEED, MADV_REMOVE as _MADV_REMOVE,
                        MAP_ANONYMOUS as _MAP_ANON,
                        MAP_FIXED as _MAP_FIXED, MAP_NORESERVE as _MAP_NORESERVE,
                        MAP_PRIVATE as _MAP_PRIVATE, MAP_SHARED as _MAP_SHARED,
                        MREMAP_FIXED as _MREMAP_FIXED, MREMAP_MAYMOVE as _MREMAP_MAYMOVE,
                        MS_SYNC as _MS_SYNC, PROT_NONE as _PROT_NONE, PROT_READ, PROT_WRITE)

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
_mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int,
                    ctypes.c_void_p]
_mincore = _libc.mincore
_mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
_msync = _libc.msync
_msync.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]

# the host is x86-64 Linux too: its mmap takes the guest's flag values
_PROT_RW = PROT_READ | PROT_WRITE
_MAP_FAILED = ctypes.c_void_p(-1).value
_ZERO_PAGE = bytes(4096)


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


def remove(ptr: int, size: int) -> None:
    """Punch the pages out of the host file (a memfd) a MAP_SHARED host mapping maps:
    they read as zeros through every mapping of it, its size unchanged."""
    if _madvise(ptr, size, _MADV_REMOVE) != 0:
        raise HostMemoryError(ctypes.get_errno())


def sync_file_pages(ptr: int, size: int) -> None:
    """msync(MS_SYNC) of host pages that map a host file shared: written to its disk."""
    _msync(ptr, size, _MS_SYNC)


def move(ptr: int, old_size: int, new_size: int) -> int:
    """Resize a host mapping, moving it if it must; contents are kept without copying."""
    return _check(_mremap(ptr, old_size, new_size, _MREMAP_MAYMOVE, None))


def residency(ptr: int, size: int) -> bytes:
    """One byte per page, bit 0 set when the host has the page in memory (mincore)."""
    pages = (size + 4095) // 4096
    vec = ctypes.create_string_buffer(pages)
    if _mincore(ptr, size, vec) != 0:
        return b"\x01" * pages
    return vec.raw


def copy(dst: int, src: int, size: int) -> None:
    ctypes.memmove(dst, src, size)


def share(ptr: int, size: int, dst: int | None = None) -> int:
    """A second host mapping of the same pages as the MAP_SHARED host mapping at ptr
    (mremap with old_size 0, which Linux offers for shareable mappings), at dst when
    given (replacing what is mapped there). Each mapping is unmapped on its own, so
    two address spaces can hold the same shared memory with separate lifetimes."""
    flags = _MREMAP_MAYMOVE | (_MREMAP_FIXED if dst is not None else 0)
    return _check(_mremap(ptr, 0, size, flags, None if dst is None else ctypes.c_void_p(dst)))


_HOLDS = bytes(1 if b & ((PM_PRESENT | PM_SWAP) >> 56) else 0 for b in range(256))


def populated_runs(ptr: int, size: int) -> list[tuple[int, int]]:
    """The runs (offset, length) of [ptr, ptr+size) whose pages the host holds (in
    memory or swapped out), from /proc/self/pagemap: pages never touched read as zero
    and need no copy. The whole range when pagemap cannot be read."""
    pages = size >> 12
    try:
        with open("/proc/self/pagemap", "rb", buffering=0) as f:
            raw = os.pread(f.fileno(), pages * 8, (ptr >> 12) * 8)
    except OSError:
        return [(0, size)]
    if len(raw) != pages * 8:
        return [(0, size)]
    held = raw[7::8].translate(_HOLDS)      # each entry's top byte: 1 where held
    runs = []
    start = held.find(1)
    while start >= 0:
        end = held.find(0, start)
        if end < 0:
            end = pages
        runs.append((start << 12, (end - start) << 12))
        start = held.find(1, end)
    return runs


# A pagemap entry's top byte to 0 (the host holds no page there), 1 (a page of this
# mapping's own, in memory) or 2 (swapped out, or shared: the zero page, or a page
# copy-on-write after a fork of the host process)
_PRESENT, _SWAP, _EXCLUSIVE = PM_PRESENT >> 56, PM_SWAP >> 56, PM_MMAP_EXCLUSIVE >> 56
_OWN = bytes(0 if not b & (_PRESENT | _SWAP) else
             1 if b & (_PRESENT | _EXCLUSIVE | _SWAP) == _PRESENT | _EXCLUSIVE else 2
             for b in range(256))


def copy_populated(dst: int, src: int, size: int) -> None:
    """Copy the host pages of [src, src+size) that hold anything to dst (fresh
    zeroed pages): a private anonymous range, as fork copies it."""
    for offset, length in populated_runs(src, size):
        ctypes.memmove(dst + offset, src + offset, length)


def map_file_at(ptr: int, fd: int, offset: int, size: int, shared: bool, writable: bool) -> int:
    """map_file, placed at ptr (inside a window) instead of where the host likes."""
    prot = _PROT_RW if writable or not shared else 1
    flags = (_MAP_SHARED if shared else _MAP_PRIVATE) | _MAP_FIXED
    return _check(_mmap(ptr, size, prot, flags, fd, offset))


def move_to(ptr: int, old_size: int, new_size: int, dst: int | None) -> int:
    """move, to dst when it is given (replacing what is mapped there)."""
    if dst is None:
        return move(ptr, old_size, new_size)
    return _check(_mremap(ptr, old_size, new_size, _MREMAP_MAYMOVE | _MREMAP_FIXED,
                          ctypes.c_void_p(dst)))


WINDOW_SHIFT = 30
WINDOW_SIZE = 1 << WINDOW_SHIFT
MAX_WINDOWS = 256           # at most 256 GiB of host address space per address space


def _whole_view(base: int, size: int) -> memoryview:
    """Host memory [base, base+size) as one writable memoryview of bytes (slices of
    it are read and written without a ctypes call)."""
    return memoryview((ctypes.c_char * size).from_address(base)).cast("B")


class HostWindows:
    """Host memory mirroring guest address space, one aligned window at a time.

    Guest address g in window w = g >> WINDOW_SHIFT is backed by host address
    base[w] + (g & (WINDOW_SIZE - 1)). A window is reserved (anonymous, read-write,
    MAP_NORESERVE: no host memory until touched) the first time a guest mapping
    falls in it, and kept until release_all.
    Invariant: window pages outside every guest mapping are anonymous pages that read
    as zero (zero-fill, or zeroed in place).
    """

    def __init__(self, limit: int = MAX_WINDOWS):
        self.limit = limit
        self._bases: dict[int, int] = {}    # window number -> host base
        self._pagemap: int | None = None     # /proc/self/pagemap, opened on first use
        self._views: dict[int, memoryview] = {}     # window number -> its memory

    def __len__(self) -> int:
        return len(self._bases)

    def host_for(self, start: int, size: int) -> int | None:
        """The host address backing guest [start, start+size), or None when the range
        crosses a window boundary or no more windows can be had."""
        w = start >> WINDOW_SHIFT
        if size <= 0 or (start + size - 1) >> WINDOW_SHIFT != w:
            return None
        base = self._bases.get(w)
        if base is None:
            if len(self._bases) >= self.limit:
                return None
            try:
                base = allocate(WINDOW_SIZE)
            except HostMemoryError:
                return None
            self._bases[w] = base
        return base + (start & (WINDOW_SIZE - 1))

    def view(self, start: int, host: int, size: int) -> memoryview | None:
        """The host memory [host, host+size) behind guest memory from start, as a
        slice of its window's one memoryview (no ctypes call: a tenth of a
        microsecond); None when it is not the window's."""
        w = start >> WINDOW_SHIFT
        base = self._bases.get(w)
        if base is None or not 0 <= host - base <= WINDOW_SIZE - size:
            return None
        return self._view(w, base)[host - base:host - base + size]

    @staticmethod
    def decommit(ptr: int, size: int, own_pages: bool) -> None:
        """Give the pages at ptr back, leaving zero-fill pages of the window: own_pages
        says they are the window's own anonymous memory (else a file's or shared
        pages were placed there and are replaced)."""
        if own_pages:
            discard(ptr, size)
        else:
            _check(_mmap(ptr, size, _PROT_RW,
                         _MAP_PRIVATE | _MAP_ANON | _MAP_NORESERVE | _MAP_FIXED, -1, 0))

    def zero_in_place(self, start: int, size: int, most: int) -> bool:
        """Zero the pages of guest [start, start+size) (in one window) that the host
        holds, where they are, when they are at most `most` pages each of this
        mapping's own (/proc/self/pagemap says so); else (or when pagemap cannot be
        read) False, with nothing done. The pages then read as zero as after
        decommit, and stay in memory: a guest using the range again does not fault
        each of them in afresh (a thread's stack)."""
        w = start >> WINDOW_SHIFT
        base = self._bases.get(w)
        if base is None or (start + size - 1) >> WINDOW_SHIFT != w:
            return False
        if self._pagemap is None:
            try:
                self._pagemap = os.open("/proc/self/pagemap", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._pagemap = -1
        at = start & (WINDOW_SIZE - 1)
        pages = size >> 12
        try:
            raw = os.pread(self._pagemap, pages * 8, ((base + at) >> 12) * 8)
        except OSError:
            return False
        held = raw[7::8].translate(_OWN)
        if len(held) != pages or 2 in held or held.count(1) > most:
            return False
        view = self._view(w, base)
        i = held.find(1)
        while i >= 0:
            page = at + (i << 12)
            view[page:page + 4096] = _ZERO_PAGE
            i = held.find(1, i + 1)
        return True

    def zero_pages(self, pages: list[int]) -> None:
        """Zero the host pages behind the guest pages at these addresses (all in
        windows made already), where they are."""
        for addr in pages:
            w = addr >> WINDOW_SHIFT
            at = addr & (WINDOW_SIZE - 1)
            self._view(w, self._bases[w])[at:at + 4096] = _ZERO_PAGE

    def _view(self, w: int, base: int) -> memoryview:
        """Window w's memory (at base), written by slices (no ctypes call)."""
        view = self._views.get(w)
        if view is None:
            view = self._views[w] = _whole_view(base, WINDOW_SIZE)
        return view

    def release_all(self) -> None:
        self._views.clear()
        for base in self._bases.values():
            release(base, WINDOW_SIZE)
        self._bases.clear()
        if self._pagemap is not None and self._pagemap >= 0:
            os.close(self._pagemap)
        self._pagemap = None


class HostReserve:
    """A reserved host range whose pages are committed and decommitted in place."""

    def __init__(self, size: int):
        self.size = size
        self.base = _check(_mmap(None, size, _PROT_NONE,
                                 _MAP_PRIVATE | _MAP_ANON | _MAP_NORESERVE, -1, 0))
        self._view: memoryview | None = None     # the whole range's, made on first use

    def view(self, start: int, host: int, size: int) -> memoryview | None:
        """The committed host memory [host, host+size) (behind guest memory from
        start) as a slice of the reserve's one memoryview; None when it is not the
        reserve's."""
        if not 0 <= host - self.base <= self.size - size:
            return None
        if self._view is None:
            self._view = _whole_view(self.base, self.size)
        return self._view[host - self.base:host - self.base + size]

    def commit(self, offset: int, size: int) -> int:
        """Fresh zeroed read-write pages at base+offset."""
        return _check(_mmap(self.base + offset, size, _PROT_RW,
                            _MAP_PRIVATE | _MAP_ANON | _MAP_NORESERVE | _MAP_FIXED, -1, 0))

    def decommit(self, ptr: int, size: int, own_pages: bool = True) -> None:
        """Give the pages back to the host; they stay mapped (zero-fill) and reserved."""
        discard(ptr, size)

    def release(self) -> None:
        self._view = None
        release(self.base, self.size)
