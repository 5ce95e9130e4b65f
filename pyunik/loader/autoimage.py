"""The automatic image: the host files a dynamically linked program needs, and no others.

When `pyunik run PROGRAM` is given no --root or --image, the guest's files come
from an imagefs (fs/imagefs.py) built from `auto_image_entries(PROGRAM)`. Entries
name host files; nothing is read until the guest reads it. Exactly this goes in
(2-5 only when some program in 1 is dynamically linked):

1. the program, at its absolute host path as given; for a `#!` script, also its
   interpreter (an absolute path, as the kernel needs), and so on 4 levels deep,
   each with what it needs in turn (a `#!/usr/bin/env NAME` script gets env only);
2. its interpreter (PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2);
3. the shared libraries of the DT_NEEDED closure of the program, found in ld.so's
   order: DT_RPATH of the object and of the objects that loaded it (when the object
   has no DT_RUNPATH), DT_RUNPATH of the object, then the directories of
   /etc/ld.so.conf and its includes, then /lib/x86_64-linux-gnu,
   /usr/lib/x86_64-linux-gnu, /lib64, /lib, /usr/lib (unless DF_1_NODEFLIB). $ORIGIN
   is expanded; a path with another $TOKEN ($LIB, $PLATFORM) is skipped. A name that
   is found nowhere is left out, so ld.so reports it in the guest as it would natively.
   Libraries a C library dlopens itself count as its DT_NEEDED (DLOPENED): glibc's
   libc.so.6 loads libgcc_s.so.1 to unwind a thread for pthread_cancel and
   pthread_exit, and without it aborts ("libgcc_s.so.1 must be installed for
   pthread_cancel to work");
4. /etc/ld.so.cache, which ld.so reads before searching;
5. /usr/lib/locale/C.utf8 (13 files, 400 KB), the C.UTF-8 locale: glibc loads it
   for LANG=C.UTF-8 and CPython asks for it whenever the locale is "C";
6. when the program is CPython (its name starts with "python"): its standard library
   <prefix>/lib/pythonX.Y (the directory CPython's own landmark search finds from the
   executable, X.Y from the executable's name or its libpythonX.Y), whole but for
   site-packages, dist-packages and test, including lib-dynload, plus the libraries
   that lib-dynload's extension modules need (resolved as in 3, as dlopen would).
   A run's image (AutoImage(lazy=True)) lists the trees of 5 and 6 a directory at a
   time, when the guest first looks into one (`list_directory`, the ImageFS's
   lister): python3 -c pass looks into 3 of the stdlib's ~130 directories.

Every path goes in as it is on the host: each symlink met on the way (/bin -> usr/bin,
/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/..., libfoo.so.1 ->
libfoo.so.1.2) becomes the same symlink, with its target, and so does each symlink
inside the trees of 5 and 6 (Debian's stdlib links sitecustomize.py to /etc/python3.X);
directories on the way keep their host mode, owner and mtime. Not included: gconv
modules (iconv), the locale archive and other locales, /etc/localtime, NSS and other
/etc files, directories from LD_LIBRARY_PATH, site and dist packages.

ELF headers are read with struct rather than pyelftools: pyelftools parses every
section header to find .dynstr (2-3 ms per library), while this reads the program
headers, the dynamic segment and its string table only (0.02 ms for libc).

Layer: loader. Calls: fs/imagefs.py (Entry) and the host's files, read only.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import stat as S
import struct

from ..abi.elf import (DF_1_NODEFLIB, DT_FLAGS_1, DT_NEEDED, DT_NULL, DT_RPATH, DT_RUNPATH,
                       DT_SONAME, DT_STRSZ, DT_STRTAB, DYN, EHDR, EM_X86_64, PHDR, PT_DYNAMIC,
                       PT_INTERP, PT_LOAD)
from ..abi.limits import MAXSYMLINKS
from ..fs.imagefs import Entry, ImageError

LD_SO_CONF = "/etc/ld.so.conf"
LD_SO_CACHE = "/etc/ld.so.cache"
DEFAULT_LIBRARY_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
                        "/lib", "/usr/lib")
C_UTF8_LOCALE = "/usr/lib/locale/C.utf8"
PYTHON_EXCLUDED = frozenset({"site-packages", "dist-packages", "test"})
MAX_SCRIPT_DEPTH = 5           # exec_binprm's depth: five #! rewrites
MAX_TABLE = 16 << 20           # bound on a dynamic segment or string table read
# What a library dlopens by name on its own, by its soname: glibc's unwinder for
# thread cancellation and exit (nptl's __libgcc_s_init, LIBGCC_S_SO).
DLOPENED = {"libc.so.6": ("libgcc_s.so.1",)}


class ElfInfo:
    """What the dynamic linker reads from one ELF file. (Plain classes here, not
    dataclasses: those compile their methods at import, ~0.5 ms apiece per run.)"""
    __slots__ = ("interp", "needed", "rpath", "runpath", "soname", "nodeflib")

    def __init__(self):
        self.interp: str | None = None
        self.needed: list[str] = []
        self.rpath: list[str] = []
        self.runpath: list[str] | None = None       # None: no DT_RUNPATH at all
        self.soname: str | None = None
        self.nodeflib = False


def read_elf_info(read) -> ElfInfo | None:
    """The dynamic-linking facts of an x86-64 ELF, read through read(offset, size);
    None when it is not one (or is malformed)."""
    head = read(0, EHDR.size)
    if len(head) < EHDR.size or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
        return None
    (_, _, machine, _, _, phoff, _, _, _, phentsize, phnum, _, _, _) = EHDR.unpack(head)
    if machine != EM_X86_64 or phentsize != PHDR.size or not 0 < phnum <= 1024:
        return None
    table = read(phoff, phnum * PHDR.size)
    if len(table) != phnum * PHDR.size:
        return None
    info = ElfInfo()
    loads, dynamic = [], None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = PHDR.unpack_from(table, i * PHDR.size)
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_filesz, p_offset))
        elif p_type == PT_INTERP and 0 < p_filesz <= 4096:
            info.interp = os.fsdecode(read(p_offset, p_filesz).split(b"\0", 1)[0])
        elif p_type == PT_DYNAMIC and p_filesz <= MAX_TABLE:
            dynamic = read(p_offset, p_filesz)
    if dynamic is None:
        return info
    tags = []
    for off in range(0, len(dynamic) - DYN.size + 1, DYN.size):
        tag, val = DYN.unpack_from(dynamic, off)
        if tag == DT_NULL:
            break
        tags.append((tag, val))
    values = dict(tags)
    strtab_addr, strsz = values.get(DT_STRTAB), values.get(DT_STRSZ, 0)
    if DT_FLAGS_1 in values:
        info.nodeflib = bool(values[DT_FLAGS_1] & DF_1_NODEFLIB)
    strtab_off = next((off + strtab_addr - vaddr for vaddr, size, off in loads
                       if strtab_addr is not None and vaddr <= strtab_addr < vaddr + size), None)
    if strtab_off is None or not 0 < strsz <= MAX_TABLE:
        return info
    strtab = read(strtab_off, strsz)

    def string(index):
        end = strtab.find(b"\0", index)
        return os.fsdecode(strtab[index:end if end >= 0 else len(strtab)])
    for tag, val in tags:
        if val >= len(strtab):
            continue
        if tag == DT_NEEDED:
            info.needed.append(string(val))
        elif tag == DT_RPATH:
            info.rpath.extend(p for p in string(val).split(":") if p)
        elif tag == DT_RUNPATH:
            info.runpath = (info.runpath or []) + [p for p in string(val).split(":") if p]
        elif tag == DT_SONAME:
            info.soname = string(val)
    return info


def elf_info(path: str) -> ElfInfo | None:
    """read_elf_info of the host file at path (None if unreadable or not x86-64 ELF)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return read_elf_info(lambda offset, size: os.pread(fd, size, offset))
    except (OSError, struct.error, OverflowError):
        return None
    finally:
        os.close(fd)


def _parse_ld_so_conf(path: str, seen: set, out: list) -> None:
    """ldconfig's parse_conf: directories one per line, `include GLOB...`, `hwcap`
    lines ignored, # comments."""
    if path in seen:
        return
    seen.add(path)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:
        return
    for line in lines:
        line = line.split("#", 1)[0].strip()
        words = line.split()
        if not words:
            continue
        if words[0] == "include":
            for pattern in words[1:]:
                if not pattern.startswith("/"):
                    pattern = os.path.join(os.path.dirname(path), pattern)
                for inc in sorted(glob.glob(pattern)):
                    _parse_ld_so_conf(inc, seen, out)
        elif words[0] == "hwcap":
            continue
        else:
            for d in re.split(r"[\s:,]+", line):
                d = d.split("=", 1)[0].rstrip("/")
                if d.startswith("/") and d not in out:
                    out.append(d)


@functools.lru_cache(maxsize=None)
def library_dirs() -> tuple[str, ...]:
    """The directories after RPATH/RUNPATH: ld.so.conf's, then the defaults."""
    dirs: list[str] = []
    _parse_ld_so_conf(LD_SO_CONF, set(), dirs)
    return tuple(dirs) + tuple(d for d in DEFAULT_LIBRARY_DIRS if d not in dirs)


def _expand_origin(dirs: list[str], origin: str) -> list[str]:
    out = []
    for d in dirs:
        d = d.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
        if "$" not in d:
            out.append(d if d.startswith("/") else os.path.join(origin, d))
    return out


class _Object:
    __slots__ = ("path", "info", "origin", "loader")

    def __init__(self, path: str, info: ElfInfo, origin: str, loader: _Object | None):
        self.path = path          # as found (ld.so's l_name)
        self.info = info
        self.origin = origin
        self.loader = loader


def _search_dirs(obj: _Object) -> list[str]:
    """Where ld.so looks for obj's DT_NEEDED names (elf/dl-load.c _dl_map_object)."""
    dirs = []
    if obj.info.runpath is None:
        o = obj
        while o is not None:
            if o.info.runpath is None:
                dirs += _expand_origin(o.info.rpath, o.origin)
            o = o.loader
    else:
        dirs += _expand_origin(obj.info.runpath, obj.origin)
    if not obj.info.nodeflib:
        dirs += library_dirs()
    return dirs


# ---- building the entry list -----

class _Builder:
    def __init__(self, lazy: bool = False):
        self.entries: dict[str, Entry] = {}
        self.lstats: dict[str, os.stat_result | None] = {}
        self.loaded: dict[str, str] = {}      # DT_NEEDED names and sonames -> path
        self.missing: list[str] = []
        self.dynamic = False                  # some program has an interpreter or libraries
        # lazy: include_tree's directories are listed when the guest first looks in
        # them (list_directory), not walked now: the trees whose directories are
        # such, each with the names left out at its top.
        self.lazy = lazy
        self.lazy_trees: dict[str, frozenset] = {}

    def lstat(self, path: str) -> os.stat_result | None:
        if path not in self.lstats:
            try:
                self.lstats[path] = os.lstat(path)
            except OSError:
                self.lstats[path] = None
        return self.lstats[path]

    def _entry(self, path: str, st: os.stat_result, kind: str, source=None) -> None:
        if path in self.entries:
            return
        if kind == "dir" and self.lazy_trees:
            source = self._listing(path)
        size = st.st_size if kind == "file" else 0
        self.entries[path] = Entry(os.fsencode(path), kind, source, S.S_IMODE(st.st_mode),
                                   st.st_uid, st.st_gid, st.st_mtime_ns, size, 0)

    def include(self, path: str) -> str | None:
        """Put path in the image as the host has it: the symlinks on the way and what
        they point to, directories with their metadata, and the final file or
        directory (not its contents). Returns its real path, or None when it does
        not exist."""
        at = "/"
        queue = [c for c in reversed(path.split("/")) if c]
        links = 0
        while queue:
            name = queue.pop()
            if name == ".":
                continue
            if name == "..":
                at = os.path.dirname(at)
                continue
            here = os.path.join(at, name)
            st = self.lstat(here)
            if st is None:
                return None
            if S.S_ISLNK(st.st_mode):
                links += 1
                try:
                    target = os.readlink(here)
                except OSError:
                    return None
                if links > MAXSYMLINKS or not target:
                    return None
                self._entry(here, st, "symlink", os.fsencode(target))
                if target.startswith("/"):
                    at = "/"
                queue.extend(c for c in reversed(target.split("/")) if c)
                continue
            if S.S_ISDIR(st.st_mode):
                self._entry(here, st, "dir")
            elif S.S_ISREG(st.st_mode) and not queue:
                self._entry(here, st, "file", here)
            else:
                return None                   # a device, or a file used as a directory
            at = here
        return at

    def include_tree(self, top: str, exclude: frozenset = frozenset()) -> None:
        """top and everything below it (names in exclude skipped at the top only);
        lazy, the directories of the tree go in to be listed on first use."""
        real = self.include(top)
        if real is None or real not in self.entries or self.entries[real].kind != "dir":
            return
        if self.lazy:
            self.lazy_trees[real] = exclude
            self.entries[real] = self.entries[real]._replace(source=self._listing(real))
            return
        stack = [(real, exclude)]
        while stack:
            d, skip = stack.pop()
            stack.extend((sub, frozenset()) for sub in self.list_directory(d, skip))

    def _listing(self, path: str) -> tuple[str, frozenset] | None:
        """The token of a directory inside a lazy tree: (its path, the names left out
        in it); None outside them."""
        for top, exclude in self.lazy_trees.items():
            if path == top:
                return path, exclude
            if path.startswith(top + "/"):
                if path[len(top) + 1:].split("/", 1)[0] in exclude:
                    return None
                return path, frozenset()
        return None

    def list_directory(self, d: str, skip: frozenset = frozenset()) -> list[str]:
        """The entries of the host directory d (its names in skip left out); returns
        its subdirectories."""
        try:
            it = list(os.scandir(d))
        except OSError:
            return []
        subdirs = []
        for de in it:
            if de.name not in skip:
                try:
                    st = de.stat(follow_symlinks=False)
                except OSError:
                    continue
                if self._name(de.path, st):
                    subdirs.append(de.path)
        return subdirs

    def include_name(self, d: str, name: str, skip: frozenset = frozenset()) -> None:
        """One entry of the host directory d, as list_directory would put it in."""
        if name not in skip and name not in (".", "..") and "/" not in name:
            path = os.path.join(d, name)
            st = self.lstat(path)
            if st is not None:
                self._name(path, st)

    def _name(self, path: str, st: os.stat_result) -> bool:
        """A directory's entry at path: a directory (True), a file, a symlink with
        what it points to; anything else is left out."""
        if S.S_ISDIR(st.st_mode):
            self._entry(path, st, "dir")
            return True
        if S.S_ISREG(st.st_mode):
            self._entry(path, st, "file", path)
        elif S.S_ISLNK(st.st_mode):
            self.lstats[path] = st
            self.include(path)
        return False

    def load(self, root: _Object) -> None:
        """root and the closure of its DT_NEEDED, breadth first as ld.so loads."""
        queue = [root]
        while queue:
            obj = queue.pop(0)
            dirs = None
            opened = DLOPENED.get(obj.info.soname, ())
            for name in obj.info.needed + list(opened):
                if name in self.loaded:
                    continue
                if "/" in name:
                    candidates = [name if name.startswith("/") else os.path.abspath(name)]
                else:
                    if dirs is None:
                        dirs = _search_dirs(obj)
                    candidates = [os.path.join(d, name) for d in dirs]
                for path in candidates:
                    info = elf_info(path)
                    if info is None:
                        continue                  # absent, or not x86-64: ld.so goes on
                    self.include(path)
                    self.loaded[name] = path
                    if info.soname:
                        self.loaded.setdefault(info.soname, path)
                    queue.append(_Object(path, info, os.path.dirname(path), obj))
                    break
                else:
                    if name not in opened:        # dlopen's failure is the library's to report
                        self.missing.append(name)
                    self.loaded[name] = ""


def python_stdlib(program: str, info: ElfInfo | None = None) -> str | None:
    """<prefix>/lib/pythonX.Y of a CPython executable, found as CPython's getpath
    does (the first ancestor of the executable's directory holding
    lib/pythonX.Y/os.py); None when program is not python or has no stdlib."""
    real = os.path.realpath(program)
    names = (os.path.basename(program), os.path.basename(real))
    if not any(n.startswith("python") for n in names):
        return None
    version = None
    for n in names[::-1]:
        m = re.match(r"python(\d+\.\d+t?)", n)
        if m:
            version = m.group(1)
            break
    if version is None and info is not None:
        for lib in info.needed:
            m = re.match(r"libpython(\d+\.\d+t?)", lib)
            if m:
                version = m.group(1)
    d = os.path.dirname(real)
    while True:
        lib = os.path.join(d, "lib")
        versions = [version] if version else sorted(
            n[len("python"):] for n in _listdir(lib) if re.match(r"python\d+\.\d+t?\Z", n))
        found = [v for v in versions if os.path.isfile(os.path.join(lib, "python" + v, "os.py"))]
        if len(found) == 1:
            return os.path.join(lib, "python" + found[0])
        if d == "/":
            return None
        d = os.path.dirname(d)


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _shebang_interpreter(path: str) -> str | None:
    """The interpreter a `#!` script names (fs/binfmt_script.c: the first word of the
    first line, within the first 256 bytes), or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].split()
    return os.fsdecode(words[0]) if words else None


def _add_program(b: _Builder, program: str, depth: int) -> None:
    """program (an absolute host path) and what it needs (items 1-3 and 6)."""
    if b.include(program) is None:
        return
    info = elf_info(program)
    if info is None:
        interp = _shebang_interpreter(program)
        if interp is not None and interp.startswith("/") and depth < MAX_SCRIPT_DEPTH:
            _add_program(b, interp, depth + 1)
        return
    main = _Object(program, info, os.path.dirname(os.path.realpath(program)), None)
    if info.interp:
        b.include(info.interp)
        interp_info = elf_info(info.interp)
        b.loaded[os.path.basename(info.interp)] = info.interp
        if interp_info is not None and interp_info.soname:
            b.loaded[interp_info.soname] = info.interp
    if info.interp or info.needed:
        b.dynamic = True
        b.load(main)
    stdlib = python_stdlib(program, info)
    if stdlib is not None:
        b.include_tree(stdlib, PYTHON_EXCLUDED)
        dynload = os.path.join(os.path.realpath(stdlib), "lib-dynload")
        for name in sorted(_listdir(dynload)):
            if name.endswith(".so"):
                path = os.path.join(dynload, name)
                ext = elf_info(path)
                if ext is not None:
                    b.load(_Object(path, ext, dynload, main))


# Where the automatic image may learn programs from (besides the first program's own
# directory): the host's system directories.
LEARN_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/opt")


class AutoImage:
    """The automatic image of a program, and what it learns while the guest runs.

    `entries()` is auto_image_entries(program). `learn(path)` is asked by execve (and
    by stat and access, a PATH search's probes) about an absolute guest path the
    image lacks: when the host has an executable
    regular file at that path, within the first program's directory or one of
    LEARN_DIRS (both after resolving symlinks), the file goes in with what it needs,
    exactly as the first program did (items 1-6 of the module docstring, the
    ld.so.cache and C.UTF-8 locale with the first dynamic program), into the ImageFS
    `attach` was given; True when something was added. Nothing else is ever
    learned: no directory, no listing, no file the guest only opens."""

    def __init__(self, program_host_path: str, lazy: bool = False):
        self.program = os.path.abspath(program_host_path)
        self._builder = _Builder(lazy)
        self._fs = None
        self._refused: set[str] = set()
        here = os.path.dirname(self.program)
        roots = {here, os.path.dirname(os.path.realpath(self.program))}
        roots.update(os.path.realpath(d) for d in LEARN_DIRS)
        self._roots = tuple(sorted(roots))

    def entries(self, missing: list | None = None) -> list[Entry]:
        b = self._builder
        if b.include(self.program) is None:
            raise ImageError("%s: no such file" % self.program)
        _add_program(b, self.program, 0)
        self._finish(b)
        if missing is not None:
            missing.extend(b.missing)
        return list(b.entries.values())

    def attach(self, fs) -> None:
        """The ImageFS built from entries(), which learn() adds to."""
        self._fs = fs

    def list_directory(self, token: tuple[str, frozenset], name: bytes | None) -> list[Entry]:
        """The ImageFS's lister (lazy): the entries of a directory still to list, or
        (name) of one name in it, each with what it needs (a symlink's target)."""
        b = self._builder
        known = len(b.entries)
        d, skip = token
        if name is None:
            b.list_directory(d, skip)
        else:
            b.include_name(d, os.fsdecode(name), skip)
        return list(b.entries.values())[known:]

    def _finish(self, b: _Builder) -> None:
        if b.dynamic:
            b.include(LD_SO_CACHE)
            b.include_tree(C_UTF8_LOCALE)

    def allowed(self, path: str) -> bool:
        """Whether execve may learn the host file at path (see the class docstring)."""
        try:
            # Most names asked about do not exist (a PATH search's probes, CPython's
            # of its landmarks): one stat answers those before realpath's walk.
            if not S.S_ISREG(os.stat(path).st_mode):
                return False
        except OSError:
            return False
        real = os.path.realpath(path)
        if not any(real == r or real.startswith(r.rstrip("/") + "/") for r in self._roots):
            return False
        try:
            st = os.stat(real)
        except OSError:
            return False
        return S.S_ISREG(st.st_mode) and os.access(real, os.X_OK)

    def learn(self, path: str) -> bool:
        if self._fs is None or not path.startswith("/") or path in self._refused:
            return False
        path = os.path.normpath(path)
        if not self.allowed(path):
            self._refused.add(path)
            return False
        b = self._builder
        known = len(b.entries)
        _add_program(b, path, 0)
        self._finish(b)
        new = list(b.entries.values())[known:]
        return bool(new) and self._fs.add(new) > 0


def auto_image_entries(program_host_path: str, missing: list | None = None) -> list[Entry]:
    """The entries (for ImageFS.from_entries) of the automatic image of the program at
    program_host_path; see the module docstring for what goes in. Library names found
    nowhere are appended to missing when it is given. ImageError if the program does
    not exist; anything else (not ELF, no interpreter) just gives fewer entries, and
    the kernel answers exec as Linux would."""
    if not os.path.lexists(program_host_path):
        raise ImageError("%s: no such file" % program_host_path)
    return AutoImage(program_host_path).entries(missing)
