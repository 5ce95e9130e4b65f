"""futex(2)'s common FUTEX_WAIT and FUTEX_WAKE (the shortest path of kernel/futex.py's
parking_invoker) and what meets a thread parked by it: guest_images/src/futexops.c
runs natively and under pyunik (musl and glibc) and prints the same: plainly, with
--strace (whose dispatcher takes sys_futex's general path) and with --deterministic
(whose runs end at a wait instead of switching threads in the syscall hook)."""

from __future__ import annotations

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik

VARIANTS = ["futexops-musl", "futexops-glibc"]


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("opts", [[], ["--strace"], ["--deterministic"]],
                         ids=["plain", "strace", "deterministic"])
def test_futex_wait_and_wake_match_native(name, opts):
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name], extra_opts=opts)
    assert_no_traceback(emulated)
    assert native.status == 0
    # the native run itself shows the semantics checked
    assert b"wake 0: 1\nwake -1: 1\nwake INT_MAX: 1\nwaiters returned 0 0 0\n" in native.stdout
    assert b"wake, unmapped: private 0, shared EFAULT\n" in native.stdout
    assert b"cmp_requeue 1 woken 1 moved: 2\n" in native.stdout
    assert b"no SA_RESTART: handler ran 1, wait returned EINTR\n" in native.stdout
    assert b"SA_RESTART: handler ran 1, wait returned 0\n" in native.stdout
    if opts == ["--strace"]:
        assert b"futex(" in emulated.stderr     # the trace went to stderr
        assert (emulated.status, emulated.stdout) == (native.status, native.stdout)
    else:
        assert_same(native, emulated)
