"""Faults into signals (pyunik/kernel/faults.py): guest instructions fault on an
engine under an AddressSpace, and the decoded (signo, si_code, si_addr, trapno,
err, rip) is what Linux gives; guest_images/src/sigframe.c shows the same natively
(int3: SI_KERNEL, si_addr 0, rip after it; div and ud2: the instruction's address;
a store to an unmapped page: SEGV_MAPERR, err 6; to a read-only touched page:
SEGV_ACCERR, err 7; past a file's end: SIGBUS BUS_ADRERR)."""

from __future__ import annotations

import pytest

from pyunik.abi import linux as L
from pyunik.cpu.context import CpuContext
from pyunik.cpu.engine import Engine, GuestFault
from pyunik.kernel.faults import fault_signal
from pyunik.mm.address_space import AddressSpace

CODE, DATA, RO, NONE, FILE = 0x400000, 0x7F0000000000, 0x7F0000010000, 0x7F0000020000, \
    0x7F0000030000
ANON = L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_FIXED
PC = 0x401000


class SizedFile:
    """Stands in for an inode: faults read only its size."""
    size = 100


@pytest.fixture
def mm():
    space = AddressSpace(Engine(), 1 << 30)
    space.mmap(CODE, 0x2000, 7, ANON)
    space.mmap(DATA, 0x1000, L.PROT_READ | L.PROT_WRITE, ANON)
    space.mmap(RO, 0x1000, L.PROT_READ, ANON)
    space.mmap(NONE, 0x1000, L.PROT_NONE, ANON)
    space.mmap(FILE, 0x2000, L.PROT_READ | L.PROT_WRITE, ANON)
    space.name_file_mapping(FILE, 0x2000, SizedFile(), 0, "/data")
    return space


def decoded(fs):
    return (fs.signo, fs.code, fs.addr, fs.trapno, fs.error_code, fs.rip)


@pytest.mark.parametrize("addr,access,expect", [
    (DATA + 0x2000, "write", (L.SIGSEGV, L.SEGV_MAPERR, 6)),      # nothing mapped
    (8, "read", (L.SIGSEGV, L.SEGV_MAPERR, 4)),                  # page 0
    (RO + 16, "write", (L.SIGSEGV, L.SEGV_ACCERR, 7)),           # read-only
    (NONE + 4, "read", (L.SIGSEGV, L.SEGV_ACCERR, 4)),           # PROT_NONE: not present
    (DATA, "exec", (L.SIGSEGV, L.SEGV_ACCERR, 0x15)),            # no PROT_EXEC
    (L.TASK_SIZE + 0x1000, "read", (L.SIGSEGV, L.SEGV_MAPERR, 5)),   # a kernel address
    (FILE + 0x1000 + 40, "write", (L.SIGBUS, L.BUS_ADRERR, 6)),  # past the file's last page
])
def test_memory_faults(mm, addr, access, expect):
    fs = fault_signal(GuestFault("segv", addr, access, L.X86_TRAP_PF), mm, PC)
    signo, code, err = expect
    assert decoded(fs) == (signo, code, addr, L.X86_TRAP_PF, err, PC)
    assert fs.cr2 == addr
    assert L.SIGINFO_SIGFAULT.unpack(fs.siginfo()) == (signo, 0, code, addr)


def test_allowed_access_is_no_signal(mm):
    """Inside the file's last page (past its size, before the page end) and plain
    mapped memory: Linux would not fault, so there is no signal to send."""
    assert fault_signal(GuestFault("segv", FILE + 200, "write", 14), mm, PC) is None
    assert fault_signal(GuestFault("segv", DATA, "read", -1), mm, PC) is None


def test_access_check_comes_before_the_file_end(mm):
    mm.mprotect(FILE, 0x2000, L.PROT_READ)
    fs = fault_signal(GuestFault("segv", FILE + 0x1000, "write", 14), mm, PC)
    assert (fs.signo, fs.code) == (L.SIGSEGV, L.SEGV_ACCERR)


# Each: code bytes, then what the signal must be; "at" is the faulting instruction's
# offset in the code, "after" the next instruction's.
CASES = {
    # xor ecx, ecx; xor edx, edx; mov eax, 1; div ecx
    "div": ("31c931d2b801000000f7f1f4", (L.SIGFPE, L.FPE_INTDIV, "at", 0, 0, "at"), 9),
    # mov eax, 0x55; ud2
    "ud2": ("b8550000000f0bf4", (L.SIGILL, L.ILL_ILLOPN, "at", 6, 0, "at"), 5),
    # nop; int3
    "int3": ("90cc90f4", (L.SIGTRAP, L.SI_KERNEL, 0, 3, 0, "after"), 1),
    # nop; int $3
    "int $3": ("90cd0390f4", (L.SIGTRAP, L.SI_KERNEL, 0, 3, 0, "after"), 1),
    # int $0x10: no user gate, a #GP naming the vector
    "int $0x10": ("cd10f4", (L.SIGSEGV, L.SI_KERNEL, 0, 13, 0x82, "at"), 0),
    # int $0x80: the 32-bit entry, not emulated: as a kernel without it
    "int $0x80": ("cd80f4", (L.SIGSEGV, L.SI_KERNEL, 0, 13, 0x402, "at"), 0),
    # mov rax, 1 << 63; mov rax, [rax]: a non-canonical address is a #GP
    "non-canonical": ("48b80000000000000080488b00f4", (L.SIGSEGV, L.SI_KERNEL, 0, 13, 0, "at"),
                      10),
    # mov rdi, RO; mov byte [rdi], 1
    "store": ("48bf%sc60701f4" % (RO + 8).to_bytes(8, "little").hex(),
              (L.SIGSEGV, L.SEGV_ACCERR, RO + 8, 14, 7, "at"), 10),
}


@pytest.mark.parametrize("name", list(CASES))
def test_engine_faults_become_linux_signals(mm, name):
    code, (signo, code_, addr, trapno, err, rip), at = CASES[name]
    raw = bytes.fromhex(code)
    mm.engine.write(CODE, raw)
    mm.engine.set_reg("rsp", DATA + 0x800)
    fault = mm.engine.run(CODE)
    assert fault is not None
    fs = fault_signal(fault, mm, mm.engine.reg("rip"))
    length = {"div": 2, "ud2": 2, "int3": 1, "int $3": 2}.get(name, 0)
    where = {"at": CODE + at, "after": CODE + at + length}
    expect = (signo, code_, where.get(addr, addr), trapno, err, where[rip])
    assert decoded(fs) == expect
    if code_ == L.SI_KERNEL:
        assert L.SIGINFO_KILL.unpack(fs.siginfo()) == (signo, 0, L.SI_KERNEL, 0, 0)


@pytest.mark.parametrize("vector,status,control,expect", [
    (L.X86_TRAP_MF, 0x0004, 0x037B, L.FPE_FLTDIV),     # ZE unmasked and raised
    (L.X86_TRAP_MF, 0x0005, 0x037A, L.FPE_FLTINV),     # IE first
    (L.X86_TRAP_MF, 0x0004, 0x037F, None),             # masked: nothing to report
    (L.X86_TRAP_XF, 0x1F80 & ~0x0200 | 0x0004, 0, L.FPE_FLTDIV),   # MXCSR ZM clear, ZE set
    (L.X86_TRAP_XF, 0x1F80 | 0x0020, 0, None),
])
def test_float_exceptions(mm, vector, status, control, expect):
    ctx = CpuContext.initial()
    if vector == L.X86_TRAP_MF:
        ctx.update({"fsw": status, "fcw": control})
    else:
        ctx["mxcsr"] = status
    mm.engine.write(CODE, bytes.fromhex("9090d8f1"))      # no int $n before the fault
    fs = fault_signal(GuestFault("fpe", CODE + 2, intno=vector), mm, CODE + 2, ctx)
    if expect is None:
        assert fs is None
    else:
        assert decoded(fs) == (L.SIGFPE, expect, CODE + 2, vector, 0, CODE + 2)
