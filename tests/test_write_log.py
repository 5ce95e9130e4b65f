"""munmap zeroes only the pages that may have been written (AddressSpace._written,
VMA.log): the pages the guest touched are those whose fresh page-table entries the
MMU marked accessed (Engine.protect returns them as it takes access away), the
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

from pyunik.abi import linux as L
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


# ---- the engine: what the guest touched ----------------------------------------------

def test_taking_access_away_names_the_pages_the_guest_touched():
    engine, keep = _engine(8)
    assert engine.protect(DATA, 8 * PAGE, 3, 0) is None        # fresh: none touched
    assert _store_load(engine, DATA + PAGE, DATA + 5 * PAGE) is None
    assert sorted(engine.protect(DATA, 8 * PAGE, 0, 3)) == [DATA + PAGE, DATA + 5 * PAGE]
    assert engine.protect(DATA, 8 * PAGE, 0, 0) == []           # nothing had access


def test_entries_made_from_another_access_count_as_touched():
    engine, keep = _engine(4)
    engine.protect(DATA, 4 * PAGE, 1, 0)
    engine.protect(DATA, 4 * PAGE, 3, 1)       # accessed preset: no MMU record since
    assert sorted(engine.protect(DATA, 4 * PAGE, 0, 3)) == [DATA + i * PAGE
                                                             for i in range(4)]


def test_too_many_pages_touched_is_not_known():
    engine, keep = _engine(20)
    engine.protect(DATA, 20 * PAGE, 1, 0)
    engine.protect(DATA, 20 * PAGE, 3, 1)      # all 20 accessed: the whole TLB goes
    assert engine.protect(DATA, 20 * PAGE, 0, 3) is None


# ---- the write log and munmap --------------------------------------------------------

def _run_store(mm, at: int) -> None:
    """The guest itself stores 1 at `at` (code mapped and run here)."""
    code = mm.mmap(0, PAGE, RX, ANON)
    mm.engine.write(code, _STORE_LOAD)
    mm.engine.set_reg("rdi", at)
    mm.engine.set_reg("rsi", at)
    assert mm.engine.run(code) is None
    mm.munmap(code, PAGE)


@pytest.fixture
def zeroing(monkeypatch):
    """What munmap zeroes in place: {"pages": the pages zero_pages was given,
    "pagemap": how often it asked /proc/self/pagemap instead}."""
    seen = {"pages": [], "pagemap": 0}
    zero_pages, zero_in_place = host.HostWindows.zero_pages, host.HostWindows.zero_in_place

    def recording_zero_pages(self, pages):
        seen["pages"].extend(pages)
        return zero_pages(self, pages)

    def counting_zero_in_place(self, *args):
        seen["pagemap"] += 1
        return zero_in_place(self, *args)
    monkeypatch.setattr(host.HostWindows, "zero_pages", recording_zero_pages)
    monkeypatch.setattr(host.HostWindows, "zero_in_place", counting_zero_in_place)
    return seen


def test_a_stack_written_by_guest_and_kernel_is_zeroed_where_written(mm, zeroing):
    a = thread_stack(mm)
    top = a + STACK
    assert all(v.log is not None for v in mm.vmas if v.start >= a)
    _run_store(mm, top - 8)                             # the guest: top page
    mm.write(top - 3 * PAGE - 2, b"kernel")             # the kernel: across two pages
    mm.munmap(a, STACK)
    assert sorted(zeroing["pages"]) == [top - 4 * PAGE, top - 3 * PAGE, top - PAGE]
    assert zeroing["pagemap"] == 0 and mm._kept is not None and mm._kept[0] == a
    assert thread_stack(mm) == a
    assert mm.read(a + GUARD, STACK - GUARD) == bytes(STACK - GUARD)
    check(mm)


def test_the_kernels_other_writes_are_noted_too(mm, zeroing):
    a = thread_stack(mm)
    top = a + STACK
    mm.write_pair(top - 64, b"frame", top - 2 * PAGE - 8, b"fpstate")
    view, at = mm.view_at(top - 3 * PAGE - 16, 16, writable=True)
    view[at:at + 16] = b"w" * 16
    mm.poke(top - 5 * PAGE, b"debugger")
    written = [top - 5 * PAGE, top - 4 * PAGE, top - 3 * PAGE, top - PAGE]
    assert len(written) == KEEP_PAGES
    mm.munmap(a, STACK)
    assert sorted(zeroing["pages"]) == written and zeroing["pagemap"] == 0
    assert thread_stack(mm) == a
    assert mm.read(a + GUARD, STACK - GUARD) == bytes(STACK - GUARD)


def test_many_pages_written_go_back_to_the_host(mm, zeroing):
    a = thread_stack(mm)
    for i in range(KEEP_PAGES + 1):
        mm.write(a + STACK - (i + 1) * PAGE, b"x")
    mm.munmap(a, STACK)
    assert zeroing["pages"] == [] and mm._kept is None
    assert thread_stack(mm) == a
    assert mm.read(a + GUARD, STACK - GUARD) == bytes(STACK - GUARD)


@pytest.mark.parametrize("how", ["read-only between", "no access between"])
def test_a_protection_change_from_an_access_drops_the_log(mm, how, zeroing):
    """Entries written fresh again after a page had an access would hide what was
    written before: such pieces keep no log, and munmap asks the host."""
    a = mm.mmap(0, 4 * PAGE, RW, ANON)
    mm.write(a, b"written")
    mm.mprotect(a, 2 * PAGE, R if how == "read-only between" else NONE)
    mm.mprotect(a, 2 * PAGE, RW)
    assert mm.find(a).log is None
    assert mm.find(a + 3 * PAGE).log is not None       # the part left as it was
    mm.munmap(a, 4 * PAGE)
    assert zeroing["pagemap"] == 1 and zeroing["pages"] == []
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


def test_write_int_packs_into_the_vma_and_notes_the_page(mm, zeroing):
    a = thread_stack(mm)
    top = a + STACK
    mm.write_int(top - 2 * PAGE - 4, L.UINT, 0xDEADBEEF)
    assert mm.read(top - 2 * PAGE - 4, 4) == (0xDEADBEEF).to_bytes(4, "little")
    mm.munmap(a, STACK)
    assert zeroing["pages"] == [top - 3 * PAGE]
    assert thread_stack(mm) == a and mm.read(top - 2 * PAGE - 4, 4) == bytes(4)


def test_write_int_elsewhere_is_writes(mm):
    a = mm.mmap(0, 2 * PAGE, RW, ANON)
    mm.mprotect(a + PAGE, PAGE, R)
    mm.mprotect(a + PAGE, PAGE, RW)                # two VMAs, both writable
    mm.write_int(a + PAGE - 4, L.ULONG, 0x1122334455667788)    # across them
    assert mm.read(a + PAGE - 4, 8) == (0x1122334455667788).to_bytes(8, "little")
    assert errno_of(mm.write_int, a + 2 * PAGE, L.UINT, 1) == EFAULT
    mm.mprotect(a, PAGE, R)
    assert errno_of(mm.write_int, a, L.UINT, 1) == EFAULT
    assert mm.read(a, 4) == bytes(4)
