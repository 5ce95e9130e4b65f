"""The guest memory limit (-m / memory=): a greedy guest gets ENOMEM, never the host
OOM killer, and pyunik never prints a traceback over it."""

from __future__ import annotations

import os
import re
import struct

import pytest

from conftest import assert_no_traceback, assert_same, assert_same_except
from test_guests import KNOWN_DIFFERENCES
from conftest import TINY_BSS
from test_raw_programs import asm

MEMTEST = "guest_images/bin/memtest-musl"


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_memtest_with_64M(run_native, run_pyunik, libc):
    """64 MiB is plenty for memtest: the output is Linux's, known lines aside."""
    argv = ["guest_images/bin/memtest-" + libc]
    native = run_native(argv)
    emulated = run_pyunik(argv, extra_opts=["-m", "64M"])
    assert_no_traceback(emulated)
    assert_same_except(native, emulated, KNOWN_DIFFERENCES["memtest"])


def test_tight_limit_stays_sane(run_pyunik):
    """9 MiB: the program and its 8 MiB stack fit, not much else. Whatever memtest
    manages, it runs to its own end: no traceback, no pyunik message, the guest's own
    exit status (0, or 1 when a malloc failed)."""
    out = run_pyunik([MEMTEST], extra_opts=["-m", "9M"])
    assert_no_traceback(out)
    assert out.stderr == b""
    assert out.status in (0, 1)
    assert out.stdout.startswith(b"anon mmap: zero-filled=1 rw=ok munmap=0\n"), out.stdout


def _mmap(size: int) -> list[str]:
    return ["b8 09000000", "31ff", "be" + struct.pack("<I", size).hex(),  # mmap(NULL, size,
            "ba 03000000", "41ba 22000000",            # PROT_READ|PROT_WRITE, PRIVATE|ANON,
            "49c7c0 ffffffff", "4531c9", "0f05"]       # -1, 0)


# mmap 16 MiB, then 1 MiB. Exit status: bit 0 if the first did not fail with
# ENOMEM, bit 1 if the second failed.
GREEDY = asm(*_mmap(16 << 20), "4889c3",              # mov rbx, rax
             *_mmap(1 << 20), "4989c4",               # mov r12, rax
             "31ff",                                  # xor edi, edi
             "4883fbf4", "7403", "83cf01",            # cmp rbx, -ENOMEM; je +3; or edi, 1
             "4d85e4", "7903", "83cf02",              # test r12, r12; jns +3; or edi, 2
             "b83c000000", "0f05")                    # exit(edi)


def test_limit_gives_enomem_to_the_guest(make_program, run_native, run_pyunik):
    """Beyond -m, mmap fails with ENOMEM and the guest goes on; below it, it works."""
    path = make_program("greedy", GREEDY)
    assert run_native([path]).status == 1            # Linux: both mappings succeed
    default = run_pyunik([path])
    assert_no_traceback(default)
    assert default.status == 1
    limited = run_pyunik([path], extra_opts=["-m", "12M"])
    assert_no_traceback(limited)
    assert (limited.status, limited.stdout, limited.stderr) == (0, b"", b"")


@pytest.mark.parametrize("size,ok", [("2G", True), ("512M", True), ("64k", False),
                                     ("4096", False)])
def test_memory_sizes_via_api(size, ok):
    import pyunik
    from conftest import BIN
    if ok:
        r = pyunik.run([str(BIN / "hello-musl")], env={}, memory=size, capture_output=True)
        assert (r.status, r.stdout) == (0, b"Hello from pyunik guest!\n")
    else:
        with pytest.raises(pyunik.ProgramError) as e:
            pyunik.run([str(BIN / "hello-musl")], env={}, memory=size, capture_output=True)
        assert e.value.exit_status == 126


@pytest.mark.parametrize("text,value", [("2G", 2 << 30), ("512M", 512 << 20), ("64k", 64 << 10),
                                        ("64K", 64 << 10), ("4096", 4096), ("1T", 1 << 40),
                                        ("1.5G", 3 << 29), ("2GB", 2 << 30)])
def test_parse_size(text, value):
    from pyunik.api import parse_size
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "bogus", "0", "-1M", "G", "1.2.3M"])
def test_parse_size_rejects(text):
    from pyunik.api import parse_size
    with pytest.raises(ValueError):
        parse_size(text)


# ---- a guest-given length never sizes host memory -----------------------------------

HUGE = "48ba" + struct.pack("<Q", 0x20000000C300).hex()       # mov rdx, 0x20000000c300
UNMAPPED = "be 00000010"                                      # mov esi, 0x10000000
EXIT_NEG_RAX = ["48f7d8", "89c7", "b83c000000", "0f05"]       # exit(-rax)

# write(1, <unmapped>, 0x20000000c300): Linux answers EFAULT at the first page.
WRITE_HUGE = asm("b8 01000000", "bf 01000000", UNMAPPED, HUGE, "0f05", *EXIT_NEG_RAX)
# pipe2(bss, 0), then pwrite64(write end, <unmapped>, 0x20000000c300, 0): ESPIPE,
# before the buffer is looked at.
PWRITE_PIPE_HUGE = asm("b8 25010000", "bf" + struct.pack("<I", TINY_BSS).hex(), "31f6",
                       "0f05",
                       "8b3c25" + struct.pack("<I", TINY_BSS + 4).hex(),   # mov edi, [wfd]
                       "b8 12000000", UNMAPPED, HUGE, "4531d2", "0f05", *EXIT_NEG_RAX)


def _peak_rss(cmd) -> tuple[int, int, bytes]:
    """Run cmd; its exit status, its peak RSS in bytes (wait4's ru_maxrss, for this
    child alone), and its stderr."""
    import os
    import subprocess
    from conftest import host_env_for_pyunik
    p = subprocess.Popen(cmd, env=host_env_for_pyunik(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, usage.ru_maxrss * 1024, err


@pytest.mark.parametrize("name,code,errno_", [("write_huge", WRITE_HUGE, 14),
                                              ("pwrite_pipe_huge", PWRITE_PIPE_HUGE, 29)])
def test_huge_count_allocates_nothing(make_program, run_native, name, code, errno_):
    """The errno is Linux's, and the pyunik process's peak RSS stays far below the
    0x20000000c300 bytes asked for (and below -m 256M): the file is asked how much it
    takes, and data is copied from the guest in bounded chunks."""
    from conftest import pyunik_command
    path = make_program(name, code)
    assert run_native([path]).status == errno_
    status, rss, err = _peak_rss(pyunik_command([path], extra_opts=["-m", "256M"]))
    assert b"Traceback" not in err, err.decode()
    assert status == errno_, err.decode()
    assert rss < 256 << 20, "peak RSS %d MiB" % (rss >> 20)


# ---- mmchurn: mapping churn, thread stacks, mremap's checks, touching an unmapped range ----

MMCHURN = os.path.join("guest_images", "bin", "mmchurn-")


@pytest.mark.parametrize("libc", ["musl", "glibc"])
@pytest.mark.parametrize("args", [["cycle", "300", "300"], ["stacks", "64"], ["mremap"]],
                         ids=["cycle", "stacks", "mremap"])
def test_mmchurn_matches_linux(run_native, run_pyunik, libc, args):
    """mmap+mprotect+munmap churn beside 300 live mappings (fresh pages read zero every
    time, so a reused region's pages were given back), 64 thread stacks with guard
    pages, and mremap's errors for bad arguments and unmapped addresses (EINVAL before
    EFAULT, nothing unmapped on the way: the stack survives)."""
    native = run_native([MMCHURN + libc] + args)
    emulated = run_pyunik([MMCHURN + libc] + args)
    assert_no_traceback(emulated)
    assert native.status == 0
    assert_same(native, emulated)


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_touching_an_unmapped_range_faults(run_native, run_pyunik, libc):
    """A range unmapped after use (its engine region may stay, with no access) is
    EFAULT to a syscall and SIGSEGV to the guest, at the address touched."""
    native = run_native([MMCHURN + libc, "touch"])
    emulated = run_pyunik([MMCHURN + libc, "touch"])
    assert_no_traceback(emulated)
    assert native.status == emulated.status == 128 + 11
    assert native.stdout == emulated.stdout
    assert b"still alive" not in emulated.stdout
    report = emulated.stderr.decode()
    assert re.search(r"write access at 0x[0-9a-f]*005: unmapped address", report), report


def test_churn_keeps_the_limit_exact(run_pyunik):
    """Under a limit the program only just fits, thousands of cycles still map: no
    page of the churn is ever counted twice or forgotten."""
    out = run_pyunik([MMCHURN + "musl", "cycle", "3000", "300"], extra_opts=["-m", "20M"])
    assert_no_traceback(out)
    assert out.stdout == b"cycle 3000 live 300 sum 0\n", out.stdout + out.stderr
    tight = run_pyunik([MMCHURN + "musl", "cycle", "10", "600"], extra_opts=["-m", "20M"])
    assert tight.stdout == b"live mmap failed: ENOMEM\n", tight.stdout + tight.stderr
