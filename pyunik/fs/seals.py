"""File seals (fcntl F_ADD_SEALS/F_GET_SEALS) for memfd files.

A sealable inode has a `seals` set of F_SEAL_* bits; other inodes have none and
F_GET_SEALS on them is EINVAL. check_write/check_resize enforce the seals for the
file operations, with Linux's EPERM.

Layer: fs. Calls nothing; fs/openfile.py, fs/ramfs.py and the fcntl handler call
it.
"""

from __future__ import annotations

from errno import EINVAL, EPERM

from ..abi.fcntl import (F_SEAL_ALL as ALL, F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW,
                         F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE)
from ..errors import KernelError



def make_sealable(inode, sealable: bool, noexec: bool) -> None:
    inode.seals = (0 if sealable else F_SEAL_SEAL) | (F_SEAL_EXEC if noexec else 0)


def get(inode) -> int:
    seals = getattr(inode, "seals", None)
    if seals is None:
        raise KernelError(EINVAL)
    return seals


def add(inode, new: int, writable: bool) -> int:
    seals = get(inode)
    if new & ~ALL:
        raise KernelError(EINVAL)
    if not writable:
        raise KernelError(EPERM)
    if seals & F_SEAL_SEAL:
        raise KernelError(EPERM)
    inode.seals = seals | new
    return 0


def check_write(inode, offset: int, length: int) -> None:
    seals = getattr(inode, "seals", None)
    if not seals:
        return
    if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE):
        raise KernelError(EPERM)
    if seals & F_SEAL_GROW and offset + length > inode.size:
        raise KernelError(EPERM)


def check_resize(inode, size: int) -> None:
    seals = getattr(inode, "seals", None)
    if not seals:
        return
    if size < inode.size and seals & F_SEAL_SHRINK or size > inode.size and seals & F_SEAL_GROW:
        raise KernelError(EPERM)
