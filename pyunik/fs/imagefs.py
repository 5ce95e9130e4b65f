"""imagefs: a read-only tree of directories, files and symlinks whose file contents
stay in host files until the guest reads them.

Each regular file is an extent (host path, offset, size) of some host file: a member's
data inside a tar image (loader/image.py builds those) or a whole host file (the
automatic image of loader/autoimage.py). Metadata (mode, owner, mtime, size) comes
from the image's index and never from the host at run time. Inode numbers are given
in path order when the tree is built, so the same image always numbers its files
the same way; hard links share one inode. The automatic image's large trees are the
exception: their directories are listed when the guest first looks into them (a
`lister` gives the entries), and are numbered then.

Reads pread the host file, opened on first use and kept in a small LRU table of
open fds (`HostFiles`), so a tar image costs one fd and the automatic image at most
`HostFiles.limit`. A host file that got shorter since the image was built reads as
EIO. Nothing here ever resolves a guest path against the host: host paths are fixed
when the image is built.

Image tar layout (written by loader/image.py, read by `ImageFS.from_tar`): the first
member is `.pyunik-index.json`, `{"format": "pyunik-image", "version": 1, "root":
[mode, uid, gid, mtime_ns], "entries": [[path, kind, mode, uid, gid, mtime_ns,
size, offset, link], ...]}` where offset is the member's data offset in the tar and
link a symlink's target or a hard link's first path, so opening an image reads one
member and no tar headers. `from_tar` also takes any plain uncompressed tar by
scanning its headers.

Layer: fs, a filesystem under the VFS. Calls: fs/inode.py and the host's files
(os.pread); loader/ builds the trees it serves.
"""

from __future__ import annotations

import os
import stat as S
import threading
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterable
from errno import EINVAL, EIO, EISDIR

from ..errors import KernelError
from ..abi.magic import ROMFS_MAGIC   # f_type: a read-only image, as romfs is
from ..abi.statfs import ST_RDONLY
from .inode import DictDirectory, FileSystem, Inode

TYPE_CHECKING = False      # (typing is not imported: a run needs none of it)
if TYPE_CHECKING:
    import tarfile          # imported by read_index: the automatic image reads no tar

INDEX_NAME = ".pyunik-index.json"
INDEX_FORMAT = "pyunik-image"
INDEX_VERSION = 1
KINDS = ("file", "dir", "symlink", "hardlink", "node")
DIR_SIZE = 4096                # st_size of a directory, as on ext4


class ImageError(Exception):
    """An image that cannot be built or read; the message is for the user."""


class Entry(namedtuple("Entry", "path kind source mode uid gid mtime_ns size offset")):
    """One name in an image.

    kind 'file': source is the host path holding the contents at offset, size bytes.
    kind 'dir': source is None, or a token for the image's lister (a directory
    listed on first use, see ImageFS). kind 'symlink': source is the target (bytes).
    kind 'hardlink': source is the guest path (bytes) of an earlier 'file' entry.
    kind 'node': a fifo or device; mode carries its S_IFMT and source its rdev.
    mode is the permission bits (S_IFMT bits, if present, are ignored except for 'node').
    """

    __slots__ = ()


_KIND_IFMT = {"file": S.S_IFREG, "dir": S.S_IFDIR, "symlink": S.S_IFLNK}


def split_path(path: bytes) -> list[bytes]:
    """The components of an absolute guest path; '..' is refused."""
    parts = [p for p in path.split(b"/") if p and p != b"."]
    if b".." in parts:
        raise ImageError("path with '..' in an image: %s" % os.fsdecode(path))
    return parts


class HostFiles:
    """Host files opened for reading, at most `limit` at once; the least recently used
    is closed first. pread happens under the lock, so an fd is never closed while
    another thread reads it."""

    limit = 64

    def __init__(self, limit: int | None = None):
        if limit is not None:
            self.limit = limit
        self._fds: OrderedDict[str | bytes, int] = OrderedDict()
        self._lock = threading.Lock()

    def pread(self, path: str | bytes, offset: int, size: int) -> bytes:
        with self._lock:
            fd = self._fds.get(path)
            if fd is None:
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    raise KernelError(EIO) from None
                self._fds[path] = fd
                while len(self._fds) > self.limit:
                    os.close(self._fds.popitem(last=False)[1])
            else:
                self._fds.move_to_end(path)
            try:
                return os.pread(fd, size, offset)
            except OSError:
                raise KernelError(EIO) from None

    def close(self) -> None:
        with self._lock:
            while self._fds:
                os.close(self._fds.popitem()[1])


class ImageFS(FileSystem):
    cacheable = True
    name = "imagefs"
    magic = ROMFS_MAGIC

    def __init__(self, root_mode: int = 0o755, root_uid: int = 0, root_gid: int = 0,
                 root_mtime_ns: int | None = None, host_files: HostFiles | None = None,
                 lister: Callable[[object, bytes | None], list[Entry]] | None = None):
        super().__init__(readonly=True)
        self.host_files = host_files or HostFiles()
        self.root = ImageInode(self, S.S_IFDIR | (root_mode & 0o7777), root_uid, root_gid,
                               self.clock() if root_mtime_ns is None else root_mtime_ns)
        # Inodes stamped from the clock when built: the root unless its time was
        # given, and then the parents no entry names, which take the root's time.
        # set_clock stamps them again from the kernel's clock.
        self._stamped = [self.root] if root_mtime_ns is None else []
        self.file_count = 0
        self.total_size = 0        # bytes of regular file contents
        self._dirs: dict[tuple[bytes, ...], ImageInode] = {}   # parents seen while building
        self._grown: dict[int, ImageInode] | None = None       # add(): dirs given a subdir
        # Directories listed on first use (the automatic image's large trees): a
        # 'dir' entry's source is then a token, and lister(token, None) gives the
        # entries of the whole directory, lister(token, name) those of one name in
        # it (each with whatever else that name needs, such as a symlink's target).
        self.lister: Callable[[object, bytes | None], list[Entry]] | None = lister

    def statfs(self) -> dict:
        blocks = (self.total_size + 4095) // 4096
        return {"type": self.magic, "bsize": 4096, "blocks": blocks, "bfree": 0,
                "bavail": 0, "files": self.file_count, "ffree": 0, "namelen": 255,
                "frsize": 4096, "flags": ST_RDONLY}

    def close(self) -> None:
        """Close the host files (the image stays usable; they reopen on demand)."""
        self.host_files.close()

    # ---- building the tree -----

    @classmethod
    def from_entries(cls, entries: Iterable, root_meta: tuple | None = None,
                     lister: Callable[[object, bytes | None], list[Entry]] | None = None
                     ) -> ImageFS:
        """The tree of entries (Entry or 9-tuples in Entry's order). A later entry for
        the same path replaces an earlier one; missing parent directories are made
        with mode 0755, owner 0:0. An entry for b'/' gives the root's metadata, as
        root_meta=(mode, uid, gid, mtime_ns) does. With a lister, 'dir' entries with
        a source are listed on first use (see __init__)."""
        by_path: dict[tuple[bytes, ...], Entry] = {}
        for e in entries:
            e = Entry(*e)
            if e.kind not in KINDS:
                raise ImageError("unknown entry kind %r for %s" % (e.kind, os.fsdecode(e.path)))
            if not (0 <= e.uid < 1 << 32 and 0 <= e.gid < 1 << 32 and 0 <= e.size < 1 << 63
                    and 0 <= e.offset < 1 << 63 and -(1 << 63) <= e.mtime_ns < 1 << 63):
                raise ImageError("metadata out of range for %s" % os.fsdecode(e.path))
            parts = tuple(split_path(e.path))
            if not parts:
                if e.kind != "dir":
                    raise ImageError("the image root must be a directory")
                root_meta = (e.mode, e.uid, e.gid, e.mtime_ns)
                continue
            by_path[parts] = e
        fs = cls(*(root_meta or ()), lister=lister)
        hardlinks = []
        for parts in sorted(by_path):
            e = by_path[parts]
            if e.kind == "hardlink":
                hardlinks.append((parts, e))
                continue
            parent = fs._make_parents(parts, e.path)
            fs._add(parent, parts[-1], e)
        for parts, e in hardlinks:
            target = fs._find(split_path(os.fsencode(e.source)))
            if target is None or not target.is_regular:
                raise ImageError("hard link %s to %s, which is not a file in the image"
                                 % (os.fsdecode(e.path), os.fsdecode(e.source)))
            parent = fs._make_parents(parts, e.path)
            old = parent._children.get(parts[-1])
            if old is not None and old.is_dir:
                raise ImageError("hard link %s replaces a directory" % os.fsdecode(e.path))
            parent._children[parts[-1]] = target
            target.nlink += 1
        fs._count_links(fs.root)
        fs._dirs.clear()
        return fs

    def add(self, entries: Iterable[Entry]) -> int:
        """Names added to a built tree (the automatic image learning a program, a
        directory listed on first use): each entry whose path the tree lacks goes
        in, parents made as from_entries makes them, also inside directories still
        to list (whose own listing later leaves them as they are); a path already
        there is left as it is (nothing the guest has seen changes). Returns how
        many went in."""
        added = 0
        self._grown = {}
        for e in sorted(entries, key=lambda e: split_path(e.path)):
            parts = tuple(split_path(e.path))
            if not parts or e.kind == "hardlink" or self._find(parts) is not None:
                continue
            parent = self._find(parts[:-1])
            if parent is not None and not parent.is_dir:
                continue
            parent = self._make_parents(parts, e.path)
            self._add(parent, parts[-1], e)
            if e.kind == "dir":
                self._grown[id(parent)] = parent
            added += 1
        self._dirs.clear()
        for d in self._grown.values():        # the link counts of those with new subdirectories
            if d.listing is None:
                d.nlink = 2 + sum(1 for c in d._children.values() if c.is_dir)
        self._grown = None
        return added

    def _find(self, parts) -> ImageInode | None:
        node = self.root
        for name in parts:
            if node._children is None:
                return None
            node = node._children.get(name)
            if node is None:
                return None
        return node

    def set_clock(self, clock) -> None:
        super().set_clock(clock)
        now = clock()
        for inode in self._stamped:
            inode.atime_ns = inode.mtime_ns = inode.ctime_ns = now

    def _make_parents(self, parts: tuple[bytes, ...], path: bytes) -> ImageInode:
        """The directory that will hold parts[-1], made (mode 0755) if missing."""
        cached = self._dirs.get(parts[:-1])
        if cached is not None and cached.is_dir:
            return cached
        node = self.root
        for name in parts[:-1]:
            child = node._children.get(name)
            if child is None:
                child = ImageInode(self, S.S_IFDIR | 0o755, 0, 0, self.root.mtime_ns)
                node._children[name] = child
                if self._grown is not None:
                    self._grown[id(node)] = node
                if self._stamped:
                    self._stamped.append(child)
            elif not child.is_dir:
                raise ImageError("%s is inside %s, which is not a directory"
                                 % (os.fsdecode(path), os.fsdecode(b"/".join(parts[:-1]))))
            node = child
        self._dirs[parts[:-1]] = node
        return node

    def _add(self, parent: ImageInode, name: bytes, e: Entry) -> None:
        old = parent._children.get(name)
        perm = e.mode & 0o7777
        if e.kind == "dir":
            if old is not None and old.is_dir:       # made implicitly, or listed twice
                old.mode, old.uid, old.gid = S.S_IFDIR | perm, e.uid, e.gid
                old.atime_ns = old.mtime_ns = old.ctime_ns = e.mtime_ns
                if e.source is not None and self.lister is not None:
                    old.listing = (e.source, tuple(split_path(e.path)))
                return
            node = ImageInode(self, S.S_IFDIR | perm, e.uid, e.gid, e.mtime_ns)
            if e.source is not None and self.lister is not None:
                node.listing = (e.source, tuple(split_path(e.path)))
        elif e.kind == "file":
            node = ImageInode(self, S.S_IFREG | perm, e.uid, e.gid, e.mtime_ns)
            node.host, node.offset, node.file_size = e.source, e.offset, e.size
            self.file_count += 1
            self.total_size += e.size
        elif e.kind == "symlink":
            node = ImageInode(self, S.S_IFLNK | 0o777, e.uid, e.gid, e.mtime_ns)
            node.target = os.fsencode(e.source)
        else:                                        # node
            if S.S_IFMT(e.mode) not in (S.S_IFIFO, S.S_IFCHR, S.S_IFBLK):
                raise ImageError("bad node type for %s" % os.fsdecode(e.path))
            node = ImageInode(self, S.S_IFMT(e.mode) | perm, e.uid, e.gid, e.mtime_ns,
                              rdev=int(e.source or 0))
        if old is not None and old.is_dir and old._children:
            raise ImageError("%s replaces a non-empty directory" % os.fsdecode(e.path))
        parent._children[name] = node

    def _count_links(self, d: ImageInode) -> None:
        stack = [d]
        while stack:
            d = stack.pop()
            subdirs = [c for c in d._children.values() if c.is_dir]
            if d.listing is None:       # a directory still to list counts when it is
                d.nlink = 2 + len(subdirs)
            stack.extend(subdirs)

    # ---- directories listed on first use -----

    def _list(self, d: ImageInode) -> None:
        """List d, a directory whose entries `lister` gives, now: its whole listing
        goes in (names looked up before stay as they are) in name order, and d's
        link count is known from here on."""
        (token, where), d.listing = d.listing, None
        if self.lister is not None:
            elsewhere = []            # (a symlink's target and what leads to it)
            for e in self.lister(token, None):
                parts = split_path(e.path)
                if len(parts) == len(where) + 1 and tuple(parts[:-1]) == where:
                    if parts[-1] not in d._children:
                        self._add(d, parts[-1], e)
                else:
                    elsewhere.append(e)
            self.add(elsewhere)
        d._children = dict(sorted(d._children.items()))
        d.nlink = 2 + sum(1 for c in d._children.values() if c.is_dir)

    def _list_name(self, d: ImageInode, name: bytes) -> ImageInode | None:
        """One name of a directory still to list: what the lister says it is."""
        if self.lister is None:
            return None
        self.add(self.lister(d.listing[0], name))
        return d._children.get(name)

    # ---- reading tar images -----

    @classmethod
    def from_tar(cls, path: str, require_index: bool = False) -> ImageFS:
        """The image in the tar at path: by its index when it has one (pyunik images),
        else by scanning every header (any uncompressed tar) unless require_index."""
        found = read_index(path, scan=not require_index)
        if found is None:
            raise ImageError("%s: not a pyunik image (a tar without %s first; build one "
                             "with `pyunik image build`)" % (path, INDEX_NAME))
        try:
            return cls.from_entries(*found)
        except ImageError as e:
            raise ImageError("%s: %s" % (path, e)) from None


def read_index(path: str, scan: bool = False) -> tuple[list[Entry], tuple | None] | None:
    """The entries and root metadata of the tar at path, from its index; None when it
    has no index, unless scan, which then reads every tar header instead."""
    import tarfile
    try:
        tf = tarfile.open(path, "r:", encoding="utf-8", errors="surrogateescape")
    except tarfile.ReadError:
        raise ImageError("%s: not an uncompressed tar file" % path) from None
    except OSError as e:
        raise ImageError("%s: %s" % (path, e.strerror or e)) from None
    with tf:
        try:
            first = tf.next()
            if first is not None and first.name == INDEX_NAME and first.isreg():
                data = tf.extractfile(first).read()
                return _parse_index(data, path, os.path.getsize(path))
            return _scan_tar(tf, path) if scan else None
        except (tarfile.TarError, EOFError, OSError) as e:
            raise ImageError("%s: damaged tar: %s" % (path, e)) from None


def _parse_index(data: bytes, path: str, tar_size: int) -> tuple[list[Entry], tuple]:
    host_path = os.path.abspath(path)     # file entries keep it; the host cwd may change

    def bad(why):
        return ImageError("%s: damaged image index: %s" % (path, why))
    import json
    try:
        index = json.loads(data)
    except ValueError as e:
        raise bad(e) from None
    if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT:
        raise bad("not a %s index" % INDEX_FORMAT)
    if index.get("version") != INDEX_VERSION:
        raise ImageError("%s: image version %r, this pyunik reads version %d"
                         % (path, index.get("version"), INDEX_VERSION))
    root = index.get("root")
    if not (isinstance(root, list) and len(root) == 4 and all(type(v) is int for v in root)):
        raise bad("bad root")
    entries = []
    for row in index.get("entries", ()):
        if not isinstance(row, list) or len(row) != 9:
            raise bad("bad entry %r" % (row,))
        gpath, kind, mode, uid, gid, mtime_ns, size, offset, link = row
        if not (isinstance(gpath, str) and gpath.startswith("/") and kind in KINDS
                and all(type(v) is int for v in (mode, uid, gid, mtime_ns, size, offset))):
            raise bad("bad entry %r" % (row,))
        if kind == "file":
            if size < 0 or offset < 0 or offset + size > tar_size:
                raise bad("%s lies outside the tar" % gpath)
            source = host_path
        elif kind in ("symlink", "hardlink"):
            if not isinstance(link, str):
                raise bad("bad link in %r" % (row,))
            source = os.fsencode(link)
        elif kind == "node":
            source = link if type(link) is int else 0
        else:
            source = None
        entries.append(Entry(os.fsencode(gpath), kind, source, mode, uid, gid, mtime_ns,
                             size, offset))
    return entries, tuple(root)


def _scan_tar(tf: tarfile.TarFile, path: str) -> tuple[list[Entry], tuple | None]:
    entries, root, host_path = [], None, os.path.abspath(path)
    for m in tf:
        gpath = b"/" + b"/".join(split_path(os.fsencode(m.name)))
        mtime_ns = int(m.mtime * 10**9)
        common = (m.mode & 0o7777, m.uid, m.gid, mtime_ns)
        if gpath == b"/":
            if m.isdir():
                root = common
            continue
        if m.issparse():
            raise ImageError("%s: sparse member %s is not supported" % (path, m.name))
        if m.isreg():
            entries.append(Entry(gpath, "file", host_path, *common, m.size, m.offset_data))
        elif m.isdir():
            entries.append(Entry(gpath, "dir", None, *common, 0, 0))
        elif m.issym():
            entries.append(Entry(gpath, "symlink", os.fsencode(m.linkname), *common, 0, 0))
        elif m.islnk():
            target = b"/" + b"/".join(split_path(os.fsencode(m.linkname)))
            entries.append(Entry(gpath, "hardlink", target, *common, 0, 0))
        else:
            ifmt = S.S_IFIFO if m.isfifo() else S.S_IFCHR if m.ischr() else S.S_IFBLK
            entries.append(Entry(gpath, "node", os.makedev(m.devmajor, m.devminor),
                                 ifmt | (m.mode & 0o7777), m.uid, m.gid, mtime_ns, 0, 0))
    return entries, root


class ImageInode(DictDirectory, Inode):
    # A directory still to list: (the lister's token (ImageFS), its path's parts).
    # Until then it holds only the names looked up so far, and its link count is
    # not known.
    listing: object = None
    stat_bytes = Inode.kept_stat_bytes

    def __init__(self, fs: ImageFS, mode: int, uid: int, gid: int, mtime_ns: int,
                 rdev: int = 0):
        super().__init__(fs, mode, uid, gid, rdev=rdev)
        self.atime_ns = self.mtime_ns = self.ctime_ns = mtime_ns
        self._children: dict[bytes, ImageInode] | None = {} if S.S_ISDIR(mode) else None
        self.target = b""
        self.host: str | bytes | None = None     # regular files: where the bytes are
        self.offset = 0
        self.file_size = 0

    @property
    def children(self) -> dict[bytes, ImageInode] | None:
        """The whole directory (listed now if it was still to list)."""
        if self.listing is not None:
            self.fs._list(self)
        return self._children

    @property
    def nlink(self) -> int:
        if self.listing is not None:
            self.fs._list(self)
        return self._nlink

    @nlink.setter
    def nlink(self, value: int) -> None:
        self._nlink = value

    def lookup(self, name):
        self._need_dir()
        child = self._children.get(name)
        if child is None and self.listing is not None:
            child = self.fs._list_name(self, name)
        return child

    @property
    def size(self) -> int:
        if self.host is not None:
            return self.file_size
        if self.is_symlink:
            return len(self.target)
        if self.is_dir:
            return DIR_SIZE
        return 0

    def host_extent(self) -> tuple[str | bytes, int, int] | None:
        """(host path, offset, size) holding a regular file's bytes, for mapping them
        directly; offset is page-aligned for large files of pyunik-built images and 0
        in the automatic image."""
        if self.host is None:
            return None
        return self.host, self.offset, self.file_size

    def mmap_source(self, writable, end):
        """The host file itself when it is the whole file (the automatic image):
        read-only, so only MAP_PRIVATE or read-only shared mappings of it exist. A
        member of a tar image is copied instead: the bytes after it in the tar are
        not the zeros a mapping past its end must show."""
        extent = self.host_extent()
        if extent is None or writable or extent[1] != 0:
            return None
        if getattr(self, "_map_fd", None) is None:
            try:
                self._map_fd = os.open(extent[0], os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
        return self._map_fd, extent[1]

    def read(self, offset, size):
        if self.is_dir:
            raise KernelError(EISDIR)
        if self.host is None or offset >= self.file_size or size <= 0:
            return b""
        size = min(size, self.file_size - offset)
        data = self.fs.host_files.pread(self.host, self.offset + offset, size)
        if len(data) != size:
            raise KernelError(EIO)           # the host file shrank under the image
        return data

    def readlink(self):
        if not self.is_symlink:
            raise KernelError(EINVAL)
        return self.target
