"""Host calls for hostfs: the contained walk below a host directory, and the fd-relative
host system calls Python's os module lacks.

Layer: fs, under hostfs.py, which alone calls it; it calls only the host kernel (ctypes
into libc). Everything here acts on fds, never on a host path string that could lead
outside the mounted directory:

- `HostRoot.open_beneath` opens a list of components below the root fd with openat2(2)
  and RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, or, where openat2 is
  missing (old kernels, seccomp filters), one component at a time with
  openat(O_PATH | O_NOFOLLOW | O_DIRECTORY).
- `HostRoot.reopen` turns an O_PATH fd into a readable/writable one through its
  /proc/self/fd magic link: the same inode, whatever its name is now.
- chmod, chown and utimes of an O_PATH fd (fchmodat2 / fchownat / utimensat with
  AT_EMPTY_PATH, falling back to the fd's magic link where the host kernel refuses),
  renameat2 with flags, fstatfs into abi's struct statfs, and syncfs.
"""

from __future__ import annotations

import ctypes
import os
import stat as S
from errno import EAGAIN, EINTR, EINVAL, ENOSYS, EOPNOTSUPP

from ..abi import linux as L
from ..abi.limits import PATH_MAX
from ..abi.openat2 import RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS
from ..abi.stat import UTIME_OMIT
from ..abi.statfs import STATFS
from ..abi.syscall_numbers import NUMBERS

SYS_RENAMEAT2 = NUMBERS["renameat2"]
SYS_OPENAT2 = NUMBERS["openat2"]
SYS_FCHMODAT2 = NUMBERS["fchmodat2"]

_RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
_O_PATH, _O_NOFOLLOW, _O_CLOEXEC = os.O_PATH, os.O_NOFOLLOW, os.O_CLOEXEC
_O_DIRECTORY = os.O_DIRECTORY

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


class _OpenHow(ctypes.Structure):
    """struct open_how, include/uapi/linux/openat2.h."""
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


class _Timespec(ctypes.Structure):
    """struct timespec, include/uapi/linux/time_types.h (x86-64)."""
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_utimensat = _libc.utimensat
_utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_Timespec), ctypes.c_int]
_utimensat.restype = ctypes.c_int
_futimens = _libc.futimens
_futimens.argtypes = [ctypes.c_int, ctypes.POINTER(_Timespec)]
_futimens.restype = ctypes.c_int
_fchownat = _libc.fchownat
_fchownat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32,
                      ctypes.c_int]
_fchownat.restype = ctypes.c_int
_fstatfs = _libc.fstatfs
_syncfs = _libc.syncfs
_fstatfs.argtypes = [ctypes.c_int, ctypes.c_void_p]
_fstatfs.restype = ctypes.c_int


def oserror() -> OSError:
    """The OSError of the last failed libc call."""
    err = ctypes.get_errno()
    return OSError(err, os.strerror(err))


class HostRoot:
    """An O_PATH fd of the directory the user named, and the ways to reach below it.
    The user named that directory, so it alone may be reached through symlinks."""

    def __init__(self, host_dir: str):
        self.fd = os.open(host_dir, _O_PATH | _O_DIRECTORY | _O_CLOEXEC)
        self.has_openat2 = self._probe_openat2()
        self.has_proc_fd = os.path.isdir("/proc/self/fd")

    def _probe_openat2(self) -> bool:
        how = _OpenHow(_O_PATH | _O_CLOEXEC, 0, _RESOLVE)
        fd = _syscall(SYS_OPENAT2, ctypes.c_long(self.fd), ctypes.c_char_p(b"."),
                      ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
        if fd >= 0:
            os.close(fd)
            return True
        return False          # ENOSYS, or EPERM from a seccomp filter

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def open_beneath(self, components: tuple[bytes, ...], flags: int, mode: int = 0) -> int:
        """A host fd for the root's components (each a single valid name), opened with
        flags | O_NOFOLLOW | O_CLOEXEC without crossing a symlink or leaving the root:
        a symlink as last component is opened itself with O_PATH, or fails with ELOOP.
        Raises OSError."""
        flags |= _O_NOFOLLOW | _O_CLOEXEC
        path = b"/".join(components) or b"."
        if self.has_openat2 and len(path) < PATH_MAX:
            how = _OpenHow(flags, mode, _RESOLVE)
            for _ in range(64):
                fd = _syscall(SYS_OPENAT2, ctypes.c_long(self.fd), ctypes.c_char_p(path),
                              ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
                if fd >= 0:
                    return fd
                err = ctypes.get_errno()
                if err not in (EAGAIN, EINTR):   # EAGAIN: a rename raced RESOLVE_BENEATH
                    raise OSError(err, os.strerror(err))
            raise OSError(EAGAIN, os.strerror(EAGAIN))
        return self._open_walk(components, flags, mode)

    def _open_walk(self, components: tuple[bytes, ...], flags: int, mode: int) -> int:
        """open_beneath without openat2: one component at a time from the root fd."""
        fd = os.open(b".", _O_PATH | _O_DIRECTORY | _O_CLOEXEC, dir_fd=self.fd)
        try:
            for name in components[:-1]:
                nxt = os.open(name, _O_PATH | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC,
                              dir_fd=fd)
                os.close(fd)
                fd = nxt
            last = components[-1] if components else b"."
            return os.open(last, flags, mode, dir_fd=fd)
        finally:
            os.close(fd)

    def reopen(self, path_fd: int, access: int) -> int:
        """A readable/writable fd for the file an O_PATH fd holds (the same inode, whatever
        its name now). Without /proc, returns -1."""
        if not self.has_proc_fd:
            return -1
        return os.open("/proc/self/fd/%d" % path_fd, access | _O_CLOEXEC)

    # ---- metadata changes through an O_PATH fd -----

    def chmod_path_fd(self, fd: int, mode: int) -> None:
        r = _syscall(SYS_FCHMODAT2, ctypes.c_long(fd), ctypes.c_char_p(b""),
                     ctypes.c_long(mode), ctypes.c_long(L.AT_EMPTY_PATH))
        if r == 0:
            return
        err = oserror()
        if err.errno not in (ENOSYS, EINVAL) or not self.has_proc_fd:
            raise err
        st = os.fstat(fd)
        if S.S_ISLNK(st.st_mode):
            raise OSError(EOPNOTSUPP, os.strerror(EOPNOTSUPP))
        os.chmod("/proc/self/fd/%d" % fd, mode)    # the magic link leads to this inode only

    def utimes_path_fd(self, fd: int, times, is_symlink: bool) -> None:
        """utimensat of the file an O_PATH fd holds; times from timespec_pair()."""
        if _utimensat(fd, b"", times, L.AT_EMPTY_PATH) == 0:
            return
        err = oserror()
        if err.errno != EINVAL or is_symlink or not self.has_proc_fd:
            raise err
        if _utimensat(L.AT_FDCWD, b"/proc/self/fd/%d" % fd, times, 0) != 0:
            raise oserror()


def chown_path_fd(fd: int, uid: int, gid: int) -> None:
    if _fchownat(fd, b"", uid & 0xFFFFFFFF, gid & 0xFFFFFFFF, L.AT_EMPTY_PATH) != 0:
        raise oserror()


def timespec_pair(atime_ns: int | None, mtime_ns: int | None):
    """The two struct timespecs of utimensat(2); None is UTIME_OMIT."""
    times = (_Timespec * 2)()
    for i, t in enumerate((atime_ns, mtime_ns)):
        if t is None:
            times[i] = _Timespec(0, UTIME_OMIT)
        else:
            times[i] = _Timespec(t // 10**9, t % 10**9)
    return times


def futimens(fd: int, times) -> None:
    if _futimens(fd, times) != 0:
        raise oserror()


def renameat2(olddirfd: int, old: bytes, newdirfd: int, new: bytes, flags: int) -> None:
    if _syscall(SYS_RENAMEAT2, ctypes.c_long(olddirfd), ctypes.c_char_p(old),
                ctypes.c_long(newdirfd), ctypes.c_char_p(new), ctypes.c_long(flags)) != 0:
        raise oserror()


def syncfs(fd: int) -> None:
    """syncfs(2) of the host filesystem holding fd."""
    if _syncfs(fd) != 0:
        raise oserror()


def fstatfs(fd: int) -> tuple:
    """fstatfs(2) of a host fd, unpacked with abi's struct statfs."""
    buf = ctypes.create_string_buffer(STATFS.size)
    if _fstatfs(fd, buf) != 0:
        raise oserror()
    return STATFS.unpack(buf.raw)
