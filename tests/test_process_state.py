"""A process's state in the pieces clone(2) shares or copies (kernel/process.py,
kernel/fdtable.py, kernel/credentials.py), and the dispatcher's current thread.

A clone with the flag shares the object; without it the new task gets `copy()`,
which must leave the two independent. These are the building blocks clone(2) and
execve(2) use; the tests build them directly.
"""

from __future__ import annotations

import pytest

import pyunik
from conftest import BIN, GUEST_ENV
from pyunik.abi import linux as L
from pyunik.abi.signal import SA_RESTART
from pyunik.abi.syscall_numbers import NUMBERS
from pyunik.fs.file import File
from pyunik.kernel.credentials import Credentials
from pyunik.kernel.fdtable import FdTable
from pyunik.kernel.process import FsContext, SigAction, SigHand, Thread


class Counted(File):
    closes = 0

    def close(self):
        self.closes += 1


def test_fs_context_copy_is_independent():
    fs = FsContext("cwd", "root", 0o022)
    twin = fs.copy()
    twin.cwd, twin.root, twin.umask = "elsewhere", "jail", 0o077
    assert (fs.cwd, fs.root, fs.umask) == ("cwd", "root", 0o022)


def test_sighand_copy_is_deep_and_exec_resets_handlers():
    sh = SigHand()
    sh.actions[L.SIGINT] = SigAction(0x401000, SA_RESTART, 0x402000, 1)
    sh.actions[L.SIGPIPE] = SigAction(L.SIG_IGN)
    twin = sh.copy()
    twin.actions[L.SIGINT].handler = L.SIG_DFL
    assert sh.actions[L.SIGINT].handler == 0x401000
    after = sh.for_exec()
    assert after is not sh
    assert after.actions[L.SIGINT].handler == L.SIG_DFL       # caught -> default
    assert after.actions[L.SIGINT].flags == 0
    assert after.actions[L.SIGPIPE].handler == L.SIG_IGN      # ignored stays ignored
    assert sh.actions[L.SIGINT].handler == 0x401000           # a shared table is left


def test_credentials_copy_is_independent():
    c = Credentials(1000, 100, (100, 27))
    twin = c.copy()
    twin.euid = twin.fsuid = 0
    twin.groups = ()
    assert (c.uid, c.euid, c.suid, c.fsuid) == (1000,) * 4
    assert c.groups == (100, 27) and c.walk_creds == (1000, 100, (100, 27))


def test_fd_table_copy_shares_files_not_numbers():
    table = FdTable()
    a, b = Counted(L.O_RDONLY), Counted(L.O_RDONLY)
    table.install(a)
    table.install(b, cloexec=True)
    twin = table.copy()
    assert a.refs == b.refs == 2
    assert twin.cloexec[1] and not twin.cloexec[0]
    twin.close(0)
    assert a.closes == 0 and table.get(0) is a                # still open in the original
    table.close(0)
    assert a.closes == 1
    table.close_on_exec()
    assert table.open_fds() == [] and b.closes == 0           # twin still holds b
    twin.close_on_exec()
    assert b.closes == 1


@pytest.fixture
def started():
    vm = pyunik.Unikernel([str(BIN / "hello-musl")], env=dict(GUEST_ENV),
                          capture_output=True)
    vm.start()
    yield vm.kernel
    vm.close()


def test_thread_mm_follows_the_process(started):
    t = started.current
    assert t.mm is t.process.mm
    other = type(t.process.mm).__new__(type(t.process.mm))
    t.process.mm = other                  # what execve does: a new address space
    assert t.mm is other


def test_dispatch_answers_for_the_current_thread(started):
    """The engine's callback reads kernel.current on each call: switching threads
    needs no new callback."""
    kernel = started
    dispatch = kernel.current.process.engine.on_syscall
    first = kernel.current
    regs = [NUMBERS["gettid"], 0, 0, 0, 0, 0, 0]
    assert dispatch(regs) == first.tid
    second = Thread(first.tid + 1, first.process)
    kernel.current = second
    assert dispatch(regs) == second.tid
    kernel.current = first
    assert dispatch(regs) == first.tid
