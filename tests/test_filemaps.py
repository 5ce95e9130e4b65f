"""/proc/<pid>/maps and smaps of file mappings (mm/maps.py, loader/elf.py,
mm/mmap_file.py, mm/remap.py), compared with Linux.

Every page of a private file mapping keeps the mapping's file, device, inode and
offset: the partial page where a segment's file bytes end (zero-filled by
binfmt_elf or ld.so), a page the process wrote (copy on write), a page past the
file's end, a page moved by mremap; pieces of one mapping with equal protections
are one line. Only a segment's bss past its last file page is anonymous.

The programs' own segments are compared per file (addresses differ where ASLR and
the layout do): the perms, offset and whether each line has a device and inode, and
the anonymous line after a file's last segment (its bss).
"""

import os
import re

import pytest

from conftest import assert_no_traceback

LINE = re.compile(rb"^[0-9a-f]+-[0-9a-f]+ (\S+) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+) *(.*)$")


def segments(text: bytes, names: set[str]) -> dict[str, list[tuple]]:
    """Per file basename in names: its lines as (perms, offset, has dev:inode), and
    ("bss", perms) for an unnamed line right after the file's line."""
    out: dict[str, list[tuple]] = {}
    last = None
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, line
        perms, offset, major, minor, ino, name = m.groups()
        base = os.path.basename(name.decode())
        if base in names:
            has_file = (int(major, 16) or int(minor, 16)) and int(ino) != 0
            out.setdefault(base, []).append((perms.decode(), int(offset, 16), bool(has_file)))
            last = base
        elif not name and last is not None:
            out[last].append(("bss", perms.decode(), int(offset, 16)))
            last = None
        else:
            last = None
    return out


LIBS = {"libc.so.6", "ld-linux-x86-64.so.2"}

CASES = {
    "busybox static": (["/bin/busybox", "cat", "/proc/self/maps"], {"busybox"}),
    "cat dynamic": (["/usr/bin/cat", "/proc/self/maps"], {"cat"} | LIBS),
    "musl static": (["guest_images/bin/filemaps-musl", "self"], {"filemaps-musl"}),
    "glibc static": (["guest_images/bin/filemaps-glibc", "self"], {"filemaps-glibc"}),
    "musl static-pie": (["guest_images/bin/filemaps-musl-pie", "self"], {"filemaps-musl-pie"}),
    "glibc static-pie": (["guest_images/bin/filemaps-glibc-pie", "self"],
                         {"filemaps-glibc-pie"}),
    "glibc dynamic": (["guest_images/bin/filemaps-glibc-dyn", "self"],
                      {"filemaps-glibc-dyn"} | LIBS),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_segments_match_native(run_native, run_pyunik, case):
    argv, names = CASES[case]
    if not os.path.exists(argv[0]):
        pytest.skip("%s is not installed" % argv[0])
    native = run_native(argv)
    emulated = run_pyunik(argv)
    assert_no_traceback(emulated)
    assert native.status == 0 and emulated.status == 0, emulated.stderr
    expected = segments(native.stdout, names)
    assert set(expected) == names
    got = segments(emulated.stdout, names)
    for name in sorted(names):
        assert got.get(name) == expected[name], name


@pytest.mark.parametrize("variant", ["musl", "glibc", "glibc-dyn"])
def test_file_mappings_match_native(run_native, run_pyunik, variant):
    """Past the file's end, written, given back with MADV_DONTNEED, made writable and
    read-only again, moved and grown by mremap, msync; a shared memfd mapping
    reprotected in the middle and moved whole by mremap: the same lines as Linux."""
    program = "guest_images/bin/filemaps-%s" % variant
    native = run_native([program])
    emulated = run_pyunik([program])
    assert_no_traceback(emulated)
    assert native.status == 0 and emulated.status == 0
    assert b"private, past the end:\n  +0..+16384 r--p" in native.stdout
    assert b"moved:\n  +0..+4096 r--p off=0x2000 file" in native.stdout
    assert b"mremap of all of it: moved, byte 7\n" in native.stdout
    assert emulated.stdout.decode() == native.stdout.decode()


def test_smaps_counts_a_mapping_once(run_pyunik):
    """smaps shows the same lines as maps, each mapping's Size its whole length."""
    script = "cat /proc/self/maps; echo ==; cat /proc/self/smaps"
    out = run_pyunik(["/bin/busybox", "sh", "-c", script])
    assert_no_traceback(out)
    maps, smaps = out.stdout.split(b"==\n")
    heads = [line for line in smaps.splitlines() if re.match(rb"^[0-9a-f]+-", line)]
    # the two cat processes map the same files at the same places
    assert [h.split()[:5] for h in heads] == [m.split()[:5] for m in maps.splitlines()]
    for head, size in zip(heads, re.findall(rb"\nSize: +(\d+) kB", smaps)):
        lo, hi = (int(x, 16) for x in head.split()[0].split(b"-"))
        assert (hi - lo) // 1024 == int(size)
