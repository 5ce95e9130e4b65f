"""Taking access away flushes only the pages the TLB may hold (cpu/engine.py
_flush_touched, cpu/paging.py touched), and every case where that would not do
flushes the whole TLB: after each, a guest touch of a page that lost its access
faults, as on Linux, and pages that kept it still work.

A page's entry written over one that was not present starts unaccessed; the MMU marks
it accessed on the page walk that puts the page in the TLB. Entries written any other
way start accessed, so they are always flushed.
"""

from __future__ import annotations

import ctypes

import pytest

from pyunik.cpu import engine as engine_module
from pyunik.cpu.engine import Engine

PAGE = 4096
CODE, DATA = 0x400000, 0x7ffff0000000
# mov eax, 1; mov [rdi], eax; mov eax, [rsi]; hlt -- a store, then a load
_STORE_LOAD = bytes.fromhex("b801000000" "8907" "8b06" "f4")
# mov eax, [rsi]; hlt
_LOAD = bytes.fromhex("8b06" "f4")


@pytest.fixture
def flushes(monkeypatch):
    """Records each page flushed alone, and each flush of the whole TLB."""
    seen = {"pages": [], "whole": 0}
    flush_page, ctl = engine_module._flush_page, engine_module._ctl

    def counting_flush_page(cpu, page):
        seen["pages"].append(page.value)
        return flush_page(cpu, page)

    def counting_ctl(handle, control, *args):
        if control == engine_module._CTL_FLUSH_TLB:
            seen["whole"] += 1
        return ctl(handle, control, *args)
    monkeypatch.setattr(engine_module, "_flush_page", counting_flush_page)
    monkeypatch.setattr(engine_module, "_ctl", counting_ctl)
    return seen


def _engine(pages: int, prot: int = 0):
    """An engine with the store-and-load code at CODE and at LOAD_AT a load, and
    pages of data at DATA mapped with prot (shown later with protect)."""
    engine = Engine()
    code = ctypes.create_string_buffer(_STORE_LOAD.ljust(PAGE, b"\0") + _LOAD, 2 * PAGE)
    data = ctypes.create_string_buffer(pages * PAGE)
    engine.map_host(CODE, 2 * PAGE, 5, ctypes.addressof(code))
    engine.map_host(DATA, pages * PAGE, prot, ctypes.addressof(data))
    return engine, (code, data)


def _store_load(engine, store: int, load: int):
    engine.set_reg("rdi", store)
    engine.set_reg("rsi", load)
    return engine.run(CODE)


def _load(engine, load: int):
    engine.set_reg("rsi", load)
    return engine.run(CODE + PAGE)


def test_the_pages_touched_are_flushed_alone_and_then_fault(flushes):
    engine, keep = _engine(8)
    engine.protect(DATA, 8 * PAGE, 3, 0)             # fresh entries: none accessed
    assert _store_load(engine, DATA + PAGE, DATA + 2 * PAGE + 8) is None
    engine.protect(DATA, 8 * PAGE, 0, 3)
    assert sorted(flushes["pages"]) == [DATA + PAGE, DATA + 2 * PAGE]
    assert flushes["whole"] == 0
    fault = _store_load(engine, DATA + PAGE, DATA + 2 * PAGE)
    assert (fault.address, fault.access) == (DATA + PAGE, "write")
    fault = _load(engine, DATA + 2 * PAGE + 8)
    assert (fault.address, fault.access) == (DATA + 2 * PAGE + 8, "read")


def test_write_taken_away_flushes_the_pages_touched(flushes):
    engine, keep = _engine(4)
    engine.protect(DATA, 4 * PAGE, 3, 0)
    assert _store_load(engine, DATA, DATA + 3 * PAGE) is None
    engine.protect(DATA, 4 * PAGE, 1, 3)
    assert sorted(flushes["pages"]) == [DATA, DATA + 3 * PAGE] and flushes["whole"] == 0
    fault = _store_load(engine, DATA, DATA)
    assert (fault.address, fault.access) == (DATA, "write")
    assert _load(engine, DATA) is None and engine.reg("rax") == 1   # still readable


def test_entries_written_over_present_ones_count_as_touched(flushes):
    """Read-only, read, then read-write (no flush: access only widened, the entries
    rewritten accessed), then no access: the page the TLB holds from the read is
    flushed although the guest never touched it since."""
    engine, keep = _engine(2, 1)
    assert _load(engine, DATA + PAGE) is None
    engine.protect(DATA, 2 * PAGE, 3, 1)
    engine.protect(DATA, 2 * PAGE, 0, 3)
    assert sorted(flushes["pages"]) == [DATA, DATA + PAGE]
    fault = _load(engine, DATA + PAGE)
    assert (fault.address, fault.access) == (DATA + PAGE, "read")


def test_many_pages_touched_flush_the_whole_tlb(flushes):
    pages = engine_module._FLUSH_PAGES_MAX + 1
    engine, keep = _engine(pages)
    engine.protect(DATA, pages * PAGE, 3, 0)
    for i in range(pages):
        assert _load(engine, DATA + i * PAGE) is None
    engine.protect(DATA, pages * PAGE, 0, 3)
    assert flushes["pages"] == [] and flushes["whole"] == 1
    fault = _load(engine, DATA + 5 * PAGE)
    assert (fault.address, fault.access) == (DATA + 5 * PAGE, "read")


def test_mapped_with_access_then_taken_away(flushes):
    """A range mapped with access at once (map_host writes fresh entries too)."""
    engine, keep = _engine(3, 3)
    assert _load(engine, DATA + 2 * PAGE) is None
    engine.protect(DATA, 3 * PAGE, 0, 3)
    assert flushes["pages"] == [DATA + 2 * PAGE]
    fault = _load(engine, DATA + 2 * PAGE)
    assert (fault.address, fault.access) == (DATA + 2 * PAGE, "read")


def test_without_the_cpu_the_whole_tlb_is_flushed(flushes, monkeypatch):
    monkeypatch.setattr(engine_module, "_flush_page", None)
    engine, keep = _engine(2)
    assert engine._cpu is None
    engine.protect(DATA, 2 * PAGE, 3, 0)
    assert _load(engine, DATA) is None
    engine.protect(DATA, 2 * PAGE, 0, 3)
    assert flushes["whole"] == 1
    fault = _load(engine, DATA)
    assert (fault.address, fault.access) == (DATA, "read")


def test_the_cpu_is_found_in_this_unicorn():
    """Unicorn 2.1.4 (the pinned version) is the build _cpu_of reads: the page
    flush is used, not the whole-TLB fallback."""
    assert Engine()._cpu is not None


def test_pages_across_a_page_table_boundary(flushes):
    """A range in two leaf tables (2 MiB chunks) is read and cleared table by table."""
    engine = Engine()
    code = ctypes.create_string_buffer(_STORE_LOAD.ljust(PAGE, b"\0") + _LOAD, 2 * PAGE)
    data = ctypes.create_string_buffer(4 * PAGE)
    start = (DATA + (2 << 20)) & ~((2 << 20) - 1)   # a 2 MiB boundary
    start -= 2 * PAGE
    engine.map_host(CODE, 2 * PAGE, 5, ctypes.addressof(code))
    engine.map_host(start, 4 * PAGE, 0, ctypes.addressof(data))
    engine.protect(start, 4 * PAGE, 3, 0)
    assert _store_load(engine, start + PAGE, start + 3 * PAGE) is None
    engine.protect(start, 4 * PAGE, 0, 3)
    assert sorted(flushes["pages"]) == [start + PAGE, start + 3 * PAGE]
    assert flushes["whole"] == 0
    fault = _load(engine, start + 3 * PAGE)
    assert (fault.address, fault.access) == (start + 3 * PAGE, "read")
    assert all(engine.page_access(start + i * PAGE) == 0 for i in range(4))
    del code, data
