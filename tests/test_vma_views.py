"""The memoryview through which the kernel copies to and from a VMA's host memory
(VMA.view, made by mm/usermem.py on first use): a slice of its host window's or the
heap reserve's one view where the VMA lies in one, made with a ctypes call where it
does not (a mapping across a window's edge has host memory of its own). Each kind is
read and written here at both ends, and after an mprotect cuts the VMA; read_int
unpacks an integer from the view, and leaves every other case to read.
"""

from __future__ import annotations

import ctypes
from errno import EFAULT

import pytest
from test_address_space import ANON, FIXED, NONE, PAGE, RW, WINDOW_EDGE, R, check
import test_address_space

from pyunik.abi.posix_types import UINT
from pyunik.abi.signal import SIGSET
from pyunik.errors import KernelError

mm = test_address_space.mm                  # the fixture: a fresh address space


def through_view(mm, a: int, size: int) -> None:
    """The VMA at a, written by the kernel and by the guest (its host memory), reads
    back both ways at its first and last bytes."""
    mm.write(a, b"first")
    mm.write(a + size - 4, b"last")
    v = mm.find(a)
    assert ctypes.string_at(v.host_at(a), 5) == b"first"
    ctypes.memmove(v.host_at(a + size - 8), b"gues", 4)
    assert mm.read(a + size - 8, 8) == b"gueslast"
    assert mm.read(a, 5) == b"first"
    assert v.view is not None and len(v.view) == v.end - v.start


def test_a_window_mapping_slices_the_window_view(mm):
    a = mm.mmap(0, 8 * PAGE, RW, ANON)
    b = mm.mmap(0, 4 * PAGE, RW, ANON)
    through_view(mm, a, 8 * PAGE)
    through_view(mm, b, 4 * PAGE)
    assert mm.find(a).reserve is mm.windows
    assert mm.find(a).view.obj is mm.find(b).view.obj       # one window, one view
    check(mm)


def test_a_thread_stack_cut_by_mprotect_gets_a_view_of_its_own_part(mm):
    a = mm.mmap(0, 35 * PAGE, NONE, ANON)
    mm.mprotect(a + 2 * PAGE, 33 * PAGE, RW)
    through_view(mm, a + 2 * PAGE, 33 * PAGE)
    mm.mprotect(a + 10 * PAGE, PAGE, NONE)                   # cut again: views again
    through_view(mm, a + 2 * PAGE, 8 * PAGE)
    through_view(mm, a + 11 * PAGE, 24 * PAGE)
    check(mm)


def test_a_mapping_across_a_window_edge_has_a_view_of_its_own(mm):
    a = mm.mmap(WINDOW_EDGE - 2 * PAGE, 4 * PAGE, RW, FIXED)
    v = mm.find(a)
    assert v.reserve is None
    through_view(mm, a, 4 * PAGE)
    assert mm.windows.view(v.start, v.host, 4 * PAGE) is None
    assert v.view.obj is None                                 # (PyMemoryView_FromMemory)
    check(mm)


def test_the_heap_slices_its_reserve_view(mm):
    mm.set_initial_brk(0x600000)
    top = mm.do_brk(0x600000 + 16 * PAGE)
    through_view(mm, 0x600000, 16 * PAGE)
    heap = mm.find(0x600000).reserve
    assert heap is not mm.windows
    assert heap.view(0x600000, heap.base + heap.size, PAGE) is None   # past its end
    assert mm.find(0x600000).view.obj is heap.view(0x600000, heap.base, PAGE).obj
    grown = mm.do_brk(top + 8 * PAGE)
    through_view(mm, 0x600000, grown - 0x600000)
    check(mm)


def test_an_integer_read_through_the_view_and_every_case_it_declines(mm):
    a = mm.mmap(0, 4 * PAGE, RW, ANON)
    mm.mprotect(a + 2 * PAGE, 2 * PAGE, R)               # two VMAs, one after the other
    mm.write(a + 8, (0x1122334455667788).to_bytes(8, "little"))
    assert mm.read_int(a + 8, SIGSET) == 0x1122334455667788
    assert mm.read_int(a + 12, UINT) == 0x11223344
    edge = a + 2 * PAGE - 4                               # across the two: read's answer
    mm.write(edge, b"\x01\x02\x03\x04")
    assert mm.read_int(edge, SIGSET) == 0x04030201
    assert mm.read_int(a + 4 * PAGE - 4, UINT) == 0
    for bad in (a + 4 * PAGE - 2, a - 4, 0):               # past its end, before it, NULL
        with pytest.raises(KernelError) as e:
            mm.read_int(bad, SIGSET)
        assert e.value.errno == EFAULT
    mm.mprotect(a, PAGE, NONE)                             # no access: EFAULT too
    with pytest.raises(KernelError) as e:
        mm.read_int(a + 8, UINT)
    assert e.value.errno == EFAULT
    check(mm)
