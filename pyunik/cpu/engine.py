"""The CPU: one Unicorn x86-64 engine and the fast path from `syscall` to the kernel.

This is the only module that imports unicorn. The kernel sees an `Engine`: map host
memory at guest addresses, read and write guest memory and registers, run until the
guest stops, and a syscall callback called with the seven syscall registers.

The syscall path is the hot path of the whole emulator, so it avoids the unicorn
binding's per-call wrappers: the hook is a raw ctypes callback registered with
`uc_hook_add`, the seven argument registers arrive with one `uc_reg_read_batch`, and
rax is written with one `uc_reg_write`, each a bare foreign call on prebuilt buffers.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Callable

from unicorn import (UC_ARCH_X86, UC_ERR_FETCH_PROT, UC_ERR_FETCH_UNMAPPED,
                     UC_ERR_INSN_INVALID, UC_ERR_READ_PROT, UC_ERR_READ_UNMAPPED,
                     UC_ERR_WRITE_PROT, UC_ERR_WRITE_UNMAPPED, UC_HOOK_INSN,
                     UC_HOOK_INTR, UC_HOOK_MEM_INVALID, UC_MODE_64, UC_PROT_EXEC,
                     UC_PROT_READ, UC_PROT_WRITE, Uc, UcError)
from unicorn import x86_const as x86
from unicorn.unicorn_py3.unicorn import uclib

# The unicorn library loaded again without argtypes: a call with prebuilt ctypes
# arguments then skips per-argument conversion (about 0.3 us a call).
_raw = ctypes.CDLL(uclib._name)
_reg_read_batch = _raw.uc_reg_read_batch
_reg_write = _raw.uc_reg_write
_reg_write_batch = _raw.uc_reg_write_batch
_emu_stop = _raw.uc_emu_stop
# Memory access with prebuilt ctypes arguments (c_uint64 addresses), no argtypes.
_mem_read = _raw.uc_mem_read
_mem_write = _raw.uc_mem_write
_u64 = ctypes.c_uint64
_string_at = ctypes.string_at
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

PROT_TO_UC = {p: ((UC_PROT_READ if p & 1 else 0) | (UC_PROT_WRITE if p & 2 else 0)
                  | (UC_PROT_EXEC if p & 4 else 0)) for p in range(8)}


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
_MEM_ACCESS = {19: "read", 20: "write", 21: "exec", 22: "read", 23: "write", 24: "exec"}


class Engine:
    """One guest address space with its CPU state.

    `on_syscall(regs)` is called for each `syscall` instruction with
    [rax, rdi, rsi, rdx, r10, r8, r9, rip, rflags]; it returns the value for rax, or
    None to leave the registers as the kernel set them. Returning sets rax, and rcx
    and r11 to the return address and flags, as the `syscall` instruction does. The
    callback may call `stop()`.
    """

    def __init__(self) -> None:
        self.uc = Uc(UC_ARCH_X86, UC_MODE_64)
        self._handle = ctypes.c_void_p(self.uc._uch.value)
        self._small = ctypes.create_string_buffer(_SMALL)   # reused by short reads
        self._small_addr = ctypes.addressof(self._small)
        self.on_syscall: Callable[[list], int | None] | None = None
        self.fault: GuestFault | None = None
        self.pending_error: BaseException | None = None
        self._install_hooks()

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
                out[1] = regs[7] + 2      # unicorn's rip is the syscall itself (0f 05)
                out[2] = regs[8]
                write(handle, out_ids, out_ptrs, 3)

        self._syscall_cb = _SYSCALL_HOOK(hook)  # keep a reference: C holds the pointer
        hh = ctypes.c_size_t()
        err = _hook_add(self._handle, ctypes.byref(hh), UC_HOOK_INSN, self._syscall_cb,
                        None, 1, 0, x86.UC_X86_INS_SYSCALL)
        if err:
            raise UcError(err)

        # Faults are rare events: the binding's hooks are fine here. No memory hook
        # stays installed: with one, Unicorn's generated code runs measurably slower,
        # so the faulting address is found after the fact (see _fault_from_error).
        self.uc.hook_add(UC_HOOK_INTR, self._on_interrupt)

    def _on_bad_memory(self, uc, access, address, size, value, data) -> bool:
        self.fault = GuestFault("segv", address, _MEM_ACCESS.get(access, "read"))
        return False

    def _on_interrupt(self, uc, intno, data) -> None:
        pc = self.reg("rip")
        kind = {0: "fpe", 1: "trap", 3: "trap", 6: "ill", 16: "fpe", 19: "fpe"}.get(intno, "segv")
        self.fault = GuestFault(kind, pc, intno=intno)
        uc.emu_stop()

    # ---- running --------------------------------------------------------------------------

    def run(self, pc: int) -> GuestFault | None:
        """Run from pc until stop() or a fault. Returns the fault, if any.

        An exception raised by the syscall callback is re-raised here.
        """
        self.fault = None
        self.pending_error = None
        try:
            self.uc.emu_start(pc, 0)
        except UcError as e:
            if self.pending_error is None and self.fault is None:
                self.fault = self._fault_from_error(e.errno)
        if self.pending_error is not None:
            exc, self.pending_error = self.pending_error, None
            raise exc
        return self.fault

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
        except UcError:
            pass
        finally:
            self.uc.hook_del(hook)
            self.uc.reg_write(x86.UC_X86_REG_RIP, pc)
        if self.fault is not None:
            return self.fault
        return GuestFault("segv", pc, access)

    def stop(self) -> None:
        _emu_stop(self._handle)

    # ---- registers ------------------------------------------------------------------------

    def reg(self, name: str) -> int:
        return self.uc.reg_read(REGS[name])

    def set_reg(self, name: str, value: int) -> None:
        self.uc.reg_write(REGS[name], value & 0xFFFFFFFFFFFFFFFF)

    def registers(self) -> dict[str, int]:
        return {name: self.uc.reg_read(REGS[name]) for name in GPR_ORDER}

    def clear_registers(self) -> None:
        """Every general register zero, as Linux's ELF_PLAT_INIT leaves them at entry
        (rdx in particular: a nonzero rdx is a function the C library registers with
        atexit)."""
        for name in GPR_ORDER:
            if name != "eflags":
                self.uc.reg_write(REGS[name], 0)
        self.uc.reg_write(REGS["eflags"], 0x202)

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
        self.uc.mem_map(scratch, 0x1000)
        try:
            self.uc.mem_write(scratch, code)
            self.uc.emu_start(scratch, scratch + len(code))
            raw = bytes(self.uc.mem_read(out, 16 * len(leaves)))
        finally:
            self.uc.mem_unmap(scratch, 0x1000)
        return {leaf: struct.unpack_from("<4I", raw, 16 * i) for i, leaf in enumerate(leaves)}

    # ---- memory ---------------------------------------------------------------------------

    def map_host(self, addr: int, size: int, prot: int, host_ptr: int) -> None:
        """Make host memory at host_ptr visible at guest addr with Linux prot bits."""
        self.uc.mem_map_ptr(addr, size, PROT_TO_UC[prot & 7], host_ptr)

    def unmap(self, addr: int, size: int) -> None:
        self.uc.mem_unmap(addr, size)

    def protect(self, addr: int, size: int, prot: int) -> None:
        self.uc.mem_protect(addr, size, PROT_TO_UC[prot & 7])

    def read(self, addr: int, size: int) -> bytes:
        if size <= _SMALL:
            if _mem_read(self._handle, _u64(addr), self._small, _u64(size)):
                raise MemoryFault(addr)
            return _string_at(self._small_addr, size)
        buf = ctypes.create_string_buffer(size)
        if _mem_read(self._handle, _u64(addr), buf, _u64(size)):
            raise MemoryFault(addr)
        return buf.raw

    def write(self, addr: int, data: bytes) -> None:
        if _mem_write(self._handle, _u64(addr), bytes(data), _u64(len(data))):
            raise MemoryFault(addr)
