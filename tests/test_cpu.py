"""The CPU engine (pyunik/cpu/): guest code that writes code, the benchmark programs
against Linux, memory faults with their addresses, and the engine's page tables.

The engine runs the guest with x86-64 paging on so that stores take Unicorn's fast
path (cpu/paging.py says why); these tests hold it to what that must not change:
self-modifying code is seen, protections are enforced, fault addresses are right.
"""

from __future__ import annotations

import ctypes
import re

import pytest

from conftest import assert_no_traceback, assert_same

LIBCS = ["musl", "glibc"]


def guest(name: str) -> str:
    return "guest_images/bin/" + name


@pytest.mark.parametrize("libc", LIBCS)
def test_self_modifying_code_matches_linux(run_native, run_pyunik, libc):
    """An RWX page rewritten by stores, W^X flips with mprotect, an instruction that
    patches the next one, code written by read() into an executable page, and a
    page unmapped and mapped again with new code: each call sees the new bytes."""
    native = run_native([guest("smc-" + libc)])
    emulated = run_pyunik([guest("smc-" + libc)])
    assert_no_traceback(emulated)
    assert native.status == 0
    assert_same(native, emulated)


@pytest.mark.parametrize("libc", LIBCS)
def test_store_to_code_after_mprotect_faults(run_native, run_pyunik, libc):
    """Code that ran, then mprotect(PROT_READ|PROT_EXEC), then a store to it: SIGSEGV
    in both, and pyunik's report names the write and the page's protection."""
    argv = [guest("smc-" + libc), "protect"]
    native = run_native(argv)
    emulated = run_pyunik(argv)
    assert_no_traceback(emulated)
    assert native.status == emulated.status == 139
    assert emulated.stdout == native.stdout
    report = emulated.stderr.decode()
    assert re.search(r"write access at 0x[0-9a-f]+001: no write permission \(r-xp\)",
                     report), report


BENCH_CASES = [("store", "100000"), ("interp", "20000"), ("indirect", "50000"),
               ("ptrchase", "20000", "1"), ("tcompute", "4", "30000000")]


@pytest.mark.parametrize("libc", LIBCS)
@pytest.mark.parametrize("case", BENCH_CASES, ids=[c[0] for c in BENCH_CASES])
def test_benchmark_programs_match_linux(run_native, run_pyunik, case, libc):
    """The guest-speed benchmark's programs print the same result as on Linux."""
    argv = [guest(case[0] + "-" + libc)] + list(case[1:])
    native = run_native(argv)
    emulated = run_pyunik(argv)
    assert_no_traceback(emulated)
    assert native.status == 0
    assert_same(native, emulated)


# ---- the engine itself -------------------------------------------------------------------

PAGE = 4096
# mov eax, 1; mov [rdi], eax; mov eax, [rsi]; hlt -- a store, then a load
_STORE_LOAD = bytes.fromhex("b801000000" "8907" "8b06" "f4")


def _engine_with(pages: dict[int, tuple[int, bytes]]):
    """An Engine with each {address: (prot, contents)} page mapped from host memory."""
    from pyunik.cpu.engine import Engine
    engine = Engine()
    keep = []
    for addr, (prot, data) in pages.items():
        buf = ctypes.create_string_buffer(data.ljust(PAGE, b"\0"), PAGE)
        keep.append(buf)
        engine.map_host(addr, PAGE, prot, ctypes.addressof(buf))
    return engine, keep


def test_engine_faults_name_address_and_access():
    """A store to a read-only page, a load from an unmapped one and a jump to a
    page without exec: each fault gives the guest address and the access."""
    code, ro, rw = 0x400000, 0x7ffff0000000, 0x7ffff0001000
    engine, keep = _engine_with({code: (5, _STORE_LOAD), ro: (1, b""), rw: (3, b"")})
    engine.set_reg("rdi", ro + 8)
    engine.set_reg("rsi", rw)
    fault = engine.run(code)
    assert (fault.kind, fault.address, fault.access) == ("segv", ro + 8, "write")
    assert engine.reg("rip") == code + 5                 # the store, not past it
    engine.set_reg("rdi", rw)
    engine.set_reg("rsi", 0x10)
    fault = engine.run(code)
    assert (fault.kind, fault.address, fault.access) == ("segv", 0x10, "read")
    fault = engine.run(rw)
    assert (fault.kind, fault.address, fault.access) == ("segv", rw, "exec")
    assert engine.read(rw, 4) == b"\1\0\0\0"             # the store that went through


def test_engine_unmap_protect_and_remap():
    """Protect and unmap parts of mappings, map again at the same address: reads,
    writes and faults follow, and code mapped again runs its new bytes."""
    code = 0x500000
    ret = bytes.fromhex("b8%08x" % 0x11000000 + "f4")       # mov eax, 0x11; hlt
    engine, keep = _engine_with({code: (5, ret), code + PAGE: (3, b"x" * 16)})
    engine.run(code)
    assert engine.reg("rax") == 0x11
    engine.write(code + PAGE + 8, b"yz")
    assert engine.read(code + PAGE, 12) == b"xxxxxxxxyzxx"
    assert engine.read(code + PAGE - 2, 4)[2:] == b"xx"       # across two mappings
    engine.unmap(code, PAGE)
    fault = engine.run(code)
    assert (fault.address, fault.access) == (code, "exec")
    other = ctypes.create_string_buffer(bytes.fromhex("b8%08x" % 0x22000000 + "f4"), PAGE)
    engine.map_host(code, PAGE, 5, ctypes.addressof(other))
    engine.run(code)
    assert engine.reg("rax") == 0x22
    engine.protect(code + PAGE, PAGE, 1)
    engine.set_reg("rdi", code + PAGE)
    engine.set_reg("rsi", code + PAGE)
    store = ctypes.create_string_buffer(_STORE_LOAD, PAGE)
    engine.map_host(0x600000, PAGE, 5, ctypes.addressof(store))
    fault = engine.run(0x600000)
    assert (fault.address, fault.access) == (code + PAGE, "write")
    engine.protect(code + PAGE, PAGE, 3)
    assert engine.run(0x600000) is None and engine.reg("rax") == 1
    del keep, other, store


def test_stops_from_another_thread_resume_exactly():
    """A time slice ended by a host timer stops the CPU between two instructions
    (cpu/stops.py): resumed at rip, no store runs twice. The loop counts in a
    register and in memory; Unicorn's own stop after a store would make the memory
    count run ahead."""
    code = 0x700000
    loop = bytes.fromhex("48ffc1" "48830701" "ebf7")   # l: inc rcx; add qword [rdi], 1; jmp l
    engine, keep = _engine_with({code: (5, loop), code + PAGE: (3, b"")})
    assert engine.block_stops, "unicorn's layout not recognised: slices are budgets"
    engine.set_reg("rdi", code + PAGE)
    pc = code
    for _ in range(150):
        engine.preempt_in(0.001)
        assert engine.run(pc) is None and engine.preempted
        pc = engine.reg("rip")
        assert pc == code         # the loop is one translated block
    count = int.from_bytes(engine.read(code + PAGE, 8), "little")
    assert count == engine.reg("rcx") > 0


def test_code_range_hooks_hold_code_and_no_physical_address():
    """engine.CODE_RANGES are memory hooks that spare Unicorn a TLB sweep after each
    translated block (engine.py says why that is safe). Unicorn checks a store's
    physical address against them before it lets later stores to the page take the
    fast path, so they must hold no physical address the engine maps; and they hold
    where code runs: a non-PIE program, a PIE one, shared libraries and JIT pages."""
    from pyunik.cpu import engine as cpu_engine
    from pyunik.cpu import paging
    physical = (paging.DATA_BASE, 1 << paging.PHYS_BITS)
    for begin, end in cpu_engine.CODE_RANGES:
        assert end < physical[0] or begin >= physical[1]
    for pc in (0x400000, 0x41f000, 0x555555554000, 0x7ffff7fc1000):
        assert any(begin <= pc <= end for begin, end in cpu_engine.CODE_RANGES)
    engine, keep = _engine_with({0x400000: (5, b"\xc3"), 0x7ffff7fc1000: (3, b"")})
    regions = engine.uc.mem_regions()
    assert len(regions) >= 2
    for begin, end, _ in regions:
        assert physical[0] <= begin <= end < physical[1]
    del keep


def test_engine_regions_have_separate_ram_offsets():
    """Each region of guest memory gets a RAM offset range of its own in Unicorn
    (cpu/engine.py _separate_ram_offsets): Unicorn 2.1 gave regions mapped before
    the first unmap the same offset when they were larger than the smallest before
    them, so a store to one region's page dropped the translated code of another's
    page at the same offset (a static program's .data and .text). Unicorn's own
    lookup from host pointer to RAM offset must give disjoint ranges."""
    from pyunik.cpu.engine import _raw
    lookup = getattr(_raw, "qemu_ram_addr_from_host_x86_64", None)
    if lookup is None:
        pytest.skip("this libunicorn does not export qemu_ram_addr_from_host")
    lookup.restype = ctypes.c_uint64
    lookup.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    from pyunik.cpu.engine import Engine
    engine = Engine()
    sizes = [1, 5, 4, 3, 2, 8]      # pages, in the order a static program maps them
    buffers, ranges = [], []
    addr = 0x400000
    for n in sizes:
        buf = ctypes.create_string_buffer(n * PAGE)
        buffers.append(buf)
        engine.map_host(addr, n * PAGE, 3, ctypes.addressof(buf))
        addr += (n + 1) * PAGE
    for buf, n in zip(buffers, sizes):
        start = lookup(engine.uc.handle, ctypes.addressof(buf))
        ranges.append((start, start + n * PAGE))
    ranges.sort()
    for (a, b), (c, d) in zip(ranges, ranges[1:]):
        assert b <= c, "RAM offsets overlap: %#x-%#x and %#x-%#x" % (a, b, c, d)
    engine.close()
    del buffers
