"""Files: the VFS, the file system calls, host volumes, images and dynamic programs,
each compared with the same thing done natively.

The file-system guest programs (guest_images/src/{fileio,dirs,meta,mmapfile,devproc}.c)
print one line per check; they run natively in a tmpfs scratch directory (the closest
host filesystem to pyunik's ramfs) and under pyunik both in the guest's own /tmp
(ramfs under the root overlay) and in a host directory given with -v (hostfs).
Lines whose native answer depends on the host kernel's version or filesystem, and
pyunik's known differences on a host volume, are KnownLines: pyunik's answer on them is
checked exactly, with the reason; every other line must match byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import struct
import tarfile
from pathlib import Path

import pytest
from conftest import (BIN, GUEST_ENV, REPO, TIMEOUT, KnownLine, Outcome, assert_no_traceback,
                      assert_same, expected_with_known, run_cli, run_native, run_pyunik)

FS_PROGRAMS = ["fileio", "dirs", "meta", "mmapfile", "devproc", "resolve", "partial",
               "statcache"]
LIBCS = ["musl", "glibc"]


def _kernel_line(prefix: str, answer: str, old: str, since: str, note: str = "") -> KnownLine:
    """A line whose native answer is older Linux's on an older host kernel: pyunik gives
    current Linux's answer; the entry applies only where native prints the old one."""
    return KnownLine(prefix, "%s %s" % (prefix, answer),
                     "Linux before %s answers %s%s; pyunik answers as current Linux"
                     % (since, old, note), native="%s %s" % (prefix, old))


def _fchmodat2(what: str, answer: str) -> KnownLine:
    return _kernel_line("fchmodat2 %s:" % what, answer, "-ENOSYS", "6.6",
                        " (no fchmodat2)")


def _xattr(call: str) -> KnownLine:
    prefix = "%s user.pyunik (fs-dependent):" % call
    return KnownLine(prefix, prefix + " -ENODATA", "where the host filesystem has no user "
                     "xattrs, Linux says EOPNOTSUPP; pyunik stores none and says ENODATA",
                     native=prefix + " -EOPNOTSUPP", partial_row=call)


# Lines whose native answer depends on the host's kernel version or filesystem: pyunik's
# answer is the one of current Linux on tmpfs/ext4, checked exactly wherever it runs.
KNOWN = {
    "fileio": [_kernel_line("O_DIRECTORY|O_CREAT new:", "-EINVAL", "-ENOTDIR", "6.4",
                            " (after creating a regular file)")],
    "meta": [_fchmodat2("symlink AT_SYMLINK_NOFOLLOW", "-EOPNOTSUPP"),
             _fchmodat2("file AT_SYMLINK_NOFOLLOW 0620", "0"),
             _fchmodat2("AT_EMPTY_PATH fd 0644", "0"),
             _fchmodat2("bad flags", "-EINVAL"),
             _xattr("getxattr"), _xattr("fgetxattr")],
}
_TMPFILE_LINK = ("an O_TMPFILE file on a host volume has no host name to link again")
_PUNCH = "hostfs does not punch holes in host files"
# Known differences on a hostfs volume (-v), each with pyunik's answer and the reason.
HOSTFS_KNOWN = {
    "fileio": [
        KnownLine("linkat /proc/self/fd/N AT_SYMLINK_FOLLOW:",
                  "linkat /proc/self/fd/N AT_SYMLINK_FOLLOW: -ENOENT", _TMPFILE_LINK),
        KnownLine("tmplinked contents:", "tmplinked contents: -ENOENT",
                  "follows from the O_TMPFILE linkat above"),
        KnownLine("O_TMPFILE nlink after linkat:", "O_TMPFILE nlink after linkat: 0",
                  "follows from the O_TMPFILE linkat above"),
        KnownLine("fallocate PUNCH_HOLE|KEEP_SIZE", "fallocate PUNCH_HOLE|KEEP_SIZE 4096+4096: "
                  "-EOPNOTSUPP", _PUNCH, partial_row="fallocate"),
        KnownLine("after punch:", "after punch: first half x=1 second half zero=0",
                  "follows from the punch above"),
    ],
    "dirs": [KnownLine("getcwd in removed dir:", "getcwd in removed dir: <top>/g/gone",
                       "hostfs does not notice that the host directory is gone")],
    "mmapfile": [KnownLine("read() sees store into grown page:",
                           "read() sees store into grown page: 0",
                           "a hostfs mapping made past the end of the file keeps zero pages "
                           "there when the file grows later (the host file is never grown to "
                           "cover a mapping; Linux would show the new file pages)")],
    "devproc": [KnownLine('fd link after unlink ends with " (deleted)":',
                          'fd link after unlink ends with " (deleted)": 0',
                          "hostfs does not see the host unlink of an open file")],
}


def _assert_fs_output(native, emulated, known) -> None:
    """pyunik's stdout is native's, with each known line replaced by pyunik's answer."""
    assert_no_traceback(emulated)
    assert native.status == emulated.status == 0, emulated.stderr.decode()
    want, applied = expected_with_known(native.stdout, known)
    assert emulated.stdout.decode(errors="replace").splitlines() == \
        want.decode(errors="replace").splitlines(), "known lines applied:\n" + "\n".join(applied)


@pytest.fixture(scope="module")
def native_scratch_root():
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
        else None
    d = Path(__import__("tempfile").mkdtemp(prefix="pyunik-native-", dir=base))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _native_fs_run(prog, scratch_root, extra=()):
    scratch = scratch_root / (prog + "-" + os.urandom(4).hex())
    scratch.mkdir()
    return run_native([BIN / prog, scratch, *extra])


@pytest.mark.parametrize("libc", LIBCS)
@pytest.mark.parametrize("prog", FS_PROGRAMS)
def test_fs_program_in_guest_tmp(prog, libc, native_scratch_root):
    """The program's scratch dir is the guest's own /tmp (ramfs in the root overlay)."""
    name = "%s-%s" % (prog, libc)
    native = _native_fs_run(name, native_scratch_root)
    emulated = run_pyunik([BIN / name, "/tmp"], extra_opts=["-q"])
    _assert_fs_output(native, emulated, KNOWN.get(prog, []))


@pytest.mark.parametrize("prog", FS_PROGRAMS)
def test_fs_program_on_host_volume(prog, native_scratch_root, tmp_path):
    """The scratch dir is a host directory mounted read-write with -v."""
    name = prog + "-musl"
    native = _native_fs_run(name, native_scratch_root)
    emulated = run_pyunik([BIN / name, "/scratch"],
                          extra_opts=["-q", "-v", "%s:/scratch:rw" % tmp_path])
    _assert_fs_output(native, emulated, KNOWN.get(prog, []) + HOSTFS_KNOWN.get(prog, []))


def test_devproc_argv_matches(native_scratch_root):
    native = _native_fs_run("devproc-musl", native_scratch_root, ["a b", "", "c"])
    emulated = run_pyunik([BIN / "devproc-musl", "/tmp", "a b", "", "c"], extra_opts=["-q"])
    assert_same(Outcome(native.status, native.stdout, b""),
                Outcome(emulated.status, emulated.stdout, b""))


# ---- busybox applets on a host volume --------------------------------------------------

def _busybox():
    path = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        head = f.read(4096)
    # Debian's busybox-static is a static-pie or static executable: no PT_INTERP.
    if b"ld-linux" in head or b"ld-musl" in head:
        return None
    return path


BUSYBOX = _busybox()
needs_busybox = pytest.mark.skipif(BUSYBOX is None, reason="busybox-static not installed")

FIXED_TIME = 1700000000          # mtimes of the input tree, so listings compare


def _make_tree(root: Path) -> None:
    (root / "dir" / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("banana\napple\ncherry\napple\n")
    (root / "b.txt").write_text("one two three\nfour five six\nseven eight nine\n")
    (root / "dir" / "c.txt").write_text("x,y,z\n1,2,3\n4,5,6\n")
    (root / "dir" / "sub" / "d.txt").write_text("needle in a haystack\n")
    (root / "data.bin").write_bytes(bytes(range(256)) * 64)
    os.symlink("a.txt", root / "link")
    for p in sorted(root.rglob("*"), reverse=True):
        os.utime(p, (FIXED_TIME, FIXED_TIME), follow_symlinks=False)
    os.utime(root, (FIXED_TIME, FIXED_TIME))


def _tree(root: Path) -> dict:
    """The files left behind: type, mode bits, size and a hash of contents."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        st = p.lstat()
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p))
        elif p.is_dir():
            out[rel] = ("dir", oct(st.st_mode & 0o7777))
        else:
            out[rel] = ("file", oct(st.st_mode & 0o7777),
                        hashlib.sha256(p.read_bytes()).hexdigest())
    return out


BUSYBOX_CASES = [
    ["ls", "-l", "--full-time", "."],
    ["ls", "-la", "--full-time", "dir/sub"],
    ["ls", "-lR", "dir"],
    ["cat", "a.txt", "b.txt"],
    ["wc", "a.txt", "b.txt"],
    ["sort", "a.txt"],
    ["uniq", "-c", "a.txt"],
    ["head", "-n", "2", "b.txt"],
    ["tail", "-n", "1", "b.txt"],
    ["cut", "-d,", "-f2", "dir/c.txt"],
    ["tr", "a-z", "A-Z"],
    ["sed", "s/apple/APPLE/g", "a.txt"],
    ["awk", "-F,", "{s += $2} END {print s}", "dir/c.txt"],
    ["grep", "-r", "needle", "."],
    ["find", ".", "-name", "*.txt"],
    ["sha256sum", "a.txt", "data.bin"],
    ["md5sum", "b.txt"],
    ["tar", "cf", "out.tar", "dir", "a.txt"],
    ["tar", "tvf", "fixture.tar"],
    ["tar", "xf", "fixture.tar"],
    ["gzip", "-k", "b.txt"],
    ["gunzip", "-c", "fixture.gz"],
    ["cp", "-a", "dir", "dir2"],
    ["mv", "b.txt", "moved.txt"],
    ["rm", "-r", "dir"],
    ["mkdir", "-p", "x/y/z"],
    ["ln", "-s", "a.txt", "newlink"],
    ["readlink", "-f", "link"],
    ["stat", "-c", "%n %s %a %F", "a.txt", "dir", "link"],
    ["du", "-s", "-k", "dir/c.txt"],
    ["touch", "-d", "2001-02-03 04:05:06", "a.txt"],
    ["dd", "if=data.bin", "of=copy.bin", "bs=1024", "count=8"],
]


def _as_guest(outcome: Outcome, host_dir: Path) -> Outcome:
    """A native run in host_dir as the guest sees its volume: host_dir is /work."""
    def fix(b: bytes) -> bytes:
        return b.replace(str(host_dir).encode(), b"/work")
    return Outcome(outcome.status, fix(outcome.stdout), fix(outcome.stderr))


def _busybox_fixture_files(root: Path) -> None:
    with tarfile.open(root / "fixture.tar", "w") as t:
        info = tarfile.TarInfo("fromtar/hello.txt")
        data = b"hello from a tar\n"
        info.size, info.mtime, info.mode = len(data), FIXED_TIME, 0o644
        import io
        t.addfile(info, io.BytesIO(data))
    import gzip
    with open(root / "fixture.gz", "wb") as f:
        f.write(gzip.compress(b"gzipped text\n", mtime=FIXED_TIME))
    os.utime(root / "fixture.tar", (FIXED_TIME, FIXED_TIME))
    os.utime(root / "fixture.gz", (FIXED_TIME, FIXED_TIME))


@needs_busybox
@pytest.mark.parametrize("args", BUSYBOX_CASES, ids=lambda a: " ".join(a)[:40])
def test_busybox_applet(args, tmp_path):
    native_dir, guest_dir = tmp_path / "native", tmp_path / "guest"
    for d in (native_dir, guest_dir):
        d.mkdir()
        _make_tree(d)
        _busybox_fixture_files(d)
    stdin = b"mixed Case Input\n"
    env = dict(GUEST_ENV, TZ="UTC")
    native = _as_guest(run_native([BUSYBOX] + args, env=env, cwd=native_dir, stdin=stdin),
                       native_dir)
    emulated = run_pyunik([BUSYBOX] + args, env=env, stdin=stdin,
                          extra_opts=["-q", "-v", "%s:/work:rw" % guest_dir, "-w", "/work"])
    assert_no_traceback(emulated)
    # The directory's own name differs ("native" vs "guest") only in `ls -R` headers;
    # everything else, and the files left behind, must be the same.
    assert_same(native, emulated, "busybox " + " ".join(args))
    native_tree, guest_tree = _tree(native_dir), _tree(guest_dir)
    if args[0] in ("gzip", "tar") and "out.tar" in native_tree:
        # tar and gzip embed mtimes of what they just wrote: compare listings instead.
        native_tree.pop("out.tar"), guest_tree.pop("out.tar")
    assert native_tree == guest_tree


# ---- Debian's dynamic programs --------------------------------------------------------

def _dynamic(path):
    return path if path and os.path.exists(path) else None


COREUTILS = [
    (["/bin/ls", "-l", "--time-style=+%s", "."], None),
    (["/bin/ls", "-la", "--time-style=+%s", "dir/sub"], None),
    (["/bin/cat", "a.txt", "b.txt"], None),
    (["/usr/bin/sha256sum", "a.txt", "data.bin"], None),
    (["/usr/bin/sort", "a.txt"], None),
    (["/usr/bin/sort"], b"pear\napple\nfig\n"),
]


@pytest.mark.parametrize("argv,stdin", COREUTILS, ids=lambda a: " ".join(a)
                         if isinstance(a, list) else "")
def test_dynamic_coreutils(argv, stdin, tmp_path):
    if not os.path.exists(argv[0]):
        pytest.skip(argv[0] + " not installed")
    native_dir, guest_dir = tmp_path / "native", tmp_path / "guest"
    for d in (native_dir, guest_dir):
        d.mkdir()
        _make_tree(d)
    env = dict(GUEST_ENV, LC_ALL="C")
    native = run_native(argv, env=env, cwd=native_dir, stdin=stdin or b"")
    emulated = run_pyunik(argv, env=env, stdin=stdin or b"",
                          extra_opts=["-q", "-v", "%s:/work:rw" % guest_dir, "-w", "/work"])
    assert_no_traceback(emulated)
    assert_same(native, emulated, " ".join(argv))


PYTHON = _dynamic("/usr/bin/python3")

PY_SCRIPT = r"""
import json, os, hashlib
os.makedirs("out/deep", exist_ok=True)
with open("out/deep/data.json", "w") as f:
    json.dump({"files": sorted(os.listdir(".")), "n": 42}, f, sort_keys=True)
with open("out/deep/data.json") as f:
    print(f.read())
with open("a.txt", "rb") as f:
    print(hashlib.sha256(f.read()).hexdigest())
os.rename("out/deep/data.json", "out/moved.json")
print(sorted(os.listdir("out")), os.path.getsize("out/moved.json"))
os.symlink("moved.json", "out/ln")
print(os.readlink("out/ln"), os.path.realpath("out/ln").endswith("out/moved.json"))
"""


@pytest.mark.skipif(PYTHON is None, reason="Debian's python3 not installed")
def test_python3_reads_and_writes_files(tmp_path):
    native_dir, guest_dir = tmp_path / "native", tmp_path / "guest"
    for d in (native_dir, guest_dir):
        d.mkdir()
        _make_tree(d)
    env = dict(GUEST_ENV, PYTHONDONTWRITEBYTECODE="1", LC_ALL="C")
    argv = [PYTHON, "-S", "-c", PY_SCRIPT]
    native = run_native(argv, env=env, cwd=native_dir)
    emulated = run_pyunik(argv, env=env,
                          extra_opts=["-q", "-v", "%s:/work:rw" % guest_dir, "-w", "/work"])
    assert_no_traceback(emulated)
    assert_same(native, emulated)
    assert _tree(native_dir) == _tree(guest_dir)


@pytest.mark.skipif(PYTHON is None, reason="Debian's python3 not installed")
def test_python3_sees_only_its_image():
    """The automatic image holds the program, its libraries and its stdlib; `/`
    lists only what pyunik provides, never the host's root."""
    r = run_pyunik([PYTHON, "-c", "import os, json; print(json.dumps(sorted(os.listdir('/'))))"],
                   extra_opts=["-q"])
    assert r.status == 0, r.stderr.decode()
    listing = __import__("json").loads(r.stdout)
    assert {"dev", "proc", "tmp", "etc", "usr"} <= set(listing)
    assert "home" not in listing and "var" not in listing


# ---- the guest sees only what it was given ------------------------------------------------

def _containment_tree(top: Path) -> tuple[Path, Path, Path, Path]:
    """outside/ (secret.txt, victim.txt), vol/ with links pointing into outside/,
    ro/f.txt and other/: the layout guest_images/src/contain.c expects."""
    outside, vol, ro, other = (top / n for n in ("outside", "vol", "ro", "other"))
    for d in (outside, vol, ro, other):
        d.mkdir()
    (outside / "secret.txt").write_text("SECRET\n")
    (outside / "victim.txt").write_text("untouched\n")
    os.symlink(str(outside / "secret.txt"), vol / "abs_link")
    os.symlink("../outside/secret.txt", vol / "rel_link")
    os.symlink(str(outside), vol / "dir_link")
    os.symlink(str(outside / "victim.txt"), vol / "abs_victim")
    os.symlink("../outside/victim.txt", vol / "rel_victim")
    (vol / "f.txt").write_text("data\n")
    (ro / "f.txt").write_text("keep\n")
    return outside, vol, ro, other


# What contain prints for its escapes natively: every one reaches outside/ (so the
# program can see an escape), except the .. from the root.
ESCAPES_NATIVE = """\
read abs_link: "SECRET"
read rel_link: "SECRET"
read dir_link/secret.txt: "SECRET"
read ../outside/secret.txt: "SECRET"
read WORK/../outside/secret.txt: "SECRET"
read /proc/self/root/WORK/../outside/secret.txt: "SECRET"
read /proc/self/cwd/../outside/secret.txt: "SECRET"
symlink made_link -> ../outside/secret.txt: 0
read made_link: "SECRET"
write through abs_victim: ok
write through rel_victim: ok
create ../outside/new.txt: ok
cwd after 8 x chdir(".."): /
chdir back to WORK: 0
"""
# Under pyunik, with vol/ mounted at /vol: symlinks resolve in the guest's namespace,
# .. stops at the mount's parent (the guest's /), nothing outside vol/ is reachable.
CONTAINED = """\
read abs_link: -ENOENT
read rel_link: -ENOENT
read dir_link/secret.txt: -ENOENT
read ../outside/secret.txt: -ENOENT
read WORK/../outside/secret.txt: -ENOENT
read /proc/self/root/WORK/../outside/secret.txt: -ENOENT
read /proc/self/cwd/../outside/secret.txt: -ENOENT
symlink made_link -> ../outside/secret.txt: 0
read made_link: -ENOENT
write through abs_victim: -ENOENT
write through rel_victim: -ENOENT
create ../outside/new.txt: -ENOENT
cwd after 8 x chdir(".."): /
chdir back to WORK: 0
read RO/f.txt: "keep"
open RO/f.txt O_RDONLY: ok
open RO/f.txt O_WRONLY: -EROFS
open RO/f.txt O_RDWR|O_TRUNC: -EROFS
create RO/new: -EROFS
mkdir RO/d: -EROFS
unlink RO/f.txt: -EROFS
rename RO/f.txt RO/g.txt: -EROFS
link RO/f.txt RO/h.txt: -EROFS
symlink RO/s: -EROFS
chmod RO/f.txt 0600: -EROFS
truncate RO/f.txt: -EROFS
utimensat RO/f.txt now: -EROFS
rename WORK/f.txt RO/f2.txt: -EXDEV
read RO/f.txt after: "keep"
rename WORK/f.txt OTHER/moved.txt: -EXDEV
link WORK/f.txt OTHER/moved.txt: -EXDEV
renameat2 EXCHANGE WORK/f.txt OTHER/moved.txt: -EXDEV
"""


@pytest.mark.parametrize("libc", LIBCS)
def test_contain_escapes_natively(libc, tmp_path):
    """The escapes are real: natively, each link and .. reaches outside/."""
    outside, vol, _, _ = _containment_tree(tmp_path)
    r = run_native([BIN / ("contain-" + libc), vol])
    assert (r.status, r.stdout.decode()) == (0, ESCAPES_NATIVE)
    assert (outside / "victim.txt").read_text() == "pwned\n"


@pytest.mark.parametrize("libc", LIBCS)
def test_contain_stays_inside_its_mounts(libc, tmp_path):
    """No path leaves a -v mount, no write goes through a read-only one, and rename or
    link across mounts is EXDEV; the host tree is as it was, apart from the guest's
    own symlink in vol/."""
    outside, vol, ro, other = _containment_tree(tmp_path)
    before = _tree(tmp_path)
    # (not /work: that would hide the program itself when the checkout is under /work)
    r = run_pyunik([BIN / ("contain-" + libc), "/vol", "/ro", "/other"],
                   extra_opts=["-q", "-v", "%s:/vol:rw" % vol, "-v", "%s:/ro" % ro,
                               "-v", "%s:/other:rw" % other])
    assert_no_traceback(r)
    assert (r.status, r.stdout.decode()) == (0, CONTAINED)
    after = _tree(tmp_path)
    assert after.pop("vol/made_link") == ("link", "../outside/secret.txt")
    assert after == before


# ---- --root and images ------------------------------------------------------------------------

@needs_busybox
def test_root_directory_with_overlay(tmp_path):
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    (root / "etc" / "os-release").write_text("NAME=pyunik-test\n")
    before = _tree(root)
    # Shell builtins only (no fork): the write lands in the overlay and reads back.
    r = run_pyunik(["/bin/busybox", "sh", "-c",
                    "echo changed > /etc/os-release; read x < /etc/os-release; echo $x"],
                   extra_opts=["-q", "--root", str(root)])
    assert_no_traceback(r)
    assert (r.status, r.stdout) == (0, b"changed\n"), r.stderr.decode()
    r = run_pyunik(["/usr/bin/sha256sum", "/etc/os-release"], extra_opts=["-q", "--root",
                                                                          str(root)])
    assert r.status == 127 and b"not found" in r.stderr or r.status != 0
    r = run_pyunik(["/bin/busybox", "sha256sum", "/etc/os-release", "/bin/busybox"],
                   extra_opts=["-q", "--root", str(root)])
    assert r.status == 0, r.stderr.decode()
    digest = hashlib.sha256(Path(BUSYBOX).read_bytes()).hexdigest()
    release = hashlib.sha256(b"NAME=pyunik-test\n").hexdigest()
    assert r.stdout.decode().splitlines() == ["%s  /etc/os-release" % release,
                                              "%s  /bin/busybox" % digest]
    assert _tree(root) == before          # the writes went to the overlay


@needs_busybox
def test_image_build_ls_and_run(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "hello.txt").write_text("hello from the image\n")
    shutil.copy(BUSYBOX, tmp_path / "busybox")
    manifest = tmp_path / "app.manifest"
    manifest.write_text("[manifest]\n/bin/busybox: ${BB}\n/data/**: files/**\n"
                        "/link -> /data/hello.txt\n")
    image = tmp_path / "app.img"
    r = run_cli(["image", "build", manifest, "-o", image, "--var", "BB=busybox"])
    assert r.status == 0, r.stderr.decode()
    listing = run_cli(["image", "ls", image])
    assert listing.status == 0
    text = listing.stdout.decode()
    assert "/bin/busybox" in text and "/data/hello.txt" in text and "-> /data/hello.txt" in text
    names = subprocess.run(["tar", "tf", str(image)], capture_output=True, text=True)
    if names.returncode == 0:                       # standard tools can read it
        assert "data/hello.txt" in names.stdout
    r = run_pyunik(["/bin/busybox", "cat", "/link"], extra_opts=["-q", "--image", str(image)])
    assert r.status == 0, r.stderr.decode()
    assert r.stdout == b"hello from the image\n"


def test_image_errors_are_one_line(tmp_path):
    manifest = tmp_path / "bad.manifest"
    manifest.write_text("/x: does-not-exist\n")
    r = run_cli(["image", "build", manifest, "-o", tmp_path / "x.img"])
    assert r.status != 0
    assert_no_traceback(r)
    assert len(r.stderr.decode().strip().splitlines()) == 1
    r = run_cli(["image", "ls", tmp_path / "missing.img"])
    assert r.status != 0
    assert_no_traceback(r)


def test_missing_volume_is_one_line(tmp_path):
    r = run_pyunik([BIN / "hello-musl"], extra_opts=["-v", "%s/nope:/x" % tmp_path])
    assert r.status != 0
    assert_no_traceback(r)
    assert len(r.stderr.decode().strip().splitlines()) == 1


@pytest.mark.parametrize("libc", LIBCS)
def test_statloop_on_a_volume(libc, tmp_path):
    """The benchmark's stat loop: the same size seen natively and through hostfs."""
    (tmp_path / "f").write_bytes(b"x" * 12345)
    native = run_native([BIN / ("statloop-" + libc), "1000", tmp_path / "f"])
    emulated = run_pyunik([BIN / ("statloop-" + libc), "1000", "/v/f"],
                          extra_opts=["-q", "-v", "%s:/v" % tmp_path])
    assert native.stdout == b"done 1000 12345\n"
    assert_same(native, emulated)
    missing = run_pyunik([BIN / ("statloop-" + libc), "10", "/v/nope"],
                         extra_opts=["-q", "-v", "%s:/v" % tmp_path])
    assert (missing.status, missing.stdout) == (1, b"stat /v/nope: -ENOENT\n")


def _mmap_member_program() -> bytes:
    """open("/data.txt"), mmap 4096 bytes of it PROT_NONE and MAP_PRIVATE, mprotect
    the page PROT_READ, exit with its first byte (or with the errno of a failed
    mmap)."""
    from conftest import TINY_BASE, tiny_elf
    from test_raw_programs import asm

    def code(path_addr: int) -> bytes:
        return asm("b8 02000000", "bf" + struct.pack("<I", path_addr).hex(), "31f6", "0f05",
                   "4989c0",                                   # mov r8, rax (fd)
                   "b8 09000000", "31ff", "be 00100000", "31d2",   # mmap(0, 4096, NONE,
                   "41ba 02000000", "4531c9", "0f05",          # MAP_PRIVATE, fd, 0)
                   "4885c0", "79 0c",                          # test rax; jns ok
                   "48f7d8", "89c7", "b83c000000", "0f05",     # exit(-rax)
                   "4889c3",                                   # ok: mov rbx, rax
                   "b8 0a000000", "4889df", "be 00100000", "ba 01000000", "0f05",
                   "0fb63b", "b83c000000", "0f05")             # exit(*(char *)rbx)
    path_addr = TINY_BASE + 64 + 56 + len(code(0))
    return tiny_elf(code(path_addr) + b"/data.txt\0")


@pytest.mark.parametrize("size", [100, 5000])
def test_mmap_prot_none_of_image_member(tmp_path, size):
    """A member of a --image tar is copied into its mapping, whatever the mapping's
    protection: PROT_NONE first, readable after mprotect, no traceback."""
    (tmp_path / "prog").write_bytes(_mmap_member_program())
    (tmp_path / "prog").chmod(0o755)
    (tmp_path / "data.txt").write_bytes(b"A" + b"x" * (size - 1))
    manifest = tmp_path / "app.manifest"
    manifest.write_text("[manifest]\n/prog: prog\n/data.txt: data.txt\n")
    image = tmp_path / "app.img"
    built = run_cli(["image", "build", manifest, "-o", image])
    assert built.status == 0, built.stderr.decode()
    r = run_pyunik(["/prog"], extra_opts=["-q", "--image", str(image)])
    assert_no_traceback(r)
    assert r.status == ord("A"), r.stderr.decode()


def _run_on_terminal(argv, env) -> bytes:
    """argv's stdout on a fresh pseudo-terminal; what it printed there."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen([str(a) for a in argv], stdout=slave, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, cwd=REPO, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:             # EIO: the other side is gone
            break
        if not data:
            break
        out += data
    os.close(master)
    p.wait(timeout=TIMEOUT)
    return out


def test_partial_with_stdout_on_a_terminal(native_scratch_root):
    """partial's stdout line under a terminal: the tty takes whole 2 KiB chunks of a
    write, so the 5 good bytes before a bad buffer are not written (EFAULT), and every
    other line is the same as natively."""
    from conftest import host_env_for_pyunik, pyunik_command
    scratch = native_scratch_root / ("partial-tty-" + os.urandom(4).hex())
    scratch.mkdir()
    native = _run_on_terminal([BIN / "partial-musl", scratch], GUEST_ENV)
    emulated = _run_on_terminal(pyunik_command([BIN / "partial-musl", "/tmp"],
                                               extra_opts=["-q"]), host_env_for_pyunik())
    assert b"stdout writev good 5 + bad 10: -EFAULT" in native
    assert emulated == native
