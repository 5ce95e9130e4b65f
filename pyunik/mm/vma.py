"""A VMA: one run of guest pages with one protection and one host backing, and the
page arithmetic every part of mm/ uses.

Layer: mm. Calls nothing of pyunik but abi/. AddressSpace (mm/address_space.py) keeps
the sorted list of VMAs; mm/remap.py and mm/maps.py read them.
"""

from __future__ import annotations

from ..abi import linux as L


def page_up(x: int) -> int:
    return (x + L.PAGE_SIZE - 1) & L.PAGE_MASK


def page_down(x: int) -> int:
    return x & L.PAGE_MASK


class VMA:
    """A run of guest pages [start, end) with one protection and one host backing."""

    __slots__ = ("start", "end", "prot", "flags", "host", "name", "reserve", "file", "offset",
                 "may_write", "host_backed", "code", "shm", "shm_offset", "owner", "view",
                 "vm_flags", "written", "log")

    def __init__(self, start, end, prot, flags, host_ptr, name="", reserve=None, file=None,
                 offset=0, may_write=True, host_backed=False, shm=None, shm_offset=0):
        self.start = start
        self.end = end
        self.prot = prot
        self.flags = flags        # MAP_* flags it was created with (type, growsdown)
        self.host = host_ptr      # host address of self.start
        self.name = name          # "[heap]", "[stack]", a file path, or ""
        self.reserve = reserve    # HostWindows or the heap's HostReserve it lives in, or None
        self.file = file          # the inode a file mapping was made from, or None
        self.offset = offset      # file offset of self.start
        self.may_write = may_write      # False: a shared map of a file not open for writing
        self.host_backed = host_backed  # the host maps the file's own pages here
        # The SharedMemory (mm/shared.py) whose pages these are, from shm_offset:
        # shared anonymous memory (a copied file's shared mapping too) and SysV
        # segments; every address space mapping it shares them.
        self.shm = shm
        self.shm_offset = shm_offset
        # Ever executable? Then the CPU may hold translated code for these pages, and
        # the kernel writes them only through the engine, which invalidates it.
        self.code = prot & 4 != 0
        # Ever writable? A private mapping is charged to the commit limit once it is
        # (Linux's VM_ACCOUNT, which smaps shows) and stays charged.
        self.written = prot & 2 != 0
        # The process that made it, where several programs share one address space
        # (kernel/apps.py: its mappings go when it exits); None otherwise.
        self.owner = None
        # Its host memory [start, end) as a memoryview, made by mm/usermem.py when
        # first copied to or from. start and host never change (a range moved is a
        # new VMA); where an mprotect cuts the VMA in place its end moves and the view
        # is dropped (AddressSpace.mprotect).
        self.view = None
        # What fork does with it (madvise's VM_DONTCOPY, VM_WIPEONFORK: mm/fork_advice.py);
        # every piece, grown or moved copy of it keeps them, as Linux's vm_flags.
        self.vm_flags = 0
        # A write log, or None. A set of page numbers (addr >> 12) when its host
        # memory was all zero when it was mapped and its page-table entries were
        # written fresh (cpu/paging.py), since when the MMU marks each page the
        # guest touches accessed and the kernel's own writes (mm/usermem.py) are
        # noted here: munmap then zeroes just those pages (AddressSpace._written).
        # Made by mmap's shortest path; a piece of the VMA keeps it only while
        # that stays true (`piece`).
        self.log = None

    def host_at(self, addr: int) -> int:
        return self.host + (addr - self.start)

    def piece(self, start: int, end: int, prot: int | None = None) -> "VMA":
        """The part [start, end) of this VMA as a VMA of its own (prot: with that
        protection), everything else kept (owner, fork advice, ever executable or
        written), its memoryview not. Every slot is set here as __init__ would,
        without its call (a thread stack's mprotect makes one each time)."""
        v = _new(VMA)
        delta = start - self.start
        if prot is None:
            prot = self.prot
        v.start = start
        v.end = end
        v.prot = prot
        v.flags = self.flags
        v.host = self.host + delta
        v.name = self.name
        v.reserve = self.reserve
        v.file = self.file
        v.offset = self.offset + delta
        v.may_write = self.may_write
        v.host_backed = self.host_backed
        v.shm = self.shm
        v.shm_offset = self.shm_offset + delta
        v.code = self.code or prot & 4 != 0
        v.written = self.written or prot & 2 != 0
        v.owner = self.owner
        v.view = None
        v.vm_flags = self.vm_flags
        v.log = None
        if self.log is not None and self.start <= start and end <= self.end and \
                (prot == self.prot or not self.prot & 7):
            # Its pages keep their entries, or get fresh ones over none: a piece
            # that loses access loses the log, so pages with none have had none
            # since the log began.
            v.log = self.log
        return v

    def __repr__(self) -> str:
        return "VMA(%#x-%#x %s %s)" % (self.start, self.end, prot_string(self.prot, self.flags),
                                       self.name)


_new = object.__new__


def prot_string(prot: int, flags: int) -> str:
    return ("r" if prot & 1 else "-") + ("w" if prot & 2 else "-") + \
        ("x" if prot & 4 else "-") + ("s" if flags & L.MAP_TYPE == L.MAP_SHARED else "p")


def own_pages(v: VMA) -> bool:
    """Are v's host pages its reserve's own anonymous private memory (not a file's,
    not shared memory placed over it)?"""
    return not v.host_backed and v.flags & L.MAP_TYPE == L.MAP_PRIVATE
