"""O_ASYNC (kernel/fasync.py): guest_images' sigio against native Linux: SIGIO to the
owner (process, process group, thread by F_SETOWN_EX) when a pipe, a socketpair, a TCP or a
UDP socket becomes readable or a pipe's writer gets room, F_SETSIG's signal with its
siginfo (si_code POLL_IN/POLL_OUT, si_band, si_fd), and the fcntl commands' errors."""

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_sigio_against_native(libc):
    prog = BIN / ("sigio-" + libc)
    native = run_native([prog])
    emulated = run_pyunik([prog], extra_opts=["-q"])
    assert_no_traceback(emulated)
    assert native.status == 0
    assert b"after a write                      sigio=1" in native.stdout
    assert_same(native, emulated)
