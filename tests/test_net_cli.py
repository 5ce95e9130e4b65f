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
