"""Tiny hand-assembled programs (tiny_elf in conftest.py), natively and under pyunik.

For what no program in guest_images/bin does: reading stdin, the exact register
state the `syscall` instruction and execve leave, odd syscall numbers. The machine
code is spelled out byte by byte with the instructions beside it.
"""

from __future__ import annotations

import os
import struct

import pytest

from conftest import TINY_BSS, assert_no_traceback, assert_same


def asm(*parts: str) -> bytes:
    return bytes.fromhex("".join(p.split("#")[0].replace(" ", "") for p in parts))


def imm32(v: int) -> str:
    return struct.pack("<I", v & 0xFFFFFFFF).hex()


EXIT_RDI = ("b8 3c000000", "0f05")                       # mov eax, 60; syscall

# cat: copy fd 0 to fd 1 in 4 KiB reads until EOF; exit 0, or the errno of a failed
# read (exit(-rax)).
CAT = asm(
    "31c0",                          # 0:  xor eax, eax          (read)
    "31ff",                          # 2:  xor edi, edi          (fd 0)
    "be" + imm32(TINY_BSS),          # 4:  mov esi, buf
    "ba 00100000",                   # 9:  mov edx, 4096
    "0f05",                          # 14: syscall
    "4885c0",                        # 16: test rax, rax
    "7e 11",                         # 19: jle done (+17 -> 38)
    "4889c2",                        # 21: mov rdx, rax
    "b8 01000000",                   # 24: mov eax, 1            (write)
    "bf 01000000",                   # 29: mov edi, 1
    "0f05",                          # 34: syscall               (rsi still buf)
    "eb da",                         # 36: jmp 0 (-38)
    "4889c7",                        # 38: done: mov rdi, rax
    "48f7df",                        # 41: neg rdi
    *EXIT_RDI)

# After `syscall`, rcx holds the address of the next instruction and r11 the rflags
# the instruction saw (Intel SDM, SYSCALL; Linux returns with sysret or iret
# restoring both). Exit status: bit 0 rcx wrong, bit 1 r11 wrong.
SYSCALL_CLOBBERS = asm(
    "b8 27000000",                   # mov eax, 39 (getpid)
    "9c", "5b",                      # pushfq; pop rbx          (rflags before)
    "0f05",                          # syscall
    "488d15 f9ffffff",               # lea rdx, [rip-7]          (= after the syscall)
    "31ff",                          # xor edi, edi
    "4839d1", "7403", "83cf01",      # cmp rcx, rdx; je +3; or edi, 1
    "4c39db", "7403", "83cf02",      # cmp rbx, r11; je +3; or edi, 2
    *EXIT_RDI)

# execve leaves every general register but rsp zero on x86-64 (ELF_PLAT_INIT).
# Exit status 1 if any of rax..r15 (but rsp) is nonzero at the entry point.
INITIAL_REGISTERS = asm(
    "4889c7",                        # mov rdi, rax
    "4809df", "4809cf", "4809d7", "4809f7", "4809ef",      # or rdi, rbx/rcx/rdx/rsi/rbp
    "4c09c7", "4c09cf", "4c09d7", "4c09df",                # or rdi, r8/r9/r10/r11
    "4c09e7", "4c09ef", "4c09f7", "4c09ff",                # or rdi, r12/r13/r14/r15
    "4885ff", "400f95c7", "480fb6ff",                      # test; setnz dil; movzx
    *EXIT_RDI)

# Linux takes the syscall number from eax sign-extended (entry_64.S: movslq %eax):
# rax = 0x1_0000_003c is exit(7). Exit status 0 would mean it was not exit.
HIGH_BITS_NUMBER = asm(
    "48b8" + struct.pack("<Q", (1 << 32) | 60).hex(),      # mov rax, 0x10000003c
    "bf 07000000",                                         # mov edi, 7
    "0f05",                                                # syscall
    "31ff", *EXIT_RDI)                                     # exit(0)

# Stack pointer at entry: 16-byte aligned, [rsp] = argc. Exit status argc if
# aligned, 255 if not.
ENTRY_STACK = asm(
    "488b3c24",                      # mov rdi, [rsp]
    "40f6c40f",                      # test spl, 15
    "7405",                          # je +5
    "bf ff000000",                   # mov edi, 255
    *EXIT_RDI)


def both(make_program, run_native, run_pyunik, name, code, args=(), stdin=b"",
         opts=()):
    path = make_program(name, code)
    native = run_native([path] + list(args), stdin=stdin)
    emulated = run_pyunik([path] + list(args), stdin=stdin, extra_opts=opts)
    assert_no_traceback(emulated)
    return native, emulated


def _data(n: int) -> bytes:
    return bytes((i * 7 + (i >> 9)) & 0xFF for i in range(n))


@pytest.mark.parametrize("size", [0, 1, 4096, 300_000], ids=lambda n: "%dB" % n)
def test_stdin_pipe(make_program, run_native, run_pyunik, size):
    native, emulated = both(make_program, run_native, run_pyunik, "cat", CAT,
                            stdin=_data(size))
    assert native.stdout == _data(size) and native.status == 0
    assert_same(native, emulated)


def test_stdin_devnull(make_program, run_native, run_pyunik):
    native, emulated = both(make_program, run_native, run_pyunik, "cat", CAT, stdin=None)
    assert native == emulated


def test_stdin_closed(make_program, run_native, run_pyunik):
    """fd 0 closed when the program starts: read(0) is EBADF (exit 9) in both."""
    path = make_program("cat", CAT)
    close0 = dict(stdin=None, preexec_fn=lambda: os.close(0))
    native = run_native([path], **close0)
    emulated = run_pyunik([path], **close0)
    assert_no_traceback(emulated)
    assert native.status == 9
    assert_same(native, emulated)


def test_stdin_from_file(make_program, run_native, run_pyunik, tmp_path):
    data = _data(100_000)
    src = tmp_path / "input"
    src.write_bytes(data)
    path = make_program("cat", CAT)
    with open(src, "rb") as f:
        native = run_native([path], stdin=f)
    with open(src, "rb") as f:
        emulated = run_pyunik([path], stdin=f)
    assert (native.status, native.stdout) == (0, data)
    assert_same(native, emulated)


def test_syscall_sets_rcx_and_r11(make_program, run_native, run_pyunik):
    native, emulated = both(make_program, run_native, run_pyunik, "clobbers",
                            SYSCALL_CLOBBERS)
    assert native.status == 0
    assert_same(native, emulated)


def test_initial_registers_are_zero(make_program, run_native, run_pyunik):
    native, emulated = both(make_program, run_native, run_pyunik, "regs", INITIAL_REGISTERS)
    assert native.status == 0
    assert_same(native, emulated)


@pytest.mark.parametrize("args", [[], ["a"], ["a", "b", "c"]], ids=len)
def test_entry_stack(make_program, run_native, run_pyunik, args):
    native, emulated = both(make_program, run_native, run_pyunik, "stack", ENTRY_STACK,
                            args=args)
    assert native.status == 1 + len(args)
    assert_same(native, emulated)


def test_syscall_number_uses_low_32_bits(make_program, run_native, run_pyunik):
    native, emulated = both(make_program, run_native, run_pyunik, "highbits",
                            HIGH_BITS_NUMBER, opts=["-q"])
    assert native.status == 7
    assert_same(native, emulated)


def test_missing_syscall_warns_once(make_program, run_pyunik):
    """A syscall the table lists as missing, called three times, and the unknown
    number 1000 called twice: -ENOSYS each time, one warning line for each number;
    none with -q. (Only under pyunik: natively the call would really run.)"""
    from pyunik.kernel.syscalls.table import SyscallTable
    missing = [r for r in SyscallTable().sorted() if r.status == "missing"]
    if not missing:
        pytest.skip("no missing syscall left")
    row = missing[0]
    call = lambda nr: ["b8" + imm32(nr), "0f05"]              # noqa: E731
    code = asm(*call(row.nr), *call(row.nr), *call(1000), *call(1000), *call(row.nr),
               "4889c7", "48f7df", *EXIT_RDI)                 # exit(-rax)
    path = make_program("missing", code)
    loud = run_pyunik([path])
    assert_no_traceback(loud)
    assert loud.status == 38, "the last call returned -ENOSYS"
    assert loud.stderr_lines() == [
        "pyunik: warning: syscall '%s' (%d) not implemented" % (row.name, row.nr),
        "pyunik: warning: unknown syscall 1000"]
    quiet = run_pyunik([path], extra_opts=["-q"])
    assert (quiet.status, quiet.stdout, quiet.stderr) == (38, b"", b"")


def fadvise(fd: int, advice: int, length: int = 0) -> list[str]:
    """fadvise64(fd, 0, length, advice), then exit(-rax) if it failed: the exit status
    is the errno, or falls through on success."""
    return ["b8" + imm32(221), "bf" + imm32(fd), "31f6",              # eax, edi, esi=0
            "48ba" + struct.pack("<q", length).hex(),                 # rdx = length
            "41ba" + imm32(advice), "0f05",                           # r10d = advice
            "4885c0", "740d",                                         # test rax; jz +13
            "4889c7", "48f7df", *EXIT_RDI]                            # exit(-rax)


@pytest.mark.parametrize("fd,advice,length,errno_", [
    (0, 2, 0, 29),          # stdin is a pipe: ESPIPE
    (99, 2, 0, 9),          # EBADF
    (1, 2, 0, 29),          # stdout is a pipe in both runs
    (2, 9, 0, 29),          # stderr too: ESPIPE comes before the advice check
])
def test_fadvise_errors(make_program, run_native, run_pyunik, fd, advice, length, errno_):
    code = asm(*fadvise(fd, advice, length), "31ff", *EXIT_RDI)      # success: exit(0)
    native, emulated = both(make_program, run_native, run_pyunik, "fadvise", code)
    assert native.status == errno_
    assert_same(native, emulated)
