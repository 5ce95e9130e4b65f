"""Shared memory across address spaces and System V IPC.

Guest programs (guest_images/src/sysvshm.c, sysvsem.c, sysvmsg.c, shmmap.c, and
shmfork.c across fork) run natively and under pyunik and are compared byte for
byte; then the mm/ objects on
their own: two address spaces on two CPU engines mapping the same host pages (what
fork does with a MAP_SHARED mapping), and the futex keys they agree on.
"""

from __future__ import annotations

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik
from pyunik.abi import linux as L
from pyunik.cpu.engine import Engine
from pyunik.kernel.futex import FutexTable
from pyunik.mm.address_space import AddressSpace
from pyunik.mm.shared import SharedMemory

PAGE = L.PAGE_SIZE
SHARED_ANON = L.MAP_SHARED | L.MAP_ANONYMOUS
PROGRAMS = (["sysvshm-" + v for v in ("musl", "glibc", "musl-pie", "glibc-pie", "glibc-dyn")]
            + [p + v for p in ("sysvsem-", "sysvmsg-", "shmmap-", "shmfork-")
               for v in ("musl", "glibc")])


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_matches_native(name):
    """Each program prints one line per check, no ids, pids or times."""
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0 and b": no\n" not in native.stdout, native.stdout
    assert_same(native, emulated)


def test_proc_sysvipc_headers_match_native():
    cmd = ["/bin/busybox", "head", "-n1", "/proc/sysvipc/shm", "/proc/sysvipc/sem",
           "/proc/sysvipc/msg", "/proc/sys/kernel/sem"]
    native = run_native(cmd)
    emulated = run_pyunik(cmd)
    assert_no_traceback(emulated)
    assert native.status == 0
    assert_same(native, emulated)


# ---- two address spaces, one host memory ---------------------------------------------------

@pytest.fixture
def spaces():
    made = [AddressSpace(Engine(), 64 << 20), AddressSpace(Engine(), 64 << 20)]
    yield made
    for mm in made:
        mm.free_all()


def test_map_same_pages_of_shared_anonymous_memory(spaces):
    """A child's copy of a MAP_SHARED anonymous VMA shows the parent's pages: a
    write through either engine is read through the other at once."""
    parent, child = spaces
    start = parent.mmap(0, 3 * PAGE, 3, SHARED_ANON)
    parent.write(start, b"from the parent")
    v = parent.find(start)
    w = child.map_same_pages(v)
    assert (w.start, w.end, w.prot, w.shm) == (v.start, v.end, 3, v.shm)
    assert child.read(start, 15) == b"from the parent"
    assert child.engine.read(start, 15) == b"from the parent"
    child.engine.write(start + 2 * PAGE, b"from the child")
    assert parent.engine.read(start + 2 * PAGE, 14) == b"from the child"
    key = FutexTable.key
    assert key(parent, start + 8, False) == key(child, start + 8, False)
    assert key(parent, start + 8, True) != key(child, start + 8, True)
    # a piece of the VMA (after a partial munmap) keeps its offset into the object
    parent.munmap(start, PAGE)
    piece = parent.find(start + PAGE)
    assert piece.shm_offset == PAGE
    assert key(parent, start + PAGE, False) == key(child, start + PAGE, False)
    child.munmap(start, 3 * PAGE)
    assert parent.read(start + 2 * PAGE, 14) == b"from the child"


def test_map_same_pages_of_a_host_file_mapping(spaces, tmp_path):
    """A shared mapping of a host-mappable file (memfd here) is duplicated with the
    host's mremap(old_size=0): same pages, same file, same futex key."""
    import os
    parent, child = spaces
    fd = os.memfd_create("t")
    os.ftruncate(fd, 2 * PAGE)

    class Inode:
        class fs:
            dev = 7
        ino = 42
        size = 2 * PAGE
    start = parent.mmap(0, 2 * PAGE, 3, L.MAP_SHARED, (fd, 0, True))
    parent.name_file_mapping(start, 2 * PAGE, Inode, 0, "/memfd:t")
    w = child.map_same_pages(parent.find(start))
    assert w.file is Inode and w.name == "/memfd:t" and w.host_backed
    child.engine.write(start + PAGE, b"child")
    assert os.pread(fd, 5, PAGE) == b"child"
    os.pwrite(fd, b"file", 0)
    assert parent.engine.read(start, 4) == b"file" and child.engine.read(start, 4) == b"file"
    assert FutexTable.key(parent, start, False) == FutexTable.key(child, start, False) \
        == ("inode", 7, 42, 0)
    os.close(fd)


def test_private_memory_is_not_shared_memory(spaces):
    parent, child = spaces
    start = parent.mmap(0, PAGE, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS)
    with pytest.raises(ValueError):
        child.map_same_pages(parent.find(start))
    child.mmap(start, PAGE, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_FIXED)
    assert FutexTable.key(parent, start, False) != FutexTable.key(child, start, False)


def test_one_object_mapped_twice_and_counted(spaces):
    """A SharedMemory mapped at two addresses of one space and one of another; the
    limit counts each mapping, and the object lives while a mapping does."""
    import weakref
    mm, other = spaces
    shm = SharedMemory(2 * PAGE, b"/SYSV00000000")
    a = mm.mmap(0, 2 * PAGE, 3, L.MAP_SHARED, (shm, 0))
    b = mm.mmap(0, PAGE, 1, L.MAP_SHARED, (shm, PAGE))
    c = other.mmap(0x10000000, 2 * PAGE, 3, L.MAP_SHARED | L.MAP_FIXED, (shm, 0))
    mm.engine.write(a + PAGE, b"second page")
    assert mm.engine.read(b, 11) == b"second page" == other.engine.read(c + PAGE, 11)
    assert mm.mapped == 3 * PAGE
    ref = weakref.ref(shm)
    del shm
    mm.munmap(a, 2 * PAGE)
    mm.munmap(b, PAGE)
    assert ref() is not None
    other.munmap(c, 2 * PAGE)
    assert ref() is None


def test_fork_shares_shared_memory_objects():
    """AddressSpace.fork gives the child's copy of a shared VMA the parent's
    SharedMemory, so futex keys and SysV attach counts see one object."""
    parent = AddressSpace(Engine(), 64 << 20)
    start = parent.mmap(0, 2 * PAGE, 3, SHARED_ANON)
    parent.munmap(start, PAGE)
    child = parent.fork(Engine())
    try:
        v, w = parent.find(start + PAGE), child.find(start + PAGE)
        assert w.shm is v.shm and w.shm_offset == v.shm_offset == PAGE
        assert FutexTable.key(parent, start + PAGE, False) == \
            FutexTable.key(child, start + PAGE, False)
        child.engine.write(start + PAGE, b"child")
        assert parent.engine.read(start + PAGE, 5) == b"child"
    finally:
        child.free_all()
        parent.free_all()
