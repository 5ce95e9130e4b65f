"""VMA.piece (mm/vma.py) sets every slot itself, without __init__: each piece here is
compared slot by slot with what __init__ and the attributes a piece keeps give."""

from __future__ import annotations

import pytest

from pyunik.mm.vma import VMA

PAGE = 4096


def made(v: VMA, start: int, end: int, prot: int | None) -> dict:
    """What piece should give, by __init__ and then the attributes kept."""
    delta = start - v.start
    w = VMA(start, end, v.prot if prot is None else prot, v.flags, v.host + delta, v.name,
            v.reserve, v.file, v.offset + delta, v.may_write, v.host_backed, v.shm,
            v.shm_offset + delta)
    w.code = w.code or v.code
    w.written = w.written or v.written
    w.owner, w.vm_flags = v.owner, v.vm_flags
    if v.log is not None and (prot is None or prot == v.prot or not v.prot & 7):
        w.log = v.log
    return {name: getattr(w, name) for name in VMA.__slots__}


@pytest.mark.parametrize("prot", [None, 0, 1, 3, 5, 7])
@pytest.mark.parametrize("old", [0, 3, 5])
def test_a_piece_has_every_slot_as_init_and_the_kept_attributes_give(prot, old):
    v = VMA(0x10000, 0x10000 + 16 * PAGE, old, 0x22, 0x7f0000010000, "name", "reserve",
            "file", 3 * PAGE, False, True, "shm", 5 * PAGE)
    v.owner, v.vm_flags, v.log, v.view = "owner", 0x40, {0x10}, memoryview(b"x")
    for start, end in ((0x10000, 0x12000), (0x12000, 0x20000), (0x11000, 0x13000)):
        w = v.piece(start, end, prot)
        got = {name: getattr(w, name) for name in VMA.__slots__}    # none missing
        assert got == made(v, start, end, prot)
        assert w.view is None and (w.log is None or w.log is v.log)
