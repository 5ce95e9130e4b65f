"""recv flags on AF_INET sockets (guest_images/src/recvflags.c), natively and under
pyunik: MSG_TRUNC on TCP takes or peeks at the bytes without writing the buffer (a NULL
buffer too) through recv, recvfrom and recvmsg; MSG_ERRQUEUE with nothing queued is
EAGAIN at once on TCP and UDP, blocking socket or not."""

from __future__ import annotations

import pytest

from conftest import BIN, assert_no_traceback, assert_same_except, run_native, run_pyunik


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_recv_flags_as_linux(libc):
    prog = BIN / ("recvflags-" + libc)
    emulated = run_pyunik([prog])
    assert_no_traceback(emulated)
    assert b'recv NULL TRUNC 1: 1 buffer "........"' in emulated.stdout
    assert_same_except(run_native([prog]), emulated, [])
