"""Every guest program in guest_images/bin, run natively and under pyunik, compared.

stdout, stderr and the exit status must be identical byte for byte. The few lines
where pyunik knowingly differs from Linux are listed in KNOWN_DIFFERENCES with the
reason; for those lines the test checks pyunik's own documented answer exactly, so
a known difference that changes (or disappears) fails too and must be updated.

Each case is its own test: `pytest -k args-musl-empty_and_spaces` runs one.
"""

from __future__ import annotations

import hashlib
import os
import re

import pytest

from conftest import (BIN, KnownLine, Outcome, assert_no_traceback, assert_same,
                      assert_same_except)


def guest(name: str) -> str:
    """The program as both runs get it: relative to the repository root (the cwd),
    so argv[0], AT_EXECFN and anything printed from them are the same."""
    return "guest_images/bin/" + name


NORESERVE_REASON = (
    "pyunik counts MAP_NORESERVE mappings against the -m guest memory limit (default 2G) "
    "so that a guest can never make the host commit more than -m; natively a 1 TiB "
    "MAP_NORESERVE mapping succeeds")

KNOWN_DIFFERENCES: dict[str, list[KnownLine]] = {
    "memtest": [
        KnownLine("huge mmap noreserve: ", "huge mmap noreserve: -ENOMEM", NORESERVE_REASON),
        # Host-dependent (see guest_images/README.md): with vm.overcommit_memory=1 a 1 TiB
        # mapping without MAP_NORESERVE succeeds natively; under pyunik it is still
        # beyond the -m limit. With the default heuristic both say ENOMEM.
        KnownLine("huge mmap: ", "huge mmap: ENOMEM",
                  "1 TiB is beyond pyunik's -m limit (2G) whatever the host's overcommit "
                  "policy; this host has vm.overcommit_memory=1 so Linux says ok",
                  native="huge mmap: ok"),
    ],
}


def compare(run_native, run_pyunik, program: str, args=(), extra_opts=(),
            stdin: bytes = b"") -> tuple[Outcome, Outcome]:
    base = re.sub(r"-(musl|glibc)(-pie|-dyn)?$", "", program)
    argv = [guest(program)] + list(args)
    native = run_native(argv, stdin=stdin)
    emulated = run_pyunik(argv, stdin=stdin, extra_opts=extra_opts)
    assert_no_traceback(emulated)
    assert_same_except(native, emulated, KNOWN_DIFFERENCES.get(base, ()))
    return native, emulated


# ---- which programs, with which arguments ---------------------------------------

LIBCS = ["musl", "glibc"]
PIE_LIBCS = ["musl-pie", "glibc-pie"]
# Dynamically linked (PT_INTERP): pyunik loads the host's ld.so and libraries
# through its automatic image, so these are compared with Linux like the rest.
DYN_LIBCS = ["glibc-dyn"]

ARGS_CASES = {
    "none": [],
    "empty_and_spaces": ["one", "", "two words", "  leading", "trailing  ", "tab\there",
                         "new\nline", "utf8-\u00e9\u65e5", "quote'\"", "*"],
    # Guest arguments that look like pyunik's own options must reach the guest as
    # they are (qemu-user and a shell pass them verbatim); more in test_cli.py.
    "option_lookalikes": ["-q", "--strace", "-m", "1", "--clear-env", "-e", "A=B"],
    "many": ["arg%d" % i for i in range(300)],
}


def _cases():
    out = []
    for libc in LIBCS + PIE_LIBCS + DYN_LIBCS:
        out.append(pytest.param("hello-" + libc, [], id="hello-" + libc))
        for name, args in ARGS_CASES.items():
            out.append(pytest.param("args-" + libc, args, id="args-%s-%s" % (libc, name)))
    for libc in LIBCS:
        for prog in ("info", "sigstate", "memtest"):
            out.append(pytest.param("%s-%s" % (prog, libc), [], id="%s-%s" % (prog, libc)))
        for code in ("", "0", "1", "255", "256", "300", "-1"):
            out.append(pytest.param("exitcode-" + libc, [code] if code else [],
                                    id="exitcode-%s-%s" % (libc, code or "default")))
        out.append(pytest.param("loop-" + libc, ["200000"], id="loop-%s-200000" % libc))
        out.append(pytest.param("loop-" + libc, ["0x3039"], id="loop-%s-hex" % libc))
        for args in (["300"], ["50", "sched_yield"], ["50", "gettid"], ["50", "getegid"],
                     ["3", "no_such_call"]):
            out.append(pytest.param("sysloop-" + libc, args,
                                    id="sysloop-%s-%s" % (libc, "-".join(args))))
        # statloop N PATH prints PATH's size: the program itself (the automatic image
        # holds it at its host path), and a path that does not exist.
        for what, path in (("self", str(BIN / ("statloop-" + libc))),
                           ("missing", "/nonexistent-pyunik/x")):
            out.append(pytest.param("statloop-" + libc, ["100", path],
                                    id="statloop-%s-%s" % (libc, what)))
    return out


@pytest.mark.parametrize("program,args", _cases())
def test_guest_matches_linux(run_native, run_pyunik, program, args):
    compare(run_native, run_pyunik, program, args)


@pytest.mark.parametrize("libc", LIBCS)
def test_errnotest_matches_linux(run_native, run_pyunik, libc):
    """-q keeps pyunik's one-line warnings (for the unknown syscall numbers errnotest
    tries on purpose) off stderr; test_cli.py checks the warnings themselves."""
    compare(run_native, run_pyunik, "errnotest-" + libc, extra_opts=["-q"])


@pytest.mark.parametrize("libc", LIBCS)
def test_bigwrite_matches_linux(run_native, run_pyunik, libc):
    """1 MiB + 69 bytes of stdout through write() and writev(): compared by length
    and sha256 first (a readable message), then exactly."""
    argv = [guest("bigwrite-" + libc)]
    native = run_native(argv)
    emulated = run_pyunik(argv)
    assert_no_traceback(emulated)
    assert len(native.stdout) == (1 << 20) + 69
    assert (len(emulated.stdout), hashlib.sha256(emulated.stdout).hexdigest()) == \
        (len(native.stdout), hashlib.sha256(native.stdout).hexdigest())
    assert_same(native, emulated)


@pytest.mark.parametrize("libc", LIBCS)
def test_crash_report(run_native, run_pyunik, libc):
    """Killed by SIGSEGV in both (139); stdout equal. Native stderr is the guest's
    own line only; pyunik's stderr is that line then a crash report."""
    argv = [guest("crash-" + libc)]
    native = run_native(argv)
    emulated = run_pyunik(argv)
    assert_no_traceback(emulated)
    assert native.status == 139
    assert emulated.status == 139
    assert emulated.stdout == native.stdout
    assert native.stderr == b"crash: about to fault\n"
    text = emulated.stderr.decode()
    assert text.startswith("crash: about to fault\n"), text
    report = text[len("crash: about to fault\n"):]
    assert "crash: survived" not in text
    assert "SIGSEGV" in report
    assert re.search(r"\bwrite\b.*\b0x10\b", report), "fault address 0x10 with 'write':\n" + report
    marked = [line for line in report.splitlines() if line.strip().startswith("=>")]
    assert len(marked) == 1, report
    # the faulting store is `mov dword ptr [rax], edx` (see crash.c: p[0] = v)
    assert "mov" in marked[0] and "[rax]" in marked[0], marked[0]
    frames = re.findall(r"^\s*#(\d+)\s+0x[0-9a-f]+", report, re.M)
    assert len(frames) >= 3, "backtrace main -> outer -> inner:\n" + report
    assert [int(n) for n in frames] == list(range(len(frames)))
    assert any("[stack]" in line for line in report.splitlines()), report
    # the faulting rip is in the program's executable mapping
    rip = int(re.search(r"rip\s+(0x[0-9a-f]+)", report).group(1), 16)
    exec_maps = re.findall(r"^\s*([0-9a-f]+)-([0-9a-f]+) r-xp .*crash-" + libc + "$",
                           report, re.M)
    assert any(int(a, 16) <= rip < int(b, 16) for a, b in exec_maps), report


@pytest.mark.parametrize("libc", LIBCS)
def test_mmapfile_sigbus_in_guest_tmp(run_native, run_pyunik, tmp_path, libc):
    """mmapfile's SIGBUS/SIGSEGV checks (test_files.py runs the other modes): reads of
    a file-mapping page wholly beyond EOF raise SIGBUS, a read of an unmapped page
    SIGSEGV, each caught by the program's handler. The scratch directory is the
    guest's own /tmp; the output names no paths, so the native run uses tmp_path."""
    program = guest("mmapfile-" + libc)
    native = run_native([program, tmp_path, "sigbus"])
    emulated = run_pyunik([program, "/tmp", "sigbus"])
    assert_no_traceback(emulated)
    assert native.status == 0
    assert_same(native, emulated)


def test_every_program_is_covered():
    """A new program in guest_images/bin must get a case here (or in another test
    file that names it in a string, like test_files.py's FS_PROGRAMS), so nothing
    ships untested."""
    import pathlib
    here = pathlib.Path(__file__).parent
    text = "".join(p.read_text() for p in here.glob("test_*.py"))
    covered = {p for p in ("hello", "args", "info", "sigstate", "memtest", "errnotest",
                           "exitcode", "bigwrite", "loop", "sysloop", "crash")}
    missing = []
    for path in sorted(BIN.iterdir()):
        base = re.sub(r"-(musl|glibc)(-pie|-dyn)?$", "", path.name)
        if base not in covered and ('"%s' % base) not in text:
            missing.append(path.name)
    assert not missing, "programs with no test: %s" % missing


def test_binaries_are_executable():
    for path in BIN.iterdir():
        assert os.access(path, os.X_OK), path


@pytest.mark.parametrize("libc", LIBCS)
@pytest.mark.parametrize("name", ["creds", "evlock", "accessids"])
def test_process_and_event_programs(run_native, run_pyunik, name, libc):
    """creds: credentials, priorities, process groups and wait with no children, as
    relations and errno names (the same output for any user). evlock: eventfd
    counters (semaphore mode, limits, poll) and the mlock family's checks.
    accessids: access(2) and faccessat(2) walk and check with the real ids while the
    effective uid is root, stat and open with the filesystem ids (setfsuid); as root
    only."""
    program = guest("%s-%s" % (name, libc))
    native = run_native([program])
    emulated = run_pyunik([program], extra_opts=["-q"])
    assert_no_traceback(emulated)
    assert native.status == 0
    assert_same(native, emulated)
