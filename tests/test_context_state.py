"""Thread switches inside the syscall hook keep the parked thread's CPU state as
Unicorn's own copy (cpu/switch.py, ContextSwitcher.switch_in_syscall): the copy
decodes to the same registers a register batch reads, comes back with a completed
call's return registers, and a change made to it, or a load onto another engine,
goes through the registers instead."""

from __future__ import annotations

import struct

import pytest

from pyunik.cpu.engine import Engine

from test_context import (CHECK, CHECK_CODE, CLOBBER, GPR_SET, OUT, SET, XMM_SET, _run,
                          make_engine)

SYSCALL_AT = 0x400C00       # syscall; hlt
IDLE = 0x400C10             # hlt


@pytest.fixture
def engine():
    return make_engine()


def _park(engine):
    """Run the guest into a syscall whose hook parks it and loads an idle context;
    the parked thread's context."""
    engine.write(SYSCALL_AT, b"\x0f\x05\xf4")
    engine.write(IDLE, b"\xf4")
    idle = engine.save_context()
    idle["rip"] = IDLE
    parked = {}

    def park(regs):
        parked["ctx"] = engine.contexts.switch_in_syscall(None, idle)
    engine.on_syscall = park
    _run(engine, SYSCALL_AT)
    assert engine.reg("rip") == IDLE + 1
    return parked["ctx"]


def _resume(engine, ctx, rax=-4 & 0xFFFFFFFFFFFFFFFF):
    engine.on_syscall = lambda regs: engine.contexts.switch_in_syscall(
        None, ctx, (rax, CHECK, 0x246), False)
    _run(engine, SYSCALL_AT)
    return struct.unpack("<4Q", engine.read(OUT + 0x400, 32))


def test_parked_state_decodes_to_the_registers(engine):
    _run(engine, SET)
    ctx = _park(engine)
    assert ctx.rip == SYSCALL_AT
    assert {name: ctx[name] for name in GPR_SET} == GPR_SET
    assert (ctx["fcw"], ctx["mxcsr"], ctx["cs"], ctx["ss"]) == (0x027F, 0x9FC0, 0x33, 0x2B)
    for i, value in XMM_SET.items():
        assert ctx.xmm(i) == value
    assert ctx.copy().raw == ctx.raw


def test_parked_state_resumes_with_the_calls_result(engine):
    _run(engine, SET)
    ctx = _park(engine)
    _run(engine, CLOBBER)
    _flags, rax, r15, rbp = _resume(engine, ctx)
    assert rax == -4 & 0xFFFFFFFFFFFFFFFF and (r15, rbp) == (GPR_SET["r15"], GPR_SET["rbp"])
    assert (engine.reg("rcx"), engine.reg("r11")) == (CHECK, 0x246)
    assert engine.reg("rip") == CHECK + CHECK_CODE.index(b"\xf4") + 1
    fx = engine.read(OUT, 512)
    assert struct.unpack_from("<H", fx, 0)[0] == 0x027F
    for i, value in XMM_SET.items():
        assert fx[160 + 16 * i:176 + 16 * i] == value
    # parked again by the same context object: the state is saved anew
    _run(engine, CLOBBER)
    again = _park(engine)
    assert again["rbp"] == 0 and again.xmm(7) == bytes(16)


def test_a_change_to_a_parked_state_reaches_the_engine(engine):
    _run(engine, SET)
    ctx = _park(engine)
    ctx["rbp"] = 0x1234
    ctx.set_xmm(7, b"\x99" * 16)
    _run(engine, CLOBBER)
    _flags, rax, r15, rbp = _resume(engine, ctx, 7)
    assert (rax, r15, rbp) == (7, GPR_SET["r15"], 0x1234)
    assert engine.read(OUT + 160 + 16 * 7, 16) == b"\x99" * 16


def test_a_parked_state_loads_onto_another_engine_by_its_registers(engine):
    _run(engine, SET)
    ctx = _park(engine)
    other = Engine()
    other.restore_context(ctx)
    assert other.reg("r15") == GPR_SET["r15"] and other.reg("rip") == SYSCALL_AT
    engine.restore_context(ctx)
    assert engine.reg("rbp") == GPR_SET["rbp"] and engine.reg("rip") == SYSCALL_AT
