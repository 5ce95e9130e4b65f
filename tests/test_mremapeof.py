"""mremap of a file mapping longer than its file (mm/remap.py): guest_images'
mremapeof run natively and under pyunik, in the guest's /tmp (ramfs: one host
mapping whose pages past the file's end must stay untouched) and on a host directory
(-v: the pages past the end are other VMAs here, one VMA in Linux); grown in place,
moved to a fixed place, shrunk and moved, with SIGBUS past the end wherever they go."""

from __future__ import annotations


import pytest
from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik


def _compare(native, emulated):
    assert_no_traceback(emulated)
    assert native.status == 0
    out = native.stdout.decode()
    assert "move to a fixed place, 8 pages     data Hello ok ok SIGBUS" in out
    assert_same(native, emulated)


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_mremapeof_in_guest_tmp(libc, tmpfs_scratch):
    prog = BIN / ("mremapeof-" + libc)
    _compare(run_native([prog, tmpfs_scratch]), run_pyunik([prog, "/tmp"], extra_opts=["-q"]))


def test_mremapeof_on_host_volume(tmpfs_scratch, tmp_path):
    prog = BIN / "mremapeof-musl"
    volume = tmp_path / "volume"
    volume.mkdir()
    emulated = run_pyunik([prog, "/scratch"], extra_opts=["-q", "-v", "%s:/scratch:rw" % volume])
    _compare(run_native([prog, tmpfs_scratch]), emulated)
