"""Thread switches on one engine: a CpuContext (cpu/context.py) saved from and loaded
onto the engine's CPU in one foreign call each way.

Layer: cpu/, beside engine.py and context.py: each Engine keeps one ContextSwitcher
on its Unicorn handle (`Engine.contexts`; `save_context()` / `restore_context(ctx)`
go through it); the scheduler (kernel/sched.py) calls it for the switches it makes
inside the syscall hook and clone (kernel/threads.py) for a new thread's registers.
Calls only the unicorn library.

`save` is one `uc_reg_read_batch` into the switcher's buffer, laid out as
context.py's `_LAYOUT`, and one copy out into the context's own bytes; `restore`
one copy in and one `uc_reg_write_batch` (the copies through a memoryview of the
buffer: ctypes.string_at and memmove took 0.3-0.5 us each, at best).
`restore_in_syscall` does the same from inside the syscall hook, where the
scheduler hands the engine from a thread that parked to the next one without
stopping the run.

Measured (unicorn 2.1.4, Python 3.11, this 2-core machine shared with other work, best
of 5 x 20,000): save 1.0-2.1 us, restore 1.1-2.2 us for all 57 registers (904
bytes), most of it the Python around two foreign calls: the register batches alone
take 0.63 us (read) and 0.65 us (write), and a batch of one register 0.31 us, so
leaving the x87/SSE part out (a lazy-FPU scheme) would save well under 1 us a
switch, not worth a context that is not whole.

A thread switch inside the syscall hook (`switch_in_syscall`) keeps the parked
thread's state as Unicorn's own copy instead (uc_context_save/restore, a memcpy of
QEMU's CPU state: 0.39 and 0.41 us against 1.24 and 1.09 for save and restore above);
see ContextSwitcher.switch_in_syscall for why that copy is safe to load there.
"""

from __future__ import annotations

import ctypes
import struct

from .context import (_COUNT, _IDS, _LAYOUT, OFFSETS, SIZE, SYSCALL_LENGTH, ContextError,
                      CpuContext, _EngineState)
from .libunicorn import HELD, at, ready

# The unicorn library without argtypes, as engine.py uses it: prebuilt arguments,
# and the GIL kept (libunicorn.HELD: each of these calls returns within microseconds).
# Pointer arguments are made once with libunicorn.at (the engine's handle, the
# arrays here, each copy's `arg`), so a call converts nothing but its counts.
_reg_read_batch = HELD.uc_reg_read_batch
_reg_write_batch = HELD.uc_reg_write_batch
_context_save = HELD.uc_context_save
_context_restore = HELD.uc_context_restore
_context_write_batch = HELD.uc_context_reg_write_batch
_SPARE_STATES = 4       # copies retire keeps for new threads at most
_NO_REGISTERS = bytes(SIZE)     # a retired context's
_pack_returning = struct.Struct("<4Q").pack_into     # rax, rcx, r11, rip
# Slots (8 bytes each) of the layout's named registers. Inside the syscall hook rip is
# still on the syscall instruction, and Unicorn adds its length (SYSCALL_LENGTH) to
# whatever rip the hook leaves, so a register write made there puts rip that much
# short of where the guest is to go on.
_RIP_SLOT, _RAX_SLOT, _RCX_SLOT, _R11_SLOT = (OFFSETS[name] // 8
                                              for name in ("rip", "rax", "rcx", "r11"))
_RSP_SLOT, _RFLAGS_SLOT, _FS_BASE_SLOT = (OFFSETS[name] // 8
                                          for name in ("rsp", "rflags", "fs_base"))


class ContextSwitcher:
    """Save and restore contexts on one engine with prebuilt ctypes arguments.

    One per engine (`Engine.contexts`); its buffer is the staging area of both
    directions, so it is not reentrant (nor is the engine)."""

    def __init__(self, handle: ctypes.c_void_p) -> None:
        self._handle = handle
        self._handle_arg = handle_arg = at(handle.value)
        self._buf = ctypes.create_string_buffer(SIZE)
        self._addr = ctypes.addressof(self._buf)
        self._ids = (ctypes.c_int * _COUNT)(*[reg for reg, _, _ in _LAYOUT])
        self._ptrs = (ctypes.c_void_p * _COUNT)(*[self._addr + off for _, off, _ in _LAYOUT])
        # the whole batch each way, ready-made
        self._read_all = ready(_reg_read_batch, handle_arg, _arg(self._ids), _arg(self._ptrs),
                               _COUNT)
        self._write_all = ready(_reg_write_batch, handle_arg, _arg(self._ids),
                                _arg(self._ptrs), _COUNT)
        self._slots = (ctypes.c_uint64 * (SIZE // 8)).from_buffer(self._buf)
        # The buffer as bytes: copying through a memoryview (tobytes, a slice
        # assignment) takes a tenth of what ctypes.string_at and memmove take.
        self._bytes = memoryview(self._buf).cast("B")
        # rax, rcx, r11, rip of a completed call, written into a saved CPU state;
        # for a new thread's (new_thread) also rsp and fs_base, in either order
        # (the last two ids are set for each)
        self._returning = (ctypes.c_uint64 * 6)()
        self._returning_ids = (ctypes.c_int * 6)(*[_IDS[name] for name in
                                                   ("rax", "rcx", "r11", "rip", "rsp",
                                                    "fs_base")])
        self._returning_ptrs = (ctypes.c_void_p * 6)(*[ctypes.addressof(self._returning) + 8 * i
                                                       for i in range(6)])
        self._returning_bytes = memoryview(self._returning).cast("B")
        self._returning_ids_arg = _arg(self._returning_ids)
        self._returning_ptrs_arg = _arg(self._returning_ptrs)
        self._rsp_id, self._fs_base_id = _IDS["rsp"], _IDS["fs_base"]
        # Copies of exited threads (retire), for new threads' (new_thread) to use
        # again: an allocation and a free fewer each (two foreign calls).
        self._spare: list = []
        # rip and rflags: read from the engine (new_thread) or a copy (a load)
        self._at = (ctypes.c_uint64 * 2)()
        self._at_ids = (ctypes.c_int * 2)(_IDS["rip"], _IDS["rflags"])
        self._at_ptrs = (ctypes.c_void_p * 2)(ctypes.addressof(self._at),
                                              ctypes.addressof(self._at) + 8)
        self._at_ids_arg, self._at_ptrs_arg = _arg(self._at_ids), _arg(self._at_ptrs)
        self._read_at = ready(_reg_read_batch, handle_arg, self._at_ids_arg, self._at_ptrs_arg,
                              2)

    def save(self, ctx: CpuContext | None = None) -> CpuContext:
        """The engine's registers now, into ctx (a new context when None)."""
        if self._read_all():
            raise ContextError("uc_reg_read_batch")
        if ctx is None:
            ctx = CpuContext.__new__(CpuContext)
            ctx._state = None
        ctx._raw = self._bytes.tobytes()
        ctx._on = None
        return ctx

    def save_returning(self, rsp: int, fs_base: int | None) -> CpuContext:
        """From inside the syscall hook, a new context that is the engine's
        registers as the `syscall` being handled returns 0 (clone's child): rip and
        rcx past the instruction, r11 the flags, rax 0; rsp replaced unless 0,
        fs_base unless None. One register batch; the changes are made in the
        buffer before its one copy out."""
        if self._read_all():
            raise ContextError("uc_reg_read_batch")
        slots = self._slots
        after = (slots[_RIP_SLOT] + SYSCALL_LENGTH) & 0xFFFFFFFFFFFFFFFF
        slots[_RIP_SLOT] = slots[_RCX_SLOT] = after
        slots[_R11_SLOT] = slots[_RFLAGS_SLOT]
        slots[_RAX_SLOT] = 0
        if rsp:
            slots[_RSP_SLOT] = rsp
        if fs_base is not None:
            slots[_FS_BASE_SLOT] = fs_base
        ctx = CpuContext.__new__(CpuContext)
        ctx._raw = self._bytes.tobytes()
        ctx._state = ctx._on = None
        return ctx

    def new_thread(self, rsp: int, fs_base: int | None,
                   at: tuple[int, int] | None = None) -> CpuContext:
        """save_returning for a new thread of the same engine (clone's child, from
        inside the syscall hook): the context is Unicorn's own copy of the CPU state
        (one memcpy, as a switch in the hook saves it), with rax, rcx, r11, rip and
        rsp and fs_base as save_returning sets them written into the copy in one
        call, so it decodes to the same registers. Its rip goes in SYSCALL_LENGTH
        short (the state's `rip` says where the thread goes on), so that a load
        inside the syscall hook (switch_in_syscall, the common case: the parent
        waits for it) is one memcpy; restore, outside the hook, writes rip first.
        at: the (rip, rflags) of the syscall instruction when the caller has them
        (the hook read them), else they are read from the engine. Onto another
        engine the copy goes through the registers, as any copy does."""
        if at is None:
            if self._read_at():
                raise ContextError("uc_reg_read_batch")
            rip, rflags = self._at
        else:
            rip, rflags = at
        ctx = CpuContext.__new__(CpuContext)
        ctx._raw = None
        state = ctx._state = self._spare.pop() if self._spare else _EngineState(self._handle)
        ctx._on = self
        if _context_save(self._handle_arg, state.arg):
            raise ContextError("uc_context_save")
        after = (rip + SYSCALL_LENGTH) & 0xFFFFFFFFFFFFFFFF
        state.rip = after
        # rax, rcx, r11, rip (after, SYSCALL_LENGTH short), then rsp and fs_base
        _pack_returning(self._returning_bytes, 0, 0, after, rflags, rip & 0xFFFFFFFFFFFFFFFF)
        n = 4
        if rsp:
            vals, ids = self._returning, self._returning_ids
            ids[n] = self._rsp_id
            vals[n] = rsp
            n += 1
        if fs_base is not None:
            vals, ids = self._returning, self._returning_ids
            ids[n] = self._fs_base_id
            vals[n] = fs_base
            n += 1
        if _context_write_batch(state.arg, self._returning_ids_arg, self._returning_ptrs_arg, n):
            raise ContextError("uc_context_reg_write_batch")
        return ctx

    def retire(self, ctx: CpuContext) -> None:
        """ctx's thread has exited and will never be loaded again: a copy of this
        engine's it holds is kept for a new thread's (new_thread), and ctx holds
        zeros from now on."""
        if ctx._on is self and len(self._spare) < _SPARE_STATES:
            self._spare.append(ctx._state)
            ctx._state = ctx._on = None
            ctx._raw = _NO_REGISTERS

    def restore(self, ctx: CpuContext) -> None:
        """Load every register of ctx onto the engine (call it while the guest is
        stopped: the next run starts at ctx.rip)."""
        if ctx._on is self:
            state = ctx._state
            if state.rip is not None:       # (a new thread's: its rip goes in whole)
                self._at[0] = state.rip
                state.rip = None
                if _context_write_batch(state.arg, self._at_ids_arg, self._at_ptrs_arg, 1):
                    raise ContextError("uc_context_reg_write_batch")
            if _context_restore(self._handle_arg, state.arg):
                raise ContextError("uc_context_restore")
            return
        self._bytes[:] = ctx.raw
        if self._write_all():
            raise ContextError("uc_reg_write_batch")

    def restore_in_syscall(self, ctx: CpuContext, returning: tuple | None = None) -> None:
        """Load every register of ctx from inside the syscall hook, so that the
        guest goes on at ctx.rip when the hook returns: Unicorn moves rip past the
        syscall instruction (2 bytes) after the hook whatever the hook wrote, so
        rip goes in 2 short (ctx itself is left as it is). With returning, a
        (rax, rip, rflags) of a system call that ctx's thread made and that has
        completed: the registers are those `syscall` returns with (rax the
        result, rip and rcx the return address, r11 the flags)."""
        self.switch_in_syscall(None, ctx, returning, False)

    def switch_in_syscall(self, old: CpuContext | None, ctx: CpuContext,
                          returning: tuple | None = None, save: bool = True):
        """A thread switch inside the syscall hook (kernel/sched.py): `save(old)`,
        then `restore_in_syscall(ctx, returning)`, in one call. Returns the saved
        context (old, or a new one when old is None); with save false, only loads.

        The saved context is Unicorn's own copy of the CPU state (uc_context_save,
        one memcpy, about a third of a 57-register batch with its copy), kept in
        old's `_state` from one switch to the next. Such a context saved here has
        rip on the syscall instruction and every other part of the CPU state as it
        is during a run (CR2 at its no-fault mark, no exception in flight; CR0, CR3,
        CR4, EFER and the descriptor tables never change after the engine is set
        up), so it is loaded back here with uc_context_restore: when it comes back
        with `returning`, rax, rcx, r11 and rip (2 short) are written into the copy
        first, so the load is again one memcpy, and no register write moves rip,
        which would make Unicorn leave its execution loop and enter it again
        (quit_request) before the next block. A new thread's copy (new_thread) is
        made the same way at its clone and loaded so too, its rip (2 short) written
        in first. Any other context is loaded with the register batch."""
        if save:
            if old is None:
                old = CpuContext.__new__(CpuContext)
                old._state = None
            state = old._state
            if state is None:
                state = old._state = _EngineState(self._handle)
            if _context_save(self._handle_arg, state.arg):
                raise ContextError("uc_context_save")
            state.rip = None
            old._raw = None
            old._on = self
        state = ctx._state
        if ctx._on is self and (returning is not None or state.rip is not None):
            arg = state.arg
            if returning is not None:
                rax, rip, rflags = returning
                _pack_returning(self._returning_bytes, 0, rax & 0xFFFFFFFFFFFFFFFF, rip, rflags,
                                (rip - SYSCALL_LENGTH) & 0xFFFFFFFFFFFFFFFF)
                if _context_write_batch(arg, self._returning_ids_arg, self._returning_ptrs_arg,
                                        4):
                    raise ContextError("uc_context_reg_write_batch")
                state.rip = None
            ctx._raw = None
            if _context_restore(self._handle_arg, arg):
                raise ContextError("uc_context_restore")
            return old
        self._bytes[:] = ctx.raw
        slots = self._slots
        if returning is not None:
            rax, rip, rflags = returning
            slots[_RAX_SLOT] = rax & 0xFFFFFFFFFFFFFFFF
            slots[_RCX_SLOT] = rip
            slots[_R11_SLOT] = rflags
            slots[_RIP_SLOT] = rip - SYSCALL_LENGTH
        else:
            slots[_RIP_SLOT] = (slots[_RIP_SLOT] - SYSCALL_LENGTH) & 0xFFFFFFFFFFFFFFFF
        if self._write_all():
            raise ContextError("uc_reg_write_batch")
        return old


def _arg(array) -> object:
    """A ctypes array as a pointer argument made once (libunicorn.at)."""
    return at(ctypes.addressof(array))
