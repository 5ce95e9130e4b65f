"""The file descriptor table: small integers to open file descriptions.

Each slot holds a File (shared with every dup of it) and the fd's own close-on-exec
bit. The lowest free number is always the one handed out, as POSIX requires, and
RLIMIT_NOFILE bounds the numbers (EMFILE beyond it). A table is Linux's files_struct:
shared by CLONE_FILES, copied (`copy`, as dup_fd) by a clone without it.

Layer: kernel. Calls the files it holds (close_ref).
"""

from __future__ import annotations

from errno import EBADF, EINVAL, EMFILE

from ..errors import KernelError
from ..fs.file import File


class FdTable:
    def __init__(self, nofile_limit: int = 1024):
        self.files: list[File | None] = []
        self.cloexec: list[bool] = []
        self.limit = nofile_limit

    @property
    def capacity(self) -> int:
        """Linux's max_fds: 64 (NR_OPEN_DEFAULT) until a higher fd is used, then 128
        times a power of two (expand_fdtable's sizes); it never shrinks. select(2)
        clamps its nfds to it."""
        highest = len(self.files) - 1
        if highest < 64:
            return 64
        return 128 * (1 << (highest // 128).bit_length())

    def get(self, fd: int) -> File:
        """The file behind fd, or EBADF."""
        if 0 <= fd < len(self.files):
            f = self.files[fd]
            if f is not None:
                return f
        raise KernelError(EBADF)

    def install(self, file: File, cloexec: bool = False, minimum: int = 0) -> int:
        """Put file at the lowest free fd >= minimum."""
        fd = minimum
        while fd < len(self.files) and self.files[fd] is not None:
            fd += 1
        if fd >= self.limit:
            raise KernelError(EMFILE)
        self._place(fd, file, cloexec)
        return fd

    def install_at(self, fd: int, file: File, cloexec: bool) -> None:
        """dup2's half: close whatever is at fd, then put file there."""
        if fd < 0 or fd >= self.limit:
            raise KernelError(EBADF)
        if fd < len(self.files) and self.files[fd] is not None:
            self.files[fd].close_ref()
        self._place(fd, file, cloexec)

    def _place(self, fd: int, file: File, cloexec: bool) -> None:
        while len(self.files) <= fd:
            self.files.append(None)
            self.cloexec.append(False)
        file.refs += 1
        self.files[fd] = file
        self.cloexec[fd] = cloexec

    def close(self, fd: int) -> None:
        f = self.get(fd)
        self.files[fd] = None
        self.cloexec[fd] = False
        f.close_ref()

    def close_all(self) -> None:
        for fd, f in enumerate(self.files):
            if f is not None:
                self.close(fd)

    def copy(self) -> "FdTable":
        """A new table with the same files at the same numbers (each file gains a
        reference) and the same close-on-exec bits."""
        new = FdTable(self.limit)
        for fd, f in enumerate(self.files):
            if f is not None:
                new._place(fd, f, self.cloexec[fd])
        return new

    def close_on_exec(self) -> None:
        """execve: every fd marked close-on-exec goes (a file's last close sends its
        fsnotify event itself, File.close_ref)."""
        for fd, f in enumerate(self.files):
            if f is not None and self.cloexec[fd]:
                self.close(fd)

    def set_limit(self, limit: int) -> None:
        if limit < 0:
            raise KernelError(EINVAL)
        self.limit = limit

    def open_fds(self) -> list[int]:
        return [fd for fd, f in enumerate(self.files) if f is not None]
