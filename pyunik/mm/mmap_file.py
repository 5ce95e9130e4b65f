"""mmap of an open file: which file can be mapped how, and what fills the mapping
(the file half of Linux's do_mmap in mm/mmap.c).

Layer: mm. Called by the mmap system call with the open file; calls the file's inode
(`mmap_source`, `read`, `size`) and the AddressSpace. The checks come in Linux's
order: O_PATH is EBADF, a file with nothing to map ENODEV, a file not open for reading
EACCES, a shared writable mapping of a file not open for writing EACCES, an offset
past what a file can hold EOVERFLOW.

Files the host can map (ramfs, memfd, image files that are whole host files) share
their pages with read()/write(); the others (hostfs copies, tar members) are copied
into fresh pages at mmap time, whatever the mapping's protection.
"""

from __future__ import annotations

import ctypes
import os
from errno import EACCES, EBADF, ENODEV, EOVERFLOW

from ..abi import linux as L
from ..errors import KernelError
from .address_space import page_up

MAX_LFS_FILESIZE = L.MAX_LFS_FILESIZE


def mmap_file(mm, addr: int, length: int, prot: int, flags: int, file, offset: int) -> int:
    """Map length bytes of file from offset (page aligned, checked by the caller)."""
    if file.flags & L.O_PATH:
        raise KernelError(EBADF)
    inode = file.inode
    if inode is None or inode.is_dir:
        raise KernelError(ENODEV)
    if getattr(inode, "mmap_anonymous", False):          # /dev/zero
        return mm.mmap(addr, length, prot, flags | L.MAP_ANONYMOUS)
    if not inode.is_regular:
        raise KernelError(ENODEV)
    if not file.readable:
        raise KernelError(EACCES)
    shared = flags & L.MAP_TYPE in (L.MAP_SHARED, L.MAP_SHARED_VALIDATE)
    if shared and prot & L.PROT_WRITE and not file.writable:
        raise KernelError(EACCES)
    size = page_up(length)
    if length and (offset & 0xFFFFFFFFFFFFFFFF) > MAX_LFS_FILESIZE - size:
        raise KernelError(EOVERFLOW)
    may_write = file.writable or not shared
    source = inode.mmap_source(shared and file.writable, offset + size)
    if source is not None:
        # Map the host file only where it has pages: touching a host mapping past
        # the end of its file would fault pyunik itself. Pages wholly past the end
        # are anonymous zeros, out of the guest's reach (below).
        host_fd, host_offset = source[0], source[1] + offset
        backed = min(size, page_up(max(0, os.fstat(host_fd).st_size - host_offset)))
        start = mm.mmap(addr, length, prot, flags, (host_fd, host_offset, may_write), backed)
    else:
        start = mm.mmap(addr, length, prot, flags)
        data_size = min(size, max(0, inode.size - offset))
        if data_size:
            fill(mm, start, inode.read(offset, data_size))
        backed = page_up(data_size)
    path = file.path
    mm.name_file_mapping(start, size, inode, offset,
                         path.text().decode(errors="replace") if path else "")
    # A touch of a page wholly past the file's end is SIGBUS, as on Linux (a
    # ramfs file's host pages may go further: the file can grow into them).
    valid = min(backed, page_up(max(0, inode.size - offset)))
    mm.hide_past_end(start + valid, start + size)
    if not may_write:
        for v in mm.overlapping(start, start + size):
            v.may_write = False
    return start


def fill(mm, start: int, data: bytes) -> None:
    """Put a file's contents into a mapping just made at start, whatever its
    protection: through the engine where the engine maps the pages (it drops any
    code translated from them), straight into the host pages where it does not (a
    PROT_NONE mapping is not in the engine at all)."""
    end = start + len(data)
    for v in mm.overlapping(start, end):
        lo, hi = max(v.start, start), min(v.end, end)
        piece = data[lo - start:hi - start]
        if v.prot & 7:
            mm.engine.write(lo, piece)
        else:
            ctypes.memmove(v.host_at(lo), piece, hi - lo)
