"""fcntl leases (kernel/leases.py), dnotify (fs/dnotify.py) and record locks and flock
on pipes: guest_images/src/leases.c run natively and under pyunik, compared byte for
byte, in the guest's /tmp and on a host directory (-v); then what a guest cannot
reach in a test's time: lease-break-time (45 s) ending a break for the holder.

Native runs use a fresh scratch directory on tmpfs (/dev/shm) when there is one.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik

from pyunik.kernel import leases as L
from pyunik.kernel.leases import Leases
from pyunik.kernel.syscalls.table import SyscallTable
from pyunik.wait import WouldBlock

LIBCS = ["musl", "glibc"]


def _compare(native, emulated):
    assert_no_traceback(emulated)
    assert native.status == 0, native.stdout.decode(errors="replace")[-2000:]
    out = native.stdout.decode()
    # the checks that make the comparison worth something happened natively
    assert "open O_RDONLY|O_NONBLOCK                     -EAGAIN" in out
    assert "reader opens: holder told                    set 0 lease 0 waiting 1" in out
    assert "rename in the directory                      rt 3 code 3" in out
    assert "pipe F_OFD_SETLK F_RDLCK (conflicts)         -EAGAIN" in out
    assert_same(native, emulated)


@pytest.mark.parametrize("libc", LIBCS)
def test_leases_in_guest_tmp(libc, tmpfs_scratch):
    prog = BIN / ("leases-" + libc)
    native = run_native([prog, tmpfs_scratch])
    emulated = run_pyunik([prog, "/tmp"], extra_opts=["-q"])
    _compare(native, emulated)


def test_leases_on_host_volume(tmpfs_scratch, tmp_path):
    """On hostfs, where each lookup may make a new inode object: leases, open counts
    and dnotify marks go by (dev, ino)."""
    prog = BIN / "leases-musl"
    volume = tmp_path / "volume"
    volume.mkdir()
    native = run_native([prog, tmpfs_scratch])
    emulated = run_pyunik([prog, "/scratch"],
                          extra_opts=["-q", "-v", "%s:/scratch:rw" % volume])
    _compare(native, emulated)


def test_fcntl_row_names_what_is_missing():
    row = SyscallTable().by_name("fcntl")
    assert row.status == "partial"
    assert "leases" in row.note and "F_NOTIFY" in row.note
    assert "are EINVAL" not in row.note


# ---- lease-break-time, without a guest ---------------------------------------------------

class _Clock:
    def __init__(self):
        self.now = 1_000_000_000

    def monotonic_ns(self):
        return self.now


class _Inode:
    is_regular = True
    is_dir = False

    def __init__(self):
        self.fs = SimpleNamespace(dev=7, notify=None)
        self.ino = 42
        self.write_count = 0
        self.real = self


class _File:
    lease = None
    owner = 0
    owner_thread = False
    owner_signal = 0

    def __init__(self, inode, readable=True, writable=False):
        self.inode, self.readable, self.writable = inode, readable, writable

    def stat(self):
        return (0, 42, 1, 0o100644, 0, 0)


def _kernel(*opened):
    """A kernel with the open files `opened` (fs/inotify.py's records of them)."""
    records = [SimpleNamespace(file=lambda f=f: f) for f in opened]
    k = SimpleNamespace(clock=_Clock(), processes={},
                        fsnotify=SimpleNamespace(opened_records=lambda key: records))
    k.leases = Leases(k)
    return k


def _thread(kernel):
    process = SimpleNamespace(pid=10, kernel=kernel, cred=SimpleNamespace(fsuid=0),
                              shared_pending=SimpleNamespace(signals=0))
    return SimpleNamespace(process=process, pending=SimpleNamespace(signals=0), sigmask=0)


def test_a_break_the_holder_ignores_ends_after_lease_break_time():
    """A writer's open waits at most lease-break-time; then __break_lease's
    time_out_leases unlocks for the holder (and clears its owner, f_delown)."""
    inode = _Inode()
    f = _File(inode)
    k = _kernel(f)
    t = _thread(k)
    assert k.leases.set(t, 3, f, L.WRLCK, privileged=False) == 0
    assert f.owner == 10
    with pytest.raises(WouldBlock) as wait:
        k.leases.break_lease(t, inode, os.O_WRONLY)
    assert wait.value.deadline == k.clock.now + 45 * 10**9
    assert k.leases.get(f) == L.UNLCK            # breaking to none
    k.clock.now += 44 * 10**9
    with pytest.raises(WouldBlock):
        k.leases.break_lease(t, inode, os.O_WRONLY)
    k.clock.now += 10**9
    k.leases.break_lease(t, inode, os.O_WRONLY)  # no lease left: the open goes on
    assert k.leases.by_key == {} and f.lease is None and f.owner == 0


def test_a_downgrade_the_holder_ignores_leaves_a_read_lease():
    inode = _Inode()
    f = _File(inode)
    k = _kernel(f)
    t = _thread(k)
    k.leases.set(t, 3, f, L.WRLCK, privileged=False)
    with pytest.raises(WouldBlock):
        k.leases.break_lease(t, inode, os.O_RDONLY)
    assert k.leases.get(f) == L.RDLCK
    k.clock.now += 45 * 10**9
    k.leases.break_lease(t, inode, os.O_RDONLY)  # a reader beside a read lease
    assert k.leases.get(f) == L.RDLCK and f.lease is not None and f.owner == 10
    with pytest.raises(WouldBlock):               # a writer still breaks it
        k.leases.break_lease(t, inode, os.O_RDWR)


def test_someone_elses_file_needs_cap_lease():
    k = _kernel()
    t = _thread(k)
    t.process.cred.fsuid = 1000
    f = _File(_Inode())
    with pytest.raises(Exception) as e:
        k.leases.set(t, 3, f, L.RDLCK, privileged=False)
    assert e.value.errno == 13                    # EACCES
    assert k.leases.set(t, 3, f, L.RDLCK, privileged=True) == 0
