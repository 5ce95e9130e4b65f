"""The SIOCGIF* ioctls busybox's ip and ifconfig use beside netlink (net/interfaces.py):
SIOCGIFTXQLEN, SIOCGIFMETRIC, SIOCGIFMAP and SIOCGIFDSTADDR answer as Linux's for lo
(natively the same lines) and for the user network's eth0; no "Inappropriate ioctl"."""

import os
import subprocess

import pytest

from conftest import PYUNIK, TIMEOUT, host_env_for_pyunik

BUSYBOX = "/bin/busybox"
pytestmark = pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox not installed")


def _run(*words):
    p = subprocess.run(PYUNIK + ["run", *words], env=host_env_for_pyunik(),
                       capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    return p.stdout.decode()


def _native(*words):
    return subprocess.run([BUSYBOX, *words], capture_output=True, timeout=TIMEOUT,
                          check=True).stdout.decode()


def _lines(text, *starts):
    return [line.strip() for line in text.splitlines() if line.strip().startswith(starts)]


def test_ip_link_lo_as_linux():
    assert _run("--", BUSYBOX, "ip", "link", "show", "lo") == \
        _native("ip", "link", "show", "lo")


def test_ifconfig_lo_as_linux():
    """The counters and lo's IPv6 address are the host's; the flags, MTU, metric and
    transmit queue lines are the same."""
    wanted = ("UP ", "collisions:", "inet addr:")
    assert _lines(_run("--", BUSYBOX, "ifconfig", "lo"), *wanted) == \
        _lines(_native("ifconfig", "lo"), *wanted)


def test_eth0_queue_length_and_metric():
    out = _run("--net", "user", "--", BUSYBOX, "ifconfig", "eth0")
    assert _lines(out, "UP ", "collisions:") == [
        "UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1", "collisions:0 txqueuelen:1000"]
    out = _run("--net", "user", "--", BUSYBOX, "ip", "link", "show", "eth0")
    assert "mtu 1500 qdisc noqueue qlen 1000" in out
