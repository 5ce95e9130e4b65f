"""`pyunik run` as a user meets it: programs that cannot run, options, argv passing.

A program that cannot be started gives exactly one line on stderr and a shell's
status (127 not found, 126 not executable), never a Python traceback.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys

import pytest

from conftest import (BIN, GUEST_ENV, PYUNIK, REPO, TIMEOUT, Outcome, assert_no_traceback,
                      assert_same, host_env_for_pyunik, pyunik_command, run_cli, run_native,
                      run_pyunik, shell_status)

HELLO = BIN / "hello-musl"


def _patched(offset: int, value: bytes) -> bytes:
    data = bytearray(HELLO.read_bytes())
    data[offset:offset + len(value)] = value
    return bytes(data)


def _garbage() -> bytes:
    # deterministic "random" bytes: a sha256 chain
    out, h = b"", b"pyunik"
    while len(out) < 8192:
        h = hashlib.sha256(h).digest()
        out += h
    return out


BAD_FILES = {
    "text_file": b"hello world\nnot a program\n",          # no "#!": ENOEXEC
    "elf32": _patched(4, b"\x01"),                              # EI_CLASS = ELFCLASS32
    "arm": _patched(18, struct.pack("<H", 0x28)),              # e_machine = EM_ARM
    "truncated": HELLO.read_bytes()[:100],
    "header_only": HELLO.read_bytes()[:64],
    "garbage": _garbage(),
    "empty": b"",
    "elf_magic_only": b"\x7fELF",
    "big_endian": _patched(5, b"\x02"),                         # EI_DATA = ELFDATA2MSB
    "relocatable": _patched(16, struct.pack("<H", 1)),         # e_type = ET_REL
    "core_file": _patched(16, struct.pack("<H", 4)),           # e_type = ET_CORE
    "no_phdrs": _patched(56, struct.pack("<H", 0)),            # e_phnum = 0
    "phdrs_beyond_eof": _patched(32, struct.pack("<Q", 1 << 40)),  # e_phoff far away
}


def assert_one_line_error(out: Outcome, status: int, *fragments: str) -> str:
    assert_no_traceback(out)
    assert out.stdout == b""
    lines = out.stderr_lines()
    assert len(lines) == 1 and out.stderr.endswith(b"\n"), \
        "exactly one line on stderr, got:\n" + out.stderr.decode(errors="replace")
    for f in fragments:
        assert f in lines[0], lines[0]
    assert out.status == status, "status %d, want %d (%s)" % (out.status, status, lines[0])
    return lines[0]


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_not_an_executable(run_pyunik, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    path.chmod(0o755)
    out = run_pyunik([path])
    line = assert_one_line_error(out, 126, "exec format error")
    assert line.startswith("pyunik: %s: exec format error" % path), line


def test_directory_is_not_executable(run_pyunik, tmp_path):
    out = run_pyunik([tmp_path])
    assert_one_line_error(out, 126, "exec format error")


def test_missing_program(run_pyunik, tmp_path):
    out = run_pyunik([tmp_path / "no-such-program"])
    assert_one_line_error(out, 127, str(tmp_path / "no-such-program"))


def test_missing_program_on_path(run_pyunik):
    out = run_pyunik(["pyunik-no-such-command-anywhere"])
    assert_one_line_error(out, 127, "pyunik-no-such-command-anywhere")


def test_file_without_execute_permission(run_pyunik, run_native, tmp_path):
    """execve(2) of a regular file with no execute bit fails with EACCES (also for
    root), and a shell answers 126 "Permission denied"."""
    path = tmp_path / "hello-noexec"
    shutil.copy(HELLO, path)
    path.chmod(0o644)
    with pytest.raises(PermissionError):
        run_native([path])
    out = run_pyunik([path])
    assert_one_line_error(out, 126)
    assert "permission denied" in out.stderr.decode().lower()


def _limit_address_space():
    # Protects the host if pyunik tries to build a huge structure for the segment:
    # it then dies of MemoryError quickly instead of swapping the machine to death.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_absurd_segment_size(run_pyunik, run_native, tmp_path):
    """A PT_LOAD whose p_memsz is absurd (the file is otherwise hello-musl).

    Linux finds out after the point of no return and kills the new process with
    SIGSEGV (139). pyunik may do the same, or refuse the file up front with one line
    and 126 as for any other malformed ELF; it must not exhaust host memory or
    print a traceback."""
    data = bytearray(HELLO.read_bytes())
    phoff = struct.unpack_from("<Q", data, 32)[0]
    struct.pack_into("<Q", data, phoff + 40, 1 << 40)     # first PT_LOAD's p_memsz: 1 TiB
    path = tmp_path / "absurd"
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    assert run_native([path]).status == 139
    out = run_pyunik([path], extra_opts=["-m", "64M"], preexec_fn=_limit_address_space)
    assert_no_traceback(out)
    assert out.stdout == b""
    if out.status == 126:
        assert len(out.stderr_lines()) == 1, out.stderr
    else:
        assert out.status == 139, out.stderr.decode(errors="replace")[-2000:]


# ---- options -----------------------------------------------------------------------

@pytest.mark.parametrize("size", ["bogus", "0", "12Q", "", "1.5.2G"])
def test_bad_memory_size(run_pyunik, size):
    out = run_pyunik([HELLO], extra_opts=["-m", size])
    assert_no_traceback(out)
    assert out.stdout == b"", "the guest must not run"
    assert out.status != 0
    assert len(out.stderr_lines()) == 1, out.stderr


@pytest.mark.parametrize("size", ["4k", "1M", "8M"])
def test_memory_too_small_to_start(run_pyunik, size):
    """Less memory than the program and its 8 MiB stack need: execve fails (ENOMEM)
    with one line, as a shell reports a failed exec."""
    out = run_pyunik([HELLO], extra_opts=["-m", size])
    assert_one_line_error(out, 126)


def test_unwritable_strace_file(run_pyunik, tmp_path):
    out = run_pyunik([HELLO], extra_opts=["--strace=%s" % (tmp_path / "no" / "such" / "x")])
    assert_no_traceback(out)
    assert out.stdout == b""
    assert out.status != 0 and len(out.stderr_lines()) == 1


def test_no_subcommand_prints_help():
    out = run_cli([])
    assert_no_traceback(out)
    assert out.status != 0
    assert b"usage" in (out.stdout + out.stderr).lower()


def test_version():
    out = run_cli(["--version"])
    assert out.status == 0 and out.stdout.startswith(b"pyunik ")


# ---- argv and environment reach the guest unchanged --------------------------------

ARGS = "guest_images/bin/args-musl"


@pytest.mark.parametrize("args", [
    ["--strace"], ["-q", "--strace", "x"], ["--", "x"], ["a", "--", "--strace"],
    ["--clear-env"], ["-m", "1"]], ids=lambda a: " ".join(a))
def test_guest_options_without_separator(run_native, args):
    """`pyunik run [OPTIONS] PROGRAM ARGS...` with no `--`: everything after PROGRAM
    belongs to the guest, verbatim."""
    native = run_native([ARGS] + args)
    cmd = pyunik_command([], GUEST_ENV)[:-1]          # ... --clear-env -e K=V (no --)
    out = run_cli(cmd[len(PYUNIK):] + [ARGS] + args)
    assert_same(native, out)


@pytest.mark.parametrize("args", [["--", "x"], ["--"], ["--", "--"]],
                         ids=lambda a: " ".join(a))
def test_guest_dashdash_after_separator(run_native, run_pyunik, args):
    """`pyunik run -- PROGRAM -- x`: the guest's own `--` is an argument like any."""
    assert_same(run_native([ARGS] + args), run_pyunik([ARGS] + args))


def test_env_passthrough_by_name(run_native, monkeypatch):
    """`-e NAME` (docker habit) passes the host's value of NAME."""
    monkeypatch.setenv("PYUNIK_FROM_HOST", "host value")
    native = run_native([ARGS], env={"PYUNIK_FROM_HOST": "host value"})
    out = run_cli(["run", "--clear-env", "-e", "PYUNIK_FROM_HOST", "--", ARGS])
    assert_same(native, out)


def test_host_environment_passes_by_default(run_native, monkeypatch):
    """Without --clear-env the guest gets pyunik's own environment (as qemu-user)."""
    monkeypatch.setenv("PYUNIK_HOST_ONLY", "yes")
    out = run_cli(["run", "--", ARGS])
    assert out.status == 1
    assert b"env PYUNIK_HOST_ONLY=yes\n" in out.stdout


def test_environment_is_the_one_pyunik_was_started_with():
    """`env -i pyunik run -- /usr/bin/env` shows what native `env -i /usr/bin/env`
    shows: nothing Python adds to its own os.environ at start-up (LC_CTYPE=C.UTF-8
    when no locale is set, PEP 538). PYTHONPATH is in both: pyunik needs it here."""
    env = {"PYTHONPATH": str(REPO)}
    native = run_native(["/usr/bin/env"], env=env)
    p = subprocess.run(PYUNIK + ["run", "--", "/usr/bin/env"], env=env, capture_output=True,
                       cwd=REPO, timeout=TIMEOUT)
    assert native.stdout == b"PYTHONPATH=%s\n" % bytes(REPO)
    assert_same(native, Outcome(shell_status(p.returncode), p.stdout, p.stderr))


def _kill_self(sig: int) -> bytes:
    """kill(getpid(), sig), then exit(0) if it survives."""
    return (struct.pack("<BI", 0xB8, 39) + b"\x0f\x05"           # getpid
            + b"\x89\xc7" + struct.pack("<BI", 0xBE, sig)            # mov edi, eax; esi=sig
            + struct.pack("<BI", 0xB8, 62) + b"\x0f\x05"             # kill
            + b"\x31\xff" + struct.pack("<BI", 0xB8, 231) + b"\x0f\x05")   # exit_group(0)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1, signal.SIGABRT,
                                 signal.SIGKILL], ids=lambda s: signal.Signals(s).name)
def test_guest_killed_by_a_signal_ends_pyunik_by_it(make_program, sig):
    """A guest killed by signal N ends pyunik by signal N (as qemu-user does), so a
    parent sees what it sees natively: Python's returncode -N, a shell's $? 128+N."""
    path = make_program("killself", _kill_self(sig))
    native = subprocess.run([path], capture_output=True, timeout=TIMEOUT)
    emulated = subprocess.run(PYUNIK + ["run", "--", path], env=host_env_for_pyunik(),
                              capture_output=True, timeout=TIMEOUT)
    assert native.returncode == -sig
    assert (emulated.returncode, emulated.stdout, emulated.stderr) == (-sig, b"", b"")
    shell = "%s; echo $?" % path
    native_sh = subprocess.run(["sh", "-c", shell], capture_output=True, timeout=TIMEOUT)
    emulated_sh = subprocess.run(["sh", "-c", shell.replace(path, " ".join(
        PYUNIK + ["run", "--", path]))], env=host_env_for_pyunik(), capture_output=True,
        timeout=TIMEOUT)
    assert native_sh.stdout == emulated_sh.stdout == b"%d\n" % (128 + sig)


def test_crash_report_then_death_by_sigsegv(run_native):
    """A faulting guest: the crash report on stderr, then pyunik dies of SIGSEGV
    without a core file, as the native process dies of it."""
    native = subprocess.run([str(BIN / "crash-musl")], capture_output=True, timeout=TIMEOUT)
    emulated = subprocess.run(PYUNIK + ["run", "--", str(BIN / "crash-musl")],
                              env=host_env_for_pyunik(), capture_output=True, timeout=TIMEOUT)
    assert native.returncode == emulated.returncode == -signal.SIGSEGV
    assert emulated.stderr.startswith(native.stderr)
    assert b"killed by SIGSEGV" in emulated.stderr
    assert b"Fatal Python error" not in emulated.stderr


def test_warnings_without_quiet(run_pyunik):
    """errnotest tries syscall numbers 1000, 500 and -1 on purpose: one warning line
    per number, and -ENOSYS to the guest (its stdout is that of the -q run)."""
    loud = run_pyunik(["guest_images/bin/errnotest-musl"])
    quiet = run_pyunik(["guest_images/bin/errnotest-musl"], extra_opts=["-q"])
    assert loud.stdout == quiet.stdout and loud.status == quiet.status == 0
    assert quiet.stderr == b""
    lines = loud.stderr_lines()
    assert lines.count("pyunik: warning: unknown syscall 1000") == 1
    assert lines.count("pyunik: warning: unknown syscall 500") == 1
    assert len(lines) == 3, lines
    assert all(line.startswith("pyunik: warning: unknown syscall ") for line in lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_host_signal_reaches_a_busy_guest(sig, tmp_path):
    """Ctrl-C (or a kill of pyunik) while the guest computes without a syscall: the
    signal's default action ends the guest, as it would a native process, rather
    than waiting for the CPU to come back to Python; pyunik then ends by the same
    signal, as the native process would."""
    import time
    trace = tmp_path / "trace"
    p = subprocess.Popen([sys.executable, "-m", "pyunik", "run", "-q", "--strace=%s" % trace,
                          str(BIN / "loop-musl"), "100000000000"],
                         env=host_env_for_pyunik(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (trace.exists() and trace.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.05)          # the guest's first syscalls: it is running now
    time.sleep(0.3)
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    assert p.returncode == -sig, err.decode()
    assert b"Traceback" not in err


@pytest.mark.parametrize("opts", [["-w", "/nonexistent"], ["-w", "/etc/passwd"],
                                  ["--root", "/nonexistent"], ["--image", "/etc/passwd"],
                                  ["-v", "onlyone"], ["-v", "/tmp:relative"]],
                         ids=lambda o: " ".join(o))
def test_bad_namespace_options_are_one_line(opts):
    r = run_cli(["run"] + opts + ["--", str(HELLO)])
    assert r.status == 2
    assert_no_traceback(r)
    assert len(r.stderr.decode().strip().splitlines()) == 1
    assert r.stdout == b""


def _script(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


@pytest.mark.skipif(not os.path.exists("/bin/busybox"), reason="busybox not installed")
def test_shell_script_runs_its_interpreter(tmp_path):
    """binfmt_script: "#!/bin/busybox sh" runs busybox with the script's path."""
    path = _script(tmp_path, "s.sh", '#!/bin/busybox sh\necho "$0 $1 $#"\nexit 3\n')
    native = run_native([path, "arg"])
    emulated = run_pyunik([path, "arg"], extra_opts=["-q"])
    assert native.status == 3
    assert_same(native, emulated)


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="python3 not installed")
def test_script_interpreter_with_an_argument(tmp_path):
    path = _script(tmp_path, "s.py", "#!/usr/bin/python3 -S\nimport sys; print(sys.argv)\n")
    native = run_native([path, "x"])
    emulated = run_pyunik([path, "x"], extra_opts=["-q"])
    assert_same(native, emulated)


def test_script_with_a_missing_interpreter(tmp_path):
    path = _script(tmp_path, "s", "#!/nonexistent/interpreter\n")
    r = run_pyunik([path], extra_opts=["-q"])
    assert r.status == 127
    assert_no_traceback(r)
    assert len(r.stderr.decode().strip().splitlines()) == 1


def test_elf_with_a_missing_interpreter(tmp_path):
    """PT_INTERP names a file that does not exist: execve fails with ENOENT, so the
    shell's 127 (not ENOEXEC's 126), with one line on stderr, as natively."""
    data = bytearray((BIN / "hello-glibc-dyn").read_bytes())
    at = data.find(b"/lib64/ld-linux-x86-64.so.2")
    assert at > 0
    data[at:at + 5] = b"/nope"
    path = tmp_path / "badinterp"
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    with pytest.raises(FileNotFoundError):      # natively execve itself fails: ENOENT
        run_native([str(path)])
    r = run_pyunik([str(path)], extra_opts=["-q"])
    assert r.status == 127
    assert_no_traceback(r)
    assert r.stderr.decode().strip() == "pyunik: %s: no such file or directory" % path


def test_a_profiler_around_the_command_gets_to_write_its_profile(tmp_path):
    """`python -m cProfile -o F -m pyunik run ...`: the command ends the process
    itself only as the process's entry point; under a profiler it returns, and the
    profiler writes F (cli._entry_point)."""
    import pstats
    profile = tmp_path / "pyunik.prof"
    p = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "pyunik",
                        "run", "-q", "guest_images/bin/hello-musl"], cwd=REPO,
                       env=host_env_for_pyunik(), capture_output=True, timeout=TIMEOUT)
    assert p.stdout == b"Hello from pyunik guest!\n", p.stderr
    functions = {name for _, _, name in pstats.Stats(str(profile)).stats}
    assert "cmd_run" in functions and "emu_start" in functions
