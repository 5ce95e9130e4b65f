"""`pyunik compare`: a program run natively and under pyunik, and the report of where
they part; the trace normalisation it uses (trace/tracediff.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, TIMEOUT
from pyunik.trace import tracediff


def compare(args, cwd=REPO, stdin=b""):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.run([sys.executable, "-m", "pyunik", "compare"] + args, cwd=cwd, env=env,
                       input=stdin, capture_output=True, timeout=TIMEOUT * 2)
    assert b"Traceback" not in p.stderr, p.stderr.decode()
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_same_program_is_same():
    status, out, _ = compare(["--", "guest_images/bin/args-musl", "two words", ""])
    assert status == 0, out
    assert out.splitlines()[-1] == "same"
    assert "exit status: 3 native, 3 pyunik" in out     # args exits with argc
    if shutil.which("strace"):
        assert "traces: the same" in out, out


def test_stdin_reaches_both_sides():
    cat = shutil.which("cat")
    status, out, _ = compare(["--", cat], stdin=b"line one\nline two\n")
    assert status == 0 and "stdout: same (18 bytes)" in out, out


def test_uname_differs_and_is_named():
    uname = shutil.which("uname")
    if uname is None:
        pytest.skip("no uname")
    status, out, _ = compare(["--", uname, "-r"])
    assert status == 1 and out.splitlines()[-1] == "differs"
    assert "-%s" % os.uname().release in out and "+6.1.0-pyunik" in out
    assert "known difference: uname" in out


def test_exit_status_difference(tmp_path):
    # The program is found natively but the file it reads is outside the automatic
    # image: the two sides part on status and stderr, and the report names both.
    data = tmp_path / "data.txt"
    data.write_text("b\na\n")
    sort = shutil.which("sort")
    status, out, _ = compare(["--", sort, str(data)])
    assert status == 1
    assert "exit status: 0 native, 2 pyunik  <- differs" in out
    assert "stdout differs" in out and "+%s: cannot read" % sort in out
    if shutil.which("strace"):
        assert "known difference: the automatic image" in out
        assert str(data) in out


def test_rw_volume_copies(tmp_path):
    """Each side writes its own scratch copy; the original is never written; a file
    only one side removed is reported."""
    if shutil.which("unshare") is None or shutil.which("busybox") is None:
        pytest.skip("needs unshare and busybox")
    d = tmp_path / "d"
    d.mkdir()
    (d / "keep.txt").write_text("old\n")
    busybox = shutil.which("busybox")
    script = "cd %s && echo new > made.txt && echo more >> keep.txt && ls" % d
    status, out, err = compare(["-v", "%s:%s:rw" % (d, d), "--", busybox, "sh", "-c", script])
    assert status == 0, out + err
    assert "files in %s, native: changed keep.txt, created made.txt" % d in out
    assert sorted(os.listdir(d)) == ["keep.txt"] and (d / "keep.txt").read_text() == "old\n"


def test_usage_errors(tmp_path):
    assert compare([])[0] == 2
    assert compare(["--root", "/", "--", "/bin/true"])[0] == 2
    assert compare(["--corpus", str(tmp_path / "missing")])[0] == 2
    (tmp_path / "c").write_text("'unterminated\n")
    status, _, err = compare(["--corpus", str(tmp_path / "c")])
    assert status == 2 and ":1:" in err
    assert compare(["-j", "0", "--", "/bin/true"])[0] == 2


def test_corpus_table_and_json(tmp_path):
    corpus = tmp_path / "cases.txt"
    corpus.write_text("# comment\n\nguest_images/bin/hello-musl\n"
                      "guest_images/bin/exitcode-glibc 3\n"
                      "guest_images/bin/args-glibc 'a b' c\n"
                      "%s -r\n" % shutil.which("uname"))
    status, out, _ = compare(["--corpus", str(corpus), "-j", "2",
                              "--json", str(tmp_path / "out.json")])
    assert status == 1
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["#", "verdict"]
    assert lines[-1] == "3 same, 1 differ, of 4"
    assert lines[3].split()[:4] == ["3", "same", "3", "3"]
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["total"] == 4 and result["same"] == 3 and result["jobs"] == 2
    cases = result["cases"]
    assert [c["verdict"] for c in cases] == ["same", "same", "same", "differs"]
    assert cases[1]["native"]["status"] == cases[1]["pyunik"]["status"] == 3
    assert cases[2]["command"] == ["guest_images/bin/args-glibc", "a b", "c"]
    assert cases[3]["known"] and cases[3]["stdout_diff"].startswith("--- native stdout")


# ---- normalisation -----------------------------------------------------------------------

NATIVE = """\
4242  execve("./p", ["./p"], 0x7ffc /* 3 vars */) = 0
4242  brk(NULL)                         = 0x5612a000
4242  getpid()                          = 4242
4242  fstat(1, {st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0), ...}) = 0
4242  kill(4242, SIGTERM <unfinished ...>
4243  write(1, "x", 1 <unfinished ...>
4242  <... kill resumed>) = 0
4243  <... write resumed>) = 1
4242  +++ exited with 0 +++
"""
PYUNIK = """\
brk(NULL) = 0x40000000
getpid() = 1000
fstat(1, 0x7ffe0000) = 0
kill(1000, SIGTERM) = 0
write(1, "x", 1) = 1
+++ exited with 0 +++
"""


def test_normalised_traces_agree():
    native = tracediff.parse(NATIVE.splitlines())
    pyunik = tracediff.parse(PYUNIK.splitlines())
    assert [c.name for c in native] == ["execve", "brk", "getpid", "fstat", "kill", "write"]
    assert native[4].args == ["PID", "SIGTERM"] and native[4].result == "0"
    assert tracediff.first_parting(native, pyunik) is None


def test_parting_found():
    native = tracediff.parse(NATIVE.splitlines())
    pyunik = tracediff.parse(PYUNIK.replace('write(1, "x", 1) = 1',
                                            'write(1, "y", 1) = -1 EIO (I/O error)')
                             .splitlines())
    p = tracediff.first_parting(native, pyunik)
    assert p.index == 4 and p.native.name == p.pyunik.name == "write"
    assert p.before.name == "kill" and p.pyunik.result == "-1 EIO"
    shorter = tracediff.first_parting(native, pyunik[:3])
    assert shorter.index == 3 and shorter.pyunik is None


def test_split_args():
    assert tracediff.split_args('3, "a, b", {x=1, y=[2, 3]}, NULL') == \
        ["3", '"a, b"', "{x=1, y=[2, 3]}", "NULL"]


def test_allocator_mmaps_stepped_over_and_named():
    """glibc's dynamic linker maps pages at other moments on a CPU with other ISA
    levels: an anonymous mmap only one side makes is stepped over, and said."""
    anon = "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = %s"
    native = tracediff.parse(["brk(NULL) = 0x5000", anon % "0x7f00", 'access("/x", R_OK) = 0',
                              "close(3) = 0", "getpid() = 7"])
    pyunik = tracediff.parse(["brk(NULL) = 0x4000", 'access("/x", R_OK) = 0', anon % "0x7e00",
                              "close(3) = 0", "getpid() = 1000"])
    known = []
    assert tracediff.first_parting(native, pyunik, known) is None
    assert len(known) == 1 and known[0].startswith("the CPU model")
    assert "1 native, 1 pyunik" in known[0]
    # anything else still parts the traces
    other = tracediff.parse(["brk(NULL) = 0x4000", 'access("/y", R_OK) = 0'])
    p = tracediff.first_parting(native, other, [])
    assert p.native.name == "mmap" and p.pyunik.name == "access"


def test_stub_row_named_where_traces_part():
    from pyunik.compare import table_note
    native = tracediff.parse(["rseq(0x7f00, 0x20, 0, 0x53053053) = 0"])
    pyunik = tracediff.parse(["rseq(0x7ff0, 32, 0, 1392848979) = -1 ENOSYS (Function not "
                              "implemented)"])
    known = []
    assert tracediff.first_parting(native, pyunik, known, table_note) is None
    assert len(known) == 1 and known[0].startswith("rseq is stub in pyunik's syscall table")
    assert tracediff.first_parting(native, pyunik, [], None).index == 0


def test_strings_compare_by_their_bytes_and_random_bytes_never():
    native = tracediff.parse([r'write(1, "\xae\x0a\"", 3) = 3',
                              r'getrandom("\xae\xd3", 2, GRND_NONBLOCK) = 2'])
    pyunik = tracediff.parse([r'write(1, "\256\n\"", 3) = 3',
                              r'getrandom("\tm", 2, GRND_NONBLOCK) = 2'])
    assert tracediff.first_parting(native, pyunik) is None
    other = tracediff.parse([r'write(1, "\256\t\"", 3) = 3'])
    assert tracediff.first_parting(native, other).index == 0
