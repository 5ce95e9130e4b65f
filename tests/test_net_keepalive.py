"""Keepalive over pyunik's own loopback, the stack run only at its own deadlines as
the kernel's timer runs it while every thread sleeps (net/socket.py's pump): a probe
the keepalive timer sends over lo is delivered, and answered, in the same poll, so
with TCP_KEEPIDLE 1 s the probes of an idle connection come each second (Linux's
tcp_keepalive_timer: an answered probe restarts the idle time), not every other one."""

from __future__ import annotations

from pyunik.net.network import Network
from pyunik.net.tcp import TcpConfig

SECOND = 10**9
LO = bytes((127, 0, 0, 1))


def test_keepalive_probes_each_idle_second_over_lo():
    net = Network.configure(None)
    now = 5 * SECOND
    listener = net.stack.tcp.listen((LO, 80), 4)
    cfg = TcpConfig(keepalive=True, keepalive_idle_ns=SECOND, keepalive_interval_ns=SECOND,
                    keepalive_probes=9)
    client = net.stack.tcp.connection((LO, 40000), (LO, 80), cfg)
    client.connect(now)
    net.poll(now)
    server = listener.accept()
    probes = []
    start = now
    while net.next_deadline() <= start + 5 * SECOND + SECOND // 2:
        now = net.next_deadline()
        before = client.counters["keepalive_probes"]
        net.poll(now)
        if client.counters["keepalive_probes"] > before:
            probes.append(now - start)
    assert probes == [SECOND * n for n in range(1, 6)]
    assert server.counters["keepalive_probes"] == 0
    assert client.state == server.state
    net.close()
