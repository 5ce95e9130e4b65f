"""ICMP echo datagram sockets ("ping sockets", net/ping_socket.py): guest_images'
pingsock against 127.0.0.1, natively where the host's net.ipv4.ping_group_range
admits the caller, and under pyunik (whose range admits every group); the same
against the user NAT's 10.0.2.2; who may make one. Raw sockets (busybox ping's) are
tests/test_net_raw.py."""

from __future__ import annotations

import errno

import pytest

from conftest import BIN, assert_no_traceback, run_native, run_pyunik

# What Linux's net/ipv4/ping.c answers pingsock (pyunik's documented answer, checked
# against a host whose ping_group_range admits root when there is one).
EXPECTED = b"""unbound port 0
non-echo type: EINVAL
short message: EINVAL
no address: errno89
echo code 1: EINVAL
bound: port is nonzero 1
poll 1 revents 0x1
seq 1: sent 64 got 64 from %(ip)s:0 type 0 code 0 seq 1 id ok checksum ok payload ok
epoll 1
seq 2: sent 64 got 64 from %(ip)s:0 type 0 code 0 seq 2 id ok checksum ok payload ok
seq 3: sent 64 got 64 from %(ip)s:0 type 0 code 0 seq 3 id ok checksum ok payload ok
empty, MSG_DONTWAIT: EAGAIN
empty, SO_RCVTIMEO: EAGAIN
bind a taken identifier: errno98
"""


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_ping_loopback(libc):
    prog = BIN / ("pingsock-" + libc)
    emulated = run_pyunik([prog])
    assert_no_traceback(emulated)
    assert (emulated.status, emulated.stderr) == (0, b"")
    assert emulated.stdout == EXPECTED % {b"ip": b"127.0.0.1"}
    native = run_native([prog])
    if native.status == 2 and native.stdout == b"socket: EACCES\n":
        return            # the host's ping_group_range excludes us (Linux's "1 0")
    assert (native.status, native.stdout) == (0, emulated.stdout)


def test_ping_user_nat_gateway():
    """With --net user, 10.0.2.2 (the NAT's own stack) answers echo requests."""
    out = run_pyunik([BIN / "pingsock-musl", "10.0.2.2"], extra_opts=["--net", "user"])
    assert_no_traceback(out)
    assert out.status == 0
    assert out.stdout == EXPECTED % {b"ip": b"10.0.2.2"}


def test_ping_group_range_in_procfs():
    out = run_pyunik(["/bin/busybox", "cat", "/proc/sys/net/ipv4/ping_group_range"])
    assert (out.status, out.stdout) == (0, b"0\t2147483647\n")


def _create(range_, egid, groups=()):
    from pyunik.abi import socket as S
    from pyunik.abi.inet import IPPROTO_ICMP
    from pyunik.kernel.credentials import Credentials
    from pyunik.net import inet
    from pyunik.net.socket import NetNamespace
    net = NetNamespace(lambda: None)
    net.ping_group_range = range_
    cred = Credentials(1000, egid, groups)
    return inet.create(net, S.SOCK_DGRAM, IPPROTO_ICMP, 0, cred)


def test_ping_group_range_decides():
    """ping_init_sock: the effective gid or a supplementary group in range."""
    from pyunik.errors import KernelError
    from pyunik.net.ping_socket import PingSocket
    assert isinstance(_create((0, 2147483647), 1000), PingSocket)
    assert isinstance(_create((100, 200), 5, (150,)), PingSocket)
    for range_ in ((1, 0), (0, 999)):
        with pytest.raises(KernelError) as e:
            _create(range_, 1000, (1001,))
        assert e.value.errno == errno.EACCES
