"""Signal frames: Linux's x86-64 rt_sigframe built on the guest stack for a handler,
and the interrupted context taken back from it by rt_sigreturn.

Layer: kernel. Calls the thread's AddressSpace (mm/usermem's read and write: guest
memory is never touched through the engine here) and cpu/context's FrameRegisters; the
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
the YMM upper halves are not part of a frame (nothing the guest runs can see them).

The registers go between the engine and the frame through cpu/context's
FrameRegisters, already in the frame's layouts: sigcontext's registers are copied
as they are, and the FPU is the fxsave image the CPU would store (FrameRegisters
keeps the rest of the xsave area after it), so a frame is two guest-memory copies
with one VMA lookup (mm's write_pair) around a handful of packed fields, and
rt_sigreturn one read of the ucontext and the fpstate above it (two when the
handler moved the fpstate).
"""

from __future__ import annotations

from ..abi import linux as L
from ..abi.posix_types import UINT
from ..abi import sigcontext as SC
from ..abi import x86 as arch
from ..cpu.context import FRAME_SLOT, ContextError
from ..errors import KernelError

# What this CPU model's kernel would save (xfeatures_mask_uabi) and how big it is.
USER_XFEATURES = SC.XFEATURE_MASK_FP | SC.XFEATURE_MASK_SSE
XSTATE_USER_SIZE = SC.FXSAVE_SIZE + SC.XSTATE_HEADER_SIZE
MATH_FRAME_SIZE = XSTATE_USER_SIZE + SC.FP_XSTATE_MAGIC2_SIZE
UC_FLAGS = SC.UC_FP_XSTATE | SC.UC_SIGCONTEXT_SS | SC.UC_STRICT_RESTORE_SS
ENTRY_CLEARED_FLAGS = arch.X86_EFLAGS_DF | arch.X86_EFLAGS_RF | arch.X86_EFLAGS_TF

# The frame is packed in three pieces: the head, sigcontext's registers as they are,
# what follows them (abi/sigcontext.py); rt_sigreturn reads the ucontext back.
_FRAME_HEAD = SC.RT_SIGFRAME_HEAD
_FRAME_TAIL = SC.RT_SIGFRAME_AFTER_REGS
_UC_REGS = slice(SC.UCONTEXT_MCONTEXT, SC.UCONTEXT_MCONTEXT + 8 * len(SC.SIGCONTEXT_REGS))
_REGS_SIZE = _UC_REGS.stop - _UC_REGS.start
_UCONTEXT = SC.UCONTEXT_BESIDE_REGS
# The fpstate after the fxsave image's registers: software bytes, xsave header, magic2.
_XSTATE_TAIL = (SC.FPX_SW_BYTES.pack(SC.FP_XSTATE_MAGIC1, MATH_FRAME_SIZE, USER_XFEATURES,
                                     XSTATE_USER_SIZE)
                + SC.XSTATE_HEADER.pack(USER_XFEATURES, 0)
                + SC.FP_XSTATE_MAGIC2.to_bytes(SC.FP_XSTATE_MAGIC2_SIZE, "little"))
_MAGIC2 = SC.FP_XSTATE_MAGIC2.to_bytes(SC.FP_XSTATE_MAGIC2_SIZE, "little")
_HEADER_RESERVED = slice(SC.FXSAVE_SIZE + 16, SC.FXSAVE_SIZE + SC.XSTATE_HEADER_SIZE)
_NO_RESERVED = bytes(_HEADER_RESERVED.stop - _HEADER_RESERVED.start)
_MXCSR = slice(SC.FPSTATE_MXCSR, SC.FPSTATE_MXCSR + 4)
_RDI, _RSI, _RDX, _RAX, _RSP, _RIP, _RFLAGS, _CS, _SS = (
    FRAME_SLOT[name] for name in ("rdi", "rsi", "rdx", "rax", "rsp", "rip", "rflags", "cs", "ss"))
_KEEP_FLAGS = 0xFFFFFFFFFFFFFFFF & ~ENTRY_CLEARED_FLAGS
# (bound here: the frame is built and read on every signal)
_SA_RESTORER, _SA_SIGINFO, _SS_AUTODISARM = L.SA_RESTORER, L.SA_SIGINFO, L.SS_AUTODISARM
_USER_CS, _USER_DS = arch.USER_CS, arch.USER_DS
_INFO_AT, _UC_AT, _SIGINFO_SIZE = SC.RT_SIGFRAME_INFO, SC.RT_SIGFRAME_UC, L.SI_MAX_SIZE
_SW_RESERVED = SC.FPSTATE_SW_RESERVED
_FIX_EFLAGS = SC.FIX_EFLAGS
_RED_ZONE_AND_MATH = SC.SIGFRAME_RED_ZONE + MATH_FRAME_SIZE
_FPSTATE_ALIGN = ~(SC.FPSTATE_ALIGNMENT - 1)
_FRAME_SIZE, _FRAME_ALIGN = SC.RT_SIGFRAME_SIZE, ~(SC.FRAME_ALIGNMENT - 1)
_DISABLED = (0, L.SS_DISABLE, 0)
_UNBLOCKABLE = 1 << (L.SIGKILL - 1) | 1 << (L.SIGSTOP - 1)
_BLOCKABLE = ~_UNBLOCKABLE


class FrameError(Exception):
    """The frame could not be written (delivery) or read (rt_sigreturn): Linux then
    forces SIGSEGV on the thread (force_sigsegv / signal_fault)."""


# What build_rt_sigframe returns, a plain tuple (one is made for every signal): where
# the frame is (the handler's registers are in the FrameRegisters it was built from).
SIGNAL_FRAME = (
    "frame",        # the rt_sigframe (rsp at handler entry; [rsp] = restorer)
    "info",         # &frame->info (rsi)
    "ucontext",     # &frame->uc (rdx)
    "fpstate",      # the xsave area
    "altstack",     # the thread's (ss_sp, ss_flags, ss_size) after delivery
    "selectors",    # cs or ss changed for the handler (write_selectors)
)
# What read_rt_sigframe returns besides the registers, a plain tuple too: the mask to
# install (SIGKILL and SIGSTOP already removed), the alternate stack the frame names
# (for sigaltstack's checks: Linux applies it as a sigaltstack call and ignores all
# but EFAULT) and the stack pointer it restores.
SIGRETURN = ("blocked", "altstack", "sp")


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
    return mask & ~_UNBLOCKABLE


# ---- building a frame --------------------------------------------------------------------

def frame_position(sp: int, sa_flags: int, altstack: tuple) -> tuple[int, int]:
    """get_sigframe: (frame, fpstate) addresses for a signal interrupting a thread
    at sp. FrameError when the frame would overflow the alternate stack it is
    entering or already on."""
    top = sp - SC.SIGFRAME_RED_ZONE
    if not altstack[2]:                   # no alternate stack: below the red zone
        fpstate = (top - MATH_FRAME_SIZE) & ~(SC.FPSTATE_ALIGNMENT - 1)
        frame = ((fpstate - SC.RT_SIGFRAME_SIZE) & ~(SC.FRAME_ALIGNMENT - 1)) - 8
        if frame < 0:
            raise FrameError("no room for a frame")
        return frame, fpstate
    nested = _running_on_altstack(altstack, sp)
    entering = False
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


# Where frame_position puts the fpstate, from the ucontext: the same distance whatever
# the stack pointer (the fpstate is 64-byte aligned, the frame below it 16-byte
# aligned less 8), 448 bytes.
_UC_TO_FPSTATE = (lambda frame, fpstate: fpstate - frame - SC.RT_SIGFRAME_UC)(
    *frame_position(1 << 20, 0, (0, L.SS_DISABLE, 0)))
_UC_TO_FPSTATE_END = _UC_TO_FPSTATE + MATH_FRAME_SIZE
# ... and in the bytes rt_sigreturn reads from the ucontext on: the xsave tail, MXCSR
_TAIL_IN_UC = _UC_TO_FPSTATE + _SW_RESERVED
_MXCSR_IN_UC = _UC_TO_FPSTATE + SC.FPSTATE_MXCSR
_MXCSR_RESERVED = ~arch.MXCSR_FEATURE_MASK


def build_rt_sigframe(mm, regs, sig: int, siginfo: bytes, blocked: int, action,
                      altstack: tuple, trapno: int = 0, error_code: int = 0,
                      cr2: int = 0) -> tuple:
    """Write an rt_sigframe for signal sig interrupting the registers in regs (a
    cpu/context FrameRegisters), and leave regs as the handler starts (the caller
    writes them to the engine): __setup_rt_frame, then handle_signal's flag and FPU
    reset.

    siginfo: 128 bytes packed with an abi.siginfo format (written only with
    SA_SIGINFO, as Linux does); blocked: the mask to restore afterwards (it goes to
    uc_sigmask); action: the SigAction (handler, flags, restorer); altstack: the
    thread's (ss_sp, ss_flags, ss_size); trapno, error_code, cr2: the thread's last
    trap, as sigcontext reports it. Returns the tuple SIGNAL_FRAME names.
    FrameError when the frame cannot be written (no SA_RESTORER, altstack overflow,
    stack not writable), regs unchanged: force SIGSEGV then.
    """
    flags = action.flags
    if not flags & _SA_RESTORER:
        raise FrameError("no SA_RESTORER")      # x86-64 has no kernel-made trampoline
    general = regs.general
    ss_sp, ss_flags, ss_size = altstack
    if ss_size:
        frame, fpstate = frame_position(general[_RSP], flags, altstack)
    else:                                   # frame_position without an alternate stack
        fpstate = (general[_RSP] - _RED_ZONE_AND_MATH) & _FPSTATE_ALIGN
        frame = ((fpstate - _FRAME_SIZE) & _FRAME_ALIGN) - 8
        if frame < 0:
            raise FrameError("no room for a frame")
    mask = blocked & 0xFFFFFFFFFFFFFFFF
    cs, ss = general[_CS], general[_SS]
    image = (_FRAME_HEAD.pack(action.restorer, UC_FLAGS, 0, ss_sp,
                              (ss_flags & 0xFFFFFFFF) - ((ss_flags & 0x80000000) << 1),
                              ss_size)                  # ss_flags: an int, as in stack_t
             + regs.general_bytes[:_REGS_SIZE]
             + _FRAME_TAIL.pack(cs, 0, 0, ss,          # cs, gs, fs (always 0), ss
                                error_code, trapno, mask, cr2, fpstate, mask))
    if flags & _SA_SIGINFO:
        image += siginfo if len(siginfo) == _SIGINFO_SIZE else \
            bytes(siginfo).ljust(_SIGINFO_SIZE, b"\0")[:_SIGINFO_SIZE]
    try:
        mm.write_pair(frame, image, fpstate, regs.xsave_frame(_XSTATE_TAIL))
    except KernelError:
        raise FrameError("frame not writable") from None
    # The handler's registers, ss forced valid (force_valid_ss), and the FPU reset.
    info = frame + _INFO_AT
    uc = frame + _UC_AT
    general[_RDI] = sig
    general[_RSI] = info
    general[_RDX] = uc
    general[_RAX] = 0
    general[_RSP] = frame
    general[_RIP] = action.handler & 0xFFFFFFFFFFFFFFFF
    general[_RFLAGS] &= _KEEP_FLAGS
    selectors = cs != _USER_CS or ss != _USER_DS
    if selectors:
        general[_CS] = _USER_CS
        general[_SS] = _USER_DS
    regs.fninit()
    if ss_flags & _SS_AUTODISARM:
        altstack = _DISABLED                          # sas_ss_reset
    return frame, info, uc, fpstate, altstack, selectors


# ---- rt_sigreturn ------------------------------------------------------------------------

def read_rt_sigframe(mm, regs, sp: int, rflags: int) -> tuple:
    """rt_sigreturn of a thread at sp with flags rflags: the frame is at sp - 8 (the
    handler's ret popped pretcode). Load regs (a cpu/context FrameRegisters; the
    caller writes them to the engine) with every register the guest left in it, as
    restore_sigcontext does: rflags only in FIX_EFLAGS' bits, cs and ss forced to
    user privilege (a selector this CPU cannot run user code with is a bad frame, as
    the iret would fault), the FPU from the fpstate (or reset when the pointer is 0).
    Returns the tuple SIGRETURN names. FrameError (SIGSEGV) when the frame or
    fpstate is unreadable or invalid, regs unchanged."""
    uc = ((sp - 8) & 0xFFFFFFFFFFFFFFFF) + _UC_AT
    try:
        # The fpstate is where delivery put it, right above the frame, unless the
        # handler moved it: read both at once, and the ucontext alone if that fails.
        raw = mm.read(uc, _UC_TO_FPSTATE_END)
    except KernelError:
        try:
            raw = mm.read(uc, SC.UCONTEXT_SIZE)
        except KernelError:
            raise FrameError("frame not readable") from None
    uc_flags, _, ss_sp, ss_flags, ss_size, cs, _, _, ss, _, _, _, _, fpstate, blocked = \
        _UCONTEXT.unpack_from(raw, 0)
    cs |= 3
    ss |= 3
    if cs != _USER_CS:
        raise FrameError("cs %#x: only 64-bit user code runs here" % cs)
    if ss != _USER_DS:
        if uc_flags & SC.UC_STRICT_RESTORE_SS:
            raise FrameError("ss %#x would fault at iret" % ss)
        ss = arch.USER_DS                               # force_valid_ss
    if fpstate == uc + _UC_TO_FPSTATE and len(raw) == _UC_TO_FPSTATE_END:
        if raw[_TAIL_IN_UC:] == _XSTATE_TAIL:          # as delivery wrote it
            if UINT.unpack_from(raw, _MXCSR_IN_UC)[0] & _MXCSR_RESERVED:
                raise FrameError("reserved MXCSR bits")      # fxrstor/xrstor: #GP
            fx, x87, sse, at = raw, True, True, _UC_TO_FPSTATE
        else:
            fx, x87, sse = _fpstate_image(raw[_UC_TO_FPSTATE:])
            at = 0
    else:
        fx, x87, sse = _fpstate(mm, fpstate)
        at = 0
    general = regs.general
    regs.general_bytes[:_REGS_SIZE] = raw[_UC_REGS]
    general[_RFLAGS] = (rflags & ~_FIX_EFLAGS) | (general[_RFLAGS] & _FIX_EFLAGS)
    general[_CS] = cs
    general[_SS] = ss
    if fx is None:
        regs.fninit()
    else:
        regs.fxrstor(fx, x87, sse, at)
    return blocked & ~_UNBLOCKABLE, (ss_sp, ss_flags, ss_size), general[_RSP]


def _fpstate(mm, fpstate: int):
    """fpu__restore_sig's reading of the fpstate at fpstate: (fxsave image, x87,
    sse) to load, the image None for a null pointer (the FPU reset). From an xsave
    frame when its magic numbers and sizes check out, else from the fxsave image
    alone (fx_only); a component the frame's xfeatures leave out starts from its
    init state. Reserved MXCSR bits, or an xsave header the CPU's xrstor would
    refuse, make a bad frame."""
    if fpstate == 0:
        return None, False, False
    try:
        fx = mm.read(fpstate, MATH_FRAME_SIZE)
    except KernelError:
        try:                          # an fxsave image alone needs only its 512 bytes
            fx = mm.read(fpstate, SC.FXSAVE_SIZE)
        except KernelError:
            raise FrameError("fpstate not readable") from None
    return _fpstate_image(fx)


def _fpstate_image(fx: bytes):
    """_fpstate's checks of the bytes read at the fpstate (MATH_FRAME_SIZE of them,
    or the fxsave image's 512 where no more were readable)."""
    if fx[_SW_RESERVED:] == _XSTATE_TAIL:     # as delivery wrote them
        features = USER_XFEATURES
    else:
        features = _xfeatures(fx)
    if int.from_bytes(fx[_MXCSR], "little") & ~arch.MXCSR_FEATURE_MASK:
        raise FrameError("reserved MXCSR bits")          # fxrstor/xrstor: #GP
    return fx, bool(features & SC.XFEATURE_MASK_FP), bool(features & SC.XFEATURE_MASK_SSE)


def _xfeatures(fx: bytes) -> int:
    """The state components an fpstate's software bytes and xsave header ask for."""
    magic1, extended, sw_features, xstate_size = SC.FPX_SW_BYTES.unpack_from(
        fx, SC.FPSTATE_SW_RESERVED)
    features = USER_XFEATURES
    if magic1 == SC.FP_XSTATE_MAGIC1 and xstate_size == XSTATE_USER_SIZE \
            and extended == MATH_FRAME_SIZE:
        if len(fx) < MATH_FRAME_SIZE:
            raise FrameError("fpstate not readable")      # magic2 faults
        if fx[XSTATE_USER_SIZE:] == _MAGIC2:
            present, compacted = SC.XSTATE_HEADER.unpack_from(fx, SC.FXSAVE_SIZE)
            if compacted or present & ~USER_XFEATURES or fx[_HEADER_RESERVED] != _NO_RESERVED:
                raise FrameError("xsave header xrstor refuses")
            features = sw_features & USER_XFEATURES & present
    return features


# ---- the shortest path -------------------------------------------------------------------
# A frame with nothing special about it (no alternate stack, no trap, the user's
# selectors), built from the engine's registers read straight into its image
# (cpu/context's FrameRegisters.read_into_frame) and copied to the stack in one VMA,
# and taken back the same way. Everything else goes the general way above, which
# does the same for these frames (guest_images/src/sigraise.c shows them natively).
_IMAGE_FPSTATE = SC.RT_SIGFRAME_FPSTATE
_IMAGE_SIZE = _IMAGE_FPSTATE + MATH_FRAME_SIZE
_IMAGE_INFO_END = _INFO_AT + _SIGINFO_SIZE
# The image as the template has it (FrameRegisters takes it in once): of the fpstate,
# the fxsave image's mxcsr_mask and the xsave tail, which no register fills. (The
# bytes up to the siginfo are packed for each frame: _pack_head below.)
_TEMPLATE = bytes(
    _FRAME_HEAD.pack(0, UC_FLAGS, 0, 0, 0, 0).ljust(_IMAGE_FPSTATE, b"\0")
    + bytes(SC.FPSTATE_MXCSR_MASK) + arch.MXCSR_FEATURE_MASK.to_bytes(4, "little")
    + bytes(_SW_RESERVED - SC.FPSTATE_MXCSR_MASK - 4) + _XSTATE_TAIL)
# What build_simple_sigframe packs into the image before the registers are read into
# it (abi's RT_SIGFRAME_SHORT_HEAD: pretcode, uc_flags, ss_flags, what the frame takes
# from the system call (r11 its flags, rax its result, rcx and rip its return
# address) and the masks; every other byte up to the siginfo zero: no alternate stack,
# no trap, the registers the engine fills, and the fpstate pointer, set once the stack
# pointer is known), and what it reads and fills in after (u64 slots of the image).
_pack_head = SC.RT_SIGFRAME_SHORT_HEAD.pack_into
_S_RSP = (SC.RT_SIGFRAME_UC + SC.UCONTEXT_MCONTEXT) // 8 + FRAME_SLOT["rsp"]
_S_SELECTORS = (SC.RT_SIGFRAME_UC + SC.UCONTEXT_MCONTEXT) // 8 + FRAME_SLOT["cs"]
_S_FPSTATE = _S_SELECTORS + 5                     # after err, trapno, oldmask, cr2
_USER_SELECTORS = _USER_CS | _USER_DS << 48        # cs, gs, fs, ss
# What rt_sigreturn's shortest path reads of a frame, from the ucontext on.
_RETURNED_SIZE = _IMAGE_SIZE - _UC_AT
_unpack_returned = SC.UCONTEXT_WITH_FPSTATE.unpack_from
_NOT_FIX_EFLAGS = ~_FIX_EFLAGS
# (Masks as small negative ints where a 64-bit one would do: Python's & takes a
# short path when both sides fit in one 30-bit digit, and rflags and MXCSR do.)
_CLEAR_AT_ENTRY = ~ENTRY_CLEARED_FLAGS
# Inside the syscall hook Unicorn adds the syscall instruction's length to whatever rip
# the hook leaves: the handler's and the returned rip go in that much short.
_SYSCALL_LENGTH = arch.SYSCALL_LENGTH
# the abridged x87 tag byte in the image (the engine reads the full tag word)
_IMAGE_TAG = _IMAGE_FPSTATE + SC.FPSTATE_FTW


def build_simple_sigframe(mm, regs, sig: int, blocked: int, action, ss_flags: int, result: int,
                          rip: int, rflags: int, siginfo: bytes = b"") -> int:
    """build_rt_sigframe for a thread in a system call returning result to rip with
    rflags (the caller has checked it has no alternate stack, its flags ss_flags,
    and no trap, and that action has SA_RESTORER), and the handler's registers
    written (from inside the syscall hook): the frame's address; 0 when the frame
    is not that simple (cs or ss not the user's) or not all in one writable VMA,
    nothing written then (the general way decides). blocked is a mask of 64 bits,
    result a u64 (a negative one as the register holds it), and action's handler
    neither SIG_DFL nor SIG_IGN."""
    if regs.frame_template is not _TEMPLATE:
        regs.use_template(_TEMPLATE)
    image = regs.frame_image
    _pack_head(image, 0, action.restorer, UC_FLAGS, ss_flags & 0xFFFFFFFF, rflags,
               result, rip, rip, blocked, blocked)
    if regs.read_into_frame():
        raise ContextError("uc_reg_read_batch")
    image[_IMAGE_TAG] = regs.abridged_tags[regs.frame_tag_word[0]]
    slots = regs.frame_slots
    if slots[_S_SELECTORS] != _USER_SELECTORS:
        return 0
    fpstate = (slots[_S_RSP] - _RED_ZONE_AND_MATH) & _FPSTATE_ALIGN
    frame = fpstate - _IMAGE_FPSTATE
    stack = mm.view_at(frame, _IMAGE_SIZE, True)
    if stack is None:
        return 0
    view, at = stack
    slots[_S_FPSTATE] = fpstate
    if action.flags & _SA_SIGINFO:
        regs.frame_info[:] = siginfo
        view[at:at + _IMAGE_INFO_END] = regs.frame_head_info
    else:
        view[at:at + _INFO_AT] = regs.frame_head
    view[at + _IMAGE_FPSTATE:at + _IMAGE_SIZE] = regs.frame_fpstate
    regs.pack_entry(sig, frame + _INFO_AT, frame + _UC_AT, frame,
                    action.handler - _SYSCALL_LENGTH, rflags & _CLEAR_AT_ENTRY)   # (handler >= 2)
    if regs.enter():
        raise ContextError("uc_reg_write_batch")
    return frame


def read_simple_sigframe(mm, regs, sp: int, rflags: int):
    """read_rt_sigframe for a frame as build_simple_sigframe (or Linux) leaves it:
    in one readable VMA, the user's cs and ss, the fpstate where delivery put it
    with the xsave tail it wrote; its registers written (from inside the syscall
    hook). The tuple SIGRETURN names, or None when the frame is anything else,
    nothing changed then (the general way decides, SIGSEGV included)."""
    stack = mm.view_at(sp, _RETURNED_SIZE)   # the frame is at sp - 8, its ucontext at sp
    if stack is None:
        return None
    view, at = stack
    ss_sp, ss_flags, ss_size, rsp, rip, restored_flags, selectors, fpstate, blocked, tags, fop, \
        mxcsr, tail = _unpack_returned(view, at)
    # (the selectors as delivery writes them: cs and ss the user's, gs and fs 0; Linux
    # takes any RPL, gs and fs, which the general way does)
    if selectors != _USER_SELECTORS or fpstate != sp + _UC_TO_FPSTATE \
            or tail != _XSTATE_TAIL or mxcsr & _MXCSR_RESERVED:
        return None
    regs.returned_image[:] = view[at:at + _RETURNED_SIZE]
    regs.pack_returned(rip - _SYSCALL_LENGTH if rip >= _SYSCALL_LENGTH else
                       rip - _SYSCALL_LENGTH + (1 << 64),
                       (rflags & _NOT_FIX_EFLAGS) | (restored_flags & _FIX_EFLAGS), fop & 0x7FF,
                       regs.full_tags[tags])
    if regs.load_returned():
        raise ContextError("uc_reg_write_batch")
    return blocked & _BLOCKABLE, (ss_sp, ss_flags, ss_size), rsp
