"""preadv2/pwritev2 flags and fsync, through guest python3's os module, natively and
under pyunik, on a -v directory (hostfs, synced on the host) and on /tmp (memory):
RWF_APPEND writes at the end (moving the file offset only when the call uses it),
RWF_NOWAIT is EAGAIN where the call would wait, RWF_DSYNC/RWF_SYNC write and sync;
and HostFS asks the host to sync what fsync, fdatasync and syncfs name."""

from __future__ import annotations

import os

import pytest

from conftest import SYSTEM_PYTHON3, python_script_both_ways
from pyunik.fs.hostfs import HostFS

PROGRAM = r'''
import errno, os, sys
path = os.path.join(sys.argv[1], "f")
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, b"hello")
os.lseek(fd, 1, os.SEEK_SET)
print("append at 0:", os.pwritev(fd, [b"AB"], 0, os.RWF_APPEND),
      "offset", os.lseek(fd, 0, os.SEEK_CUR))
print("append at -1:", os.pwritev(fd, [b"CD"], -1, os.RWF_APPEND),
      "offset", os.lseek(fd, 0, os.SEEK_CUR))
print("contents:", os.pread(fd, 100, 0))
print("sync flags:", os.pwritev(fd, [b"x"], 0, os.RWF_DSYNC | os.RWF_SYNC | os.RWF_HIPRI),
      os.pread(fd, 100, 0))
print("nowait file read:", os.preadv(fd, [bytearray(3)], 0, os.RWF_NOWAIT))
r, w = os.pipe()
calls = [("nowait empty pipe", lambda: os.preadv(r, [bytearray(4)], -1, os.RWF_NOWAIT)),
         ("append pipe at 5", lambda: os.pwritev(w, [b"z"], 5, os.RWF_APPEND)),
         ("fsync pipe", lambda: os.fsync(r))]
for what, call in calls:
    try:
        print(what, call())
    except OSError as e:
        print(what, errno.errorcode[e.errno])
print("append pipe at -1:", os.pwritev(w, [b"ab"], -1, os.RWF_APPEND))
print("nowait pipe:", os.preadv(r, [bytearray(4)], -1, os.RWF_NOWAIT))
os.fsync(fd)
os.fdatasync(fd)
os.sync()
print("done")
'''

@pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON3), reason="no Debian python3")
@pytest.mark.parametrize("where", ["volume", "tmp"])
def test_rw_flags_as_linux(tmp_path, where):
    native, emulated = python_script_both_ways(tmp_path, PROGRAM, where, "f")
    assert (emulated.status, emulated.stdout) == (0, native.stdout)
    if where == "volume":
        assert (tmp_path / "f").read_bytes() == b"xelloABCD"


def test_hostfs_syncs_on_the_host(tmp_path, monkeypatch):
    (tmp_path / "f").write_bytes(b"data")
    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(("fsync", os.fstat(fd).st_ino)))
    monkeypatch.setattr(os, "fdatasync",
                        lambda fd: synced.append(("fdatasync", os.fstat(fd).st_ino)))
    ino = os.stat(tmp_path / "f").st_ino
    writable = HostFS(str(tmp_path), readonly=False)
    inode = writable.root.lookup(b"f")
    inode.sync(False)
    inode.sync(True)
    writable.root.sync(False)
    writable.sync()                                 # syncfs: no error from the host
    assert synced == [("fsync", ino), ("fdatasync", ino),
                      ("fsync", os.stat(tmp_path).st_ino)]
    writable.close()
    readonly = HostFS(str(tmp_path), readonly=True)
    readonly.root.lookup(b"f").sync(False)          # nothing was written through it
    assert len(synced) == 3
    readonly.close()


def _run_in_process(tmp_path) -> None:
    """tmp_path's t.py run by guest python3 in this process (its host calls can be
    counted), tmp_path as a writable /w."""
    import pyunik
    vm = pyunik.Unikernel([SYSTEM_PYTHON3, "/w/t.py", "/w"], env={}, quiet=True,
                          capture_output=True, volumes=["%s:/w:rw" % tmp_path])
    try:
        assert vm.run() == 0, vm.captured()
    finally:
        vm.close()


SYNC_PROGRAM = r'''
import os, sys
for name, flags in (("plain", 0), ("dsync", os.O_DSYNC), ("sync", os.O_SYNC)):
    fd = os.open(os.path.join(sys.argv[1], name), os.O_WRONLY | os.O_CREAT | flags, 0o600)
    os.write(fd, b"data")
    os.close(fd)
'''


@pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON3), reason="no Debian python3")
def test_o_sync_writes_are_synced_on_the_host(tmp_path, monkeypatch):
    """A write through an O_DSYNC fd is followed by the host's fdatasync, through an
    O_SYNC fd by its fsync, and through a plain fd by neither (in-process run, the
    host calls counted)."""
    (tmp_path / "t.py").write_text(SYNC_PROGRAM)
    synced = []
    real_fstat = os.fstat
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(("fsync", real_fstat(fd).st_ino)))
    monkeypatch.setattr(os, "fdatasync",
                        lambda fd: synced.append(("fdatasync", real_fstat(fd).st_ino)))
    _run_in_process(tmp_path)
    ino = {name: os.stat(tmp_path / name).st_ino for name in ("plain", "dsync", "sync")}
    assert synced == [("fdatasync", ino["dsync"]), ("fsync", ino["sync"])]


MSYNC_PROGRAM = r'''
import mmap, os, sys
fd = os.open(os.path.join(sys.argv[1], "m"), os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 8192)
m = mmap.mmap(fd, 8192)
m[:4] = b"data"
m.flush()                                   # msync(MS_SYNC)
'''


@pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON3), reason="no Debian python3")
def test_msync_of_a_host_file_mapping_reaches_the_host(tmp_path, monkeypatch):
    """MS_SYNC on a shared mapping of a -v file asks the host to write its pages out."""
    from pyunik.mm import host
    (tmp_path / "t.py").write_text(MSYNC_PROGRAM)
    synced = []
    monkeypatch.setattr(host, "sync_file_pages", lambda ptr, size: synced.append(size))
    _run_in_process(tmp_path)
    assert synced == [8192]
    assert (tmp_path / "m").read_bytes()[:4] == b"data"
