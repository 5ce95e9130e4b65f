"""munmap zeroes only the pages written (AddressSpace._written, VMA.log): the guest's
writes leave the dirty bit in entries written fresh (cpu/paging.py `written`), the
kernel's own writes are noted in the VMA's write log, and every way a VMA's pages
could change without either drops the log, so munmap asks /proc/self/pagemap as
before. After each, a range mapped again where one was unmapped reads as zero, as
fresh anonymous memory does on Linux.
"""

from __future__ import annotations

import ctypes
from errno import EFAULT

import pytest
import test_address_space
from test_address_space import ANON, NONE, PAGE, RW, RX, R, check, errno_of
from test_mm_shortest import GUARD, STACK, thread_stack

from pyunik.cpu.engine import Engine
from pyunik.mm import host
from pyunik.mm.address_space import KEEP_PAGES

mm = test_address_space.mm                  # the fixture: a fresh address space

CODE, DATA = 0x400000, 0x7ffff0000000
# mov eax, 1; mov [rdi], eax; mov eax, [rsi]; hlt -- a store, then a load
_STORE_LOAD = bytes.fromhex("b801000000" "8907" "8b06" "f4")


def _engine(pages: int):
    engine = Engine()
    code = ctypes.create_string_buffer(_STORE_LOAD.ljust(PAGE, b"\0"), PAGE)
    data = ctypes.create_string_buffer(pages * PAGE)
    engine.map_host(CODE, PAGE, 5, ctypes.addressof(code))
    engine.map_host(DATA, pages * PAGE, 0, ctypes.addressof(data))
    return engine, (code, data)


def _store_load(engine, store: int, load: int):
    engine.set_reg("rdi", store)
    engine.set_reg("rsi", load)
    return engine.run(CODE)


# ---- the page tables: what the guest wrote -------------------------------------------

def test_fresh_entries_show_the_pages_the_guest_wrote_and_no_other():
    engine, keep = _engine(8)
    engine.protect(DATA, 8 * PAGE, 3, 0)                # fresh: none written
    assert engine.written_pages(DATA, DATA + 8 * PAGE, 8) == []
    assert _store_load(engine, DATA + PAGE, DATA + 2 * PAGE) is None
    assert engine.written_pages(DATA, DATA + 8 * PAGE, 8) == [DATA + PAGE]


def test_a_page_read_first_is_written_later_all_the_same():
    """The MMU puts a page whose entry is not dirty in the TLB read-only on a read, so
    the first store walks the tables again and marks it."""
    engine, keep = _engine(4)
    engine.protect(DATA, 4 * PAGE, 3, 0)
    assert _store_load(engine, DATA, DATA + 3 * PAGE) is None      # page 3 read
    assert _store_load(engine, DATA + 3 * PAGE + 8, DATA) is None  # then written
    assert engine.written_pages(DATA, DATA + 4 * PAGE, 4) == [DATA, DATA + 3 * PAGE]


def test_entries_made_writable_from_another_access_count_as_written():
    engine, keep = _engine(4)
    engine.protect(DATA, 4 * PAGE, 1, 0)
    engine.protect(DATA, 4 * PAGE, 3, 1)         # dirty preset: no MMU record since
    assert engine.written_pages(DATA, DATA + 4 * PAGE, 4) == [DATA + i * PAGE
                                                              for i in range(4)]
    assert engine.written_pages(DATA, DATA + 4 * PAGE, 3) is None    # more than most


# ---- the write log and munmap --------------------------------------------------------

def _run_store(mm, at: int) -> None:
    """The guest itself stores 1 at `at` (code mapped and run here)."""
    code = mm.mmap(0, PAGE, RX, ANON)
    mm.engine.write(code, _STORE_LOAD)
    mm.engine.set_reg("rdi", at)
    mm.engine.set_reg("rsi", at)
    assert mm.engine.run(code) is None
    mm.munmap(code, PAGE)


def test_a_stack_written_by_guest_and_kernel_is_zeroed_where_written(mm, monkeypatch):
    asked = []
    monkeypatch.setattr(host.HostWindows, "zero_in_place",
                        lambda self, *a: asked.append(a) or False)
    a = thread_stack(mm)
    assert all(v.log is not None for v in mm.vmas if v.start >= a)
    _run_store(mm, a + STACK - 8)                       # the guest: top page
    mm.write(a + STACK - 3 * PAGE - 2, b"kernel")       # the kernel: across two pages
    assert mm._written(*_span(mm, a, a + STACK), a, a + STACK) == \
        [a + STACK - PAGE, a + STACK - 3 * PAGE - PAGE, a + STACK - 3 * PAGE]
    mm.munmap(a, STACK)
    assert mm._kept is not None and mm._kept[0] == a and not asked   # no pagemap read
    assert thread_stack(mm) == a
    assert mm.read(a + GUARD, STACK - GUARD) == bytes(STACK - GUARD)
    check(mm)


def _span(mm, start: int, end: int) -> tuple[int, int]:
    i = [v.start for v in mm.vmas].index(start)
    j = i
    while j < len(mm.vmas) and mm.vmas[j].end <= end:
        j += 1
    return i, j


def test_the_kernels_other_writes_are_noted_too(mm, monkeypatch):
    asked = []
    monkeypatch.setattr(host.HostWindows, "zero_in_place",
                        lambda self, *a: asked.append(a) or False)
    a = thread_stack(mm)
    top = a + STACK
    mm.write_pair(top - 64, b"frame", top - 2 * PAGE - 8, b"fpstate")
    view, at = mm.view_at(top - 3 * PAGE - 16, 16, writable=True)
    view[at:at + 16] = b"w" * 16
    mm.poke(top - 5 * PAGE, b"debugger")
    written = [top - PAGE, top - 3 * PAGE, top - 4 * PAGE, top - 5 * PAGE]
    assert sorted(mm._written(*_span(mm, a, top), a, top)) == sorted(written)
    assert len(written) == KEEP_PAGES
    mm.munmap(a, STACK)
    assert mm._kept is not None and mm._kept[0] == a and not asked
    assert thread_stack(mm) == a
    assert mm.read(a + GUARD, STACK - GUARD) == bytes(STACK - GUARD)


def test_many_pages_written_go_back_to_the_host(mm):
    a = thread_stack(mm)
    for i in range(KEEP_PAGES + 1):
        mm.write(a + STACK - (i + 1) * PAGE, b"x")
    assert mm._written(*_span(mm, a, a + STACK), a, a + STACK) is None
    mm.munmap(a, STACK)
    assert thread_stack(mm) == a
    assert mm.read(a + GUARD, STACK - GUARD) == bytes(STACK - GUARD)


@pytest.mark.parametrize("how", ["read-only between", "no access between"])
def test_a_protection_change_from_an_access_drops_the_log(mm, how):
    """Entries written fresh again after a page had an access would hide what was
    written before: such pieces keep no log, and munmap asks the host."""
    a = mm.mmap(0, 4 * PAGE, RW, ANON)
    mm.write(a, b"written")
    mm.mprotect(a, 2 * PAGE, R if how == "read-only between" else NONE)
    mm.mprotect(a, 2 * PAGE, RW)
    assert mm.find(a).log is None
    assert mm.find(a + 3 * PAGE).log is not None       # the part left as it was
    mm.munmap(a, 4 * PAGE)
    assert mm.mmap(0, 4 * PAGE, RW, ANON) == a
    assert mm.read(a, 7) == bytes(7)
    check(mm)


def test_pages_never_accessible_keep_the_log_when_made_so(mm):
    a = thread_stack(mm)
    guard = mm.find(a)
    assert guard.prot == NONE and guard.log is not None
    mm.mprotect(a, GUARD, RW)                          # never had an access: kept
    assert mm.find(a).log is not None


def test_a_vma_grown_past_its_end_keeps_no_log(mm):
    a = mm.mmap(0, 2 * PAGE, RW, ANON)
    v = mm.find(a)
    assert v.piece(a, a + PAGE).log is v.log
    assert v.piece(a, a + 3 * PAGE).log is None


def test_a_poke_outside_every_vma_is_efault(mm):
    a = mm.mmap(0, 2 * PAGE, RW, ANON)
    mm.munmap(a + PAGE, PAGE)              # its region stays in the engine, hidden
    assert errno_of(mm.poke, a + PAGE, b"x") == EFAULT
    mm.poke(a, b"x")
    assert mm.read(a, 1) == b"x"
