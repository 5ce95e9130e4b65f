"""madvise(2) on the AddressSpace: MADV_DONTNEED gives a private mapping of a copied
file (as a tar image's member) the file's bytes again, as Linux re-reads them, and
private anonymous pages zeros; MADV_REMOVE punches the file behind a shared
mapping (EINVAL without one, EOPNOTSUPP where its filesystem cannot); MADV_FREE
takes private anonymous memory only; the fork advice splits VMAs and fork follows
it (the guest side: tests/test_madvfork.py)."""

from __future__ import annotations

import stat as S
from errno import EINVAL, EOPNOTSUPP

import pytest

from pyunik.abi import linux as L
from pyunik.cpu.engine import Engine
from pyunik.errors import KernelError
from pyunik.fs.ramfs import RamFS, RamInode
from pyunik.fs.openfile import InodeFile
from pyunik.mm.address_space import AddressSpace
from pyunik.mm.mmap_file import mmap_file

PAGE = 4096
PRIVATE_ANON = L.MAP_PRIVATE | L.MAP_ANONYMOUS


@pytest.fixture
def mm():
    space = AddressSpace(Engine(), 64 << 20)
    yield space
    space.free_all()


class CopiedInode(RamInode):
    """A file the host cannot map (as a tar image's member): mmap copies it."""

    def mmap_source(self, writable, end):
        return None


def test_dontneed_reads_a_copied_file_again(mm):
    inode = CopiedInode(RamFS(), S.S_IFREG | 0o644)
    inode.write(0, b"A" * PAGE + b"B" * 100)
    f = InodeFile(inode, L.O_RDONLY)
    start = mmap_file(mm, 0, 2 * PAGE, L.PROT_READ | L.PROT_WRITE, L.MAP_PRIVATE, f, 0)
    assert not mm.find(start).host_backed
    mm.engine.write(start, b"x" * (PAGE + 100))
    mm.madvise(start, 2 * PAGE, L.MADV_DONTNEED)
    assert mm.engine.read(start, PAGE + 100) == b"A" * PAGE + b"B" * 100


def test_dontneed_zeroes_private_anonymous_pages(mm):
    start = mm.mmap(0, 2 * PAGE, L.PROT_READ | L.PROT_WRITE, PRIVATE_ANON)
    mm.engine.write(start, b"y" * (2 * PAGE))
    mm.madvise(start, PAGE, L.MADV_DONTNEED)
    assert mm.engine.read(start, 2 * PAGE) == bytes(PAGE) + b"y" * PAGE


def test_remove_of_private_anonymous_memory_is_einval(mm):
    """No file is behind it (the guest side: tests/test_madvise_remove.py)."""
    start = mm.mmap(0, PAGE, L.PROT_READ | L.PROT_WRITE, PRIVATE_ANON)
    with pytest.raises(KernelError) as e:
        mm.madvise(start, PAGE, L.MADV_REMOVE)
    assert e.value.errno == EINVAL


class NoHolesInode(RamInode):
    """A file on a filesystem that cannot punch holes (as hostfs in pyunik)."""
    punch = None


@pytest.mark.parametrize("inode_class,answer", [(RamInode, None),
                                                (NoHolesInode, EOPNOTSUPP)])
def test_remove_punches_the_mapped_file_where_its_filesystem_can(mm, inode_class, answer):
    """A shared writable mapping of a file: MADV_REMOVE is fallocate(PUNCH_HOLE) on
    the file, its pages zeros and its size kept; EOPNOTSUPP where fallocate is."""
    inode = inode_class(RamFS(), S.S_IFREG | 0o644)
    inode.write(0, b"F" * (3 * PAGE))
    f = InodeFile(inode, L.O_RDWR)
    start = mmap_file(mm, 0, 3 * PAGE, L.PROT_READ | L.PROT_WRITE, L.MAP_SHARED, f, 0)
    if answer is not None:
        with pytest.raises(KernelError) as e:
            mm.madvise(start, PAGE, L.MADV_REMOVE)
        assert e.value.errno == answer
        return
    mm.madvise(start + PAGE, PAGE, L.MADV_REMOVE)
    assert inode.read(0, 3 * PAGE) == b"F" * PAGE + bytes(PAGE) + b"F" * PAGE
    assert mm.engine.read(start, 3 * PAGE) == b"F" * PAGE + bytes(PAGE) + b"F" * PAGE
    assert inode.size == 3 * PAGE


def test_fork_advice_splits_and_fork_follows_it(mm):
    """DONTFORK on the middle page splits the VMA in three; the child lacks that
    page; WIPEONFORK gives the child zeros and the parent keeps its bytes; a copied
    file's private mapping refuses WIPEONFORK (EINVAL)."""
    start = mm.mmap(0, 3 * PAGE, L.PROT_READ | L.PROT_WRITE, PRIVATE_ANON)
    mm.engine.write(start, b"z" * (3 * PAGE))
    mm.madvise(start + PAGE, PAGE, L.MADV_DONTFORK)
    mm.madvise(start + 2 * PAGE, PAGE, L.MADV_WIPEONFORK)
    assert [(v.start - start, v.end - start) for v in mm.overlapping(start, start + 3 * PAGE)] \
        == [(0, PAGE), (PAGE, 2 * PAGE), (2 * PAGE, 3 * PAGE)]
    child = mm.fork(Engine())
    try:
        assert child.covered(start, start + PAGE) and child.is_free(start + PAGE, start + 2 * PAGE)
        assert child.engine.read(start, PAGE) == b"z" * PAGE
        assert child.engine.read(start + 2 * PAGE, PAGE) == bytes(PAGE)
        assert child.mapped == mm.mapped - PAGE
    finally:
        child.free_all()
    assert mm.engine.read(start, 3 * PAGE) == b"z" * (3 * PAGE)
    inode = CopiedInode(RamFS(), S.S_IFREG | 0o644)
    inode.write(0, b"A" * PAGE)
    f = InodeFile(inode, L.O_RDONLY)
    mapped = mmap_file(mm, 0, PAGE, L.PROT_READ, L.MAP_PRIVATE, f, 0)
    with pytest.raises(KernelError) as e:
        mm.madvise(mapped, PAGE, L.MADV_WIPEONFORK)
    assert e.value.errno == EINVAL


def test_free_takes_private_anonymous_memory_only(mm):
    anon = mm.mmap(0, PAGE, L.PROT_READ | L.PROT_WRITE, PRIVATE_ANON)
    mm.madvise(anon, PAGE, L.MADV_FREE)
    shared = mm.mmap(0, PAGE, L.PROT_READ | L.PROT_WRITE, L.MAP_SHARED | L.MAP_ANONYMOUS)
    with pytest.raises(KernelError) as e:
        mm.madvise(shared, PAGE, L.MADV_FREE)
    assert e.value.errno == EINVAL
    for advice in (L.MADV_DOFORK, L.MADV_KEEPONFORK, L.MADV_WILLNEED, L.MADV_HUGEPAGE):
        mm.madvise(shared, PAGE, advice)
