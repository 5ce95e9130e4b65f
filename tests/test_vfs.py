"""The VFS walk on its own (fs/vfs.py): a VFS built from ramfs trees, no guest.

Each walk is for a WalkContext (a root and credentials); these tests check that
'..' stops at that root and nowhere else, that absolute paths and absolute symlinks
restart there, that the path cache never answers one root or one user with another's
walk, that `changed()` and mounts invalidate what they must, and openat2's scoped
walk.
"""

from __future__ import annotations

import errno
import stat as S

import pytest

from pyunik.abi.openat2 import (RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS,
                                RESOLVE_NO_XDEV)
from pyunik.errors import KernelError
from pyunik.fs.ramfs import RamFS
from pyunik.fs.vfs import VFS, WalkContext

USER = (1000, 1000, ())


def make_tree():
    """/a/b, /a/x ("inside"), /x ("outside"), /a/abs -> /x, /mnt (empty)."""
    fs = RamFS(mode=0o755)
    root = fs.root
    a = root.mkdir(b"a", 0o755, 0, 0)
    a.mkdir(b"b", 0o755, 0, 0)
    a.create(b"x", S.S_IFREG | 0o644, 0, 0).write(0, b"inside")
    root.create(b"x", S.S_IFREG | 0o644, 0, 0).write(0, b"outside")
    a.symlink(b"abs", b"/x", 0, 0)
    root.mkdir(b"mnt", 0o755, 0, 0)
    return VFS(fs, root)


def contents(path) -> bytes:
    return path.inode.read(0, 100)


def errno_of(fn, *args, **kw) -> int:
    with pytest.raises(KernelError) as e:
        fn(*args, **kw)
    return e.value.errno


def test_dotdot_at_the_root_stays():
    vfs = make_tree()
    ctx = vfs.init_context
    assert vfs.resolve(ctx, vfs.root, b"/..").text() == b"/"
    assert vfs.resolve(ctx, vfs.root, b"/../../x").text() == b"/x"
    b = vfs.resolve(ctx, vfs.root, b"/a/b")
    assert vfs.resolve(ctx, b, b"../../../../x").text() == b"/x"


def test_chroot_moves_where_dotdot_stops_for_the_same_cwd():
    """The same cwd and the same relative path: /x for the namespace's root, /a/x
    once the root is /a, whichever walk came first (the path cache is keyed by the
    root, so it never answers one with the other)."""
    vfs = make_tree()
    ctx = vfs.init_context
    cwd = vfs.resolve(ctx, vfs.root, b"/a/b")
    jail = WalkContext(vfs.resolve(ctx, vfs.root, b"/a"))
    assert contents(vfs.resolve(ctx, cwd, b"../../x")) == b"outside"
    assert contents(vfs.resolve(jail, cwd, b"../../x")) == b"inside"
    assert contents(vfs.resolve(ctx, cwd, b"../../x")) == b"outside"
    # absolute paths and absolute symlinks restart at the context's root
    assert contents(vfs.resolve(jail, cwd, b"/x")) == b"inside"
    assert contents(vfs.resolve(jail, cwd, b"/abs")) == b"inside"
    assert contents(vfs.resolve(ctx, cwd, b"/a/abs")) == b"outside"
    # a Path keeps the whole chain: the jailed walk still names /a/x
    assert vfs.resolve(jail, cwd, b"/x").text() == b"/a/x"


def test_cwd_outside_the_root_climbs_to_the_real_root():
    """Linux: '..' stops only at the root itself; a cwd left outside a chroot climbs
    past it (the classic chroot escape, which Linux has too)."""
    vfs = make_tree()
    ctx = vfs.init_context
    jail = WalkContext(vfs.resolve(ctx, vfs.root, b"/a/b"))
    cwd = vfs.resolve(ctx, vfs.root, b"/mnt")
    assert contents(vfs.resolve(jail, cwd, b"../../../x")) == b"outside"


def test_path_cache_hits_until_changed():
    vfs = make_tree()
    ctx = vfs.init_context
    first = vfs.resolve(ctx, vfs.root, b"/a/x")
    assert vfs.resolve(ctx, vfs.root, b"/a/x") is first          # cached
    a = vfs.resolve(ctx, vfs.root, b"/a").inode
    a.unlink(b"x")
    vfs.changed()
    assert errno_of(vfs.resolve, ctx, vfs.root, b"/a/x") == errno.ENOENT
    a.create(b"x", S.S_IFREG | 0o644, 0, 0).write(0, b"again")
    vfs.changed()
    assert contents(vfs.resolve(ctx, vfs.root, b"/a/x")) == b"again"


def test_path_cache_is_per_credentials():
    """A walk cached for root never answers a user without search permission."""
    vfs = make_tree()
    ctx = vfs.init_context
    vfs.resolve(ctx, vfs.root, b"/a").inode.set_mode(0o700)
    vfs.changed()
    assert contents(vfs.resolve(ctx, vfs.root, b"/a/x")) == b"inside"
    user = WalkContext(vfs.root, USER)
    assert errno_of(vfs.resolve, user, vfs.root, b"/a/x") == errno.EACCES
    assert errno_of(vfs.resolve_parent, user, vfs.root, b"/a/new") == errno.EACCES
    assert vfs.resolve(user, vfs.root, b"/x").text() == b"/x"


def test_search_permission_change_needs_changed():
    """chmod calls changed(): after it, a walk cached for the user is re-checked."""
    vfs = make_tree()
    user = WalkContext(vfs.root, USER)
    assert contents(vfs.resolve(user, vfs.root, b"/a/x")) == b"inside"
    vfs.resolve_absolute(b"/a").inode.set_mode(0o700)
    vfs.changed()
    assert errno_of(vfs.resolve, user, vfs.root, b"/a/x") == errno.EACCES


def test_mount_hides_what_was_cached_below_it():
    vfs = make_tree()
    ctx = vfs.init_context
    assert errno_of(vfs.resolve, ctx, vfs.root, b"/mnt/f") == errno.ENOENT
    below = vfs.resolve(ctx, vfs.root, b"/mnt")
    other = RamFS(mode=0o755)
    other.root.create(b"f", S.S_IFREG | 0o644, 0, 0).write(0, b"mounted")
    m = vfs.mount(b"/mnt", other, other.root)
    mnt = vfs.resolve(ctx, vfs.root, b"/mnt")
    assert mnt.inode is other.root and mnt.mount is m
    assert mnt.inode is not below.inode
    assert contents(vfs.resolve(ctx, vfs.root, b"/mnt/f")) == b"mounted"
    # '..' from the mount's root goes back to the directory holding the mount point
    assert contents(vfs.resolve(ctx, mnt, b"../x")) == b"outside"
    # a chroot into the mount: '..' stops at the mount's root
    jail = WalkContext(mnt)
    assert contents(vfs.resolve(jail, mnt, b"../../f")) == b"mounted"


def test_resolve_parent_follows_a_final_symlink_from_the_context_root():
    vfs = make_tree()
    ctx = vfs.init_context
    jail = WalkContext(vfs.resolve(ctx, vfs.root, b"/a"))
    lk = vfs.resolve_parent(jail, jail.root, b"abs", follow=True)
    assert lk.parent.text() == b"/a" and lk.name == b"x"
    assert contents(lk.child) == b"inside"
    lk = vfs.resolve_parent(ctx, vfs.root, b"/a/abs", follow=True)
    assert lk.parent.text() == b"/" and contents(lk.child) == b"outside"


def test_lookup_one_component():
    vfs = make_tree()
    ctx = vfs.init_context
    a = vfs.lookup(ctx, vfs.root, b"a")
    assert a.text() == b"/a"
    assert vfs.lookup(ctx, a, b"missing") is None
    assert vfs.lookup(ctx, a, b"..").text() == b"/"
    x = vfs.lookup(ctx, a, b"x")
    assert errno_of(vfs.lookup, ctx, x, b"y") == errno.ENOTDIR
    assert errno_of(vfs.lookup, ctx, a, b"n" * 256) == errno.ENAMETOOLONG


def test_scoped_walk():
    """openat2's RESOLVE_* walk returns the path rewritten below its base."""
    vfs = make_tree()
    ctx = vfs.init_context
    a = vfs.resolve(ctx, vfs.root, b"/a")
    scoped = vfs.scoped_path
    assert scoped(ctx, a, b"b/../x", RESOLVE_BENEATH, True) == b"x"
    assert errno_of(scoped, ctx, a, b"../x", RESOLVE_BENEATH, True) == errno.EXDEV
    assert errno_of(scoped, ctx, a, b"/x", RESOLVE_BENEATH, True) == errno.EXDEV
    assert errno_of(scoped, ctx, a, b"abs", RESOLVE_BENEATH, True) == errno.EXDEV
    assert scoped(ctx, a, b"../x", RESOLVE_IN_ROOT, True) == b"x"
    assert scoped(ctx, a, b"abs", RESOLVE_IN_ROOT, True) == b"x"
    assert errno_of(scoped, ctx, a, b"abs", RESOLVE_NO_SYMLINKS, True) == errno.ELOOP
    assert scoped(ctx, a, b"abs", RESOLVE_NO_SYMLINKS, False) == b"abs"
    other = RamFS(mode=0o755)
    vfs.mount(b"/mnt", other, other.root)
    assert errno_of(scoped, ctx, vfs.root, b"mnt", RESOLVE_NO_XDEV, True) == errno.EXDEV
    assert scoped(ctx, vfs.root, b"a/b", RESOLVE_NO_XDEV, True) == b"a/b"
