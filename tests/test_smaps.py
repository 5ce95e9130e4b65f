"""/proc/<pid>/smaps (pyunik/mm/maps.py smaps_text): every mapping's maps line, its
sizes and its VmFlags line, compared with Linux through guest_images/src/smaps.c,
which maps memory of every kind and prints each mapping's VmFlags."""

import re

import pytest

from conftest import assert_no_traceback

PROGRAM = "smaps"


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_vmflags_match_native(run_native, run_pyunik, libc):
    program = "guest_images/bin/%s-%s" % (PROGRAM, libc)
    native = run_native([program])
    emulated = run_pyunik([program])
    assert_no_traceback(emulated)
    assert native.status == 0 and emulated.status == 0
    # a kernel built with CONFIG_MEM_SOFT_DIRTY adds "sd" to every mapping; pyunik
    # shows a kernel without it
    expected = re.sub(rb" sd(?= )", b"", native.stdout)
    assert b"every entry has VmFlags: yes" in expected
    assert b"shared anonymous: rw-s VmFlags: rd wr sh mr mw me ms \n" in expected
    if b" KSM " not in expected:       # the field list of Linux before 6.x differs
        expected = re.sub(rb"fields:.*\n", b"", expected)
        emulated_out = re.sub(rb"fields:.*\n", b"", emulated.stdout)
    else:
        emulated_out = emulated.stdout
    assert emulated_out.decode() == expected.decode()


def test_an_entry_is_laid_out_as_linux_lays_it_out(run_pyunik):
    """show_smap's columns: name padded to 16, the value in 8, then kB."""
    out = run_pyunik(["/bin/cat", "/proc/self/smaps"])
    assert_no_traceback(out)
    lines = out.stdout.decode().splitlines()
    assert re.match(r"^[0-9a-f]+-[0-9a-f]+ r--p ", lines[0])
    assert re.fullmatch(r"Size: {11}[ 0-9]{8} kB", lines[1])
    assert lines[2] == "KernelPageSize:        4 kB"
    assert re.fullmatch(r"THPeligible: {4}0", lines[23])
    assert re.fullmatch(r"VmFlags:( [a-z]{2})+ ", lines[24])
    assert re.match(r"^[0-9a-f]+-[0-9a-f]+ ", lines[25])
