"""devfs: /dev, a devtmpfs holding the character devices a program expects.

The tree is a ramfs (so a program may create files and directories in /dev, as on
devtmpfs) seeded with device inodes: null, zero, full, random, urandom, tty and
console, with Linux's major:minor numbers, plus the stdin/stdout/stderr/fd symlinks
into /proc/self and an empty shm/ for the tmpfs the kernel mounts there.

Each device inode gives its own open file description (`DeviceFile`, or a
`TerminalFile` for tty and console), so reads and writes behave as the Linux driver
does (drivers/char/mem.c, drivers/char/random.c, drivers/tty/tty_io.c):
  null     reads end of file, writes succeed whole
  zero     reads zeros, writes succeed whole
  full     reads zeros, writes fail with ENOSPC
  random,
  urandom  read the kernel's random source (seeded in deterministic mode), writes
           succeed (they would add entropy)
  tty      the host terminal pyunik's stdio is, when it is pyunik's controlling
           terminal; otherwise ENXIO (no controlling terminal)
  console  the host terminal pyunik's stdio is, when it is one; otherwise ENODEV
           (no console device)

and pts/, where the host terminal pyunik's stdio is (only that one, never another
host pty) has its node under its host name, /dev/pts/N: it stats as the terminal the
guest's stdio fds are, so readlink(/proc/self/fd/0), stat("/dev/pts/N") and fstat(0)
agree and ttyname(3) finds it, and opening it opens that terminal again.

fs layer. Calls: fs/ramfs (the tree), fs/openfile (InodeFile), fs/file (HostStream).
"""

from __future__ import annotations

import fcntl
import os
import stat as S
from errno import ENODEV, ENOSPC, ENXIO, ESPIPE

from ..abi.ioctls import TIOCGSID
from ..abi.kdev_t import new_encode_dev
from ..abi.posix_types import INT
from ..errors import KernelError
from .file import HostStream, host_errno, stat_fields
from .inode import Inode
from .openfile import InodeFile
from .ramfs import RamFS


# name: (major, minor, permission bits), as udev and devtmpfs create them.
DEVICES = {
    b"null": (1, 3, 0o666),
    b"zero": (1, 5, 0o666),
    b"full": (1, 7, 0o666),
    b"random": (1, 8, 0o666),
    b"urandom": (1, 9, 0o666),
    b"tty": (5, 0, 0o666),
    b"console": (5, 1, 0o600),
}

SYMLINKS = {
    b"fd": b"/proc/self/fd",
    b"stdin": b"/proc/self/fd/0",
    b"stdout": b"/proc/self/fd/1",
    b"stderr": b"/proc/self/fd/2",
}


class DevFS(RamFS):
    """/dev. `DevFS(kernel)`; mount its .root at /dev (and a tmpfs at /dev/shm).

    From the kernel it uses config.stdin/stdout/stderr (host fds, to find the host
    terminal) and random_bytes(n) (the guest's random source)."""

    name = "devtmpfs"

    def __init__(self, kernel):
        super().__init__(mode=0o755)
        self.kernel = kernel
        root = self.root
        for name, (major, minor, perm) in DEVICES.items():
            root.children[name] = DeviceInode(self, name, major, minor, perm)
        for name, target in SYMLINKS.items():
            root.symlink(name, target, 0, 0)
        root.mkdir(b"shm", 0o1777, 0, 0)
        pts = root.mkdir(b"pts", 0o755, 0, 0)
        for name, (read_fd, write_fd) in host_terminals(self._stdio()).items():
            pts.children[name] = HostTerminalInode(self, read_fd, write_fd)

    def random_bytes(self, n: int) -> bytes:
        return self.kernel.random_bytes(n)

    def _stdio(self) -> list[int]:
        c = self.kernel.config
        return [c.stdin, c.stdout, c.stderr]

    def terminal_fds(self, controlling: bool = False) -> tuple[int, int] | None:
        """(fd to read, fd to write) of the host terminal among the guest's stdio host
        fds, or None when none of them is a terminal. controlling: only a terminal
        that is pyunik's controlling terminal (what /dev/tty opens), which the guest
        has as its own."""
        fds = self._stdio()
        ttys = [fd for fd in fds if _isatty(fd) and (not controlling or controls_terminal(fd))]
        if not ttys:
            return None
        reader = fds[0] if fds[0] in ttys else ttys[0]
        writer = fds[1] if fds[1] in ttys else ttys[-1]
        return reader, writer


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def controls_terminal(fd: int) -> bool:
    """Is the terminal on fd the controlling terminal of pyunik's session? (TIOCGSID
    answers ENOTTY for any other terminal.)"""
    try:
        sid = INT.unpack(fcntl.ioctl(fd, TIOCGSID, bytes(INT.size)))[0]
    except OSError:
        return False
    return sid == os.getsid(0)


def _access_mode(fd: int) -> int:
    try:
        return fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    except OSError:
        return -1


def host_terminals(fds: list[int]) -> dict[bytes, tuple[int, int]]:
    """The host terminals among fds that have a /dev/pts name on the host: name (the
    N of /dev/pts/N) -> (fd to read it by, fd to write it by), each the first of fds
    open on that terminal for reading (writing), else the first of them at all."""
    found: dict[bytes, list[int]] = {}
    for fd in fds:
        if not _isatty(fd):
            continue
        try:
            name = os.fsencode(os.ttyname(fd))
        except OSError:
            continue
        head, _, n = name.rpartition(b"/")
        if head == b"/dev/pts" and n.isdigit():
            found.setdefault(n, []).append(fd)
    out = {}
    for n, same in found.items():
        readers = [fd for fd in same if _access_mode(fd) in (os.O_RDONLY, os.O_RDWR)]
        writers = [fd for fd in same if _access_mode(fd) in (os.O_WRONLY, os.O_RDWR)]
        out[n] = ((readers or same)[0], (writers or same)[0])
    return out


class HostTerminalInode(Inode):
    """/dev/pts/N: the host terminal the guest's stdio is, under its host name.

    It stats as the host terminal does (device, inode, rdev and times from the host's
    fstat, as the guest's fstat of its stdio fd gives them); mode and owner start as
    the host's and are the guest's to change. Opening it gives a TerminalFile on the
    same host fds."""

    def __init__(self, fs: DevFS, read_fd: int, write_fd: int):
        st = os.fstat(read_fd)
        super().__init__(fs, st.st_mode, st.st_uid, st.st_gid, ino=st.st_ino,
                         rdev=st.st_rdev)
        self.read_fd, self.write_fd = read_fd, write_fd

    def stat(self) -> tuple:
        try:
            st = list(stat_fields(os.fstat(self.read_fd)))
        except OSError as e:
            raise host_errno(e) from None
        st[3], st[4], st[5] = self.mode, self.uid, self.gid
        return tuple(st)

    def truncate(self, size: int) -> None:
        pass    # O_TRUNC on a terminal: nothing to cut

    def open(self, flags: int):
        return TerminalFile(self, flags, self.read_fd, self.write_fd)


class DeviceInode(Inode):
    """A character device node of devfs."""

    def __init__(self, fs: DevFS, name: bytes, major: int, minor: int, perm: int):
        super().__init__(fs, S.S_IFCHR | perm, 0, 0, rdev=new_encode_dev(major, minor))
        self.name = name
        self.major, self.minor = major, minor
        # mmap of /dev/zero gives fresh anonymous memory (shared or private).
        self.mmap_anonymous = (major, minor) == (1, 5)

    # Reads and writes through the inode itself (pread on an InodeFile) act like the
    # device too.
    def read(self, offset: int, size: int) -> bytes:
        return device_read(self, size)

    def write(self, offset: int, data: bytes) -> int:
        return device_write(self, data)

    def truncate(self, size: int) -> None:
        pass    # O_TRUNC on a device: nothing to cut

    def open(self, flags: int):
        if (self.major, self.minor) == (5, 0):
            fds = self.fs.terminal_fds(controlling=True)
            if fds is None:
                raise KernelError(ENXIO)        # no controlling terminal
            return TerminalFile(self, flags, *fds)
        if (self.major, self.minor) == (5, 1):
            fds = self.fs.terminal_fds()
            if fds is None:
                raise KernelError(ENODEV)       # no console device
            return TerminalFile(self, flags, *fds)
        return DeviceFile(self, flags)


def device_read(inode: DeviceInode, size: int) -> bytes:
    if inode.name == b"null":
        return b""
    if inode.name in (b"random", b"urandom"):
        return inode.fs.random_bytes(size) if size > 0 else b""
    return bytes(size)                  # zero, full


def device_write(inode: DeviceInode, data: bytes) -> int:
    if inode.name == b"full":
        raise KernelError(ENOSPC)
    return len(data)


class DeviceFile(InodeFile):
    """An open memory device. The offset stays 0: null, zero and full seek to 0 whatever
    is asked (null_lseek), random's noop_llseek leaves the position where it is."""

    def read(self, size: int) -> bytes:
        return device_read(self.inode, size)

    def write(self, data: bytes) -> int:
        return device_write(self.inode, data)

    def pread(self, size: int, offset: int) -> bytes:
        return device_read(self.inode, size)

    def pwrite(self, data: bytes, offset: int) -> int:
        return device_write(self.inode, data)

    def read_iter(self, dst, offset: int | None = None) -> int:
        return self.stream_read(dst, 0)      # the position never moves

    def seek(self, offset: int, whence: int) -> int:
        return 0


class TerminalFile(HostStream):
    """/dev/tty, /dev/console or /dev/pts/N opened: the host terminal the guest's stdio
    already is.
    Reads come from the terminal fd used for input, writes go to the one used for
    output; terminal ioctls pass through; fstat describes the /dev node, as on Linux."""

    def __init__(self, inode: Inode, flags: int, read_fd: int, write_fd: int):
        super().__init__(read_fd, flags)
        self.inode = inode
        self.path = None                # set by the VFS when it knows the path
        self.write_fd = write_fd

    def write(self, data: bytes) -> int:
        try:
            return os.write(self.write_fd, data)
        except OSError as e:
            raise host_errno(e) from None

    def seek(self, offset: int, whence: int) -> int:
        raise KernelError(ESPIPE)

    def stat(self) -> tuple:
        return self.inode.stat()
