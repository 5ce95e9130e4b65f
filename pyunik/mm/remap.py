"""mremap(2) on an AddressSpace: shrinking, growing in place, moving (MREMAP_MAYMOVE,
MREMAP_FIXED, MREMAP_DONTUNMAP) and duplicating a shared mapping (old_size 0).

Layer: mm. A mixin of AddressSpace (mm/address_space.py), whose VMAs, host windows and
engine regions it works on; calls mm/host.py for host mappings. Checked against
Linux's mm/mremap.c.
"""

from __future__ import annotations

from errno import EFAULT, EINVAL, ENOMEM

from ..abi import linux as L
from ..errors import KernelError
from . import host
from .vma import VMA, own_pages, page_up


def _page_align(x: int) -> int:
    """PAGE_ALIGN on an unsigned long: wraps to 0 past 2**64 - PAGE_SIZE."""
    return page_up(x) & 0xFFFFFFFFFFFFFFFF


def _same_file_mapping(v: VMA, w: VMA) -> bool:
    """Is w, right after v, more of the same file mapping (the next pages of the
    file, the same protection and kind), though on other host pages: the pages a
    file mapping has past its file's end, which mmap makes anonymous (private) or
    shared zero pages (mm/mmap_file.py) and Linux keeps in one VMA?"""
    return v.file is not None and w.file is v.file and w.start == v.end and \
        w.offset == v.offset + (v.end - v.start) and w.prot == v.prot and \
        w.flags & L.MAP_TYPE == v.flags & L.MAP_TYPE and w.owner is v.owner


def _continues(v: VMA, w: VMA) -> bool:
    """Is w, right after v, the same mapping on the same host pages further on (with
    the same VM_ACCOUNT, which a private mapping once writable keeps)?"""
    size = v.end - v.start
    return w.prot == v.prot and w.flags == v.flags and w.name == v.name \
        and w.file is v.file and w.offset == v.offset + size and w.shm is v.shm \
        and w.shm_offset == v.shm_offset + size and w.reserve is v.reserve \
        and w.host == v.host + size and w.host_backed == v.host_backed \
        and w.may_write == v.may_write and w.vm_flags == v.vm_flags \
        and (w.written == v.written or v.flags & L.MAP_TYPE != L.MAP_PRIVATE) \
        and w.owner is v.owner


def _file_end(v: VMA) -> int | None:
    """Where v's pages past its file's end begin (the file's size, page-rounded, as
    an address of v's, v.start at least), or None when v maps no file of known size."""
    size = getattr(v.file, "size", None) if v.file is not None else None
    if size is None:
        return None
    return v.start + page_up(max(0, size - v.offset))


def _within_file(v: VMA, start: int, length: int) -> int:
    """How much of [start, start+length) of v is within its file's end, if v maps a
    file (host pages past it may be a host file's, which must not be touched: the
    guest cannot see them, and zero pages stand for them after a copy)."""
    end = _file_end(v)
    if end is None:
        return length
    return max(0, min(length, end - start))


class Remap:
    """mremap for AddressSpace (see the module docstring)."""

    def mremap(self, old: int, old_len: int, new_len: int, flags: int, new_addr: int) -> int:
        """mremap(2), checked in Linux's order (mm/mremap.c: check_mremap_params, then
        the VMA at old, then resize_is_valid): bad arguments are EINVAL and nothing
        mapped at old is EFAULT, before anything changes. Where Linux unmaps the
        destination or the shrunk tail and then fails, pyunik fails first. A file
        mapping's pages past its file's end stay out of reach wherever they go."""
        new = self._mremap(old, old_len, new_len, flags, new_addr)
        self._hide_past_file_end(new, new + _page_align(new_len))
        return new

    def _mremap(self, old: int, old_len: int, new_len: int, flags: int, new_addr: int) -> int:
        if flags & ~(L.MREMAP_MAYMOVE | L.MREMAP_FIXED | L.MREMAP_DONTUNMAP):
            raise KernelError(EINVAL)
        if old & ~L.PAGE_MASK:
            raise KernelError(EINVAL)
        old_len, new_len = _page_align(old_len), _page_align(new_len)
        if new_len == 0 or new_len > L.TASK_SIZE:
            raise KernelError(EINVAL)
        moving = flags & (L.MREMAP_FIXED | L.MREMAP_DONTUNMAP)
        if moving:
            if new_addr & ~L.PAGE_MASK or not flags & L.MREMAP_MAYMOVE:
                raise KernelError(EINVAL)
            if flags & L.MREMAP_DONTUNMAP and old_len != new_len:
                raise KernelError(EINVAL)
            if new_addr > L.TASK_SIZE - new_len:
                raise KernelError(EINVAL)
        v = self.find(old)
        if v is None:
            raise KernelError(EFAULT)
        if old + old_len > v.end:
            v = self._rejoin(v, old + old_len)
        if old_len == 0:
            return self._mremap_duplicate(v, old, new_len, flags, new_addr)
        if moving:
            return self._mremap_to(v, old, old_len, new_len, flags, new_addr)
        if old_len == new_len:
            return old
        if old_len > new_len:
            self.munmap(old + new_len, old_len - new_len)
            return old
        if old_len > v.end - old:
            # growing across the end of the VMA: EFAULT, unless the VMAs after it
            # are the rest of one file mapping (its pages past the file's end)
            pieces = self._file_pieces(v, old, old + old_len)
            return self._grow_pieces(pieces, old, old_len, new_len, flags)
        self._charge(new_len - old_len)
        end = old + new_len
        if old + old_len == v.end and end <= L.TASK_SIZE and self.is_free(v.end, end):
            return self._relocate(old, old_len, old, new_len, 0)
        if not flags & L.MREMAP_MAYMOVE:
            raise KernelError(ENOMEM)
        return self._relocate(old, old_len, self.find_free(new_len), new_len, flags)

    def _rejoin(self, v: VMA, end: int) -> VMA:
        """v and the VMAs after it up to end as one VMA, where each is the same
        mapping as v (pieces an mprotect made and another one made alike again,
        which Linux merges back into one VMA, so that mremap sees one): the same
        protection, kind, file at the next offset and host pages right after v's.
        v itself where they are not."""
        joined = v
        for w in self.overlapping(v.end, end):
            if w.start != joined.end or not _continues(joined, w):
                break
            joined = joined.piece(joined.start, w.end)
            joined.code = joined.code or w.code
        if joined is not v:
            self._replace(self.overlapping(v.start, joined.end), [joined])
        return joined

    def _mremap_duplicate(self, v: VMA, old: int, new_len: int, flags: int,
                          new_addr: int) -> int:
        """mremap with old_size 0: a second mapping of the same pages of a shared
        mapping (vma_to_resize refuses a private one with EINVAL), where
        MREMAP_FIXED says or anywhere with MREMAP_MAYMOVE (else it could only grow
        in place, which a zero-length range never can: ENOMEM)."""
        if v.flags & L.MAP_TYPE == L.MAP_PRIVATE or (v.shm is None and not v.host_backed):
            raise KernelError(EINVAL)
        if not flags & L.MREMAP_MAYMOVE:
            raise KernelError(ENOMEM)
        if flags & L.MREMAP_FIXED:
            replaced = sum(min(w.end, new_addr + new_len) - max(w.start, new_addr)
                           for w in self.overlapping(new_addr, new_addr + new_len))
            self._charge(new_len - replaced)
            self.unmap_range(new_addr, new_addr + new_len)
        else:
            self._charge(new_len)
            new_addr = self.find_free(new_len)
        return self._map_pages_of(v, old, new_addr, new_len).start

    def _mremap_to(self, v: VMA, old: int, old_len: int, new_len: int, flags: int,
                   new_addr: int) -> int:
        """mremap with MREMAP_FIXED or MREMAP_DONTUNMAP (mremap_to in Linux)."""
        if old < new_addr + new_len and new_addr < old + old_len:
            raise KernelError(EINVAL)       # the ranges overlap
        pieces = None
        if min(old_len, new_len) > v.end - old:
            pieces = self._file_pieces(v, old, old + min(old_len, new_len))
        replaced = 0
        if flags & L.MREMAP_FIXED:
            replaced = sum(min(w.end, new_addr + new_len) - max(w.start, new_addr)
                           for w in self.overlapping(new_addr, new_addr + new_len))
        kept = old_len if flags & L.MREMAP_DONTUNMAP else 0
        self._charge(new_len - min(old_len, new_len) + kept - replaced)
        if flags & L.MREMAP_FIXED:
            self.unmap_range(new_addr, new_addr + new_len)
        else:
            new_addr = self.find_free(new_len, new_addr)
        if old_len > new_len:
            self.unmap_range(old + new_len, old + old_len)
            old_len = new_len
        if pieces is not None:
            return self._move_pieces(pieces, old, old_len, new_addr, new_len, flags)
        return self._relocate(old, old_len, new_addr, new_len, flags)

    def _file_pieces(self, v: VMA, start: int, end: int) -> list[tuple[int, int]]:
        """The ranges [a, b) of the VMAs from v on that cover [start, end) as one file
        mapping (`_same_file_mapping`: its pages within the file's end and past it,
        Linux's one VMA); EFAULT where they do not."""
        pieces = [(start, v.end)]
        last = v
        for w in self.overlapping(v.end, end):
            if not _same_file_mapping(last, w):
                break
            pieces.append((w.start, min(w.end, end)))
            last = w
        if pieces[-1][1] < end:
            raise KernelError(EFAULT)
        return pieces

    def _grow_pieces(self, pieces: list[tuple[int, int]], old: int, old_len: int,
                     new_len: int, flags: int) -> int:
        """Growing a file mapping that is several VMAs here: in place when the pages
        after it are free (the last piece grows), else moved with MREMAP_MAYMOVE."""
        self._charge(new_len - old_len)
        end = old + new_len
        if end <= L.TASK_SIZE and self.is_free(old + old_len, end):
            a, b = pieces[-1]
            self._relocate(a, b - a, a, end - a, 0)
            return old
        if not flags & L.MREMAP_MAYMOVE:
            raise KernelError(ENOMEM)
        return self._move_pieces(pieces, old, old_len, self.find_free(new_len), new_len, flags)

    def _move_pieces(self, pieces: list[tuple[int, int]], old: int, old_len: int, new: int,
                     new_len: int, flags: int) -> int:
        """Each piece of [old, old+old_len) to its place in the free [new, new+new_len),
        the growth (if any) added to the last one (mremap hides the pages past the
        file's end afterwards)."""
        for a, b in pieces:
            if a >= old + old_len:
                break
            b = min(b, old + old_len)
            grow = new_len - old_len if b == old + old_len else 0
            self._relocate(a, b - a, new + (a - old), b - a + grow, flags)
        return new

    def _hide_past_file_end(self, start: int, end: int) -> None:
        """The pages of file mappings in [start, end) wholly past their file's end
        get no access in the engine (a touch is SIGBUS), as mmap leaves them."""
        for v in self.overlapping(start, end):
            cut = _file_end(v)
            if cut is not None and cut < v.end:
                self.hide_past_end(max(cut, start), min(v.end, end))

    def _relocate(self, old: int, old_len: int, new: int, new_len: int, flags: int) -> int:
        """Move the pages [old, old+old_len) of one VMA to [new, new+new_len), which is
        free (new == old: growing in place into free pages after it)."""
        v = self.find(old)
        if new == old and v.reserve is self.windows and own_pages(v) \
                and self.windows.host_for(v.start, old + new_len - v.start) == v.host:
            # The window's zero pages after it are already in place.
            grown = v.piece(v.start, old + new_len)
            self._replace([v], [grown])
            self.mapped += new_len - old_len
            if grown.prot:
                self.regions.show(v.end, grown.end, grown.prot, grown.host_at(v.end))
            return old
        if v.shm is not None:
            # Shared memory keeps its pages: the object is mapped again at the new
            # place (grown when the mapping grows past its end, where Linux would
            # give SIGBUS), and the old range goes unless MREMAP_DONTUNMAP keeps it.
            offset = v.shm_offset + (old - v.start)
            attrs = (v.file, v.offset + (old - v.start), v.name, v.may_write, v.code)
            if not flags & L.MREMAP_DONTUNMAP:
                self.unmap_range(old, old + old_len)
            moved = self.map_shared_memory(new, new_len, v.prot, v.flags, v.shm, offset)
            moved.file, moved.offset, moved.name, moved.may_write, moved.code = attrs
            moved.vm_flags = v.vm_flags
            return new
        dst = self.windows.host_for(new, new_len) if new != old else None
        whole = v.start == old and v.end == old + old_len and v.reserve is not self._heap \
            and not flags & L.MREMAP_DONTUNMAP
        if whole:
            # The whole VMA: the host moves its pages without copying.
            self._engine_unmap(v, v.start, v.end)
            try:
                ptr = host.move_to(v.host, old_len, new_len, dst)
                if v.reserve is not None:
                    self.windows.decommit(v.host, old_len, own_pages=False)  # refill the hole
            except host.HostMemoryError:
                self._engine_map(v)
                raise KernelError(ENOMEM) from None
            self._replace([v], [])
            self.mapped -= old_len
            moved = VMA(new, new + new_len, v.prot, v.flags, ptr, v.name,
                        self.windows if dst is not None else None, v.file, v.offset,
                        v.may_write, v.host_backed)
        else:
            shared = (v.flags & L.MAP_TYPE) != L.MAP_PRIVATE
            try:
                ptr = host.allocate(new_len, shared=shared) if dst is None else dst
            except host.HostMemoryError:
                raise KernelError(ENOMEM) from None
            host.copy(ptr, v.host_at(old), _within_file(v, old, old_len))
            if flags & L.MREMAP_DONTUNMAP:
                host.discard(v.host_at(old), old_len)
            else:
                self.unmap_range(old, old + old_len)
            # a private file mapping's pages, copied, are still its file's at
            # their offset (what /proc/<pid>/maps and MADV_DONTNEED see)
            moved = VMA(new, new + new_len, v.prot, v.flags, ptr, v.name,
                        self.windows if dst is not None else None, v.file,
                        v.offset + (old - v.start), v.may_write)
        moved.vm_flags = v.vm_flags       # madvise's fork advice goes with the pages
        moved.written = moved.written or v.written
        self._replace([], [moved])
        self.mapped += new_len
        self._engine_map(moved)
        return new
