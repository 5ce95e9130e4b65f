"""Futex waits that end without a wake leave nothing behind: guest_images/src/
futexleave.c waits on many distinct words, each wait ended by a signal (EINTR) or a
timeout (FUTEX_WAIT, FUTEX_WAIT_BITSET, futex_waitv), run natively and under pyunik
and compared; then, in process, the kernel's FutexTable holds no queue (a queue left
empty where its waiter leaves is dropped, not kept until a wake on its key)."""

from __future__ import annotations

import pytest

import pyunik
from conftest import BIN, GUEST_ENV, assert_no_traceback, assert_same, run_native, run_pyunik

VARIANTS = ["futexleave-musl", "futexleave-glibc"]


@pytest.mark.parametrize("name", VARIANTS)
def test_waits_ended_by_signal_or_timeout_match_native(name):
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0
    assert b"wait, signal                 EINTR 40 " in native.stdout
    assert b"waitv, deadline              EINTR 0 ETIMEDOUT 20 " in native.stdout
    assert_same(native, emulated)


@pytest.mark.parametrize("name", VARIANTS)
def test_futex_table_is_empty_after_waits_that_were_not_woken(name):
    vm = pyunik.Unikernel([str(BIN / name)], env=dict(GUEST_ENV), capture_output=True)
    try:
        assert vm.run() == 0
        assert b"waitv, signal                EINTR 20 " in vm.captured()[0]
        assert vm.kernel.futexes.queues == {}
    finally:
        vm.close()
