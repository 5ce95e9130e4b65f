"""Runs of page-table entries written again from what was written before
(cpu/paging.py PageTables.set keeps them by virtual range and access): a range
written again the same way gets the same entries, and once its pages move to other
physical memory (unmapped and mapped again elsewhere) or get other access, the
entries name the new place and access, which a guest load reads through.
"""

from __future__ import annotations

import ctypes

from pyunik.cpu import paging
from pyunik.cpu.engine import Engine

PAGE = 4096
CODE, DATA = 0x400000, 0x7ffff0000000
_LOAD = bytes.fromhex("8b06" "f4")             # mov eax, [rsi]; hlt


def frames(pages: paging.PageTables, start: int, count: int) -> list[int]:
    return [pages.entry(start + i * PAGE) for i in range(count)]


def test_a_range_written_again_after_its_pages_moved_names_the_new_place():
    pages = paging.PageTables()
    pages.place(DATA - 64 * PAGE, 16 * PAGE)
    first = pages.place(DATA, 8 * PAGE)
    pages.set(DATA, DATA + 8 * PAGE, 3, fresh=True)
    written = frames(pages, DATA, 8)
    assert [e & paging.PTE_PFN_MASK for e in written] == [first + i * PAGE for i in range(8)]
    pages.set(DATA, DATA + 8 * PAGE, 0)
    pages.set(DATA, DATA + 8 * PAGE, 3, fresh=True)
    assert frames(pages, DATA, 8) == written                  # the same, again
    pages.set(DATA, DATA + 8 * PAGE, 3)                       # not fresh: accessed
    assert all(e & paging.PAGE_ACCESSED for e in frames(pages, DATA, 8))
    pages.set(DATA, DATA + 8 * PAGE, 1, fresh=True)           # read-only
    assert not any(e & paging.WRITABLE for e in frames(pages, DATA, 8))
    pages.forget(DATA - 64 * PAGE, DATA - 48 * PAGE)
    pages.forget(DATA, DATA + 8 * PAGE)
    pages.place(DATA - 64 * PAGE, 4 * PAGE)                    # takes the first place
    moved = pages.place(DATA, 8 * PAGE)
    assert moved != first
    pages.set(DATA, DATA + 8 * PAGE, 3, fresh=True)
    assert [e & paging.PTE_PFN_MASK for e in frames(pages, DATA, 8)] == \
        [moved + i * PAGE for i in range(8)]


def test_a_guest_load_reads_the_pages_mapped_again_elsewhere():
    engine = Engine()
    code = ctypes.create_string_buffer(_LOAD.ljust(PAGE, b"\0"), PAGE)
    old = ctypes.create_string_buffer(b"\x11" * (4 * PAGE), 4 * PAGE)
    new = ctypes.create_string_buffer(b"\x22" * (4 * PAGE), 4 * PAGE)
    filler = ctypes.create_string_buffer(b"\x33" * (8 * PAGE), 8 * PAGE)
    engine.map_host(CODE, PAGE, 5, ctypes.addressof(code))
    engine.map_host(DATA, 4 * PAGE, 0, ctypes.addressof(old))
    for buffer, byte in ((old, 0x11), (new, 0x22)):
        for _ in range(2):
            engine.protect(DATA, 4 * PAGE, 3, 0)
            engine.set_reg("rsi", DATA + 2 * PAGE)
            assert engine.run(CODE) is None
            assert engine.reg("rax") & 0xFFFFFFFF == byte * 0x01010101
            engine.protect(DATA, 4 * PAGE, 0, 3)
        engine.unmap(DATA, 4 * PAGE)
        # (the filler takes DATA's physical pages, so DATA gets others)
        engine.map_host(DATA - 16 * PAGE, 8 * PAGE, 3, ctypes.addressof(filler))
        engine.map_host(DATA, 4 * PAGE, 0, ctypes.addressof(new))
        engine.unmap(DATA - 16 * PAGE, 8 * PAGE)
