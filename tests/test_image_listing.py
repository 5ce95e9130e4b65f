"""The automatic image's directories listed on first use (loader/autoimage.py lazy,
fs/imagefs.py's lister) show the guest exactly the tree the eager walk builds:
the same names, kinds, modes, owners, sizes, times, link counts and symlink targets,
whichever order the guest looks in (one name first, then the whole directory, or
the whole directory first). CPython's standard library is the tree; skipped
without /usr/bin/python3.

Reads the image through its inodes (lookup, entries, stat); runs no guest."""

from __future__ import annotations

import os

import pytest

from pyunik.fs.imagefs import ImageFS
from pyunik.loader.autoimage import AutoImage, python_stdlib

PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(not os.access(PYTHON, os.X_OK) or python_stdlib(PYTHON) is None,
                                reason="no /usr/bin/python3 with its standard library")


def _image(lazy: bool) -> ImageFS:
    auto = AutoImage(PYTHON, lazy=lazy)
    fs = ImageFS.from_entries(auto.entries(), lister=auto.list_directory)
    auto.attach(fs)
    return fs


def _find(fs: ImageFS, path: str):
    node = fs.root
    for name in [c for c in path.split("/") if c]:
        node = node.lookup(os.fsencode(name))
        if node is None:
            return None
    return node


def _facts(inode) -> tuple:
    st = inode.stat()
    # (nlink, mode, uid, gid, size, mtime s and ns): everything but device and inode number
    return (st[2], st[3], st[4], st[5], st[8], st[13], st[14],
            inode.readlink() if inode.is_symlink else None)


def _walk(fs: ImageFS, top: str) -> dict:
    out = {}
    stack = [(top, _find(fs, top))]
    while stack:
        path, d = stack.pop()
        out[path] = _facts(d)
        for name, child in d.entries():
            sub = path + "/" + os.fsdecode(name)
            if child.is_dir:
                stack.append((sub, child))
            else:
                out[sub] = _facts(child)
    return out


def test_lazy_listing_is_the_eager_tree():
    stdlib = os.path.realpath(python_stdlib(PYTHON))
    eager, lazy = _image(False), _image(True)
    top = _find(lazy, stdlib)
    assert top is not None and top.listing is not None       # not listed yet
    assert _walk(lazy, stdlib) == _walk(eager, stdlib)
    for path in ("/usr", "/usr/lib", os.path.dirname(stdlib)):
        assert _facts(_find(lazy, path)) == _facts(_find(eager, path)), path
    assert lazy.root.nlink == eager.root.nlink       # (the root's time is the build's)


def test_one_name_first_then_the_directory():
    stdlib = os.path.realpath(python_stdlib(PYTHON))
    eager, lazy = _image(False), _image(True)
    one = _find(lazy, stdlib + "/encodings/utf_8.py")          # two levels, nothing listed
    assert one is not None and one.is_regular
    assert _find(lazy, stdlib).listing is not None             # still to list
    assert _find(lazy, stdlib + "/test") is None               # left out, as eagerly
    assert _find(lazy, stdlib + "/no-such-module.py") is None
    assert _walk(lazy, stdlib) == _walk(eager, stdlib)
    assert _find(lazy, stdlib + "/encodings/utf_8.py") is one  # the same inode, listed
