"""Row 20 of benchmarks/run.py: HTTP and bulk TCP through a host forward.

    20  guest_images' `httpd-musl` run natively, under qemu-x86_64 (its host
        networking: the server listens on 127.0.0.1 itself) and under
        `pyunik run --net user,hostfwd=tcp:127.0.0.1:P-:80` (every byte through the
        guest's virtio-net card, its TCP, and the user network's NAT), at the default
        MTU (1500) and with mtu=65520:
        - requests/s and mean latency of `GET /bytes/16` sent one after another on one
          keep-alive connection (the client is a plain Python socket on the host);
        - bulk guest -> host: `GET /bytes/N`, N MB in the answer's body, MB/s from the
          request to the last byte (httpd generates the body: a few ms per MB natively);
        - bulk host -> guest: a POST of N MB, which httpd reads and drops before it
          answers 501, MB/s from the first byte sent to the answer;
        - under pyunik, once the transfers are over and httpd waits in accept(): the
          host CPU pyunik's process uses meanwhile (/proc/<pid>/stat over 3 s), as a
          share of one core.
        The issue's targets: >= 20 MB/s each way through the forward; a guest idle
        on accept costs ~0% host CPU.

Traffic goes only to 127.0.0.1 on the host.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

TARGETS = {
    "net_bulk_mb_s": 20.0,         # MB/s each way through a forward, row 20
    "idle_accept_cpu_pct": 2.0,    # % of one core while the guest waits in accept()
}
IDLE_SECONDS = 3.0
TITLES = {
    20: "20. HTTP and bulk TCP through a forward (httpd-musl; client: Python on the host)",
}
SIZES = {"quick": {"requests": 300, "bulk_mb": 16}, "full": {"requests": 2000, "bulk_mb": 64}}
REQUEST = b"GET /bytes/16 HTTP/1.1\r\nHost: bench\r\n\r\n"
MB = 1 << 20


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _answer(sock, buf: bytearray) -> tuple[bytes, bytearray]:
    """One HTTP answer (head, body length read) from sock; buf holds bytes already read."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    rest = bytearray(rest)
    while len(rest) < length:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise OSError("connection closed")
        rest += chunk
    return head, rest[length:]


class Server:
    def __init__(self, argv, port, env):
        self.port = port
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        end = time.monotonic() + 60
        while True:
            try:
                with self.connect() as s:
                    s.sendall(REQUEST)
                    _answer(s, bytearray())
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError("httpd did not answer on 127.0.0.1:%d" % port)
                time.sleep(0.1)

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def requests(self, n: int) -> float:
        """Seconds for n sequential keep-alive requests."""
        with self.connect() as s:
            buf = bytearray()
            t0 = time.perf_counter()
            for _ in range(n):
                s.sendall(REQUEST)
                _, buf = _answer(s, buf)
            return time.perf_counter() - t0

    def download(self, nbytes: int) -> float:
        with self.connect() as s:
            t0 = time.perf_counter()
            s.sendall(b"GET /bytes/%d HTTP/1.1\r\n\r\n" % nbytes)
            _answer(s, bytearray())
            return time.perf_counter() - t0

    def upload(self, nbytes: int) -> float:
        block = bytes(range(256)) * 4096
        with self.connect() as s:
            t0 = time.perf_counter()
            s.sendall(b"POST /drop HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % nbytes)
            left = nbytes
            while left:
                k = min(left, len(block))
                s.sendall(block[:k])
                left -= k
            head, _ = _answer(s, bytearray())
            assert head.startswith(b"HTTP/1.1 501"), head
            return time.perf_counter() - t0

    def idle_cpu(self) -> float:
        """% of one core the server's process uses over IDLE_SECONDS of no traffic."""
        def cpu():
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        time.sleep(0.5)                # the last connection's close and its timers
        c0, t0 = cpu(), time.monotonic()
        time.sleep(IDLE_SECONDS)
        c1, t1 = cpu(), time.monotonic()
        return 100.0 * (c1 - c0) / (t1 - t0)

    def stop(self):
        try:
            with self.connect() as s:
                s.sendall(b"GET /quit HTTP/1.1\r\n\r\n")
                _answer(s, bytearray())
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def http_and_bulk(bench, bin_dir: str, pyunik_prefix: list[str], env: dict) -> None:
    bench.log("row 20: HTTP and bulk TCP through a forward")
    httpd = os.path.join(bin_dir, "httpd-musl")
    sz = SIZES[bench.mode]
    qemu = shutil.which("qemu-x86_64")
    plans = [("native", lambda p: [httpd, "-a", "127.0.0.1", "-p", str(p)])]
    if qemu:
        plans.append(("qemu-x86_64", lambda p: [qemu, httpd, "-a", "127.0.0.1", "-p", str(p)]))
    for mtu in (None, 65520):
        words = "user" + (",mtu=%d" % mtu if mtu else "")
        plans.append(("pyunik" + (" mtu=%d" % mtu if mtu else ""),
                      lambda p, w=words: pyunik_prefix + [
                          "--net", "%s,hostfwd=tcp:127.0.0.1:%d-:80" % (w, p),
                          "--", httpd]))
    raw = {}
    n, mb = sz["requests"], sz["bulk_mb"]
    t = TARGETS["net_bulk_mb_s"]
    for name, argv in plans:
        port = _free_port()
        server = Server(argv(port), port, env)
        try:
            server.requests(min(50, n))                     # warm up
            wall = server.requests(n)
            down = server.download(mb * MB)
            up = server.upload(mb * MB)
            pyunik = name.startswith("pyunik")
            idle = server.idle_cpu() if pyunik else None
        finally:
            server.stop()
        raw[name] = {"requests": n, "requests_s": wall, "bulk_mb": mb, "down_s": down,
                     "up_s": up, "idle_cpu_pct": idle}
        bench.row(20, "HTTP keep-alive: %s" % name, n / wall, "req/s",
                  note="%.0f us per request" % (wall / n * 1e6))
        bench.row(20, "bulk guest -> host: %s" % name, mb / down, "MB/s",
                  ">= %g" % t if pyunik else "", mb / down >= t if pyunik else None,
                  note="GET /bytes of %d MB" % mb)
        bench.row(20, "bulk host -> guest: %s" % name, mb / up, "MB/s",
                  ">= %g" % t if pyunik else "", mb / up >= t if pyunik else None,
                  note="POST of %d MB" % mb)
        if idle is not None:
            ti = TARGETS["idle_accept_cpu_pct"]
            bench.row(20, "idle in accept(): %s host CPU" % name, idle, "% of a core",
                      "< %g" % ti, idle < ti,
                      note="/proc/<pid>/stat over %g s after the transfers" % IDLE_SECONDS)
        bench.log("  %s done" % name)
    bench.raw["net"] = raw


if __name__ == "__main__":
    sys.exit("run it as a row of benchmarks/run.py: python benchmarks/run.py --only 20")
