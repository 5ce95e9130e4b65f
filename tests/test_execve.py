"""execve(2) and execveat(2) from a running guest: the execer program natively and under
pyunik, same output; the automatic image learning the programs a guest execs; a
`#!/usr/bin/env python3` tool; --strace's execve line; host memory flat over 200 execs.

execer runs from a copy in a scratch directory mounted read-write at the same path, so
its paths (and /proc/self/exe) read the same natively and emulated, and opening the
running program for writing meets ETXTBSY rather than a read-only mount's EROFS."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import (BIN, GUEST_ENV, assert_no_traceback, assert_same, pyunik_command,
                      host_env_for_pyunik, run_native, run_pyunik)
from pyunik.kernel.syscalls.table import SyscallTable
from pyunik.loader.autoimage import AutoImage

VARIANTS = ["execer-musl", "execer-glibc"]


@pytest.fixture
def scratch(tmp_path):
    """The scratch directory execer is copied to and runs in."""
    return tmp_path


def _copy(scratch, name):
    prog = scratch / name
    shutil.copy(BIN / name, prog)
    prog.chmod(0o755)
    return prog


def _both(scratch, argv, env=None, opts=()):
    native = run_native(argv, env=env, cwd=scratch)
    emulated = run_pyunik(argv, env=env, cwd=scratch,
                          extra_opts=["-v", "%s:%s:rw" % (scratch, scratch), *opts])
    assert_no_traceback(emulated)
    return native, emulated


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("mode", ["state", "errors", "thread", "fexec", "fexec-script",
                                  "fexec-cloexec", "fexec-memfd", "chain-5", "chain-6"])
def test_execer_matches_native(scratch, name, mode):
    """state: argv/envp, AT_EXECFN, comm, fds with and without O_CLOEXEC, an ignored
    signal staying ignored and a caught one reset, mask and pending kept, altstack
    cleared. errors: ENOENT, EACCES, ENOEXEC, ETXTBSY both ways, EFAULT, E2BIG, the
    execveat flag and fd cases, each leaving the caller running. thread: a second
    thread's exec keeps the pid, ends the other thread. fexec: AT_EMPTY_PATH of
    O_PATH and O_CLOEXEC fds (comm is the file's name), a script through a
    close-on-exec fd (ENOENT) and through a plain one, a memfd still open for
    writing (which Linux runs). chain: five #! levels run, six
    are ELOOP."""
    prog = _copy(scratch, name)
    verb, _, extra = mode.partition("-")
    argv = [prog, verb, scratch] + ([extra] if extra else [])
    native, emulated = _both(scratch, argv)
    assert native.status == 0 and native.stdout, native.stderr
    assert_same(native, emulated)


def test_failed_exec_leaves_the_caller_running(scratch):
    prog = _copy(scratch, "execer-musl")
    native, emulated = _both(scratch, [prog, "errors", scratch])
    assert native.stdout.endswith(b"still here\n")
    for line in (b"missing: -ENOENT", b"no x bit: -EACCES", b"garbage: -ENOEXEC",
                 b"open for writing: -ETXTBSY", b"write running: -ETXTBSY",
                 b"tmpfile open for writing: -ETXTBSY",
                 b"bad argv: -EFAULT", b"string of 32 pages: -E2BIG",
                 b"past it, this program: -E2BIG",
                 b"nofollow: -ELOOP"):
        assert line in emulated.stdout


def test_strace_shows_execve_as_strace_does(scratch):
    prog = _copy(scratch, "execer-musl")
    emulated = run_pyunik([prog, "state", scratch], cwd=scratch,
                          extra_opts=["--strace", "-v", "%s:%s:rw" % (scratch, scratch)])
    assert_no_traceback(emulated)
    lines = [x for x in emulated.stderr_lines() if x.startswith("execve(")]
    assert len(lines) == 1
    assert re.fullmatch(r'execve\("%s", \["execer", "show", "state", "two words", ""\], '
                        r'0x[0-9a-f]+ /\* 3 vars \*/\) = 0' % re.escape(str(prog)), lines[0])
    failed = run_pyunik([prog, "errors", scratch], cwd=scratch,
                        extra_opts=["--strace", "-v", "%s:%s:rw" % (scratch, scratch)])
    assert 'execve("/no/such/program", ["x"], 0x' in failed.stderr.decode()
    assert "/* 0 vars */) = -1 ENOENT (No such file or directory)" in failed.stderr.decode()


@pytest.mark.skipif(not os.access("/usr/bin/env", os.X_OK), reason="no /usr/bin/env")
def test_image_learns_a_dynamic_program_the_guest_execs(scratch):
    """/usr/bin/env is in no image until execer execs it; it comes with its libraries."""
    prog = _copy(scratch, "execer-musl")
    native, emulated = _both(scratch, [prog, "run", scratch, "/usr/bin/env"])
    assert native.status == 0 and b"PYUNIK_A=1" in native.stdout
    assert_same(native, emulated)


@pytest.mark.skipif(shutil.which("python3", path="/usr/bin") is None, reason="no python3")
def test_image_learns_through_a_path_search(scratch):
    """env finds python3 by trying each PATH directory with execve."""
    prog = _copy(scratch, "execer-musl")
    argv = [prog, "run", scratch, "/usr/bin/env", "python3", "-c", "print(6 * 7)"]
    native, emulated = _both(scratch, argv, opts=["-q"])   # (CPython's socket probe)
    assert native.stdout == b"42\n"
    assert_same(native, emulated)


def test_image_learns_nothing_outside_its_rules(scratch, tmp_path_factory):
    """A host program outside the system directories and the first program's own
    directory stays invisible (ENOENT), however executable; so does a file the host
    cannot execute."""
    prog = _copy(scratch, "execer-musl")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    other = _copy(elsewhere, "execer-glibc")
    native, emulated = _both(scratch, [prog, "run", scratch, other, "show"])
    assert native.status == 0
    assert emulated.stdout == b"execv %s: No such file or directory\n" % bytes(other)
    image = AutoImage(str(prog))
    image.entries()
    assert not image.allowed(str(other))
    assert not image.allowed("/etc/passwd")
    assert image.allowed(str(prog))


@pytest.mark.skipif(not os.access("/usr/bin/env", os.X_OK) or
                    shutil.which("python3", path="/usr/bin") is None,
                    reason="no /usr/bin/env or python3")
def test_env_python_tool_runs(tmp_path):
    """`pyunik run ./tool.py` with `#!/usr/bin/env python3`: env execs python3."""
    tool = tmp_path / "tool.py"
    tool.write_text("#!/usr/bin/env python3\nimport sys\nprint('tool', sys.argv[1:])\n")
    tool.chmod(0o755)
    native = run_native(["./tool.py", "a b", "c"], cwd=tmp_path)
    emulated = run_pyunik(["./tool.py", "a b", "c"], cwd=tmp_path, extra_opts=["-q"])
    assert_no_traceback(emulated)
    assert native.stdout == b"tool ['a b', 'c']\n"
    assert_same(native, emulated)


def test_host_memory_stays_flat_over_200_execs(tmp_path):
    """Each exec gets a new engine; the old one and its memory are given back."""
    def peak(n):
        cmd = pyunik_command([BIN / "execer-musl", "loop", tmp_path, n], GUEST_ENV)
        r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, env=host_env_for_pyunik(),
                           capture_output=True, timeout=300)
        assert r.stdout == b"done\n", r.stderr[-2000:]
        return int(r.stderr.decode().split()[-1])
    if not os.access("/usr/bin/time", os.X_OK):
        pytest.skip("no /usr/bin/time")
    few, many = peak(10), peak(200)
    assert many - few < 16 * 1024, (few, many)     # KiB: 190 more execs, < 16 MiB more


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


# ---- with fork: shells and subprocess running the programs they find ----------------

BUSYBOX = shutil.which("busybox", path="/bin:/usr/bin")
_FORK = SyscallTable().rows.get(57)
HAS_FORK = _FORK is not None and _FORK.handler is not None
needs_fork = pytest.mark.skipif(not HAS_FORK, reason="fork(2) is not implemented yet")


@needs_fork
@pytest.mark.skipif(BUSYBOX is None or not os.access("/usr/bin/numfmt", os.X_OK),
                    reason="no busybox or coreutils")
def test_shell_pipeline_of_learned_programs(tmp_path):
    """busybox sh forks and execs host programs by absolute path and by PATH search
    (numfmt is no busybox applet); each is learned with its libraries as it is first
    exec'd."""
    script = ("/usr/bin/env | /usr/bin/sort | /usr/bin/head -3; echo status $?; "
              "numfmt --to=iec 2048 && echo found; "
              "/no/such/program 2>/dev/null; echo missing $?; "
              "exec /usr/bin/env -i ONLY=1 /usr/bin/env")
    native, emulated = _both(tmp_path, [BUSYBOX, "sh", "-c", script])
    assert b"2.0K\nfound" in native.stdout and native.stdout.endswith(b"ONLY=1\n")
    assert_same(native, emulated)


@needs_fork
@pytest.mark.skipif(BUSYBOX is None, reason="no busybox")
def test_shell_counts_its_root(tmp_path):
    """`sh -c 'ls / | wc -l'`: the guest's own root, as many names as ls shows."""
    emulated = run_pyunik([BUSYBOX, "sh", "-c", "ls / | wc -l; ls /"], cwd=tmp_path)
    assert_no_traceback(emulated)
    lines = emulated.stdout.split()
    assert emulated.status == 0 and int(lines[0]) == len(lines) - 1 >= 5, emulated


@needs_fork
@pytest.mark.skipif(shutil.which("python3", path="/usr/bin") is None, reason="no python3")
def test_python_subprocess_runs_what_it_finds(tmp_path):
    """subprocess (vfork or fork, then execve down the default PATH) runs env, whose
    output comes back through a pipe; a missing program is FileNotFoundError."""
    code = ("import subprocess\n"
            "r = subprocess.run(['env'], capture_output=True, env={'A': '1'})\n"
            "print(r.returncode, r.stdout)\n"
            "try:\n"
            "    subprocess.run(['/no/such/program'])\n"
            "except FileNotFoundError as e:\n"
            "    print('missing', e.errno)\n")
    native, emulated = _both(tmp_path, ["/usr/bin/python3", "-c", code], opts=["-q"])
    assert native.stdout == b"0 b'A=1\\n'\nmissing 2\n"
    assert_same(native, emulated)


# ---- hostile arguments, against native -----------------------------------------------

def _execve_fuzz_program(seed: int, cases: int) -> bytes:
    """A tiny static ELF making `cases` execve/execveat calls with arguments drawn
    from good and bad pointers, fds and flags, then writing every result (8 bytes
    each) to stdout and exiting 0. No combination can name a program that runs."""
    import random
    import struct

    from conftest import TINY_BASE, TINY_BSS, tiny_elf
    rng = random.Random(seed)
    strings = [b"/\0", b"/proc/self/maps\0", b"/no/such\0", b"\0", b"x" * 300 + b"\0",
               b"relative\0", b"/proc/self/fd/0\0"]
    code_size = cases * 64 + 64
    data = TINY_BASE + 0x78 + code_size          # strings follow the code
    blob, addrs = b"", []
    for s in strings:
        addrs.append(data + len(blob))
        blob += s
    arrays = []
    for chosen in ([addrs[0]], [addrs[4], addrs[3]], [addrs[1], 8], [0x10], []):
        while (data + len(blob)) % 8:
            blob += b"\0"
        arrays.append(data + len(blob))
        blob += struct.pack("<%dQ" % (len(chosen) + 1), *chosen, 0)
    bad = [0, 1, 0x1000, 0xdead0000, 1 << 47, (1 << 64) - 1, TINY_BASE + 0x78 + 3]
    pointers = addrs + arrays + bad
    results = TINY_BSS
    code = b""
    for i in range(cases):
        at = rng.random() < 0.4
        path, argv, envp = (rng.choice(addrs + bad) if rng.random() < 0.3 else
                            rng.choice(addrs)), rng.choice(pointers), rng.choice(pointers)
        code += b"\x48\xbf" + struct.pack("<Q", path) if not at else b""
        if at:
            dirfd = rng.choice([-100, 0, 1, 99, -1])
            flags = rng.choice([0, 0x100, 0x1000, 0x1100, 1])
            code += b"\x48\xc7\xc7" + struct.pack("<i", dirfd)          # mov rdi, dirfd
            code += b"\x48\xbe" + struct.pack("<Q", path)               # mov rsi, path
            code += b"\x48\xba" + struct.pack("<Q", argv)               # mov rdx, argv
            code += b"\x49\xba" + struct.pack("<Q", envp)               # mov r10, envp
            code += b"\x49\xc7\xc0" + struct.pack("<i", flags)          # mov r8, flags
            code += b"\xb8" + struct.pack("<I", 322)                    # mov eax, execveat
        else:
            code += b"\x48\xbe" + struct.pack("<Q", argv)               # mov rsi, argv
            code += b"\x48\xba" + struct.pack("<Q", envp)               # mov rdx, envp
            code += b"\xb8" + struct.pack("<I", 59)                     # mov eax, execve
        code += b"\x0f\x05"                                             # syscall
        code += b"\x48\xa3" + struct.pack("<Q", results + 8 * i)        # mov [results], rax
    code += (b"\xbf\x01\x00\x00\x00" + b"\x48\xbe" + struct.pack("<Q", results)
             + b"\xba" + struct.pack("<I", 8 * cases) + b"\xb8\x01\x00\x00\x00\x0f\x05"
             + b"\x31\xff\xb8\xe7\x00\x00\x00\x0f\x05")                  # write; exit_group(0)
    assert len(code) <= code_size
    return tiny_elf(code.ljust(code_size, b"\x90") + blob)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_hostile_execve_arguments_match_native(tmp_path, seed):
    """Every result of 40 execve/execveat calls with bad and good pointers, fds and
    flags is Linux's, errno for errno (the order of Linux's checks included)."""
    prog = tmp_path / "fuzz"
    prog.write_bytes(_execve_fuzz_program(seed, 40))
    prog.chmod(0o755)
    native, emulated = _both(tmp_path, [prog])
    assert native.status == 0 and len(native.stdout) == 320
    if native.stdout != emulated.stdout:
        import struct
        got = struct.unpack("<40q", emulated.stdout) if len(emulated.stdout) == 320 else ()
        want = struct.unpack("<40q", native.stdout)
        diffs = [(i, w, g) for i, (w, g) in enumerate(zip(want, got)) if w != g]
        pytest.fail("case, native, pyunik: %s" % diffs[:10])
    assert_same(native, emulated)
