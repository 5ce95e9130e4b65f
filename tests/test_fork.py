"""Processes: fork, vfork, clone without CLONE_VM, wait4/waitid, exit and reaping, and
one scheduler for every engine. Guest programs run natively and under pyunik and
compared; the address-space copy checked on its own."""

from __future__ import annotations

import shutil
import time

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik
from pyunik.abi import linux as L
from pyunik.cpu.engine import Engine
from pyunik.mm.address_space import AddressSpace

BUSYBOX = shutil.which("busybox")


def same_as_native(argv, quiet: bool = False, **native_kw):
    """argv run natively and under pyunik (-q: no warnings), compared; the native run."""
    native = run_native(argv, **native_kw)
    emulated = run_pyunik(argv, extra_opts=["-q"] if quiet else [])
    assert_no_traceback(emulated)
    assert_same(native, emulated)
    return native


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_forks_program_matches_native(libc):
    """forks: every case prints the same facts (no pids) natively and under pyunik."""
    argv = [BIN / ("forks-" + libc)]
    native = same_as_native(argv)
    assert native.status == 0 and native.stdout.endswith(b"done\n")


@pytest.mark.skipif(BUSYBOX is None, reason="no busybox")
@pytest.mark.parametrize("script", [
    "(exit 3); echo $?",
    "x=$(echo hi; echo there); echo \"$x\"; (echo sub; exit 0) && echo ok",
    "(kill -TERM $$) 2>/dev/null; echo never",          # a subshell's $$ is the shell's
    "f() { return 4; }; (f); echo $?; (exit 7) & wait $!; echo $?",
])
def test_busybox_subshells(script):
    """Subshells, command substitution and background jobs need fork only."""
    same_as_native([BUSYBOX, "sh", "-c", script])


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_python_os_fork():
    code = """
import os, signal
parent = os.getpid()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.write(w, b"child knows its parent: %d" % (os.getppid() == parent))
    os._exit(5)
os.close(w)
print(os.read(r, 100).decode())
_, status = os.waitpid(pid, 0)
print("exit code", os.waitstatus_to_exitcode(status))
pid = os.fork()
if pid == 0:
    signal.pause()
os.kill(pid, signal.SIGTERM)
print("killed by", -os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""
    argv = ["/usr/bin/python3", "-c", code]
    native = same_as_native(argv, quiet=True)
    assert native.stdout == b"child knows its parent: 1\nexit code 5\nkilled by 15\n"


@pytest.mark.skipif(BUSYBOX is None, reason="no busybox")
def test_survivors_are_killed_when_the_first_process_exits():
    """The run ends with the first process: a background child sleeping on is
    killed (as a pid namespace's processes are when its init exits)."""
    start = time.monotonic()
    out = run_pyunik([BUSYBOX, "sh", "-c", "sleep 30 & echo started"])
    assert_no_traceback(out)
    assert out.stdout == b"started\n" and out.status == 0
    assert time.monotonic() - start < 20


def test_parent_waiting_costs_no_cpu():
    """A parent parked in wait4 while its child sleeps a second: the run's host CPU
    time stays far below its wall time (the idle wait, not a spin)."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = run_pyunik([BIN / "forks-musl", "sleep"])
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert out.stdout == b"slept, code 2\n"
    assert wall >= 1.0
    assert cpu < wall - 0.7, (cpu, wall)


@pytest.mark.skipif(BUSYBOX is None, reason="no busybox")
def test_a_busy_child_does_not_starve_its_parent():
    """A child computing forever; the parent's own loop still ends and kills it.
    Whether the shell also says "Terminated" depends on a race Linux leaves open: the
    child may die before `wait` starts (the shell then reports the job itself) or
    during it; either answer is Linux's, on both sides."""
    script = ("(while :; do :; done) & i=0; while [ $i -lt 200 ]; do i=$((i+1)); done; "
              "kill $!; wait $!; echo $?")
    argv = [BUSYBOX, "sh", "-c", script]
    native = run_native(argv)
    emulated = run_pyunik(argv)
    assert_no_traceback(emulated)
    for out in (native, emulated):
        assert (out.status, out.stdout) == (0, b"143\n")
        assert out.stderr in (b"", b"Terminated\n"), out.stderr


@pytest.mark.skipif(BUSYBOX is None, reason="no busybox")
def test_strace_names_each_process():
    out = run_pyunik([BUSYBOX, "sh", "-c", "(exit 2); exit 1"], extra_opts=["--strace"])
    assert out.status == 1
    lines = out.stderr.decode().splitlines()
    assert any(line.startswith("[pid ") and line.endswith("+++ exited with 2 +++")
               for line in lines), lines
    assert lines[-1].endswith("+++ exited with 1 +++"), lines[-1]


def test_deadlock_across_processes_names_each(make_program):
    """Parent waits for its child, the child reads a pipe nobody writes: the
    deadlock line names both processes' waits, and the run ends as if killed."""
    from test_raw_programs import asm
    code = asm(
        "b8 16000000", "bf 00104000", "0f05",          # pipe(0x401000)
        "b8 39000000", "0f05",                         # fork()
        "4885c0", "75 15",                             # test rax, rax; jnz parent
        "8b3c25 00104000", "31c0",                     # child: read(fds[0],
        "be 00114000", "ba 01000000", "0f05",          #   0x401100, 1): never
        "48c7c7 ffffffff", "31f6", "31d2", "4d31d2",   # parent: wait4(-1, 0, 0, 0)
        "b8 3d000000", "0f05",
        "31ff", "b8 3c000000", "0f05")                 # exit(0)
    path = make_program("deadlock", code)
    out = run_pyunik([path])
    assert out.status == 128 + 9, out
    line = out.stderr.decode()
    assert "would wait forever" in line and "a child to change state" in line \
        and "a pipe" in line and "deadlock" in line, line


# ---- the address space copy on its own ----------------------------------------------------

def test_address_space_fork_copies_private_and_shares_shared():
    parent = AddressSpace(Engine(), 64 << 20)
    private = parent.mmap(0, 3 * L.PAGE_SIZE, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS)
    shared = parent.mmap(0, L.PAGE_SIZE, 3, L.MAP_SHARED | L.MAP_ANONYMOUS)
    parent.set_initial_brk(0x600000)
    assert parent.do_brk(0x600000 + 2 * L.PAGE_SIZE) == 0x602000
    parent.write(private + L.PAGE_SIZE, b"private")
    parent.write(shared, b"shared")
    parent.write(0x600010, b"heap")
    child = parent.fork(Engine())
    try:
        assert [(v.start, v.end, v.prot) for v in child.vmas] == \
            [(v.start, v.end, v.prot) for v in parent.vmas]
        assert child.mapped == parent.mapped and child.brk == parent.brk
        assert child.read(private + L.PAGE_SIZE, 7) == b"private"
        assert child.read(private, 4) == b"\0" * 4            # never touched: zero
        assert child.read(0x600010, 4) == b"heap"
        child.write(private + L.PAGE_SIZE, b"CHILD..")
        child.write(0x600010, b"HEAP")
        child.write(shared, b"SHARED")
        assert parent.read(private + L.PAGE_SIZE, 7) == b"private"
        assert parent.read(0x600010, 4) == b"heap"
        assert parent.read(shared, 6) == b"SHARED"
        child.munmap(shared, L.PAGE_SIZE)                     # the parent's stays
        parent.write(shared, b"still")
        assert parent.read(shared, 5) == b"still"
        assert child.engine.read(private + L.PAGE_SIZE, 7) == b"CHILD.."   # in its CPU
    finally:
        child.free_all()
        parent.free_all()


# ---- with execve: pipelines, posix_spawn, subprocess -----------------------------------------

FIFTY = " | ".join(["cat"] * 50)


@pytest.mark.skipif(BUSYBOX is None, reason="no busybox")
@pytest.mark.parametrize("script", [
    "echo a | cat",
    "for f in b a c; do echo $f; done | sort | head -2; echo $?",
    "x=$(echo one two | wc -w); echo $x; false | true; echo $?",
    "echo deep | " + FIFTY,
    "(echo out; echo err >&2) 2>&1 | cat | wc -l",
])
def test_busybox_pipelines(script):
    same_as_native([BUSYBOX, "sh", "-c", script])


@pytest.mark.skipif(BUSYBOX is None, reason="no busybox")
def test_busybox_traps_jobs_and_redirections():
    """A trap on a signal and on EXIT, a background job killed by its job number and
    waited for (143), a background subshell's status through wait, output appended
    to a file and read back through a redirection, a failed redirection's status."""
    script = ('trap "echo got USR1" USR1; kill -USR1 $$; '
              'sleep 10 & kill %1; wait $!; echo "killed: $?"; '
              '(exit 7) & wait $!; echo "bg status: $?"; '
              'f=$(mktemp); echo line1 > $f; echo line2 >> $f; wc -l < $f; rm $f; '
              'cat < /nonexistent 2>/dev/null || echo "redirect failed: $?"; '
              'trap "echo bye" EXIT')
    native = same_as_native([BUSYBOX, "sh", "-c", script])
    assert native.stdout == (b"got USR1\nkilled: 143\nbg status: 7\n2\n"
                             b"redirect failed: 1\nbye\n")


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_python_subprocess():
    """_posixsubprocess's vfork and exec, pipes for the output, the exit code."""
    code = ("import subprocess, sys; "
            "r = subprocess.run(['%s', 'sh', '-c', 'echo hi; exit 3'], capture_output=True); "
            "print(r.stdout, r.returncode)" % BUSYBOX)
    argv = ["/usr/bin/python3", "-c", code]
    native = same_as_native(argv, quiet=True)
    assert native.stdout == b"b'hi\\n' 3\n"


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_python_multiprocessing_pool_of_two():
    """multiprocessing's fork start method: a pool of two worker processes fed through
    pipes, their results back through another, the workers ended at the pool's end."""
    code = ("import multiprocessing as mp, os\n"
            "def work(x): return x * x, os.getpid() != parent\n"
            "parent = os.getpid()\n"
            "with mp.get_context('fork').Pool(2) as pool:\n"
            "    results = pool.map(work, range(200), chunksize=10)\n"
            "print(sum(r for r, _ in results), all(child for _, child in results))\n")
    native = same_as_native(["/usr/bin/python3", "-c", code], quiet=True)
    assert native.stdout == b"2646700 True\n"


def test_forkloop_counts_its_cycles():
    """forkloop (benchmarks row 16): 30 fork/exit/wait cycles after touching 4 MiB."""
    argv = [BIN / "forkloop-musl", "30", "4"]
    native = run_native(argv)
    emulated = run_pyunik(argv)
    assert native.stdout == emulated.stdout == b"forks 30 mb 4\n"
    assert emulated.status == 0 and emulated.stderr.startswith(b"first_fork_us ")


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_job_control_matches_native(libc):
    """jobs: process groups and sessions, stop and continue seen by wait and SIGCHLD,
    a parent's wait4 under an interval timer."""
    argv = [BIN / ("jobs-" + libc)]
    # Natively in a process group of its own, as a shell runs a job: its parent (this
    # test) is then in another group of the same session, so the group is never
    # orphaned. Left in the test runner's group, whether SIGTSTP stops it depends on
    # how the runner was started (a runner whose parent left, or a setsid'd one, has
    # an orphaned group, where Linux discards SIGTSTP); pyunik has no orphaned-group
    # rule (kernel/jobs.py), so its guest always stops.
    native = same_as_native(argv, process_group=0)
    assert native.status == 0 and native.stdout.endswith(b"done\n")


@pytest.mark.skipif(BUSYBOX is None, reason="no busybox")
def test_a_stopped_first_process_is_a_reported_deadlock():
    """The first process stops itself and nothing can continue it: the deadlock
    line says so and the run ends as if killed."""
    out = run_pyunik([BUSYBOX, "sh", "-c", "kill -STOP $$; echo never"])
    assert out.status == 128 + 9
    assert b"stopped by SIGSTOP" in out.stderr and b"deadlock" in out.stderr, out.stderr


TCPGRP = """
import os, signal
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
print("foreground is ours", os.tcgetpgrp(0) == os.getpgrp())
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.tcsetpgrp(0, os.getpid())
    os.write(w, b"%d" % (os.tcgetpgrp(0) == os.getpid()))
    os._exit(0)
os.waitpid(pid, 0)
print("child took the foreground", os.read(r, 10).decode())
os.tcsetpgrp(0, os.getpgrp())
print("taken back", os.tcgetpgrp(0) == os.getpgrp())
for bad in (-1, 0x3ffffff0):
    try:
        os.tcsetpgrp(0, bad)
    except OSError as e:
        print("tcsetpgrp", bad, e.strerror)
"""


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_tcsetpgrp_on_the_console():
    """On a terminal that is the session's controlling terminal (pyunik's, natively
    the program's): tcgetpgrp/tcsetpgrp move the foreground between groups."""
    import fcntl
    import os
    import pty
    import subprocess
    import termios
    from conftest import pyunik_command, host_env_for_pyunik

    def run(argv, env):
        master, slave = pty.openpty()

        def ctty():
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        p = subprocess.run(argv, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=ctty, env=env, timeout=60)
        os.close(slave)
        os.close(master)
        return p
    argv = ["/usr/bin/python3", "-c", TCPGRP]
    native = run(argv, None)
    emulated = run(pyunik_command(argv, extra_opts=["-q"]), host_env_for_pyunik())
    assert native.stdout.startswith(b"foreground is ours True\n"), native
    assert emulated.stdout == native.stdout, emulated.stderr
