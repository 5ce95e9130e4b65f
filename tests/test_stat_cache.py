"""The stat fast path's parts on their own, no guest: the VFS's latest walk of each
path (`VFS.recent_follow`, `recent_nofollow`), the packed stat kept by inodes
(`Inode.kept_stat_bytes`, `OverlayInode.stat_bytes`), the credentials' one
`walk_creds` tuple and usermem's C string read and copy out.

Every cache is checked against what it stands for after each change that must alter
it: a kept stat must equal `STAT.pack(*inode.stat())` made afresh, and a remembered
walk must answer only the start, root and credentials it was made for, and nothing
after `changed()`. guest_images/src/statcache.c checks the same against Linux.
"""

from __future__ import annotations

import errno
import stat as S

import pytest

from pyunik.abi import linux as L
from pyunik.abi.stat import STAT
from pyunik.cpu.engine import Engine
from pyunik.errors import KernelError
from pyunik.fs.imagefs import Entry, ImageFS
from pyunik.fs.inode import DeviceNumbers
from pyunik.fs.overlay import OverlayFS
from pyunik.fs.ramfs import RamFS
from pyunik.fs.vfs import VFS, WalkContext
from pyunik.kernel.credentials import Credentials
from pyunik.mm.address_space import AddressSpace

USER = (1000, 1000, ())
PAGE = L.PAGE_SIZE


def fresh(inode) -> bytes:
    return STAT.pack(*inode.stat())


def make_vfs():
    fs = RamFS(mode=0o755)
    a = fs.root.mkdir(b"a", 0o755, 0, 0)
    a.create(b"x", S.S_IFREG | 0o644, 0, 0).write(0, b"inside")
    fs.root.create(b"x", S.S_IFREG | 0o644, 0, 0).write(0, b"outside")
    fs.root.symlink(b"l", b"a/x", 0, 0)
    return VFS(fs, fs.root)


# ---- the latest walk of each path ----------------------------------------------------

def test_recent_answers_the_walk_it_was_made_for():
    vfs = make_vfs()
    ctx = vfs.init_context
    p = vfs.resolve(ctx, vfs.root, b"/a/x")
    assert vfs.recent(b"/a/x", True, ctx.root, ctx.root, ctx.creds) is p
    assert vfs.recent_follow[b"/a/x"][4] is p.inode
    assert vfs.recent(b"/a/x", False, ctx.root, ctx.root, ctx.creds) is None
    assert vfs.recent(b"/a/x", True, ctx.root, ctx.root, (0, 0, ())) is p   # equal creds
    assert vfs.recent(b"/a/x", True, ctx.root, ctx.root, USER) is None


def test_recent_follow_and_nofollow_are_apart():
    vfs = make_vfs()
    ctx = vfs.init_context
    followed = vfs.resolve(ctx, vfs.root, b"/l")
    link = vfs.resolve(ctx, vfs.root, b"/l", follow=False)
    assert followed.inode.is_regular and link.inode.is_symlink
    assert vfs.recent(b"/l", True, ctx.root, ctx.root, ctx.creds) is followed
    assert vfs.recent(b"/l", False, ctx.root, ctx.root, ctx.creds) is link


def test_recent_is_per_start_and_per_root():
    vfs = make_vfs()
    ctx = vfs.init_context
    a = vfs.resolve(ctx, vfs.root, b"/a")
    inside = vfs.resolve(ctx, a, b"x")
    assert vfs.recent(b"x", True, a, ctx.root, ctx.creds) is inside
    assert vfs.recent(b"x", True, vfs.root, ctx.root, ctx.creds) is None  # another cwd
    outside = vfs.resolve(ctx, vfs.root, b"x")                       # replaces the entry
    assert outside.inode is not inside.inode
    assert vfs.recent(b"x", True, a, ctx.root, ctx.creds) is None
    jail = WalkContext(a)
    assert vfs.recent(b"x", True, vfs.root, jail.root, ctx.creds) is None
    assert vfs.resolve(jail, jail.root, b"/x").inode is inside.inode
    assert vfs.recent(b"/x", True, jail.root, jail.root, jail.creds).inode is inside.inode
    assert vfs.recent(b"/x", True, ctx.root, ctx.root, ctx.creds) is None


def test_recent_never_answers_a_user_without_search_permission():
    vfs = make_vfs()
    ctx = vfs.init_context
    vfs.resolve(ctx, vfs.root, b"/a").inode.set_mode(0o700)
    vfs.changed()
    vfs.resolve(ctx, vfs.root, b"/a/x")
    user = WalkContext(vfs.root, USER)
    assert vfs.recent(b"/a/x", True, user.root, user.root, user.creds) is None
    with pytest.raises(KernelError) as e:
        vfs.resolve(user, vfs.root, b"/a/x")
    assert e.value.errno == errno.EACCES


def test_changed_and_mounts_forget_recent_walks():
    vfs = make_vfs()
    ctx = vfs.init_context
    vfs.resolve(ctx, vfs.root, b"/a/x")
    vfs.resolve(ctx, vfs.root, b"/l", follow=False)
    vfs.changed()
    assert not vfs.recent_follow and not vfs.recent_nofollow
    vfs.resolve(ctx, vfs.root, b"/a/x")
    other = RamFS(mode=0o755)
    other.root.create(b"x", S.S_IFREG | 0o644, 0, 0)
    vfs.mount(b"/a", other, other.root)
    assert vfs.recent(b"/a/x", True, ctx.root, ctx.root, ctx.creds) is None
    assert vfs.resolve(ctx, vfs.root, b"/a/x").inode.size == 0


def test_uncacheable_walks_are_not_remembered():
    vfs = make_vfs()
    ctx = vfs.init_context
    host_like = RamFS(mode=0o755)
    host_like.cacheable = False             # as hostfs and procfs: names change behind us
    host_like.root.create(b"f", S.S_IFREG | 0o644, 0, 0)
    vfs.mount(b"/a", host_like, host_like.root)
    vfs.resolve(ctx, vfs.root, b"/a/f")
    assert b"/a/f" not in vfs.recent_follow


def test_failed_walks_are_not_remembered():
    vfs = make_vfs()
    ctx = vfs.init_context
    for path in (b"/nothing", b"/x/", b""):
        with pytest.raises(KernelError):
            vfs.resolve(ctx, vfs.root, path)
        assert path not in vfs.recent_follow


# ---- kept stat packings --------------------------------------------------------------

def _ram_changes(fs):
    """(what, change) pairs, each altering one field stat shows, on fresh objects."""
    root = fs.root
    f = root.create(b"f", S.S_IFREG | 0o644, 0, 0)
    d = root.mkdir(b"d", 0o755, 0, 0)
    link = root.symlink(b"s", b"f", 0, 0)
    clock = iter(range(10**9, 10**12, 10**9 + 7))
    fs.set_clock(lambda: next(clock))
    return [
        (f, "write", lambda: f.write(0, b"12345")),
        (f, "write past the end", lambda: f.write(100, b"x")),
        (f, "truncate", lambda: f.truncate(3)),
        (f, "truncate longer", lambda: f.truncate(5000)),
        (f, "mode", lambda: f.set_mode(0o600)),
        (f, "owner", lambda: f.set_owner(7, 8)),
        (f, "times", lambda: f.set_times(5 * 10**9 + 1, 6 * 10**9 + 2)),
        (f, "modified", lambda: f.touch_modified()),
        (f, "link", lambda: root.link(b"f2", f)),
        (f, "unlink", lambda: root.unlink(b"f2")),
        (d, "entry added", lambda: d.create(b"e", S.S_IFREG | 0o644, 0, 0)),
        (d, "subdirectory", lambda: d.mkdir(b"sub", 0o755, 0, 0)),
        (d, "subdirectory removed", lambda: d.rmdir(b"sub")),
        (d, "entry removed", lambda: d.unlink(b"e")),
        (link, "times of a symlink", lambda: link.set_times(None, 7 * 10**9)),
    ]


def test_ram_inode_packs_anew_after_every_change():
    fs = RamFS(mode=0o755)
    DeviceNumbers().assign(fs)
    for inode, what, change in _ram_changes(fs):
        before = inode.stat_bytes()
        assert before == fresh(inode), what
        assert inode.stat_bytes() is before, what           # kept while nothing changes
        change()
        after = inode.stat_bytes()
        assert after == fresh(inode), what
        assert after != before, what


def test_ram_inode_device_number_given_later_is_seen():
    fs = RamFS(mode=0o755)
    f = fs.root.create(b"f", S.S_IFREG | 0o644, 0, 0)
    assert STAT.unpack(f.stat_bytes())[0] == 0
    DeviceNumbers().assign(fs)
    assert STAT.unpack(f.stat_bytes())[0] == fs.dev != 0


def _image():
    entries = [Entry(b"/etc", "dir", None, 0o755, 0, 0, 10**18, 0, 0),
               Entry(b"/etc/passwd", "file", "/dev/null", 0o644, 0, 0, 2 * 10**18, 0, 0)]
    return ImageFS.from_entries(entries)


def test_image_inode_packs_anew_when_the_image_grows():
    image = _image()
    DeviceNumbers().assign(image)
    etc = image.root.lookup(b"etc")
    before = etc.stat_bytes()
    assert before == fresh(etc) and etc.stat_bytes() is before
    image.add([Entry(b"/etc/sub", "dir", None, 0o755, 0, 0, 10**18, 0, 0)])   # learned
    assert etc.stat_bytes() == fresh(etc) != before                          # nlink 3


def _overlay():
    image = _image()
    overlay = OverlayFS(image.root)
    devices = DeviceNumbers()
    for fs in (overlay, overlay.upper, image):
        devices.assign(fs)
    return overlay


def test_overlay_lower_object_shows_the_overlays_dev_and_ino():
    overlay = _overlay()
    passwd = overlay.root.lookup(b"etc").lookup(b"passwd")
    packed = passwd.stat_bytes()
    assert packed == fresh(passwd) and passwd.stat_bytes() is packed
    dev, ino = STAT.unpack(packed)[:2]
    assert dev == overlay.dev and ino == passwd.lower.ino


def test_overlay_device_number_given_later_is_seen():
    image = _image()
    overlay = OverlayFS(image.root)
    passwd = overlay.root.lookup(b"etc").lookup(b"passwd")
    assert STAT.unpack(passwd.stat_bytes())[0] == 0
    devices = DeviceNumbers()
    for fs in (overlay, overlay.upper, image):
        devices.assign(fs)
    assert STAT.unpack(passwd.stat_bytes())[0] == overlay.dev != 0


def test_overlay_copy_up_and_upper_changes_pack_anew():
    overlay = _overlay()
    passwd = overlay.root.lookup(b"etc").lookup(b"passwd")
    before = passwd.stat_bytes()
    passwd.set_mode(0o600)                       # copies up
    assert passwd.upper is not None
    after = passwd.stat_bytes()
    assert after == fresh(passwd) != before
    assert STAT.unpack(after)[:2] == STAT.unpack(before)[:2]      # same dev and ino
    passwd.write(0, b"root:x:0:0::/root:/bin/sh\n")
    assert passwd.stat_bytes() == fresh(passwd) != after


def test_overlay_merged_directory_has_one_link():
    overlay = _overlay()
    etc = overlay.root.lookup(b"etc")
    etc.create(b"new", S.S_IFREG | 0o644, 0, 0)        # copies etc up: merged
    assert etc.upper is not None and etc.lower is not None
    assert STAT.unpack(etc.stat_bytes())[2] == 1
    assert etc.stat_bytes() == fresh(etc)


# ---- credentials -----------------------------------------------------------------------

def test_walk_creds_is_one_tuple_until_an_id_changes():
    c = Credentials(1000, 100, (4, 5))
    first = c.walk_creds
    assert first == (1000, 100, (4, 5)) and c.walk_creds is first
    c.uid = 0                      # the real id: not what walks go by
    c.euid = 0                     # nor the effective one (set*id move fsuid with it)
    assert c.walk_creds is first
    for name, value in (("fsuid", 0), ("fsgid", 0), ("groups", (9,))):
        before = c.walk_creds
        setattr(c, name, value)
        assert c.walk_creds == (c.fsuid, c.fsgid, c.groups) != before
    copy = c.copy()
    assert copy.walk_creds == c.walk_creds
    copy.fsuid = 5
    assert c.walk_creds == (0, 0, (9,)) and copy.walk_creds == (5, 0, (9,))


# ---- usermem ------------------------------------------------------------------------

@pytest.fixture
def mm():
    space = AddressSpace(Engine(), 64 << 20)
    yield space
    space.free_all()


def test_read_cstring_in_one_vma_and_across_two(mm):
    base = mm.mmap(0, 2 * PAGE, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS)
    mm.write(base, b"/etc/passwd\0")
    assert mm.read_cstring(base) == b"/etc/passwd"
    mm.write(base + 100, b"x" * 300 + b"\0")                 # past the first 256 bytes
    assert mm.read_cstring(base + 100) == b"x" * 300
    mm.mprotect(base + PAGE, PAGE, 1)                        # two VMAs, both readable
    mm.write(base + PAGE - 5, b"abcde")
    mm.engine.write(base + PAGE, b"fgh\0")
    assert mm.read_cstring(base + PAGE - 5) == b"abcdefgh"
    with pytest.raises(KernelError) as e:
        mm.read_cstring(base, limit=11)                      # 11 bytes and the NUL
    assert e.value.errno == errno.ENAMETOOLONG
    assert mm.read_cstring(base, limit=12) == b"/etc/passwd"
    with pytest.raises(KernelError) as e:
        mm.read_cstring(base + 100, limit=300)
    assert e.value.errno == errno.ENAMETOOLONG
    assert mm.read_cstring(base + 100, limit=301) == b"x" * 300


def test_read_cstring_running_into_unmapped_memory_is_efault(mm):
    base = mm.mmap(0, 2 * PAGE, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS)
    mm.munmap(base + PAGE, PAGE)
    mm.write(base + PAGE - 3, b"abc")                        # no NUL before the hole
    with pytest.raises(KernelError) as e:
        mm.read_cstring(base + PAGE - 3)
    assert e.value.errno == errno.EFAULT
    mm.write(base + PAGE - 3, b"ab\0")
    assert mm.read_cstring(base + PAGE - 3) == b"ab"
    with pytest.raises(KernelError) as e:
        mm.read_cstring(base + PAGE)
    assert e.value.errno == errno.EFAULT
    mm.mprotect(base, PAGE, 0)
    with pytest.raises(KernelError) as e:
        mm.read_cstring(base + PAGE - 3)                     # PROT_NONE
    assert e.value.errno == errno.EFAULT


def test_write_needs_a_writable_destination(mm):
    base = mm.mmap(0, 2 * PAGE, 3, L.MAP_PRIVATE | L.MAP_ANONYMOUS)
    mm.write(base + PAGE - 4, b"12345678")
    assert mm.read(base + PAGE - 4, 8) == b"12345678"
    mm.mprotect(base + PAGE, PAGE, 1)
    with pytest.raises(KernelError) as e:
        mm.write(base + PAGE - 4, b"abcdefgh")               # its end is read-only
    assert e.value.errno == errno.EFAULT
    mm.write(base + PAGE - 4, b"wxyz")
    assert mm.read(base + PAGE - 4, 8) == b"wxyz5678"
    mm.write(base + 2 * PAGE + PAGE, b"")                    # nothing to copy: fine
    with pytest.raises(KernelError):
        mm.write(base + 3 * PAGE, b"x")
