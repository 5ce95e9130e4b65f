"""Back-pressure through a forward costs no host CPU: a host client sends to
guest_images' tcp-echo and does not read what comes back, so the guest waits in
write() and the user NAT holds the host socket back (net/user_tcp.py); that socket
stays readable, and were it still among the fds the scheduler's idle wait polls,
the wait would return at once again and again. pyunik's CPU time over 2 s of that
stays small. Traffic goes to 127.0.0.1 only."""

import socket
import time

from test_net_bulk import _cpu_seconds, _echo_server, _probe


def test_a_held_back_host_socket_does_not_spin():
    proc, port = _echo_server(2)
    try:
        _probe(port, proc)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.setblocking(False)
            sent, end, stuck = 0, time.monotonic() + 30, time.monotonic()
            while time.monotonic() < end:             # until the host client is stuck
                try:
                    sent += s.send(bytes(65536))
                    stuck = time.monotonic()
                except BlockingIOError:
                    if time.monotonic() - stuck > 1.0:
                        break
                    time.sleep(0.05)
            assert sent > 1 << 20
            before = _cpu_seconds(proc.pid)
            time.sleep(2.0)
            used = _cpu_seconds(proc.pid) - before
        assert proc.poll() is None
        assert used < 0.5, "%.2f s of CPU in 2 s of back-pressure" % used
    finally:
        proc.kill()
        proc.communicate()
