"""inotify(7): watches on inodes and the event queues of inotify instances.

The state of inotify lives here. kernel/syscalls/inotify.py decodes the four system
calls and calls in; the file system calls (kernel/syscalls/files.py and fs.py) report
what they did through the hooks at the end of this module, each named after the
fsnotify hook of include/linux/fsnotify.h it stands for and called where Linux calls
it. Only what the guest does through those calls is seen: a host process changing a
host directory (-v) behind pyunik's back makes no event.

Layer: fs. Called by the kernel's file system calls and inotify's system calls; calls
nothing but the inodes it is given (stat) and abi/.

State (all of it changed only by the system call running; nothing here blocks):
- `Fsnotify`: the inotify state of one kernel (the kernel owns it; the VFS hands it to
  every filesystem it mounts as `fs.notify`, so a hook finds it from the Path or the
  open file it is given):
  - `watches`: inode key -> the watches on that inode, of every instance. An inode is
    known by its key (filesystem dev, ino), never by object identity: hostfs and
    overlay may make a new object for the same file. A Watch refers to its instance
    weakly.
  - `by_key`: where each file the guest opened by path is now (`Opened`, also kept on
    the file as `file.fsnotify`): the directory and name its events are reported with.
    Like Linux's dentry of an open file, it follows renames and is marked unlinked
    when its name goes.
  - `doomed`: keys of inodes whose last name went while a file held them open; their
    IN_DELETE_SELF and IN_IGNORED come with the last close, as Linux's come with the
    last dput of the dentry.
  - per-uid counts of instances and watches (max_user_instances, max_user_watches),
    and the rename cookies.
- `InotifyFile`: one instance (an anonymous-inode file). Owns its queue of events and
  its watches, by wd and by inode key.

Linux's rules kept (fs/notify/fsnotify.c, fs/notify/inotify/inotify_*.c):
- An event on a file or directory goes first to the watch on its parent directory,
  with the name, then to the watch on the object itself, without it. Directory entry
  events (IN_CREATE, IN_DELETE, IN_MOVED_*) go only to the directory; IN_DELETE_SELF,
  IN_MOVE_SELF and IN_ATTRIB for a link count change only to the object itself (and
  never carry IN_ISDIR for the *_SELF ones).
- A watch gets only what its mask asks for; IN_IGNORED always. IN_ONESHOT removes the
  watch after its first event (IN_IGNORED follows). IN_EXCL_UNLINK drops events of
  open files (open, read, write, close) once their name is gone, but not attribute
  changes made through the fd.
- An event identical to the last one queued (wd, mask, name; not after IN_IGNORED) is
  merged into it. At max_queued_events queued events, one IN_Q_OVERFLOW (wd -1) is
  queued and further events are lost until it is read.
- wds are allocated cyclically per instance from 1 (idr_alloc_cyclic): a removed wd
  is not reused until the numbers wrap.
"""

from __future__ import annotations

import itertools
import time
import weakref
from collections import deque
from errno import EAGAIN, EEXIST, EINVAL, EMFILE, ENOSPC, ENOTTY

from ..abi import linux as L
from ..abi.fs import ANON_INODE_DEV as _ANON_INODE_DEV, ANON_INODE_INO as _ANON_INODE_INO
from ..abi.inotify import MAX_QUEUED_EVENTS, MAX_USER_INSTANCES, MAX_USER_WATCHES
from ..abi.limits import INT_MAX
from ..abi.inotify import (FS_RENAME, IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE,
                           IN_CLOSE_NOWRITE, IN_OPEN, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE,
                           IN_DELETE,
                           IN_DELETE_SELF, IN_MOVE_SELF, IN_Q_OVERFLOW, IN_IGNORED,
                           IN_EXCL_UNLINK, IN_MASK_CREATE, IN_MASK_ADD, IN_ISDIR, IN_ONESHOT,
                           IN_ALL_EVENTS, INOTIFY_IOC_SETNEXTWD, EVENT)
from ..abi.poll import POLLIN, POLLRDNORM
from ..errors import KernelError
from ..wait import WaitQueue, WouldBlock
from .file import File


Key = tuple          # (filesystem dev, inode number)


def key_of(inode) -> Key:
    return (inode.fs.dev, inode.ino)


def _padded(name: bytes) -> int:
    """The len field of an event with this name: NUL included, rounded up to 16."""
    return (len(name) + 16) & ~15 if name else 0


def _isdir(inode) -> int:
    return IN_ISDIR if inode.is_dir else 0


class Watch:
    """One inode watched by one instance. mask holds only IN_ALL_EVENTS bits; oneshot
    and excl_unlink are the IN_ONESHOT and IN_EXCL_UNLINK flags. wd is -1 once removed,
    so an event being delivered while its watch goes is dropped, as Linux does."""

    __slots__ = ("wd", "key", "mask", "oneshot", "excl_unlink", "owner")

    def __init__(self, wd: int, key: Key, owner: "InotifyFile"):
        self.wd = wd
        self.key = key
        self.mask = 0
        self.oneshot = False
        self.excl_unlink = False
        self.owner = weakref.ref(owner)


class Opened:
    """Where an open file is: its inode, and the directory (key) and name its events are
    reported with (parent None: a filesystem root, which reports to nobody above).
    path is the Path it was opened by, so calls given that Path (fchmod, futimens)
    find the file's current place. notify is the Fsnotify that keeps the record."""

    __slots__ = ("file", "key", "parent", "name", "is_dir", "path", "unlinked", "notify")

    def __init__(self, notify: "Fsnotify", file: File, path):
        key = self.key = key_of(path.inode)
        # A file that dies unclosed (its process ended) leaves no record behind.
        self.file = weakref.ref(file, lambda _ref: notify.opened_records(key))
        self.parent = _parent_key(path)
        self.name = path.steps[-1].name
        self.is_dir = path.inode.is_dir
        self.path = path
        self.unlinked = False
        self.notify = notify

    def last_close(self, file: File) -> None:
        """The file's last reference went (File.close_ref): fsnotify_close."""
        closed(file)


def _parent_key(path) -> Key | None:
    """The directory whose watch hears about path's object: the previous step, if it is
    in the same mount (a mount's root reports to nobody, as a filesystem root's dentry)."""
    steps = path.steps
    if len(steps) < 2 or steps[-1].mount is not steps[-2].mount:
        return None
    return key_of(steps[-2].inode)


class Fsnotify:
    """The inotify state of one kernel (see the module docstring): who watches which
    inode, where open files are, and the per-user limits. Nothing in it is shared with
    another kernel."""

    def __init__(self):
        self.watches: dict[Key, list[Watch]] = {}   # empty when nobody watches: the fast path
        self.instances: dict[int, int] = {}         # uid -> live instances (max_user_instances)
        self.user_watches: dict[int, int] = {}      # uid -> watches (max_user_watches)
        self.by_key: dict[Key, list[Opened]] = {}   # open-file records by inode key
        self.doomed: set[Key] = set()
        self.cookies = itertools.count(1)           # rename cookies, as fsnotify_get_cookie()
        self.boot_ns = time.time_ns()               # the anonymous inode's times
        self.dnotify: dict[Key, object] = {}        # fs/dnotify.py's marks, by directory

    def opened_records(self, key: Key) -> list[Opened]:
        """The live open-file records of an inode (records of files gone without a
        close are pruned; the list returned is never changed afterwards)."""
        records = self.by_key.get(key)
        if not records:
            return []
        live = [o for o in records if o.file() is not None]
        if len(live) != len(records):
            if live:
                self.by_key[key] = live
            else:
                del self.by_key[key]
        return live

    # ---- delivery -----

    def send(self, w: Watch, mask: int, name: bytes = b"", cookie: int = 0) -> None:
        owner = w.owner()
        if owner is None:
            self.unregister(w)
            return
        if w.wd < 0:
            return
        owner.queue(w.wd, mask, cookie, name)
        if w.oneshot:
            owner.drop(w)

    def to_dir(self, key: Key | None, mask: int, name: bytes, cookie: int = 0) -> None:
        """A directory entry event: to the watches on the directory, with the name."""
        for w in list(self.watches.get(key, ())):
            if mask & w.mask:
                self.send(w, mask, name, cookie)

    def to_self(self, key: Key, mask: int) -> None:
        """An event on the object itself only (inotify never sets IN_ISDIR on the *_SELF
        events)."""
        if mask & (IN_MOVE_SELF | IN_DELETE_SELF):
            mask &= ~IN_ISDIR
        for w in list(self.watches.get(key, ())):
            if mask & w.mask:
                self.send(w, mask)

    def to_child(self, key: Key, parent: Key | None, name: bytes, mask: int,
                 unlinked: bool = False) -> None:
        """An event on an object: the parent directory's watches hear it with the
        name, then the object's own without (fsnotify_parent, then fsnotify).
        unlinked: an event of an open file whose name is gone, which IN_EXCL_UNLINK
        watches do not want."""
        if parent is not None and parent != key:
            for w in list(self.watches.get(parent, ())):
                if mask & w.mask and not (unlinked and w.excl_unlink):
                    self.send(w, mask, name)
        for w in list(self.watches.get(key, ())):
            if mask & w.mask and not (unlinked and w.excl_unlink):
                self.send(w, mask)

    def file_event(self, o: Opened, mask: int) -> None:
        self.to_child(o.key, o.parent, o.name, mask | (IN_ISDIR if o.is_dir else 0),
                      o.unlinked)

    def gone(self, key: Key) -> None:
        """An inode lost its last name: deleted now, or at the last close if it is open."""
        if self.opened_records(key):
            self.doomed.add(key)
        else:
            self.delete_self(key)

    def delete_self(self, key: Key) -> None:
        """fsnotify_inoderemove: IN_DELETE_SELF to whoever asked, then every watch on
        the inode goes (IN_IGNORED)."""
        self.to_self(key, IN_DELETE_SELF)
        for w in list(self.watches.get(key, ())):
            owner = w.owner()
            if owner is None:
                self.unregister(w)
            else:
                owner.drop(w)

    def register(self, w: Watch) -> None:
        self.watches.setdefault(w.key, []).append(w)

    def unregister(self, w: Watch) -> None:
        lst = self.watches.get(w.key)
        if lst is not None and w in lst:
            lst.remove(w)
            if not lst:
                del self.watches[w.key]
        w.wd = -1

    def unlink_opened(self, key: Key, parent: Key, name: bytes) -> None:
        for o in self.opened_records(key):
            if o.parent == parent and o.name == name:
                o.unlinked = True


# ---- an instance ----------------------------------------------------------------------------

class InotifyFile(File):
    """One inotify instance of the kernel whose Fsnotify is notify: read(2) gives
    queued events, poll(2) says whether any are queued, FIONREAD how many bytes they
    take. A blocking read of an empty queue waits on the instance's WaitQueue, which
    each queued event wakes."""

    read_each_iovec = True      # like Linux's inotify: .read, no .read_iter
    can_poll = True
    fasync_events = POLLIN    # what O_ASYNC signals (kernel/fasync.py)

    def __init__(self, notify: Fsnotify, flags: int, uid: int):
        if notify.instances.get(uid, 0) >= MAX_USER_INSTANCES:
            raise KernelError(EMFILE)
        super().__init__(L.O_RDONLY | (flags & L.O_NONBLOCK))
        notify.instances[uid] = notify.instances.get(uid, 0) + 1
        self.notify = notify
        self.uid = uid
        self.waiters = WaitQueue("an inotify fd")
        self.events: deque[tuple[int, int, int, bytes]] = deque()   # wd, mask, cookie, name
        self.overflowed = False          # an IN_Q_OVERFLOW event is in the queue
        self.watches: dict[int, Watch] = {}
        self.by_key: dict[Key, Watch] = {}
        self.cursor = 0                  # the next wd is the first free one from here
        self.closed = False

    # ---- the queue -----

    def queue(self, wd: int, mask: int, cookie: int = 0, name: bytes = b"") -> None:
        """fsnotify_add_event with inotify_merge: overflow, else merge, else append."""
        events = self.events
        self.waiters.wake_all(POLLIN)
        if len(events) >= MAX_QUEUED_EVENTS:
            if not self.overflowed:
                self.overflowed = True
                events.append((-1, IN_Q_OVERFLOW, 0, b""))
            return
        if events:
            last = events[-1]
            if last[0] == wd and last[1] == mask and last[3] == name and \
                    not last[1] & IN_IGNORED:
                return
        events.append((wd, mask, cookie, name))

    def read(self, size: int) -> bytes:
        """As many whole events as fit in size bytes; EINVAL if not even the first
        does; EAGAIN (O_NONBLOCK) or a wait when there is none."""
        events = self.events
        if not events:
            if not self.flags & L.O_NONBLOCK:
                raise WouldBlock((self.waiters,), what="an inotify fd")
            raise KernelError(EAGAIN)
        out = bytearray()
        while events:
            wd, mask, cookie, name = events[0]
            length = _padded(name)
            if EVENT.size + length > size - len(out):
                if not out:
                    raise KernelError(EINVAL)
                break
            events.popleft()
            if mask == IN_Q_OVERFLOW:
                self.overflowed = False
            out += EVENT.pack(wd, mask, cookie, length) + name + bytes(length - len(name))
        return bytes(out)

    def ioctl(self, request: int, arg: int, mm) -> int:
        if request == L.FIONREAD:
            mm.write_i32(arg, sum(EVENT.size + _padded(e[3]) for e in self.events))
            return 0
        if request == INOTIFY_IOC_SETNEXTWD:
            if not 1 <= arg <= INT_MAX:
                raise KernelError(EINVAL)
            self.cursor = arg
            return 0
        raise KernelError(ENOTTY)

    def poll(self, events: int) -> int:
        return (POLLIN | POLLRDNORM) & events if self.events else 0

    def wait_queues(self, events: int):
        return (self.waiters,), ()

    def seek(self, offset: int, whence: int) -> int:
        return 0                         # noop_llseek: the position stays 0

    def stat(self) -> tuple:
        s, ns = divmod(self.notify.boot_ns, 10**9)
        return (_ANON_INODE_DEV, _ANON_INODE_INO, 1, 0o600, 0, 0, 0, 0, 0, 4096, 0,
                s, ns, s, ns, s, ns, 0, 0, 0)

    def proc_link(self) -> bytes:
        return b"anon_inode:inotify"

    def close(self) -> None:
        """The last fd went: every watch goes (their IN_IGNORED has no reader left)."""
        if self.closed:
            return
        self.closed = True
        notify = self.notify
        for w in list(self.watches.values()):
            notify.unregister(w)
            notify.user_watches[self.uid] -= 1
        self.watches.clear()
        self.by_key.clear()
        self.events.clear()
        notify.instances[self.uid] -= 1

    # ---- watches -----

    def add_watch(self, inode, mask: int) -> int:
        """inotify_update_watch: change the watch on inode (the same wd), or make one."""
        key = key_of(inode)
        w = self.by_key.get(key)
        if w is not None:
            if mask & IN_MASK_CREATE:
                raise KernelError(EEXIST)
            if not mask & IN_MASK_ADD:
                w.mask, w.oneshot, w.excl_unlink = 0, False, False
        else:
            wd = self._allocate_wd()
            counts = self.notify.user_watches
            if counts.get(self.uid, 0) >= MAX_USER_WATCHES:
                raise KernelError(ENOSPC)     # the wd is spent, as in Linux
            counts[self.uid] = counts.get(self.uid, 0) + 1
            w = Watch(wd, key, self)
            self.watches[wd] = w
            self.by_key[key] = w
            self.notify.register(w)
        w.mask |= mask & IN_ALL_EVENTS
        w.oneshot = w.oneshot or bool(mask & IN_ONESHOT)
        w.excl_unlink = w.excl_unlink or bool(mask & IN_EXCL_UNLINK)
        return w.wd

    def _allocate_wd(self) -> int:
        """idr_alloc_cyclic(1, INT_MAX): the first free wd from the cursor, wrapping."""
        wd = self.cursor if 1 <= self.cursor <= INT_MAX else 1
        first = wd
        while wd in self.watches:
            wd = wd + 1 if wd < INT_MAX else 1
            if wd == first:
                raise KernelError(ENOSPC)
        self.cursor = wd + 1
        return wd

    def rm_watch(self, wd: int) -> None:
        w = self.watches.get(wd)
        if w is None:
            raise KernelError(EINVAL)
        self.drop(w)

    def drop(self, w: Watch) -> None:
        """Remove a watch of this instance: IN_IGNORED, then its wd is free."""
        if w.wd < 0:
            return
        self.queue(w.wd, IN_IGNORED)
        del self.watches[w.wd]
        del self.by_key[w.key]
        self.notify.user_watches[self.uid] -= 1
        self.notify.unregister(w)


# ---- hooks for the file system calls ----------------------------------------------------------
#
# Each takes what its caller already has: the Lookup of a name being made or removed
# (fs/vfs.py: parent Path, name, child Path), the Path of an object, or an open File,
# and finds the kernel's Fsnotify through it (the filesystem's `notify`, or the file's
# record). All return at once when nobody watches anything.

def _watched(path) -> Fsnotify | None:
    """The Fsnotify of path's filesystem if anything at all is watched, else None."""
    notify = path.inode.fs.notify
    return notify if notify is not None and notify.watches else None


def created(lk, is_dir: bool = False) -> None:
    """fsnotify_create / fsnotify_mkdir: lk.name was made in lk.parent (open O_CREAT,
    mkdir, mknod, symlink)."""
    notify = _watched(lk.parent)
    if notify is not None:
        notify.to_dir(key_of(lk.parent.inode), IN_CREATE | (IN_ISDIR if is_dir else 0),
                      lk.name)


def linked(lk, source) -> None:
    """fsnotify_link: source (a Path) got the new name lk.name: IN_ATTRIB on it (its link
    count), then IN_CREATE in the directory."""
    notify = _watched(lk.parent)
    if notify is not None:
        notify.to_self(key_of(source.inode), IN_ATTRIB)
        notify.to_dir(key_of(lk.parent.inode), IN_CREATE, lk.name)


def links(path) -> int | None:
    """The link count of path's object before a call removes one of its names, when it
    can matter (the object is watched or open); else None. Taken before, as afterwards
    some filesystems (hostfs) no longer know the object by that name."""
    if path is None:
        return None
    notify = path.inode.fs.notify
    key = key_of(path.inode)
    if notify is None or (key not in notify.watches and key not in notify.by_key):
        return None
    try:
        return path.inode.stat()[2]
    except KernelError:
        return None


def removed(lk, count: int | None = None) -> None:
    """vfs_unlink / vfs_rmdir removed lk.child (count: links() before): IN_ATTRIB on a
    file (fsnotify_link_count), IN_DELETE_SELF and IN_IGNORED when that was its last
    name (at its last close if open), then IN_DELETE in the directory."""
    notify = lk.parent.inode.fs.notify
    if notify is None:
        return
    inode = lk.child.inode
    key, parent = key_of(inode), key_of(lk.parent.inode)
    if key in notify.by_key:
        notify.unlink_opened(key, parent, lk.name)
    if not notify.watches:
        return
    if not inode.is_dir:
        notify.to_self(key, IN_ATTRIB)
    if inode.is_dir or count == 1:
        notify.gone(key)
    notify.to_dir(parent, IN_DELETE | _isdir(inode), lk.name)


def renamed(old, new, exchange: bool, count: int | None = None) -> None:
    """fsnotify_move for vfs_rename of old (a Lookup) to new: IN_MOVED_FROM and
    IN_MOVED_TO with one cookie, IN_ATTRIB on a replaced object (count: links() of it
    before), IN_MOVE_SELF on the moved one; with RENAME_EXCHANGE the same again the
    other way. Open files follow their names; a replaced one is unlinked."""
    notify = old.parent.inode.fs.notify
    if notify is None:
        return
    src = old.child.inode
    dst = new.child.inode if new.child is not None else None
    skey = key_of(src)
    dkey = key_of(dst) if dst is not None else None
    if skey == dkey:
        return                  # two names of one inode: rename(2) does nothing
    opk, npk = key_of(old.parent.inode), key_of(new.parent.inode)
    moving = [o for o in notify.opened_records(skey) if o.parent == opk and o.name == old.name]
    staying = [o for o in notify.opened_records(dkey)
               if o.parent == npk and o.name == new.name] if dkey is not None else []
    for o in moving:
        o.parent, o.name = npk, new.name
    for o in staying:
        if exchange:
            o.parent, o.name = opk, old.name
        else:
            o.unlinked = True
    if not notify.watches:
        return
    cookie = next(notify.cookies)
    notify.to_dir(opk, FS_RENAME | _isdir(src), old.name)      # dnotify's DN_RENAME
    notify.to_dir(opk, IN_MOVED_FROM | _isdir(src), old.name, cookie)
    notify.to_dir(npk, IN_MOVED_TO | _isdir(src), new.name, cookie)
    if dst is not None and not exchange:
        notify.to_self(dkey, IN_ATTRIB | _isdir(dst))
    notify.to_self(skey, IN_MOVE_SELF)
    if exchange:
        cookie = next(notify.cookies)
        notify.to_dir(npk, FS_RENAME | _isdir(dst), new.name)
        notify.to_dir(npk, IN_MOVED_FROM | _isdir(dst), new.name, cookie)
        notify.to_dir(opk, IN_MOVED_TO | _isdir(dst), old.name, cookie)
        notify.to_self(dkey, IN_MOVE_SELF)
    elif dst is not None and (dst.is_dir or count == 1):
        notify.gone(dkey)


def opened(file: File, path, truncated: bool = False) -> None:
    """fsnotify_open: file was opened by path (O_PATH too: it holds the object, though
    it makes no event). truncated: O_TRUNC cut an existing file, which Linux reports
    after the open (handle_truncate)."""
    notify = path.inode.fs.notify
    if notify is None:
        return
    o = Opened(notify, file, path)
    for other in notify.opened_records(o.key):
        if other.path is path:        # reopened through /proc/self/fd/N: where it is now
            o.parent, o.name, o.unlinked = other.parent, other.name, other.unlinked
            break
    file.fsnotify = o
    notify.by_key.setdefault(o.key, []).append(o)
    if not notify.watches or file.flags & L.O_PATH:
        return
    isdir = IN_ISDIR if o.is_dir else 0
    notify.to_child(o.key, o.parent, o.name, IN_OPEN | isdir)
    if truncated and path.inode.is_regular:
        notify.to_child(o.key, o.parent, o.name, IN_MODIFY)


def closed(file: File | None) -> None:
    """fsnotify_close, when the file's last reference went (File.close_ref calls it
    through the file's record): IN_CLOSE_WRITE (opened for writing) or
    IN_CLOSE_NOWRITE; then a deleted object's last close deletes it."""
    if file is None or file.refs > 0:
        return
    o = file.fsnotify
    if o is None:
        return
    file.fsnotify = None
    notify = o.notify
    rest = [r for r in notify.by_key.get(o.key, ()) if r is not o]
    if rest:
        notify.by_key[o.key] = rest
    else:
        notify.by_key.pop(o.key, None)
    if notify.watches and not file.flags & L.O_PATH:
        mask = IN_CLOSE_WRITE if file.writable else IN_CLOSE_NOWRITE
        notify.file_event(o, mask)
    if o.key in notify.doomed and not notify.opened_records(o.key):
        notify.doomed.discard(o.key)
        notify.delete_self(o.key)


def accessed(file: File, count: int = 1) -> int:
    """fsnotify_access: count bytes were read from file (an event if more than 0; a
    directory read always makes one). Returns count."""
    if count > 0:
        o = file.fsnotify
        if o is not None and o.notify.watches:
            o.notify.file_event(o, IN_ACCESS)
    return count


def modified(file: File, count: int = 1) -> int:
    """fsnotify_modify: count bytes were written to file (an event if more than 0), or it
    was fallocate'd. Returns count."""
    if count > 0:
        o = file.fsnotify
        if o is not None and o.notify.watches:
            o.notify.file_event(o, IN_MODIFY)
    return count


def attr_changed(path, mode: bool = False, uid: bool = False, gid: bool = False,
                 size: bool = False, atime: bool = False, mtime: bool = False) -> None:
    """fsnotify_change after notify_change on path's object: the ATTR_* given become
    IN_ATTRIB (mode, owner, both times), IN_MODIFY (size, mtime alone) or IN_ACCESS
    (atime alone). If path is an open file's, the file's current place is used."""
    if path is None:
        return
    notify = _watched(path)
    if notify is None:
        return
    mask = IN_ATTRIB if mode or uid or gid else 0
    if size:
        mask |= IN_MODIFY
    if atime and mtime:
        mask |= IN_ATTRIB
    elif atime:
        mask |= IN_ACCESS
    elif mtime:
        mask |= IN_MODIFY
    if not mask:
        return
    key = key_of(path.inode)
    for o in notify.opened_records(key):
        if o.path is path:
            parent, name = o.parent, o.name
            break
    else:
        parent, name = _parent_key(path), path.steps[-1].name
    notify.to_child(key, parent, name, mask | _isdir(path.inode))
