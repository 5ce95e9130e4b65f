"""Threads, the scheduler, wait queues and futexes: guest programs run natively and
under pyunik and compared, python3's threading, and the wait queue and futex table
on their own."""

from __future__ import annotations

import os
import shutil
import time
from errno import EAGAIN, EINVAL, ETIMEDOUT

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik
from pyunik.errors import KernelError
from pyunik.kernel.futex import FutexTable
from pyunik.wait import WaitQueue, WouldBlock

VARIANTS = ["threads-musl", "threads-glibc", "threads-glibc-dyn", "threads-musl-pie"]


@pytest.mark.parametrize("name", VARIANTS)
def test_pthreads_program_matches_native(name):
    """Mutex counter, condvar producer/consumer, barrier, __thread, join values and a
    pipe between two threads that blocks for real."""
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0 and b"counter 80000" in native.stdout
    assert_same(native, emulated)


@pytest.mark.parametrize("name", ["cancel-musl", "cancel-glibc", "cancel-glibc-dyn",
                                  "cancel-musl-pie", "cancel-glibc-pie"])
def test_pthread_cancel_matches_native(name):
    """A thread cancelled while parked in read, and one cancelled at testcancel. The
    dynamic glibc build unwinds with libgcc_s.so.1, which libc.so.6 dlopens: the
    automatic image must hold it (loader/autoimage.py DLOPENED)."""
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0 and native.stdout.count(b": yes") == 2
    assert_same(native, emulated)


def test_automatic_image_holds_what_glibc_dlopens():
    """libgcc_s.so.1 goes in with libc.so.6 (found as dlopen finds it), though no
    DT_NEEDED names it; a static program gets no libraries at all."""
    from pyunik.loader.autoimage import auto_image_entries
    names = {os.path.basename(e.path) for e in auto_image_entries(str(BIN / "cancel-glibc-dyn"))}
    assert b"libc.so.6" in names and b"libgcc_s.so.1" in names
    static = {os.path.basename(e.path) for e in auto_image_entries(str(BIN / "cancel-glibc"))}
    assert b"libgcc_s.so.1" not in static


PY_THREADS = """
import threading, concurrent.futures as cf, os
r = []
ts = [threading.Thread(target=r.append, args=(i,)) for i in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sorted(r))
with cf.ThreadPoolExecutor(4) as ex:
    print(sum(ex.map(lambda x: x * x, range(200))))
ev = threading.Event()
threading.Timer(0.05, ev.set).start()
print(ev.wait(5))
print(len(os.listdir("/proc/self/task")) >= 1)
"""


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_python_threading_and_futures():
    native = run_native(["/usr/bin/python3", "-c", PY_THREADS])
    emulated = run_pyunik(["/usr/bin/python3", "-c", PY_THREADS], extra_opts=["-q"])
    assert_no_traceback(emulated)
    assert native.stdout.startswith(b"[0, 1, 2, 3]\n")
    assert_same(native, emulated)


def test_stdin_pipe_read_waits_on_the_host(tmp_path):
    """A read of an empty host pipe parks the thread; the scheduler's selectors wait
    wakes it when data comes."""
    import subprocess
    import sys
    from conftest import pyunik_command
    proc = subprocess.Popen(pyunik_command(["/bin/busybox", "head", "-c", "5"]),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    time.sleep(0.5)
    proc.stdin.write(b"hello world")
    proc.stdin.flush()
    out, _ = proc.communicate(timeout=30)
    assert out == b"hello" and proc.returncode == 0, sys.stderr


class Waiter:
    def __init__(self, bitset=0xFFFFFFFF):
        self.woken = 0
        self.futex_bitset = bitset
        self.futex_woken = False
        self.blocked = None

    def wake(self):
        self.woken += 1


def test_wait_queue_wakes_in_arrival_order():
    q = WaitQueue("a test")
    ws = [Waiter() for _ in range(4)]
    for w in ws:
        q.add(w)
    assert q.wake(2) == 2
    assert [w.woken for w in ws] == [1, 1, 0, 0]
    q.remove(ws[2])
    assert q.wake_all() == 1 and ws[3].woken == 1 and not q
    e = WouldBlock((q,), what="")
    assert e.what == "a test" and e.deadline is None


class Memory:
    """Four bytes of futex word at 0x1000, nothing else mapped."""

    def __init__(self, value):
        self.word = value.to_bytes(4, "little")

    def read(self, addr, size):
        if addr != 0x1000:
            raise KernelError(14)
        return self.word

    def write(self, addr, data):
        self.word = bytes(data)

    def find(self, addr):
        return None


class T:
    def __init__(self, mm):
        self.mm = mm


def test_futex_table_wait_wake_bitset_requeue():
    table = FutexTable()
    mm = Memory(5)
    t = T(mm)
    key = table.key(mm, 0x1000, True)
    with pytest.raises(KernelError) as e:
        table.wait(t, key, 0x1000, 6, 0xFFFFFFFF, None)     # the word is not 6
    assert e.value.errno == EAGAIN
    with pytest.raises(KernelError) as e:
        table.key(mm, 0x1002, True)
    assert e.value.errno == EINVAL
    with pytest.raises(WouldBlock) as w:
        table.wait(t, key, 0x1000, 5, 0xFFFFFFFF, time.monotonic_ns())
    with pytest.raises(KernelError) as e:
        w.value.retry(True)                                  # its deadline passed
    assert e.value.errno == ETIMEDOUT
    assert key not in table.queues
    a, b, c = Waiter(1), Waiter(2), Waiter(3)
    for x in (a, b, c):
        table._queue(key).add(x)
    assert table.wake(key, 5, bitset=2) == 2                 # b and c share bit 2
    assert (a.woken, b.woken, c.woken) == (0, 1, 1) and b.futex_woken
    assert table.wake(key, 0) == 1                           # FUTEX_WAKE of 0 wakes one
    d, e2 = Waiter(), Waiter()

    class B:
        pass
    for x in (d, e2):
        x.blocked = B()
        x.blocked.wait = WouldBlock((table._queue(key),))
        table._queue(key).add(x)
    key2 = table.key(mm, 0x2000, True)
    assert table.requeue(key, key2, 1, 5) == 2               # one woken, one moved
    assert d.woken == 1 and table.queues[key2].waiters == [e2]
    assert key not in table.queues


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_deadlock_of_two_threads_is_reported():
    """Main joins a thread that waits for a lock main holds: nothing can ever wake
    either, so one line names each thread and what it waits for, and exit 137."""
    code = ("import threading; l = threading.Lock(); l.acquire(); "
            "t = threading.Thread(target=l.acquire); t.start(); t.join()")
    emulated = run_pyunik(["/usr/bin/python3", "-c", code])
    assert_no_traceback(emulated)
    assert emulated.status == 137
    err = emulated.stderr.decode()
    assert "would wait forever (thread " in err and err.count("a futex") == 2, err


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_host_sigint_ends_a_sleeping_guest_at_once():
    """The sleep parks the thread and the kernel waits in selectors; a host SIGINT
    wakes that wait, so pyunik ends within half a second, as the guest would (on a
    loaded machine, half a second per runnable task beyond each core: pyunik must be
    scheduled to see the signal and to exit, and still ends long before the 10 s
    sleep would)."""
    import signal
    import subprocess
    from conftest import pyunik_command
    code = "import time; print('ready', flush=True); time.sleep(10)"
    proc = subprocess.Popen(pyunik_command(["/usr/bin/python3", "-c", code], extra_opts=["-q"]),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"ready\n"      # the guest runs: signals reach it
    time.sleep(0.3)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    took = time.monotonic() - start
    assert took < 0.5 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)), took
    assert proc.returncode == -signal.SIGINT


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_host_sigint_reaches_a_guest_that_makes_no_system_call():
    """A busy guest python3 (no system call in its loop) gets the terminal's SIGINT
    at once: its handler runs and `KeyboardInterrupt` ends it, as natively."""
    import signal
    import subprocess
    from conftest import pyunik_command
    code = "print('ready', flush=True)\nwhile True: pass"
    argv = ["/usr/bin/python3", "-c", code]
    outs = []
    for cmd in (argv, pyunik_command(argv, extra_opts=["-q"])):
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        outs.append((proc.returncode, err.decode().splitlines()[-1:]))
    assert outs[0] == (-signal.SIGINT, ["KeyboardInterrupt"])
    assert outs[1] == outs[0]


def test_strace_names_each_thread():
    """With several threads, each strace line starts [pid TID], as strace -f's do;
    a call that waited is printed when it completes."""
    emulated = run_pyunik([BIN / "threads-musl"], extra_opts=["--strace"])
    assert_no_traceback(emulated)
    assert emulated.status == 0
    err = emulated.stderr.decode()
    assert "[pid 1000] clone(" in err and "[pid 1001] " in err, err[-2000:]
    assert "FUTEX_WAIT" in err and "exit(0) = ?" in err


@pytest.mark.skipif(shutil.which("xz") is None or not shutil.which("xz").startswith("/usr/bin"),
                    reason="Debian's xz-utils not installed")
def test_xz_with_two_threads_round_trips(tmp_path):
    """`xz -T2` (two compressor threads, futexes between them) compresses a file in a
    -v directory; the host's xz decompresses it back to the input, and the trace shows
    the threads were made."""
    import hashlib
    import random
    import subprocess
    data = b"".join(b"%08x %s\n" % (i, hashlib.sha256(b"%d" % (i % 97)).hexdigest().encode())
                    for i in range(60000))              # ~4.3 MB: more than one xz block
    random.Random(7).shuffle(lines := data.splitlines(keepends=True))
    data = b"".join(lines)
    (tmp_path / "in.txt").write_bytes(data)
    trace = tmp_path / "trace.txt"
    out = run_pyunik(["/usr/bin/xz", "-T2", "--block-size=1MiB", "-c", "/data/in.txt"],
                     extra_opts=["-q", "-v", "%s:/data" % tmp_path, "--strace=%s" % trace])
    assert_no_traceback(out)
    assert out.status == 0, out.stderr
    back = subprocess.run(["xz", "-d", "-c"], input=out.stdout, capture_output=True,
                          check=True).stdout
    assert back == data
    (tmp_path / "out.xz").write_bytes(out.stdout)
    listed = subprocess.run(["xz", "-l", "--robot", str(tmp_path / "out.xz")],
                            capture_output=True)
    blocks = [line for line in listed.stdout.decode().splitlines() if line.startswith("totals")]
    assert blocks and int(blocks[0].split()[2]) >= 4       # the work was split in blocks
    calls = trace.read_text()
    assert calls.count("clone3(") + calls.count("clone(") >= 2   # by two worker threads
