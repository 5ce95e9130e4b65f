"""Extended attribute system calls: none are stored, as on a filesystem without user
xattrs; the name and the target are checked as Linux checks them first.

Layer: kernel (syscall handlers). Calls files.py's path resolution and the fd table.
"""

from __future__ import annotations

from errno import ENODATA, ENOTSUP, EOPNOTSUPP, ERANGE

from ...abi import linux as L
from ...abi.limits import XATTR_NAME_MAX
from ...errors import KernelError
from .files import resolve

_XATTR_PREFIXES = (b"user.", b"trusted.", b"security.", b"system.")


def _xattr_name(name: bytes) -> None:
    """The name checks Linux makes before looking for the attribute."""
    if not name or len(name) > XATTR_NAME_MAX:
        raise KernelError(ERANGE)
    if not name.startswith(_XATTR_PREFIXES):
        raise KernelError(EOPNOTSUPP)


def _xattr(t, target, name, missing):
    """Resolve the target (a path with follow flag, or an fd), check the name, and fail
    with `missing`: no attribute is ever stored."""
    if isinstance(target, int):
        t.process.fds.get(target)
    else:
        resolve(t, L.AT_FDCWD, *target)
    _xattr_name(name)
    raise KernelError(missing)


def sys_getxattr(t, path, name, value, size):
    """getxattr(2): no attributes are stored (ENODATA)."""
    _xattr(t, (path, True), name, ENODATA)


def sys_lgetxattr(t, path, name, value, size):
    """lgetxattr(2): no attributes are stored (ENODATA)."""
    _xattr(t, (path, False), name, ENODATA)


def sys_fgetxattr(t, fd, name, value, size):
    """fgetxattr(2): no attributes are stored (ENODATA)."""
    _xattr(t, fd, name, ENODATA)


def sys_listxattr(t, path, buf, size):
    """listxattr(2): an empty list."""
    resolve(t, L.AT_FDCWD, path, True)
    return 0


def sys_llistxattr(t, path, buf, size):
    """llistxattr(2): an empty list."""
    resolve(t, L.AT_FDCWD, path, False)
    return 0


def sys_flistxattr(t, fd, buf, size):
    """flistxattr(2): an empty list."""
    t.process.fds.get(fd)
    return 0


def sys_setxattr(t, path, name, value, size, flags):
    """setxattr(2): not supported (ENOTSUP), as tmpfs without user xattrs."""
    _xattr(t, (path, True), name, ENOTSUP)


def sys_lsetxattr(t, path, name, value, size, flags):
    """lsetxattr(2): not supported (ENOTSUP)."""
    _xattr(t, (path, False), name, ENOTSUP)


def sys_fsetxattr(t, fd, name, value, size, flags):
    """fsetxattr(2): not supported (ENOTSUP)."""
    _xattr(t, fd, name, ENOTSUP)


def sys_removexattr(t, path, name):
    """removexattr(2): nothing to remove (ENODATA)."""
    _xattr(t, (path, True), name, ENODATA)


def sys_lremovexattr(t, path, name):
    """lremovexattr(2): nothing to remove (ENODATA)."""
    _xattr(t, (path, False), name, ENODATA)


def sys_fremovexattr(t, fd, name):
    """fremovexattr(2): nothing to remove (ENODATA)."""
    _xattr(t, fd, name, ENODATA)
