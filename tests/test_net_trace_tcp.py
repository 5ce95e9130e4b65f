"""`pyunik run --trace tcp`: the guest's TCP writes its state changes (and resets) to
stderr, over loopback without --net and through the user network with it."""

import os
import subprocess

import pytest

from conftest import BIN, PYUNIK, TIMEOUT, host_env_for_pyunik

BUSYBOX = "/bin/busybox"


def _run(*words):
    return subprocess.run(PYUNIK + ["run", *words], env=host_env_for_pyunik(),
                          capture_output=True, timeout=TIMEOUT)


def test_trace_tcp_over_loopback_without_a_card():
    p = _run("--trace", "tcp", "--", str(BIN / "tcp-loopback-musl"))
    assert p.returncode == 0, p.stderr
    lines = [line for line in p.stderr.decode().splitlines() if line.startswith("pyunik: tcp ")]
    states = [line.split(" state ", 1)[1] for line in lines if " state " in line]
    for change in ["CLOSED -> SYN-SENT", "CLOSED -> SYN-RECEIVED", "SYN-SENT -> ESTABLISHED",
                   "SYN-RECEIVED -> ESTABLISHED", "ESTABLISHED -> FIN-WAIT-1",
                   "ESTABLISHED -> CLOSE-WAIT", "FIN-WAIT-2 -> TIME-WAIT", "LAST-ACK -> CLOSED"]:
        assert change in states, change
    assert all(line.startswith("pyunik: tcp 127.0.0.1:") for line in lines)
    # Without --trace tcp, nothing of it.
    p = _run("--", str(BIN / "tcp-loopback-musl"))
    assert b"pyunik: tcp " not in p.stderr


@pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox not installed")
def test_trace_tcp_shows_a_refused_connection_through_the_user_network():
    p = _run("-q", "--net", "user", "--trace", "tcp", "--", BUSYBOX, "wget", "-O-",
             "http://192.0.2.1:80/")
    assert p.returncode == 1
    lines = [line for line in p.stderr.decode().splitlines() if line.startswith("pyunik: tcp ")]
    assert len(lines) == 3, p.stderr
    assert lines[0].endswith("> 192.0.2.1:80 state CLOSED -> SYN-SENT")
    assert lines[1].endswith("> 192.0.2.1:80 reset connection refused")
    assert lines[2].endswith("> 192.0.2.1:80 state SYN-SENT -> CLOSED")
    assert lines[0].startswith("pyunik: tcp 10.0.2.15:")
