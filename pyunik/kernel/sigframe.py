"""Signal frames: Linux's x86-64 rt_sigframe built on the guest stack for a handler,
and the interrupted context taken back from it by rt_sigreturn.

Layer: kernel. Calls the thread's AddressSpace (mm/usermem's read and write: guest
memory is never touched through the engine here) and cpu/context's CpuContext; the
layouts come from abi/sigcontext.py and abi/siginfo.py. Signal *delivery* (which
signal, when, the mask and disposition changes, restarting system calls) is the
caller's; this module only lays out and reads back the frame, as
arch/x86/kernel/signal.c and signal_64.c, and arch/x86/kernel/fpu/signal.c do.

The frame, from high addresses to low (get_sigframe):

    interrupted rsp, then the 128-byte red zone (skipped unless switching to the
      alternate stack, whose top is used instead)
    fpstate: the fxsave image, the xsave header and FP_XSTATE_MAGIC2, 64-byte aligned
    struct rt_sigframe: pretcode (= sa_restorer), ucontext, siginfo; placed so that
      rsp = &pretcode and rsp + 8 is 16-byte aligned, as at any function entry

The CPU model has XSAVE with x87 and SSE state only (cpuid leaf 0xd: 576 bytes; no
AVX), so the xsave area is the 512-byte fxsave image and the 64-byte header, and
the YMM upper halves are not part of a frame (a sigreturn leaves them zero).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..abi import linux as L
from ..abi import sigcontext as SC
from ..abi import x86 as arch
from ..cpu.context import CpuContext
from ..errors import KernelError

# What this CPU model's kernel would save (xfeatures_mask_uabi) and how big it is.
USER_XFEATURES = SC.XFEATURE_MASK_FP | SC.XFEATURE_MASK_SSE
XSTATE_USER_SIZE = SC.FXSAVE_SIZE + SC.XSTATE_HEADER_SIZE
MATH_FRAME_SIZE = XSTATE_USER_SIZE + SC.FP_XSTATE_MAGIC2_SIZE
UC_FLAGS = SC.UC_FP_XSTATE | SC.UC_SIGCONTEXT_SS | SC.UC_STRICT_RESTORE_SS
ENTRY_CLEARED_FLAGS = arch.X86_EFLAGS_DF | arch.X86_EFLAGS_RF | arch.X86_EFLAGS_TF


class FrameError(Exception):
    """The frame could not be written (delivery) or read (rt_sigreturn): Linux then
    forces SIGSEGV on the thread (force_sigsegv / signal_fault)."""


@dataclass
class SignalFrame:
    """A frame built for a handler: where it is and how the handler starts."""
    handler: CpuContext     # the registers to run the handler with
    frame: int              # the rt_sigframe (rsp at handler entry; [rsp] = restorer)
    info: int               # &frame->info (rsi)
    ucontext: int           # &frame->uc (rdx)
    fpstate: int            # the xsave area
    altstack: tuple         # the thread's (ss_sp, ss_flags, ss_size) after delivery


@dataclass
class Sigreturn:
    """What rt_sigreturn found in a frame: the context to resume (rax is the
    system call's return value), the mask to install (SIGKILL and SIGSTOP already
    removed) and the alternate stack the frame names (for sigaltstack's checks:
    Linux applies it as a sigaltstack call and ignores all but EFAULT)."""
    context: CpuContext
    blocked: int
    altstack: tuple


# ---- the alternate stack (include/linux/sched/signal.h) --------------------------------

def on_altstack(altstack: tuple, sp: int) -> bool:
    """__on_sig_stack: is sp inside (ss_sp, ss_sp + ss_size]? (The stack grows
    down, so its top counts and its bottom does not.)"""
    ss_sp, _, ss_size = altstack
    return ss_sp < sp and sp - ss_sp <= ss_size


def _running_on_altstack(altstack: tuple, sp: int) -> bool:
    """on_sig_stack: with SS_AUTODISARM the stack is never "in use"."""
    return not altstack[1] & L.SS_AUTODISARM and on_altstack(altstack, sp)


def altstack_flags(altstack: tuple, sp: int) -> int:
    """sas_ss_flags: SS_DISABLE, SS_ONSTACK or 0 for a thread running at sp."""
    if not altstack[2]:
        return L.SS_DISABLE
    return L.SS_ONSTACK if _running_on_altstack(altstack, sp) else 0


def handler_mask(blocked: int, sig: int, sa_flags: int, sa_mask: int) -> int:
    """The mask while the handler runs (signal_delivered): sa_mask added, and the
    signal itself unless SA_NODEFER; SIGKILL and SIGSTOP never blocked."""
    mask = blocked | sa_mask
    if not sa_flags & L.SA_NODEFER:
        mask |= 1 << (sig - 1)
    return mask & ~(1 << (L.SIGKILL - 1) | 1 << (L.SIGSTOP - 1))


# ---- building a frame --------------------------------------------------------------------

def frame_position(sp: int, sa_flags: int, altstack: tuple) -> tuple[int, int]:
    """get_sigframe: (frame, fpstate) addresses for a signal interrupting a thread
    at sp. FrameError when the frame would overflow the alternate stack it is
    entering or already on."""
    nested = _running_on_altstack(altstack, sp)
    entering = False
    top = sp - SC.SIGFRAME_RED_ZONE
    if sa_flags & L.SA_ONSTACK and altstack_flags(altstack, top) == 0:
        top = altstack[0] + altstack[2]
        entering = True
    fpstate = (top - MATH_FRAME_SIZE) & ~(SC.FPSTATE_ALIGNMENT - 1)
    frame = ((fpstate - SC.RT_SIGFRAME_SIZE) & ~(SC.FRAME_ALIGNMENT - 1)) - 8
    if (nested or entering) and not on_altstack(altstack, frame):
        raise FrameError("overflowed sigaltstack")
    if frame < 0:
        raise FrameError("no room for a frame")
    return frame, fpstate


def build_rt_sigframe(mm, ctx: CpuContext, sig: int, siginfo: bytes, blocked: int,
                      action, altstack: tuple, trapno: int = 0, error_code: int = 0,
                      cr2: int = 0) -> SignalFrame:
    """Write an rt_sigframe for signal sig interrupting ctx and return how the
    handler starts (__setup_rt_frame, then handle_signal's flag and FPU reset).

    siginfo: 128 bytes packed with an abi.siginfo format (written only with
    SA_SIGINFO, as Linux does); blocked: the mask to restore afterwards (it goes to
    uc_sigmask); action: the SigAction (handler, flags, restorer); altstack: the
    thread's (ss_sp, ss_flags, ss_size); trapno, error_code, cr2: the thread's last
    trap, as sigcontext reports it. FrameError when the frame cannot be written
    (no SA_RESTORER, altstack overflow, stack not writable): force SIGSEGV then.
    """
    if not action.flags & L.SA_RESTORER:
        raise FrameError("no SA_RESTORER")      # x86-64 has no kernel-made trampoline
    sp = ctx.rsp
    frame, fpstate = frame_position(sp, action.flags, altstack)
    uc = frame + SC.RT_SIGFRAME_UC
    info = frame + SC.RT_SIGFRAME_INFO
    ss_sp, ss_flags, ss_size = altstack
    general = ctx.general()
    sigcontext = SC.SIGCONTEXT.pack(
        *[general[name] for name in SC.SIGCONTEXT_REGS],
        ctx["cs"], 0, 0, ctx["ss"],                  # cs, gs, fs (always 0), ss
        error_code, trapno, blocked & 0xFFFFFFFFFFFFFFFF, cr2, fpstate)
    flags32 = (ss_flags & 0xFFFFFFFF) - ((ss_flags & 0x80000000) << 1)   # an int, as in stack_t
    image = (SC.UCONTEXT_HEAD.pack(UC_FLAGS, 0, ss_sp, flags32, ss_size) + sigcontext
             + L.SIGSET.pack(blocked & 0xFFFFFFFFFFFFFFFF))
    try:
        mm.write(fpstate, xsave_image(ctx))
        if action.flags & L.SA_SIGINFO:
            mm.write(info, bytes(siginfo).ljust(L.SI_MAX_SIZE, b"\0")[:L.SI_MAX_SIZE])
        mm.write(frame, action.restorer.to_bytes(8, "little") + image)
    except KernelError:
        raise FrameError("frame not writable") from None
    handler = ctx.copy()
    # The handler's registers, ss forced valid (force_valid_ss), and the FPU reset.
    handler.update({"rdi": sig, "rsi": info, "rdx": uc, "rax": 0, "rsp": frame,
                    "rip": action.handler, "cs": arch.USER_CS, "ss": arch.USER_DS,
                    "rflags": ctx["rflags"] & ~ENTRY_CLEARED_FLAGS, **_FPU_INIT,
                    "mxcsr": arch.MXCSR_DEFAULT}, x87=_X87_ZERO, vectors=_XMM_ZERO)
    if ss_flags & L.SS_AUTODISARM:
        altstack = (0, L.SS_DISABLE, 0)               # sas_ss_reset
    return SignalFrame(handler, frame, info, uc, fpstate, altstack)


def xsave_image(ctx: CpuContext) -> bytes:
    """The fpstate a frame holds (copy_fpstate_to_sigframe): the fxsave image with
    the software-reserved bytes, the xsave header, FP_XSTATE_MAGIC2."""
    ftw = ctx["ftw"]
    abridged = sum(1 << i for i in range(8) if (ftw >> 2 * i) & 3 != 3)
    head = SC.FPSTATE_HEAD.pack(ctx["fcw"], ctx["fsw"], abridged, ctx["fop"], ctx["fip"],
                                ctx["fdp"], ctx["mxcsr"], arch.MXCSR_FEATURE_MASK)
    physical = ctx.x87_block()                    # ST(i) is register (TOP + i) mod 8
    top = ctx.top
    st = b"".join([physical[16 * ((top + i) & 7):16 * ((top + i) & 7) + 16]
                   for i in range(8)])
    xmm = ctx.xmm_block()
    reserved = bytes(SC.FPSTATE_SW_RESERVED - SC.FPSTATE_XMM - len(xmm))
    sw = SC.FPX_SW_BYTES.pack(SC.FP_XSTATE_MAGIC1, MATH_FRAME_SIZE, USER_XFEATURES,
                              XSTATE_USER_SIZE)
    header = SC.XSTATE_HEADER.pack(USER_XFEATURES, 0)
    return (head + st + xmm + reserved + sw + header
            + SC.FP_XSTATE_MAGIC2.to_bytes(SC.FP_XSTATE_MAGIC2_SIZE, "little"))


# fpu__clear_user_states: a handler starts with the FPU as after fninit, MXCSR at its
# default and every vector register zero.
_FPU_INIT = {"fcw": arch.FPU_CW_DEFAULT, "fsw": 0, "ftw": arch.FPU_TAGS_EMPTY, "fop": 0,
             "fip": 0, "fdp": 0}
_X87_ZERO = bytes(128)
_XMM_ZERO = bytes(256)
_FP_PAD = bytes(16 - arch.FP_REG80.size)


# ---- rt_sigreturn ------------------------------------------------------------------------

def read_rt_sigframe(mm, ctx: CpuContext) -> Sigreturn:
    """rt_sigreturn: the frame is at rsp - 8 (the handler's ret popped pretcode).
    Take every register the guest left in it, as restore_sigcontext does: rflags
    only in FIX_EFLAGS' bits, cs and ss forced to user privilege (a selector this
    CPU cannot run user code with is a bad frame, as the iret would fault), the FPU
    from the fpstate (or reset when the pointer is 0). FrameError (SIGSEGV) when the
    frame or fpstate is unreadable or invalid."""
    frame = (ctx.rsp - 8) & 0xFFFFFFFFFFFFFFFF
    try:
        raw = mm.read(frame + SC.RT_SIGFRAME_UC, SC.UCONTEXT_SIZE)
    except KernelError:
        raise FrameError("frame not readable") from None
    uc_flags, _, ss_sp, ss_flags, ss_size = SC.UCONTEXT_HEAD.unpack_from(raw, 0)
    values = SC.SIGCONTEXT.unpack_from(raw, SC.UCONTEXT_MCONTEXT)
    blocked = L.SIGSET.unpack_from(raw, SC.UCONTEXT_SIGMASK)[0]
    regs = dict(zip(SC.SIGCONTEXT_REGS, values))
    cs, _, _, ss = values[18:22]
    fpstate = values[26]
    cs |= 3
    ss |= 3
    if cs != arch.USER_CS:
        raise FrameError("cs %#x: only 64-bit user code runs here" % cs)
    if ss != arch.USER_DS:
        if uc_flags & SC.UC_STRICT_RESTORE_SS:
            raise FrameError("ss %#x would fault at iret" % ss)
        ss = arch.USER_DS                               # force_valid_ss
    out = ctx.copy()
    regs["rflags"] = (ctx["rflags"] & ~SC.FIX_EFLAGS) | (regs["rflags"] & SC.FIX_EFLAGS)
    regs.update(cs=cs, ss=ss)
    fpu, x87, vectors = _restore_fpu(mm, fpstate)
    out.update(regs | fpu, x87=x87, vectors=vectors)
    blocked &= ~(1 << (L.SIGKILL - 1) | 1 << (L.SIGSTOP - 1))
    return Sigreturn(out, blocked, (ss_sp, ss_flags, ss_size))


def _restore_fpu(mm, fpstate: int) -> tuple[dict, bytes, bytes]:
    """fpu__restore_sig, as (control registers, x87 block, XMM registers) for
    CpuContext.update: from an xsave frame when its magic numbers and sizes check
    out, else from the fxsave image alone (fx_only); a component the frame's
    xfeatures leave out starts from its init state. Reserved MXCSR bits, or an
    xsave header the CPU's xrstor would refuse, make a bad frame."""
    if fpstate == 0:
        return dict(_FPU_INIT, mxcsr=arch.MXCSR_DEFAULT), _X87_ZERO, _XMM_ZERO
    try:
        fx = mm.read(fpstate, SC.FXSAVE_SIZE)
        magic1, extended, sw_features, xstate_size = SC.FPX_SW_BYTES.unpack_from(
            fx, SC.FPSTATE_SW_RESERVED)
        features = USER_XFEATURES
        if (magic1 == SC.FP_XSTATE_MAGIC1 and xstate_size == XSTATE_USER_SIZE
                and extended == MATH_FRAME_SIZE
                and mm.read(fpstate + xstate_size, SC.FP_XSTATE_MAGIC2_SIZE)
                == SC.FP_XSTATE_MAGIC2.to_bytes(SC.FP_XSTATE_MAGIC2_SIZE, "little")):
            header = mm.read(fpstate + SC.FXSAVE_SIZE, SC.XSTATE_HEADER_SIZE)
            present, compacted = SC.XSTATE_HEADER.unpack(header)
            if compacted or present & ~USER_XFEATURES or any(header[16:]):
                raise FrameError("xsave header xrstor refuses")
            features = sw_features & USER_XFEATURES & present
    except KernelError:
        raise FrameError("fpstate not readable") from None
    fcw, fsw, abridged, fop, fip, fdp, mxcsr, _ = SC.FPSTATE_HEAD.unpack_from(fx, 0)
    if mxcsr & ~arch.MXCSR_FEATURE_MASK:
        raise FrameError("reserved MXCSR bits")          # fxrstor/xrstor: #GP
    if features & SC.XFEATURE_MASK_FP:
        top = (fsw >> 11) & 7
        ftw = 0
        physical = [b""] * 8
        for st in range(8):
            at = SC.FPSTATE_ST + 16 * st
            significand, exponent = arch.FP_REG80.unpack_from(fx, at)
            phys = (top + st) & 7
            physical[phys] = fx[at:at + 10] + _FP_PAD    # the reserved bytes dropped
            ftw |= (_full_tag(significand, exponent) if abridged >> phys & 1 else 3) << 2 * phys
        fpu = {"fcw": fcw, "fsw": fsw, "ftw": ftw, "fop": fop, "fip": fip, "fdp": fdp}
        x87 = b"".join(physical)
    else:
        fpu, x87 = dict(_FPU_INIT), _X87_ZERO
    fpu["mxcsr"] = mxcsr
    return fpu, x87, (fx[SC.FPSTATE_XMM:SC.FPSTATE_XMM + 256]
                      if features & SC.XFEATURE_MASK_SSE else _XMM_ZERO)


def _full_tag(significand: int, exponent: int) -> int:
    """The x87 tag of a register in use, as fxrstor recomputes it from the
    abridged tag: 0 valid, 1 zero, 2 special (NaN, infinity, denormal, unnormal)."""
    exponent &= 0x7FFF
    if exponent == 0x7FFF:
        return 2
    if exponent == 0:
        return 1 if significand == 0 else 2
    return 0 if significand >> 63 else 2
