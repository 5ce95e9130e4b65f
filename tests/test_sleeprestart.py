"""A sleep or poll that a stop signal interrupts and SIGCONT resumes goes on with
the time that was left, as on Linux: nanosleep, a relative clock_nanosleep and poll
through restart_syscall(2) (their restart block keeps the first deadline), select,
ppoll and pselect6 by the time left written back into their timeout, an absolute
clock_nanosleep by its own deadline, a timed FUTEX_WAIT through restart_syscall
(futex_wait_restart); epoll_wait, rt_sigtimedwait and semtimedop fail with EINTR
(man 7 signal).

guest_images/src/sleeprestart.c waits 1 s in each call, stopped from 0.5 s to 0.8 s
by a child: each call ends "on time" (0.95 s to 1.4 s after it began; one that
waited its whole time again would end at 1.8 s). The bound is generous: timing
here is a behaviour, not a figure. Under --strace the restarts show as strace shows
them (`? ERESTART_RESTARTBLOCK`, `restart_syscall(<... resuming interrupted
nanosleep ...>)`), compared with `strace -f` of the same binary."""

from __future__ import annotations

import re

import pytest

from conftest import assert_no_traceback
from test_strace import pyunik_trace, real_strace

LIBCS = ["musl", "glibc"]
EXPECTED = b"""\
nanosleep: 0 ok, on time, rem written
clock_nanosleep: 0 ok, on time, rem written
clock_nanosleep abs: 0 ok, on time
poll: 0 ok, on time
ppoll: 0 ok, on time, timeout left 0.000000000
select: 0 ok, on time, timeout left 0.000000
pselect6: 0 ok, on time, timeout left 0.000000000
epoll_wait: -1 EINTR, early
futex: -1 ETIMEDOUT, on time
rt_sigtimedwait: -1 EINTR, early
semtimedop: -1 EINTR, early
"""


PROGRAM = "sleeprestart"


def _program(libc: str) -> str:
    return "guest_images/bin/%s-%s" % (PROGRAM, libc)


def test_native_resumes_with_the_time_left(run_native):
    native = run_native([_program("musl")])
    assert native.status == 0
    assert native.stdout == EXPECTED, native.stdout.decode()


@pytest.mark.parametrize("libc", LIBCS)
def test_resumes_with_the_time_left(run_pyunik, libc):
    emulated = run_pyunik([_program(libc)])
    assert_no_traceback(emulated)
    assert emulated.status == 0
    assert emulated.stdout == EXPECTED, emulated.stdout.decode()


WAITS = re.compile(r"^(nanosleep|clock_nanosleep|poll|ppoll|select|pselect6|epoll_wait|"
                   r"futex|rt_sigtimedwait|semtimedop|restart_syscall)\((.*)\) = (.*)$")


def _restarts(lines: list[str]) -> list[str]:
    """The parent's waits (the child's naps are nanosleeps of less than 0.4 s): each
    as `name = result`, restart_syscall with the call it resumes. A wait that is
    interrupted again before it ends (strace's SIGCONT and SIGCHLD reach a traced
    task at moments that vary) counts once."""
    out: list[tuple[str, str]] = []
    call = ""
    for line in lines:
        line = re.sub(r"^\[pid +\d+\] ", "", line)
        m = WAITS.match(line)
        if m is None:
            continue
        name, args, result = m.groups()
        if name == "nanosleep" and not args.startswith("{tv_sec=0, tv_nsec=400000000}") or \
                name == "futex" and "FUTEX_WAIT_PRIVATE, 0, {tv_sec=0" not in args:
            continue
        if name == "restart_syscall":
            assert re.fullmatch(r"<\.\.\. resuming interrupted (%s|restart_syscall) \.\.\.>"
                                % call, args), line
            name = "restart_syscall(%s)" % call
        else:
            call = name
        if out and out[-1][1].startswith("?") and result.startswith("?"):
            continue
        out.append((name, result))
    return ["%s = %s" % pair for pair in out]


def test_restarts_show_as_strace_shows_them(run_pyunik, tmp_path):
    program = [_program("musl"), "trace"]
    native = _restarts(real_strace(tmp_path, program))
    lines, out = pyunik_trace(run_pyunik, tmp_path, program)
    assert out.status == 0
    assert native == [
        "nanosleep = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        "restart_syscall(nanosleep) = 0",
        "clock_nanosleep = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        "restart_syscall(clock_nanosleep) = 0",
        "clock_nanosleep = ? ERESTARTNOHAND (To be restarted if no handler)",
        "clock_nanosleep = 0",
        "poll = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        "restart_syscall(poll) = 0",
        "ppoll = ? ERESTARTNOHAND (To be restarted if no handler)",
        "ppoll = 0 (Timeout)",
        "select = ? ERESTARTNOHAND (To be restarted if no handler)",
        "select = 0 (Timeout)",
        "pselect6 = ? ERESTARTNOHAND (To be restarted if no handler)",
        "pselect6 = 0 (Timeout)",
        "epoll_wait = -1 EINTR (Interrupted system call)",
        "futex = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        "restart_syscall(futex) = -1 ETIMEDOUT (Connection timed out)",
        "rt_sigtimedwait = -1 EINTR (Interrupted system call)",
        "semtimedop = -1 EINTR (Interrupted system call)",
    ], native
    assert _restarts(lines) == native
