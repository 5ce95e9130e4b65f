"""`pyunik run --strace` prints wait4's struct rusage, clone3's bytes past the 88 of
struct clone_args and a SIGIO's si_code, si_band and si_fd as the real strace(1)
does. guest_images/src/tracemore.c makes the calls; its lines are compared with
`strace -f` of the same binary run natively, with what differs between any two runs
(pids, stack addresses, CPU times) replaced."""

from __future__ import annotations

import re

import pytest

from conftest import assert_no_traceback
from test_strace import pyunik_trace, real_strace

PROGRAM = "tracemore"
PICKED = re.compile(r"^(wait4|clone3)\(|^--- SIGIO ")


def _normalised(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        line = re.sub(r"^\[pid +\d+\] ", "", line)
        if not PICKED.match(line):
            continue
        line = re.sub(r"^wait4\(\d+, ", "wait4(PID, ", line)
        line = re.sub(r"0x7ff[0-9a-f]+", "STACK", line)
        line = re.sub(r"tv_sec=\d+, tv_usec=\d+", "tv_sec=S, tv_usec=US", line)
        out.append(re.sub(r"^((clone3|wait4)\(.*\)) = [1-9]\d*$", r"\1 = PID", line))
    return out


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_lines_match_strace(run_pyunik, tmp_path, libc):
    program = ["guest_images/bin/%s-%s" % (PROGRAM, libc)]
    native = _normalised(real_strace(tmp_path, program))
    lines, out = pyunik_trace(run_pyunik, tmp_path, program)
    assert out.status == 0
    rusage = "{ru_utime={tv_sec=S, tv_usec=US}, ru_stime={tv_sec=S, tv_usec=US}, ...}"
    assert "wait4(PID, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, %s) = PID" % rusage \
        in native
    assert "wait4(PID, STACK, WNOHANG, STACK) = 0" in native
    assert any('/* bytes 88..95 */ "\\x88\\x77\\x66\\x55\\x44\\x33\\x22\\x11"}, 96)' in line
               for line in native)
    assert any('/* bytes 88..199 */ "' + "\\x00" * 32 + '"...}, 200)' in line
               for line in native)
    assert "--- SIGIO {si_signo=SIGIO, si_code=POLL_IN, si_band=65, si_fd=3} ---" in native
    assert _normalised(lines) == native


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_output_matches_native(run_pyunik, run_native, libc):
    program = ["guest_images/bin/%s-%s" % (PROGRAM, libc)]
    native = run_native(program)
    emulated = run_pyunik(program)
    assert_no_traceback(emulated)
    assert native.status == 0 and b"si_band 65, si_fd 3" in native.stdout
    assert emulated.stdout == native.stdout and emulated.status == native.status
