"""Bulk TCP through a forward, and what an idle server costs (issue 10's tests):
guest_images' tcp-echo under `pyunik run --net user,hostfwd=tcp:127.0.0.1:PORT-:7`
echoes 100 MB sent from the host, so 100 MB cross the forward each way, and what
comes back has the sha256 of what was sent; a guest waiting in accept() leaves
pyunik's process nearly idle (the scheduler sleeps in one wait on the forward's
host socket). Traffic goes to 127.0.0.1 only."""

import hashlib
import os
import random
import socket
import subprocess
import threading
import time

from conftest import BIN, PYUNIK, TIMEOUT, host_env_for_pyunik

MB = 1 << 20


def _free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _echo_server(connections):
    port = _free_port()
    argv = PYUNIK + ["run", "-q", "--net", "user,hostfwd=tcp:127.0.0.1:%d-:7" % port, "--",
                     str(BIN / "tcp-echo-musl"), "-p", "7", "-n", str(connections)]
    proc = subprocess.Popen(argv, env=host_env_for_pyunik(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    return proc, port


def _probe(port, proc):
    """One small echo: the forward accepts on the host before the guest listens
    (a connection made too early is reset), so try until the guest answers."""
    end = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.communicate()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"ping")
                s.shutdown(socket.SHUT_WR)
                got = b""
                while chunk := s.recv(64):
                    got += chunk
            if got == b"ping":
                return
        except OSError:
            pass
        assert time.monotonic() < end, "tcp-echo did not answer on 127.0.0.1:%d" % port
        time.sleep(0.2)


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_100_mb_each_way_through_a_forward():
    total = 100 * MB
    proc, port = _echo_server(2)
    try:
        _probe(port, proc)
        blocks = [random.Random(n).randbytes(MB) for n in range(7)]   # 7 MB, cycled
        sent, got = hashlib.sha256(), hashlib.sha256()
        received = 0
        errors = []
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            def writer():
                try:
                    for n in range(total // MB):
                        sent.update(blocks[n % 7])
                        s.sendall(blocks[n % 7])
                    s.shutdown(socket.SHUT_WR)
                except OSError as e:
                    errors.append(e)
            t0 = time.monotonic()
            thread = threading.Thread(target=writer)
            thread.start()
            while chunk := s.recv(1 << 20):
                got.update(chunk)
                received += len(chunk)
            thread.join()
            elapsed = time.monotonic() - t0
        assert not errors
        assert received == total
        assert got.hexdigest() == sent.hexdigest()
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
        assert out.decode().splitlines() == ["tcp-echo: 4 bytes", "tcp-echo: %d bytes" % total]
        print("100 MB each way through the forward: %.1f s" % elapsed)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_a_guest_idle_in_accept_costs_almost_no_host_cpu():
    """After a connection has come and gone, the guest waits in accept() again:
    pyunik's process must sleep, not poll (row 20 of benchmarks/run.py measures the
    share, ~0%; the bound here only catches a busy loop)."""
    proc, port = _echo_server(2)
    try:
        _probe(port, proc)
        time.sleep(0.5)
        c0, t0 = _cpu_seconds(proc.pid), time.monotonic()
        time.sleep(2.0)
        c1, t1 = _cpu_seconds(proc.pid), time.monotonic()
        assert proc.poll() is None
        share = (c1 - c0) / (t1 - t0)
        assert share < 0.2, "%.0f%% of a core while idle in accept" % (100 * share)
        _probe(port, proc)                      # and it still answers
        proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
