"""Signals: the guest program that shows what a handler sees (guest_images/src/
sigframe.c) and the one that waits for signals (sigwait.c), run natively and under
pyunik and compared; host signals to pyunik reaching the guest."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from conftest import assert_no_traceback, assert_same, host_env_for_pyunik, pyunik_command

LIBCS = ["musl", "glibc"]
SIGFRAME_LINES = 80


def _sigframe(libc: str) -> list[str]:
    return ["guest_images/bin/" + "sigframe" + "-" + libc]


def _check_native(outcome) -> None:
    lines = outcome.stdout.decode().splitlines()
    assert outcome.status == 0, outcome
    assert len(lines) == SIGFRAME_LINES and lines[-1] == "done", lines
    assert not any("unexpected" in line or "not reached" in line for line in lines), lines


@pytest.mark.parametrize("libc", LIBCS)
def test_sigframe_runs_natively(run_native, libc):
    """The yardstick itself works on Linux: every case reached, exit 0."""
    _check_native(run_native(_sigframe(libc)))


@pytest.mark.parametrize("libc", LIBCS)
def test_sigframe_matches_linux(run_native, run_pyunik, libc):
    native = run_native(_sigframe(libc))
    _check_native(native)
    emulated = run_pyunik(_sigframe(libc))
    assert_no_traceback(emulated)
    assert_same(native, emulated)


@pytest.mark.parametrize("libc", LIBCS)
def test_signals_ending_waits_match_linux(run_native, run_pyunik, libc):
    """guest_images/src/sigwait.c: read with and without SA_RESTART, nanosleep's time
    left, poll never restarted, sigsuspend, pause, sigwaitinfo/sigtimedwait, queued
    real-time values, tgkill to one thread, a process-directed signal taken by the
    thread that does not block it, kill's errors, siglongjmp out of SIGSEGV."""
    argv = ["guest_images/bin/" + "sigwait" + "-" + libc]
    native = run_native(argv)
    assert native.status == 0 and native.stdout.endswith(b"done\n"), native
    emulated = run_pyunik(argv)
    assert_no_traceback(emulated)
    assert_same(native, emulated)


def _interrupted(argv, after: float, ready: bytes | None = None):
    """Start argv, send SIGINT once it has printed `ready` (or after `after` s);
    (seconds from the signal to its end, exit status, stderr)."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=host_env_for_pyunik())
    if ready is not None:
        assert proc.stdout.readline() == ready
    time.sleep(after)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    return time.monotonic() - start, proc.returncode, err


SLEEPER = "import time; print('ready', flush=True); time.sleep(10)"


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="no python3")
def test_host_sigint_reaches_a_sleeping_python_as_keyboardinterrupt():
    """The guest's own SIGINT handler runs: its sleep ends with EINTR, python3
    prints KeyboardInterrupt's traceback and dies by SIGINT, as it does natively."""
    native = _interrupted(["/usr/bin/python3", "-c", SLEEPER], 0.2, b"ready\n")
    emulated = _interrupted(pyunik_command(["/usr/bin/python3", "-c", SLEEPER],
                                           extra_opts=["-q"]), 0.2, b"ready\n")
    assert emulated[0] < 0.5, emulated
    assert emulated[1] == native[1] == -signal.SIGINT
    assert emulated[2] == native[2] and b"KeyboardInterrupt" in native[2]


@pytest.mark.skipif(not os.path.exists("/bin/busybox"), reason="no busybox")
def test_timeout_sigint_ends_a_guest_sleep_at_once():
    """`timeout -s INT 2 pyunik run -- busybox sleep 10` takes about 2 s."""
    start = time.monotonic()
    p = subprocess.run(["timeout", "-s", "INT", "2"]
                       + pyunik_command(["/bin/busybox", "sleep", "10"], extra_opts=["-q"]),
                       env=host_env_for_pyunik(), capture_output=True, timeout=30)
    took = time.monotonic() - start
    assert p.returncode == 124 and took < 4, (p, took)


@pytest.mark.parametrize("libc", LIBCS)
def test_many_signals_delivered_and_returned(run_native, run_pyunik, libc):
    """benchmarks/run.py row 12's program: 2000 handler runs, each returning through
    rt_sigreturn without a stop of the run; every one counted."""
    argv = ["guest_images/bin/" + "sigloop" + "-" + libc, "2000"]
    native = run_native(argv)
    assert native.stdout == b"done 2000\n"
    assert_same(native, run_pyunik(argv))
