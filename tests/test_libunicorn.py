"""pyunik's own ctypes binding of the unicorn library (cpu/libunicorn.py) is the unicorn
package's library with the package's numbers: the same file loaded, every constant
equal to the package binding's, the version the library reports, errors with the
library's messages, hook exceptions re-raised, and a plain run that never imports the
package's Python binding (tests/test_startup.py lists it among what a run must not load)."""

from __future__ import annotations

import ctypes
import os

import pytest
import unicorn
from unicorn import x86_const
from unicorn.unicorn_py3.unicorn import uclib

from pyunik.cpu import libunicorn, unicorn_x86
from pyunik.cpu.libunicorn import (UC_ARCH_X86, UC_HOOK_INTR, UC_MODE_64, UC_PROT_ALL,
                                   Unicorn, UnicornError)


def test_the_library_is_the_packages():
    assert os.path.samefile(libunicorn._find(), uclib._name)
    # one library in the process: the same symbol at the same address
    ours = ctypes.cast(libunicorn.LIB.uc_open, ctypes.c_void_p).value
    theirs = ctypes.cast(uclib.uc_open, ctypes.c_void_p).value
    assert ours == theirs


def test_libunicorn_path_comes_first(tmp_path, monkeypatch):
    monkeypatch.setenv("LIBUNICORN_PATH", os.path.dirname(uclib._name))
    assert os.path.samefile(libunicorn._find(), uclib._name)
    monkeypatch.setenv("LIBUNICORN_PATH", str(tmp_path))      # nothing there: the package's
    assert os.path.samefile(libunicorn._find(), uclib._name)


@pytest.mark.parametrize("module, theirs", [(libunicorn, unicorn), (unicorn_x86, x86_const)],
                         ids=["unicorn_const", "x86_const"])
def test_constants_are_the_packages(module, theirs):
    names = [n for n in dir(module) if n.startswith("UC_")]
    assert len(names) > 20
    assert {n: getattr(module, n) for n in names} == {n: getattr(theirs, n) for n in names}


def test_version_is_the_librarys():
    assert libunicorn.version() == unicorn.__version__ == "2.1.4"


def test_errors_carry_the_librarys_message():
    uc = Unicorn(UC_ARCH_X86, UC_MODE_64)
    with pytest.raises(UnicornError) as info:
        uc.mem_unmap(0x10000, 0x1000)                 # nothing mapped there
    assert info.value.errno == unicorn.UC_ERR_NOMEM
    assert str(info.value) == str(unicorn.UcError(unicorn.UC_ERR_NOMEM))
    uc.close()
    uc.close()                                        # once only


def test_engine_calls_and_hooks():
    uc = Unicorn(UC_ARCH_X86, UC_MODE_64)
    page = ctypes.create_string_buffer(0x1000)
    code = b"\x48\xc7\xc0\x2a\x00\x00\x00\xcd\x80"    # mov rax, 42; int 0x80
    ctypes.memmove(page, code, len(code))
    uc.mem_map_ptr(0x1000, 0x1000, UC_PROT_ALL, ctypes.addressof(page))
    assert uc.mem_regions() == [(0x1000, 0x1fff, UC_PROT_ALL)]
    seen = []

    def on_interrupt(this, intno, data):
        seen.append((this is uc, intno, data))
        raise KeyError("from the hook")

    hook = uc.hook_add(UC_HOOK_INTR, on_interrupt, "data")
    with pytest.raises(KeyError):
        uc.emu_start(0x1000, 0x1000 + len(code))
    assert seen == [(True, 0x80, "data")]
    assert uc.reg_read(unicorn_x86.UC_X86_REG_RAX) == 42
    uc.hook_del(hook)
    saved = uc.context_save()
    uc.reg_write(unicorn_x86.UC_X86_REG_RAX, -1)
    assert uc.reg_read(unicorn_x86.UC_X86_REG_RAX) == 0xFFFFFFFFFFFFFFFF
    uc.context_restore(saved)
    assert uc.reg_read(unicorn_x86.UC_X86_REG_RAX) == 42
    uc.msr_write(0xC0000100, 0x1234)                  # MSR_FS_BASE
    assert uc.msr_read(0xC0000100) == 0x1234
    assert uc.reg_read(unicorn_x86.UC_X86_REG_FS_BASE) == 0x1234
    uc.ctl_flush_tb()
    uc.mem_unmap(0x1000, 0x1000)
    assert uc.mem_regions() == []
    uc.close()
