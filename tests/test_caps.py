"""Capabilities (kernel/credentials.py, capget/capset in kernel/syscalls/cred.py):
guest_images/src/caps.c run natively and under pyunik, compared byte for byte; then
the transformations a guest here cannot reach (execve without file capabilities) and
the table's rows.

The guest starts with pyunik's own capability sets, as a child of it would: the
comparison holds for whatever sets the test runs with (root with all of them, root
without some, as in a container, or another user)."""

from __future__ import annotations

import pytest
from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik

from pyunik.abi.capability import CAP_ALL, CAP_FS_SET, CAP_SETUID
from pyunik.kernel.credentials import Credentials
from pyunik.kernel.syscalls.table import SyscallTable


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_caps_against_native(libc):
    prog = BIN / ("caps-" + libc)
    native = run_native([prog])
    emulated = run_pyunik([prog], extra_opts=["-q"])
    assert_no_traceback(emulated)
    assert native.status == 0
    out = native.stdout.decode()
    assert "capget bad version                       -EINVAL" in out
    assert_same(native, emulated)


def test_root_dropping_to_a_user_loses_every_capability():
    c = Credentials(0, 0)
    assert c.capable(CAP_SETUID) and c.cap_permitted == CAP_ALL
    old = (c.uid, c.euid, c.suid)
    c.uid = c.euid = c.suid = c.fsuid = 1000
    c.fix_setuid(*old)
    assert (c.cap_permitted, c.cap_effective) == (0, 0)


def test_setfsuid_moves_the_filesystem_capabilities():
    c = Credentials(0, 0)
    c.fsuid = 1000
    c.fix_setfsuid(0)
    assert c.cap_effective == CAP_ALL & ~CAP_FS_SET
    c.fsuid = 0
    c.fix_setfsuid(1000)
    assert c.cap_effective == CAP_ALL


def test_execve_gives_root_the_bounding_set_and_others_the_ambient_set():
    c = Credentials(0, 0)
    c.cap_bset = CAP_ALL & ~(1 << 24)
    c.cap_effective = 0
    c.keep_caps = True
    c.exec_caps()
    assert c.cap_permitted == c.cap_effective == c.cap_bset and not c.keep_caps
    c.uid = 0
    c.euid = c.suid = 1000
    c.exec_caps()                        # real uid 0 alone: permitted, not effective
    assert c.cap_permitted == c.cap_bset and c.cap_effective == 0
    u = Credentials(1000, 1000)
    u.cap_permitted = u.cap_inheritable = u.cap_ambient = 1 << CAP_SETUID
    u.exec_caps()
    assert u.cap_permitted == u.cap_effective == 1 << CAP_SETUID


def test_rows():
    table = SyscallTable()
    for name in ("capget", "capset"):
        row = table.by_name(name)
        assert row.status == "partial" and "per process" in row.note, name
