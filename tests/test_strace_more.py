"""`pyunik run --strace` prints wait4's struct rusage, clone3's bytes past the 88 of
struct clone_args, a SIGIO's si_code, si_band and si_fd, fcntl's arguments and
results by command, open flags, and the pollfds and fd sets of poll, ppoll, select
and pselect6 with what they return, and epoll's events as the real strace(1) does.
guest_images/src/tracemore.c makes the calls; its lines are compared with `strace
-f` of the same binary run natively, with what differs between any two runs (pids,
stack addresses, CPU times) replaced."""

from __future__ import annotations

import re

import pytest

from conftest import assert_no_traceback
from test_strace import picked, pyunik_trace, real_strace

PROGRAM = "tracemore"
PICKED = re.compile(r"^(wait4|clone3|fcntl|poll|ppoll|select|pselect6|epoll_\w+)\(|"
                    r"^openat\(AT_FDCWD, \"/nonexistent|^--- SIGIO ")


# what differs between two runs: pids, stack addresses, CPU times
VARYING = [(r"^wait4\(\d+, ", "wait4(PID, "), (r"0x7ff[0-9a-f]+", "STACK"),
           (r"(ru_[us]time=)\{tv_sec=\d+, tv_usec=\d+\}", r"\1{tv_sec=S, tv_usec=US}"),
           (r"F_OWNER_PID, pid=\d+", "F_OWNER_PID, pid=PID"), (r"F_SETOWN, \d+", "F_SETOWN, PID"),
           (r"^((clone3|wait4)\(.*\)) = [1-9]\d*$", r"\1 = PID"),
           (r"left \{tv_sec=\d+, tv_(n|u)sec=\d+\}", r"left {LEFT}")]


def _normalised(lines: list[str]) -> list[str]:
    return picked(lines, PICKED, VARYING)


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
    for line in ["fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)",
                 "fcntl(3, F_SETFD, FD_CLOEXEC|0x2) = 0",
                 "fcntl(3, F_GETSIG) = 36 (SIGRT_4)",
                 "fcntl(3, F_GETFL) = 0xc00 (flags O_RDONLY|O_APPEND|O_NONBLOCK)",
                 "fcntl(3, 0x3039 /* F_??? */, 0x7) = -1 EINVAL (Invalid argument)",
                 "fcntl(5, F_GET_SEALS) = 0x6 (seals F_SEAL_SHRINK|F_SEAL_GROW)",
                 "fcntl(5, F_GETLK, {l_type=F_UNLCK, l_whence=SEEK_CUR, l_start=10, "
                 "l_len=20, l_pid=0}) = 0",
                 'openat(AT_FDCWD, "/nonexistent/tracemore", O_RDONLY|O_SYNC|O_PATH|FASYNC) '
                 "= -1 ENOENT (No such file or directory)",
                 "poll([{fd=99, events=POLLIN}], 1, 0) = 1 ([{fd=99, revents=POLLNVAL}])",
                 "select(9, [5 7], [6], NULL, {tv_sec=5, tv_usec=0}) = 2 (in [7], out [6], "
                 "left {LEFT})",
                 "pselect6(9, [5 7], NULL, NULL, {tv_sec=5, tv_nsec=0}, {sigmask=[USR1], "
                 "sigsetsize=8}) = 1 (in [7], left {LEFT})",
                 "epoll_wait(9, [{events=EPOLLIN, data={u32=1432778632, "
                 "u64=1234605616436508552}}], 4, 0) = 1"]:
        assert line in native, line
    assert _normalised(lines) == native


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_output_matches_native(run_pyunik, run_native, libc):
    program = ["guest_images/bin/%s-%s" % (PROGRAM, libc)]
    native = run_native(program)
    emulated = run_pyunik(program)
    assert_no_traceback(emulated)
    assert native.status == 0 and b"si_band 65, si_fd 3" in native.stdout
    assert emulated.stdout == native.stdout and emulated.status == native.status
