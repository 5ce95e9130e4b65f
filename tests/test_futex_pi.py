"""Priority-inheritance futexes (kernel/futex_pi.py) and futex_waitv: guest_images/src/
pifutex.c and futexwaitv.c run natively and under pyunik, every C library and
linking. pifutex's raw system calls check the PI futex word protocol and errors, its
PTHREAD_PRIO_INHERIT mutexes the C libraries' use of them."""

from __future__ import annotations

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik

VARIANTS = ["pifutex-glibc", "pifutex-musl", "pifutex-glibc-dyn", "pifutex-musl-pie",
            "pifutex-glibc-pie"]


@pytest.mark.parametrize("name", VARIANTS)
def test_pi_futexes_match_native(name):
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0
    # the native run itself shows the protocol (a kernel without PI futexes would not)
    assert b"lock again: EDEADLK\n" in native.stdout
    assert b"lock dead owner: ESRCH waiters bit set 1 tid kept 1\n" in native.stdout
    assert b"owner died (robust): 0 word=died|waiters|tid 1" in native.stdout
    assert b"pi mutex counter 8000\n" in native.stdout
    assert_same(native, emulated)


WAITV = ["futexwaitv-glibc", "futexwaitv-musl", "futexwaitv-glibc-dyn", "futexwaitv-musl-pie",
         "futexwaitv-glibc-pie"]


@pytest.mark.parametrize("name", WAITV)
def test_futex_waitv_matches_native(name):
    """futex_waitv's checks in Linux's order, timeouts, the woken index, signals; and
    futex2's futex_wake, futex_wait and futex_requeue."""
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0
    assert b"nr 128: EAGAIN\n" in native.stdout                 # the host has futex_waitv
    assert b"wake futex 2: woke 1, waitv returned 2\n" in native.stdout
    assert b"requeue one woken one moved: 2\n" in native.stdout
    assert_same(native, emulated)
