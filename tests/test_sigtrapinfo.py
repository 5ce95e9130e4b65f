"""sigcontext's err, trapno and cr2 are the thread's last fault in every signal frame
(Linux's setup_sigcontext writes thread.error_code, trap_nr and cr2 whatever the
signal; a page fault sets all three, other traps err and trapno only; clone and fork
copy them): guest_images/src/sigtrapinfo.c run natively and under pyunik and
compared."""

from __future__ import annotations

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik


@pytest.mark.parametrize("name", ["sigtrapinfo-musl", "sigtrapinfo-glibc"])
@pytest.mark.parametrize("opts", [[], ["--strace"]], ids=["plain", "strace"])
def test_last_fault_in_later_frames_matches_native(name, opts):
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name], extra_opts=opts)
    assert_no_traceback(emulated)
    assert native.status == 0
    # the native run itself shows what is checked: kept after the fault, cr2 kept
    # over a divide error, inherited by a new thread
    assert b"SIGUSR1 again              sig 10 err 0x6 trapno 14 cr2 0x1234\n" in native.stdout
    assert b"SIGUSR1 after it           sig 10 err 0 trapno 0 cr2 0x5678\n" in native.stdout
    assert b"SIGUSR1 in a new thread    sig 10 err 0x6 trapno 14 cr2 0x9000\n" in native.stdout
    if opts:
        assert (emulated.status, emulated.stdout) == (native.status, native.stdout)
    else:
        assert_same(native, emulated)
