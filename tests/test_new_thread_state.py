"""A new thread's registers as Unicorn's own copy of the CPU state (cpu/switch.py,
ContextSwitcher.new_thread, which clone's thread path uses: kernel/threads.py): the
copy decodes to the registers save_returning gives (rax 0, rcx and rip past the
syscall, r11 the flags, the new rsp and fs_base, everything else the caller's), and
it runs from there whichever way it is loaded: inside the syscall hook (the
scheduler's hand-over, one memcpy), by the run loop outside the hook, or onto
another engine through the registers. An exited thread's copy is kept for the next
new thread (retire)."""

from __future__ import annotations

import struct

import pytest

from pyunik.cpu.engine import Engine

from test_context import (CHECK_CODE, GPR_SET, OUT, SET, XMM_SET, _run, make_engine)

CLONE_AT = 0x400C00          # syscall, then CHECK_CODE: the new thread's first steps
IDLE = 0x400D00              # syscall; hlt: the hook loads a context there
NEW_RSP, NEW_FS = 0x401E00, 0x7F0000003000
AFTER = CLONE_AT + 2


@pytest.fixture
def engine():
    e = make_engine()
    e.write(CLONE_AT, b"\x0f\x05" + CHECK_CODE)
    e.write(IDLE, b"\x0f\x05\xf4")
    return e


def _clone(engine, rsp=NEW_RSP, fs_base=NEW_FS, with_at=True):
    """Run SET, then a syscall at CLONE_AT whose hook makes a new thread's context
    and stops; that context."""
    engine.set_reg("fs_base", 0x7F0000001000)
    _run(engine, SET)
    made = {}

    def clone(regs):
        at = (regs[7], regs[8]) if with_at else None
        made["ctx"] = engine.contexts.new_thread(rsp, fs_base, at)
        made["rflags"] = regs[8]
        engine.stop()
    engine.on_syscall = clone
    _run(engine, CLONE_AT)
    return made["ctx"], made["rflags"]


def _expect(ctx, rflags, rsp=NEW_RSP, fs_base=NEW_FS):
    assert ctx.rip == AFTER and ctx["rax"] == 0
    assert (ctx["rcx"], ctx["r11"]) == (AFTER, rflags)
    assert (ctx.rsp, ctx["fs_base"]) == (rsp, fs_base)
    assert {name: ctx[name] for name in ("rbx", "rdx", "rbp", "r8", "r15")} == \
        {name: GPR_SET[name] for name in ("rbx", "rdx", "rbp", "r8", "r15")}
    assert (ctx["fcw"], ctx["mxcsr"], ctx["cs"], ctx["ss"]) == (0x027F, 0x9FC0, 0x33, 0x2B)
    for i, value in XMM_SET.items():
        assert ctx.xmm(i) == value


def _load(engine, ctx) -> None:
    """A hand-over in the hook: the running registers saved, ctx loaded."""
    engine.contexts.switch_in_syscall(None, ctx)


def _checked(engine):
    """What CHECK_CODE stored: (rflags, rax, r15, rbp), the fxsave image."""
    return struct.unpack("<4Q", engine.read(OUT + 0x400, 32)), engine.read(OUT, 512)


@pytest.mark.parametrize("with_at", [True, False], ids=["hook's rip", "engine's rip"])
def test_new_thread_decodes_as_save_returning(engine, with_at):
    ctx, rflags = _clone(engine, with_at=with_at)
    _expect(ctx, rflags)
    engine.restore_context(ctx)          # (the caller's registers back, as after the call)
    _run(engine, SET)
    plain = engine.contexts.save_returning(NEW_RSP, NEW_FS)   # from SET's end: same GPRs
    assert {n: ctx[n] for n in GPR_SET if n not in ("rax", "rcx", "r11")} == \
        {n: plain[n] for n in GPR_SET if n not in ("rax", "rcx", "r11")}


def test_new_thread_keeps_the_callers_stack_and_thread_pointer_when_not_given(engine):
    ctx, rflags = _clone(engine, rsp=0, fs_base=None)
    _expect(ctx, rflags, rsp=engine.reg("rsp"), fs_base=0x7F0000001000)


def test_new_thread_loaded_in_the_hook_runs_from_past_the_syscall(engine):
    ctx, rflags = _clone(engine)
    engine.on_syscall = lambda regs: _load(engine, ctx)
    _run(engine, IDLE)
    (flags, rax, r15, rbp), fx = _checked(engine)
    assert (rax, r15, rbp) == (0, GPR_SET["r15"], GPR_SET["rbp"])
    assert (engine.reg("rsp"), engine.reg("fs_base")) == (NEW_RSP, NEW_FS)
    assert (engine.reg("rcx"), engine.reg("r11")) == (AFTER, rflags)
    assert struct.unpack_from("<H", fx, 0)[0] == 0x027F
    for i, value in XMM_SET.items():
        assert fx[160 + 16 * i:176 + 16 * i] == value
    assert engine.reg("rip") == CLONE_AT + 2 + CHECK_CODE.index(b"\xf4") + 1


def test_new_thread_loaded_by_the_run_loop_runs_from_past_the_syscall(engine):
    ctx, _ = _clone(engine)
    engine.restore_context(ctx)
    assert engine.reg("rip") == AFTER
    _run(engine, engine.reg("rip"))
    (_, rax, r15, _), _ = _checked(engine)
    assert (rax, r15) == (0, GPR_SET["r15"])
    assert ctx.rip == AFTER              # and it still decodes so


def test_new_thread_onto_another_engine_goes_by_its_registers(engine):
    ctx, _ = _clone(engine)
    other = Engine()
    other.restore_context(ctx)
    assert (other.reg("rip"), other.reg("rax"), other.reg("rsp")) == (AFTER, 0, NEW_RSP)
    assert other.reg("r15") == GPR_SET["r15"]


def test_a_changed_new_thread_context_goes_by_its_registers(engine):
    ctx, _ = _clone(engine)
    ctx["rbp"] = 0x1234                  # (signal delivery changes a context so)
    engine.on_syscall = lambda regs: _load(engine, ctx)
    _run(engine, IDLE)
    (_, rax, _, rbp), _ = _checked(engine)
    assert (rax, rbp) == (0, 0x1234)


def test_an_exited_threads_copy_serves_the_next_new_thread(engine):
    ctx, _ = _clone(engine)
    state = ctx._state
    engine.contexts.retire(ctx)
    assert ctx.raw == bytes(len(ctx.raw)) and ctx.rip == 0
    again, rflags = _clone(engine)
    assert again._state is state
    _expect(again, rflags)
    engine.contexts.retire(engine.save_context())     # (a context of its registers: kept)
    assert engine.contexts.new_thread(NEW_RSP, NEW_FS)._state is not state
