"""ELF loading: check an x86-64 executable and map its PT_LOAD segments.

Reads the ELF header and program headers with struct (abi/elf.py's formats) and maps
the segments into an AddressSpace the way Linux's fs/binfmt_elf.c does: ET_EXEC at its
own addresses, ET_DYN (static-pie) at 0x555555554000, each segment's pages with its
protection: every page holding its file bytes (the partial first and last ones too)
mapped private from the file at its offset, as elf_map does (the file's own pages
where the host holds the file, else a copy named as the file), the rest of a writable
segment's last file page zeroed (padzero) and the bss pages after it anonymous
(vm_brk_flags). A page shared by two segments gets both segments' protections and
bytes (a copy), and the later segment's file identity.

Every header field the loader uses is checked against the file and the address space
before anything is mapped (`parse`, then `plan`): a file is hostile input, and a bad
one gets one line, never a Python exception from deep inside. What is not a loadable
x86-64 ELF raises ExecFormatError (ENOEXEC); segments that do not fit the guest memory
limit raise KernelError(ENOMEM).

Layer: loader.
Calls: mm/ (AddressSpace) only.
"""

from __future__ import annotations

from errno import ENOMEM

from ..abi import elf as E
from ..abi import linux as L
from ..errors import KernelError
from ..mm.address_space import (MMAP_MIN_ADDR, PIE_BASE, STACK_SIZE, STACK_TOP, page_down,
                                page_up)



class ExecFormatError(Exception):
    """Not an executable pyunik can load (ENOEXEC)."""


# Plain classes rather than dataclasses: each dataclass compiles its methods when
# the module is imported (~0.5 ms apiece, paid by every run).

class Segment:
    """One program header (Elf64_Phdr); p_paddr and p_align are not used. Read only."""
    __slots__ = ("type", "flags", "offset", "vaddr", "filesz", "memsz")

    def __init__(self, type: int, flags: int, offset: int, vaddr: int, filesz: int,
                 memsz: int):
        self.type, self.flags, self.offset = type, flags, offset
        self.vaddr, self.filesz, self.memsz = vaddr, filesz, memsz


class ElfHeader:
    """The checked facts of an executable: every field here is within the file and
    (for PT_LOAD, relative to the load bias) within the user address range. Read only."""
    __slots__ = ("type", "entry", "phoff", "phnum", "loads", "interp")

    def __init__(self, type: int, entry: int, phoff: int, phnum: int,
                 loads: tuple[Segment, ...], interp: str | None):
        self.type, self.entry, self.phoff, self.phnum = type, entry, phoff, phnum
        self.loads, self.interp = loads, interp


class LoadedImage:
    """Where load() put an executable."""
    __slots__ = ("base", "entry", "phdr", "phent", "phnum", "brk", "interp")

    def __init__(self, *, base: int, entry: int, phdr: int, phent: int, phnum: int,
                 brk: int, interp: str | None):
        self.base = base          # load bias added to every p_vaddr
        self.entry = entry        # where execution starts
        self.phdr = phdr          # guest address of the program headers (AT_PHDR)
        self.phent = phent
        self.phnum = phnum
        self.brk = brk            # end of the highest segment: where the heap starts
        self.interp = interp


def _prot(flags: int) -> int:
    return ((L.PROT_READ if flags & E.PF_R else 0) | (L.PROT_WRITE if flags & E.PF_W else 0)
            | (L.PROT_EXEC if flags & E.PF_X else 0))


def _truncated(what: str, end: int, size: int, start: int | None = None) -> ExecFormatError:
    """What lies past the end of the file, in the user's words."""
    if start is not None and start >= size:
        return ExecFormatError("truncated: %s starts at byte %s, past the end of the file (%d "
                               "bytes)" % (what, start if start < 1 << 32 else hex(start), size))
    return ExecFormatError("truncated: %s ends at byte %d, the file has %d" % (what, end, size))


def parse(data: bytes) -> ElfHeader:
    """Check the ELF header and the program headers against the file, as
    load_elf_binary does, and return what loading needs. data is the file's bytes:
    anything with len() and slices will do (kernel/exec.py's reads the file only
    where a slice asks)."""
    size = len(data)
    if data[:4] != b"\x7fELF":
        raise ExecFormatError("not an ELF file")
    if size < E.EHDR.size:
        raise _truncated("the ELF header", E.EHDR.size, size)
    (ident, e_type, machine, _, entry, phoff, _, _, _, phentsize, phnum, _, _,
     _) = E.EHDR.unpack(data[:E.EHDR.size])
    if ident[4] != E.ELFCLASS64:
        raise ExecFormatError("not a 64-bit ELF file")
    if ident[5] != E.ELFDATA2LSB:
        raise ExecFormatError("not a little-endian ELF file")
    if machine != E.EM_X86_64:
        raise ExecFormatError("not an x86-64 ELF file (e_machine %d)" % machine)
    if e_type not in (E.ET_EXEC, E.ET_DYN):
        raise ExecFormatError("not an executable (%s)"
                              % E.ET_NAMES.get(e_type, "e_type %d" % e_type))
    if phentsize != E.PHDR.size:
        raise ExecFormatError("bad program header size %d (want %d)" % (phentsize,
                                                                        E.PHDR.size))
    if not 0 < phnum <= 65536 // E.PHDR.size:
        raise ExecFormatError("bad program header count %d" % phnum)
    table_end = phoff + phnum * E.PHDR.size
    if table_end > size:
        raise _truncated("the program header table", table_end, size, phoff)
    table = data[phoff:table_end]
    segments = [Segment(*(f for i, f in enumerate(E.PHDR.unpack_from(table, k * 56))
                          if i not in (4, 7)))
                for k in range(phnum)]
    loads = tuple(s for s in segments if s.type == E.PT_LOAD)
    if not loads:
        raise ExecFormatError("no loadable segments")
    for n, s in enumerate(loads):
        if s.filesz > s.memsz:
            raise ExecFormatError("segment %d: p_filesz %#x beyond p_memsz %#x"
                                  % (n, s.filesz, s.memsz))
        if s.offset + s.filesz > size:
            raise _truncated("segment %d" % n, s.offset + s.filesz, size, s.offset)
        if (s.vaddr - s.offset) % L.PAGE_SIZE:
            raise ExecFormatError("segment %d: p_vaddr and p_offset differ in page offset" % n)
        if s.vaddr + s.memsz > L.TASK_SIZE:
            raise ExecFormatError("segment %d: outside the user address range" % n)
    interp = None
    for s in segments:
        if s.type == E.PT_INTERP:       # the first one counts, as in Linux
            if not 2 <= s.filesz <= L.PATH_MAX:
                raise ExecFormatError("bad PT_INTERP size %d" % s.filesz)
            if s.offset + s.filesz > size:
                raise _truncated("the PT_INTERP path", s.offset + s.filesz, size, s.offset)
            raw = data[s.offset:s.offset + s.filesz]
            if raw[-1] != 0 or b"\0" in raw[:-1]:
                raise ExecFormatError("PT_INTERP path is not one C string")
            interp = raw[:-1].decode(errors="surrogateescape")
            break
    return ElfHeader(e_type, entry, phoff, phnum, loads, interp)


def plan(mm, header: ElfHeader, interpreter: bool = False,
         at: int | None = None) -> tuple[int, list]:
    """The load bias and the (start, end, prot) page runs to map, checked against the
    address space: inside the user range, clear of the stack and (for a program) of
    what is mapped already, within the memory limit."""
    loads = header.loads
    low = page_down(min(s.vaddr for s in loads))
    high = page_up(max(s.vaddr + s.memsz for s in loads))
    if high - low > mm.limit:
        raise KernelError(ENOMEM)
    base = 0
    if header.type == E.ET_DYN:
        base = (mm.find_free(high - low) - low) if interpreter else \
            PIE_BASE if at is None else at - low
    # The protection of every page: the union over the segments that touch it,
    # computed over segment boundaries (a segment may be huge: never per page).
    ranges = [(page_down(base + s.vaddr), page_up(base + s.vaddr + s.memsz), _prot(s.flags))
              for s in loads]
    if min(r[0] for r in ranges) < MMAP_MIN_ADDR or max(r[1] for r in ranges) > L.TASK_SIZE:
        raise ExecFormatError("segments outside the user address range")
    runs = _protection_runs(ranges)
    if sum(end - start for start, end, _ in runs) > mm.limit - mm.mapped:
        raise KernelError(ENOMEM)
    stack = (STACK_TOP - STACK_SIZE, STACK_TOP)
    for start, end, _ in runs:
        if start < stack[1] and stack[0] < end:
            raise ExecFormatError("segments overlap the stack at %#x" % stack[0])
        if not interpreter and not mm.is_free(start, end):
            raise ExecFormatError("segments overlap a mapping at %#x" % start)
    return base, runs


def load(mm, data: bytes, name: str, interpreter: bool = False,
         at: int | None = None, file=None) -> LoadedImage:
    """Map the executable in data into the address space mm.

    An ET_DYN main program goes at 0x555555554000 (or at `at`, where several
    programs share the address space: kernel/apps.py); an interpreter (ld.so) goes where
    mmap would put it, top-down below the mmap base, as Linux's load_elf_interp does.
    Nothing is mapped unless every check passed.

    file, when given, is the inode data was read from: where the host can map it
    (`mmap_source`), a segment's whole pages of file bytes are the file's own pages,
    mapped private as binfmt_elf's elf_map does, rather than copies.
    """
    header = parse(data)
    base, runs = plan(mm, header, interpreter, at)
    source = file.mmap_source(False, len(data)) if file is not None else None
    pieces = _pieces(header.loads, base, runs)
    # An interpreter's segments replace what they overlap (the program's, for an
    # ET_EXEC interpreter at fixed addresses): load_elf_interp maps with MAP_FIXED.
    if interpreter:
        for start, end in _contiguous(runs):
            mm.unmap_range(start, end)
    rw = L.PROT_READ | L.PROT_WRITE
    for a, b, prot, owner, shared in pieces:
        s = header.loads[owner] if owner is not None else None
        if s is None:                       # bss: anonymous, as vm_brk_flags maps it
            mm.map_anonymous(a, b - a, rw, L.MAP_PRIVATE)
            continue
        offset = page_down(s.offset) + (a - page_down(base + s.vaddr))
        if source is not None and not shared:
            mm.map_file(a, b - a, prot, L.MAP_PRIVATE, source[0], source[1] + offset, True)
        else:
            mm.map_anonymous(a, b - a, rw, L.MAP_PRIVATE)
            if not shared:                  # the file's pages, copied
                mm.engine.write(a, data[offset:min(offset + b - a, len(data))])
        mm.name_file_mapping(a, b - a, file, offset, name)
    for i, s in enumerate(header.loads):
        if not s.filesz:
            continue
        lo, hi = base + s.vaddr, base + s.vaddr + s.filesz
        for a, b, prot, owner, shared in pieces:
            if shared and a < hi and lo < b:
                # A page two segments share holds both segments' bytes (where
                # Linux keeps only the later segment's file page).
                x, y = max(a, lo), min(b, hi)
                mm.engine.write(x, data[s.offset + (x - lo):s.offset + (y - lo)])
            elif owner == i and not shared and a < page_up(hi) <= b and hi & ~L.PAGE_MASK \
                    and s.memsz > s.filesz and s.flags & E.PF_W:
                # padzero: the rest of the last file page of a segment with a bss
                # (clear_user fails, and nothing is zeroed, where it is read-only).
                mm.engine.write(hi, bytes(page_up(hi) - hi))
    for start, end, prot in runs:
        if prot != rw:
            mm.set_protection(start, end, prot)
    # Each segment as if mapped with its own protection at once (elf_map): a read-only
    # one was never writable (no VM_ACCOUNT in /proc/<pid>/smaps).
    for v in mm.overlapping(runs[0][0], runs[-1][1]):
        v.written = bool(v.prot & L.PROT_WRITE)
    # AT_PHDR as Linux computes it: where the PT_LOAD holding e_phoff maps it.
    phdr = 0
    for s in header.loads:
        if s.offset <= header.phoff < s.offset + s.filesz:
            phdr = base + s.vaddr + (header.phoff - s.offset)
    brk = max(base + s.vaddr + s.memsz for s in header.loads)
    # e_entry is not checked, as in Linux: an entry outside the mappings faults
    # (SIGSEGV) on the first instruction. The sum wraps as an unsigned long does.
    return LoadedImage(base=base, entry=(base + header.entry) % (1 << 64), phdr=phdr,
                       phent=E.PHDR.size, phnum=header.phnum, brk=brk, interp=header.interp)


def _pieces(loads, base: int, runs) -> list[tuple[int, int, int, int | None, bool]]:
    """The runs cut into (start, end, prot, owner, shared) pieces, as binfmt_elf's
    elf_load maps them: each segment's pages from page_down(p_vaddr) to
    page_up(p_vaddr + p_filesz) are the file's (owner: the segment's index), the
    pages after them up to page_up(p_vaddr + p_memsz) anonymous bss (owner None).
    Where segments overlap in a page the later one owns it, as its MAP_FIXED mapping
    replaces the earlier; such a page is `shared` (copied, see load)."""
    mem = [(page_down(base + s.vaddr), page_up(base + s.vaddr + s.memsz)) for s in loads]
    files = [page_up(base + s.vaddr + s.filesz) if s.filesz else lo
             for s, (lo, _) in zip(loads, mem)]
    points = sorted({p for r in runs for p in r[:2]} | {p for r in mem for p in r}
                    | set(files))
    out: list[list] = []
    for start, end, prot in runs:
        for a, b in zip(points, points[1:]):
            if a < start or b > end:
                continue
            covering = [i for i, (lo, hi) in enumerate(mem) if lo <= a and b <= hi]
            i = covering[-1]
            owner = i if b <= files[i] else None
            shared = len(covering) > 1
            if out and out[-1][1] == a and out[-1][2:] == [prot, owner, shared]:
                out[-1][1] = b
            else:
                out.append([a, b, prot, owner, shared])
    return [tuple(p) for p in out]


def _protection_runs(ranges: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Disjoint (start, end, prot) runs covering the ranges, prot being the union of
    the ranges over each run; adjacent runs of equal prot merged."""
    points = sorted({p for start, end, _ in ranges for p in (start, end)})
    runs: list[list[int]] = []
    for a, b in zip(points, points[1:]):
        covering = [prot for start, end, prot in ranges if start <= a and b <= end]
        if not covering:
            continue
        prot = 0
        for p in covering:
            prot |= p
        if runs and runs[-1][1] == a and runs[-1][2] == prot:
            runs[-1][1] = b
        else:
            runs.append([a, b, prot])
    return [tuple(r) for r in runs]


def _contiguous(runs) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for start, end, _ in runs:
        if out and out[-1][1] == start:
            out[-1][1] = end
        else:
            out.append([start, end])
    return [tuple(r) for r in out]
