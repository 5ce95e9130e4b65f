"""The stat and access families' invokers in the kernel's fast dispatcher: stat,
lstat, newfstatat, access, faccessat and faccessat2 of a path the VFS walked last
for the same caller, in the fewest steps.

A program that stats or tests one path again and again (a build tool, a PATH
search, a loop waiting for a file) asks for the same walk each time. The VFS keeps
the latest walk of each path string (`VFS.recent_follow`, `VFS.recent_nofollow`,
filled and cleared with its path cache). When the entry was made for the caller's
start (the root for an absolute path, the cwd for a relative one with AT_FDCWD),
root and credentials, its inode is what the walk would find now: stat copies out
the inode's packed struct stat (`Inode.stat_bytes`), access checks the mode as
files.do_access does. Everything else (other flags, a relative path from a
directory fd, a walk not remembered) is the table's invoker (files.sys_stat,
sys_lstat, sys_newfstatat, sys_access, sys_faccessat, sys_faccessat2), which also
fills the entry for the next call.

Errors come out as the general path gives them: a bad path pointer is EFAULT before
any walk, a bad buffer EFAULT after it.

Layer: kernel (syscall glue). Reads fs/vfs.py's cache, calls mm/usermem.py and the
invokers it is given; Kernel._first_call puts these into dispatch.
"""

from __future__ import annotations

from ...abi import linux as L
from ...abi import syscall_numbers as N
from ...fs import attr

_AT_FDCWD = L.AT_FDCWD & 0xFFFFFFFF          # as the register holds it
_NOFOLLOW = L.AT_SYMLINK_NOFOLLOW


def _remembered(p, path: bytes, walks: dict, relative_ok: bool, creds=None):
    """walks' entry for path (VFS.recent_follow or recent_nofollow) if it is the
    walk process p would make now, else None. relative_ok: a relative path starts
    at the cwd (AT_FDCWD); otherwise only an absolute path is answered. creds: whom
    the walk is for, when not p with its effective ids (access(2): the real ones)."""
    hit = walks.get(path)
    if hit is None:
        return None
    fs = p.fs
    root = fs.root
    if creds is None:
        creds = p.cred.walk_creds
    if hit[1] is root and (hit[2] is creds or hit[2] == creds) and \
            hit[0] is (root if path[:1] == b"/" else fs.cwd if relative_ok else None):
        return hit
    return None


def newfstatat_invoker(invoke, kernel):
    """newfstatat(dirfd, path, statbuf, flags) with flags 0 or AT_SYMLINK_NOFOLLOW."""
    def invoke_newfstatat(t, regs):
        flags = regs[4] & 0xFFFFFFFF
        if flags == 0 or flags == _NOFOLLOW:   # _remembered, inline: the common stat
            p = t.process
            mm = p.mm
            path = mm.read_cstring(regs[2])
            vfs = kernel.vfs
            hit = (vfs.recent_nofollow if flags else vfs.recent_follow).get(path)
            if hit is not None:
                fs = p.fs
                root = fs.root
                creds = p.cred.walk_creds
                if hit[1] is root and (hit[2] is creds or hit[2] == creds) and \
                        hit[0] is (root if path[:1] == b"/" else
                                   fs.cwd if regs[1] & 0xFFFFFFFF == _AT_FDCWD else None):
                    mm.write(regs[3], hit[4].stat_bytes())
                    return 0
        return invoke(t, regs)
    return invoke_newfstatat


def stat_invoker(invoke, kernel, walks="recent_follow"):
    """stat(path, statbuf); lstat's with walks="recent_nofollow"."""
    def invoke_stat(t, regs):
        p = t.process
        hit = _remembered(p, p.mm.read_cstring(regs[1]), getattr(kernel.vfs, walks), True)
        if hit is None:
            return invoke(t, regs)
        p.mm.write(regs[2], hit[4].stat_bytes())
        return 0
    return invoke_stat


def lstat_invoker(invoke, kernel):
    """lstat(path, statbuf)."""
    return stat_invoker(invoke, kernel, "recent_nofollow")


def _access_invoker(invoke, kernel, at: bool, flags_reg: int):
    """access(path, mode) (at False), faccessat(dirfd, path, mode) (at True) and
    faccessat2 (its flags in register flags_reg, which must hold 0; 0: none): a
    valid mode checked with the real uid and gid, as files.do_access does after
    its walk."""
    path_reg = 2 if at else 1

    def invoke_access(t, regs):
        mode = regs[path_reg + 1] & 0xFFFFFFFF
        if mode & ~7 or flags_reg and regs[flags_reg] & 0xFFFFFFFF:
            return invoke(t, regs)
        p = t.process
        c = p.cred
        hit = _remembered(p, p.mm.read_cstring(regs[path_reg]), kernel.vfs.recent_follow,
                          not at or regs[1] & 0xFFFFFFFF == _AT_FDCWD, c.access_creds())
        if hit is None:
            return invoke(t, regs)
        attr.access(hit[3], mode, c.uid, c.gid, c.groups)
        return 0
    return invoke_access


def access_invoker(invoke, kernel):
    return _access_invoker(invoke, kernel, False, 0)


def faccessat_invoker(invoke, kernel):
    return _access_invoker(invoke, kernel, True, 0)


def faccessat2_invoker(invoke, kernel):
    return _access_invoker(invoke, kernel, True, 4)


# syscall number -> maker of its invoker: maker(the table's invoker, the kernel)
INVOKERS = {
    N.NUMBERS["stat"]: stat_invoker,
    N.NUMBERS["lstat"]: lstat_invoker,
    N.NUMBERS["newfstatat"]: newfstatat_invoker,
    N.NUMBERS["access"]: access_invoker,
    N.NUMBERS["faccessat"]: faccessat_invoker,
    N.NUMBERS["faccessat2"]: faccessat2_invoker,
}
