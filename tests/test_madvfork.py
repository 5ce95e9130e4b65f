"""madvise's fork advice (MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK,
MADV_KEEPONFORK): the madvfork guest forks after each advice and its child reads
the pages; natively and under pyunik the same lines come out."""

from __future__ import annotations

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_madvfork_matches_native(libc):
    argv = [BIN / ("madvfork-" + libc)]
    native = run_native(argv)
    emulated = run_pyunik(argv)
    assert_no_traceback(emulated)
    assert_same(native, emulated)
    out = emulated.stdout.decode()
    assert out.endswith("done\n")
    # what each advice does to the child, and what it leaves the parent
    assert "-- DONTFORK on page 1 of 3\nchild: page 0: A\nchild: page 1: SIGSEGV\n" in out
    assert "child: page 1: zero\nchild: page 2: C\ngrandchild: page 0: zero\n" in out
    assert "-- KEEPONFORK undoes it\nchild: page 0: A\n" in out
    assert "madvise WIPEONFORK shared anonymous = -1 EINVAL\n" in out
    assert "madvise DONTFORK over a hole = -1 ENOMEM\n-- DONTFORK around a hole\n" \
           "child: page 0: SIGSEGV\n" in out
