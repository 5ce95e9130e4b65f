"""Crash reports: what a student needs to see when the guest dies of a fault.

The signal, the faulting address and access, the registers, the code around rip
disassembled with capstone (the faulting instruction marked), the memory map in
/proc/self/maps form, and a frame-pointer backtrace.

Layer: trace. Calls: mm/maps.py, mm/address_space.py and capstone; the kernel
calls it when a fault kills the guest.
"""

from __future__ import annotations

from ..abi import linux as L
from ..errors import KernelError
from ..mm.address_space import prot_string
from ..mm.maps import maps_lines

_KIND_TEXT = {"segv": "segmentation fault", "bus": "bus error", "ill": "illegal instruction",
              "trap": "trace/breakpoint trap", "fpe": "arithmetic exception"}


def _disassemble(mm, rip: int, before: int = 5, after: int = 4) -> list[str]:
    import capstone   # only a crash pays for loading capstone
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    lines: list[str] = []
    # Find a start up to 48 bytes back whose decoding lands exactly on rip.
    prefix: list = []
    for back in range(48, 0, -1):
        try:
            code = mm.read(rip - back, back)
        except KernelError:
            continue
        insns = list(md.disasm(code, rip - back))
        if insns and insns[-1].address + insns[-1].size == rip and \
                sum(i.size for i in insns) == back:
            prefix = insns[-before:]
            break
    try:
        code = b""
        for size in (64, 16, 1):
            try:
                code = mm.read(rip, size)
                break
            except KernelError:
                continue
    except KernelError:
        code = b""
    following = list(md.disasm(code, rip))[:after + 1]
    for insn in prefix + following:
        mark = "=>" if insn.address == rip else "  "
        lines.append("%s %#x: %-24s %s %s" % (mark, insn.address, insn.bytes.hex(),
                                              insn.mnemonic, insn.op_str))
    if not following:
        lines.append("=> %#x: <not readable>" % rip)
    return lines


def _backtrace(mm, rip: int, rbp: int, limit: int = 32) -> list[int]:
    frames = [rip]
    seen = set()
    while rbp and rbp not in seen and len(frames) < limit:
        seen.add(rbp)
        try:
            next_rbp = mm.read_u64(rbp)
            ret = mm.read_u64(rbp + 8)
        except KernelError:
            break
        if ret == 0:
            break
        frames.append(ret)
        if next_rbp <= rbp:
            break
        rbp = next_rbp
    return frames


def report(t, fault, sig: int, out) -> None:
    engine = t.process.engine
    mm = t.mm
    regs = engine.registers()
    rip = regs["rip"]
    w = out.write
    w("pyunik: guest %s (pid %d) killed by %s: %s\n"
      % (t.process.exe, t.process.pid, L.signal_name(sig), _KIND_TEXT.get(fault.kind, "")))
    if fault.kind in ("segv", "bus") and fault.access:
        v = mm.find(fault.address)
        why = "unmapped address" if v is None else "no %s permission (%s)" % (
            fault.access, prot_string(v.prot, v.flags))
        w("  %s access at %#x: %s\n" % (fault.access, fault.address, why))
    w("  at rip %#x\n\nregisters:\n" % rip)
    names = list(regs)
    for i in range(0, len(names), 4):
        w("  " + "  ".join("%-7s %#018x" % (n, regs[n]) for n in names[i:i + 4]) + "\n")
    w("\ncode:\n")
    for line in _disassemble(mm, rip):
        w("  " + line + "\n")
    w("\nbacktrace (frame pointers):\n")
    for i, pc in enumerate(_backtrace(mm, rip, regs["rbp"])):
        v = mm.find(pc)
        where = " in %s" % v.name if v is not None and v.name else ""
        w("  #%-2d %#x%s\n" % (i, pc, where))
    w("\nmemory map:\n")
    for line in maps_lines(mm):
        w("  " + line + "\n")
    out.flush()
