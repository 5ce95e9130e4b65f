"""The pseudo-file kit (fs/pseudo.py), /proc/<pid>/maps lines (mm/maps.py) and
/proc's mount numbers (fs/proc/mounts.py) on their own, no guest.

The guest-level checks of /proc against Linux are in test_files.py (devproc); these
pin down the pieces: seq_file's snapshot rule, fixed inode numbers per path, and
show_map_vma's columns for each kind of VMA.
"""

from __future__ import annotations

import errno
import os

import pytest

from pyunik.abi import linux as L
from pyunik.abi.kdev_t import new_encode_dev
from pyunik.errors import KernelError
from pyunik.fs.proc.mounts import MountNumbers
from pyunik.fs.pseudo import PseudoFS, StaticDir, text_file
from pyunik.fs.ramfs import RamFS
from pyunik.fs.vfs import VFS
from pyunik.mm.address_space import VMA
from pyunik.mm.maps import maps_line


def test_snapshot_kept_until_offset_zero():
    fs = PseudoFS()
    counter = [0]

    def generate():
        counter[0] += 1
        return b"generation %d\n" % counter[0]

    f = text_file(fs, 0o444, generate)(b"/f").open(L.O_RDONLY)
    assert f.read(4) == b"gene"
    assert f.read(100) == b"ration 1\n"          # the same text, not a new one
    assert f.read(100) == b""
    assert f.seek(0, os.SEEK_SET) == 0
    assert f.read(100) == b"generation 2\n"      # back at 0: made again
    with pytest.raises(KernelError) as e:
        f.seek(0, os.SEEK_END)                   # seq_lseek knows no end
    assert e.value.errno == errno.EINVAL


def test_write_without_a_write_function_fails_with_its_errno():
    fs = PseudoFS()
    f = text_file(fs, 0o644, lambda: b"x\n", write_errno=errno.EINVAL)(b"/f").open(L.O_RDWR)
    with pytest.raises(KernelError) as e:
        f.write(b"y")
    assert e.value.errno == errno.EINVAL
    written = []
    knob = text_file(fs, 0o644, lambda: b"x\n",
                     write_fn=lambda d: written.append(d) or len(d))(b"/k").open(L.O_RDWR)
    assert knob.write(b"abc") == 3 and written == [b"abc"]


def test_static_dir_numbers_stay_fixed_per_path():
    fs = PseudoFS()
    sub = {b"leaf": text_file(fs, 0o444, lambda: b"")}
    root = StaticDir(fs, b"/", {b"d": lambda rp: StaticDir(fs, rp, sub),
                                b"f": text_file(fs, 0o444, lambda: b"")})
    assert root.ino == 1
    assert [n for n, _ in root.entries()] == [b"d", b"f"]
    first = root.lookup(b"d").lookup(b"leaf").ino
    assert root.lookup(b"d").lookup(b"leaf").ino == first   # a new inode, the same number
    assert root.lookup(b"d").lookup(b"leaf").relpath == b"/d/leaf"
    assert root.nlink == 3                                  # ".", "..", and d
    assert root.lookup(b"missing") is None


class _FileInode:
    """What maps formatting reads of a mapped file's inode."""

    def __init__(self, dev, ino, nlink=1):
        self.fs = type("FS", (), {"dev": dev})()
        self.ino, self.nlink = ino, nlink


def _line(**kw) -> bytes:
    v = VMA(0x400000, 0x401000, kw.pop("prot", L.PROT_READ), kw.pop("flags", L.MAP_PRIVATE),
            0, kw.pop("name", ""), file=kw.pop("file", None), offset=kw.pop("offset", 0),
            shm=kw.pop("shm", None), shm_offset=kw.pop("shm_offset", 0))
    return maps_line(v)


def test_maps_line_columns():
    assert _line() == b"00400000-00401000 r--p 00000000 00:00 0 "
    heap = _line(prot=L.PROT_READ | L.PROT_WRITE, name="[heap]")
    assert heap == b"00400000-00401000 rw-p 00000000 00:00 0".ljust(72) + b" [heap]"
    assert heap.index(b"[heap]") == 73                     # the name starts at column 73


def test_maps_line_files():
    dev = new_encode_dev(8, 0x123)
    mapped = _line(prot=L.PROT_READ | L.PROT_EXEC, name="/bin/x",
                   file=_FileInode(dev, 42), offset=0x2000)
    assert mapped.startswith(b"00400000-00401000 r-xp 00002000 08:123 42 ")
    assert mapped.endswith(b" /bin/x")
    gone = _line(name="/tmp/a\nb", file=_FileInode(dev, 7, nlink=0))
    assert gone.endswith(b" /tmp/a\\012b (deleted)")
    copied = _line(name="/bin/y", offset=0x1000)           # an ELF segment, no file
    assert copied.startswith(b"00400000-00401000 r--p 00001000 00:00 0 ")


@pytest.mark.parametrize("kind", [L.MAP_SHARED, L.MAP_SHARED_VALIDATE])
def test_maps_line_shared_anonymous_is_dev_zero(kind):
    """Shared anonymous memory is a SharedMemory named /dev/zero (mm/shared.py), shown
    with the offset of the VMA's first page in it; a SysV segment shows its shmid."""
    from pyunik.mm.shared import SHMEM_ANON_NAME, SharedMemory
    shm = SharedMemory(2 * L.PAGE_SIZE, SHMEM_ANON_NAME)
    line = _line(prot=L.PROT_READ | L.PROT_WRITE, flags=kind | L.MAP_ANONYMOUS, shm=shm,
                 shm_offset=L.PAGE_SIZE)
    assert line.startswith(b"00400000-00401000 rw-s 00001000 00:01 0 ")
    assert line.endswith(b" /dev/zero (deleted)")
    segment = SharedMemory(L.PAGE_SIZE, b"/SYSV0000002a", ino=32769)
    line = _line(prot=L.PROT_READ, flags=kind, shm=segment)
    assert line.startswith(b"00400000-00401000 r--s 00000000 00:01 32769 ")
    assert line.endswith(b" /SYSV0000002a (deleted)")


def test_mount_numbers_root_first_then_table_order_then_internal():
    fs = RamFS(mode=0o755)
    fs.root.mkdir(b"proc", 0o755, 0, 0)
    fs.root.mkdir(b"dev", 0o755, 0, 0)
    vfs = VFS(fs, fs.root)
    devfs = RamFS(mode=0o755)
    dev = vfs.mount(b"/dev", devfs, devfs.root)
    numbers = MountNumbers()
    assert numbers.of_internal(vfs, "pipefs") == 3           # after the two mounts
    assert numbers.of(vfs, dev) == 2
    root = vfs.mount_table()[0]
    assert numbers.of(vfs, root) == 1
    assert numbers.of_internal(vfs, "pipefs") == 3           # kept
