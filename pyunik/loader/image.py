"""Image files: build a tar image from an OSv-style manifest, list one, open one.

A manifest names what goes into the guest's tree, one line each (OSv's
usr.manifest syntax, as its scripts/upload_manifest.py reads it):

    [manifest]                          optional section header
    # a comment                         (a line starting with #)
    /guest/file: host/file              one file; a host symlink is followed; a host
                                        directory gives an empty directory
    /guest/dir/**: host/dir/**          the host tree, recursively: directories,
                                        files, symlinks kept as symlinks, hard links
    /usr/lib/&/libfoo.so: host/lib/&    OSv's shorthand for /usr/lib/libfoo.so:
                                        host/lib/libfoo.so
    /guest/link: ->target               a symlink (OSv's form)
    /guest/link -> target               the same
    /x: ${TOP}/build/x                  ${VAR}: from --var VAR=..., else the environment

Host paths are relative to the manifest's directory; a leading `!` (OSv's "do not
chase this symlink") is accepted and changes nothing. A later line for the same
guest path replaces an earlier one. Everything is owned by 0:0 unless
keep_owner; modes and mtimes come from the host; directories not named are made
with mode 0755 and the manifest's mtime.

The image is a POSIX (pax) tar that tar(1) lists and extracts. Its first member,
`.pyunik-index.json`, lists every entry with its metadata and the offset of its
data in the tar (fs/imagefs.py describes it), so opening an image reads only that.
Members are in path order, parents first; the data of files of 16 KiB or more
starts on a 4 KiB boundary (a pax `comment` record pads the header) so a loader can
map their pages straight from the image.

Every user error (a bad line, a missing host file, an unknown variable, an
unwritable output) is an ImageError with a one-line message.

Layer: loader. Calls: fs/imagefs.py (the index format, ImageFS) and tarfile.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat as S
import tarfile
import time
from dataclasses import dataclass

from ..abi.page import PAGE_SIZE
from ..fs.imagefs import (INDEX_FORMAT, INDEX_NAME, INDEX_VERSION, ImageError, ImageFS,
                          read_index)

__all__ = ["ImageError", "build_image", "list_image", "open_image", "parse_vars",
           "read_manifest"]

TAR_FORMAT = tarfile.PAX_FORMAT
TAR_ENCODING, TAR_ERRORS = "utf-8", "surrogateescape"
BLOCK = tarfile.BLOCKSIZE            # 512
ALIGN_MIN_SIZE = 16 * 1024           # files this big get page-aligned data
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass
class ManifestLine:
    lineno: int
    guest: str           # as written, variables substituted
    host: str | None     # absolute host path (None for a symlink line)
    link: str | None     # a symlink line's target


@dataclass
class _Item:
    """One member of the image being built."""
    path: str            # guest path, absolute, normalized
    kind: str            # file, dir, symlink, hardlink
    mode: int            # permission bits
    uid: int
    gid: int
    mtime_ns: int
    size: int = 0
    host: str | None = None
    link: str | None = None          # symlink target, or a hard link's first path
    lineno: int = 0                  # the manifest line it came from (0: implicit)
    host_id: tuple | None = None     # (st_dev, st_ino) of a host file with st_nlink > 1


def parse_vars(pairs) -> dict[str, str]:
    """{'K': 'V'} from ['K=V', ...] (the --var options)."""
    out = {}
    for pair in pairs or ():
        name, eq, value = pair.partition("=")
        if not eq or not _VAR_NAME.match(name):
            raise ImageError("bad --var %r: expected NAME=VALUE" % pair)
        out[name] = value
    return out


def _substitute(text: str, variables: dict, where: str) -> str:
    def value(m):
        name = m.group(1)
        if name in variables:
            return variables[name]
        if name in os.environ:
            return os.environ[name]
        raise ImageError("%s: unknown variable ${%s} (give it with --var %s=VALUE or set "
                         "it in the environment)" % (where, name, name))
    out = _VAR.sub(value, text)
    if "${" in _VAR.sub("", text):
        raise ImageError("%s: bad variable reference (expected ${NAME})" % where)
    return out


def read_manifest(manifest_path: str, variables: dict | None = None) -> list[ManifestLine]:
    """The manifest's lines, variables substituted, host paths made absolute."""
    variables = variables or {}
    try:
        with open(manifest_path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError as e:
        raise ImageError("cannot read manifest %s: %s"
                         % (manifest_path, e.strerror or e)) from None
    base = os.path.dirname(os.path.abspath(manifest_path))
    lines = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = "%s:%d" % (manifest_path, lineno)
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if line != "[manifest]":
                raise ImageError("%s: unknown section %s (only [manifest] is known)"
                                 % (where, line))
            continue
        line = _substitute(line, variables, where)
        m = re.match(r"(.*?):\s+(.*)\Z", line)
        if m:
            guest, host = m.group(1).strip(), m.group(2).strip()
            link = host[2:].strip() if host.startswith("->") else None
        else:
            m = re.match(r"(.*?)\s+->\s+(.*)\Z", line)
            if not m:
                raise ImageError("%s: expected '/guest/path: host/path' or "
                                 "'/guest/link -> target', got %r" % (where, raw.strip()))
            guest, host, link = m.group(1).strip(), "", m.group(2).strip()
        if not guest.startswith("/"):
            raise ImageError("%s: the guest path %r is not absolute" % (where, guest))
        if link is not None:
            if not link:
                raise ImageError("%s: symlink with an empty target" % where)
            lines.append(ManifestLine(lineno, guest, None, link))
            continue
        if not host:
            raise ImageError("%s: no host path" % where)
        if host.startswith("!"):
            host = host[1:]
        lines.append(ManifestLine(lineno, guest, os.path.join(base, host), None))
    return lines


def _norm_guest(path: str, where: str) -> str:
    parts = [p for p in path.split("/") if p and p != "."]
    if ".." in parts:
        raise ImageError("%s: '..' in the guest path %s" % (where, path))
    return "/" + "/".join(parts)


def _item_from_stat(path: str, st: os.stat_result, host: str, lineno: int, where: str,
                    keep_owner: bool) -> _Item:
    uid, gid = (st.st_uid, st.st_gid) if keep_owner else (0, 0)
    mode = S.S_IMODE(st.st_mode)
    if S.S_ISDIR(st.st_mode):
        return _Item(path, "dir", mode, uid, gid, st.st_mtime_ns, lineno=lineno)
    if S.S_ISREG(st.st_mode):
        return _Item(path, "file", mode, uid, gid, st.st_mtime_ns, st.st_size, host,
                     lineno=lineno,
                     host_id=(st.st_dev, st.st_ino) if st.st_nlink > 1 else None)
    if S.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(host)
        except OSError as e:
            raise ImageError("%s: cannot read symlink %s: %s"
                             % (where, host, e.strerror)) from None
        return _Item(path, "symlink", 0o777, uid, gid, st.st_mtime_ns, link=target,
                     lineno=lineno)
    raise ImageError("%s: %s is not a regular file, directory or symlink" % (where, host))


def _expand(lines: list[ManifestLine], manifest_path: str, keep_owner: bool,
            default_mtime_ns: int) -> dict[str, _Item]:
    items: dict[str, _Item] = {}
    for ml in lines:
        where = "%s:%d" % (manifest_path, ml.lineno)
        guest, host = ml.guest, ml.host
        if ml.link is not None:
            path = _norm_guest(guest, where)
            items[path] = _Item(path, "symlink", 0o777, 0, 0, default_mtime_ns,
                                link=ml.link, lineno=ml.lineno)
            continue
        if "/&/" in guest and host.endswith("/&"):
            prefix, suffix = guest.split("/&/", 1)
            guest, host = prefix + "/" + suffix, host[:-1] + suffix
        if guest.endswith("/**") or host.endswith("/**"):
            if not (guest.endswith("/**") and host.endswith("/**")):
                raise ImageError("%s: both sides of a '**' line must end in /**" % where)
            _expand_tree(items, _norm_guest(guest[:-3], where), host[:-3], ml.lineno,
                         where, keep_owner)
            continue
        path = _norm_guest(guest, where)
        try:
            st = os.stat(host)
        except OSError as e:
            hint = " ('*' patterns are not supported: use /dir/**)" if "*" in host else ""
            raise ImageError("%s: host file %s: %s%s"
                             % (where, host, e.strerror, hint)) from None
        items[path] = _item_from_stat(path, st, host, ml.lineno, where, keep_owner)
    return items


def _expand_tree(items: dict, guest: str, top: str, lineno: int, where: str,
                 keep_owner: bool) -> None:
    def fail(e):
        raise ImageError("%s: %s: %s" % (where, e.filename or top, e.strerror or e))
    if not os.path.isdir(top):
        raise ImageError("%s: host directory %s: %s" % (where, top, "not found"
                         if not os.path.exists(top) else "not a directory"))
    try:
        items[guest] = _item_from_stat(guest, os.stat(top), top, lineno, where, keep_owner)
        for dirpath, dirnames, filenames in os.walk(top, onerror=fail):
            rel = os.path.relpath(dirpath, top)
            gdir = guest if rel == "." else _join(guest, rel)
            for name in sorted(dirnames + filenames):
                host = os.path.join(dirpath, name)
                path = _join(gdir, name)
                items[path] = _item_from_stat(path, os.lstat(host), host, lineno, where,
                                              keep_owner)
    except OSError as e:
        fail(e)


def _join(a: str, b: str) -> str:
    return a.rstrip("/") + "/" + b


def _complete(items: dict[str, _Item], default_mtime_ns: int, manifest_path: str) -> None:
    """Add missing parent directories, refuse names under non-directories, and turn
    second names of one host inode into hard links."""
    for path in sorted(items):
        parent = path.rsplit("/", 1)[0] or "/"
        while parent != "/":
            p = items.get(parent)
            if p is None:
                items[parent] = _Item(parent, "dir", 0o755, 0, 0, default_mtime_ns)
            elif p.kind != "dir":
                it = items[path]
                raise ImageError("%s:%d: %s is inside %s (line %d), which is a %s"
                                 % (manifest_path, it.lineno, path, parent, p.lineno,
                                    "symlink" if p.kind == "symlink" else "file"))
            parent = parent.rsplit("/", 1)[0] or "/"
    first: dict[tuple, str] = {}
    for path in sorted(items, key=os.fsencode):
        it = items[path]
        if it.kind == "file" and it.host_id is not None:
            if it.host_id in first:
                it.kind, it.link = "hardlink", first[it.host_id]
            else:
                first[it.host_id] = path


# ---- the tar layout -----

def _tarinfo(it: _Item) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(it.path.lstrip("/"))
    ti.mode, ti.uid, ti.gid = it.mode, it.uid, it.gid
    ti.mtime = it.mtime_ns // 10**9
    ti.uname = ti.gname = ""
    if it.kind == "dir":
        ti.type = tarfile.DIRTYPE
    elif it.kind == "symlink":
        ti.type, ti.linkname = tarfile.SYMTYPE, it.link
    elif it.kind == "hardlink":
        ti.type, ti.linkname = tarfile.LNKTYPE, it.link.lstrip("/")
    else:
        ti.type, ti.size = tarfile.REGTYPE, it.size
    return ti


def _header(ti: tarfile.TarInfo, pos: int, align: bool) -> bytes:
    """ti's header bytes at tar offset pos; when align, a pax comment record is sized
    so the data after the header starts on a page boundary."""
    buf = ti.tobuf(TAR_FORMAT, TAR_ENCODING, TAR_ERRORS)
    if not align or (pos + len(buf)) % PAGE_SIZE == 0:
        return buf
    base = dict(ti.pax_headers)
    ti.pax_headers = dict(base, comment="")
    with_empty = ti.tobuf(TAR_FORMAT, TAR_ENCODING, TAR_ERRORS)
    records = tarfile.TarInfo.frombuf(with_empty[:BLOCK], TAR_ENCODING, TAR_ERRORS).size
    others = records - len("12 comment=\n")
    blocks = -(-(others + 12) // BLOCK)
    while (pos + BLOCK + blocks * BLOCK + BLOCK) % PAGE_SIZE:    # pax header, records, header
        blocks += 1
    length = blocks * BLOCK - others                       # of the comment record
    digits = len(str(length))
    ti.pax_headers = dict(base, comment="x" * (length - len(" comment=\n") - digits))
    aligned = ti.tobuf(TAR_FORMAT, TAR_ENCODING, TAR_ERRORS)
    if (pos + len(aligned)) % PAGE_SIZE == 0:
        return aligned
    ti.pax_headers = base                                  # cannot happen; stay unaligned
    return buf


def _pad(n: int) -> int:
    return -(-n // BLOCK) * BLOCK


def _index_json(root: _Item, rows: list, pad_to: int = 0) -> bytes:
    root_meta = [root.mode, root.uid, root.gid, root.mtime_ns]
    data = json.dumps({"format": INDEX_FORMAT, "version": INDEX_VERSION, "root": root_meta,
                       "entries": rows}, separators=(",", ":")).encode() + b"\n"
    return data + b" " * (pad_to - len(data)) if pad_to > len(data) else data


def _layout(items: list[_Item], data_start: int):
    """Header bytes and data offset of every member when member data starts at
    data_start, and the index rows that record them."""
    pos, plan, rows = data_start, [], []
    for it in items:
        ti = _tarinfo(it)
        hdr = _header(ti, pos, it.kind == "file" and it.size >= ALIGN_MIN_SIZE)
        offset = pos + len(hdr)
        pos = offset + (_pad(it.size) if it.kind == "file" else 0)
        plan.append((it, ti, offset))
        link = it.link if it.kind in ("symlink", "hardlink") else None
        rows.append([it.path, it.kind, it.mode, it.uid, it.gid, it.mtime_ns, it.size,
                     offset if it.kind == "file" else 0, link])
    return plan, rows


def build_image(manifest_path: str, output_path: str, variables: dict | None = None,
                keep_owner: bool = False) -> int:
    """Build the tar image output_path from the manifest; returns the number of
    entries (files, directories, symlinks, hard links; not the root)."""
    lines = read_manifest(manifest_path, variables)
    try:
        default_mtime_ns = os.stat(manifest_path).st_mtime_ns
    except OSError:
        default_mtime_ns = time.time_ns()
    items = _expand(lines, manifest_path, keep_owner, default_mtime_ns)
    root = items.pop("/", None) or _Item("/", "dir", 0o755, 0, 0, default_mtime_ns)
    if root.kind != "dir":
        raise ImageError("%s:%d: / must be a directory" % (manifest_path, root.lineno))
    _complete(items, default_mtime_ns, manifest_path)
    ordered = [items[p] for p in sorted(items, key=os.fsencode)]

    # The index comes first and holds the offsets that follow it: grow its reserved
    # size until the index written with those offsets fits in it.
    reserved = BLOCK
    while True:
        plan, rows = _layout(ordered, BLOCK + reserved)
        index = _index_json(root, rows)
        if _pad(len(index)) <= reserved:
            index = _index_json(root, rows, pad_to=reserved)
            break
        reserved = _pad(len(index))

    _write(output_path, index, plan, default_mtime_ns // 10**9)
    return len(ordered)


def _write(output_path: str, index: bytes, plan: list, index_mtime: int) -> None:
    out_dir = os.path.dirname(os.path.abspath(output_path))
    tmp = os.path.join(out_dir, ".%s.tmp%d" % (os.path.basename(output_path), os.getpid()))
    try:
        f = open(tmp, "wb")
    except OSError as e:
        raise ImageError("cannot write %s: %s" % (output_path, e.strerror or e)) from None
    try:
        with f, tarfile.open(fileobj=f, mode="w", format=TAR_FORMAT, encoding=TAR_ENCODING,
                             errors=TAR_ERRORS) as tf:
            head = tarfile.TarInfo(INDEX_NAME)
            head.size, head.mode, head.mtime = len(index), 0o644, index_mtime
            tf.addfile(head, io.BytesIO(index))
            for it, ti, offset in plan:
                if it.kind != "file":
                    tf.addfile(ti)
                    continue
                _add_file(tf, it, ti, offset)
        os.replace(tmp, output_path)
    except OSError as e:
        _remove(tmp)
        raise ImageError("cannot write %s: %s" % (output_path, e.strerror or e)) from None
    except BaseException:
        _remove(tmp)
        raise


def _add_file(tf: tarfile.TarFile, it: _Item, ti: tarfile.TarInfo, offset: int) -> None:
    try:
        src = open(it.host, "rb")
    except OSError as e:
        raise ImageError("cannot read host file %s: %s" % (it.host, e.strerror or e)) from None
    with src:
        if os.fstat(src.fileno()).st_size != it.size:
            raise ImageError("host file %s changed while the image was built" % it.host)
        start = tf.offset
        try:
            tf.addfile(ti, src)
        except OSError as e:
            raise ImageError("copying host file %s: %s" % (it.host, e.strerror or e)) from None
        if start + len(ti.tobuf(TAR_FORMAT, TAR_ENCODING, TAR_ERRORS)) != offset:
            raise AssertionError("image layout differs from its plan at %s" % it.path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ---- reading images -----

def open_image(path: str) -> ImageFS:
    """The imagefs of a pyunik image (ImageError if path is not one)."""
    return ImageFS.from_tar(path, require_index=True)


def list_image(path: str) -> list[str]:
    """One `ls -l`-like line per entry: mode, owner, size, mtime (UTC), path."""
    found = read_index(path)
    if found is None:
        raise ImageError("%s: not a pyunik image (a tar without %s first)" % (path, INDEX_NAME))
    entries, _root = found
    out = []
    for e in entries:
        ifmt = {"file": S.S_IFREG, "hardlink": S.S_IFREG, "dir": S.S_IFDIR,
                "symlink": S.S_IFLNK}.get(e.kind, S.S_IFMT(e.mode))
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(e.mtime_ns // 10**9))
        size = len(e.source) if e.kind == "symlink" else e.size
        line = "%s %5s %10d %s %s" % (S.filemode(ifmt | (e.mode & 0o7777)),
                                       "%d/%d" % (e.uid, e.gid), size, when,
                                       os.fsdecode(e.path))
        if e.kind == "symlink":
            line += " -> " + os.fsdecode(e.source)
        elif e.kind == "hardlink":
            line += " link to " + os.fsdecode(e.source)
        out.append(line)
    return out
