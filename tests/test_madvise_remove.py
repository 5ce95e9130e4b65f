"""madvise(MADV_REMOVE) as Linux answers it (pyunik/mm/punch.py), through
guest_images/src/madvremove.c run natively and under pyunik: holes punched in shared
anonymous memory, a memfd (seen through a second mapping and pread, the size kept)
and a SysV segment; EINVAL, EACCES and ENOMEM where Linux gives them, in the order
its walk over the VMAs meets them."""

import pytest

from conftest import assert_no_traceback, assert_same

PROGRAM = "madvremove"


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_madv_remove_matches_native(run_native, run_pyunik, libc):
    program = "guest_images/bin/%s-%s" % (PROGRAM, libc)
    native = run_native([program])
    emulated = run_pyunik([program])
    assert_no_traceback(emulated)
    assert native.status == 0
    assert b"memfd through another mapping: m..m" in native.stdout
    assert b"private file mapping: EACCES" in native.stdout
    assert_same(native, emulated)
