"""File leases: fcntl(F_SETLEASE, F_GETLEASE) and their break by an open or a
truncate (fs/locks.c: generic_add_lease, __break_lease, lease_modify).

A lease belongs to one open file description of a regular file. A read lease
(F_RDLCK) is granted while nobody has the file open for writing; a write lease
(F_WRLCK) while the holder's is the only open. When another open (or truncate) would
conflict (any writer against any lease, a reader against a write lease), the lease
starts breaking: its holder is told once, by the file owner's signal (SIGIO, or
F_SETSIG's with si_code POLL_MSG and si_fd the fd the lease was set through), and
F_GETLEASE answers what it must become (F_RDLCK for a downgrade, F_UNLCK). The opener
gets EWOULDBLOCK with O_NONBLOCK, else waits on the inode's queue until the holder
downgrades, unlocks or closes, or until lease-break-time (45 s) has passed, when the
kernel does it for the holder. Setting a lease makes the caller's process the file's
owner; unlocking clears the owner and the F_SETSIG signal.

Leases are kept by inode key (filesystem dev, ino: hostfs and overlay may make a new
inode object for the same file), with the queue openers wait on. Who has the file open,
and how, comes from the inode's writer count (i_writecount: negative while a program
runs it) and fs/inotify.py's records of open files (i_readcount).

Layer: kernel. Called by kernel/syscalls/fs.py (fcntl), kernel/syscalls/files.py
(open, truncate) and File.close_ref (the holder's last close); calls kernel/fasync.py
for the signal and the wait queues of wait.py.
"""

from __future__ import annotations

from errno import EACCES, EAGAIN, EINVAL

from ..abi import linux as L
from ..abi.fcntl import F_RDLCK, F_UNLCK, F_WRLCK, LEASE_BREAK_TIME
from ..abi.siginfo import POLL_MSG
from ..errors import KernelError
from ..fs.inotify import key_of
from ..wait import WaitQueue, WouldBlock
from . import fasync, signals

RDLCK, WRLCK, UNLCK = F_RDLCK, F_WRLCK, F_UNLCK


class Lease:
    """One lease: the file it is on, its kind (F_RDLCK/F_WRLCK), the fd its signal
    names; while breaking, the deadlines (monotonic ns) of the pending downgrade and
    unlock (0: none pending), Linux's FL_DOWNGRADE_PENDING and FL_UNLOCK_PENDING."""

    __slots__ = ("table", "key", "file", "kind", "fd", "downgrade_ns", "unlock_ns")

    def __init__(self, table: "Leases", key, file, kind: int, fd: int):
        self.table, self.key, self.file, self.kind, self.fd = table, key, file, kind, fd
        self.downgrade_ns = self.unlock_ns = 0

    def target(self) -> int:
        """target_leasetype: what F_GETLEASE answers (the kind it is breaking to)."""
        if self.unlock_ns:
            return UNLCK
        if self.downgrade_ns:
            return RDLCK
        return self.kind

    def breaking(self) -> bool:
        return bool(self.unlock_ns or self.downgrade_ns)

    def release(self) -> None:
        """The file's last close (locks_remove_lease)."""
        self.table.modify(self, UNLCK)


class Leases:
    """The leases of one kernel, by inode key, and the queues openers wait on."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.by_key: dict[tuple, list[Lease]] = {}  # empty when no lease: the fast path
        self.waiters: dict[tuple, WaitQueue] = {}
        self.break_time = LEASE_BREAK_TIME

    def _now(self) -> int:
        return self.kernel.clock.monotonic_ns()

    # ---- changes -----

    def modify(self, lease: Lease, kind: int) -> None:
        """lease_modify: the new kind; a downgrade or unlock is no longer pending
        (lease_clear_pending), the openers waiting try again; F_UNLCK ends the lease
        and clears the file's owner and signal (f_delown)."""
        if kind == UNLCK:
            lease.unlock_ns = 0
        if kind in (UNLCK, RDLCK):
            lease.downgrade_ns = 0
        lease.kind = kind
        queue = self.waiters.get(lease.key)
        if queue is not None:
            queue.wake_all()
        if kind != UNLCK:
            return
        f = lease.file
        f.owner, f.owner_thread, f.owner_signal = 0, False, 0
        if f.lease is lease:
            f.lease = None
        leases = self.by_key.get(lease.key)
        if leases is not None and lease in leases:
            leases.remove(lease)
            if not leases:
                del self.by_key[lease.key]
                self.waiters.pop(lease.key, None)

    def time_out(self, key) -> None:
        """time_out_leases: breaks whose time has passed are done for the holder."""
        now = self._now()
        for lease in list(self.by_key.get(key, ())):
            if lease.downgrade_ns and now >= lease.downgrade_ns:
                self.modify(lease, RDLCK)
            if lease.unlock_ns and now >= lease.unlock_ns:
                self.modify(lease, UNLCK)

    # ---- fcntl -----

    def get(self, file) -> int:
        """fcntl_getlease: the kind this file's lease has or is breaking to; F_UNLCK
        for none (on any kind of file)."""
        inode = file.inode
        if inode is None or not self.by_key:
            return UNLCK
        key = key_of(inode)
        self.time_out(key)
        for lease in self.by_key.get(key, ()):
            if lease.file is file:
                return lease.target()
        return UNLCK

    def set(self, t, fd: int, file, kind: int, privileged: bool) -> int:
        """fcntl_setlease, in Linux's order: an unknown kind is EINVAL; a file the
        caller's fsuid does not own is EACCES without CAP_LEASE (privileged); not a
        regular file, EINVAL; F_UNLCK without a lease, EAGAIN; then generic_add_lease's
        rules (module docstring), EAGAIN when they refuse."""
        if kind not in (RDLCK, WRLCK, UNLCK):
            raise KernelError(EINVAL)
        st = file.stat()
        if st[4] != t.process.cred.fsuid and not privileged:
            raise KernelError(EACCES)
        inode = file.inode
        if inode is None or not inode.is_regular:
            raise KernelError(EINVAL)
        key = key_of(inode)
        mine = None
        for lease in self.by_key.get(key, ()):
            if lease.file is file:
                mine = lease
        if kind == UNLCK:
            if mine is None:
                raise KernelError(EAGAIN)
            self.modify(mine, UNLCK)
            return 0
        self.time_out(key)
        self._check_opens(key, inode, file, kind)
        for lease in self.by_key.get(key, ()):
            if lease is mine:
                continue
            if kind == WRLCK or lease.unlock_ns:
                raise KernelError(EAGAIN)
        if mine is not None:
            self.modify(mine, kind)
        else:
            mine = file.lease = Lease(self, key, file, kind, fd)
            self.by_key.setdefault(key, []).append(mine)
        mine.fd = fd                            # lease_setup: the fasync entry's fd,
        file.owner, file.owner_thread = t.process.pid, False    # the owner the caller
        return 0

    def _check_opens(self, key, inode, file, kind: int) -> None:
        """check_conflicting_open: a read lease needs no writer (the caller's own
        open counts); a write lease, no open but the caller's."""
        writers = inode.real.write_count
        if kind == RDLCK:
            if writers > 0:
                raise KernelError(EAGAIN)
            return
        readers = 0
        for record in self.kernel.fsnotify.opened_records(key):
            f = record.file()
            if f is not None and f.readable and not f.writable:
                readers += 1
        if writers != (1 if file.writable else 0) or \
                readers != (1 if file.readable and not file.writable else 0):
            raise KernelError(EAGAIN)

    # ---- breaking -----

    def break_lease(self, t, inode, flags: int) -> None:
        """__break_lease for an open with flags (truncate: O_WRONLY): conflicting
        leases not yet breaking start to, and their holders are told; then EWOULDBLOCK
        for O_NONBLOCK, or a wait (raised before the open does anything) until no
        lease conflicts, the next break deadline ending it by itself."""
        key = key_of(inode)
        if key not in self.by_key:
            return
        self.time_out(key)
        want_write = flags & L.O_ACCMODE != L.O_RDONLY
        conflicting = [lease for lease in self.by_key.get(key, ())
                       if want_write or lease.kind == WRLCK]
        if not conflicting:
            return
        deadline = self._now() + self.break_time * 1_000_000_000
        for lease in conflicting:
            if want_write:
                if lease.unlock_ns:
                    continue
                lease.unlock_ns = deadline
            else:
                if lease.breaking():
                    continue
                lease.downgrade_ns = deadline
            fasync.send_sigio(self.kernel, lease.file, lease.fd, POLL_MSG)
        if flags & L.O_NONBLOCK:
            raise KernelError(EAGAIN)
        queue = self.waiters.get(key)
        if queue is None:
            queue = self.waiters[key] = WaitQueue("a lease break")
        ends = [lease.unlock_ns or lease.downgrade_ns for lease in conflicting]
        wait = WouldBlock((queue,), deadline=min(ends), what="a lease break")
        # wait_event_interruptible: a signal pending already (the caller may hold the
        # lease itself) ends the wait at once
        wait.signal_pending = bool(signals.deliverable(t))
        raise wait
