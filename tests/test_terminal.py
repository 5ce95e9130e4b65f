"""The guest's stdio on a host terminal: the guest can name it as natively.

Each test opens a pseudo-terminal (Python's pty module), makes it the controlling
terminal of a new session, and runs the same program on it twice, natively and
under pyunik, with the pty as stdin, stdout and stderr. Both runs use the same pty,
so they must print the same /dev/pts/N: ttyname(3) (musl and glibc), busybox and
coreutils `tty`, Python's os.ttyname. Under pyunik /dev/pts/N is a devfs node for the
one terminal pyunik was given, never another host pty; /dev/tty opens only when that
terminal is the controlling one, as natively.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import time

import pytest

from conftest import BIN, GUEST_ENV, TIMEOUT, host_env_for_pyunik, pyunik_command


class Terminal:
    """A pseudo-terminal pair; run() starts a program with its slave as stdio and
    as controlling terminal, and returns (exit status, everything it wrote)."""

    def __init__(self):
        self.master, self.slave = pty.openpty()
        self.name = os.ttyname(self.slave)

    def close(self):
        os.close(self.master)
        os.close(self.slave)

    def run(self, argv, env=None, stdin=None, ctty=True) -> tuple[int, bytes]:
        """ctty False: a new session with no controlling terminal at all."""
        name = self.name

        def controlling_terminal():
            os.setsid()
            if ctty:
                os.close(os.open(name, os.O_RDWR))   # the first tty a leader opens

        p = subprocess.Popen([str(a) for a in argv], stdin=self.slave if stdin is None
                             else stdin, stdout=self.slave, stderr=self.slave,
                             env=GUEST_ENV if env is None else env,
                             preexec_fn=controlling_terminal)
        out = b""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                out += os.read(self.master, 65536)
            elif p.poll() is not None:
                break
        else:
            p.kill()
        return p.wait(), out


@pytest.fixture
def terminal():
    t = Terminal()
    yield t
    t.close()


def _both(terminal, argv, stdin=None, ctty=True):
    """(native, emulated) runs of argv on the terminal: (status, output) each."""
    native = terminal.run(argv, stdin=stdin, ctty=ctty)
    emulated = terminal.run(pyunik_command(argv, extra_opts=["-q"]),
                            env=host_env_for_pyunik(), stdin=stdin, ctty=ctty)
    return native, emulated


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_ttyname_on_a_pty(terminal, libc):
    """ttyname of fds 0-2, the /proc/self/fd links, stat of the name against fstat
    of the fd, and /dev/tty: all as natively."""
    native, emulated = _both(terminal, [BIN / ("ttyinfo-" + libc)])
    assert native[0] == 0, native
    assert ("ttyname=%s link=%s chr=1 same_dev_ino=1" % (terminal.name, terminal.name)
            ).encode() in native[1]
    assert emulated == native


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_ttyname_when_stdin_is_not_a_terminal(terminal, libc):
    native, emulated = _both(terminal, [BIN / ("ttyinfo-" + libc)],
                             stdin=subprocess.DEVNULL)
    assert b"fd 0: isatty=0 ttyname=ENOTTY" in native[1]
    assert emulated == native


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_dev_tty_needs_a_controlling_terminal(terminal, libc):
    """stdio on a terminal that is not the session's controlling terminal: ttyname
    still names it, but /dev/tty cannot be opened (ENXIO)."""
    native, emulated = _both(terminal, [BIN / ("ttyinfo-" + libc)], ctty=False)
    assert b"open /dev/tty: ENXIO" in native[1]
    assert emulated == native


@pytest.mark.parametrize("program", ["/usr/bin/busybox", "/usr/bin/tty"])
def test_tty_command(terminal, program):
    if not os.path.exists(program):
        pytest.skip("%s is not installed" % program)
    argv = [program, "tty"] if program.endswith("busybox") else [program]
    native, emulated = _both(terminal, argv)
    assert native == (0, terminal.name.encode() + b"\r\n")
    assert emulated == native


def test_python_ttyname(terminal):
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        pytest.skip("no /usr/bin/python3")
    code = ("import os; print(os.ttyname(0), os.ttyname(1), os.ttyname(2), "
            "os.readlink('/proc/self/fd/0'))")
    native, emulated = _both(terminal, [python, "-S", "-c", code])
    assert native[0] == 0 and native[1].startswith(terminal.name.encode()), native
    assert emulated == native


def test_only_the_given_terminal_is_in_dev_pts(terminal):
    """/dev/pts holds the terminal pyunik's stdio is, and no other host pty."""
    if not os.path.exists("/usr/bin/busybox"):
        pytest.skip("busybox is not installed")
    other = Terminal()          # a second host pty the guest must not see
    try:
        status, out = terminal.run(pyunik_command(["/usr/bin/busybox", "ls", "/dev/pts"],
                                                  extra_opts=["-q"]),
                                   env=host_env_for_pyunik())
    finally:
        other.close()
    assert (status, out.split()) == (0, [terminal.name.rsplit("/", 1)[1].encode()])
