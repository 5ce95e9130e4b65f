"""Several programs in one address space (`pyunik run --apps`, kernel/apps.py): OSv's
command line, each program its own process (pid, argv, environment, fd table, break)
on one engine, and what sharing the address space means (a neighbour's write)."""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import BIN, GUEST_ENV, assert_no_traceback, run_cli, run_native

import pyunik


def apps(line: str, *opts: str):
    cmd = ["run", "--clear-env"]
    for k, v in GUEST_ENV.items():
        cmd += ["-e", "%s=%s" % (k, v)]
    return run_cli(cmd + list(opts) + ["--apps", line])


def b(name: str) -> str:
    return "guest_images/bin/" + name


@pytest.mark.parametrize("first,second", [
    ("hello-musl-pie", "args-glibc-dyn"),
    ("args-glibc-pie", "hello-glibc-dyn"),
    ("hello-musl", "args-musl-pie"),
])
def test_two_apps_one_after_the_other_match_native(first, second):
    """`a; b x 'y z'`: b starts when a has exited; each prints what it prints
    natively, in order; the status is the first failing one's."""
    r = apps("%s; %s x 'y z'" % (b(first), b(second)))
    assert_no_traceback(r)
    n1 = run_native([b(first)])
    n2 = run_native([b(second), "x", "y z"])
    assert r.stdout == n1.stdout + n2.stdout
    assert r.status == (n1.status or n2.status)


def test_three_apps_background_and_foreground_statuses():
    """`a &` runs in the background; the run waits for it (OSv waits for every
    app); the status is the first failing app's in command-line order."""
    r = apps("%s exit 3 300 & %s exit 0 & %s exit 5 50" % (
        b("neighbour-glibc-dyn"), b("neighbour-musl-pie"), b("neighbour-glibc-pie")))
    assert_no_traceback(r)
    assert sorted(r.stdout.decode().splitlines()) == ["exit 0", "exit 3", "exit 5"]
    # the slow background one finished after the foreground one
    assert r.stdout.decode().splitlines()[-1] == "exit 3"
    assert r.status == 3


def test_sequence_after_background():
    """`a & b; c`: c waits for b only, a may still run."""
    r = apps("%s exit 0 2000 & %s exit 0 10; %s exit 4" % (
        b("neighbour-musl-pie"), b("neighbour-glibc-pie"), b("neighbour-glibc-dyn")))
    assert_no_traceback(r)
    lines = r.stdout.decode().splitlines()
    assert lines == ["exit 0", "exit 4", "exit 0"]
    assert r.status == 4


def test_each_app_its_own_pid_and_pyunik_as_parent():
    r = apps("%s ids & %s ids & %s ids" % (b("neighbour-musl"), b("neighbour-glibc-dyn"),
                                          b("neighbour-musl-pie")))
    assert_no_traceback(r)
    found = re.findall(rb"pid (\d+) ppid (\d+)", r.stdout)
    assert len(found) == 3
    assert len({pid for pid, _ in found}) == 3
    assert {ppid for _, ppid in found} == {b"1"}
    assert r.status == 0


def test_separate_fd_tables():
    """One app's close(1) leaves the other's fd 1 open."""
    r = apps("%s closeout /tmp/closed & %s waitout /tmp/closed" % (
        b("neighbour-glibc-pie"), b("neighbour-musl-pie")))
    assert_no_traceback(r)
    assert b"closeout: closed my fd 1" in r.stderr
    assert r.stdout == b"waitout: my fd 1 is open\n"
    assert r.status == 0


def test_each_app_its_own_break():
    """brk moves each app's own heap, after its own image."""
    r = apps("%s heap & %s heap & %s heap" % (b("neighbour-glibc-pie"), b("neighbour-musl-pie"),
                                             b("neighbour-glibc-dyn")))
    assert_no_traceback(r)
    assert r.stdout.decode().splitlines() == ["heap: grew and shrank ok"] * 3
    assert r.status == 0


def test_one_apps_exit_does_not_end_another():
    """The first app exits (7) at once; the other goes on and finishes."""
    r = apps("%s exit 7 & %s exit 0 300" % (b("neighbour-musl-pie"), b("neighbour-glibc-dyn")))
    assert_no_traceback(r)
    assert r.stdout.decode().splitlines() == ["exit 7", "exit 0"]
    assert r.status == 7


def test_threads_of_several_apps():
    r = apps("%s & %s" % (b("threads-musl-pie"), b("threads-glibc-dyn")))
    assert_no_traceback(r)
    native = run_native([b("threads-musl-pie")])
    want = [line for line in native.stdout.decode().splitlines() if "(want" in line]
    got = [line for line in r.stdout.decode().splitlines() if "(want" in line]
    assert want and sorted(got) == sorted(want * 2)
    assert r.status == native.status


def test_a_neighbour_writes_into_another_apps_memory():
    """One address space: an address one app publishes (here through a file) is
    the same memory in its neighbour, which writes there, and the first sees it.
    Separate processes would each have their own page (the write would fault or
    land in the writer's own memory)."""
    r = apps("%s publish /tmp/addr & %s poke /tmp/addr" % (b("neighbour-musl-pie"),
                                                          b("neighbour-glibc-dyn")))
    assert_no_traceback(r)
    assert b'publish: buffer holds "written by a neighbour"' in r.stdout
    assert r.status == 0


def test_fixed_address_programs_cannot_share():
    """Two non-PIE programs at 0x400000 at once: the second is refused with one
    line; one after the other they fit (the first's mappings were released)."""
    r = apps("%s ids & %s ids" % (b("neighbour-musl"), b("neighbour-glibc")))
    assert_no_traceback(r)
    assert re.search(rb"pid \d+ ppid 1", r.stdout)
    lines = r.stderr_lines()
    assert len(lines) == 1 and "fixed addresses 0x400000" in lines[0], lines
    assert r.status == 126
    r = apps("%s; %s" % (b("hello-musl"), b("hello-glibc")))
    assert_no_traceback(r)
    assert r.stdout == run_native([b("hello-musl")]).stdout * 2
    assert r.status == 0


def test_per_app_environment():
    r = apps("PYUNIK_A=mine %s x & %s" % (b("args-musl-pie"), b("args-glibc-pie")))
    assert_no_traceback(r)
    out = r.stdout.decode()
    assert "PYUNIK_A=mine" in out and "PYUNIK_A=1" in out


@pytest.mark.parametrize("line", ["", "   ", ";", "%s;;%s", "& %s", "%s & & %s", "'%s",
                                  '"%s', "X=1", "%s \\"])
def test_bad_apps_syntax_is_one_line(line):
    line = line.replace("%s", b("hello-musl-pie"))
    r = apps(line)
    assert_no_traceback(r)
    assert r.status == 2
    lines = r.stderr_lines()
    assert len(lines) == 1 and lines[0].startswith("pyunik: --apps: "), lines
    assert r.stdout == b""


def test_apps_and_a_program_together_is_one_line():
    r = run_cli(["run", "--apps", b("hello-musl-pie"), b("hello-musl")])
    assert r.status == 2 and len(r.stderr_lines()) == 1
    r = run_cli(["run"])
    assert r.status == 2


def test_missing_program_is_one_line():
    r = apps("%s; /no/such/program" % b("hello-musl-pie"))
    assert_no_traceback(r)
    assert r.status == 127
    assert len(r.stderr_lines()) == 1


def test_python_api():
    result = pyunik.run(apps="%s exit 2 & %s" % (str(BIN / "neighbour-musl-pie"),
                                                 str(BIN / "hello-glibc-pie")),
                        env=GUEST_ENV, capture_output=True)
    assert result.status == 2
    assert sorted(result.stdout.decode().splitlines()) == ["Hello from pyunik guest!", "exit 2"]
    with pytest.raises(pyunik.api.ProgramError):
        pyunik.run(apps="a;;b")


@pytest.mark.skipif(shutil.which("busybox") is None, reason="no busybox")
def test_each_app_reads_its_own_cmdline():
    """/proc/<pid>/cmdline and environ are each app's own strings, though the apps
    share one address space: the background shell reads its cmdline after the
    second app was loaded into the same space."""
    bb = shutil.which("busybox")
    first = "FIRST=1 %s sh -c 'sleep 1; tr \"\\\\0\" \" \" < /proc/$$/cmdline; echo; " \
        "tr \"\\\\0\" \"\\\\n\" < /proc/$$/environ | grep -c FIRST' &" % bb
    r = apps(first + " SECOND=1 %s exit 0 2000" % b("neighbour-musl-pie"))
    assert_no_traceback(r)
    lines = r.stdout.decode().splitlines()
    assert lines[0].startswith("%s sh -c sleep 1; tr" % bb), lines
    assert lines[1:] == ["1", "exit 0"], lines
    assert r.status == 0, r.stderr
