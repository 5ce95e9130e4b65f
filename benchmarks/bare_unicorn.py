"""Run a static x86-64 Linux ELF on bare Unicorn with the least kernel that lets it finish.

This is the baseline for the compute-loop row of `benchmarks/run.py`: the same Unicorn
CPU that pyunik drives, with nothing of pyunik around it. The program's PT_LOAD
segments are mapped with their page protections, an 8 MiB stack gets argc, argv, an
empty environment and a short auxv, and one `syscall` hook (through the ordinary
unicorn binding) answers the handful of calls a static musl program makes on its way
to printing one line:

    write, writev     copied to the host fd (1 or 2), return the byte count
    arch_prctl        ARCH_SET_FS sets fs_base
    set_tid_address   returns 1000
    ioctl             returns 0
    exit, exit_group  stop the CPU with the status
    anything else     -ENOSYS

    python benchmarks/bare_unicorn.py guest_images/bin/loop-musl 1000000

Only for benchmarking: no signals, no memory management, no files.
"""

from __future__ import annotations

import io
import os
import struct
import sys

from elftools.elf.elffile import ELFFile
from unicorn import (UC_ARCH_X86, UC_HOOK_INSN, UC_MODE_64, UC_PROT_EXEC, UC_PROT_READ,
                     UC_PROT_WRITE, Uc)
from unicorn import x86_const as x86

PAGE = 0x1000
PIE_BASE = 0x555555554000
STACK_TOP = 0x7FFFFFFFF000
STACK_SIZE = 8 << 20
ENOSYS = 38

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_RANDOM = 0, 3, 4, 5, 6, 9, 25


def _page_down(x: int) -> int:
    return x & ~(PAGE - 1)


def _page_up(x: int) -> int:
    return (x + PAGE - 1) & ~(PAGE - 1)


def _uc_prot(flags: int) -> int:
    return ((UC_PROT_READ if flags & 4 else 0) | (UC_PROT_WRITE if flags & 2 else 0)
            | (UC_PROT_EXEC if flags & 1 else 0))


class BareRunner:
    def __init__(self, path: str, argv: list[str]):
        with open(path, "rb") as f:
            data = f.read()
        elf = ELFFile(io.BytesIO(data))
        self.uc = uc = Uc(UC_ARCH_X86, UC_MODE_64)
        base = PIE_BASE if elf["e_type"] == "ET_DYN" else 0
        loads = [s.header for s in elf.iter_segments() if s.header.p_type == "PT_LOAD"]

        # Page protections: the union over the segments touching each page.
        prot: dict[int, int] = {}
        for s in loads:
            for page in range(_page_down(base + s.p_vaddr),
                              _page_up(base + s.p_vaddr + s.p_memsz), PAGE):
                prot[page] = prot.get(page, 0) | _uc_prot(s.p_flags)
        runs: list[list[int]] = []
        for page in sorted(prot):
            if runs and runs[-1][1] == page and runs[-1][2] == prot[page]:
                runs[-1][1] += PAGE
            else:
                runs.append([page, page + PAGE, prot[page]])
        for start, end, p in runs:
            uc.mem_map(start, end - start, p)
        for s in loads:
            if s.p_filesz:
                uc.mem_write(base + s.p_vaddr, data[s.p_offset:s.p_offset + s.p_filesz])

        phdr = 0
        for s in loads:
            if s.p_offset <= elf["e_phoff"] < s.p_offset + s.p_filesz:
                phdr = base + s.p_vaddr + (elf["e_phoff"] - s.p_offset)
        self.entry = base + elf["e_entry"]
        self.sp = self._build_stack(argv, [(AT_PHDR, phdr), (AT_PHENT, 56),
                                           (AT_PHNUM, elf["e_phnum"]), (AT_PAGESZ, PAGE),
                                           (AT_ENTRY, self.entry)])
        self.status = None
        uc.hook_add(UC_HOOK_INSN, self._syscall, None, 1, 0, x86.UC_X86_INS_SYSCALL)

    def _build_stack(self, argv: list[str], aux: list[tuple[int, int]]) -> int:
        uc = self.uc
        uc.mem_map(STACK_TOP - STACK_SIZE, STACK_SIZE, UC_PROT_READ | UC_PROT_WRITE)
        strings = b"".join(a.encode() + b"\0" for a in argv)
        p = STACK_TOP - 16 - len(strings)
        uc.mem_write(p, strings)
        ptrs, pos = [], p
        for a in argv:
            ptrs.append(pos)
            pos += len(a.encode()) + 1
        random_addr = (p & ~15) - 16
        uc.mem_write(random_addr, bytes(range(16)))
        aux = aux + [(AT_RANDOM, random_addr), (AT_NULL, 0)]
        table = [len(argv)] + ptrs + [0] + [0]          # argc, argv, NULL, empty envp NULL
        for k, v in aux:
            table += [k, v]
        sp = (random_addr - 8 * len(table)) & ~15
        uc.mem_write(sp, struct.pack("<%dQ" % len(table), *table))
        return sp

    def _syscall(self, uc, _data) -> None:
        nr = uc.reg_read(x86.UC_X86_REG_RAX)
        a0 = uc.reg_read(x86.UC_X86_REG_RDI)
        a1 = uc.reg_read(x86.UC_X86_REG_RSI)
        a2 = uc.reg_read(x86.UC_X86_REG_RDX)
        ret = -ENOSYS
        if nr == 1:                                   # write
            ret = self._out(a0, bytes(uc.mem_read(a1, a2)))
        elif nr == 20:                                # writev
            iov = bytes(uc.mem_read(a1, 16 * a2)) if a2 else b""
            chunks = []
            for i in range(a2):
                b, n = struct.unpack_from("<QQ", iov, 16 * i)
                chunks.append(bytes(uc.mem_read(b, n)) if n else b"")
            ret = self._out(a0, b"".join(chunks))
        elif nr == 158:                               # arch_prctl
            if a0 == 0x1002:                          # ARCH_SET_FS
                uc.reg_write(x86.UC_X86_REG_FS_BASE, a1)
                ret = 0
        elif nr == 218:                               # set_tid_address
            ret = 1000
        elif nr == 16:                                # ioctl
            ret = 0
        elif nr in (60, 231):                         # exit, exit_group
            self.status = a0 & 0xFF
            uc.emu_stop()
            return
        uc.reg_write(x86.UC_X86_REG_RAX, ret & 0xFFFFFFFFFFFFFFFF)

    @staticmethod
    def _out(fd: int, data: bytes) -> int:
        if fd not in (1, 2):
            return -9                                 # EBADF
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        return len(data)

    def run(self) -> int:
        self.uc.reg_write(x86.UC_X86_REG_RSP, self.sp)
        self.uc.emu_start(self.entry, 0)
        if self.status is None:
            raise RuntimeError("guest stopped without exiting at rip=%#x"
                               % self.uc.reg_read(x86.UC_X86_REG_RIP))
        return self.status


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: bare_unicorn.py PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    return BareRunner(argv[0], argv).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
