"""Shared helpers: run a guest program natively and under pyunik, and compare.

Linux is the specification: most tests run the same static x86-64 binary from
guest_images/bin twice, once directly on this host and once under
`python -m pyunik run`, with the same argv[0], the same environment and the same
stdin, and compare stdout, stderr and the exit status byte for byte.

Exit statuses are in shell form everywhere: the exit code, or 128 + N for a
process killed by signal N. `pyunik run` ends by the signal that killed its guest, as
a native process would, so a pyunik run and a native run compare as they are; a crash
of pyunik itself is told apart by what it prints (a Python traceback, or faulthandler's
"Fatal Python error" for a crash in C: pyunik runs under `python -X faulthandler`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / "guest_images" / "bin"
if str(REPO) not in sys.path:          # import pyunik from the checkout
    sys.path.insert(0, str(REPO))

# The guest environment for every comparison: PYUNIK_* variables are what `args`
# prints; the values have spaces and '=' in them on purpose.
GUEST_ENV = {
    "PYUNIK_A": "1",
    "PYUNIK_SPACES": "two  spaces and = sign",
    "PYUNIK_EMPTY": "",
    "PATH": "/usr/bin:/bin",
}

# A suite started in the background by a shell inherits SIGINT ignored, and its children
# (native and emulated guests) would too; the tests that send SIGINT need it delivered.
# A handler (unlike SIG_IGN) is reset to the default in every child at exec.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# A generous bound per run so a hung guest fails its test instead of the suite.
TIMEOUT = 120


@dataclass(frozen=True)
class Outcome:
    status: int        # exit code, or 128 + signal number
    stdout: bytes
    stderr: bytes
    # For a pyunik run: the signal that ended the pyunik process (0: none). It is
    # the guest's own death (pyunik ends by the signal that killed its guest) unless
    # stderr shows a crash of pyunik itself (see assert_no_traceback).
    host_signal: int = 0

    def stderr_lines(self) -> list[str]:
        return self.stderr.decode(errors="replace").splitlines()


def shell_status(returncode: int) -> int:
    """subprocess's -N for "killed by signal N" in the shell's form, 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def _stdin_kwargs(stdin) -> dict:
    """bytes: fed through a pipe; None: /dev/null; a file object or fd: used as is."""
    if stdin is None:
        return {"stdin": subprocess.DEVNULL}
    if isinstance(stdin, (bytes, bytearray)):
        return {"input": bytes(stdin)}
    return {"stdin": stdin}


def host_env_for_pyunik() -> dict:
    """The environment of the pyunik *host* process (not the guest's): pyunik is
    importable from the checkout without being installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"]
                                     if env.get("PYTHONPATH") else "")
    return env


# How the tests start pyunik: faulthandler makes a crash inside C (Unicorn, ctypes)
# print "Fatal Python error" and a traceback, so it is never mistaken for the guest's
# own death by a signal.
PYUNIK = [sys.executable, "-X", "faulthandler", "-m", "pyunik"]


def run_native(argv, env=None, stdin: bytes | None = b"", cwd=REPO, **kw) -> Outcome:
    """Run argv directly on the host (argv[0] as given, relative to cwd)."""
    p = subprocess.run([str(a) for a in argv], env=GUEST_ENV if env is None else env,
                       cwd=cwd, capture_output=True, timeout=TIMEOUT,
                       **_stdin_kwargs(stdin), **kw)
    return Outcome(shell_status(p.returncode), p.stdout, p.stderr)


def pyunik_command(argv, env=None, extra_opts=()) -> list[str]:
    """`python -m pyunik run --clear-env -e K=V ... OPTS -- PROGRAM ARGS`."""
    env = GUEST_ENV if env is None else env
    cmd = PYUNIK + ["run", "--clear-env"]
    for k, v in env.items():
        cmd += ["-e", "%s=%s" % (k, v)]
    return cmd + list(extra_opts) + ["--"] + [str(a) for a in argv]


def run_pyunik(argv, env=None, stdin: bytes | None = b"", extra_opts=(), cwd=REPO,
               **kw) -> Outcome:
    """Run argv under `python -m pyunik run` with exactly env as the guest's
    environment; the result is pyunik's own exit status and output."""
    p = subprocess.run(pyunik_command(argv, env, extra_opts), env=host_env_for_pyunik(),
                       cwd=cwd, capture_output=True, timeout=TIMEOUT,
                       **_stdin_kwargs(stdin), **kw)
    return Outcome(shell_status(p.returncode), p.stdout, p.stderr, max(0, -p.returncode))


def run_cli(args, cwd=REPO, stdin: bytes | None = b"", **kw) -> Outcome:
    """`python -m pyunik ARGS...` (any subcommand), as a user would type it."""
    p = subprocess.run(PYUNIK + [str(a) for a in args],
                       env=host_env_for_pyunik(), cwd=cwd, capture_output=True,
                       timeout=TIMEOUT, **_stdin_kwargs(stdin), **kw)
    return Outcome(shell_status(p.returncode), p.stdout, p.stderr, max(0, -p.returncode))


TINY_BASE = 0x400000
TINY_BSS = TINY_BASE + 0x1000


def tiny_elf(code: bytes, bss: int = 0x2000) -> bytes:
    """A minimal static x86-64 ELF executable: one RWX PT_LOAD at 0x400000 holding
    the headers and `code` (the entry point is the first byte of `code`), followed
    by `bss` zero bytes starting at 0x401000 (TINY_BSS). Lets a test issue exact
    instruction sequences without a compiler."""
    base, hdr = TINY_BASE, 64 + 56
    ehdr = (b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
            + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, base + hdr, 64, 0, 0, 64, 56, 1,
                          0, 0, 0))
    phdr = struct.pack("<IIQQQQQQ", 1, 7, 0, base, base, hdr + len(code),
                       0x1000 + bss, 0x1000)
    assert hdr + len(code) <= 0x1000
    return ehdr + phdr + code


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def guest_env() -> dict:
    return dict(GUEST_ENV)


@pytest.fixture(name="run_native", scope="session")
def run_native_fixture():
    return run_native


@pytest.fixture(name="run_pyunik", scope="session")
def run_pyunik_fixture():
    return run_pyunik


@pytest.fixture(name="run_cli", scope="session")
def run_cli_fixture():
    return run_cli


@pytest.fixture
def make_program(tmp_path):
    """make_program(name, code_bytes) -> absolute path of an executable tiny ELF."""
    def make(name: str, code: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(tiny_elf(code))
        path.chmod(0o755)
        return str(path)
    return make


def assert_no_traceback(outcome: Outcome) -> None:
    """pyunik neither crashed (a Python exception, or a crash in C that faulthandler
    reports) nor printed a traceback. Ending by a signal is not a crash by itself:
    pyunik ends by the signal that killed its guest."""
    text = outcome.stderr.decode(errors="replace")
    if "Fatal Python error" in text:
        pytest.fail("the pyunik process itself crashed (%s); stderr:\n%s"
                    % (signal.Signals(outcome.host_signal).name if outcome.host_signal
                       else "status %d" % outcome.status, text[-3000:]), pytrace=False)
    if "Traceback" in text or any(re.match(r"[A-Za-z_.]*(Error|Exception)\b", line)
                                  for line in text.splitlines()):
        pytest.fail("pyunik printed a Python exception (exit status %d):\n%s"
                    % (outcome.status, text[-3000:]), pytrace=False)


def assert_same(native: Outcome, emulated: Outcome, what: str = "") -> None:
    """Byte-for-byte equality of stdout, stderr and exit status, with a diff that
    shows where they part."""
    import difflib

    def diff(a: bytes, b: bytes, name: str) -> str:
        lines = difflib.unified_diff(a.decode(errors="replace").splitlines(),
                                     b.decode(errors="replace").splitlines(),
                                     "native " + name, "pyunik " + name, lineterm="", n=1)
        return "\n".join(list(lines)[:60])

    problems = []
    if native.stdout != emulated.stdout:
        problems.append(diff(native.stdout, emulated.stdout, "stdout"))
    if native.stderr != emulated.stderr:
        problems.append(diff(native.stderr, emulated.stderr, "stderr"))
    if native.status != emulated.status:
        problems.append("exit status: native %d, pyunik %d" % (native.status,
                                                               emulated.status))
    if problems:
        pytest.fail((what + "\n" if what else "") + "\n".join(problems), pytrace=False)


# ---- known differences -------------------------------------------------------------

@dataclass(frozen=True)
class KnownLine:
    """One stdout line where pyunik knowingly differs from Linux.

    The native line starts with `prefix`; pyunik's whole line is exactly `pyunik`.
    `native`: the entry applies only when the native line is exactly this (for lines
    that depend on the host). `partial_row`: the syscall table row whose status and
    note admit the difference; the entry is void (a failure) if that row says full.
    """
    prefix: str
    pyunik: str
    reason: str
    native: str | None = None
    partial_row: str | None = None


def _row_admits(name: str) -> tuple[bool, str]:
    from pyunik.kernel.syscalls.table import SyscallTable
    row = SyscallTable().by_name(name)
    return row.status != "full", "%s(2) is %s: %s" % (name, row.status, row.note)


def expected_with_known(native_stdout: bytes, known) -> tuple[bytes, list[str]]:
    """Native stdout with each known-different line replaced by pyunik's documented
    line, and a description of each replacement made."""
    lines = native_stdout.decode(errors="surrogateescape").split("\n")
    applied = []
    for k in known:
        hits = [i for i, line in enumerate(lines) if line.startswith(k.prefix)]
        assert len(hits) == 1, "native output must have exactly one %r line" % k.prefix
        i = hits[0]
        if k.native is not None and lines[i] != k.native:
            continue
        assert lines[i] != k.pyunik, "known difference %r: Linux says the same" % k.prefix
        reason = k.reason
        if k.partial_row:
            admitted, note = _row_admits(k.partial_row)
            assert admitted, ("known difference %r relies on %s, but that row is now full"
                              % (k.prefix, note))
            reason += " [" + note + "]"
        applied.append("%r -> %r: %s" % (lines[i], k.pyunik, reason))
        lines[i] = k.pyunik
    return "\n".join(lines).encode(errors="surrogateescape"), applied


def assert_same_except(native: Outcome, emulated: Outcome, known=()) -> None:
    """assert_same, with the KnownLine entries in `known` applied to native stdout.
    A known difference that has gone away fails too, so stale entries get removed."""
    want, applied = expected_with_known(native.stdout, known)
    if applied and emulated.stdout == native.stdout:
        pytest.fail("pyunik now matches Linux on lines listed as known differences; "
                    "remove the entries:\n" + "\n".join(applied), pytrace=False)
    assert_same(Outcome(native.status, want, native.stderr), emulated,
                "known differences applied:\n" + "\n".join(applied) if applied else "")


SYSTEM_PYTHON3 = "/usr/bin/python3"


def python_script_both_ways(tmp_path, program: str, where: str, made: str):
    """program (a python3 script taking a directory to work in) run natively on
    tmp_path, then made (the file it creates there) removed, then under pyunik with
    tmp_path as /w (-v, writable), working in /w (where "volume") or in the guest's
    own /tmp (where "tmp"): (native, emulated)."""
    (tmp_path / "t.py").write_text(program)
    native = run_native([SYSTEM_PYTHON3, tmp_path / "t.py", tmp_path])
    assert native.status == 0 and native.stdout.endswith(b"done\n"), native
    os.unlink(tmp_path / made)
    emulated = run_pyunik([SYSTEM_PYTHON3, "/w/t.py", "/w" if where == "volume" else "/tmp"],
                          extra_opts=["-v", "%s:/w:rw" % tmp_path])
    assert_no_traceback(emulated)
    return native, emulated


def host_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a host process so far (/proc/<pid>/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle_cpu(pid: int, window: float = 0.3, limit: float = 10.0) -> None:
    """Wait until a host process has stopped using CPU for one window (it reached
    its wait), at most `limit` seconds: on a loaded machine a fixed sleep can end
    before the guest got there, and its last steps would count as idle cost. A
    process that never settles (a busy wait) is left to the caller's measurement."""
    import time
    deadline = time.monotonic() + limit
    last = host_cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(window)
        now = host_cpu_seconds(pid)
        if now - last < 0.01:
            return
        last = now


@pytest.fixture()
def tmpfs_scratch(tmp_path):
    """A fresh scratch directory for a native run, on tmpfs (/dev/shm) when there is
    one: the host filesystem closest to pyunik's ramfs."""
    if not os.access("/dev/shm", os.W_OK):
        yield tmp_path
        return
    d = Path(tempfile.mkdtemp(prefix="pyunik-native-", dir="/dev/shm"))
    yield d
    shutil.rmtree(d, ignore_errors=True)
