"""CPU context save and restore (pyunik/cpu/context.py): guest code sets general,
x87, SSE and flag state; the context is saved, the engine clobbered by other guest
code, the context restored, and guest code then stores what it sees (fxsave, pushfq),
which must be what was set. No kernel: an Engine with a few host pages."""

from __future__ import annotations

import ctypes
import struct
import time

import pytest

from pyunik.abi import x86 as arch
from pyunik.cpu.context import SIZE, CpuContext
from pyunik.cpu.engine import Engine

PAGE = 4096
CODE, SET, CLOBBER, CHECK, OUT = 0x400000, 0x400000, 0x400400, 0x400800, 0x402000
STACK = 0x401F00

# fninit; fldcw [cw=0x027f]; fld1; fldpi; fldl2e; ldmxcsr [0x9fc0]; xmm0, xmm7,
# xmm15 <- 16-byte patterns; rax..r15 <- 0x1111..., 0x2222..., 0x3333, ...; stc;
# std; hlt (assembled with GNU as from the listing in the comments above each use)
SET_CODE = bytes.fromhex(
    "dbe3d92d9b000000d9e8d9ebd9ea0fae1590000000f30f6f0593000000f30f6f3d9b000000f344"
    "0f6f3da200000048b8111111111111111148bb222222222222222248c7c13333000048c7c24444"
    "000048c7c65555000048c7c76666000048c7c57777000049c7c00800000049c7c10900000049c7"
    "c20a00000049c7c30b00000049c7c40c00000049c7c50d00000049c7c60e00000049bf15151515"
    "15151515f9fdf47f02c09f00000f1f8000000000080706050403020118171615141312112827"
    "262524232221383736353433323148474645444342415857565554535251")
XMM_SET = {0: bytes.fromhex("0807060504030201" "1817161514131211"),
           7: bytes.fromhex("2827262524232221" "3837363534333231"),
           15: bytes.fromhex("4847464544434241" "5857565554535251")}
GPR_SET = {"rax": 0x1111111111111111, "rbx": 0x2222222222222222, "rcx": 0x3333,
           "rdx": 0x4444, "rsi": 0x5555, "rdi": 0x6666, "rbp": 0x7777, "r8": 8, "r9": 9,
           "r10": 10, "r11": 11, "r12": 12, "r13": 13, "r14": 14,
           "r15": 0x1515151515151515}
# fninit; xorps xmm0/xmm7/xmm15; ldmxcsr [0x1f80]; zero rax..rbp, r8, r15; cld; hlt
CLOBBER_CODE = bytes.fromhex(
    "dbe30f57c00f57ff450f57ff0fae151600000031c031db31c931d231f631ff31ed4531c04531ff"
    "fcf4801f0000")
# fxsave [OUT]; pushfq; pop [OUT+0x400]; mov [OUT+0x408], rax; mov [OUT+0x410], r15;
# mov [OUT+0x418], rbp; fstp tbyte [OUT+0x420]; hlt
CHECK_CODE = bytes.fromhex(
    "0fae0425002040009c8f04250024400048890425082440004c893c251024400048892c25182440"
    "00db3c2520244000f4")

# 80-bit values of fld1, fldpi, fldl2e as (significand, sign+exponent)
ONE = (0x8000000000000000, 0x3FFF)
PI = (0xC90FDAA22168C235, 0x4000)
L2E = (0xB8AA3B295C17F0BC, 0x3FFF)


@pytest.fixture
def engine():
    return make_engine()


def make_engine():
    """An engine with SET, CLOBBER and CHECK mapped (test_context_state.py too)."""
    e = Engine()
    pages = ctypes.create_string_buffer(3 * PAGE)
    e.map_host(CODE, 3 * PAGE, 7, ctypes.addressof(pages))
    e.write(SET, SET_CODE)
    e.write(CLOBBER, CLOBBER_CODE)
    e.write(CHECK, CHECK_CODE)
    e.set_reg("rsp", STACK)
    e._keep = pages
    return e


def _run(engine, pc):
    fault = engine.run(pc)
    assert fault is None, vars(fault)


def test_context_fields_after_guest_sets_them(engine):
    """A saved context holds what the guest code set, decoded by name."""
    engine.set_reg("fs_base", 0x7F0000001000)
    engine.set_reg("gs_base", 0x7F0000002000)
    _run(engine, SET)
    ctx = engine.save_context()
    for name, value in GPR_SET.items():
        assert ctx[name] == value, name
    assert ctx.rsp == STACK
    assert ctx.rip == SET + SET_CODE.index(b"\xf4") + 1      # after hlt
    assert ctx["rflags"] & arch.X86_EFLAGS_CF and ctx["rflags"] & arch.X86_EFLAGS_DF
    assert (ctx["fs_base"], ctx["gs_base"]) == (0x7F0000001000, 0x7F0000002000)
    assert (ctx["cs"], ctx["ss"], ctx["ds"]) == (arch.USER_CS, arch.USER_DS, 0)
    assert ctx["fcw"] == 0x027F and ctx["mxcsr"] == 0x9FC0
    assert ctx.top == 5                       # three pushes from 0
    assert [ctx.st(i) for i in range(3)] == [L2E, PI, ONE]
    for i, value in XMM_SET.items():
        assert ctx.xmm(i) == value
    assert ctx.xmm(1) == bytes(16)


def test_restore_gives_the_guest_its_state_back(engine):
    """Save, clobber every part with guest code, restore: the guest's own fxsave,
    pushfq and stores see the saved registers, x87 stack and SSE state."""
    engine.set_reg("fs_base", 0x7F0000001000)
    _run(engine, SET)
    ctx = engine.save_context()
    _run(engine, CLOBBER)
    engine.set_reg("fs_base", 0)
    clobbered = engine.save_context()
    assert clobbered["rax"] == 0 and clobbered.xmm(0) == bytes(16)
    assert clobbered["fcw"] == 0x037F and clobbered.top == 0
    engine.restore_context(ctx)
    assert engine.reg("fs_base") == 0x7F0000001000
    assert engine.reg("rip") == ctx.rip
    _run(engine, CHECK)
    fx = engine.read(OUT, 512)
    fcw, fsw, ftw = struct.unpack_from("<HHB", fx, 0)
    mxcsr = struct.unpack_from("<I", fx, 24)[0]
    assert fcw == 0x027F
    assert (fsw >> 11) & 7 == 5
    assert ftw == 0b11100000                  # abridged tags: FP5, FP6, FP7 in use
    assert mxcsr == 0x9FC0
    sts = [struct.unpack_from("<QH", fx, 32 + 16 * i) for i in range(3)]
    assert sts == [L2E, PI, ONE]
    for i, value in XMM_SET.items():
        assert fx[160 + 16 * i:176 + 16 * i] == value
    flags, rax, r15, rbp = struct.unpack("<4Q", engine.read(OUT + 0x400, 32))
    assert flags & arch.X86_EFLAGS_CF and flags & arch.X86_EFLAGS_DF
    assert (rax, r15, rbp) == (GPR_SET["rax"], GPR_SET["r15"], GPR_SET["rbp"])
    assert struct.unpack("<QH", engine.read(OUT + 0x420, 10)) == L2E   # fstp popped ST0


def test_two_contexts_switch_back_and_forth(engine):
    """Two threads' contexts on one engine: each restore brings back its own."""
    _run(engine, SET)
    first = engine.save_context()
    _run(engine, CLOBBER)
    second = engine.save_context()
    for _ in range(3):
        engine.restore_context(first)
        assert engine.save_context().raw == first.raw
        engine.restore_context(second)
        assert engine.save_context().raw == second.raw
    assert first.raw != second.raw


def test_changed_fields_reach_the_engine(engine):
    """Fields set on a context (as signal delivery does) are what the engine gets,
    x87 and vector registers included; the YMM upper halves round-trip too."""
    _run(engine, SET)
    ctx = engine.save_context()
    changed = ctx.copy()
    changed.update({"rdi": 11, "rsi": 0x7FFE0000, "rip": CHECK, "rflags": 0x202})
    changed.set_xmm(3, b"\xaa" * 16)
    changed.set_ymm_high(3, b"\x55" * 16)
    changed.set_fp(0, *PI)
    changed["mxcsr"] = arch.MXCSR_DEFAULT
    assert ctx["rdi"] == GPR_SET["rdi"]                       # the copy is separate
    engine.restore_context(changed)
    assert (engine.reg("rdi"), engine.reg("rsi"), engine.reg("rip")) == (11, 0x7FFE0000,
                                                                        CHECK)
    back = engine.save_context()
    assert back.xmm(3) == b"\xaa" * 16 and back.ymm_high(3) == b"\x55" * 16
    assert back.fp(0) == PI and back["mxcsr"] == arch.MXCSR_DEFAULT
    assert back["rflags"] & 0xFFF == 0x202


def test_context_loaded_in_the_syscall_hook_runs_when_the_hook_returns(engine):
    """A thread switch inside a system call (the scheduler's hand-over): the hook
    loads another context, with the return registers of a call of its that has
    completed; when the hook returns, the guest runs that context from its return
    address, with its x87/SSE state, rax the result, rcx and r11 as `syscall`
    leaves them. Without them, it goes on at the context's own rip."""
    syscall_at = 0x400C00
    engine.write(syscall_at, b"\x0f\x05\xf4")           # syscall; hlt
    _run(engine, SET)
    ctx = engine.save_context()
    _run(engine, CLOBBER)
    engine.on_syscall = lambda regs: engine.contexts.restore_in_syscall(
        ctx, (-4 & 0xFFFFFFFFFFFFFFFF, CHECK, 0x246))
    _run(engine, syscall_at)
    flags, rax, r15, rbp = struct.unpack("<4Q", engine.read(OUT + 0x400, 32))
    assert rax == -4 & 0xFFFFFFFFFFFFFFFF and (r15, rbp) == (GPR_SET["r15"], GPR_SET["rbp"])
    assert (engine.reg("rcx"), engine.reg("r11")) == (CHECK, 0x246)
    fx = engine.read(OUT, 512)
    assert struct.unpack_from("<H", fx, 0)[0] == 0x027F
    for i, value in XMM_SET.items():
        assert fx[160 + 16 * i:176 + 16 * i] == value
    assert engine.reg("rip") == CHECK + CHECK_CODE.index(b"\xf4") + 1
    at_check = ctx.copy()
    at_check["rip"] = CHECK
    engine.on_syscall = lambda regs: engine.contexts.restore_in_syscall(at_check)
    engine.write(OUT + 0x408, bytes(8))
    _run(engine, syscall_at)
    assert engine.read(OUT + 0x408, 8) == GPR_SET["rax"].to_bytes(8, "little")


def test_initial_context_is_a_new_threads():
    ctx = CpuContext.initial()
    assert ctx["fcw"] == 0x037F and ctx["mxcsr"] == 0x1F80
    assert (ctx["cs"], ctx["ss"]) == (0x33, 0x2B)
    assert ctx["rflags"] == 0x202 and ctx.rip == 0 and len(ctx.raw) == SIZE


def test_save_restore_cost(engine):
    """The figure in cpu/switch.py's docstring, with a generous bound: a switch pays
    save + restore once, so it must stay a few microseconds."""
    _run(engine, SET)
    ctx = engine.save_context()
    n = 2000
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            engine.save_context(ctx)
            engine.restore_context(ctx)
        best = min(best, (time.perf_counter() - start) / n)
    assert best < 50e-6, best


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_programs_start_with_linux_fpu_state(run_native, run_pyunik, libc):
    """After execve the x87 control word is 0x37f, the tags empty and MXCSR 0x1f80
    (Unicorn starts with zeros: long double arithmetic then runs at the wrong
    precision), and x87 and SSE arithmetic print as natively."""
    from conftest import assert_no_traceback, assert_same
    argv = ["guest_images/bin/" + "fpuinit" + "-" + libc]
    native = run_native(argv)
    emulated = run_pyunik(argv)
    assert_no_traceback(emulated)
    assert native.status == 0 and b"control=0x37f" in native.stdout
    assert_same(native, emulated)
