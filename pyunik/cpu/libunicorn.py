"""The unicorn library through ctypes: found, loaded, and the calls pyunik makes.

Layer: cpu/, the bottom: engine.py, context.py, switch.py and stops.py reach Unicorn
only through this module (and unicorn_x86.py's register ids); it calls the unicorn C
library and the host's dynamic loader, nothing of pyunik.

Why pyunik does not import the unicorn package's Python binding. The library is what
runs the guest; the binding around it cost every run ~25 ms of imports (to find the
library it imports inspect, typing and importlib.resources, with zipfile and tempfile
behind them), and it closes every engine left at interpreter exit through an atexit
finalizer (3-13 ms for python3's memory map, even when the pyunik command leaves it
all to the host process's exit, kernel/exit.py). The hot paths called the library
raw already (engine.py, context.py), so what is left is the small `Unicorn` class
below with the binding's method names for the calls made at start-up and on faults.

The library is the one the unicorn package installed: `lib/libunicorn.so.2` in the
package's directory, found with importlib's path finder without importing the
package ($LIBUNICORN_PATH, a directory, first, as the binding looks). It is loaded with
lazy function binding (ctypes' own loader resolves all ~7,800 of its function symbols
at load, ~1.5 ms). The constants are Unicorn 2.1's include/unicorn/unicorn.h, as the
package's unicorn_const.py has them; tests/test_libunicorn.py checks them against it.
"""

from __future__ import annotations

import ctypes
import os
from functools import partial

from . import unicorn_x86

UC_ARCH_X86 = 4
UC_MODE_64 = 8

UC_ERR_OK = 0
UC_ERR_READ_UNMAPPED = 6
UC_ERR_WRITE_UNMAPPED = 7
UC_ERR_FETCH_UNMAPPED = 8
UC_ERR_INSN_INVALID = 10
UC_ERR_WRITE_PROT = 12
UC_ERR_READ_PROT = 13
UC_ERR_FETCH_PROT = 14

UC_MEM_READ_UNMAPPED = 19
UC_MEM_WRITE_UNMAPPED = 20
UC_MEM_FETCH_UNMAPPED = 21
UC_MEM_WRITE_PROT = 22
UC_MEM_READ_PROT = 23
UC_MEM_FETCH_PROT = 24

UC_HOOK_INTR = 1
UC_HOOK_INSN = 2
UC_HOOK_CODE = 4
UC_HOOK_MEM_FETCH_UNMAPPED = 64
UC_HOOK_MEM_INVALID = 1008        # the six UC_HOOK_MEM_*_UNMAPPED and *_PROT bits

UC_PROT_NONE = 0
UC_PROT_READ = 1
UC_PROT_WRITE = 2
UC_PROT_EXEC = 4
UC_PROT_ALL = 7

# uc_ctl's controls; a call's code is control | argument count << 26 | direction << 30.
UC_CTL_IO_WRITE = 1
UC_CTL_TB_REMOVE_CACHE = 9
UC_CTL_TB_FLUSH = 10
UC_CTL_TLB_FLUSH = 11

_LIB_NAME = "libunicorn.so.2"


def _find() -> str:
    """The path of the unicorn package's library, without importing the package."""
    where = os.environ.get("LIBUNICORN_PATH")
    if where and os.path.isfile(os.path.join(where, _LIB_NAME)):
        return os.path.join(where, _LIB_NAME)
    from importlib.machinery import PathFinder
    spec = PathFinder.find_spec("unicorn")
    for directory in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(directory, "lib", _LIB_NAME)
        if os.path.isfile(path):
            return path
    raise ImportError("the unicorn library (%s) was not found in the unicorn package's "
                      "directory (pip install unicorn==2.1.4)" % _LIB_NAME)


def _load(path: str) -> ctypes.CDLL:
    """The library at path, its functions bound on first call (see the docstring)."""
    try:
        dlopen = ctypes.CDLL(None).dlopen
    except AttributeError:         # a C library without dlopen in it: ctypes' loader
        return ctypes.CDLL(path)
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = (ctypes.c_char_p, ctypes.c_int)
    handle = dlopen(os.fsencode(path), os.RTLD_LAZY)
    if not handle:
        return ctypes.CDLL(path)   # raises OSError with the loader's message
    return ctypes.CDLL(path, handle=handle)


# The library with no argtypes set: callers pass prebuilt ctypes arguments, which
# skips per-argument conversion (engine.py and context.py call it so on hot paths).
LIB = _load(_find())

# The same library (the same handle) through a PyDLL view: a call through it keeps
# the GIL, where a call through LIB releases it before and takes it again after
# (two lock round trips, and a wait whenever another thread, such as the slice
# timer, took it meanwhile). Every call pyunik makes returns within microseconds
# except uc_emu_start, which runs the guest: it alone must go through LIB, so that
# the slice timer's thread and Python's signal handling run while the guest does.
# (A hook called back from C inside a HELD call takes the GIL it already holds.)
HELD = ctypes.PyDLL(LIB._name, handle=LIB._handle)


def at(address: int):
    """A pointer argument with the value address, made once: a byref of a one-byte
    array there, which ctypes passes as it is on every call, where an array, a
    c_void_p or a Structure is converted into a new argument object each time."""
    return ctypes.byref((ctypes.c_ubyte * 1).from_address(address))


def ready(function, *args):
    """function(*args) as a callable of no arguments (no Python frame on the way to
    the foreign call): its value is the call's. Make pointer arguments with at()
    or ctypes.byref() and the call converts nothing but its int arguments; with a
    HELD function it keeps the GIL too. A call so made cost ~2,500 instructions of
    ctypes and libffi, against ~3,100 for the same call through LIB with arrays
    and a c_void_p handle (callgrind, this machine's CPython 3.11)."""
    return partial(function, *args)

# Typed function objects of its own (LIB[name] is a fresh one; LIB.name is shared).
_open = LIB["uc_open"]
_open.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p))
_close = LIB["uc_close"]
_close.argtypes = (ctypes.c_void_p,)
_strerror = LIB["uc_strerror"]
_strerror.restype = ctypes.c_char_p
_strerror.argtypes = (ctypes.c_int,)
_emu_start = LIB["uc_emu_start"]
_emu_start.argtypes = (ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64,
                       ctypes.c_size_t)
_emu_stop = LIB["uc_emu_stop"]
_emu_stop.argtypes = (ctypes.c_void_p,)
_mem_map_ptr = LIB["uc_mem_map_ptr"]
_mem_map_ptr.argtypes = (ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32,
                         ctypes.c_void_p)
_mem_unmap = LIB["uc_mem_unmap"]
_mem_unmap.argtypes = (ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64)
_reg_read = LIB["uc_reg_read"]
_reg_read.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
_reg_write = LIB["uc_reg_write"]
_reg_write.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
_hook_add = LIB["uc_hook_add"]     # variadic: one trailing int (an INSN hook's instruction)
_hook_add.argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_int,
                      ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64,
                      ctypes.c_int)
_hook_del = LIB["uc_hook_del"]
_hook_del.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
_ctl = LIB["uc_ctl"]
_ctl.argtypes = (ctypes.c_void_p, ctypes.c_int)
_context_alloc = LIB["uc_context_alloc"]
_context_alloc.argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p))
_context_save = LIB["uc_context_save"]
_context_save.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
_context_restore = LIB["uc_context_restore"]
_context_restore.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
_context_free = LIB["uc_context_free"]
_context_free.argtypes = (ctypes.c_void_p,)
_free = LIB["uc_free"]
_free.argtypes = (ctypes.c_void_p,)


class _MemRegion(ctypes.Structure):           # struct uc_mem_region
    _fields_ = (("begin", ctypes.c_uint64), ("end", ctypes.c_uint64),
                ("perms", ctypes.c_uint32))


_mem_regions = LIB["uc_mem_regions"]
_mem_regions.argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(_MemRegion)),
                         ctypes.POINTER(ctypes.c_uint32))


class _Msr(ctypes.Structure):                 # struct uc_x86_msr
    _fields_ = (("rid", ctypes.c_uint32), ("value", ctypes.c_uint64))


# The hooks' C signatures (uc_cb_hookintr_t, uc_cb_hookcode_t, and uc_cb_eventmem_t
# for any of the UC_HOOK_MEM_INVALID kinds), without the leading engine and trailing
# user-data pointers a wrapper adds.
_HOOK_ARGS = {
    UC_HOOK_INTR: (None, (ctypes.c_uint32,)),
    UC_HOOK_CODE: (None, (ctypes.c_uint64, ctypes.c_uint32)),
    UC_HOOK_MEM_INVALID: (ctypes.c_bool, (ctypes.c_int, ctypes.c_uint64, ctypes.c_int,
                                          ctypes.c_int64)),
}


def version() -> str:
    """The loaded library's version, "2.1.4" (uc_version: major, minor, patch bytes)."""
    combined = LIB.uc_version(None, None)
    return "%d.%d.%d" % (combined >> 24 & 0xFF, combined >> 16 & 0xFF, combined >> 8 & 0xFF)


class UnicornError(Exception):
    """A unicorn call failed; errno is its uc_err."""

    def __init__(self, errno: int) -> None:
        super().__init__(errno)
        self.errno = errno

    def __str__(self) -> str:
        return _strerror(self.errno).decode("ascii", "replace")


def _check(err: int) -> None:
    if err:
        raise UnicornError(err)


class Context:
    """A uc_context: the CPU state Unicorn saves and restores in its own layout."""

    def __init__(self, handle: int) -> None:
        ctx = ctypes.c_void_p()
        self.pointer: int | None = None
        _check(_context_alloc(handle, ctypes.byref(ctx)))
        self.pointer = ctx.value

    def __del__(self, free=_context_free) -> None:
        if self.pointer:
            free(self.pointer)


class Unicorn:
    """One engine (a uc_engine handle) with the calls engine.py makes outside its hot
    paths, named as the unicorn binding names them. A failed call raises UnicornError;
    an exception a hook callback raises stops the run and is kept in `hook_exception`
    (emu_start raises it). The engine is closed by close() or when this object goes;
    not at interpreter exit (the host process's exit frees it)."""

    def __init__(self, arch: int, mode: int) -> None:
        handle = ctypes.c_void_p()
        self.handle: int | None = None
        _check(_open(arch, mode, ctypes.byref(handle)))
        self.handle = handle.value
        self.hook_exception: BaseException | None = None
        self._callbacks: dict[int, object] = {}   # hook handle -> its C callback (kept alive)
        self._value = ctypes.c_uint64()

    def close(self, close=_close) -> None:
        """uc_close, once (the guest memory mapped with mem_map_ptr is the caller's)."""
        handle, self.handle = self.handle, None
        if handle:
            close(handle)

    __del__ = close

    def emu_start(self, begin: int, until: int, timeout: int = 0, count: int = 0) -> None:
        self.hook_exception = None
        _check(_emu_start(self.handle, begin, until, timeout, count))
        if self.hook_exception is not None:
            raise self.hook_exception

    def emu_stop(self) -> None:
        _check(_emu_stop(self.handle))

    def mem_map_ptr(self, address: int, size: int, perms: int, pointer: int) -> None:
        _check(_mem_map_ptr(self.handle, address, size, perms, pointer))

    def mem_unmap(self, address: int, size: int) -> None:
        _check(_mem_unmap(self.handle, address, size))

    def mem_regions(self) -> list[tuple[int, int, int]]:
        """(begin, end inclusive, perms) of each region, in Unicorn's order."""
        regions = ctypes.POINTER(_MemRegion)()
        count = ctypes.c_uint32()
        _check(_mem_regions(self.handle, ctypes.byref(regions), ctypes.byref(count)))
        try:
            return [(r.begin, r.end, r.perms) for r in regions[:count.value]]
        finally:
            _free(regions)

    def reg_read(self, reg_id: int) -> int:
        """A register of at most 64 bits."""
        _check(_reg_read(self.handle, reg_id, ctypes.byref(self._value)))
        return self._value.value

    def reg_write(self, reg_id: int, value: int) -> None:
        self._value.value = value & 0xFFFFFFFFFFFFFFFF
        _check(_reg_write(self.handle, reg_id, ctypes.byref(self._value)))

    def msr_read(self, msr_id: int) -> int:
        msr = _Msr(msr_id, 0)
        _check(_reg_read(self.handle, unicorn_x86.UC_X86_REG_MSR, ctypes.byref(msr)))
        return msr.value

    def msr_write(self, msr_id: int, value: int) -> None:
        msr = _Msr(msr_id, value)
        _check(_reg_write(self.handle, unicorn_x86.UC_X86_REG_MSR, ctypes.byref(msr)))

    def context_save(self) -> Context:
        ctx = Context(self.handle)
        _check(_context_save(self.handle, ctx.pointer))
        return ctx

    def context_restore(self, ctx: Context) -> None:
        _check(_context_restore(self.handle, ctx.pointer))

    def ctl_flush_tb(self) -> None:
        """Drop every translated block."""
        _check(_ctl(self.handle, UC_CTL_TB_FLUSH | UC_CTL_IO_WRITE << 30))

    def hook_add(self, kind: int, callback, user_data=None, begin: int = 1,
                 end: int = 0) -> int:
        """callback(this object, the hook's arguments..., user_data) for a hook of kind
        UC_HOOK_INTR, UC_HOOK_CODE or UC_HOOK_MEM_INVALID (or some of its bits); returns
        its handle."""
        invalid = kind & UC_HOOK_MEM_INVALID and not kind & ~UC_HOOK_MEM_INVALID
        restype, args = _HOOK_ARGS[UC_HOOK_MEM_INVALID if invalid else kind]
        ctype = ctypes.CFUNCTYPE(restype, ctypes.c_void_p, *args, ctypes.c_void_p)

        def call(_handle, *values):
            try:
                return callback(self, *values[:-1], user_data)
            except BaseException as exc:        # re-raised by emu_start / the caller
                if self.hook_exception is None:
                    self.hook_exception = exc
                _emu_stop(self.handle)
                return False if restype is not None else None

        function = ctype(call)
        hook = ctypes.c_size_t()
        _check(_hook_add(self.handle, ctypes.byref(hook), kind, function, None, begin, end, 0))
        self._callbacks[hook.value] = function
        return hook.value

    def hook_del(self, hook: int) -> None:
        _check(_hook_del(self.handle, hook))
        del self._callbacks[hook]
