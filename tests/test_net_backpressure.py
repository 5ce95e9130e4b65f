"""Back-pressure through a forward costs no host CPU: a host client sends to
guest_images' tcp-echo and does not read what comes back, so the guest waits in
write() and the user NAT holds the host socket back (net/user_tcp.py); that socket
stays readable, and were it still among the fds the scheduler's idle wait polls,
the wait would return at once again and again. pyunik's CPU time over 2 s of that
stays small. Traffic goes to 127.0.0.1 only."""

import socket
import time

from test_net_bulk import _cpu_seconds, _echo_server, _probe


def _send_until_stuck(s) -> int:
    """Send from the host client, reading nothing, until a second passes in which
    nothing more can be sent (the guest and the NAT hold back); the bytes sent."""
    s.setblocking(False)
    sent, end, stuck = 0, time.monotonic() + 30, time.monotonic()
    while time.monotonic() < end:
        try:
            sent += s.send(bytes(65536))
            stuck = time.monotonic()
        except BlockingIOError:
            if time.monotonic() - stuck > 1.0:
                break
            time.sleep(0.05)
    assert sent > 1 << 20
    return sent


def test_a_held_back_host_socket_does_not_spin():
    proc, port = _echo_server(2)
    try:
        _probe(port, proc)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            _send_until_stuck(s)
            before = _cpu_seconds(proc.pid)
            time.sleep(2.0)
            used = _cpu_seconds(proc.pid) - before
        assert proc.poll() is None
        assert used < 0.5, "%.2f s of CPU in 2 s of back-pressure" % used
    finally:
        proc.kill()
        proc.communicate()


STUCK_S = 10.0


def test_a_held_back_guest_resumes_when_the_host_client_reads():
    """The other way: tcp-echo's answers wait on the NAT's host socket, whose send
    buffer the host client has filled by not reading. When the client reads, the
    host socket becomes writable, and the scheduler's idle wait must wake for that
    (POLLOUT), not only for the guest's TCP timers: everything echoed arrives at
    once, and the guest went on writing while the client read."""
    proc, port = _echo_server(2)
    try:
        _probe(port, proc)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            sent = _send_until_stuck(s)
            time.sleep(STUCK_S)              # the guest's TCP timers back off meanwhile
            s.setblocking(True)
            s.settimeout(10)
            start, got = time.monotonic(), 0
            while got < sent:
                chunk = s.recv(1 << 20)
                assert chunk, "the echo ended after %d of %d bytes" % (got, sent)
                got += len(chunk)
            took = time.monotonic() - start
            s.shutdown(socket.SHUT_WR)
        assert got == sent
        # 0.1 s here once the idle wait woke for POLLOUT; 3.7 s when only the guest's
        # TCP timers (backed off over the 10 s) moved it
        assert took < 2.0, "%.1f s to read %d echoed bytes" % (took, sent)
    finally:
        proc.kill()
        proc.communicate()
