"""`pyunik run --strace` shows signals whose action is to ignore them as strace(1)
does: a traced task does not discard them at sending (sig_ignored is false for a
ptraced task), so strace prints `--- SIGCHLD {...} ---` (with si_pid, si_status and
the times) for a child's exit with SIGCHLD at its default, `--- SIGWINCH ---` and
`--- SIGURG ---` sent to oneself, SIGUSR1 set to SIG_IGN, and a blocked SIGCHLD when
it is unblocked. guest_images/src/traceign.c's lines compared with `strace -f` of the
same binary run natively."""

from __future__ import annotations

import re

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik
from test_strace import picked, pyunik_trace, real_strace

PICKED = re.compile(r"^(--- SIG(CHLD|WINCH|URG|USR1) |wait4\(|kill\(\d+, SIG(WINCH|URG|USR1)\)|"
                    r"rt_sigprocmask\(SIG_UNBLOCK, \[CHLD\])")


def _normalised(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        line = re.sub(r"^\[pid +\d+\] ", "", line)
        if not PICKED.match(line):
            continue
        line = re.sub(r"(si_pid=|wait4\(|kill\()\d+", r"\1PID", line)
        line = re.sub(r"\) = \d+$", ") = PID", line) if line.startswith("wait4(") else line
        # the child's CPU time in ticks: 0 natively, more when emulation is slow
        out.append(re.sub(r"si_utime=\d+, si_stime=\d+", "si_utime=T, si_stime=T", line))
    return out


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_ignored_signals_shown_as_strace_shows_them(run_pyunik, tmp_path, libc):
    program = ["guest_images/bin/traceign-" + libc]
    native = _normalised(real_strace(tmp_path, program))
    lines, out = pyunik_trace(run_pyunik, tmp_path, program)
    assert out.status == 0
    assert native == [
        "wait4(PID, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = PID",
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=PID, si_uid=0, "
        "si_status=3, si_utime=T, si_stime=T} ---",
        "kill(PID, SIGWINCH) = 0",
        "--- SIGWINCH {si_signo=SIGWINCH, si_code=SI_USER, si_pid=PID, si_uid=0} ---",
        "kill(PID, SIGURG) = 0",
        "--- SIGURG {si_signo=SIGURG, si_code=SI_USER, si_pid=PID, si_uid=0} ---",
        "kill(PID, SIGUSR1) = 0",
        "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=PID, si_uid=0} ---",
        "wait4(PID, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGTERM}], 0, NULL) = PID",
        "rt_sigprocmask(SIG_UNBLOCK, [CHLD], NULL, 8) = 0",
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=PID, si_uid=0, "
        "si_status=SIGTERM, si_utime=T, si_stime=T} ---",
    ], "\n".join(native)
    assert _normalised(lines) == native, "\n".join(lines)


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_untraced_run_matches_native(libc):
    """Without --strace the ignored signals are dropped at sending, as before."""
    native = run_native([BIN / ("traceign-" + libc)])
    emulated = run_pyunik([BIN / ("traceign-" + libc)])
    assert_no_traceback(emulated)
    assert native.stdout == b"status 0xf\n"
    assert_same(native, emulated)


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_fault_lines_name_their_codes_as_strace(run_pyunik, tmp_path, libc):
    """A fault's line names its si_code (SEGV_MAPERR, FPE_INTDIV; SI_KERNEL for int3)
    and prints a null si_addr as NULL: guest_images/src/sigtrapinfo.c's signals."""
    program = ["guest_images/bin/sigtrapinfo-" + libc]

    def signal_lines(lines):
        # the pids, and the child's CPU time in ticks (0 natively, more when
        # emulation is slow), as _normalised replaces them
        return picked(lines, re.compile(r"--- SIG"), [
            (r"(si_pid=)\d+", r"\1PID"),
            (r"si_utime=\d+, si_stime=\d+", "si_utime=T, si_stime=T")])
    native = signal_lines(real_strace(tmp_path, program))
    lines, out = pyunik_trace(run_pyunik, tmp_path, program)
    assert out.status == 0
    assert "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x1234} ---" in native
    assert "--- SIGTRAP {si_signo=SIGTRAP, si_code=SI_KERNEL, si_addr=NULL} ---" in native
    assert signal_lines(lines) == native, "\n".join(lines)
