"""`pyunik run --strace` prints what the arguments point at as the real strace(1)
does: signal sets, struct sigaction, clone's and clone3's arguments, futex's by
operation, timespecs, stack_t, wait statuses, and a bad pointer or a size strace
does not read as the address. The tracefmt guest makes
these calls with buffers at fixed addresses (globals of a static binary), so its
lines compare exactly with `strace -f` of the same binary run natively."""

from __future__ import annotations

import re

import pytest

from conftest import assert_no_traceback
from test_strace import pyunik_trace, real_strace

PROGRAM = "tracefmt"
# The calls tracefmt makes for their arguments' sake.
PICKED = re.compile(r"^(rt_sigaction|rt_sigprocmask|rt_sigpending|rt_sigsuspend|signalfd4|"
                    r"clone|clone3|futex|nanosleep|clock_nanosleep|sigaltstack|wait4)\(")
# the wait for the thread's CLONE_CHILD_CLEARTID: made or not, and its answer, as the
# thread's exit and the wait race
JOIN_WAIT = re.compile(r"^futex\(0x[0-9a-f]+, FUTEX_WAIT, 1, NULL\)")

# Lines that knowingly differ: native line -> pyunik's, with why.
KNOWN_LINES: dict[str, tuple[str, str]] = {}


def _normalised(lines: list[str]) -> list[str]:
    """The picked lines, with the pids that differ between runs replaced."""
    out = []
    for line in lines:
        line = re.sub(r"^\[pid +\d+\] ", "", line)
        if not PICKED.match(line) or JOIN_WAIT.match(line):
            continue
        line = re.sub(r"parent_tid=\[\d+\]", "parent_tid=[TID]", line)
        line = re.sub(r"^wait4\(\d+, ", "wait4(PID, ", line)
        out.append(re.sub(r"^((clone3?|wait4)\(.*\)) = \d+$", r"\1 = TID", line))
    return out


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_lines_match_strace_exactly(run_pyunik, tmp_path, libc):
    program = ["guest_images/bin/%s-%s" % (PROGRAM, libc)]
    native = _normalised(real_strace(tmp_path, program))
    lines, out = pyunik_trace(run_pyunik, tmp_path, program)
    assert out.status == 0
    emulated = _normalised(lines)
    expected = [KNOWN_LINES.get(line, (line,))[0] for line in native]
    assert len(native) >= 70 and any("FUTEX_OP_CMP_GT<<24" in line for line in native)
    assert any("WTERMSIG(s) == SIGKILL" in line for line in native)
    # a signal pending when rt_sigsuspend is called: the kernel's answer, shown
    assert "rt_sigsuspend([TERM], 8) = ? ERESTARTNOHAND (To be restarted if no handler)" \
        in native
    assert emulated == expected, "\n".join(
        "native %s\npyunik %s" % (n, e) for n, e in zip(expected, emulated) if n != e)


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_tracefmt_output_matches_native(run_pyunik, run_native, libc):
    """The calls themselves answer as Linux does (the trace shows it only)."""
    program = "guest_images/bin/%s-%s" % (PROGRAM, libc)
    native = run_native([program])
    emulated = run_pyunik([program])
    assert_no_traceback(emulated)
    assert native.status == 0 and b"clone3 pidfd: pid, reaped yes" in native.stdout
    assert emulated.stdout == native.stdout and emulated.status == native.status


@pytest.mark.parametrize("args,shown", [
    # clone's arguments by name, in strace's order; the exit signal after the flags
    ([0x11, 0, 0, 0, 0], "clone(child_stack=NULL, flags=SIGCHLD) = 5"),
    ([0, 0, 0, 0, 0], "clone(child_stack=NULL, flags=0) = 5"),
    ([0x400000, 0, 0, 0, 0], "clone(child_stack=NULL, flags=0x400000 /* CLONE_??? */) = 5"),
    ([0x100 | 0x11 | (1 << 40), 0x1000, 0, 0, 0],
     "clone(child_stack=0x1000, flags=CLONE_VM|0x10000000000|SIGCHLD) = 5"),
    ([0x80000 | 0x1000000, 0, 0, 0x2000, 0x3000],
     "clone(child_stack=NULL, flags=CLONE_SETTLS|CLONE_CHILD_SETTID, tls=0x3000, "
     "child_tidptr=0x2000) = 5"),
])
def test_clone_arguments(args, shown):
    from pyunik.kernel.syscalls.table import SyscallTable
    from pyunik.trace.strace import format_call
    assert format_call(SyscallTable().by_name("clone"), args, 5, None) == shown


def test_clone3_size_strace_does_not_read():
    """Below CLONE_ARGS_SIZE_VER0 strace prints the address without reading."""
    from pyunik.kernel.syscalls.table import SyscallTable
    from pyunik.trace.strace import format_call
    row = SyscallTable().by_name("clone3")
    assert format_call(row, [0x5000, 32], -22, None) == \
        "clone3(0x5000, 32) = -1 EINVAL (Invalid argument)"
    assert format_call(row, [0, 88], -14, None) == \
        "clone3(NULL, 88) = -1 EFAULT (Bad address)"


def test_errno_names_are_linux_own():
    """Of two names for one errno, strace prints Linux's (EDEADLK, EOPNOTSUPP)."""
    from pyunik.trace.strace import format_result
    assert format_result(None, -35) == "-1 EDEADLK (Resource deadlock avoided)"
    assert format_result(None, -95) == "-1 EOPNOTSUPP (Operation not supported)"
    assert format_result(None, -11) == "-1 EAGAIN (Resource temporarily unavailable)"
