"""AF_INET SOCK_RAW sockets (net/raw_socket.py) inside pyunik's own stack: who gets
one (CAP_NET_RAW: effective uid 0 in pyunik's credentials), guest_images' rawsock
against native Linux (headers received, IP_HDRINCL, ICMP_FILTER, the errnos), and
Debian's busybox ping, which opens only SOCK_RAW, against 127.0.0.1 and the user
NAT's 10.0.2.2. Nothing leaves the machine: natively only 127.0.0.1 is pinged, and
10.0.2.2 lives in pyunik's NAT."""

from __future__ import annotations

import errno
import os
import re

import pytest

from conftest import BIN, assert_no_traceback, run_native, run_pyunik

ROOT = os.geteuid() == 0       # the guest runs with pyunik's own ids


def _create(sock_type, protocol, uid):
    from pyunik.kernel.credentials import Credentials
    from pyunik.net import inet
    from pyunik.net.socket import NetNamespace
    return inet.create(NetNamespace(lambda: None), sock_type, protocol, 0,
                       Credentials(uid, uid))


def test_who_gets_a_raw_socket():
    """inet_create: protocol 0 is EPROTONOSUPPORT for anyone (the lookup comes first),
    then CAP_NET_RAW: effective uid 0 has it, others EPERM."""
    from pyunik.abi import socket as S
    from pyunik.errors import KernelError
    from pyunik.net.raw_socket import RawSocket
    for uid in (0, 1000):
        with pytest.raises(KernelError) as e:
            _create(S.SOCK_RAW, 0, uid)
        assert e.value.errno == errno.EPROTONOSUPPORT
    with pytest.raises(KernelError) as e:
        _create(S.SOCK_RAW, 1, 1000)
    assert e.value.errno == errno.EPERM
    sock = _create(S.SOCK_RAW, 1, 0)
    assert isinstance(sock, RawSocket) and sock.stack.raw_sockets == [sock]
    sock.release()
    assert sock.stack.raw_sockets == []


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_rawsock_against_native(libc):
    prog = BIN / ("rawsock-" + libc)
    emulated = run_pyunik([prog])
    assert_no_traceback(emulated)
    if not ROOT:
        assert (emulated.status, emulated.stdout.splitlines()[-1]) == (2, b"socket: EPERM")
        return
    assert (emulated.status, emulated.stderr) == (0, b"")
    assert b"icmp type 8 seq 1 checksum ok" in emulated.stdout
    assert b"after setuid(65534): socket EPERM" in emulated.stdout
    native = run_native([prog])
    if native.status == 2:
        pytest.skip("the host gives this root no CAP_NET_RAW: " + native.stdout.decode())
    assert (native.status, native.stdout) == (0, emulated.stdout)


# busybox ping's output with the times taken out (they differ run to run)
SHAPE = """PING IP (IP): 56 data bytes
64 bytes from IP: seq=0 ttl=64 time=T ms
64 bytes from IP: seq=1 ttl=64 time=T ms

--- IP ping statistics ---
2 packets transmitted, 2 packets received, 0% packet loss
round-trip min/avg/max = T/T/T ms
"""


def _shape(out: bytes) -> str:
    return re.sub(r"\d+\.\d+(?= ms|/)", "T", out.decode())


def _expected(ip: str) -> str:
    return SHAPE.replace("IP", ip)


def test_busybox_ping_loopback():
    """busybox ping -c 2 127.0.0.1 over pyunik's lo: the shape of Linux's output, and
    natively the same shape when the host lets this user open raw sockets."""
    out = run_pyunik(["/bin/busybox", "ping", "-c", "2", "127.0.0.1"])
    assert_no_traceback(out)
    if not ROOT:
        assert out.status == 1
        assert out.stderr.endswith(b"ping: permission denied (are you root?)\n")
        return
    assert (out.status, out.stderr) == (0, b"")
    assert _shape(out.stdout) == _expected("127.0.0.1")
    native = run_native(["/bin/busybox", "ping", "-c", "2", "127.0.0.1"])
    if native.status == 1 and b"permission denied" in native.stderr:
        pytest.skip("the host gives this root no CAP_NET_RAW")
    assert (native.status, _shape(native.stdout)) == (0, _shape(out.stdout))


@pytest.mark.skipif(not ROOT, reason="pyunik's guest is root only when pyunik is")
def test_busybox_ping_user_nat_gateway():
    """With --net user, 10.0.2.2 is the NAT's own stack, which answers echoes itself
    (native comparison impossible: the address is pyunik's NAT's, and pinging it
    natively would leave the machine)."""
    out = run_pyunik(["/bin/busybox", "ping", "-c", "2", "10.0.2.2"],
                     extra_opts=["--net", "user"])
    assert_no_traceback(out)
    assert (out.status, out.stderr) == (0, b"")
    assert _shape(out.stdout) == _expected("10.0.2.2")
