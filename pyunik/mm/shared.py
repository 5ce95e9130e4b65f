"""Shared memory objects: host memory that several address spaces map at once.

Linux backs MAP_SHARED anonymous memory and SysV shared memory segments with an
unlinked shmem file (mm/shmem.c: shmem_zero_setup names it "/dev/zero", shmget's
newseg "SYSV<key>"); every mapping of the object, in any process, maps the same
pages. pyunik does the same with a host memfd: a `SharedMemory` owns one, and each
guest mapping of it is a MAP_SHARED host mapping of that memfd, placed in the address
space's host window (mm/host.py) and shown to the engine like any other memory. Two
address spaces (two CPU engines: a parent and its forked child) that map the object
see each other's writes at once, since they are the same host pages.

Files that live in host memory (ramfs, so /dev/shm and memfd files) already keep
their contents in a host memfd of their own (fs/ramfs.py) and need no object here:
their inode is their identity.

An object lives as long as something refers to it: the VMAs mapping it (`VMA.shm`)
and, for a SysV segment, the kernel's segment table. The memfd is closed when the
last reference goes; the host mappings made from it stay valid until unmapped.

Layer: mm. Calls mm/host.py (the host's mmap) and the host's memfd_create.
"""

from __future__ import annotations

import os

from . import host

# mm/shmem.c: shared anonymous memory is an unlinked shmem file named /dev/zero.
SHMEM_ANON_NAME = b"/dev/zero"


class SharedMemory:
    """size bytes of zero-filled host memory in a memfd, mapped MAP_SHARED by every
    guest mapping of it. `name` is the unlinked file's name, as /proc/<pid>/maps
    shows it before " (deleted)" (b"/dev/zero", b"/SYSV0000002a"); `ino` its inode
    number there (a SysV segment's is its shmid; 0 where pyunik has none)."""

    __slots__ = ("fd", "size", "name", "ino", "__weakref__")

    def __init__(self, size: int, name: bytes, ino: int = 0):
        self.fd = os.memfd_create("pyunik-shm", os.MFD_CLOEXEC)
        self.size = 0
        self.name = name
        self.ino = ino
        try:
            self.grow(size)
        except host.HostMemoryError:
            os.close(self.fd)
            self.fd = None
            raise

    def grow(self, size: int) -> None:
        """At least size bytes (new pages read as zero). The object never shrinks:
        a host mapping past the end of its memfd would fault pyunik itself."""
        if size > self.size:
            try:
                os.ftruncate(self.fd, size)
            except OSError as e:
                raise host.HostMemoryError(e.errno) from None
            self.size = size

    def map_at(self, ptr: int, offset: int, size: int) -> None:
        """The object's pages [offset, offset+size) at host address ptr (inside a
        host window), replacing what was there."""
        self.grow(offset + size)
        host.map_file_at(ptr, self.fd, offset, size, shared=True, writable=True)

    def map(self, offset: int, size: int) -> int:
        """The object's pages [offset, offset+size) wherever the host likes."""
        self.grow(offset + size)
        return host.map_file(self.fd, offset, size, shared=True, writable=True)

    def resident(self) -> int:
        """Bytes of it the host holds (pages ever touched and not given back)."""
        return os.fstat(self.fd).st_blocks * 512

    def __del__(self):
        fd = getattr(self, "fd", None)
        if fd is not None:
            os.close(fd)
            self.fd = None

    def __repr__(self) -> str:
        return "SharedMemory(%s, %d bytes)" % (self.name.decode(errors="replace"), self.size)
