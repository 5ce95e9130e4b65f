"""ELF loading: check an x86-64 executable and map its PT_LOAD segments.

Reads headers with pyelftools and maps segments into an AddressSpace the way Linux's
fs/binfmt_elf.c does: ET_EXEC at its own addresses, ET_DYN (static-pie) at
0x555555554000, each segment's pages with its protection, file bytes copied, the rest
of the last page and the bss left zero. A page shared by two segments gets both
segments' protections. Anything that is not a loadable x86-64 ELF raises
ExecFormatError, which the caller reports as ENOEXEC.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from ..abi import linux as L
from ..abi.elf import PF_R, PF_W, PF_X
from ..mm.address_space import PIE_BASE, page_down, page_up


class ExecFormatError(Exception):
    """Not an executable pyunik can load (ENOEXEC)."""


@dataclass
class LoadedImage:
    base: int          # load bias added to every p_vaddr
    entry: int         # where execution starts
    phdr: int          # guest address of the program headers (AT_PHDR)
    phent: int
    phnum: int
    brk: int           # end of the highest segment: where the heap starts
    interp: str | None


def _prot(flags: int) -> int:
    return ((L.PROT_READ if flags & PF_R else 0) | (L.PROT_WRITE if flags & PF_W else 0)
            | (L.PROT_EXEC if flags & PF_X else 0))


def parse(data: bytes) -> tuple[ELFFile, list]:
    """Check the ELF header and return it with its PT_LOAD segments."""
    if data[:4] != b"\x7fELF":
        raise ExecFormatError("not an ELF file")
    if len(data) < 64:
        raise ExecFormatError("truncated ELF header")
    if data[4] != 2:
        raise ExecFormatError("not a 64-bit ELF file")
    try:
        elf = ELFFile(io.BytesIO(data))
        if elf["e_machine"] != "EM_X86_64":
            raise ExecFormatError("not an x86-64 ELF file (%s)" % elf["e_machine"])
        if elf["e_type"] not in ("ET_EXEC", "ET_DYN"):
            raise ExecFormatError("not an executable (%s)" % elf["e_type"])
        if elf["e_phentsize"] != 56 or not 0 < elf["e_phnum"] <= 65536 // 56:
            raise ExecFormatError("bad program headers")
        segments = [seg.header for seg in elf.iter_segments()]
    except ELFError as e:
        raise ExecFormatError(str(e)) from None
    except (ValueError, KeyError, AssertionError, EOFError) as e:
        raise ExecFormatError("malformed ELF: %s" % e) from None
    loads = [s for s in segments if s.p_type == "PT_LOAD"]
    if not loads:
        raise ExecFormatError("no loadable segments")
    for s in loads:
        if s.p_filesz > s.p_memsz or s.p_offset + s.p_filesz > len(data):
            raise ExecFormatError("segment outside the file")
        if (s.p_vaddr - s.p_offset) % L.PAGE_SIZE:
            raise ExecFormatError("misaligned segment")
    return elf, segments


def load(mm, data: bytes, name: str, interpreter: bool = False) -> LoadedImage:
    """Map the executable in data into the address space mm.

    An ET_DYN main program goes at 0x555555554000; an interpreter (ld.so) goes where
    mmap would put it, top-down below the mmap base, as Linux's load_elf_interp does.
    """
    elf, segments = parse(data)
    interp = None
    for s in segments:
        if s.p_type == "PT_INTERP":
            raw = data[s.p_offset:s.p_offset + s.p_filesz]
            interp = raw.split(b"\0", 1)[0].decode(errors="replace")
    loads = [s for s in segments if s.p_type == "PT_LOAD"]
    base = 0
    if elf["e_type"] == "ET_DYN":
        low = page_down(min(s.p_vaddr for s in loads))
        span = page_up(max(s.p_vaddr + s.p_memsz for s in loads)) - low
        base = (mm.find_free(span) - low) if interpreter else PIE_BASE

    # The protection of every page: the union over the segments that touch it,
    # computed over segment boundaries (a segment may be huge: never per page).
    ranges = [(page_down(base + s.p_vaddr), page_up(base + s.p_vaddr + s.p_memsz),
               _prot(s.p_flags)) for s in loads]
    if min(r[0] for r in ranges) < L.MMAP_MIN_ADDR or max(r[1] for r in ranges) > L.TASK_SIZE:
        raise ExecFormatError("segments outside the user address range")
    runs = _protection_runs(ranges)
    if sum(end - start for start, end, _ in runs) > mm.limit:
        raise ExecFormatError("segments larger than the guest memory limit")

    # Map runs of contiguous pages writable, copy the file bytes, then set protections.
    for start, end in _contiguous(runs):
        mm.map_anonymous(start, end - start, L.PROT_READ | L.PROT_WRITE,
                         L.MAP_PRIVATE, name)
    for s in loads:
        if s.p_filesz:
            mm.engine.write(base + s.p_vaddr, data[s.p_offset:s.p_offset + s.p_filesz])
    for start, end, prot in runs:
        if prot != L.PROT_READ | L.PROT_WRITE:
            mm.set_protection(start, end, prot)

    phoff, phnum = elf["e_phoff"], elf["e_phnum"]
    phdr = 0
    for s in segments:
        if s.p_type == "PT_PHDR":
            phdr = base + s.p_vaddr
    if not phdr:
        for s in loads:
            if s.p_offset <= phoff < s.p_offset + s.p_filesz:
                phdr = base + s.p_vaddr + (phoff - s.p_offset)
    brk = max(base + s.p_vaddr + s.p_memsz for s in loads)
    return LoadedImage(base=base, entry=base + elf["e_entry"], phdr=phdr, phent=56,
                       phnum=phnum, brk=brk, interp=interp)


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
