"""HTTP from the host to a server in the guest through a tcp hostfwd: guest_images'
own httpd (musl and glibc static) run natively on a free 127.0.0.1 port and under
`pyunik run --net user,hostfwd=tcp:127.0.0.1:PORT-:80` gives the same status lines,
headers and bodies (a file, a generated 1 MB body with equal sha256, a 404, several
keep-alive requests on one connection, a HEAD); curl, if installed, fetches the same;
and the guest's `python3 -m http.server` serves a directory mounted with -v."""

import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import BIN, PYUNIK, TIMEOUT, host_env_for_pyunik

VARIANTS = ["httpd-musl", "httpd-glibc"]
MB = 1 << 20


def _free_port():
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _wait_listening(port, proc):
    end = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < end, "nothing listens on 127.0.0.1:%d" % port
            time.sleep(0.1)


class Server:
    """httpd (or another server) started natively or under pyunik; stopped at exit."""

    def __init__(self, argv, port):
        self.port = port
        self.proc = subprocess.Popen(argv, env=host_env_for_pyunik(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # A forward accepts on the host before the guest listens: a connection made
        # too early is reset by the guest. Wait until a request is answered.
        end = time.monotonic() + 60
        while True:
            _wait_listening(port, self.proc)
            try:
                self.get("/", close=True)
                return
            except (OSError, http.client.HTTPException):
                assert time.monotonic() < end
                time.sleep(0.2)

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path, close=False, method="GET"):
        c = self.connection()
        try:
            c.request(method, path, headers={"Connection": "close"} if close else {})
            return _answer(c.getresponse())
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.communicate(timeout=TIMEOUT)


def _answer(r):
    headers = [(k, v) for k, v in r.getheaders()]
    return r.status, r.reason, headers, r.read()


def _httpd(variant, root, native):
    port = _free_port()
    if native:
        argv = [str(BIN / variant), "-a", "127.0.0.1", "-p", str(port), str(root)]
    else:
        argv = PYUNIK + ["run", "-q", "--net", "user,hostfwd=tcp:127.0.0.1:%d-:80" % port,
                         "-v", "%s:/srv" % root, "--", str(BIN / variant), "/srv"]
    return Server(argv, port)


def _exchange(server):
    """Everything the comparison looks at, in order."""
    out = []
    for path in ["/file/index.html", "/file/missing", "/nowhere", "/file/..", "/bytes/0",
                 "/bytes/12345"]:
        out.append((path, server.get(path)))
    out.append(("HEAD", server.get("/bytes/777", method="HEAD")))
    out.append(("POST", server.get("/bytes/1", method="POST")))
    status, reason, headers, body = server.get("/bytes/%d" % MB)
    out.append(("1MB", (status, reason, headers, len(body), hashlib.sha256(body).hexdigest())))
    status, reason, headers, body = server.get("/file/blob")
    out.append(("blob", (status, reason, headers, hashlib.sha256(body).hexdigest())))
    # Keep-alive: several requests on one connection, answered in order.
    c = server.connection()
    for n in [10, 70000, 3, 200000, 0, 1]:
        c.request("GET", "/bytes/%d" % n)
        answer = _answer(c.getresponse())
        assert len(answer[3]) == n
        out.append(("keep-alive %d" % n, answer))
    c.request("GET", "/file/index.html")
    out.append(("keep-alive file", _answer(c.getresponse())))
    c.close()
    return out


@pytest.fixture
def root(tmp_path):
    (tmp_path / "index.html").write_bytes(b"<html><body>hello from httpd</body></html>\n")
    (tmp_path / "blob").write_bytes(os.urandom(3 * MB + 17))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_bytes(b"a\n")
    return tmp_path


@pytest.mark.parametrize("variant", VARIANTS)
def test_httpd_through_a_forward_answers_as_natively(variant, root):
    native = _httpd(variant, root, native=True)
    try:
        expected = _exchange(native)
        assert native.get("/quit")[0] == 200
        assert native.proc.wait(timeout=TIMEOUT) == 0
    finally:
        native.stop()
    blob = hashlib.sha256((root / "blob").read_bytes()).hexdigest()
    assert dict(expected)["blob"][3] == blob
    assert dict(expected)["1MB"][4] == hashlib.sha256(
        bytes(i % 251 for i in range(MB))).hexdigest()

    guest = _httpd(variant, root, native=False)
    try:
        got = _exchange(guest)
        assert guest.get("/quit")[0] == 200
        assert guest.proc.wait(timeout=TIMEOUT) == 0
    finally:
        out, err = guest.stop()
    for (what, want), (same, have) in zip(expected, got):
        assert same == what
        assert have == want, what
    assert len(got) == len(expected)
    assert err == b"httpd: listening on port 80\n"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_from_the_host(root):
    guest = _httpd("httpd-musl", root, native=False)
    try:
        url = "http://127.0.0.1:%d" % guest.port
        p = subprocess.run(["curl", "-sS", "-i", url + "/file/index.html", url + "/bytes/5",
                            url + "/nothing"], capture_output=True, timeout=TIMEOUT)
        assert p.returncode == 0, p.stderr
        assert p.stdout == (
            b"HTTP/1.1 200 OK\r\nServer: httpd\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: 43\r\nConnection: keep-alive\r\n\r\n"
            b"<html><body>hello from httpd</body></html>\n"
            b"HTTP/1.1 200 OK\r\nServer: httpd\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: 5\r\nConnection: keep-alive\r\n\r\n\x00\x01\x02\x03\x04"
            b"HTTP/1.1 404 Not Found\r\nServer: httpd\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 14\r\nConnection: keep-alive\r\n\r\n404 Not Found\n")
        p = subprocess.run(["curl", "-sS", url + "/file/blob"], capture_output=True,
                           timeout=TIMEOUT)
        assert p.stdout == (root / "blob").read_bytes()
    finally:
        guest.stop()


PY = shutil.which("python3") and os.path.realpath(shutil.which("python3"))


@pytest.mark.skipif(PY is None, reason="no python3")
def test_guest_python_http_server(root):
    port = _free_port()
    argv = PYUNIK + ["run", "-q", "--net", "user,hostfwd=tcp:127.0.0.1:%d-:80" % port,
                     "-v", "%s:/srv" % root, "--", PY, "-m", "http.server", "-b", "0.0.0.0",
                     "-d", "/srv", "80"]
    server = Server(argv, port)
    try:
        status, _, headers, body = server.get("/index.html")
        assert status == 200 and body == (root / "index.html").read_bytes()
        assert dict(headers)["Content-Length"] == str(len(body))
        status, _, _, body = server.get("/blob")
        assert status == 200 and body == (root / "blob").read_bytes()
        assert server.get("/")[3] == (root / "index.html").read_bytes()
        status, _, _, body = server.get("/sub/")
        assert status == 200 and b'<a href="a.txt">a.txt</a>' in body
        assert server.get("/missing")[0] == 404
    finally:
        out, err = server.stop()
    assert b'"GET /blob HTTP/1.1" 200 -' in err
