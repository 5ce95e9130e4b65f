"""execve's steps on their own (kernel/exec.py), on a VFS built from ramfs trees:
the permission checks go by the caller's credentials (never pyunik's own), #! lines
rewrite argv as binfmt_script does, and a loaded image is ready to run."""

from __future__ import annotations

import errno
import stat as S

import pytest

from conftest import BIN, assert_no_traceback, run_native, run_pyunik
from pyunik.abi import linux as L
from pyunik.errors import KernelError
from pyunik.fs.ramfs import RamFS
from pyunik.fs.vfs import VFS, WalkContext
from pyunik.kernel import exec as kexec
from pyunik.kernel.credentials import Credentials
from pyunik.loader.elf import ExecFormatError

ROOT = Credentials(0, 0)
USER = Credentials(1000, 1000)
HELLO = (BIN / "hello-musl").read_bytes()


def _file(d, name, data, mode=0o755, uid=0):
    f = d.create(name, S.S_IFREG | mode, uid, 0)
    f.write(0, data)
    return f


@pytest.fixture
def vfs():
    fs = RamFS(mode=0o755)
    root = fs.root
    bin_ = root.mkdir(b"bin", 0o755, 0, 0)
    _file(bin_, b"hello", HELLO)
    _file(bin_, b"rootonly", HELLO, mode=0o700)
    _file(bin_, b"nox", HELLO, mode=0o644)
    _file(bin_, b"mine", HELLO, mode=0o744, uid=1000)
    _file(bin_, b"script", b"#!/bin/hello -x\nbody\n")
    _file(bin_, b"nested", b"#! /bin/script  \n")
    _file(bin_, b"empty", b"#!  \n")
    _file(bin_, b"loop", b"#!/bin/loop\n")
    bin_.symlink(b"link", b"hello", 0, 0)
    noexec = RamFS(mode=0o755)
    _file(noexec.root, b"hello", HELLO)
    v = VFS(fs, root)
    root.mkdir(b"mnt", 0o755, 0, 0)
    v.changed()
    m = v.mount(b"/mnt", noexec, noexec.root, options="noexec")
    assert m.options == "noexec"
    return v


def _find(vfs, cred, path, argv=(b"argv0",), filename=None):
    ctx = WalkContext(vfs.root, cred.walk_creds)
    return kexec.find_binary(vfs, ctx, vfs.root, cred, path, list(argv), filename)


def _errno(fn, *args) -> int:
    with pytest.raises(KernelError) as e:
        fn(*args)
    return e.value.errno


def test_execute_permission_goes_by_the_callers_credentials(vfs):
    assert bytes(_find(vfs, ROOT, b"/bin/rootonly").data) == HELLO
    assert _errno(_find, vfs, USER, b"/bin/rootonly") == errno.EACCES
    assert bytes(_find(vfs, USER, b"/bin/mine").data) == HELLO        # owner's x bit
    # no x bit for anyone: EACCES even for root
    assert _errno(_find, vfs, ROOT, b"/bin/nox") == errno.EACCES
    assert _errno(_find, vfs, ROOT, b"/bin") == errno.EACCES   # a directory
    assert _errno(_find, vfs, ROOT, b"/mnt/hello") == errno.EACCES   # noexec mount
    assert _errno(_find, vfs, ROOT, b"/bin/none") == errno.ENOENT


def test_the_binary_is_the_file_itself(vfs):
    b = _find(vfs, USER, b"/bin/link", filename=b"link")
    assert b.path.text() == b"/bin/hello"          # /proc/self/exe: symlinks resolved
    assert b.filename == b"link"                   # AT_EXECFN: the name given
    assert b.comm == b"link"                       # and the task's name


def test_task_name_is_the_name_given(vfs):
    b = _find(vfs, USER, b"/bin/script", filename=b"./bin/script")
    assert b.path.text() == b"/bin/hello" and b.comm == b"script"
    long = _find(vfs, USER, b"/bin/hello", filename=b"/x/a-name-longer-than-fifteen")
    assert long.comm == b"a-name-longer-t"


def test_script_runs_its_interpreter_with_the_name_given(vfs):
    b = _find(vfs, USER, b"/bin/script", [b"s", b"a", b"b"], filename=b"./script")
    assert b.path.text() == b"/bin/hello"
    assert b.argv == [b"/bin/hello", b"-x", b"./script", b"a", b"b"]
    b = _find(vfs, USER, b"/bin/nested", [b"n", b"z"])
    assert b.argv == [b"/bin/hello", b"-x", b"/bin/script", b"/bin/nested", b"z"]


def test_script_errors(vfs):
    with pytest.raises(ExecFormatError):
        _find(vfs, USER, b"/bin/empty")
    assert _errno(_find, vfs, USER, b"/bin/loop") == errno.ELOOP


def test_interpreter_is_checked_with_the_callers_credentials(vfs):
    bin_ = vfs.resolve_absolute(b"/bin").inode
    _file(bin_, b"private", b"#!/bin/rootonly\n")
    vfs.changed()
    assert _find(vfs, ROOT, b"/bin/private").path.text() == b"/bin/rootonly"
    assert _errno(_find, vfs, USER, b"/bin/private") == errno.EACCES


def test_load_binary_builds_a_runnable_image(vfs):
    b = _find(vfs, USER, b"/bin/hello", [b"hello", b"x"])
    ctx = WalkContext(vfs.root, USER.walk_creds)
    image = kexec.load_binary(vfs, ctx, vfs.root, USER, b, [b"K=V"], 64 << 20, bytes(16))
    aux = dict(image.auxv)
    assert aux[L.AT_UID] == aux[L.AT_EUID] == 1000    # the caller's, not pyunik's
    assert image.mm.engine.reg("rsp") == image.sp
    assert int.from_bytes(image.mm.read(image.sp, 8), "little") == 2   # argc


def test_task_name_through_a_symlink_matches_native(tmp_path):
    """A program run by a symlink of another name is called by that name in
    /proc/self/{status,stat,comm}, as on Linux (devproc checks comm against its
    argv[0]); the file itself stays /proc/self/exe."""
    link = tmp_path / "other-name"
    link.symlink_to(BIN / "devproc-musl")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    native = run_native([link, scratch])
    emulated = run_pyunik([link, "/tmp"], extra_opts=["-q"])
    assert_no_traceback(emulated)

    def names(out):
        return [ln for ln in out.stdout.decode().splitlines()
                if "comm" in ln or "Name" in ln]
    assert len(names(native)) == 4
    assert names(native) == names(emulated)
