"""Hostile input never reaches Python's error machinery: malformed ELF files and
random system calls get Linux's answer (or one line and 126 for a file pyunik refuses
up front), never a traceback, a hang, or host memory beyond the guest's limit.

The targeted cases are the ones found once by mutating ELFs and issuing random system
calls; the fuzz tests (tests/hostile_fuzz.py, seeded) keep looking.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest

from conftest import (BIN, REPO, TIMEOUT, assert_no_traceback, assert_same, run_native,
                      run_pyunik)

HELLO = BIN / "hello-musl"


def _write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    path.chmod(0o755)
    return str(path)


def _patched(source, offset: int, fmt: str, value: int) -> bytes:
    data = bytearray(source.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


def _interp_elf(interp: bytes) -> bytes:
    """A static ET_EXEC at 0x400000 whose PT_INTERP names `interp` (and which would
    exit(0) itself)."""
    base, hdr = 0x400000, 64 + 56 * 2
    path = interp + b"\0"
    code = b"\x31\xff\xb8\xe7\x00\x00\x00\x0f\x05"                 # exit_group(0)
    ehdr = (b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
            + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, base + hdr + len(path), 64, 0, 0,
                          64, 56, 2, 0, 0, 0))
    interp_ph = struct.pack("<IIQQQQQQ", 3, 4, hdr, base + hdr, base + hdr, len(path),
                            len(path), 1)
    load_ph = struct.pack("<IIQQQQQQ", 1, 7, 0, base, base, hdr + len(path) + len(code),
                          0x2000, 0x1000)
    return ehdr + interp_ph + load_ph + path + code


def test_interpreter_overlapping_the_program(tmp_path):
    """PT_INTERP names a static ET_EXEC whose segments overlap the program's:
    load_elf_interp maps it with MAP_FIXED over them, so natively the interpreter
    (hello) runs. It was a UcError traceback from Engine.map_host."""
    path = _write(tmp_path, "interp-overlap", _interp_elf(bytes(HELLO)))
    native = run_native([path])
    assert native.stdout == b"Hello from pyunik guest!\n"
    emulated = run_pyunik([path])
    assert_no_traceback(emulated)
    assert_same(native, emulated)


def test_program_headers_far_beyond_the_file(tmp_path):
    """e_phoff = 0xffff800000000000 (an OverflowError from pyelftools' seek once):
    ENOEXEC, with what is truncated."""
    path = _write(tmp_path, "phoff", _patched(HELLO, 32, "<Q", 0xFFFF800000000000))
    with pytest.raises(OSError):
        run_native([path])                       # ENOEXEC
    out = run_pyunik([path])
    assert_no_traceback(out)
    assert out.status == 126
    assert out.stderr_lines() == ["pyunik: %s: exec format error (truncated: the program "
                                  "header table starts at byte 0xffff800000000000, past the "
                                  "end of the file (%d bytes))" % (path, HELLO.stat().st_size)]


@pytest.mark.parametrize("name", ["hello-musl-pie", "hello-musl"])
def test_entry_point_outside_the_mappings(tmp_path, name):
    """e_entry = 0xffffffffff600000 (a struct.error in loader/stack.py once): for a
    static-pie the sum with the load bias wraps as Linux's unsigned long does; either
    way the first instruction faults and the process dies of SIGSEGV, as natively."""
    path = _write(tmp_path, name, _patched(BIN / name, 24, "<Q", 0xFFFFFFFFFF600000))
    native = run_native([path])
    emulated = run_pyunik([path])
    assert_no_traceback(emulated)
    assert native.status == emulated.status == 139
    assert b"killed by SIGSEGV" in emulated.stderr


def test_truncated_elf_says_what_is_truncated(tmp_path):
    path = _write(tmp_path, "truncated", HELLO.read_bytes()[:1000])
    out = run_pyunik([path])
    assert_no_traceback(out)
    assert out.status == 126
    assert out.stderr_lines() == ["pyunik: %s: exec format error (truncated: segment 1 starts "
                                  "at byte 4096, past the end of the file (1000 bytes))" % path]
    path = _write(tmp_path, "truncated2", HELLO.read_bytes()[:5000])
    assert run_pyunik([path]).stderr_lines() == [
        "pyunik: %s: exec format error (truncated: segment 1 ends at byte 8833, the file has "
        "5000)" % path]


@pytest.mark.parametrize("size", ["1k", "64k", "8M"])
def test_too_little_memory_says_so(size):
    """README's smallest limit that runs hello is 9M (its 8 MiB stack and the program);
    below it, a memory message, not "exec format error"."""
    out = run_pyunik([HELLO], extra_opts=["-m", size])
    assert_no_traceback(out)
    assert out.status == 126
    assert out.stderr_lines() == ["pyunik: %s: cannot allocate memory: the guest memory limit "
                                  "(%s) is less than the program and its 8 MiB stack need"
                                  % (HELLO, size)]
    assert run_pyunik([HELLO], extra_opts=["-m", "9M"]).stdout == b"Hello from pyunik guest!\n"


def _falloc_program(offset: int, length: int) -> bytes:
    """memfd_create("", 0); exit with -fallocate(fd, 0, offset, length)."""
    return (b"\xbf" + struct.pack("<I", 0x401000) + b"\x31\xf6"            # name "", flags 0
            + b"\xb8" + struct.pack("<I", 319) + b"\x0f\x05"               # memfd_create
            + b"\x89\xc7\x31\xf6"                                           # fd, mode 0
            + b"\x48\xba" + struct.pack("<Q", offset)                      # offset
            + b"\x49\xba" + struct.pack("<Q", length)                      # length
            + b"\xb8" + struct.pack("<I", 285) + b"\x0f\x05"               # fallocate
            + b"\xf7\xd8\x89\xc7\xb8\xe7\x00\x00\x00\x0f\x05")             # exit_group(-rax)


@pytest.mark.parametrize("offset,length,errno_", [
    (1, 0x200000001000, 28),             # ENOSPC: more than the tmpfs holds
    (1 << 62, 1 << 62, 27),              # EFBIG: past tmpfs's largest file (MAX_LFS_FILESIZE)
    (0, 1 << 20, 0)])                    # fits: allocated
def test_fallocate_on_a_memfd_counts_against_the_tmpfs_size(make_program, offset, length,
                                                            errno_):
    """fallocate(memfd, 0, 1, 0x200000001000) was a MemoryError in ramfs truncate: an
    in-memory file's blocks count against its filesystem's size, as tmpfs's do."""
    out = run_pyunik([make_program("falloc", _falloc_program(offset, length))],
                     extra_opts=["-m", "256M"])
    assert_no_traceback(out)
    assert out.status == errno_


def _fuzz(kind: str, seed: int, count: int) -> dict:
    p = subprocess.run([sys.executable, "-X", "faulthandler",
                        str(REPO / "tests" / "hostile_fuzz.py"), kind, str(seed), str(count)],
                       capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-3000:]
    return json.loads(p.stdout.decode().splitlines()[-1])


# The guests run with -m 64M; pyunik itself (Python, Unicorn, capstone) takes ~60 MB.
RSS_BOUND = (64 + 100) << 20


@pytest.mark.parametrize("seed", [7, 2026])
def test_mutated_elf_headers(seed):
    """One to three header fields of a committed guest binary set to an edge value, a
    neighbour, a flipped bit or random bits; each result runs in-process, a third of
    them through a guest's execve (refused with an errno, or run in its place)."""
    r = _fuzz("elf", seed, 150)
    assert not r["failures"], "\n\n".join(r["failures"][:5])
    assert r["maxrss"] < RSS_BOUND, "peak RSS %d MiB" % (r["maxrss"] >> 20)
    assert r["endings"].get("refused", 0) and r["endings"].get("exit 0", 0), r["endings"]
    assert r["endings"].get("execve: exit 99", 0) and r["endings"].get("execve: exit 0", 0), \
        r["endings"]


@pytest.mark.parametrize("seed", [7, 2026])
def test_random_system_calls(seed):
    """Random system calls with random arguments (fds, pointers into and out of the
    guest's memory, edge values), after the calls that once hurt the host."""
    r = _fuzz("syscalls", seed, 400)
    assert not r["failures"], "\n\n".join(r["failures"][:5])
    assert r["maxrss"] < RSS_BOUND, "peak RSS %d MiB" % (r["maxrss"] >> 20)
    assert r["endings"].get("exit 0", 0) > 8, r["endings"]


@pytest.mark.parametrize("seed", [12, 2026])
def test_random_calls_on_live_objects(seed):
    """The network, epoll, futex, signal, IPC, pidfd and execve calls on sockets of
    every family, an epoll, an eventfd, a pidfd and IPC objects, with arguments drawn
    by kind: structures whose own pointers are wild, the mapping's edge, read-only
    code, unmapped and non-canonical addresses (seed 12 once drew a timeout centuries
    ahead, which the scheduler's idle wait could not take)."""
    r = _fuzz("objects", seed, 1000)
    assert not r["failures"], "\n\n".join(r["failures"][:5])
    assert r["maxrss"] < RSS_BOUND, "peak RSS %d MiB" % (r["maxrss"] >> 20)
    assert r["endings"].get("exit 0", 0) > 20, r["endings"]


def test_each_pointer_argument_wild_on_each_object():
    """Every one of those calls on every object fd, with each pointer argument in turn
    unmapped, crossing the mapping's end, read-only or non-canonical: no traceback,
    and every program runs to its end (no call is fatal)."""
    r = _fuzz("wild", 0, 100000)
    assert r["cases"] > 1500
    assert not r["failures"], "\n\n".join(r["failures"][:5])
    assert set(r["endings"]) == {"exit 0"}, r["endings"]


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="no Debian python3")
def test_select_on_exceptfds_of_ready_host_files_sleeps(monkeypatch):
    """select() on the exceptfds of stdin, stdout and stderr (host files, always ready
    to read and write, never for POLLPRI) sleeps its second out in one host wait: the
    scheduler once waited for them as readable, woke at once and parked again, a few
    thousand times a second, its memory growing (the objects fuzzer's seed 2026)."""
    import pyunik
    from pyunik.kernel.sched import Scheduler
    idles = []
    real_idle = Scheduler._idle
    monkeypatch.setattr(Scheduler, "_idle", lambda self: (idles.append(1), real_idle(self)))
    vm = pyunik.Unikernel(["/usr/bin/python3", "-c",
                           "import select; print(select.select([], [], [0, 1, 2], 1.0))"],
                          env={}, quiet=True, stdin=b"", capture_output=True)
    try:
        assert vm.run() == 0
        assert vm.captured()[0] == b"([], [], [])\n"
    finally:
        vm.close()
    assert len(idles) < 10, len(idles)
