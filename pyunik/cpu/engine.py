"""The CPU: one Unicorn x86-64 engine and the fast path from `syscall` to the kernel.

Layer: cpu/, the bottom; the only package that calls unicorn (through cpu/libunicorn.py).
Uses cpu/paging.py for the page tables, cpu/context.py and cpu/switch.py for whole
thread contexts and cpu/stops.py for stops from other host threads.

The kernel sees an `Engine`: map host memory at guest addresses, read and write guest
memory and registers, run until the guest stops, and a syscall callback called with
the seven syscall registers. The CPU runs with x86-64 paging on (cpu/paging.py says
why: guest stores take the TLB's fast path only so), so guest addresses are virtual
and Unicorn's memory map is physical; this class translates for its callers.

The syscall path is the hot path of the whole emulator, so it avoids the Unicorn
class's wrappers (cpu/libunicorn.py): the hook is a raw ctypes callback registered with
`uc_hook_add`, the seven argument registers arrive with one `uc_reg_read_batch`, and
rax is written with one `uc_reg_write`, each a bare foreign call on prebuilt buffers.
"""

from __future__ import annotations

import contextlib
import ctypes
import struct
from collections.abc import Callable

from . import unicorn_x86 as x86
from .libunicorn import (HELD, LIB, UC_ARCH_X86, UC_CTL_IO_WRITE, UC_CTL_TB_REMOVE_CACHE,
                         UC_CTL_TLB_FLUSH, UC_ERR_FETCH_PROT, UC_ERR_FETCH_UNMAPPED,
                         UC_ERR_INSN_INVALID, UC_ERR_READ_PROT, UC_ERR_READ_UNMAPPED,
                         UC_ERR_WRITE_PROT, UC_ERR_WRITE_UNMAPPED, UC_HOOK_CODE, UC_HOOK_INSN,
                         UC_HOOK_INTR, UC_HOOK_MEM_FETCH_UNMAPPED, UC_HOOK_MEM_INVALID,
                         UC_MEM_FETCH_PROT, UC_MEM_FETCH_UNMAPPED, UC_MEM_READ_PROT,
                         UC_MEM_READ_UNMAPPED,
                         UC_MEM_WRITE_PROT, UC_MEM_WRITE_UNMAPPED, UC_MODE_64, UC_PROT_ALL,
                         UC_PROT_READ, UC_PROT_WRITE, Unicorn, UnicornError, at, ready)

from ..abi import x86 as arch
from . import paging
from .context import CpuContext, FrameRegisters
from .switch import ContextSwitcher
from .stops import SliceTimer, ask_for_block_stops, set_exit_checks
from .paging import NO_EXECUTE, PAGE, PRESENT, WRITABLE, PageTables

# The unicorn library without argtypes: a call with prebuilt ctypes arguments then
# skips per-argument conversion (about 0.3 us a call). uc_emu_start goes through
# LIB, which releases the GIL while the guest runs; the rest keep it (HELD, see
# cpu/libunicorn.py), but the syscall hook's two batches, which stay as they were.
_raw = HELD
_reg_read_batch = LIB.uc_reg_read_batch
_reg_write = _raw.uc_reg_write
_reg_write_batch = LIB.uc_reg_write_batch
_emu_stop = _raw.uc_emu_stop
_emu_start = LIB.uc_emu_start
_reg_read = _raw.uc_reg_read
# Memory access with prebuilt ctypes arguments (c_uint64 addresses), no argtypes.
_mem_read = _raw.uc_mem_read
_mem_write = _raw.uc_mem_write
_u64 = ctypes.c_uint64
_string_at = ctypes.string_at
_ctl = _raw.uc_ctl
# uc_ctl's encoding: the control, its argument count << 26, the direction << 30.
_CTL_REMOVE_CACHE = UC_CTL_TB_REMOVE_CACHE | (2 << 26) | (UC_CTL_IO_WRITE << 30)  # begin, end
_CTL_FLUSH_TLB = UC_CTL_TLB_FLUSH | (UC_CTL_IO_WRITE << 30)
# QEMU's own flush of one page from the TLB (all MMU modes), which takes the CPU
# (uc_struct.cpu), not the engine: see _cpu_of.
_flush_page = getattr(_raw, "tlb_flush_page_x86_64", None)
_FLUSH_PAGES_MAX = 16     # more pages than this to flush: the whole TLB instead
_hook_add = _raw.uc_hook_add
_hook_add.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_int,
                      ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64,
                      ctypes.c_int]
_SYSCALL_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)

# Register names the rest of pyunik uses, mapped to unicorn's ids.
REGS = {
    "rax": x86.UC_X86_REG_RAX, "rbx": x86.UC_X86_REG_RBX, "rcx": x86.UC_X86_REG_RCX,
    "rdx": x86.UC_X86_REG_RDX, "rsi": x86.UC_X86_REG_RSI, "rdi": x86.UC_X86_REG_RDI,
    "rbp": x86.UC_X86_REG_RBP, "rsp": x86.UC_X86_REG_RSP, "r8": x86.UC_X86_REG_R8,
    "r9": x86.UC_X86_REG_R9, "r10": x86.UC_X86_REG_R10, "r11": x86.UC_X86_REG_R11,
    "r12": x86.UC_X86_REG_R12, "r13": x86.UC_X86_REG_R13, "r14": x86.UC_X86_REG_R14,
    "r15": x86.UC_X86_REG_R15, "rip": x86.UC_X86_REG_RIP, "eflags": x86.UC_X86_REG_EFLAGS,
    "fs_base": x86.UC_X86_REG_FS_BASE, "gs_base": x86.UC_X86_REG_GS_BASE,
}
GPR_ORDER = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10",
             "r11", "r12", "r13", "r14", "r15", "rip", "eflags", "fs_base", "gs_base"]

# Syscall ABI registers, in the order the dispatcher receives them, then rip (in the
# hook, the address of the `syscall` instruction itself) and rflags: the instruction
# after it and rflags are what `syscall` leaves in rcx and r11 on real hardware.
_SYSCALL_REGS = [x86.UC_X86_REG_RAX, x86.UC_X86_REG_RDI, x86.UC_X86_REG_RSI,
                 x86.UC_X86_REG_RDX, x86.UC_X86_REG_R10, x86.UC_X86_REG_R8,
                 x86.UC_X86_REG_R9, x86.UC_X86_REG_RIP, x86.UC_X86_REG_EFLAGS]
_RETURN_REGS = [x86.UC_X86_REG_RAX, x86.UC_X86_REG_RCX, x86.UC_X86_REG_R11]

_SMALL = 4096

# Where guest code usually runs (virtual addresses): below DATA_BASE (a non-PIE
# program at 0x400000) and above the physical address space (PIE programs, shared
# libraries, JIT pages), and never a physical address. After translating each block
# Unicorn 2.1.4 sweeps its whole TLB (three MMU modes, 256 and more entries each:
# tlb_reset_dirty_by_vaddr, ~7% of python3 -c pass) to send later stores to the
# block's page down the slow path that finds self-modifying code, unless a memory
# hook's range holds the block's address. The sweep has nothing to do here: Unicorn
# lets a store take the fast path only through a TLB entry that is not executable,
# a code fetch through such an entry misses and refills it (so the entry a block is
# translated from never allows fast stores), and pyunik flushes the TLB when a page
# loses write or execute access. So a hook that never fires (fetches from memory
# outside Unicorn's map: page tables point only into it) covers these ranges; its
# range is checked against the physical address of a store (notdirty_write), which
# is never in them, so stores to data keep the fast path.
CODE_RANGES = ((0, paging.DATA_BASE - 1), (1 << paging.PHYS_BITS, (1 << 64) - 1))

# CR2 before the guest runs: a page fault replaces it with the faulting address.
_CR2_UNSET = 0xFFFFFFFFFFFFFFFF


def _cpu_of(handle: int) -> int | None:
    """The engine's CPU (QEMU's CPUState, uc_struct.cpu), for the page flush; None
    when it cannot be told. Its place in struct uc_struct is read from Unicorn's own
    code rather than assumed: tcg_flush_softmmu_tlb (the whole-TLB flush behind
    UC_CTL_TLB_FLUSH) is `mov rdi, [rdi + disp32]; jmp tlb_flush` in Unicorn 2.1.4's
    x86-64 build, and disp32 is that place. Any other code: None."""
    func = getattr(_raw, "tcg_flush_softmmu_tlb_x86_64", None)
    if func is None or _flush_page is None:
        return None
    code = ctypes.string_at(ctypes.cast(func, ctypes.c_void_p).value, 8)
    if code[:3] != b"\x48\x8b\xbf" or code[7] != 0xE9:
        return None
    cpu = ctypes.c_void_p.from_address(handle + int.from_bytes(code[3:7], "little")).value
    return cpu or None


def _not_handled(uc, access, address, size, value, data) -> bool:
    """The code-range hooks' callback (never called, see CODE_RANGES): not handled,
    so Unicorn reports the fetch as it would with no hook."""
    return False


class MemoryFault(Exception):
    """A guest address the engine could not read or write."""


class GuestFault:
    """Why the guest stopped with a hardware fault (becomes a signal in the kernel)."""

    def __init__(self, kind: str, address: int, access: str = "", intno: int = -1):
        self.kind = kind          # "segv", "ill", "trap", "fpe", "bus"
        self.address = address    # faulting data address, or the instruction address
        self.access = access      # "read", "write", "exec" for memory faults
        self.intno = intno        # x86 exception vector, when one was raised


_UC_ERR_ACCESS = {
    UC_ERR_READ_UNMAPPED: "read", UC_ERR_READ_PROT: "read",
    UC_ERR_WRITE_UNMAPPED: "write", UC_ERR_WRITE_PROT: "write",
    UC_ERR_FETCH_UNMAPPED: "exec", UC_ERR_FETCH_PROT: "exec",
}
_MEM_ACCESS = {
    UC_MEM_READ_UNMAPPED: "read", UC_MEM_WRITE_UNMAPPED: "write", UC_MEM_FETCH_UNMAPPED: "exec",
    UC_MEM_READ_PROT: "read", UC_MEM_WRITE_PROT: "write", UC_MEM_FETCH_PROT: "exec",
}


class Engine:
    """One guest address space with its CPU state.

    `on_syscall(regs)` is called for each `syscall` instruction with
    [rax, rdi, rsi, rdx, r10, r8, r9, rip, rflags]; it returns the value for rax, or
    None to leave the registers as the kernel set them. Returning sets rax, and rcx
    and r11 to the return address and flags, as the `syscall` instruction does. The
    callback may call `stop()`.
    """

    def __init__(self) -> None:
        self.uc = Unicorn(UC_ARCH_X86, UC_MODE_64)
        self._handle = ctypes.c_void_p(self.uc.handle)
        self._value = _u64()                      # one register, read or written raw
        self._value_ref = ctypes.byref(self._value)
        self._no_end = _u64(0)                    # emu_start's until and timeout
        self._small = ctypes.create_string_buffer(_SMALL)   # reused by short reads
        self._small_addr = ctypes.addressof(self._small)
        self._cr2_unset = _u64(_CR2_UNSET)
        # CR2 to its no-fault mark, before each run (see _silent_fault)
        self._clear_cr2 = ready(_reg_write, at(self.uc.handle), x86.UC_X86_REG_CR2,
                                ctypes.byref(self._cr2_unset))
        self.on_syscall: Callable[[list], int | None] | None = None
        self.fault: GuestFault | None = None
        self.pending_error: BaseException | None = None
        self._fault_pc: int | None = None
        self.stop_requested = False   # stop() was called since the run began
        self.preempted = False    # the last run ended because its slice ran out
        self._pages = PageTables()
        self._regions = paging.PhysicalRegions()
        self._separate_ram_offsets()
        self._enable_paging()
        # Once Unicorn is set up (mapping memory does that) and before any code is
        # translated: stops land on block boundaries only, so a run stopped from
        # another thread resumes exactly (cpu/stops.py).
        self.block_stops = ask_for_block_stops(self.uc.handle)
        self._slices = SliceTimer(self._stop_from_timer)
        # preempt_in(seconds): end the current (or next) run seconds from now, as its
        # time slice: the run returns with `preempted` set. Only with `block_stops`
        # (see run()).
        # restart_slice(seconds): from inside the syscall hook, where another
        # thread's registers were just loaded: the run's slice starts again, ending
        # seconds from now (None: not at all). A stop the old slice asked for may
        # still end the run, which is then `preempted` as a slice's end.
        # (The timer's own methods: every thread switch and futex wake calls one.)
        self.preempt_in = self._slices.arm
        self.restart_slice = self._slices.restart
        self._install_hooks()
        # A user thread's selectors, as Linux loads them (Unicorn starts with 0s).
        self.uc.reg_write(x86.UC_X86_REG_CS, arch.USER_CS)
        self.uc.reg_write(x86.UC_X86_REG_SS, arch.USER_DS)
        self.contexts = ContextSwitcher(self._handle)
        self.frame_regs = FrameRegisters(self._handle)   # signal frames' (cpu/context.py)
        # The CPU with no exception in flight, for after each fault (see run()).
        self._clean_state = self.uc.context_save()
        cpu = _cpu_of(self.uc.handle)
        self._cpu = None if cpu is None else at(cpu)    # (a ready-made pointer argument)

    def _separate_ram_offsets(self) -> None:
        """Map and unmap one page before any other mapping, so that every later
        region gets a RAM offset of its own. Unicorn 2.1 keeps its RAM blocks in a
        list sorted by size and, until the first block is freed, gives a new block
        the offset right after the list's last (smallest) block, not after the
        highest offset in use: two blocks larger than that one get the same offset,
        and guest pages of both share one offset in the translation cache's page
        descriptors. A store to a data page then drops the translated code of the
        code page at the same offset (a static program's .data and .text: musl's
        pthread_create translated one block again after every store to its thread
        list lock). Once a block has been freed, Unicorn searches the gaps between
        the blocks in use instead. (Before paging is on: the unmap looks its region
        up as a virtual address. The page shown is the page tables' first, which
        the guest never sees: nothing runs while it is mapped.)"""
        self.uc.mem_map_ptr(0, PAGE, UC_PROT_READ, self._pages.host)
        self.uc.mem_unmap(0, PAGE)

    def _enable_paging(self) -> None:
        """Long mode with 4-level paging and NX, the tables at paging.TABLE_BASE."""
        uc = self.uc
        uc.mem_map_ptr(paging.TABLE_BASE, paging.TABLE_AREA, UC_PROT_READ | UC_PROT_WRITE,
                       self._pages.host)
        uc.reg_write(x86.UC_X86_REG_CR3, self._pages.root)
        uc.reg_write(x86.UC_X86_REG_CR4, uc.reg_read(x86.UC_X86_REG_CR4) | arch.X86_CR4_PAE)
        uc.msr_write(arch.MSR_EFER, uc.msr_read(arch.MSR_EFER) | arch.EFER_NX)
        cr0 = uc.reg_read(x86.UC_X86_REG_CR0)
        uc.reg_write(x86.UC_X86_REG_CR0, cr0 | arch.X86_CR0_PG | arch.X86_CR0_WP)

    # ---- the syscall fast path ----------------------------------------------------------

    def _install_hooks(self) -> None:
        n = len(_SYSCALL_REGS)
        ids = (ctypes.c_int * n)(*_SYSCALL_REGS)
        vals = (ctypes.c_uint64 * n)()
        ptrs = (ctypes.c_void_p * n)(*[ctypes.addressof(vals) + 8 * i for i in range(n)])
        out_ids = (ctypes.c_int * 3)(*_RETURN_REGS)
        out = (ctypes.c_uint64 * 3)()
        out_ptrs = (ctypes.c_void_p * 3)(*[ctypes.addressof(out) + 8 * i for i in range(3)])
        handle = self._handle
        engine = self

        def hook(_uc, _data, read=_reg_read_batch, write=_reg_write_batch):
            read(handle, ids, ptrs, n)
            regs = vals[:]
            try:
                ret = engine.on_syscall(regs)
            except BaseException as exc:  # a kernel bug or an exit: stop and re-raise
                engine.pending_error = exc
                _emu_stop(handle)
                return
            if ret is not None:
                out[0] = ret & 0xFFFFFFFFFFFFFFFF
                out[1] = regs[7] + 2      # past the syscall (arch.SYSCALL_LENGTH; a literal here)
                out[2] = regs[8]
                write(handle, out_ids, out_ptrs, 3)

        self._syscall_cb = _SYSCALL_HOOK(hook)  # keep a reference: C holds the pointer
        hh = ctypes.c_size_t()
        err = _hook_add(self._handle, ctypes.byref(hh), UC_HOOK_INSN, self._syscall_cb,
                        None, 1, 0, x86.UC_X86_INS_SYSCALL)
        if err:
            raise UnicornError(err)

        # Faults are rare events: libunicorn's hooks are fine here. No memory hook that
        # fires stays installed: one over guest memory sends every store to it down
        # the slow path, so the faulting address is found after the fact (see
        # _fault_from_error).
        self.uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        for begin, end in CODE_RANGES:
            self.uc.hook_add(UC_HOOK_MEM_FETCH_UNMAPPED, _not_handled, None, begin, end)

    def _on_bad_memory(self, uc, access, address, size, value, data) -> bool:
        virtual = self._pages.virtual(address)     # Unicorn reports physical addresses
        self.fault = GuestFault("segv", address if virtual is None else virtual,
                                _MEM_ACCESS.get(access, "read"))
        return False

    def _on_interrupt(self, uc, intno, data) -> None:
        pc = self.reg("rip")
        self._fault_pc = pc
        fault = self._silent_fault() if intno in (arch.X86_TRAP_PF, arch.X86_TRAP_DF) else None
        if fault is None:
            kind = {0: "fpe", 1: "trap", 3: "trap", 6: "ill", 16: "fpe",
                    19: "fpe"}.get(intno, "segv")
            fault = GuestFault(kind, pc, intno=intno)
        self.fault = fault
        uc.emu_stop()

    def _access(self, addr: int, pc: int) -> str:
        """What a page-faulting instruction at pc did at addr: "exec" when fetching
        it, "write" when the page is present (it is always readable) or the
        instruction writes memory, else "read"."""
        entry = self._pages.entry(addr)
        if pc <= addr < pc + 16 and (addr == pc or not addr & (PAGE - 1)):
            if not entry & PRESENT or entry & NO_EXECUTE:
                return "exec"
        if entry & PRESENT:
            return "write" if not entry & WRITABLE else "read"
        return "write" if _writes_memory(self.read_code(pc)) else "read"

    def read_code(self, pc: int) -> bytes:
        """Up to 16 bytes of instruction at pc (fewer before an unmapped page)."""
        for size in (16, PAGE - (pc & (PAGE - 1))):
            try:
                return self.read(pc, min(size, 16))
            except MemoryFault:
                continue
        return b""

    # ---- running --------------------------------------------------------------------------

    def run(self, pc: int, budget: int = 0) -> GuestFault | None:
        """Run from pc until stop() or a fault, until the time preempt_in() armed, or
        (budget > 0) for at most budget instructions. Returns the fault, if any;
        `preempted` says the time or the budget ran out.

        An exception raised by the syscall callback is re-raised here.

        Either is how a time slice ends. With `block_stops` (cpu/stops.py) a host
        timer stops the CPU on a block boundary at no cost to guest code. Without
        it, a stop from another thread can land after the instruction at the
        reported rip wrote memory, and resuming there would run it twice, so the
        scheduler asks for a budget instead: Unicorn counts instructions exactly,
        but counting makes guest code several times slower.
        """
        self.fault = None
        self.pending_error = None
        self._fault_pc = None
        self.stop_requested = False
        self.preempted = False
        self._clear_cr2()
        # The raw call (Unicorn.emu_start costs a few us more per run, which every
        # thread switch and signal pays); what it would do around it is done here:
        # an exception a libunicorn hook (the interrupt hook) raised is re-raised
        # after the run.
        uc = self.uc
        uc.hook_exception = None
        err = _emu_start(self._handle, _u64(pc), self._no_end, self._no_end,
                         ctypes.c_size_t(budget))
        if err and self.pending_error is None and self.fault is None:
            self.fault = self._fault_from_error(err)
        if uc.hook_exception is not None and self.pending_error is None:
            self.pending_error = uc.hook_exception
        self._slices.disarm()
        timed_out, self._slices.fired = self._slices.fired, False
        if (budget or timed_out) and self.fault is None and self.pending_error is None \
                and not self.stop_requested and self._fault_pc is None:
            # Stopped by itself (the budget ran out) or by the slice timer, unless a
            # page fault stopped it silently (CR2 set) or it is at a hlt (both
            # decoded below).
            self.preempted = self.uc.reg_read(x86.UC_X86_REG_CR2) == _CR2_UNSET and \
                self.read_code(self.reg("rip"))[:1] != b"\xf4"
        if self._fault_pc is not None:
            # Unicorn moves rip past an exception it reports; the guest's rip is the
            # faulting instruction, as Linux reports it.
            self.uc.reg_write(x86.UC_X86_REG_RIP, self._fault_pc)
        elif self.fault is None and self.pending_error is None and not self.stop_requested \
                and not self.preempted:
            self.fault = self._silent_fault()
        if self.fault is not None:
            self._forget_exception()
        if self.pending_error is not None:
            exc, self.pending_error = self.pending_error, None
            raise exc
        return self.fault

    def _forget_exception(self) -> None:
        """Unicorn never delivers an x86 exception, so QEMU never clears its note of
        the one in flight (old_exception): a guest that goes on after a fault (a
        signal handler) would have its next #PF or #DE taken as a double fault and
        the one after as a triple fault, a silent stop. The CPU state saved when the
        engine was new has no exception in flight; loading it and then the thread's
        registers again forgets the fault (~10 us, on faults only)."""
        ctx = self.contexts.save()
        self.uc.context_restore(self._clean_state)
        self.contexts.restore(ctx)

    # How guest faults reach pyunik. A page fault (#PF) leaves its address in CR2 and
    # rip on the faulting instruction, and the first one reaches _on_interrupt. But
    # Unicorn never delivers x86 exceptions, so the CPU's note of the exception in
    # delivery is never cleared: the next #PF or #GP is taken as a double fault
    # (vector 8) and the one after as a triple fault, which stops the CPU with no
    # report at all. So CR2 is set to a value no fault leaves before the guest runs,
    # a changed CR2 means a page fault however it was reported, and a divide error
    # is recognised by its instruction. (Unicorn's own lookups must not fault for the
    # same reason: see _unicorn.)


    def _silent_fault(self) -> GuestFault | None:
        """Why the CPU stopped by itself with no exception reported (see above), or
        None when nothing says (a hlt: the kernel decides)."""
        pc = self.reg("rip")
        cr2 = self.uc.reg_read(x86.UC_X86_REG_CR2)
        if cr2 != _CR2_UNSET:
            return GuestFault("segv", cr2, self._access(cr2, pc), intno=arch.X86_TRAP_PF)
        if _mnemonic(self.read_code(pc)) in ("div", "idiv"):
            return GuestFault("fpe", pc, intno=arch.X86_TRAP_DE)
        return None

    def _fault_from_error(self, err: int) -> GuestFault:
        """Decode a stop with an error. For a memory fault the instruction did not
        complete, so it is run once more with a memory hook to learn the address."""
        pc = self.reg("rip")
        if err == UC_ERR_INSN_INVALID:
            return GuestFault("ill", pc)
        access = _UC_ERR_ACCESS.get(err, "read")
        if access == "exec":
            return GuestFault("segv", pc, access)
        hook = self.uc.hook_add(UC_HOOK_MEM_INVALID, self._on_bad_memory)
        try:
            self.uc.emu_start(pc, 0, count=1)
        except UnicornError:
            pass
        finally:
            self.uc.hook_del(hook)
            self.uc.reg_write(x86.UC_X86_REG_RIP, pc)
        if self.fault is not None:
            return self.fault
        return GuestFault("segv", pc, access)

    def watch_instructions(self, callback):
        """Call callback(address) before each instruction runs, until
        unwatch_instructions(handle): a debugger's single step, never anything else
        (a per-instruction hook makes guest code many times slower). Translations
        made before it are dropped, so that they call it too."""
        handle = self.uc.hook_add(UC_HOOK_CODE, lambda uc, address, size, data:
                                  callback(address))
        if self.block_stops:      # a stop from the hook must not wait for the block's end
            set_exit_checks(self.uc.handle, True)
        self.uc.ctl_flush_tb()
        return handle

    def unwatch_instructions(self, handle) -> None:
        self.uc.hook_del(handle)
        if self.block_stops:
            set_exit_checks(self.uc.handle, False)
        self.uc.ctl_flush_tb()      # translations with the hook's calls go too

    def stop(self) -> None:
        """End the current run (from a hook, or from another host thread).

        From another thread, a run may be resumed at rip afterwards only with
        `block_stops` (cpu/stops.py); without it the stop can land after the
        instruction at rip wrote memory, and resuming would run it twice."""
        self.stop_requested = True
        _emu_stop(self._handle)

    def _stop_from_timer(self) -> None:
        _emu_stop(self._handle)

    def close(self) -> None:
        """Give the engine's host resources back now (its slice thread, Unicorn's
        translation cache and state) rather than when the garbage collector finds
        its reference cycles; call it when no run is in progress and nothing will
        use the engine again (an address space replaced by execve, a process gone).
        Its guest memory belongs to the AddressSpace (free_all it first)."""
        self._slices.close()
        self.on_syscall = None
        self.uc.close()                                      # uc_close, run once

    # ---- registers ------------------------------------------------------------------------

    def reg(self, name: str) -> int:
        """A 64-bit register (a name of REGS), read with one raw call."""
        if _reg_read(self._handle, REGS[name], self._value_ref):
            raise UnicornError(0)
        return self._value.value

    def set_reg(self, name: str, value: int) -> None:
        self._value.value = value & 0xFFFFFFFFFFFFFFFF
        if _reg_write(self._handle, REGS[name], self._value_ref):
            raise UnicornError(0)

    def save_context(self, ctx: CpuContext | None = None) -> CpuContext:
        """Every register of the running thread (cpu/context.py), into ctx if given."""
        return self.contexts.save(ctx)

    def restore_context(self, ctx: CpuContext) -> None:
        """Load a saved context; the next run(ctx.rip) continues that thread."""
        self.contexts.restore(ctx)

    def registers(self) -> dict[str, int]:
        return {name: self.uc.reg_read(REGS[name]) for name in GPR_ORDER}

    def clear_registers(self) -> None:
        """Every register as a new program gets it from Linux's execve: general
        registers zero, as ELF_PLAT_INIT leaves them (rdx in particular: a nonzero
        rdx is a function the C library registers with atexit), and the FPU in its
        init state (x87 control 0x37f, MXCSR 0x1f80: Unicorn starts with 0 in both,
        which runs long double arithmetic at the wrong precision)."""
        self.restore_context(CpuContext.initial())

    def cpuid(self, leaves) -> dict[int, tuple[int, int, int, int]]:
        """(eax, ebx, ecx, edx) of cpuid for each leaf (subleaf 0) on this CPU model,
        all from one short run at a scratch page below mmap_min_addr."""
        scratch = 0x1000
        out = scratch + 0x800
        code = b""
        for i, leaf in enumerate(leaves):
            code += b"\xb8" + struct.pack("<I", leaf)            # mov eax, leaf
            code += b"\x31\xc9\x0f\xa2"                          # xor ecx, ecx; cpuid
            base = out + 16 * i
            for j, reg in enumerate((b"\x04\x25", b"\x1c\x25", b"\x0c\x25", b"\x14\x25")):
                code += b"\x89" + reg + struct.pack("<I", base + 4 * j)   # mov [abs], reg
        page = ctypes.create_string_buffer(PAGE)
        self.map_host(scratch, PAGE, 7, ctypes.addressof(page))
        try:
            self.write(scratch, code)
            self.uc.emu_start(scratch, scratch + len(code))
            raw = self.read(out, 16 * len(leaves))
        finally:
            self.unmap(scratch, PAGE)
        return {leaf: struct.unpack_from("<4I", raw, 16 * i) for i, leaf in enumerate(leaves)}

    # ---- memory ---------------------------------------------------------------------------

    # Each call below keeps three things in step: Unicorn's (physical) memory map, the
    # page tables, and translated code, which Unicorn keys by physical page and which
    # must not outlive the guest's right to execute a page (so a page that stops being
    # executable, or is unmapped, has its translations dropped first).

    def map_host(self, addr: int, size: int, prot: int, host_ptr: int) -> None:
        """Make host memory at host_ptr visible at guest addr with Linux prot bits
        (0: mapped, but every guest touch faults). Unicorn's region allows every
        access: with paging on, the page tables alone say what the guest may do, so
        changing a page's access never touches, splits or prices Unicorn's regions."""
        phys = self._pages.place(addr, size)
        try:
            self.uc.mem_map_ptr(phys, size, UC_PROT_ALL, host_ptr)
        except UnicornError:
            self._pages.forget(addr, addr + size)
            raise
        self._regions.add(phys, phys + size)
        self._pages.set(addr, addr + size, prot, fresh=True)   # nothing mapped there

    def unmap(self, addr: int, size: int) -> None:
        end = addr + size
        pieces = self._pages.pieces(addr, end)
        with self._unicorn(pieces):
            for a, b, phys in pieces:
                self.uc.mem_unmap(phys, b - a)
                self._regions.remove(phys, phys + (b - a))
        self._pages.clear(addr, end)
        self._pages.forget(addr, end)
        _ctl(self._handle, _CTL_FLUSH_TLB)

    def protect(self, addr: int, size: int, prot: int, was: int | None = None) \
            -> list[int] | None:
        """The guest's access to mapped [addr, addr+size) becomes prot: page-table
        entries only (see map_host); translated code of pages that stop being
        executable is dropped first, and the TLB flushed when access narrows.
        was: the union of the Linux prot bits the pages have now, when the caller
        knows it (mm/regions.py does); with no execute bit in it the page tables
        need not be read first (no code to drop; narrowing follows from the union).
        Where every access is taken away so (was without execute, prot none),
        returns the pages the guest touched since their entries were written fresh
        (`_flush_touched`'s; [] when none had an access); else None."""
        end = addr + size
        if was is not None and not was & 4:
            if prot & 7:
                if was & 2 and not prot & 2:
                    self._flush_touched(addr, end)       # write taken away
                    self._pages.set(addr, end, prot, fresh=True)
                else:
                    self._pages.set(addr, end, prot, fresh=not was & 7)
            elif was & 7:
                return self._flush_touched(addr, end, clear=True)   # every access taken away
            else:
                self._pages.clear(addr, end)
                return []
            return None
        new = paging.leaf_bits(prot)
        old = self._pages.entries(addr, end)
        kinds = {e & _ACCESS_BITS for e in old}     # the pages' accesses, each once
        if (new & NO_EXECUTE or not new) and \
                any(k & PRESENT and not k & NO_EXECUTE for k in kinds):   # executable
            self._drop_code(addr, end, old)
        self._pages.set(addr, end, prot)
        if any(_narrower(e, new) for e in kinds):
            _ctl(self._handle, _CTL_FLUSH_TLB)   # the TLB may hold the old, wider access
        return None

    def _flush_touched(self, addr: int, end: int, clear: bool = False) -> list[int] | None:
        """Take the pages of [addr, end) out of the TLB, before their entries change
        (clear: and make them not present): the few the guest touched since their
        entries were written fresh (page by page: the rest of the TLB stays, and the
        guest need not walk the page tables again for every page it uses), or the
        whole TLB when there are many, or the CPU is unknown (see _cpu_of). Returns
        the pages flushed (paging.py `touched`), or None for the whole TLB."""
        cpu = self._cpu
        pages = self._pages.touched(addr, end, _FLUSH_PAGES_MAX if cpu else -1, clear)
        if pages is None:
            _ctl(self._handle, _CTL_FLUSH_TLB)
            return None
        for page in pages:
            _flush_page(cpu, _u64(page))
        return pages

    @contextlib.contextmanager
    def _unicorn(self, pieces):
        """Around Unicorn calls that may unmap regions (an unmap, or a split by
        protect): Unicorn then drops the region's translated code, looking the
        region's physical start up as a virtual address. A miss there would be a
        page fault inside Unicorn, which stops the CPU when it next runs the guest,
        so for the call each such address maps to itself, executable (the guest is
        not running; its entries come back after)."""
        starts = set()
        for a, b, phys in pieces:
            starts.update(self._regions.overlapping(phys, phys + (b - a)))
        saved = [(p, self._pages.swap(p, p | paging.leaf_bits(7))) for p in sorted(starts)]
        try:
            yield
        finally:
            for p, entry in reversed(saved):
                self._pages.swap(p, entry)
            _ctl(self._handle, _CTL_FLUSH_TLB)

    def _drop_code(self, addr: int, end: int, entries) -> None:
        """Drop translated code of the executable pages of [addr, end) (entries are
        their page-table entries), while the pages are still mapped executable."""
        for i, e in enumerate(entries):
            if e & PRESENT and not e & NO_EXECUTE:
                page = addr + i * PAGE
                _ctl(self._handle, _CTL_REMOVE_CACHE, _u64(page), _u64(page + PAGE))

    def regions(self) -> list[tuple[int, int]]:
        """Unicorn's regions of guest memory as (start, end) in guest addresses, sorted
        (the page tables' own region left out)."""
        out = []
        for begin, end, _ in self.uc.mem_regions():
            start = self._pages.virtual(begin)
            if start is not None:
                out.append((start, start + (end + 1 - begin)))
        return sorted(out)

    def region_count(self) -> int:
        """How many regions of guest memory Unicorn keeps (each map and unmap costs
        more as they grow; mm/regions.py keeps them few)."""
        return len(self.regions())

    def page_access(self, addr: int) -> int:
        """The guest's access to the page at addr as Linux prot bits, from its
        page-table entry (0: not present)."""
        entry = self._pages.entry(addr)
        if not entry & PRESENT:
            return 0
        return 1 | (2 if entry & WRITABLE else 0) | (0 if entry & NO_EXECUTE else 4)

    def read(self, addr: int, size: int) -> bytes:
        if size <= _SMALL:
            buf, at = self._small, self._small_addr
        else:
            buf = ctypes.create_string_buffer(size)
            at = ctypes.addressof(buf)
        for a, b, phys in self._physical(addr, size):
            if _mem_read(self._handle, _u64(phys), ctypes.c_void_p(at + (a - addr)),
                         _u64(b - a)):
                raise MemoryFault(addr)
        return _string_at(at, size)

    def write(self, addr: int, data: bytes) -> None:
        """Write guest memory, whatever its protection (the loader writes code this
        way); translations of executable pages written are dropped (Unicorn's own
        memory write does not)."""
        data = bytes(data)
        for a, b, phys in self._physical(addr, len(data)):
            if _mem_write(self._handle, _u64(phys), data[a - addr:b - addr], _u64(b - a)):
                raise MemoryFault(addr)
        start, end = addr & ~(PAGE - 1), (addr + len(data) + PAGE - 1) & ~(PAGE - 1)
        self._drop_code(start, end, self._pages.entries(start, end))

    def _physical(self, addr: int, size: int) -> list[tuple[int, int, int]]:
        """The pieces of guest [addr, addr+size) in physical memory; MemoryFault if
        any of it is unmapped."""
        pieces = self._pages.pieces(addr, addr + size)
        pos = addr
        for a, b, _ in pieces:
            if a != pos:
                break
            pos = b
        if pos != addr + size or size < 0:
            raise MemoryFault(pos)
        return pieces


_ACCESS_BITS = PRESENT | WRITABLE | NO_EXECUTE   # what a page-table entry allows


def _narrower(old: int, new: int) -> bool:
    """Does page-table entry new allow less than old did?"""
    if not old & PRESENT:
        return False
    if not new & PRESENT:
        return True
    return bool(old & WRITABLE and not new & WRITABLE
                or not old & NO_EXECUTE and new & NO_EXECUTE)


def _disassemble(code: bytes):
    """The first instruction of code, with operand details (capstone, loaded on the
    first fault only), or None."""
    if not code:
        return None
    import capstone
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.detail = True
    for insn in md.disasm(code, 0):
        return insn
    return None


def _mnemonic(code: bytes) -> str:
    insn = _disassemble(code)
    return insn.mnemonic if insn is not None else ""


def _writes_memory(code: bytes) -> bool:
    """Does this instruction store to memory (an operand it writes, or the stack)?"""
    insn = _disassemble(code)
    if insn is None:
        return False
    from capstone import CS_AC_WRITE
    from capstone.x86 import X86_OP_MEM
    if insn.mnemonic.startswith(("push", "call", "enter")):
        return True
    return any(op.type == X86_OP_MEM and op.access & CS_AC_WRITE for op in insn.operands)
