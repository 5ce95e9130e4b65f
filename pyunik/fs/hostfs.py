"""hostfs: a host directory shown at a guest mount point (-v, --root).

Layer: fs, a filesystem under the VFS (fs/vfs.py); it calls only the host kernel,
through fd-relative system calls. The VFS walks guest paths one component at a time
and resolves symlinks in the guest namespace, so a HostInode answers for one name in
one directory and never resolves a path itself.

Containment: the guest reaches nothing outside the mounted directory.
- HostFS keeps an O_PATH fd of the mount root (HostRoot, fs/hostcalls.py). A HostInode
  knows its parent inode and its name, hence its components below the root. Every host
  operation first opens that component list from the root fd with openat2(2) and RESOLVE_BENEATH |
  RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS (where openat2 is missing, with a walk of
  openat(O_PATH | O_NOFOLLOW | O_DIRECTORY) one component at a time from the root fd),
  then acts on that fd itself (AT_EMPTY_PATH) or on one name below it with an *at call
  that does not follow symlinks. Components are never `.` or `..` and hold no `/`; the
  inode tree's parent links only name components and are never opened as `..`.
- A host symlink is shown as a symlink; readlink gives its target, which the VFS resolves
  in the guest namespace. If a directory is replaced on the host by a symlink after a
  lookup, the next operation through it fails (ENOENT) rather than following the link.
- File data is read through an fd reopened (via /proc/self/fd) from an O_PATH fd only
  after fstat showed a regular file with the inode number looked up, so a race that swaps
  in a device node, fifo or symlink never opens it.

Special files, chosen to match what Linux itself does in the nearest case:
- Device nodes are listed and stat'ed with their host mode and rdev, but opening one
  fails with EACCES, as on a `nodev` mount; creating one fails with EPERM, as mknod(2)
  does without CAP_MKNOD, so the guest can never make a host device node.
- Fifos are listed, created (mkfifo on the host) and opened like any fifo; the host fifo
  itself is never opened: its pipe lives in pyunik's kernel and joins guest processes
  only, as a fifo on a filesystem shared by two machines joins each machine's own
  processes. read/write here never reach the host for them.
- Sockets: open gives ENXIO, as open(2) does on a socket file.

Identity and caching: inode numbers are the host's st_ino, st_dev is this filesystem's
own number. Each directory inode keeps its live children in a weak dict, so an inode
object stays the same while the VFS or an open file holds it; every lookup re-lstat's the
name and a child whose host inode number or type changed, or whose open data fd shows
its file deleted, is replaced (the old object is detached). stat() re-reads the host
metadata each time.

Host fds for file data are cached per inode, at most FD_CACHE_SIZE at once (least recently
used closed first): one pread per guest read. The guest's open() opens it already, so a
file unlinked (or replaced) while open keeps its fd and stays readable, as on Linux.

Deviations from Linux, with reasons:
- An operation on an inode whose host file was replaced or removed by someone other than
  the guest gives ESTALE (files) or ENOENT (directories) unless its data fd is still
  open: the name no longer leads to it and hostfs never reaches a file except by name.
  A file unlinked while open is readable through its fd only if that fd was not evicted
  from the cache in between (more than FD_CACHE_SIZE files in use).
- Files the guest creates belong to the host user running pyunik when the host refuses
  to give them to the guest's uid/gid (chown is tried, and its EPERM ignored).
- An fd opened for writing stays open in the cache after the guest closes the file, so a
  host execve of that file meanwhile fails with ETXTBSY; HostFS.release_host_files()
  closes the cached fds (the kernel may call it when a guest process exits).
- chmod of a symlink gives EOPNOTSUPP, as Linux 6.6 and later do for every filesystem.
- Only RENAME_NOREPLACE and RENAME_EXCHANGE are passed to the host; RENAME_WHITEOUT
  gives EINVAL (it would create a device node on the host).
- A file replaced on the host by a new one that reuses its inode number, while hostfs
  holds no fd of the old one, keeps the old inode object (the same number, the new data).
- Inode numbers of files on other host filesystems mounted below the directory may
  coincide with those of the mounted one (st_dev is the same for all of them here).
"""

from __future__ import annotations

import os
import stat as S
import weakref
from collections import OrderedDict
from errno import (EACCES, EINVAL, EISDIR, ELOOP, ENOENT,
                   ENOTDIR, ENXIO, EOPNOTSUPP, EPERM, ESTALE, EXDEV)

from ..abi import linux as L
from ..abi.fs import RENAME_EXCHANGE, RENAME_NOREPLACE
from ..abi.statfs import ST_NODEV, ST_RDONLY
from ..errors import KernelError
from .file import host_errno
from .hostcalls import (HostRoot, chown_path_fd, fstatfs, futimens, renameat2, syncfs,
                        timespec_pair)
from .inode import FileSystem, Inode

_O_PATH, _O_NOFOLLOW, _O_CLOEXEC = os.O_PATH, os.O_NOFOLLOW, os.O_CLOEXEC
_O_DIRECTORY = os.O_DIRECTORY


def _valid_name(name: bytes) -> bool:
    return bool(name) and name not in (b".", b"..") and b"/" not in name and b"\0" not in name


def _check_name(name: bytes) -> None:
    if not _valid_name(name):
        raise KernelError(EINVAL)


# access bits of a cached data fd
_READ, _WRITE = 1, 2
_ACCESS_FLAGS = {_READ: os.O_RDONLY, _WRITE: os.O_WRONLY, _READ | _WRITE: os.O_RDWR}


class HostFS(FileSystem):
    """The host directory host_dir; read-only unless readonly=False."""

    name = "hostfs"
    FD_CACHE_SIZE = 64

    def __init__(self, host_dir: str, readonly: bool = True):
        super().__init__(readonly)
        self.host_dir = os.path.abspath(host_dir)
        self.host = HostRoot(host_dir)
        # inode -> None, least recently used first; each holds inode._fd
        self._fd_cache: OrderedDict[HostInode, None] = OrderedDict()
        st = os.fstat(self.host.fd)
        self.host_dev = st.st_dev
        self.root = HostInode(self, None, b"", st)

    # ---- the data fd cache -----

    def _cache_fd(self, inode: HostInode) -> None:
        cache = self._fd_cache
        cache[inode] = None
        cache.move_to_end(inode)
        while len(cache) > self.FD_CACHE_SIZE:
            old, _ = cache.popitem(last=False)
            old._close_fd()

    def release_host_files(self) -> None:
        """Close every cached data fd (they are reopened on demand)."""
        while self._fd_cache:
            inode, _ = self._fd_cache.popitem()
            inode._close_fd()

    def close(self) -> None:
        self.release_host_files()
        self.host.close()

    def sync(self) -> None:
        """syncfs(2) of the host filesystem under the mount (a read-only mount has
        written nothing)."""
        if self.readonly:
            return
        try:
            fd = os.open(b".", os.O_RDONLY | _O_DIRECTORY | os.O_CLOEXEC, dir_fd=self.host.fd)
        except OSError as e:
            raise host_errno(e) from None
        try:
            syncfs(fd)        # not on the root's O_PATH fd: syncfs wants an open file
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)

    def statfs(self) -> dict:
        try:
            (ftype, bsize, blocks, bfree, bavail, files, ffree, _fsid0, _fsid1, namelen,
             frsize, flags, *_spare) = fstatfs(self.host.fd)
        except OSError as e:
            raise host_errno(e) from None
        flags |= ST_NODEV | (ST_RDONLY if self.readonly else 0)
        return {"type": ftype, "bsize": bsize, "blocks": blocks, "bfree": bfree,
                "bavail": bavail, "files": files, "ffree": ffree, "namelen": namelen,
                "frsize": frsize, "flags": flags}


class HostInode(Inode):
    """One host file. Fields: parent and name say where it is (parent None: the root, or
    detached: removed or replaced, reachable only through a held data fd); host_dev and
    ino identify the host file; _fd/_fd_access is the cached data fd (in fs._fd_cache
    unless _pinned, when it lives until this object dies)."""

    fs: HostFS

    def __init__(self, fs: HostFS, parent: HostInode | None, name: bytes, st: os.stat_result):
        super().__init__(fs, st.st_mode, st.st_uid, st.st_gid, ino=st.st_ino, rdev=st.st_rdev)
        self.parent = parent
        self.name = name
        self.host_dev = st.st_dev
        self._children: weakref.WeakValueDictionary[bytes, HostInode] | None = (
            weakref.WeakValueDictionary() if S.S_ISDIR(st.st_mode) else None)
        self._fd: int | None = None
        self._fd_access = 0
        self._pinned = False
        self._set_attrs(st)

    def __del__(self):
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _set_attrs(self, st: os.stat_result) -> None:
        self.mode = st.st_mode
        self.nlink = st.st_nlink
        self.uid = st.st_uid
        self.gid = st.st_gid
        self.rdev = st.st_rdev
        self._size = st.st_size
        self._blksize = st.st_blksize
        self._blocks = st.st_blocks
        self.atime_ns = st.st_atime_ns
        self.mtime_ns = st.st_mtime_ns
        self.ctime_ns = st.st_ctime_ns

    # ---- where it is on the host -----

    def _gone(self) -> KernelError:
        return KernelError(ENOENT if self.is_dir else ESTALE)

    def _components(self) -> tuple[bytes, ...]:
        names = []
        node = self
        while node.parent is not None:
            names.append(node.name)
            node = node.parent
        if node is not self.fs.root:
            raise self._gone()
        names.reverse()
        return tuple(names)

    def _open_self(self, flags: int) -> tuple[int, os.stat_result]:
        """An fd of this inode's host file (flags as for open_beneath), checked to be the
        same host inode; with its fstat."""
        comps = self._components()
        try:
            fd = self.fs.host.open_beneath(comps, flags)
        except OSError as e:
            if e.errno in (ENOENT, ENOTDIR, ELOOP, EXDEV):
                raise self._gone() from None
            raise host_errno(e) from None
        try:
            st = os.fstat(fd)
        except OSError as e:
            os.close(fd)
            raise host_errno(e) from None
        if st.st_ino != self.ino or st.st_dev != self.host_dev or \
                S.S_IFMT(st.st_mode) != S.S_IFMT(self.mode):
            os.close(fd)
            self._detach()
            raise self._gone()
        return fd, st

    def _dir_fd(self) -> int:
        self._need_dir()
        return self._open_self(_O_PATH | _O_DIRECTORY)[0]

    def _detach(self) -> None:
        """This object no longer names a host file by path: removed, or replaced."""
        parent = self.parent
        if parent is not None and parent._children.get(self.name) is self:
            del parent._children[self.name]
        self.parent = None
        if self is self.fs.root:
            return
        if self._fd is not None and not self._pinned:
            self.fs._fd_cache.pop(self, None)
            self._pinned = True

    def _child(self, name: bytes, st: os.stat_result) -> HostInode:
        """The inode for name (just lstat'ed as st): the cached one if it is still the
        same host file, else a new one."""
        child = self._children.get(name)
        if child is not None:
            if child.ino == st.st_ino and child.host_dev == st.st_dev and \
                    S.S_IFMT(child.mode) == S.S_IFMT(st.st_mode) and child._fd_is_live():
                child._set_attrs(st)
                return child
            child._detach()
        child = HostInode(self.fs, self, name, st)
        self._children[name] = child
        return child

    def _fd_is_live(self) -> bool:
        """False when the cached fd's file was deleted, so a file now found under the same
        inode number is another one."""
        if self._fd is None:
            return True
        try:
            return os.fstat(self._fd).st_nlink > 0
        except OSError:
            return False

    # ---- metadata -----

    def _host_stat(self) -> os.stat_result:
        if self._fd is not None:
            try:
                return os.fstat(self._fd)
            except OSError as e:
                raise host_errno(e) from None
        fd, st = self._open_self(_O_PATH)
        os.close(fd)
        return st

    @property
    def size(self) -> int:
        try:
            self._set_attrs(self._host_stat())
        except KernelError:
            pass
        return self._size

    def stat(self) -> tuple:
        try:
            self._set_attrs(self._host_stat())
        except KernelError as e:
            if e.errno not in (ENOENT, ESTALE):
                raise
            self.nlink = 0            # gone from the host: what was last seen, unlinked
        return (self.fs.dev, self.ino, self.nlink, self.mode, self.uid, self.gid, 0,
                self.rdev, self._size, self._blksize, self._blocks,
                self.atime_ns // 10**9, self.atime_ns % 10**9,
                self.mtime_ns // 10**9, self.mtime_ns % 10**9,
                self.ctime_ns // 10**9, self.ctime_ns % 10**9, 0, 0, 0)

    def _with_path_fd(self, action) -> None:
        """Run action(fd) on an O_PATH fd of this inode, then refresh the metadata."""
        fd, _ = self._open_self(_O_PATH)
        try:
            action(fd)
            self._set_attrs(os.fstat(fd))
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)

    def set_mode(self, mode: int) -> None:
        self.fs.check_writable()
        if self.is_symlink:
            raise KernelError(EOPNOTSUPP)
        mode &= 0o7777
        if self._fd is not None:
            try:
                os.fchmod(self._fd, mode)
                self._set_attrs(os.fstat(self._fd))
                return
            except OSError as e:
                raise host_errno(e) from None
        self._with_path_fd(lambda fd: self.fs.host.chmod_path_fd(fd, mode))

    def set_owner(self, uid: int, gid: int) -> None:
        self.fs.check_writable()
        self._with_path_fd(lambda fd: chown_path_fd(fd, uid, gid))

    def set_times(self, atime_ns: int | None, mtime_ns: int | None) -> None:
        self.fs.check_writable()
        times = timespec_pair(atime_ns, mtime_ns)
        if self._fd is not None:
            try:
                futimens(self._fd, times)
            except OSError as e:
                raise host_errno(e) from None
            self._set_attrs(os.fstat(self._fd))
            return
        self._with_path_fd(lambda fd: self.fs.host.utimes_path_fd(fd, times, self.is_symlink))

    # ---- directories -----

    def lookup(self, name: bytes) -> HostInode | None:
        self._need_dir()
        if not _valid_name(name):
            return None
        comps = self._components() + (name,)
        try:
            fd = self.fs.host.open_beneath(comps, _O_PATH)
        except OSError as e:
            if e.errno in (ENOENT, ENOTDIR, ELOOP, EXDEV):
                return None
            raise host_errno(e) from None
        try:
            st = os.fstat(fd)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)
        return self._child(name, st)

    def entries(self) -> list[tuple[bytes, HostInode]]:
        self._need_dir()
        fd, _ = self._open_self(os.O_RDONLY | _O_DIRECTORY)
        out = []
        try:
            with os.scandir(fd) as listing:
                for entry in listing:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue                  # removed while we listed
                    name = os.fsencode(entry.name)
                    out.append((name, self._child(name, st)))
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)
        return out

    def _new_child(self, dfd: int, name: bytes) -> HostInode:
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        return self._child(name, st)

    def _settle(self, fd: int, want_mode: int, uid: int, gid: int, is_dir: bool) -> None:
        """Give a just-created host file (O_PATH or open fd) the guest's owner, when the
        host allows, and exactly the mode asked for (the host umask does not apply;
        a setgid parent's group and, for directories, S_ISGID are inherited as Linux
        does)."""
        st = os.fstat(fd)
        if S.S_IMODE(self.mode) & S.S_ISGID:
            gid = -1
            if is_dir:
                want_mode |= S.S_ISGID
        if (uid != -1 and uid != st.st_uid) or (gid != -1 and gid != st.st_gid):
            try:
                chown_path_fd(fd, uid, gid)
            except OSError as e:
                if e.errno not in (EPERM, EINVAL):
                    raise
        if S.S_IMODE(os.fstat(fd).st_mode) != want_mode:
            self.fs.host.chmod_path_fd(fd, want_mode)

    def create(self, name, mode, uid, gid, rdev=0):
        self.fs.check_writable()
        self._need_dir()
        _check_name(name)
        kind = S.S_IFMT(mode)
        perm = mode & 0o7777
        if kind in (S.S_IFCHR, S.S_IFBLK, S.S_IFDIR):
            raise KernelError(EPERM)       # no host device nodes; directories via mkdir
        if kind not in (0, S.S_IFREG, S.S_IFIFO, S.S_IFSOCK):
            raise KernelError(EINVAL)
        dfd = self._dir_fd()
        try:
            if kind in (0, S.S_IFREG):
                fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW |
                             _O_CLOEXEC, perm, dir_fd=dfd)
                try:
                    self._settle(fd, perm, uid, gid, False)
                    child = self._new_child(dfd, name)
                except BaseException:
                    os.close(fd)
                    raise
                child._adopt_fd(fd, _READ | _WRITE)
                return child
            os.mknod(name, kind | perm, 0, dir_fd=dfd)
            return self._adopt_new(dfd, name, perm, uid, gid, False)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(dfd)

    def _adopt_new(self, dfd: int, name: bytes, perm: int, uid: int, gid: int,
                   is_dir: bool):
        """A name just made in this directory: give it the guest's mode and owner
        (through an O_PATH fd, never following a link) and return its inode."""
        flags = _O_PATH | _O_NOFOLLOW | _O_CLOEXEC | (_O_DIRECTORY if is_dir else 0)
        pfd = os.open(name, flags, dir_fd=dfd)
        try:
            self._settle(pfd, perm, uid, gid, is_dir)
        finally:
            os.close(pfd)
        return self._new_child(dfd, name)

    def mkdir(self, name, mode, uid, gid):
        self.fs.check_writable()
        self._need_dir()
        _check_name(name)
        perm = mode & 0o1777          # mkdir(2) ignores S_ISUID and S_ISGID
        dfd = self._dir_fd()
        try:
            os.mkdir(name, perm, dir_fd=dfd)
            return self._adopt_new(dfd, name, perm, uid, gid, True)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(dfd)

    def symlink(self, name, target, uid, gid):
        self.fs.check_writable()
        self._need_dir()
        _check_name(name)
        dfd = self._dir_fd()
        try:
            os.symlink(target, name, dir_fd=dfd)
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if (uid != -1 and uid != st.st_uid) or (gid != -1 and gid != st.st_gid):
                try:
                    os.chown(name, uid, gid, dir_fd=dfd, follow_symlinks=False)
                except OSError as e:
                    if e.errno not in (EPERM, EINVAL):
                        raise
            return self._new_child(dfd, name)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(dfd)

    def link(self, name, inode):
        self.fs.check_writable()
        self._need_dir()
        _check_name(name)
        if not isinstance(inode, HostInode) or inode.fs is not self.fs:
            raise KernelError(EXDEV)
        if inode.is_dir:
            raise KernelError(EPERM)
        if inode.parent is None:
            raise KernelError(ENOENT)     # linkat of an unlinked file
        sfd = inode.parent._dir_fd()
        try:
            dfd = self._dir_fd()
        except BaseException:
            os.close(sfd)
            raise
        try:
            st = os.stat(inode.name, dir_fd=sfd, follow_symlinks=False)
            if st.st_ino != inode.ino or st.st_dev != inode.host_dev:
                inode._detach()
                raise KernelError(ENOENT)
            os.link(inode.name, name, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
            child = self._new_child(dfd, name)
            inode._set_attrs(os.stat(name, dir_fd=dfd, follow_symlinks=False))
            return child
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(sfd)
            os.close(dfd)

    def unlink(self, name):
        self._remove(name, os.unlink)

    def rmdir(self, name):
        self._remove(name, os.rmdir)

    def _remove(self, name, remove) -> None:
        """unlink or rmdir of a name in this host directory, by directory fd."""
        self.fs.check_writable()
        self._need_dir()
        _check_name(name)
        dfd = self._dir_fd()
        try:
            remove(name, dir_fd=dfd)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(dfd)
        child = self._children.get(name)
        if child is not None:
            child._detach()

    def rename(self, old, new_dir, new, flags):
        self.fs.check_writable()
        self._need_dir()
        if not isinstance(new_dir, HostInode) or new_dir.fs is not self.fs:
            raise KernelError(EXDEV)
        new_dir._need_dir()
        _check_name(old)
        _check_name(new)
        if flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) or \
                flags == RENAME_NOREPLACE | RENAME_EXCHANGE:
            raise KernelError(EINVAL)
        sfd = self._dir_fd()
        try:
            dfd = sfd if new_dir is self else new_dir._dir_fd()
        except BaseException:
            os.close(sfd)
            raise
        try:
            src = os.stat(old, dir_fd=sfd, follow_symlinks=False)
            try:
                dst = os.stat(new, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                dst = None
            same = dst is not None and (src.st_dev, src.st_ino) == (dst.st_dev, dst.st_ino)
            if flags:
                renameat2(sfd, old, dfd, new, flags)
            else:
                os.rename(old, new, src_dir_fd=sfd, dst_dir_fd=dfd)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(sfd)
            if dfd != sfd:
                os.close(dfd)
        if same and not flags & RENAME_EXCHANGE:
            return                      # two names of one file: rename(2) does nothing
        moved = self._children.pop(old, None)
        displaced = new_dir._children.pop(new, None)
        if flags & RENAME_EXCHANGE:
            if displaced is not None:
                displaced.parent, displaced.name = self, old
                self._children[old] = displaced
        elif displaced is not None and displaced is not moved:
            displaced.parent = None     # make _detach leave new_dir's entry alone
            displaced._detach()
        if moved is not None:
            moved.parent, moved.name = new_dir, new
            new_dir._children[new] = moved

    # ---- contents -----

    def sync(self, data_only: bool) -> None:
        """fsync or fdatasync of the host file (a directory's too: its entries); a
        read-only mount has written nothing to it."""
        if self.fs.readonly or not (self.is_regular or self.is_dir):
            return
        if self.is_regular:
            fd, own = (self._fd if self._fd is not None else self._data_fd(_READ)), False
        else:
            fd, own = self._open_self(os.O_RDONLY | _O_DIRECTORY)[0], True
        try:
            (os.fdatasync if data_only else os.fsync)(fd)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            if own:
                os.close(fd)

    def _adopt_fd(self, fd: int, access: int) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = fd
        self._fd_access = access
        if not self._pinned:
            self.fs._cache_fd(self)

    def _close_fd(self) -> None:
        if self._fd is not None:
            fd, self._fd, self._fd_access = self._fd, None, 0
            os.close(fd)

    def _data_fd(self, access: int) -> int:
        """The cached host fd, opened (or reopened) for at least access."""
        fd = self._fd
        if fd is not None and self._fd_access & access == access:
            if not self._pinned:
                self.fs._fd_cache.move_to_end(self)
            return fd
        return self._open_data(access)

    def _open_data(self, access: int) -> int:
        want = access | self._fd_access
        tries = [want] if want == access else [want, access]
        last = None
        for acc in tries:
            try:
                if self._fd is not None and self.fs.host.has_proc_fd:
                    fd = self.fs.host.reopen(self._fd, _ACCESS_FLAGS[acc])   # the same file
                else:
                    fd = self._open_regular(_ACCESS_FLAGS[acc])
            except OSError as e:
                last = e
                if e.errno == EACCES:
                    continue
                raise host_errno(e) from None
            self._adopt_fd(fd, acc)
            return fd
        raise host_errno(last)

    def _open_regular(self, flags: int) -> int:
        """Open this regular file by path, never opening anything else."""
        if not self.is_regular:
            raise KernelError(EINVAL)
        pfd, _ = self._open_self(_O_PATH)      # checked: the same regular file
        try:
            fd = self.fs.host.reopen(pfd, flags)
            if fd >= 0:
                return fd
            # No /proc: open by path again; O_NONBLOCK and O_NOCTTY keep a fifo or
            # terminal swapped in meanwhile from blocking, and fstat rejects it.
            fd = self.fs.host.open_beneath(self._components(),
                                      flags | os.O_NONBLOCK | os.O_NOCTTY)
            st = os.fstat(fd)
            if st.st_ino != self.ino or st.st_dev != self.host_dev or \
                    not S.S_ISREG(st.st_mode):
                os.close(fd)
                raise KernelError(ESTALE)
            os.set_blocking(fd, True)
            return fd
        finally:
            os.close(pfd)

    def read(self, offset, size):
        if not self.is_regular:
            if self.is_dir:
                raise KernelError(EISDIR)
            return b""                   # fifos are served by the VFS, not the host
        try:
            return os.pread(self._data_fd(_READ), size, offset)
        except OSError as e:
            raise host_errno(e) from None

    def write(self, offset, data):
        if self.is_dir:
            raise KernelError(EISDIR)
        self.fs.check_writable()
        if not self.is_regular:
            raise KernelError(EINVAL)
        try:
            return os.pwrite(self._data_fd(_WRITE), data, offset)
        except OSError as e:
            raise host_errno(e) from None

    def truncate(self, size):
        if self.is_dir:
            raise KernelError(EISDIR)
        self.fs.check_writable()
        if not self.is_regular:
            raise KernelError(EINVAL)
        try:
            os.ftruncate(self._data_fd(_WRITE), size)
        except OSError as e:
            raise host_errno(e) from None

    def mmap_source(self, writable, end):
        """The host file's own pages, so a mapping and read()/write() agree. Pages
        past the file's end are never mapped from the host (mmap gives zeros there),
        and before the guest shrinks the file the kernel detaches mapped pages past
        the new end; a host process truncating the file under a mapping is the one
        case that can still fault pyunik."""
        if not self.is_regular:
            return None
        return self._data_fd(_READ | _WRITE if writable else _READ), 0

    def readlink(self):
        if not self.is_symlink:
            raise KernelError(EINVAL)
        fd, _ = self._open_self(_O_PATH)
        try:
            return os.readlink(b"", dir_fd=fd)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)

    def open(self, flags):
        kind = S.S_IFMT(self.mode)
        if kind in (S.S_IFCHR, S.S_IFBLK):
            raise KernelError(EACCES)      # as on a nodev mount
        if kind == S.S_IFSOCK:
            raise KernelError(ENXIO)
        if flags & L.O_PATH:
            return None                    # opens nothing, on Linux as here
        if kind == S.S_IFREG:
            accmode = flags & L.O_ACCMODE
            if accmode in (L.O_WRONLY, L.O_RDWR) or flags & L.O_TRUNC:
                self.fs.check_writable()
            access = {L.O_RDONLY: _READ, L.O_WRONLY: _WRITE, L.O_RDWR: _READ | _WRITE}.get(
                accmode, 0)
            if access:
                self._data_fd(access)      # fails now as the host would; keeps the file
        return None
