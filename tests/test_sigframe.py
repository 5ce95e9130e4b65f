"""Signal frames (pyunik/kernel/sigframe.py) without a running kernel: a thread's
registers are put on an engine, a frame is built from them (cpu/context's
FrameRegisters) on a guest stack in an AddressSpace, read back with abi's struct
formats, changed in guest memory as a handler would, and taken back as
rt_sigreturn does; the engine's registers are then read whole (CpuContext).

Layout facts also seen natively by guest_images/src/sigframe.c: rdx = rsp + 8,
rsi = rdx + 304, (rsp + 8) % 16 == 0, [rsp] = the restorer, fpstate 64-aligned above
the siginfo, the FP_XSTATE magic numbers, uc_flags 7, cs/ss 0x33/0x2b."""

from __future__ import annotations

import struct

import pytest

from pyunik.abi import linux as L
from pyunik.abi import sigcontext as SC
from pyunik.cpu.context import CpuContext
from pyunik.cpu.engine import Engine
from pyunik.kernel.process import SigAction
from pyunik.kernel import sigframe
from pyunik.kernel.sigframe import MATH_FRAME_SIZE, FrameError, handler_mask
from pyunik.mm.address_space import AddressSpace

STACK, STACK_SIZE = 0x7F0000000000, 0x10000
ALT, ALT_SIZE = 0x7F0000104000, 0x4000      # with mapped memory below it: an overflow
                                            # would not fault by itself
READONLY = 0x7F0000200000
HANDLER, RESTORER = 0x401000, 0x402000
ANON = L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_FIXED
NO_ALTSTACK = (0, L.SS_DISABLE, 0)
XMM3 = bytes(range(16))


class Built:
    """A frame built for a thread interrupted in ctx: the fields sigframe.SIGNAL_FRAME
    names, and `handler`, every register the engine then holds."""

    def __init__(self, frame, handler: CpuContext):
        assert len(frame) == len(sigframe.SIGNAL_FRAME)
        self.frame, self.info, self.ucontext, self.fpstate, self.altstack, _ = frame
        self.handler = handler


def build_rt_sigframe(mm, ctx: CpuContext, *args, **kwargs) -> Built:
    """sigframe.build_rt_sigframe for a thread whose registers are ctx, the handler's
    registers loaded on the engine as delivery loads them."""
    engine = mm.engine
    engine.restore_context(ctx)
    regs = engine.frame_regs
    regs.read()
    frame = sigframe.build_rt_sigframe(mm, regs, *args, **kwargs)
    regs.write()
    if frame[sigframe.SIGNAL_FRAME.index("selectors")]:
        regs.write_selectors()
    return Built(frame, engine.save_context())


class Returned:
    def __init__(self, back, context: CpuContext):
        assert len(back) == len(sigframe.SIGRETURN)
        self.blocked, self.altstack, self.sp = back
        self.context = context


def read_rt_sigframe(mm, running: CpuContext) -> Returned:
    """sigframe.read_rt_sigframe for a thread whose registers are `running`, the
    registers it restores loaded on the engine (all others as they were)."""
    engine = mm.engine
    engine.restore_context(running)
    regs = engine.frame_regs
    back = sigframe.read_rt_sigframe(mm, regs, *regs.read_stack())
    regs.write()
    return Returned(back, engine.save_context())


@pytest.fixture
def mm():
    space = AddressSpace(Engine(), 1 << 30)
    space.mmap(STACK, STACK_SIZE, L.PROT_READ | L.PROT_WRITE, ANON)
    space.mmap(ALT - 0x4000, 0x4000 + ALT_SIZE, L.PROT_READ | L.PROT_WRITE, ANON)
    space.mmap(READONLY, 0x1000, L.PROT_READ, ANON)
    return space


def interrupted(sp: int = STACK + STACK_SIZE - 0x1000 + 0x38) -> CpuContext:
    """A thread stopped mid-function: every general register distinct, DF and CF
    set, the x87 stack holding 1.0 and MXCSR rounding toward zero."""
    ctx = CpuContext.initial()
    ctx.update({name: 0x1000 + i for i, name in enumerate(SC.SIGCONTEXT_REGS[:16])})
    ctx.update({"rsp": sp, "rip": 0x401234, "fs_base": 0x7F00DEAD0000,
                "rflags": 0x202 | L.X86_EFLAGS_DF | L.X86_EFLAGS_CF,
                "mxcsr": 0x7F80, "fsw": 7 << 11, "ftw": 0x3FFF, "fcw": 0x027F})
    ctx.set_fp(7, 0x8000000000000000, 0x3FFF)       # ST(0) = 1.0 with TOP = 7
    ctx.set_xmm(3, XMM3)
    return ctx


def action(flags: int = L.SA_SIGINFO) -> SigAction:
    return SigAction(HANDLER, flags | L.SA_RESTORER, RESTORER, 0)


SIGINFO = L.SIGINFO_KILL.pack(L.SIGUSR1, 0, L.SI_USER, 4242, 1000)


def test_frame_layout_and_entry_registers(mm):
    ctx = interrupted()
    blocked = 1 << (L.SIGUSR2 - 1)
    f = build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, blocked, action(), NO_ALTSTACK,
                          trapno=14, error_code=6, cr2=0x1234)
    h = f.handler
    # entry registers (signal_64.c) and the ABI's alignment at function entry
    assert (h["rdi"], h["rsi"], h["rdx"], h["rax"]) == (L.SIGUSR1, f.info, f.ucontext, 0)
    assert (h.rip, h.rsp) == (HANDLER, f.frame)
    assert (f.frame + 8) % 16 == 0 and f.fpstate % 64 == 0
    assert f.ucontext == f.frame + 8 and f.info == f.ucontext + 304
    assert f.info + 128 <= f.fpstate and f.fpstate + MATH_FRAME_SIZE <= ctx.rsp - 128
    assert h["rflags"] & L.X86_EFLAGS_DF == 0 and h["rflags"] & L.X86_EFLAGS_CF
    assert h["rbx"] == ctx["rbx"] and h["fs_base"] == ctx["fs_base"]
    assert h["fcw"] == 0x037F and h["mxcsr"] == 0x1F80 and h.xmm(3) == bytes(16)
    assert h["ftw"] == 0xFFFF and h.fp(7) == (0, 0)
    # the frame, read back with abi's formats
    assert mm.read_u64(f.frame) == RESTORER
    uc = mm.read(f.ucontext, SC.UCONTEXT_SIZE)
    assert SC.UCONTEXT_HEAD.unpack_from(uc, 0) == (7, 0, 0, L.SS_DISABLE, 0)
    sc = SC.SIGCONTEXT.unpack_from(uc, SC.UCONTEXT_MCONTEXT)
    assert dict(zip(SC.SIGCONTEXT_REGS, sc)) == {n: ctx[n] for n in SC.SIGCONTEXT_REGS}
    assert sc[18:] == (0x33, 0, 0, 0x2B, 6, 14, blocked, 0x1234, f.fpstate)
    assert L.SIGSET.unpack_from(uc, SC.UCONTEXT_SIGMASK)[0] == blocked
    assert mm.read(f.info, 128) == SIGINFO
    # the fpstate: fxsave image, software bytes, xsave header, magic2
    fx = mm.read(f.fpstate, MATH_FRAME_SIZE)
    fcw, fsw, ftw, _, _, _, mxcsr, mask = SC.FPSTATE_HEAD.unpack_from(fx, 0)
    assert (fcw, fsw >> 11, ftw, mxcsr, mask) == (0x027F, 7, 0x80, 0x7F80, 0xFFFF)
    assert fx[SC.FPSTATE_ST:SC.FPSTATE_ST + 10] == (0x8000000000000000).to_bytes(8, "little") \
        + (0x3FFF).to_bytes(2, "little")
    assert fx[SC.FPSTATE_XMM + 48:SC.FPSTATE_XMM + 64] == XMM3
    magic1, extended, xfeatures, size = SC.FPX_SW_BYTES.unpack_from(fx, SC.FPSTATE_SW_RESERVED)
    assert (magic1, extended, xfeatures, size) == (SC.FP_XSTATE_MAGIC1, 580, 3, 576)
    assert SC.XSTATE_HEADER.unpack_from(fx, 512) == (3, 0)
    assert int.from_bytes(fx[576:580], "little") == SC.FP_XSTATE_MAGIC2


def test_alignment_for_every_stack_pointer(mm):
    """Whatever rsp the signal interrupts, the handler starts with rsp + 8 16-byte
    aligned, below the red zone."""
    for low in range(16):
        sp = STACK + STACK_SIZE - 0x800 + low
        f = build_rt_sigframe(mm, interrupted(sp), L.SIGUSR1, SIGINFO, 0, action(),
                              NO_ALTSTACK)
        assert (f.frame + 8) % 16 == 0 and f.fpstate + MATH_FRAME_SIZE <= sp - 128
        assert f.fpstate - f.frame == 456      # rt_sigreturn reads both in one go


def test_siginfo_written_only_with_sa_siginfo(mm):
    ctx = interrupted()
    first = build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, 0, action(), NO_ALTSTACK)
    mm.write(first.info, b"\xaa" * 128)
    again = build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, 0, action(0), NO_ALTSTACK)
    assert again.info == first.info and mm.read(again.info, 128) == b"\xaa" * 128
    assert again.handler["rsi"] == again.info            # passed all the same


def test_handler_changes_reach_the_restored_context(mm):
    """A handler edits uc_mcontext (rip past an instruction, rax, rbx, rflags),
    uc_sigmask and the fpstate (MXCSR, XMM3); rt_sigreturn takes all of it,
    rflags only in the bits FIX_EFLAGS lets through, SIGKILL never blocked."""
    ctx = interrupted()
    f = build_rt_sigframe(mm, ctx, L.SIGSEGV, SIGINFO, 0, action(), NO_ALTSTACK)
    sc = f.ucontext + SC.UCONTEXT_MCONTEXT
    offset = {name: 8 * i for i, name in enumerate(SC.SIGCONTEXT_REGS)}
    mm.write_u64(sc + offset["rip"], 0x401239)
    mm.write_u64(sc + offset["rax"], 0xFFFFFFFFFFFFFFFC)
    mm.write_u64(sc + offset["rbx"], 0x1234)
    mm.write_u64(sc + offset["rflags"], 0x46 | L.X86_EFLAGS_AC)       # IF off: not taken
    mm.write_u64(f.ucontext + SC.UCONTEXT_SIGMASK, 1 << (L.SIGUSR2 - 1) | 1 << (L.SIGKILL - 1))
    mm.write(f.fpstate + 24, (0x1F80).to_bytes(4, "little"))
    mm.write(f.fpstate + SC.FPSTATE_XMM + 48, b"\x77" * 16)
    running = f.handler.copy()
    running["rsp"] = f.frame + 8                      # the handler returned into pretcode
    running["rflags"] = 0x10202                      # IF and RF set while in the handler
    back = read_rt_sigframe(mm, running)
    r = back.context
    assert (r.rip, r["rax"], r["rbx"], r.rsp) == (0x401239, 0xFFFFFFFFFFFFFFFC, 0x1234, ctx.rsp)
    assert r["rflags"] == 0x246 | L.X86_EFLAGS_AC     # RF cleared from the frame, IF kept
    assert back.blocked == 1 << (L.SIGUSR2 - 1)
    assert r["mxcsr"] == 0x1F80 and r.xmm(3) == b"\x77" * 16
    assert r["fcw"] == 0x027F and r.top == 7 and r.st(0) == (0x8000000000000000, 0x3FFF)
    assert r["ftw"] == 0x3FFF                         # FP7 valid again, the rest empty
    assert (r["cs"], r["ss"], r["fs_base"]) == (0x33, 0x2B, ctx["fs_base"])
    assert back.altstack == NO_ALTSTACK
    unchanged = read_rt_sigframe(mm, running)
    assert unchanged.context.raw == r.raw


def test_round_trip_without_changes_is_the_interrupted_context(mm):
    ctx = interrupted()
    f = build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, 5, action(), NO_ALTSTACK)
    running = f.handler.copy()
    running["rsp"] = f.frame + 8
    back = read_rt_sigframe(mm, running)
    for name in SC.SIGCONTEXT_REGS + ("fcw", "fsw", "ftw", "mxcsr", "cs", "ss", "fs_base"):
        assert back.context[name] == ctx[name], name
    assert back.context.xmm(3) == XMM3 and back.context.fp(7) == ctx.fp(7)
    assert back.blocked == 5


def test_shortest_return_declines_selectors_the_general_way_takes(mm):
    """rt_sigreturn's shortest path (sigframe.read_simple_sigframe) takes a frame whose
    cs, gs, fs and ss are exactly as delivery writes them (0x33, 0, 0, 0x2b); Linux
    also takes other RPL bits in cs and ss and ignores gs and fs, so each such frame
    is declined (None, nothing written) and the general way restores it: cs and ss
    with RPL 3, the registers the frame holds."""
    selectors = SC.RT_SIGFRAME_UC + SC.UCONTEXT_MCONTEXT + 8 * len(SC.SIGCONTEXT_REGS)
    for cs, gs, fs, ss in ((0x30, 0, 0, 0x2B), (0x33, 0, 0, 0x28), (0x33, 7, 0, 0x2B),
                           (0x33, 0, 9, 0x2B), (0x33, 0, 0, 0x2B)):
        ctx = interrupted()
        f = build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, 0, action(), NO_ALTSTACK)
        mm.write(f.frame + selectors, struct.pack("<4H", cs, gs, fs, ss))
        running = f.handler.copy()
        running["rsp"] = f.frame + 8
        mm.engine.restore_context(running)
        back = sigframe.read_simple_sigframe(mm, mm.engine.frame_regs, f.frame + 8,
                                             running["rflags"])
        if (cs, gs, fs, ss) != (0x33, 0, 0, 0x2B):
            assert back is None
            assert mm.engine.save_context().raw == running.raw      # nothing written
        else:
            assert back is not None and back[2] == ctx.rsp
        general = read_rt_sigframe(mm, running)
        assert (general.context["cs"], general.context["ss"]) == (0x33, 0x2B)
        assert general.context.rip == ctx.rip and general.context.rsp == ctx.rsp


def test_shortest_return_to_a_low_rip(mm):
    """rt_sigreturn's shortest path writes rip 2 short (the syscall hook adds the
    instruction's length back): a handler's rip of 0 or 1 goes in as 2**64 - 2 or
    2**64 - 1, not as a negative number."""
    rip_at = SC.RT_SIGFRAME_UC + SC.UCONTEXT_MCONTEXT + 8 * SC.SIGCONTEXT_REGS.index("rip")
    for rip in (0, 1, 2, 0xFFFFFFFFFFFFFFFF):
        f = build_rt_sigframe(mm, interrupted(), L.SIGUSR1, SIGINFO, 0, action(), NO_ALTSTACK)
        mm.write_u64(f.frame + rip_at, rip)
        running = f.handler.copy()
        running["rsp"] = f.frame + 8
        mm.engine.restore_context(running)
        assert sigframe.read_simple_sigframe(mm, mm.engine.frame_regs, f.frame + 8,
                                             running["rflags"]) is not None
        assert mm.engine.save_context().rip == (rip - 2) % (1 << 64)


def test_altstack_choice(mm):
    alt = (ALT, 0, ALT_SIZE)
    ctx = interrupted()
    on = build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, 0, action(L.SA_ONSTACK), alt)
    assert ALT < on.frame and on.fpstate + MATH_FRAME_SIZE <= ALT + ALT_SIZE
    assert ALT + ALT_SIZE - on.frame < 2048                # from the top, no red zone
    uc = SC.UCONTEXT_HEAD.unpack(mm.read(on.ucontext, 40))
    assert uc[2:] == (ALT, 0, ALT_SIZE)
    off = build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, 0, action(), alt)
    assert STACK < off.frame < ctx.rsp - 128               # no SA_ONSTACK: the thread's stack
    disabled = build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, 0, action(L.SA_ONSTACK),
                                 NO_ALTSTACK)
    assert disabled.frame == off.frame
    # a signal while running on the altstack stays on it, below the interrupted rsp
    nested_sp = on.frame - 64
    nested = build_rt_sigframe(mm, interrupted(nested_sp), L.SIGUSR1, SIGINFO, 0,
                               action(L.SA_ONSTACK), alt)
    assert ALT < nested.frame < nested_sp - 128


def test_altstack_overflow_is_a_frame_error(mm):
    """Entering an altstack too small for the frame, or running out of it when
    nested: Linux forces SIGSEGV."""
    with pytest.raises(FrameError):
        build_rt_sigframe(mm, interrupted(), L.SIGUSR1, SIGINFO, 0, action(L.SA_ONSTACK),
                          (ALT, 0, 1024))
    with pytest.raises(FrameError):
        build_rt_sigframe(mm, interrupted(ALT + 600), L.SIGSEGV, SIGINFO, 0,
                          action(L.SA_ONSTACK), (ALT, 0, ALT_SIZE))
    with pytest.raises(FrameError):                     # nested without SA_ONSTACK too
        build_rt_sigframe(mm, interrupted(ALT + 600), L.SIGSEGV, SIGINFO, 0, action(),
                          (ALT, 0, ALT_SIZE))


def test_autodisarm_disables_the_altstack_after_delivery(mm):
    alt = (ALT, L.SS_AUTODISARM, ALT_SIZE)
    f = build_rt_sigframe(mm, interrupted(), L.SIGUSR1, SIGINFO, 0, action(L.SA_ONSTACK), alt)
    assert f.altstack == NO_ALTSTACK
    as_int = (ALT, L.SS_AUTODISARM - (1 << 32), ALT_SIZE)      # stack_t's ss_flags is an int
    assert SC.UCONTEXT_HEAD.unpack(mm.read(f.ucontext, 40))[2:] == as_int
    running = f.handler.copy()
    running["rsp"] = f.frame + 8
    assert read_rt_sigframe(mm, running).altstack == as_int  # sigreturn re-arms it


def test_unwritable_stack_and_missing_restorer(mm):
    with pytest.raises(FrameError):
        build_rt_sigframe(mm, interrupted(READONLY + 0xF00), L.SIGUSR1, SIGINFO, 0,
                          action(), NO_ALTSTACK)
    with pytest.raises(FrameError):
        build_rt_sigframe(mm, interrupted(0x10000), L.SIGUSR1, SIGINFO, 0, action(),
                          NO_ALTSTACK)
    with pytest.raises(FrameError):
        build_rt_sigframe(mm, interrupted(), L.SIGUSR1, SIGINFO, 0,
                          SigAction(HANDLER, L.SA_SIGINFO, 0, 0), NO_ALTSTACK)


def test_frame_and_fpstate_in_two_mappings(mm):
    """The fpstate in one mapping and the frame below it in another (one of them
    executable, so the two never merge): both written and read back whole; the
    frame an error when the fpstate's mapping is read-only."""
    low, high = 0x7F0000300000, 0x7F0000301000
    mm.mmap(low, 0x1000, L.PROT_READ | L.PROT_WRITE, ANON)
    sp = high + 0x300
    for prot in (L.PROT_READ | L.PROT_WRITE | L.PROT_EXEC, L.PROT_READ):
        mm.mmap(high, 0x1000, prot, ANON)
        ctx = interrupted(sp)
        if not prot & L.PROT_WRITE:
            with pytest.raises(FrameError):
                build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, 5, action(), NO_ALTSTACK)
            continue
        f = build_rt_sigframe(mm, ctx, L.SIGUSR1, SIGINFO, 5, action(), NO_ALTSTACK)
        assert f.frame < high <= f.fpstate                 # the case this test is for
        assert mm.read(f.fpstate + SC.FXSAVE_SIZE + SC.XSTATE_HEADER_SIZE, 4) == \
            SC.FP_XSTATE_MAGIC2.to_bytes(4, "little")
        assert mm.read(f.info, 128) == SIGINFO
        running = f.handler.copy()
        running["rsp"] = f.frame + 8
        back = read_rt_sigframe(mm, running)
        for name in SC.SIGCONTEXT_REGS + ("fcw", "fsw", "ftw", "mxcsr", "cs", "ss"):
            assert back.context[name] == ctx[name], name
        assert back.context.xmm(3) == XMM3 and back.blocked == 5


def _returned(mm, edit=None):
    f = build_rt_sigframe(mm, interrupted(), L.SIGUSR1, SIGINFO, 0, action(), NO_ALTSTACK)
    if edit:
        edit(f)
    running = f.handler.copy()
    running["rsp"] = f.frame + 8
    return read_rt_sigframe(mm, running)


def test_bad_frames_are_frame_errors(mm):
    sc = SC.UCONTEXT_MCONTEXT
    cases = {
        "unreadable": None,
        "32-bit cs": lambda f: mm.write(f.ucontext + sc + 144, (0x23).to_bytes(2, "little")),
        "bad ss": lambda f: mm.write(f.ucontext + sc + 150, (0x10).to_bytes(2, "little")),
        "mxcsr reserved": lambda f: mm.write(f.fpstate + 24, (0x11F80).to_bytes(4, "little")),
        "fpstate unmapped": lambda f: mm.write_u64(f.ucontext + sc + 184, 0x10000),
        "xsave header": lambda f: mm.write_u64(f.fpstate + 512, 0x7),
    }
    running = interrupted(0x10000)
    with pytest.raises(FrameError):
        read_rt_sigframe(mm, running)
    del cases["unreadable"]
    for name, edit in cases.items():
        with pytest.raises(FrameError):
            _returned(mm, edit)
            pytest.fail(name)


def test_fpstate_variants(mm):
    """A null fpstate resets the FPU; a frame whose magic is gone restores from
    the fxsave image alone; without the SSE bit in the header, XMM starts at zero;
    cs/ss are forced to user privilege; an invalid ss becomes __USER_DS when the
    frame does not ask for strict restore."""
    sc = SC.UCONTEXT_MCONTEXT
    r = _returned(mm, lambda f: mm.write_u64(f.ucontext + sc + 184, 0)).context
    assert r["fcw"] == 0x037F and r["mxcsr"] == 0x1F80 and r.xmm(3) == bytes(16)
    r = _returned(mm, lambda f: mm.write(f.fpstate + 464, bytes(4))).context
    assert r["fcw"] == 0x027F and r.xmm(3) == XMM3
    r = _returned(mm, lambda f: mm.write_u64(f.fpstate + 512, 1)).context
    assert r["fcw"] == 0x027F and r.xmm(3) == bytes(16) and r["mxcsr"] == 0x7F80
    r = _returned(mm, lambda f: mm.write(f.ucontext + sc + 144, (0x30).to_bytes(2, "little")))
    assert r.context["cs"] == 0x33

    def loose_ss(f):
        mm.write_u64(f.ucontext, SC.UC_FP_XSTATE | SC.UC_SIGCONTEXT_SS)
        mm.write(f.ucontext + sc + 150, (0x10).to_bytes(2, "little"))
    assert _returned(mm, loose_ss).context["ss"] == 0x2B


def test_handler_mask():
    usr1, usr2, kill = (1 << (s - 1) for s in (L.SIGUSR1, L.SIGUSR2, L.SIGKILL))
    assert handler_mask(0, L.SIGUSR1, 0, usr2) == usr1 | usr2
    assert handler_mask(0, L.SIGUSR1, L.SA_NODEFER, usr2) == usr2
    assert handler_mask(kill, L.SIGUSR1, L.SA_NODEFER, kill) == 0


def test_a_handler_runs_and_returns_through_rt_sigreturn(mm):
    """The path issue 8's delivery takes, on a real engine: ud2 faults, the fault
    is decoded, the context saved and a frame built; the handler (guest code) steps
    rip past ud2 and sets rax in uc_mcontext, returns into its restorer, whose
    rt_sigreturn system call takes the context back from the frame; the thread then
    resumes after ud2 with the handler's rax."""
    from pyunik.kernel.faults import fault_signal
    code, handler, restorer = 0x400000, 0x400100, 0x400200
    mm.mmap(code, 0x1000, 7, ANON)
    # mov eax, 0x55; ud2; mov ebx, eax; hlt
    mm.engine.write(code, bytes.fromhex("b8550000000f0b89c3f4"))
    # add qword [rdx + 40 + 16*8], 2 (uc_mcontext.rip); mov qword [rdx + 40 + 13*8],
    # 0x77 (uc_mcontext.rax); ret
    mm.engine.write(handler, bytes.fromhex("488382a80000000248c7829000000077000000c3"))
    mm.engine.write(restorer, bytes.fromhex("b80f0000000f05f4"))   # mov eax, 15; syscall
    engine = mm.engine
    engine.restore_context(interrupted())
    fault = engine.run(code)
    signal = fault_signal(fault, mm, engine.reg("rip"))
    assert (signal.signo, signal.addr) == (L.SIGILL, code + 5)
    ctx = engine.save_context()
    assert ctx.rip == code + 5
    frame = build_rt_sigframe(mm, ctx, signal.signo, signal.siginfo(), 0,
                              SigAction(handler, L.SA_SIGINFO | L.SA_RESTORER, restorer, 0),
                              NO_ALTSTACK, signal.trapno, signal.error_code)
    returned = []

    def on_syscall(regs):
        assert regs[0] == 15                                # rt_sigreturn
        returned.append(read_rt_sigframe(mm, engine.save_context()))
        engine.stop()

    engine.on_syscall = on_syscall
    engine.restore_context(frame.handler)
    assert engine.run(frame.handler.rip) is None and returned
    back = returned[0].context
    engine.restore_context(back)
    assert engine.run(back.rip) is None
    assert (engine.reg("rbx"), engine.reg("rip")) == (0x77, code + 10)
    assert engine.reg("rsp") == ctx.rsp and engine.save_context().xmm(3) == XMM3


def test_frame_registers_fxsave_image_and_back(mm):
    """cpu/context's FrameRegisters: the FPU as the fxsave instruction stores it
    (ST(i) in stack order from TOP, 6 reserved bytes of each zero, the abridged tag
    byte of the physical registers, mxcsr_mask), and fxrstor of that image giving
    the same engine state back."""
    ctx = interrupted()
    ctx["fsw"] = 5 << 11                                  # TOP = 5
    for i in range(8):
        ctx.set_fp(i, 0x8000000000000000 | i, 0x3FFF + i)
    ctx["ftw"] = 0x3FFF & ~(3 << 10)                      # FP5 and FP7 in use
    ctx.update({"fop": 0x123, "fip": 0x1122334455667788, "fdp": 0x99AABBCCDDEEFF00})
    engine = mm.engine
    engine.restore_context(ctx)
    regs = engine.frame_regs
    regs.read()
    fx = regs.fxsave()
    assert SC.FPSTATE_HEAD.unpack_from(fx, 0) == (
        0x027F, 5 << 11, 0xA0, 0x123, 0x1122334455667788, 0x99AABBCCDDEEFF00, 0x7F80, 0xFFFF)
    for st in range(8):
        slot = fx[SC.FPSTATE_ST + 16 * st:SC.FPSTATE_ST + 16 * st + 16]
        phys = (5 + st) & 7
        assert slot == (0x8000000000000000 | phys).to_bytes(8, "little") + \
            (0x3FFF + phys).to_bytes(2, "little") + bytes(6)
    assert fx[SC.FPSTATE_XMM + 48:SC.FPSTATE_XMM + 64] == XMM3
    assert fx[SC.FPSTATE_RESERVED2:] == bytes(512 - SC.FPSTATE_RESERVED2)
    before = engine.save_context()
    regs.fninit()
    regs.write()
    assert engine.save_context()["ftw"] == 0xFFFF
    garbage = bytearray(fx)
    for st in range(8):                                   # reserved bytes fxrstor ignores
        garbage[SC.FPSTATE_ST + 16 * st + 10:SC.FPSTATE_ST + 16 * st + 16] = b"\xee" * 6
    regs.fxrstor(bytes(garbage))
    regs.write()
    assert engine.save_context().raw == before.raw
    regs.read()
    assert regs.fxsave() == fx                            # no reserved byte kept


def test_partial_frame_views_match_the_whole_layout():
    """abi/sigcontext.py's two partial views of a frame (the shortest path's) put each
    field where the whole structs have it."""
    regs_at = SC.RT_SIGFRAME_UC + SC.UCONTEXT_MCONTEXT
    head = SC.RT_SIGFRAME_SHORT_HEAD.pack(1, 2, 0x80000003, 4, 5, 6, 7, 8, 9)
    assert len(head) == SC.RT_SIGFRAME_INFO
    assert SC.RT_SIGFRAME_HEAD.unpack_from(head, 0) == (1, 2, 0, 0, -0x7FFFFFFD, 0)
    fields = SC.SIGCONTEXT.unpack_from(head, regs_at)
    named = dict(zip(SC.SIGCONTEXT_REGS, fields))
    assert (named["r11"], named["rax"], named["rcx"], named["rip"]) == (4, 5, 6, 7)
    assert sum(fields[:18]) == 22 and fields[18:] == (0, 0, 0, 0, 0, 0, 8, 0, 0)
    assert int.from_bytes(head[SC.RT_SIGFRAME_UC + SC.UCONTEXT_SIGMASK:], "little") == 9

    uc = bytearray(SC.UCONTEXT_WITH_FPSTATE.size)
    SC.UCONTEXT_HEAD.pack_into(uc, 0, 0, 0, 11, -2, 13)
    values = list(range(100, 118))
    SC.SIGCONTEXT.pack_into(uc, SC.UCONTEXT_MCONTEXT, *values, 0x33, 0, 0, 0x2B,
                            0, 0, 0, 0, 0x4242)
    uc[SC.UCONTEXT_SIGMASK:SC.UCONTEXT_SIGMASK + 8] = (0x77).to_bytes(8, "little")
    fpstate = SC.RT_SIGFRAME_FPSTATE - SC.RT_SIGFRAME_UC
    SC.FPSTATE_HEAD.pack_into(uc, fpstate, 0x37F, 0, 0xA5, 0x123, 0, 0, 0x1F80, 0xFFFF)
    uc[fpstate + SC.FPSTATE_SW_RESERVED:] = bytes(range(len(uc) - fpstate
                                                        - SC.FPSTATE_SW_RESERVED))
    got = SC.UCONTEXT_WITH_FPSTATE.unpack_from(uc, 0)
    named = dict(zip(SC.SIGCONTEXT_REGS, values))
    assert got[:-1] == (11, -2, 13, named["rsp"], named["rip"], named["rflags"],
                        0x33 | 0x2B << 48, 0x4242, 0x77, 0xA5, 0x123, 0x1F80)
    assert got[-1] == uc[fpstate + SC.FPSTATE_SW_RESERVED:]
