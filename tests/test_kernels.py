"""Two kernels in one Python process share nothing.

Every piece of kernel-wide state (device numbers, inode numbers, pipefs, the memfd
filesystem, inotify's watches and per-user limits) hangs off its Kernel, so a second
pyunik.Unikernel numbers its objects exactly as the first did and never sees the
first one's watches, files or counts. The handlers are called directly on the spawned
process's thread (paths given as bytes need no guest memory).
"""

from __future__ import annotations

import errno
import os

import pytest

import pyunik
from conftest import BIN, GUEST_ENV
from pyunik.abi import linux as L
from pyunik.abi.inotify import IN_CREATE
from pyunik.errors import KernelError
from pyunik.fs.inotify import MAX_USER_INSTANCES, InotifyFile
from pyunik.fs.pipe import make_pipe
from pyunik.kernel.syscalls import files, fs as fs_calls

UID = os.geteuid()


@pytest.fixture
def two_kernels():
    vms = [pyunik.Unikernel([str(BIN / "hello-musl")], env=dict(GUEST_ENV),
                            capture_output=True) for _ in range(2)]
    for vm in vms:
        vm.start()
    yield [vm.kernel for vm in vms]
    for vm in vms:
        vm.close()


def _stat(kernel, fd):
    return kernel.current.process.fds.get(fd).stat()


def test_device_and_inode_numbers_are_per_kernel(two_kernels):
    a, b = two_kernels
    devs_a = [(m.names, m.fs.dev) for m in a.vfs.mount_table()]
    devs_b = [(m.names, m.fs.dev) for m in b.vfs.mount_table()]
    assert devs_a == devs_b
    assert len({dev for _, dev in devs_a}) == len(devs_a)      # one number per mount
    assert a.vfs.root.inode.fs is not b.vfs.root.inode.fs
    create = L.O_CREAT | L.O_WRONLY
    fa = files.sys_open(a.current, b"/tmp/one", create, 0o644)
    files.sys_open(a.current, b"/tmp/two", create, 0o644)
    fb = files.sys_open(b.current, b"/tmp/one", create, 0o644)
    assert _stat(a, fa)[:2] == _stat(b, fb)[:2]                  # st_dev, st_ino


def test_pipes_are_numbered_per_kernel(two_kernels):
    a, b = two_kernels
    first_a = make_pipe(a.pipefs, 0)[0].stat()[1]
    assert make_pipe(a.pipefs, 0)[0].stat()[1] == first_a + 1
    assert make_pipe(b.pipefs, 0)[0].stat()[1] == first_a


def test_memfd_files_live_on_each_kernels_own_tmpfs(two_kernels):
    a, b = two_kernels
    fa = fs_calls.sys_memfd_create(a.current, b"x", 0)
    fs_calls.sys_memfd_create(a.current, b"y", 0)
    fb = fs_calls.sys_memfd_create(b.current, b"x", 0)
    assert a.memfd_mount() is not b.memfd_mount()
    assert a.memfd_mount().fs is not b.memfd_mount().fs
    assert _stat(a, fa)[:2] == _stat(b, fb)[:2]
    assert a.current.process.fds.get(fa).inode is not b.current.process.fds.get(fb).inode


def test_inotify_watches_and_limits_are_per_kernel(two_kernels):
    a, b = two_kernels
    watcher = InotifyFile(a.fsnotify, 0, UID)
    tmp_a = a.vfs.resolve_absolute(b"/tmp").inode
    tmp_b = b.vfs.resolve_absolute(b"/tmp").inode
    assert (tmp_a.fs.dev, tmp_a.ino) == (tmp_b.fs.dev, tmp_b.ino)  # the same key in each
    watcher.add_watch(tmp_a, IN_CREATE)
    create = L.O_CREAT | L.O_WRONLY
    files.sys_open(b.current, b"/tmp/in-b", create, 0o644)
    assert not watcher.events                  # the other kernel's /tmp is not watched
    files.sys_open(a.current, b"/tmp/in-a", create, 0o644)
    assert [e[3] for e in watcher.events] == [b"in-a"]
    assert b.fsnotify.watches == {} and b.fsnotify.instances.get(UID, 0) == 0
    # max_user_instances counts one kernel's instances only
    more = [InotifyFile(a.fsnotify, 0, UID)
            for _ in range(MAX_USER_INSTANCES - 1)]
    with pytest.raises(KernelError) as e:
        InotifyFile(a.fsnotify, 0, UID)
    assert e.value.errno == errno.EMFILE
    InotifyFile(b.fsnotify, 0, UID).close()
    for f in more + [watcher]:
        f.close()
    assert a.fsnotify.instances[UID] == 0
