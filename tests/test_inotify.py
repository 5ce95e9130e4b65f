"""inotify: the guest program guest_images/src/inotify.c run natively and under pyunik,
compared byte for byte; its system calls compared with the real strace(1); a blocking
read that nothing can end; the syscall table's rows.

Native runs use a fresh scratch directory on tmpfs (/dev/shm) when there is one, the
closest host filesystem to pyunik's ramfs; pyunik runs in the guest's own /tmp and in
a host directory given with -v.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import (BIN, GUEST_ENV, REPO, TIMEOUT, Outcome, assert_no_traceback,
                      assert_same_except, run_native, run_pyunik)

LIBCS = ["musl", "glibc"]

# No line differs from Linux: a read into a bad buffer loses the event there too
# (read_iter of a file whose data cannot be put back).
KNOWN: list = []

# Lines that count on max_queued_events being the default 16384.
OVERFLOW_LINES = ("FIONREAD full queue:", "read full queue:", "full queue")


def _max_queued_events() -> int | None:
    try:
        return int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    except (OSError, ValueError):
        return None


def _comparable(text: bytes) -> bytes:
    """The program's output with the overflow lines left out when the host's queue
    limit is not Linux's default (pyunik always has the default)."""
    if _max_queued_events() == 16384:
        return text
    return b"\n".join(line for line in text.split(b"\n")
                      if not line.decode(errors="replace").startswith(OVERFLOW_LINES))


@pytest.fixture()
def native_scratch(tmp_path):
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
        else None
    if base is None:
        yield tmp_path
        return
    d = Path(tempfile.mkdtemp(prefix="pyunik-inotify-", dir=base))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _compare(native, emulated):
    assert_no_traceback(emulated)
    assert native.status == 0, native.stdout.decode(errors="replace")[-2000:]
    native = Outcome(native.status, _comparable(native.stdout), native.stderr)
    emulated = Outcome(emulated.status, _comparable(emulated.stdout), emulated.stderr)
    assert_same_except(native, emulated, KNOWN)


@pytest.mark.parametrize("libc", LIBCS)
def test_inotify_in_guest_tmp(libc, native_scratch):
    """Scratch dir in the guest's own /tmp (ramfs under the root overlay)."""
    prog = BIN / ("inotify-" + libc)
    native = run_native([prog, native_scratch])
    emulated = run_pyunik([prog, "/tmp"], extra_opts=["-q"])
    _compare(native, emulated)


def test_inotify_on_host_volume(native_scratch, tmp_path):
    """Scratch dir on a host directory mounted read-write with -v (hostfs): events come
    from the guest's own calls, whatever filesystem is under them."""
    prog = BIN / "inotify-musl"
    volume = tmp_path / "volume"
    volume.mkdir()
    native = run_native([prog, native_scratch])
    emulated = run_pyunik([prog, "/scratch"], extra_opts=["-q", "-v", "%s:/scratch:rw" % volume])
    _compare(native, emulated)


def test_blocking_read_of_empty_queue_is_a_deadlock():
    """One thread reading an empty blocking inotify fd would wait forever on Linux:
    pyunik says so and ends the process as killed."""
    out = run_pyunik([BIN / "inotify-musl", "/tmp", "block"])
    assert_no_traceback(out)
    assert out.stdout == b"reading an empty blocking inotify fd\n"
    assert out.status == 128 + 9
    err = out.stderr.decode()
    assert "would wait forever" in err and "inotify" in err, err


def _strace_inotify_lines(lines):
    """inotify_* lines only, strace's /* IN_??? */ comments on unknown bits removed."""
    return [re.sub(r" /\* IN_\?\?\? \*/", "", line) for line in lines
            if line.startswith("inotify_")]


def test_inotify_strace_matches_real_strace(native_scratch, tmp_path):
    """--strace prints the inotify calls (masks and flags by name, paths as strings) as
    strace(1) does for the same program run natively, with the same results."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    prog = str(BIN / "inotify-musl")
    log = tmp_path / "native.txt"
    p = subprocess.run([strace, "-f", "-qq", "-o", str(log), prog, str(native_scratch)],
                       cwd=REPO, env=GUEST_ENV, capture_output=True, timeout=TIMEOUT)
    if not log.exists() or "execve(" not in log.read_text():
        pytest.skip("strace cannot trace here: %s" % p.stderr.decode(errors="replace"))
    native = [re.sub(r"\)\s+= ", ") = ", re.sub(r"^\d+\s+", "", line))
              for line in log.read_text().splitlines()]
    trace = tmp_path / "pyunik.txt"
    out = run_pyunik([prog, "/tmp"], extra_opts=["-q", "--strace=%s" % trace])
    assert_no_traceback(out)
    mine = trace.read_text().splitlines()
    want, got = _strace_inotify_lines(native), _strace_inotify_lines(mine)
    assert len(want) > 50
    assert got == want


INOTIFY_NOTE = ("events come only from what the guest itself does through pyunik's system "
                "calls (a host process changing a -v directory is not seen)")


def test_table_rows():
    from pyunik.kernel.syscalls.table import SyscallTable
    table = SyscallTable()
    for name in ("inotify_init", "inotify_init1", "inotify_add_watch"):
        row = table.by_name(name)
        assert (row.status, row.note) == ("partial", INOTIFY_NOTE), name
    assert table.by_name("inotify_rm_watch").status == "full"
    assert [table.by_name(n).nr for n in ("inotify_init", "inotify_add_watch",
                                          "inotify_rm_watch", "inotify_init1")] == \
        [253, 254, 255, 294]
