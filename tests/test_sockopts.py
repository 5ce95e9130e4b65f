"""Socket options that change behaviour (guest_images/src/sockopts.c), natively and
under pyunik: TCP keepalive settings reach the connection (a probe goes out after the
idle time, seen with --trace tcp) and an accepted socket inherits them; UDP sends and
connects to a broadcast address need SO_BROADCAST; the TCP options pyunik's stack does
not offer are ENOPROTOOPT, not accepted and ignored."""

from __future__ import annotations

import pytest

from conftest import BIN, KnownLine, assert_no_traceback, assert_same_except, run_native, \
    run_pyunik

UNOFFERED = "the stack has no such mechanism: ENOPROTOOPT rather than a silent success"
KNOWN = [KnownLine("%s 1:" % name, "%s 1: ENOPROTOOPT" % name, UNOFFERED,
                   partial_row="setsockopt")
         for name in ("TCP_CORK", "TCP_QUICKACK")] + [
    KnownLine("TCP_USER_TIMEOUT 1000:", "TCP_USER_TIMEOUT 1000: ENOPROTOOPT", UNOFFERED,
              partial_row="setsockopt"),
    KnownLine("TCP_MAXSEG 1000:", "TCP_MAXSEG 1000: ENOPROTOOPT", UNOFFERED,
              partial_row="setsockopt"),
]


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_sockopts_as_linux(libc):
    prog = BIN / ("sockopts-" + libc)
    emulated = run_pyunik([prog])
    assert_no_traceback(emulated)
    assert_same_except(run_native([prog]), emulated, KNOWN)


def test_keepalive_probes_go_out():
    """SO_KEEPALIVE with TCP_KEEPIDLE 1 on an idle loopback connection: the client's
    stack sends a probe each second of the 2.5 s the guest sleeps (a virtual sleep here), the
    peer answers and the connection stays up."""
    out = run_pyunik([BIN / "sockopts-musl", "probe"],
                     extra_opts=["--deterministic", "--trace", "tcp"])
    assert_no_traceback(out)
    assert out.status == 0
    assert b"after idle: ok\n" in out.stdout
    assert out.stderr.count(b"keepalive probe 1") == 2    # at 1 s and 2 s, each answered
