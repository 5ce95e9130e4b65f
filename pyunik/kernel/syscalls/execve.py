"""execve(2) and execveat(2): argument decoding only; kernel/exec.py does the work.

Layer: kernel, syscall handlers. Calls kernel/exec.py.
"""

from __future__ import annotations

from ...abi import linux as L
from .. import exec as exec_


def sys_execve(t, path, argv, envp):
    """execve(2): run path in this process; returns only on failure (-errno)."""
    exec_.execveat(t, L.AT_FDCWD, path, argv, envp, 0)
    return 0      # never seen: the new image starts at its entry point


def sys_execveat(t, dirfd, path, argv, envp, flags):
    """execveat(2): execve of path relative to dirfd; with AT_EMPTY_PATH and an empty
    path, of the file dirfd is open on (fexecve); AT_SYMLINK_NOFOLLOW makes a final
    symlink ELOOP."""
    exec_.execveat(t, dirfd, path, argv, envp, flags)
    return 0
