"""SO_RCVTIMEO and SO_SNDTIMEO against signals (man 7 signal, net/socket.py's
Socket.blocking): guest_images' socktimeo natively and under pyunik. A socket call
waiting with a timeout fails with EINTR when a handler runs even under SA_RESTART;
without a timeout SA_RESTART restarts it; a timeout that runs out is EAGAIN."""

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_socket_timeouts_and_signals_against_native(libc):
    prog = BIN / ("socktimeo-" + libc)
    emulated = run_pyunik([prog])
    assert_no_traceback(emulated)
    assert b"recvfrom, SO_RCVTIMEO 5 s, SA_RESTART: EINTR" in emulated.stdout
    assert b"recvfrom, no timeout, SA_RESTART: 4," in emulated.stdout
    assert_same(run_native([prog]), emulated)
