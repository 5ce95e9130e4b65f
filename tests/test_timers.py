"""Clocks, sleeps and timers: the timers guest program natively and under pyunik,
the interval timer on its own, and the host CPU a sleeping guest costs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import (BIN, REPO, assert_no_traceback, assert_same, host_cpu_seconds, run_native,
                      run_pyunik, settle_cpu)
from pyunik.hrtimer import IntervalTimer


@pytest.mark.parametrize("name", ["timers-musl", "timers-glibc"])
def test_timers_program_matches_native(name):
    """Every clock id and getres, CPU clocks by clock_getcpuclockid's encodings, CPU
    time growing with work (clock_gettime, getrusage, times), clock_nanosleep
    TIMER_ABSTIME, timerfd ticks (also through epoll and a blocking read), POSIX
    timers with overruns, SIGEV_THREAD_ID and SIGEV_NONE, a CPU-time timer, alarm,
    ITIMER_REAL ending pause() and a busy loop, ITIMER_VIRTUAL."""
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0 and b"SIGVTALRM 1" in native.stdout
    assert_same(native, emulated)


class FakeClock:
    def __init__(self):
        self.ns = 1000
        self.armed = []

    def arm(self, deadline, fire):
        handle = type("Handle", (), {"cancel": lambda self: None})()
        self.armed.append((deadline, fire))
        return handle


def test_interval_timer_counts_whole_periods():
    clock = FakeClock()
    fired = []
    timer = IntervalTimer(lambda: clock.ns, clock.arm, fired.append, lambda: clock.ns)
    timer.set(clock.ns + 100, 50)
    assert len(clock.armed) == 1 and timer.remaining() == 100
    clock.ns += 99
    assert timer.expire() == 0
    clock.ns += 1 + 120                   # the first expiry and two periods after it
    clock.armed[0][1](0)
    assert fired == [3] and timer.remaining() == 30 and len(clock.armed) == 2
    timer.set(0, 50)
    assert timer.expire() == 0 and timer.remaining() == 0 and timer.interval == 0


def test_cpu_timer_is_armed_again_until_its_clock_gets_there():
    clock = FakeClock()
    fired = []
    cpu = [0]
    timer = IntervalTimer(lambda: cpu[0], clock.arm, fired.append, lambda: clock.ns)
    timer.set(1000, 0)
    cpu[0] = 400                          # the wall deadline came, the CPU time did not
    clock.armed[-1][1](0)
    assert fired == [] and len(clock.armed) == 2
    cpu[0] = 1000
    clock.armed[-1][1](0)
    assert fired == [1] and timer.expiry == 0


@pytest.mark.skipif(shutil.which("busybox") is None, reason="no busybox")
def test_sleeping_guest_costs_no_host_cpu():
    """busybox sleep 6: once pyunik has started and the guest sleeps, pyunik uses under
    2% of a core over 1.5 s. The measurement starts when pyunik's CPU use settles (on
    a loaded machine its start-up can take longer than any fixed wait) and must end
    while the guest still sleeps."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "pyunik", "run", "-q", "--",
                             shutil.which("busybox"), "sleep", "6"], env=env, cwd=REPO)
    settle_cpu(proc.pid, limit=4.0)
    c0, t0 = host_cpu_seconds(proc.pid), time.monotonic()
    time.sleep(1.5)
    c1, t1 = host_cpu_seconds(proc.pid), time.monotonic()
    asleep = proc.poll() is None
    assert proc.wait(timeout=30) == 0
    assert time.monotonic() - start >= 6.0
    assert asleep, "the guest's sleep ended before the measurement did"
    assert (c1 - c0) / (t1 - t0) < 0.02
