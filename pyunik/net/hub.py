"""A virtual switch between guests in one process (`hub=NAME` through the API): each
card's backend is a port; the switch learns which port each source MAC address was
seen on and sends a frame only there, floods broadcast and unknown destinations to
every other port, and forgets what it learnt after `age` ns (Linux's bridge ageing
time, 300 s) or when its table is full.

Between processes, `UnixHubPort` does the same through UNIX datagram sockets.

Layer: net. Calls net/ethernet.py, net/backend.py's FramePort, and for UnixHubPort
the host's socket and os modules. A port is a backend (attach, send) for a virtio
card, or a link (transmit, receive, pending) for a stack without one.
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from ..abi.poll import POLLIN
from .backend import FramePort
from .ethernet import parse_frame


class HubPort(FramePort):
    def __init__(self, hub: "Hub", number: int):
        super().__init__()
        self.hub = hub
        self.number = number

    def send(self, frame: bytes) -> None:
        self.hub.forward(self, bytes(frame))

    def poll(self, now: int) -> None:
        self.hub.tick(now)


class Hub:
    """Owned here: the ports, the table MAC -> (port, when learnt), and the time of
    the last frame (`now`, set by the caller with tick())."""

    def __init__(self, name: str, age: int = 300 * 10**9, limit: int = 4096):
        self.name = name
        self.age = age
        self.limit = limit
        self.ports: list[HubPort] = []
        self.table: dict[bytes, tuple[HubPort, int]] = {}
        self.now = 0
        self.flooded = 0

    def port(self) -> HubPort:
        p = HubPort(self, len(self.ports))
        self.ports.append(p)
        return p

    def tick(self, now: int) -> None:
        self.now = now
        for mac in [m for m, (_, t) in self.table.items() if now - t > self.age]:
            del self.table[mac]

    def forward(self, source: HubPort, frame: bytes) -> None:
        parsed = parse_frame(frame)
        if parsed is None:
            return
        dst, src = bytes(parsed[0]), bytes(parsed[1])
        if not src[0] & 1:
            if src not in self.table and len(self.table) >= self.limit:
                self.table.pop(next(iter(self.table)))
            self.table[src] = (source, self.now)
        known = None if dst[0] & 1 else self.table.get(dst)
        if known is not None:
            if known[0] is not source:
                known[0].arrive(frame)
            return
        self.flooded += 1
        for p in self.ports:
            if p is not source:
                p.arrive(frame)


def _check_private(path: str) -> None:
    """A hub directory must be a real directory of ours that nobody else may write
    (in a shared /tmp another user could have made it first)."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise ValueError("hub directory %s is not a private directory of this user" % path)


class UnixHubPort(FramePort):
    """hub=NAME between pyunik processes: every port of the hub is a UNIX datagram
    socket in one directory (`directory`, by default <tmp>/pyunik-hub-<uid>/NAME,
    mode 0700). A frame goes to the socket its destination MAC was last seen from,
    else to every socket there; a socket nobody holds any more (its process died) is
    removed when a send to it is refused. A backend like HubPort, with poll(now) to
    take frames in and host_fds() for the idle wait.

    Calls the host's socket and os modules (non-blocking sockets, files only in the
    hub's own directory)."""

    def __init__(self, name: str, directory: str | None = None, limit: int = 4096):
        if not name or "/" in name or name in (".", "..") or "\0" in name:
            raise ValueError("hub=%r: a hub's name is one path component" % name)
        if directory is None:
            top = os.path.join(tempfile.gettempdir(), "pyunik-hub-%d" % os.getuid())
            os.makedirs(top, mode=0o700, exist_ok=True)
            _check_private(top)
            directory = os.path.join(top, name)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        _check_private(directory)
        self.directory = directory
        self.path = os.path.join(directory, "%d-%x" % (os.getpid(), id(self)))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        super().__init__()
        self.limit = limit
        self.table: dict[bytes, str] = {}

    def send(self, frame: bytes) -> None:
        parsed = parse_frame(frame)
        if parsed is None:
            return
        dst = bytes(parsed[0])
        path = None if dst[0] & 1 else self.table.get(dst)
        if path is not None and self._send_to(path, frame):
            return
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for entry in names:
            other = os.path.join(self.directory, entry)
            if other != self.path:
                self._send_to(other, frame)

    def _send_to(self, path: str, frame: bytes) -> bool:
        try:
            self.sock.sendto(frame, path)
            return True
        except ConnectionRefusedError:
            try:
                os.unlink(path)             # a port whose process has gone
            except OSError:
                pass
        except OSError:
            pass                            # a full peer: the frame is lost, as on a wire
        return False

    def poll(self, now: int) -> None:
        for _ in range(256):
            try:
                frame, sender = self.sock.recvfrom(65536)
            except OSError:
                return
            parsed = parse_frame(frame)
            if parsed is None:
                continue
            src = bytes(parsed[1])
            if not src[0] & 1 and sender:
                if src not in self.table and len(self.table) >= self.limit:
                    self.table.pop(next(iter(self.table)))
                self.table[src] = sender
            self.arrive(frame)

    def host_fds(self) -> list[tuple[int, int]]:
        return [(self.sock.fileno(), POLLIN)]

    def close(self) -> None:
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass
