"""Deterministic mode (`pyunik run --deterministic[=SEED]`, kernel/clocks.py): the same
run twice gives byte-identical stdout and --strace, threads included; the clocks are
virtual (sleeps end at once, the wall clock starts at 2024-01-01); randomness follows
the seed."""

from __future__ import annotations

import shutil
import time

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik

DET = ["--deterministic"]


def twice(argv, opts=DET, **kw):
    """Two runs with --strace (to stderr, after the guest's own stderr lines)."""
    runs = [run_pyunik(argv, extra_opts=list(opts) + ["--strace"], **kw) for _ in range(2)]
    for r in runs:
        assert_no_traceback(r)
    return runs


def assert_identical(a, b):
    assert a.status == b.status
    assert a.stdout == b.stdout
    assert a.stderr == b.stderr          # the strace, line for line


@pytest.mark.parametrize("name", ["threads-musl", "threads-glibc"])
def test_threads_program_runs_identically(name):
    """Mutexes, condvars, a barrier, a pipe between threads and a busy wait only
    preemption can end: the switches land at the same instructions every time."""
    a, b = twice([BIN / name])
    assert a.status == 0 and b"counter 80000" in a.stdout
    assert a.stderr.count(b"[pid ") > 100        # the trace has the threads in it
    assert_identical(a, b)


def test_compute_threads_identical():
    """Four threads that make no system call while they compute: only the
    instruction budget switches them."""
    a, b = twice([BIN / "tcompute-musl", "4", "3000000"])
    assert a.status == 0
    assert_identical(a, b)


def test_timers_program_identical():
    """Every clock id, sleeps, itimers (real and virtual), POSIX timers, timerfd."""
    runs = [run_pyunik([BIN / "timers-musl"], extra_opts=DET) for _ in range(2)]
    assert runs[0].status == 0
    assert runs[0].stdout == runs[1].stdout and runs[0].stderr == runs[1].stderr


PY = """
import os, random, threading, time
out = []
def work(i):
    for j in range(3):
        out.append((i, j, random.random()))
        time.sleep(0.01 * (i + 1))
ts = [threading.Thread(target=work, args=(i,)) for i in range(3)]
m0 = time.monotonic()
[t.start() for t in ts]
[t.join() for t in ts]
print(out)
print(time.time(), time.monotonic() - m0, time.process_time())
print(os.urandom(8).hex(), hash("abc"))
"""


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_python_threading_random_and_time():
    a, b = twice(["/usr/bin/python3", "-c", PY])
    assert a.status == 0, a.stderr[-2000:]
    assert_identical(a, b)
    other = run_pyunik(["/usr/bin/python3", "-c", PY], extra_opts=["--deterministic=1"])
    assert other.status == 0
    # another seed: other random numbers, hash seed and urandom bytes
    mine, theirs = a.stdout.splitlines(), other.stdout.splitlines()
    assert mine[0] != theirs[0] and mine[2] != theirs[2]
    assert float(mine[1].split()[0]) - 1704067200 < 1       # the clock starts at 2024


def test_busybox_date_is_the_virtual_epoch():
    date = shutil.which("busybox")
    if date is None:
        pytest.skip("no busybox")
    r = run_pyunik([date, "date", "-u"], extra_opts=DET)
    assert r.status == 0
    assert r.stdout == b"Mon Jan  1 00:00:00 UTC 2024\n"


def test_sleep_ends_at_once_and_moves_the_clock():
    """A 100 s sleep finishes at once in host time; the guest sees 100 s pass."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("no busybox")
    start = time.monotonic()
    r = run_pyunik([busybox, "sh", "-c", "cat /proc/uptime; sleep 100; cat /proc/uptime"],
                   extra_opts=DET)
    if r.status != 0 and b"fork" in r.stderr:
        r = run_pyunik(["/usr/bin/python3", "-c",
                        "import time; a = time.monotonic(); time.sleep(100); "
                        "print(int(time.monotonic() - a))"], extra_opts=DET)
        assert r.stdout == b"100\n"
    else:
        first, second = (float(line.split()[0]) for line in r.stdout.splitlines())
        assert 100 <= second - first < 101
    assert time.monotonic() - start < 60


def test_guest_files_get_virtual_times(tmp_path):
    """Files the guest makes (tmpfs) and pyunik's own (/etc, /proc) carry the
    virtual clock's times."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("no busybox")
    r = run_pyunik([busybox, "ls", "-l", "--full-time", "/etc/passwd", "/proc/self/stat"],
                   extra_opts=DET)
    assert r.status == 0
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 2 and all(" 2024-01-01 00:00:00" in line for line in lines), lines


def test_api_deterministic_seed():
    """pyunik.run(..., deterministic=SEED): /dev/urandom follows the seed."""
    import pyunik
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("no busybox")
    argv = [busybox, "od", "-An", "-N16", "-x", "/dev/urandom"]
    a, b, c = (pyunik.run(argv, env={}, capture_output=True, deterministic=seed)
               for seed in (7, 7, 8))
    assert a.status == b.status == c.status == 0
    assert a.stdout == b.stdout != c.stdout and len(a.stdout) > 30


@pytest.mark.parametrize("name", ["tswitch-musl", "tswitch-glibc"])
@pytest.mark.parametrize("mode", ["pingpong", "create"])
def test_switch_and_create_programs(name, mode):
    """The benchmark's futex ping-pong and create+join loops (benchmarks rows 17, 18):
    the native output, normally and in deterministic mode, where two runs trace the
    same."""
    native = run_native([BIN / name, mode, "300"])
    assert native.status == 0 and native.stdout == b"done 300\n"
    plain = run_pyunik([BIN / name, mode, "300"])
    assert_same(native, plain)
    a, b = twice([BIN / name, mode, "300"])
    assert a.stdout == native.stdout
    assert_identical(a, b)
