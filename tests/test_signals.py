"""Signals: the guest program that shows what a handler sees (guest_images/src/
sigframe.c), run natively to check it works on this host, and under pyunik as the
yardstick of signal delivery (issue 8: until then a strict xfail)."""

from __future__ import annotations

import pytest

from conftest import assert_no_traceback, assert_same

LIBCS = ["musl", "glibc"]
SIGFRAME_LINES = 80


def _sigframe(libc: str) -> list[str]:
    return ["guest_images/bin/" + "sigframe" + "-" + libc]


def _check_native(outcome) -> None:
    lines = outcome.stdout.decode().splitlines()
    assert outcome.status == 0, outcome
    assert len(lines) == SIGFRAME_LINES and lines[-1] == "done", lines
    assert not any("unexpected" in line or "not reached" in line for line in lines), lines


@pytest.mark.parametrize("libc", LIBCS)
def test_sigframe_runs_natively(run_native, libc):
    """The yardstick itself works on Linux: every case reached, exit 0."""
    _check_native(run_native(_sigframe(libc)))


@pytest.mark.xfail(strict=True, reason="signal delivery lands with issue 8")
@pytest.mark.parametrize("libc", LIBCS)
def test_sigframe_matches_linux(run_native, run_pyunik, libc):
    native = run_native(_sigframe(libc))
    _check_native(native)
    emulated = run_pyunik(_sigframe(libc))
    assert_no_traceback(emulated)
    assert_same(native, emulated)
