"""A thread's start and end where pyunik's shortest paths for them decline or must
answer as the general way does (rt_sigprocmask's invoker in
kernel/syscalls/signal.py, clone's in kernel/threads.py, a thread's exit and the
hand-over to the next thread in kernel/sched.py): guest_images/src/thrpaths.c runs
natively and under pyunik (musl and glibc) and prints the same, plainly, under
--strace (whose dispatcher takes the general way for every call) and under
--deterministic (whose runs end at a wait instead of handing the engine over in the
syscall hook). In-process, the shortest paths are shown to be taken by the common
calls and declined by the rest."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import BIN, REPO, assert_no_traceback, assert_same, run_native, run_pyunik

VARIANTS = ["thrpaths-musl", "thrpaths-glibc"]


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("opts", [[], ["--strace"], ["--deterministic"]],
                         ids=["plain", "strace", "deterministic"])
def test_thread_paths_match_native(name, opts):
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name], extra_opts=opts)
    assert_no_traceback(emulated)
    assert native.status == 0 and native.stdout.endswith(b"done\n"), native
    # the native run itself shows the semantics checked
    assert b"block, old unwritable: EFAULT mask 0x200\n" in native.stdout
    assert b"pending, unblock USR1: 0 old 0x200 handled 1\n" in native.stdout
    assert b"thread, parent_tid unmapped: tid yes, ran 1, ptid 0\n" in native.stdout
    assert b"timed join, private: tids yes, ran 1, wait returned ETIMEDOUT\n" in native.stdout
    if opts == ["--strace"]:
        assert b"clone(" in emulated.stderr
        assert (emulated.status, emulated.stdout) == (native.status, native.stdout)
    else:
        assert_same(native, emulated)


_COUNTED = """
import os, sys
import pyunik
from pyunik.kernel import threads
from pyunik.kernel.syscalls import signal
counts = {"mask_all": 0, "mask_general": 0, "clone_all": 0, "clone_general": 0,
          "exit_all": 0, "exit_general": 0}
mask_invoker, clone_invoker, exit_invoker = signal.mask_invoker, threads.clone_invoker, \\
    threads.exit_invoker

def counting(name, general):
    def invoke(t, regs):
        counts[name] += 1
        return general(t, regs)
    return invoke

signal.mask_invoker = lambda general: counting(
    "mask_all", mask_invoker(counting("mask_general", general)))
threads.clone_invoker = lambda invoke: counting(
    "clone_all", clone_invoker(counting("clone_general", invoke)))
threads.exit_invoker = lambda sched, invoke: counting(
    "exit_all", exit_invoker(sched, counting("exit_general", invoke)))
r, w = os.pipe()
status = pyunik.run([sys.argv[1]], stdout=w, quiet=True)
os.close(w)
sys.stdout.buffer.write(os.read(r, 1 << 20))
sys.stderr.write("status %d %s" % (status, " ".join("%s=%d" % kv for kv in counts.items())))
"""


def _counted(program: str) -> tuple[bytes, dict]:
    p = subprocess.run([sys.executable, "-c", _COUNTED, program], cwd=REPO,
                       capture_output=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    words = p.stderr.decode().rsplit("\n", 1)[-1].split()
    assert words[:2] == ["status", "0"], words
    return p.stdout, {key: int(value) for key, value in (w.split("=") for w in words[2:])}


def test_shortest_paths_taken_and_declined():
    """thrpaths-musl makes 19 rt_sigprocmask calls: 11 declined (6 with a bad how or
    size, 5 with a signal pending) and 8 answered by the shortest path; and 16
    clones: 3 declined (two bad combinations of flags, a fork-like one) and 13
    threads made by the shortest path; and 15 exits: the 13 threads' by the
    shortest path, the fork-like child's and the main thread's, each its
    process's last, declined."""
    out, counts = _counted(str(BIN / "thrpaths-musl"))
    assert out.endswith(b"done\n")
    assert (counts["mask_general"], counts["mask_all"]) == (11, 19), counts
    assert (counts["clone_general"], counts["clone_all"]) == (3, 16), counts
    assert (counts["exit_general"], counts["exit_all"]) == (2, 15), counts
