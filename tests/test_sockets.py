"""Sockets: AF_UNIX and the socket system calls, compared with Linux.

guest_images/src/sockets.c runs natively (in a tmpfs scratch directory) and under
pyunik (in the guest's /tmp, and in a host directory given with -v) and must print
the same lines, but for the known differences below. glibc's programs that probe
nscd (`ls -la`, `id`) get a socket and ENOENT from connect, as on Linux, and print no
warning. The socket objects of net/ are also driven directly for what a guest cannot
observe (references of files in flight).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import (BIN, GUEST_ENV, REPO, TIMEOUT, KnownLine, assert_no_traceback,
                      expected_with_known, run_native, run_pyunik)

KNOWN = [KnownLine("socket AF_INET6:", "socket AF_INET6: -EAFNOSUPPORT",
                   "pyunik has no IPv6 yet: AF_INET6 is EAFNOSUPPORT, as on a kernel built "
                   "without it", partial_row="socket")]


@pytest.fixture(scope="module")
def native_output():
    """The program's lines natively (glibc and musl print the same)."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="pyunik-sockets-", dir=base) as scratch:
        out = run_native([BIN / "sockets-glibc", scratch])
    assert out.status == 0 and out.stdout.endswith(b"done\n"), out.stderr
    return out


def _check(native, emulated):
    assert_no_traceback(emulated)
    assert emulated.status == 0, emulated.stderr.decode(errors="replace")
    want, applied = expected_with_known(native.stdout, KNOWN)
    assert emulated.stdout.decode().splitlines() == want.decode().splitlines(), \
        "known lines applied:\n" + "\n".join(applied)
    assert emulated.stderr == b""


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_sockets_program_in_guest_tmp(native_output, libc):
    """socketpair, paths, abstract names, an echo between threads, datagrams,
    seqpacket, SCM_RIGHTS, SCM_CREDENTIALS, options, ioctls and errnos."""
    emulated = run_pyunik([BIN / ("sockets-" + libc), "/tmp"])
    _check(native_output, emulated)


def test_sockets_program_on_host_volume(native_output, tmp_path):
    """Socket files bound in a -v directory are real socket files on the host."""
    emulated = run_pyunik([BIN / "sockets-musl", "/scratch"],
                          extra_opts=["-v", "%s:/scratch:rw" % tmp_path])
    _check(native_output, emulated)
    made = tmp_path / "sockets" / "dgram-a.sock"
    assert made.is_socket()


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_tcp_loopback(libc):
    """TCP between a server and a client thread over 127.0.0.1 (1 MiB each way), UDP,
    and the errors of misuse, with no --net at all: the kernel's own stack."""
    name = "tcp-loopback-" + libc
    native = run_native([BIN / name])
    assert native.status == 0 and native.stdout.endswith(b"done\n")
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert (emulated.status, emulated.stdout, emulated.stderr) == (0, native.stdout, b"")


@pytest.mark.parametrize("prog", ["ifaddrs", "sockfork"])
@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_program_matches_native(prog, libc):
    """ifaddrs: getifaddrs, if_nameindex and raw NETLINK_ROUTE requests (lo only is
    printed); sockfork: a socketpair, SCM_RIGHTS and a listener between a parent and
    its child."""
    name = "%s-%s" % (prog, libc)
    native = run_native([BIN / name])
    assert native.status == 0 and native.stdout.endswith(b"done\n")
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert (emulated.status, emulated.stdout, emulated.stderr) == (0, native.stdout, b"")


def _dynamic(path):
    return path if os.path.exists(path) else None


@pytest.mark.parametrize("argv", [["/bin/ls", "-la", "/"], ["/usr/bin/id"]],
                         ids=lambda a: a[0])
def test_glibc_nscd_probe_is_silent(argv):
    """glibc asks nscd first: socket(AF_UNIX) works and connect says ENOENT, so
    nothing is warned (this used to print "syscall 'socket' (41) not implemented")."""
    if not os.path.exists(argv[0]):
        pytest.skip(argv[0] + " not installed")
    out = run_pyunik(argv, env=dict(GUEST_ENV, LC_ALL="C"))
    assert_no_traceback(out)
    assert out.status == 0 and out.stdout
    assert out.stderr == b"", out.stderr.decode(errors="replace")


def test_nscd_probe_traces_as_strace_does(tmp_path):
    """The socket and connect lines of `id` under --strace are strace's own."""
    strace = shutil.which("strace")
    if strace is None or not os.path.exists("/usr/bin/id"):
        pytest.skip("strace or id not installed")
    log = tmp_path / "native.txt"
    subprocess.run([strace, "-qq", "-e", "trace=socket,connect", "-o", str(log),
                    "/usr/bin/id"], capture_output=True, timeout=TIMEOUT, cwd=REPO)
    native = [re.sub(r"\)\s+= ", ") = ", line) for line in log.read_text().splitlines()]
    if not native:
        pytest.skip("strace cannot trace here")
    trace = tmp_path / "pyunik.txt"
    out = run_pyunik(["/usr/bin/id"], extra_opts=["--strace=%s" % trace])
    assert_no_traceback(out)
    mine = [line for line in trace.read_text().splitlines()
            if re.match(r"(socket|connect)\(", line)]
    assert mine == native


# ---- the objects, directly ------------------------------------------------------------

class _Caller:
    pid, uid, gid, euid, egid = 1000, 0, 0, 0, 0
    ucred = (1000, 0, 0)
    peercred = (1000, 0, 0)


def _net():
    from pyunik.net.socket import NetNamespace
    return NetNamespace(lambda: _Caller())


def _buffers(data: bytes):
    """An IovIter over a bytearray standing in for guest memory."""
    from pyunik.mm.iov_iter import IovIter

    class Memory:
        def __init__(self, size):
            self.bytes = bytearray(size)

        def read_upto(self, addr, size):
            return bytes(self.bytes[addr:addr + size])

        def write_upto(self, addr, data):
            self.bytes[addr:addr + len(data)] = data
            return len(data)

    mem = Memory(max(len(data), 64))
    mem.bytes[:len(data)] = data
    return IovIter(mem, [(0, len(mem.bytes) if not data else len(data))],
                   len(mem.bytes) if not data else len(data)), mem


def test_files_in_flight_hold_a_reference_until_received_or_purged():
    from pyunik.fs.eventfd import EventFile
    from pyunik.net import unix
    from pyunik.net.socket import Transfer
    net = _net()
    a, b = unix.socketpair(net, 1, 0, _Caller())
    a.refs = b.refs = 1
    passed = EventFile(0, 0)
    passed.refs = 1
    src, _ = _buffers(b"x")
    assert a.sendmsg(src, 0, None, [passed], None, _Caller(), True, Transfer()) == 1
    assert passed.refs == 2
    passed.close_ref()                      # the sender's fd is closed
    assert passed.refs == 1                 # alive in flight
    b.close_ref()                           # the receiver goes with it unread
    assert passed.refs == 0 and b.recvq == type(b.recvq)()
    assert a.shut == 3 and a.error == 104   # ECONNRESET: data was left unread


def test_stream_send_waits_for_room_and_continues_where_it_stopped():
    from pyunik.net import unix
    from pyunik.net.socket import Transfer
    from pyunik.wait import WouldBlock
    net = _net()
    a, b = unix.socketpair(net, 1, 0, _Caller())
    a.sndbuf = 8
    src, _ = _buffers(b"0123456789ABCDEF")
    sent = Transfer()
    with pytest.raises(WouldBlock):
        a.sendmsg(src, 0, None, [], None, _Caller(), False, sent)
    assert sent.count == 8 and b.queued == 8
    dst, mem = _buffers(b"")
    got = b.recvmsg(dst, 0, _Caller(), True, Transfer())
    assert got.count == 8 and bytes(mem.bytes[:8]) == b"01234567"
    assert a.sendmsg(src, 0, None, [], None, _Caller(), False, sent) == 16


def test_tcp_info_of_a_listener_and_an_unconnected_socket():
    from pyunik.abi.inet import IPPROTO_TCP, TCP_INFO
    from pyunik.abi.tcp import TCP_CLOSE, TCP_INFO_LAYOUT, TCP_LISTEN
    from pyunik.net import inet
    net = _net()
    from pyunik.kernel.credentials import Credentials
    s = inet.create(net, 1, 0, 0, Credentials(1000, 1000))
    assert s.getsockopt(IPPROTO_TCP, TCP_INFO)[0] == TCP_CLOSE
    s.bind(inet.sockaddr_in(bytes((127, 0, 0, 1)), 0), _Caller())
    s.listen(5, _Caller())
    info = s.getsockopt(IPPROTO_TCP, TCP_INFO)
    assert len(info) == TCP_INFO_LAYOUT.size and info[0] == TCP_LISTEN
