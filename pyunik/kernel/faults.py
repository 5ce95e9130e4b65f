"""Faults become signals: what Linux sends a thread whose instruction faulted.

Layer: kernel. Reads cpu/engine's GuestFault (kind, address, access, vector), the
faulting thread's AddressSpace (its VMAs decide SEGV_MAPERR against SEGV_ACCERR and
a file's end decides SIGBUS) and, for x87/SSE exceptions, its CpuContext; the facts
come from abi/siginfo.py and abi/x86.py. It decides what Linux's trap handlers
would (arch/x86/kernel/traps.c, arch/x86/mm/fault.c), as checked by
guest_images/src/sigframe.c natively:

    fault                       signal   si_code       si_addr          rip in frame
    load/store/fetch, nothing   SIGSEGV  SEGV_MAPERR   the address      the instruction
      mapped (or a kernel address)
    ... mapped, not allowed     SIGSEGV  SEGV_ACCERR   the address      the instruction
    ... a file page past EOF    SIGBUS   BUS_ADRERR    the address      the instruction
    divide error (div, idiv)    SIGFPE   FPE_INTDIV    the instruction  the instruction
    ud2, an invalid opcode      SIGILL   ILL_ILLOPN    the instruction  the instruction
    int3 (and int $3)           SIGTRAP  SI_KERNEL     0                after it
    int $n (no user gate), a    SIGSEGV  SI_KERNEL     0                the instruction
      #GP (non-canonical address)
    x87 / SIMD exception        SIGFPE   FPE_FLT*      the instruction  the instruction

Stack growth (a touch just below a grows-down VMA) is the caller's to try first:
Linux grows the stack there and sends nothing. Called by kernel/delivery.py when the
run loop meets a fault.
"""

from __future__ import annotations


from ..abi import linux as L
from ..abi import x86 as arch
from ..errors import KernelError
from ..mm.address_space import page_up


class FaultSignal:
    """The signal a fault raises, with what the signal frame reports about it. (A
    plain class: a dataclass compiles its methods at import, paid by every run.)"""

    __slots__ = ("signo", "code", "addr", "trapno", "error_code", "cr2", "rip")

    def __init__(self, signo: int, code: int, addr: int, trapno: int, error_code: int,
                 cr2: int | None, rip: int):
        self.signo = signo
        self.code = code                # si_code
        self.addr = addr                # si_addr (0 for SI_KERNEL)
        self.trapno = trapno            # sigcontext.trapno: the x86 exception vector
        self.error_code = error_code    # sigcontext.err
        self.cr2 = cr2                  # sigcontext.cr2 for a page fault; None leaves the thread's
        self.rip = rip                  # where the interrupted context is (its frame's rip)

    def __repr__(self) -> str:
        return "FaultSignal(signo=%d, code=%d, addr=%#x, trapno=%d, error_code=%d, " \
               "cr2=%r, rip=%#x)" % (self.signo, self.code, self.addr, self.trapno,
                                     self.error_code, self.cr2, self.rip)

    def siginfo(self) -> bytes:
        """The 128-byte siginfo_t: a fault's (si_addr), or force_sig's for SI_KERNEL
        (si_pid = si_uid = 0)."""
        if self.code == L.SI_KERNEL:
            return L.SIGINFO_KILL.pack(self.signo, 0, self.code, 0, 0)
        return L.SIGINFO_SIGFAULT.pack(self.signo, 0, self.code, self.addr)


def fault_signal(fault, mm, pc: int, ctx=None) -> FaultSignal | None:
    """The signal for a GuestFault of a thread whose engine stopped at pc (the
    engine's rip after the fault), or None where Linux sends nothing (an x87/SIMD
    exception no unmasked flag explains; a memory access its VMA allows, which only
    a missing page in the engine can cause). ctx: the thread's CpuContext, read
    for x87/SIMD exceptions only."""
    vector = fault.intno
    if fault.kind in ("segv", "bus") and vector in (-1, arch.X86_TRAP_PF) and fault.access:
        return _page_fault(mm, fault.address, fault.access, pc)
    if vector >= 0:
        soft = _software_interrupt(mm, fault.address, vector)
        if soft is not None:
            return soft
    if fault.kind == "ill" or vector == arch.X86_TRAP_UD:
        return FaultSignal(L.SIGILL, L.ILL_ILLOPN, fault.address, arch.X86_TRAP_UD, 0, None,
                           fault.address)
    if vector == arch.X86_TRAP_DE or fault.kind == "fpe" and vector < 0:
        return FaultSignal(L.SIGFPE, L.FPE_INTDIV, fault.address, arch.X86_TRAP_DE, 0, None,
                           fault.address)
    if vector in (arch.X86_TRAP_MF, arch.X86_TRAP_XF):
        code = _float_code(vector, ctx)
        if not code:
            return None
        return FaultSignal(L.SIGFPE, code, fault.address, vector, 0, None, fault.address)
    if vector == arch.X86_TRAP_DB:
        return FaultSignal(L.SIGTRAP, L.TRAP_TRACE, fault.address, vector, 0, None,
                           fault.address)
    if vector == arch.X86_TRAP_AC:
        return FaultSignal(L.SIGBUS, L.BUS_ADRALN, 0, vector, 0, None, fault.address)
    if vector in (arch.X86_TRAP_NP, arch.X86_TRAP_SS):
        return FaultSignal(L.SIGBUS, L.SI_KERNEL, 0, vector, 0, None, fault.address)
    # #GP (a non-canonical address, a privileged instruction) and the rest
    return FaultSignal(L.SIGSEGV, L.SI_KERNEL, 0, arch.X86_TRAP_GP if vector < 0 else vector,
                       0, None, fault.address)


def _page_fault(mm, addr: int, access: str, pc: int) -> FaultSignal | None:
    """do_user_addr_fault: no VMA (or a kernel address) is SEGV_MAPERR, an access
    the VMA does not allow SEGV_ACCERR (checked before the page is looked at), a
    file page past the file's end SIGBUS. The error code says present only for a
    protection fault on an accessible page: pyunik maps every accessible page
    eagerly, which a native program sees too once it has touched the page."""
    err = (arch.X86_PF_USER | (arch.X86_PF_WRITE if access == "write" else 0)
           | (arch.X86_PF_INSTR if access == "exec" else 0))
    if addr >= L.TASK_SIZE:
        return FaultSignal(L.SIGSEGV, L.SEGV_MAPERR, addr, arch.X86_TRAP_PF,
                           err | arch.X86_PF_PROT, addr, pc)
    v = mm.find(addr)
    if v is None:
        return FaultSignal(L.SIGSEGV, L.SEGV_MAPERR, addr, arch.X86_TRAP_PF, err, addr, pc)
    allowed = {"read": v.prot & 7, "write": v.prot & L.PROT_WRITE,
               "exec": v.prot & L.PROT_EXEC}[access]
    if not allowed:
        present = arch.X86_PF_PROT if v.prot & 7 else 0    # PROT_NONE pages are not present
        return FaultSignal(L.SIGSEGV, L.SEGV_ACCERR, addr, arch.X86_TRAP_PF, err | present,
                           addr, pc)
    if v.file is not None and v.offset + (addr - v.start) >= page_up(v.file.size):
        return FaultSignal(L.SIGBUS, L.BUS_ADRERR, addr, arch.X86_TRAP_PF, err, addr, pc)
    return None


def _software_interrupt(mm, after: int, vector: int) -> FaultSignal | None:
    """An int3, int1 or int $n instruction ending at after (Unicorn reports those
    with rip past them), or None for a hardware exception. int3 and int $3 trap
    through a user gate (rip stays after them); int $4 too; int $0x80 is the
    32-bit system call entry, which pyunik does not emulate, so it faults as on a
    kernel without IA32 emulation; any other int $n hits a kernel-only gate: #GP
    with error code n*8+2 and rip on the instruction."""
    try:
        before = mm.read(after - 2, 2) if after >= 2 else b""
    except KernelError:
        try:
            before = b"\0" + mm.read(after - 1, 1)
        except KernelError:
            return None
    if len(before) != 2:
        return None
    int_n = bytes((arch.X86_OPCODE_INT_N, vector))
    if vector == arch.X86_TRAP_BP and (before[1] == arch.X86_OPCODE_INT3 or before == int_n):
        return FaultSignal(L.SIGTRAP, L.SI_KERNEL, 0, vector, 0, None, after)
    if vector == arch.X86_TRAP_DB and before[1] == arch.X86_OPCODE_INT1:
        return FaultSignal(L.SIGTRAP, L.TRAP_BRKPT, after, vector, 0, None, after)
    if before != int_n:
        return None
    if vector == arch.X86_TRAP_OF:
        return FaultSignal(L.SIGSEGV, L.SI_KERNEL, 0, vector, 0, None, after)
    return FaultSignal(L.SIGSEGV, L.SI_KERNEL, 0, arch.X86_TRAP_GP, vector * 8 + 2, None,
                       after - 2)


def _float_code(vector: int, ctx) -> int:
    """fpu__exception_code: the first unmasked exception flag set, in Linux's order
    (invalid, divide by zero, overflow, underflow or denormal, inexact); 0 when none
    explains it. FPE_FLTUNK without the thread's context."""
    if ctx is None:
        return L.FPE_FLTUNK
    if vector == arch.X86_TRAP_MF:
        err = ctx["fsw"] & ~ctx["fcw"]
    else:
        mxcsr = ctx["mxcsr"]
        err = ~(mxcsr >> 7) & mxcsr
    for bits, code in ((0x001, L.FPE_FLTINV), (0x004, L.FPE_FLTDIV), (0x008, L.FPE_FLTOVF),
                       (0x012, L.FPE_FLTUND), (0x020, L.FPE_FLTRES)):
        if err & bits:
            return code
    return 0
