"""A thread's CPU context: every register a Linux x86-64 user thread owns, in one
layout that a context is saved into and restored from (cpu/switch.py's
ContextSwitcher, one per engine, moves it between the engine and a CpuContext),
and the registers of a signal frame (FrameRegisters).

Layer: cpu/, beside engine.py, which keeps a ContextSwitcher and a FrameRegisters on
its Unicorn handle and offers `save_context()` / `restore_context(ctx)`; this module
calls only the unicorn library (its register batches). The scheduler saves the
running thread's context when it switches away and restores the next thread's;
signal delivery reads a saved context to build a frame and writes back what
rt_sigreturn found there.

What is in a context (what Linux saves across a switch or in a signal frame):
- the sixteen general registers, rip, rflags;
- the segment selectors cs, ss, ds, es, fs, gs (a user thread sees cs=0x33 and
  ss=0x2b, the others 0) and the fs and gs bases (the thread pointer);
- the x87 unit: control word, status word (with TOP), tag word, the last
  instruction's opcode and instruction/data pointers, the eight registers in
  physical order (FP0-FP7, 80 bits each; ST(i) is FP((TOP+i) mod 8));
- MXCSR and YMM0-15 (each the XMM register and its upper half: the CPU model has no
  AVX, so the upper halves stay as a restore left them, but they are kept so a
  context is whole on a CPU that has it).

All of it lives in one buffer laid out register after register (`_LAYOUT`), which a
single `uc_reg_read_batch` fills and a single `uc_reg_write_batch` loads. A context
saved by a thread switch inside the syscall hook is Unicorn's own copy of the CPU
state instead (uc_context_save, `_EngineState`), decoded into the layout
(uc_context_reg_read_batch, 0.75 us) only when something reads it: signal delivery,
fork, gdb, /proc. The context's fields are decoded only when read (`ctx.rip`,
`ctx["r8"]`, `ctx.xmm(3)`), so a thread switch pays for none of that.
"""

from __future__ import annotations

import ctypes
import struct
from functools import cache, partial
from types import MappingProxyType

from . import unicorn_x86 as x86
from .libunicorn import HELD, at, ready

from ..abi import sigcontext as SC
from ..abi import x86 as arch

# (name, unicorn id, slot bytes). Slots are 8 bytes for integer registers (Unicorn
# writes 2 for a selector or an x87 control register, so those are masked when
# read), 16 for an x87 register (64-bit mantissa, 16-bit sign and exponent), 32 for
# a YMM register (the XMM register in its low 16). The order is the write order
# too: selectors before their bases (loading a selector may reset the base).
GENERAL = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10",
           "r11", "r12", "r13", "r14", "r15", "rip", "rflags")
SELECTORS = ("cs", "ss", "ds", "es", "fs", "gs")
BASES = ("fs_base", "gs_base")
X87_CONTROL = ("fcw", "fsw", "ftw", "fop", "fip", "fdp", "mxcsr")

_IDS = {
    **{name: getattr(x86, "UC_X86_REG_" + name.upper()) for name in GENERAL[:17]},
    "rflags": x86.UC_X86_REG_EFLAGS,
    **{name: getattr(x86, "UC_X86_REG_" + name.upper()) for name in SELECTORS},
    "fs_base": x86.UC_X86_REG_FS_BASE, "gs_base": x86.UC_X86_REG_GS_BASE,
    "fcw": x86.UC_X86_REG_FPCW, "fsw": x86.UC_X86_REG_FPSW, "ftw": x86.UC_X86_REG_FPTAG,
    "fop": x86.UC_X86_REG_FOP, "fip": x86.UC_X86_REG_FIP, "fdp": x86.UC_X86_REG_FDP,
    "mxcsr": x86.UC_X86_REG_MXCSR,
}
_MASK = {"cs": 0xFFFF, "ss": 0xFFFF, "ds": 0xFFFF, "es": 0xFFFF, "fs": 0xFFFF, "gs": 0xFFFF,
         "fcw": 0xFFFF, "fsw": 0xFFFF, "ftw": 0xFFFF, "fop": 0x7FF, "mxcsr": 0xFFFFFFFF}


def _layout():
    """The context's bytes, fixed at import: (unicorn id, offset, size) of each register
    in batch order, the offset of each named one, where the x87 and YMM registers
    start, and the whole size."""
    layout, offsets, pos = [], {}, 0
    for name in SELECTORS + BASES + GENERAL + X87_CONTROL:
        offsets[name] = pos
        layout.append((_IDS[name], pos, 8))
        pos += 8
    fp_base = pos
    for i in range(8):
        layout.append((x86.UC_X86_REG_FP0 + i, pos, 16))
        pos += 16
    ymm_base = pos
    for i in range(16):
        layout.append((x86.UC_X86_REG_YMM0 + i, pos, 32))
        pos += 32
    return tuple(layout), MappingProxyType(offsets), fp_base, ymm_base, pos


_LAYOUT, OFFSETS, _FP_BASE, _YMM_BASE, SIZE = _layout()
_COUNT = len(_LAYOUT)
_FP80 = arch.FP_REG80
_FP_PAD = bytes(16 - _FP80.size)
_ZERO16 = bytes(16)

# The unicorn library without argtypes, as engine.py uses it: prebuilt arguments,
# and the GIL kept (libunicorn.HELD: each of these calls returns within microseconds).
_raw = HELD
_frame_read_batch = _raw.uc_reg_read_batch     # the signal frame's batches
_frame_write_batch = _raw.uc_reg_write_batch
_frame_read = _raw.uc_reg_read                 # rt_sigreturn's rsp
# Unicorn's own copy of the CPU state (QEMU's CPUX86State up to its reset fields, 5.6
# KB): saving and loading it is one memcpy each way (cpu/switch.py's ContextSwitcher);
# a copy is decoded here.
_context_alloc = _raw.uc_context_alloc
_context_free = _raw.uc_context_free
_context_read_batch = _raw.uc_context_reg_read_batch
# name -> (8-byte slot, mask) of every named field, for the accessors (the named
# fields are the 8-byte slots at the start of the layout; x86-64 is little-endian)
_FIELDS = MappingProxyType({name: (at // 8, _MASK.get(name, 0xFFFFFFFFFFFFFFFF))
                            for name, at in OFFSETS.items()})
# Inside the syscall hook rip is still on the syscall instruction, and Unicorn adds
# its length (SYSCALL_LENGTH) to whatever rip the hook leaves, so a register write
# made there puts rip that much short of where the guest is to go on.
SYSCALL_LENGTH = arch.SYSCALL_LENGTH


class ContextError(Exception):
    """Unicorn refused a register batch (a bug: every id here is valid)."""


class _EngineState:
    """One copy of Unicorn's CPU state (a uc_context), freed with this object. It
    holds only the CPU state, no pointer to the engine, so it can be read after the
    engine is gone; it is loaded only onto the engine it was saved from.

    `rip` is None, or the rip the copy's thread goes on at when the copy holds it
    SYSCALL_LENGTH short, ready to be loaded inside the syscall hook as it is (a
    new thread's: cpu/switch.py's new_thread); decode gives that rip."""

    __slots__ = ("ptr", "rip", "arg")

    def __init__(self, handle: ctypes.c_void_p) -> None:
        self.ptr = ctypes.c_void_p()
        self.rip = None
        if _context_alloc(handle, ctypes.byref(self.ptr)):
            raise ContextError("uc_context_alloc")
        self.arg = at(self.ptr.value)   # the pointer as a ready argument (cpu/switch.py)

    def __del__(self, free=_context_free) -> None:
        if self.ptr:
            free(self.ptr)

    def decode(self) -> bytes:
        """The registers in the layout above."""
        if _context_read_batch(self.ptr, _DECODE_IDS, _DECODE_PTRS, _COUNT):
            raise ContextError("uc_context_reg_read_batch")
        if self.rip is not None:
            _DECODE_SLOTS[_DECODE_RIP] = self.rip
        return _DECODE_BYTES.tobytes()


_DECODE_BUF = ctypes.create_string_buffer(SIZE)
_DECODE_IDS = (ctypes.c_int * _COUNT)(*[reg for reg, _, _ in _LAYOUT])
_DECODE_PTRS = (ctypes.c_void_p * _COUNT)(*[ctypes.addressof(_DECODE_BUF) + off
                                            for _, off, _ in _LAYOUT])
_DECODE_BYTES = memoryview(_DECODE_BUF).cast("B")
_DECODE_SLOTS = (ctypes.c_uint64 * (SIZE // 8)).from_buffer(_DECODE_BUF)
_DECODE_RIP = OFFSETS["rip"] // 8


class CpuContext:
    """One thread's saved registers: `raw` holds them in the layout above.

    Read and change fields by name (`ctx["rdi"]`, `ctx["rdi"] = 3`, `ctx.rip`,
    `ctx.rsp`), the x87 registers with `fp(i)`/`set_fp(i, ...)` and the vector
    registers with `xmm(i)`/`ymm_high(i)`; `copy()` gives an independent context.

    A context saved by a thread switch inside the syscall hook is Unicorn's own copy
    of the CPU state (`_state`, valid while `_on` is the switcher it came from):
    `raw` decodes it when first read, and any change to `raw` makes the bytes the
    context again (`_on` None).
    """

    __slots__ = ("_raw", "_state", "_on")

    # raw is immutable bytes: restore hands it to C without a copy; the rare
    # changes (signal delivery, sigreturn) build new bytes.
    def __init__(self, raw: bytes | None = None) -> None:
        self._raw = bytes(raw) if raw is not None else bytes(SIZE)
        self._state = self._on = None

    @property
    def raw(self) -> bytes:
        raw = self._raw
        if raw is None:
            raw = self._raw = self._state.decode()
        return raw

    @raw.setter
    def raw(self, value: bytes) -> None:
        self._raw = value
        self._on = None

    @classmethod
    def initial(cls) -> "CpuContext":
        """A context as a new Linux user thread starts (ELF_PLAT_INIT, fpu__init):
        general registers 0, rflags IF, the user selectors, x87 and MXCSR at their
        reset values (fninit, 0x1f80)."""
        ctx = cls()
        ctx["rflags"] = arch.X86_EFLAGS_IF | arch.X86_EFLAGS_FIXED
        ctx["cs"] = arch.USER_CS
        ctx["ss"] = arch.USER_DS
        ctx["fcw"] = arch.FPU_CW_DEFAULT
        ctx["ftw"] = arch.FPU_TAGS_EMPTY
        ctx["mxcsr"] = arch.MXCSR_DEFAULT
        return ctx

    def copy(self) -> "CpuContext":
        return CpuContext(self.raw)

    def __getitem__(self, name: str) -> int:
        slot, mask = _FIELDS[name]
        return memoryview(self.raw).cast("Q")[slot] & mask

    def __setitem__(self, name: str, value: int) -> None:
        self._put(OFFSETS[name],
                  (value & _MASK.get(name, 0xFFFFFFFFFFFFFFFF)).to_bytes(8, "little"))

    def update(self, values: dict[str, int], x87: bytes | None = None,
               vectors: bytes | None = None) -> None:
        """Set several fields at once, and with them (x87) the eight physical x87
        registers from a 128-byte block laid out as `x87_block()` gives it, and
        (vectors) XMM0-15 from 256 bytes with the upper YMM halves zero: one copy
        of the context however much changes (a signal frame changes most of it)."""
        raw = bytearray(self.raw)
        slots, fields = memoryview(raw).cast("Q"), _FIELDS
        for name, value in values.items():
            slot, mask = fields[name]
            slots[slot] = value & mask
        slots.release()
        if x87 is not None:
            raw[_FP_BASE:_FP_BASE + 128] = x87
        if vectors is not None:
            raw[_YMM_BASE:_YMM_BASE + 512] = _ymm_block(vectors)
        self.raw = bytes(raw)

    def x87_block(self) -> bytes:
        """The eight physical x87 registers, 16 bytes each: the 64-bit significand,
        the 16-bit sign and exponent, 6 bytes of zero."""
        return b"".join([self.raw[at:at + 10] + _FP_PAD
                         for at in range(_FP_BASE, _FP_BASE + 128, 16)])

    def xmm_block(self) -> bytes:
        """XMM0-15, 16 bytes each (an fxsave image's layout)."""
        raw = self.raw
        return b"".join([raw[at:at + 16] for at in range(_YMM_BASE, _YMM_BASE + 512, 32)])

    def _put(self, at: int, data: bytes) -> None:
        self.raw = self.raw[:at] + data + self.raw[at + len(data):]

    @property
    def rip(self) -> int:
        return self["rip"]

    @property
    def rsp(self) -> int:
        return self["rsp"]

    def fp(self, i: int) -> tuple[int, int]:
        """Physical x87 register i as (64-bit significand, 16-bit sign+exponent)."""
        return _FP80.unpack_from(self.raw, _FP_BASE + 16 * i)

    def set_fp(self, i: int, significand: int, sign_exponent: int) -> None:
        self._put(_FP_BASE + 16 * i, _FP80.pack(significand & 0xFFFFFFFFFFFFFFFF,
                                                sign_exponent & 0xFFFF))

    def st(self, i: int) -> tuple[int, int]:
        """Stack register ST(i): physical register (TOP + i) mod 8."""
        return self.fp((self.top + i) & 7)

    @property
    def top(self) -> int:
        return (self["fsw"] >> 11) & 7

    def xmm(self, i: int) -> bytes:
        at = _YMM_BASE + 32 * i
        return bytes(self.raw[at:at + 16])

    def set_xmm(self, i: int, value: bytes) -> None:
        self._put(_YMM_BASE + 32 * i, bytes(value).ljust(16, b"\0")[:16])

    def ymm_high(self, i: int) -> bytes:
        """The upper 128 bits of YMM i."""
        at = _YMM_BASE + 32 * i + 16
        return bytes(self.raw[at:at + 16])

    def set_ymm_high(self, i: int, value: bytes) -> None:
        self._put(_YMM_BASE + 32 * i + 16, bytes(value).ljust(16, b"\0")[:16])

    def set_x87_registers(self, regs) -> None:
        """All eight physical x87 registers at once: regs is eight (significand,
        sign+exponent) pairs (a signal frame's FPU state, or zeros)."""
        block = b"".join([_FP80.pack(significand & 0xFFFFFFFFFFFFFFFF, sign_exponent & 0xFFFF)
                          + _FP_PAD for significand, sign_exponent in regs])
        self.raw = self.raw[:_FP_BASE] + block + self.raw[_FP_BASE + 128:]

    def set_vector_registers(self, xmm: bytes) -> None:
        """XMM0-15 from 256 bytes, the upper halves of the YMM registers zero."""
        self.raw = self.raw[:_YMM_BASE] + _ymm_block(xmm) + self.raw[_YMM_BASE + 512:]

    def general(self) -> dict[str, int]:
        """The general registers, rip and rflags by name (reports, signal frames)."""
        at = OFFSETS["rax"]                 # GENERAL is laid out in order, 8 bytes each
        return dict(zip(GENERAL, memoryview(self.raw)[at:at + 8 * len(GENERAL)].cast("Q")))

    def __repr__(self) -> str:
        return "CpuContext(rip=%#x rsp=%#x)" % (self.rip, self.rsp)


def _ymm_block(xmm: bytes) -> bytes:
    """The 512 bytes of YMM0-15 holding XMM0-15 from 256 bytes, upper halves zero."""
    xmm = bytes(xmm).ljust(256, b"\0")
    return b"".join([xmm[at:at + 16] + _ZERO16 for at in range(0, 256, 16)])


# ---- the registers of a signal frame -------------------------------------------------------

# struct sigcontext's eighteen registers in its order, then cs and ss: a slot each.
FRAME_SLOT = MappingProxyType({name: i for i, name in
                               enumerate(SC.SIGCONTEXT_REGS + ("cs", "ss"))})
_FRAME_RSP, _FRAME_RFLAGS, _FRAME_RIP = FRAME_SLOT["rsp"], FRAME_SLOT["rflags"], FRAME_SLOT["rip"]
# fxsave's image (abi/sigcontext.py's FPSTATE_*): the batches below read and write
# each register in place, fsw before ST(0)-ST(7), whose placing it decides (TOP).
_FX_ST, _FX_XMM, _FX_END = SC.FPSTATE_ST, SC.FPSTATE_XMM, SC.FPSTATE_RESERVED2
_FX_TAG, _FX_MASK = SC.FPSTATE_FTW, SC.FPSTATE_MXCSR_MASK
_FX_MXCSR, _FX_FOP_HIGH = SC.FPSTATE_MXCSR, SC.FPSTATE_FIELDS["fop"] + 1
# The abridged tag byte of four physical registers from their 8 bits of full tag word
# (bit i set when register i is not empty, tag != 3), and back (a full tag of 0,
# valid, for each register in use: a write uses only empty or not, and a read
# recomputes the rest from the register's contents, as fxrstor does).
_ABRIDGED4 = bytes(sum(1 << i for i in range(4) if (tags >> 2 * i) & 3 != 3)
                   for tags in range(256))
_FULL_TAGS = tuple(sum(3 << 2 * i for i in range(8) if not abridged >> i & 1)
                   for abridged in range(256))
# The FPU as a signal handler starts with it (fpu__clear_user_states: fninit, MXCSR at
# its default, every x87 and vector register zero), in fxsave's layout.
_FX_INIT = bytes(SC.FPSTATE_HEAD.pack(arch.FPU_CW_DEFAULT, 0, 0, 0, 0, 0, arch.MXCSR_DEFAULT,
                                      arch.MXCSR_FEATURE_MASK)).ljust(_FX_END, b"\0")
_MXCSR_MASK = _FX_INIT[_FX_MASK:_FX_MASK + 4]
_ZERO_ST = bytes(_FX_XMM - _FX_ST)
# A signal frame's xsave area: the fxsave image, the xsave header, FP_XSTATE_MAGIC2.
_FX_SW, _XSAVE_FRAME = SC.FPSTATE_SW_RESERVED, (SC.FXSAVE_SIZE + SC.XSTATE_HEADER_SIZE
                                               + SC.FP_XSTATE_MAGIC2_SIZE)


# The shortest path's images (FrameRegisters.read_into_frame, load_returned): a frame from
# pretcode to the end of its fpstate, which is always the same distance above it when
# there is nothing special about the frame (abi/sigcontext.py), and the part of it
# rt_sigreturn reads, from the ucontext on.
_IMAGE_REGS = SC.RT_SIGFRAME_UC + SC.UCONTEXT_MCONTEXT
_IMAGE_CS = _IMAGE_REGS + 8 * len(SC.SIGCONTEXT_REGS)        # cs, gs, fs, ss: 16 bits each
_IMAGE_SS = _IMAGE_CS + 6
_IMAGE_FPSTATE = SC.RT_SIGFRAME_FPSTATE
_IMAGE_SIZE = _IMAGE_FPSTATE + _XSAVE_FRAME
_RETURNED_REGS = SC.UCONTEXT_MCONTEXT
_RETURNED_FPSTATE = _IMAGE_FPSTATE - SC.RT_SIGFRAME_UC
_RETURNED_SIZE = _IMAGE_SIZE - SC.RT_SIGFRAME_UC
# (load_returned's own cells, in this order: pack_returned fills them)
_RETURNED_CELLS = ("rip", "rflags", "fop", "ftw")
_pack_returned = struct.Struct("<%dQ" % len(_RETURNED_CELLS)).pack_into
_IMAGE_TAG = _IMAGE_FPSTATE + _FX_TAG
_IMAGE_INFO, _IMAGE_INFO_END = SC.RT_SIGFRAME_INFO, SC.RT_SIGFRAME_SIZE     # the siginfo
# The registers a frame built as a system call returns takes from the call, not from
# the engine (its result, the return address and flags: read_into_frame leaves them out).
_FROM_THE_CALL = ("rax", "rcx", "r11", "rip")
# What a handler's entry (`enter`) sets besides the FPU (handle_signal, __setup_rt_frame):
# the first six from the entry buffer (pack_entry), rax 0 (kept there), rcx and r11
# from the frame image (the return address and flags it holds, as the system call
# leaves them).
_ENTRY_REGS = ("rdi", "rsi", "rdx", "rsp", "rip", "rflags", "rax")
_ENTRY = struct.Struct("<%dQ" % (len(_ENTRY_REGS) - 1))
_pack_entry = _ENTRY.pack_into


@cache
def _abridged() -> bytes:
    """The abridged tag byte (fxsave's) of each full x87 tag word: 64 KiB, a
    constant made once by the first signal frame (0.4 ms; not at import)."""
    rows = [_ABRIDGED4.translate(bytes(low | high << 4 for low in range(256)))
            for high in range(16)]
    return b"".join([rows[high] for high in _ABRIDGED4])


def _fpu(buffer, tags, at: int = 0) -> list:
    """(unicorn id, address) of each FPU register, in batch order, for an fxsave
    image at offset at of buffer (the full tag word in tags of its own)."""
    fx = ctypes.addressof(buffer) + at
    fpu = [(_IDS[name], fx + off) for name, off in SC.FPSTATE_FIELDS.items()]
    fpu.insert(2, (_IDS["ftw"], ctypes.addressof(tags)))
    fpu += [(x86.UC_X86_REG_ST0 + i, fx + _FX_ST + 16 * i) for i in range(8)]
    fpu += [(x86.UC_X86_REG_XMM0 + i, fx + _FX_XMM + 16 * i) for i in range(16)]
    return fpu


class FrameRegisters:
    """The registers a signal frame holds, moved between one engine and Python in one
    batch each way, in the frame's own layouts (kernel/sigframe.py builds frames from
    them and rt_sigreturn loads them back; a thread switch uses ContextSwitcher).

    `general` is a writable memoryview of 20 u64: struct sigcontext's eighteen
    registers in its order (FRAME_GENERAL; FRAME_SLOT names each slot), then cs and
    ss; `general_bytes` the same memory as bytes (copied whole in a frame's layout
    faster than through the u64 view). `fxsave()` gives the 512 bytes the fxsave
    instruction stores (x87 control and status, the abridged tag byte, the last
    instruction's opcode and pointers, MXCSR and its mask, ST(0)-ST(7), XMM0-15;
    reserved bytes zero), `xsave_frame()` a signal frame's xsave area,
    `fxrstor(image)` takes an image as fxrstor does, `fninit()` gives the FPU a
    handler starts with. `read()` fills everything from the engine; `write()` loads
    it all back except cs and ss, which `write_selectors()` loads. One per engine
    (`Engine.frame_regs`); not reentrant. fs_base, gs_base and the other selectors
    are never touched.

    Measured (unicorn 2.1.4, Python 3.11): read() 1.1 us, write() 1.0 us, against
    2.1 and 2.0 us for a whole CpuContext save and restore."""

    def __init__(self, handle: ctypes.c_void_p) -> None:
        self._handle = handle
        self._general = ctypes.create_string_buffer(8 * len(FRAME_SLOT))
        # fxsave's 512 bytes, then room for the rest of a signal frame's xsave area
        # (xsave_frame)
        self._fx = ctypes.create_string_buffer(_XSAVE_FRAME)
        self._xsave_tail = None
        self._tags = ctypes.create_string_buffer(8)      # the full tag word
        self.general_bytes = memoryview(self._general).cast("B")
        self.general = self.general_bytes.cast("Q")
        self._fx_bytes = memoryview(self._fx).cast("B")
        self._fx_bytes[_FX_MASK:_FX_MASK + 4] = _MXCSR_MASK
        self._tag_word = memoryview(self._tags).cast("B").cast("Q")
        general = ctypes.addressof(self._general)
        regs = [(_IDS[name], general + 8 * slot) for name, slot in FRAME_SLOT.items()]
        fpu = _fpu(self._fx, self._tags)
        self._read = self._batch(regs + fpu)
        self._write = self._batch(regs[:18] + fpu)
        self._selectors = self._batch(regs[18:])
        self._stack = self._batch([regs[_FRAME_RSP], regs[_FRAME_RFLAGS]])
        # rt_sigreturn's first step: rsp alone, with uc_reg_read (a batch of one costs
        # 0.09 us more), into general's slot
        self.fetch_rsp = ready(_frame_read, at(self._handle.value), _IDS["rsp"],
                               ctypes.byref(self._general, 8 * _FRAME_RSP))
        self._init_simple()

    def _init_simple(self) -> None:
        """The buffers and ready-made foreign calls of the shortest path, which
        kernel/sigframe.py calls itself (no Python frame of this class on the way; each
        call's value is Unicorn's, non-zero on an error):

        - `read_into_frame()` reads the engine's registers into `frame_image`, a
          whole signal frame from pretcode to the end of its fpstate
          (abi/sigcontext.py's RT_SIGFRAME_FPSTATE above it), in place:
          sigcontext's registers but rax, rcx, r11 and rip (the caller's: the system
          call's result, return address and flags), cs and ss, and the fxsave image
          but its abridged tag byte: the full tag word goes to `frame_tag_word[0]`,
          and `abridged_tags[word]` is the byte (the ST slots' reserved bytes stay
          zero: nothing else writes there). `frame_slots` is the image as u64.
        - `pack_entry(rdi, rsi, rdx, rsp, rip, rflags)` then `enter()`: from inside
          the syscall hook, a handler's entry: rax 0, these registers (rip given
          SYSCALL_LENGTH short, as write_in_syscall puts it), rcx and r11 as the
          frame image holds them (the system call's return address and flags), the
          FPU as fninit leaves it (fpu__clear_user_states); the others as they are.
        - `returned_image[:] = frame` (a ucontext and the fpstate above it, as
          rt_sigreturn found them, checked by the caller), `pack_returned(rip,
          rflags, fop, full tag word)` (rip SYSCALL_LENGTH short, fop's 11 bits, the
          full tag word `full_tags[abridged byte]`, as fxrstor takes the image), then
          `load_returned()` loads sigcontext's other registers as they are there and
          the FPU from the image; cs and ss are left alone."""
        self._image = ctypes.create_string_buffer(-(-_IMAGE_SIZE // 8) * 8)
        whole = memoryview(self._image).cast("B")
        self.frame_image = image = whole[:_IMAGE_SIZE]
        self.frame_slots = whole.cast("Q")
        # what a frame copies to the stack: pretcode and the ucontext (with the
        # siginfo after them, or without), and the fpstate; and where the siginfo goes
        self.frame_head = image[:_IMAGE_INFO]
        self.frame_head_info = image[:_IMAGE_INFO_END]
        self.frame_info = image[_IMAGE_INFO:_IMAGE_INFO_END]
        self.frame_fpstate = image[_IMAGE_FPSTATE:]
        self.frame_template = None
        # the full x87 tag word read_into_frame reads, and the abridged byte the fpstate
        # holds for each (use_template makes that table)
        self.abridged_tags = b""
        self._image_tags = ctypes.create_string_buffer(8)
        self.frame_tag_word = memoryview(self._image_tags).cast("B").cast("Q")
        at = ctypes.addressof(self._image)
        regs = [(_IDS[name], at + _IMAGE_REGS + 8 * i)
                for i, name in enumerate(SC.SIGCONTEXT_REGS)]
        in_image = {_IDS[name]: ptr for (_, ptr), name in zip(regs, SC.SIGCONTEXT_REGS)}
        regs = [(reg, ptr) for (reg, ptr), name in zip(regs, SC.SIGCONTEXT_REGS)
                if name not in _FROM_THE_CALL]
        regs += [(_IDS["cs"], at + _IMAGE_CS), (_IDS["ss"], at + _IMAGE_SS)]
        self.read_into_frame = self._call(_frame_read_batch, self._batch(
            regs + _fpu(self._image, self._image_tags, _IMAGE_FPSTATE)))
        # the handler's entry: these registers, and the FPU as fninit leaves it
        self._entry = ctypes.create_string_buffer(8 * len(_ENTRY_REGS))
        self._fx_init = ctypes.create_string_buffer(_FX_INIT, _XSAVE_FRAME)
        self._tags_init = ctypes.create_string_buffer(
            arch.FPU_TAGS_EMPTY.to_bytes(8, "little"), 8)
        at = ctypes.addressof(self._entry)
        self.pack_entry = partial(_pack_entry, self._entry, 0)
        self.enter = self._call(_frame_write_batch, self._batch(
            [(_IDS[name], at + 8 * i) for i, name in enumerate(_ENTRY_REGS)]
            + [(_IDS[name], in_image[_IDS[name]]) for name in ("rcx", "r11")]
            + _fpu(self._fx_init, self._tags_init)))
        # rt_sigreturn's: the ucontext and the fpstate above it, as the frame holds them,
        # but rip, rflags, fop and the full tag word, which come from cells of their own
        self._returned = ctypes.create_string_buffer(-(-_RETURNED_SIZE // 8) * 8)
        self.returned_image = memoryview(self._returned).cast("B")[:_RETURNED_SIZE]
        self._returned_cells = ctypes.create_string_buffer(8 * len(_RETURNED_CELLS))
        self.pack_returned = partial(_pack_returned, self._returned_cells, 0)
        self.full_tags = _FULL_TAGS
        cells = {_IDS[name]: ctypes.addressof(self._returned_cells) + 8 * i
                 for i, name in enumerate(_RETURNED_CELLS)}
        at = ctypes.addressof(self._returned)
        self.load_returned = self._call(_frame_write_batch, self._batch(
            [(reg, cells.get(reg, ptr)) for reg, ptr in
             [(_IDS[name], at + _RETURNED_REGS + 8 * i)
              for i, name in enumerate(SC.SIGCONTEXT_REGS)]
             + _fpu(self._returned, self._returned_cells, _RETURNED_FPSTATE)]))

    def _call(self, batch_call, batch):
        """One batch as a ready call (libunicorn.ready): its value is the call's,
        non-zero on an error."""
        ids, ptrs, n = batch
        return ready(batch_call, at(self._handle.value), ctypes.byref(ids), ctypes.byref(ptrs), n)

    @staticmethod
    def _batch(pairs):
        n = len(pairs)
        return ((ctypes.c_int * n)(*[reg for reg, _ in pairs]),
                (ctypes.c_void_p * n)(*[at for _, at in pairs]), n)

    def read(self) -> None:
        """Every register of the frame from the engine."""
        # (an ST slot's last 6 bytes are reserved: zero them, fxrstor may have left
        # a guest's bytes there, and the engine writes only the first 10)
        self._fx_bytes[_FX_ST:_FX_XMM] = _ZERO_ST
        ids, ptrs, n = self._read
        if _frame_read_batch(self._handle, ids, ptrs, n):
            raise ContextError("uc_reg_read_batch")

    def read_stack(self) -> tuple[int, int]:
        """(rsp, rflags) from the engine, into `general` too (rt_sigreturn's start)."""
        ids, ptrs, n = self._stack
        if _frame_read_batch(self._handle, ids, ptrs, n):
            raise ContextError("uc_reg_read_batch")
        general = self.general
        return general[_FRAME_RSP], general[_FRAME_RFLAGS]

    def read_rsp(self) -> int:
        """rsp from the engine. (rt_sigreturn's shortest path calls `fetch_rsp`, the
        foreign call itself, and reads general's slot: no Python frame on the way.)"""
        if self.fetch_rsp():
            raise ContextError("uc_reg_read")
        return self.general[_FRAME_RSP]

    def write(self) -> None:
        """The general registers, rip, rflags and the FPU onto the engine."""
        ids, ptrs, n = self._write
        if _frame_write_batch(self._handle, ids, ptrs, n):
            raise ContextError("uc_reg_write_batch")

    def write_in_syscall(self) -> None:
        """write() from inside the syscall hook, so that the guest goes on at
        general's rip: it goes in SYSCALL_LENGTH short (as restore_in_syscall)."""
        general = self.general
        general[_FRAME_RIP] = (general[_FRAME_RIP] - SYSCALL_LENGTH) & 0xFFFFFFFFFFFFFFFF
        self.write()

    def write_selectors(self) -> None:
        ids, ptrs, n = self._selectors
        if _frame_write_batch(self._handle, ids, ptrs, n):
            raise ContextError("uc_reg_write_batch")

    def fxsave(self) -> bytes:
        """The FPU as fxsave stores it (512 bytes)."""
        fx, tags = self._fx_bytes, self._tag_word[0]
        fx[_FX_TAG] = _ABRIDGED4[tags & 0xFF] | _ABRIDGED4[tags >> 8 & 0xFF] << 4
        fx[_FX_TAG + 1] = 0
        return self._fx.raw[:_FX_SW].ljust(SC.FXSAVE_SIZE, b"\0")

    def xsave_frame(self, tail: bytes) -> bytes:
        """A signal frame's xsave area in one copy: fxsave()'s image up to its
        software-available bytes (464), then tail (those bytes, the xsave header
        and FP_XSTATE_MAGIC2: 116 bytes, the same object every time, kept in place
        after the first call)."""
        fx, tags = self._fx_bytes, self._tag_word[0]
        fx[_FX_TAG] = _ABRIDGED4[tags & 0xFF] | _ABRIDGED4[tags >> 8 & 0xFF] << 4
        fx[_FX_TAG + 1] = 0
        if tail is not self._xsave_tail:
            fx[_FX_SW:] = tail
            self._xsave_tail = tail
        return self._fx.raw

    def fxrstor(self, image: bytes, x87: bool = True, sse: bool = True,
                at: int = 0) -> None:
        """The FPU from an fxsave image (its first 416 bytes; in image from offset
        at), as fxrstor takes it: the full tag word from the abridged one, fop's 11
        bits; x87 false leaves the x87 state as fninit makes it, sse false XMM0-15
        zero (MXCSR is taken either way). MXCSR is not checked: reserved bits are
        the caller's."""
        fx = self._fx_bytes
        fx[:_FX_END] = image[at:at + _FX_END]
        fx[_FX_FOP_HIGH] &= 0x07                # fop: 11 bits
        fx[_FX_MASK:_FX_MASK + 4] = _MXCSR_MASK
        if x87:
            self._tag_word[0] = _FULL_TAGS[image[at + _FX_TAG]]
        else:
            fx[0:_FX_MXCSR] = _FX_INIT[0:_FX_MXCSR]
            fx[_FX_ST:_FX_XMM] = _FX_INIT[_FX_ST:_FX_XMM]
            self._tag_word[0] = arch.FPU_TAGS_EMPTY
        if not sse:
            fx[_FX_XMM:_FX_END] = _FX_INIT[_FX_XMM:_FX_END]

    def fninit(self) -> None:
        """The FPU a signal handler starts with (fpu__clear_user_states)."""
        self._fx_bytes[:_FX_END] = _FX_INIT
        self._tag_word[0] = arch.FPU_TAGS_EMPTY

    # ---- the shortest path -------------------------------------------------------------------

    def use_template(self, template: bytes) -> None:
        """Every byte of `frame_image` that neither the engine's registers nor the
        caller fill for each frame: template's (kept as `frame_template`; the caller
        passes the same object every time, so this happens once)."""
        self.frame_image[:] = template
        self.frame_template = template
        self.abridged_tags = _abridged()
