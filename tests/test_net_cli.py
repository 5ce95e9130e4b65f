"""`pyunik run --net`: the card comes up as eth0 (busybox ip sees it through netlink),
--trace virtio shows the status handshake and the rings, --pcap writes a libpcap file,
bad words are one line and exit status 2, and a run without --net never loads the
network's numpy."""

import os
import struct
import subprocess
import sys

import pytest

from conftest import PYUNIK, REPO, TIMEOUT, host_env_for_pyunik

BUSYBOX = "/bin/busybox"
needs_busybox = pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox not installed")


def _run(*words):
    return subprocess.run(PYUNIK + ["run", *words], env=host_env_for_pyunik(),
                          capture_output=True, timeout=TIMEOUT)


@needs_busybox
def test_eth0_is_there_with_qemus_addresses():
    p = _run("--net", "user", "--", BUSYBOX, "ip", "addr")
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    assert "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500" in out
    assert "link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff" in out
    assert "inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0" in out
    p = _run("--net", "user,mtu=9000,mac=52:54:00:ab:cd:ef", "--", BUSYBOX, "ip", "link")
    assert "eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9000" in p.stdout.decode()
    assert "52:54:00:ab:cd:ef" in p.stdout.decode()
    # Without --net only lo.
    p = _run("--", BUSYBOX, "ip", "link")
    assert b"eth0" not in p.stdout and b"lo:" in p.stdout


@needs_busybox
def test_trace_virtio_and_pcap(tmp_path):
    pcap = tmp_path / "eth0.pcap"
    p = _run("--net", "user", "--trace", "virtio", "--pcap", str(pcap), "--",
             BUSYBOX, "true")
    assert p.returncode == 0, p.stderr
    lines = p.stderr.decode().splitlines()
    assert lines[:2] == ["pyunik: virtio: reset", "pyunik: virtio: status ACKNOWLEDGE|DRIVER"]
    assert "pyunik: virtio: status ACKNOWLEDGE|DRIVER|DRIVER_OK|FEATURES_OK" in lines
    assert any(line.startswith("pyunik: virtio q0: size 256 desc") for line in lines)
    header = pcap.read_bytes()
    assert struct.unpack("<IHHiIII", header) == (0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def test_bad_network_words_are_one_line(tmp_path):
    for words, message in [
            (["--net", "tap0"], b"pyunik: --net tap0: the backends are user, hub=NAME and none"),
            (["--net", "user,hostfwd=tcp:1.2.3.4"], b"pyunik: hostfwd=tcp:1.2.3.4: want"),
            (["--pcap", str(tmp_path / "x.pcap")], b"pyunik: --pcap and --trace virtio need"),
            (["--net", "user", "--dns", "db"], b"pyunik: --dns db: want NAME=IP"),
            (["--net", "user", "--dns", "db=1.2.3"], b"pyunik: --dns db=1.2.3: not an IPv4")]:
        p = _run(*words, "--", "/bin/true")
        assert p.returncode == 2 and p.stderr.startswith(message), (words, p.stderr)
        assert len(p.stderr.splitlines()) == 1


def test_a_forward_whose_port_is_taken_is_one_line():
    import socket
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        port = taken.getsockname()[1]
        p = _run("--net", "user,hostfwd=udp:127.0.0.1:%d-:53" % port, "--", "/bin/true")
        assert p.returncode == 2 and b"address already in use" in p.stderr.lower()
        assert len(p.stderr.splitlines()) == 1
    finally:
        taken.close()


def test_no_network_no_numpy():
    """The network's numpy (checksums) is loaded only when a run asks for a card."""
    code = ("import sys; import pyunik.cli, pyunik.api, pyunik.kernel.kernel; "
            "print('numpy' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=REPO,
                       env=host_env_for_pyunik(), timeout=TIMEOUT)
    assert p.stdout == b"False\n", p.stderr


@needs_busybox
def test_proc_net_dev_and_tcp():
    with open("/proc/net/dev", "rb") as f:
        host_dev = f.read().splitlines()
    with open("/proc/net/tcp", "rb") as f:
        host_tcp_header = f.readline()
    p = _run("--", BUSYBOX, "cat", "/proc/net/dev", "/proc/net/tcp")
    lines = p.stdout.splitlines(True)
    assert [line.rstrip(b"\n") for line in lines[:2]] == host_dev[:2]
    assert lines[2].startswith(b"    lo:       0       0")
    assert lines[3] == host_tcp_header and len(lines) == 4
    p = _run("--net", "user", "--", BUSYBOX, "cat", "/proc/net/dev")
    assert p.stdout.splitlines()[3].startswith(b"  eth0:       0")


@pytest.fixture
def host_http_server(tmp_path):
    """An HTTP server on the host's 127.0.0.1 (only there), serving tmp_path."""
    import functools
    import http.server
    import threading
    (tmp_path / "index.html").write_bytes(b"hello from the host\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@needs_busybox
def test_guest_wget_reaches_the_hosts_loopback_as_10_0_2_2(host_http_server):
    p = _run("-q", "--net", "user", "--", BUSYBOX, "wget", "-q", "-O-",
             "http://10.0.2.2:%d/index.html" % host_http_server)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"hello from the host\n"


@needs_busybox
def test_other_hosts_are_refused_without_outbound():
    p = _run("-q", "--net", "user", "--", BUSYBOX, "wget", "-O-", "http://192.0.2.1:80/")
    assert p.returncode == 1
    assert b"can't connect to remote host (192.0.2.1): Connection refused" in p.stderr


@needs_busybox
def test_hostfwd_tcp_reaches_a_guest_listener():
    import socket
    import time
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    guest = subprocess.Popen(PYUNIK + ["run", "-q", "--net",
                                       "user,hostfwd=tcp:127.0.0.1:%d-:80" % port, "--",
                                       BUSYBOX, "nc", "-l", "-p", "80"],
                             env=host_env_for_pyunik(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 30
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < end and guest.poll() is None
                time.sleep(0.1)
        client.sendall(b"hello guest over a forward\n")
        client.shutdown(socket.SHUT_WR)
        out, err = guest.communicate(timeout=TIMEOUT)
        client.close()
        assert out == b"hello guest over a forward\n", err
    finally:
        if guest.poll() is None:
            guest.kill()
            guest.wait()


@needs_busybox
def test_the_dns_at_10_0_2_3_answers_dns_entries():
    p = _run("-q", "--net", "user", "--dns", "db.example=10.0.2.2", "--",
             BUSYBOX, "nslookup", "db.example", "10.0.2.3")
    assert p.returncode == 0, p.stderr
    assert b"Name:\tdb.example\nAddress: 10.0.2.2" in p.stdout
    p = _run("-q", "--net", "user", "--", BUSYBOX, "nslookup", "nowhere.example", "10.0.2.3")
    assert p.returncode == 1 and b"NXDOMAIN" in p.stdout
