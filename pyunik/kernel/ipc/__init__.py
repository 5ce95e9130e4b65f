"""System V IPC: the kernel's tables of shared memory segments, semaphore sets and
message queues, and what the three share (Linux's ipc/util.c and ipc/namespace.c).

`IpcNamespace` (the kernel's `ipc`) holds one `IdTable` per kind. An object in a table
carries its `IpcPerm` (struct kern_ipc_perm): key, owner and creator ids, mode, and
the sequence number that makes its id. Ids are made as Linux makes them: the index
in the table plus the sequence number shifted by IPCMNI_SHIFT, so a removed object's
id is not found again when its index is reused (EINVAL, or EIDRM for a waiter).

`IdTable.get_or_create` is ipcget (IPC_PRIVATE, IPC_CREAT, IPC_EXCL, the per-kind
checks of an existing object, then the permission check); `ipcperms` is the mode
check with the caller's effective ids (root passes, as with CAP_IPC_OWNER);
`IpcPerm.may_change` is the owner check of IPC_SET and IPC_RMID (EPERM).

Host memory is bounded by the guest memory limit (-m), as Linux is bounded by RAM:
all segments together hold at most that many bytes (ENOSPC, SHMALL's error), all
semaphores at most half of it in host bookkeeping (ENOMEM, newary's kvmalloc
failing) and all queued messages at most half of it (a send waits, or EAGAIN, as
for a full queue). `host_budget` says how much.

Layer: kernel. The kinds live in kernel/ipc/shm.py, sem.py and msg.py; the system
calls that decode guest arguments are kernel/syscalls/ipc.py. Calls nothing above.
"""

from __future__ import annotations

from errno import EACCES, EEXIST, EINVAL, ENOENT, ENOSPC, EPERM

from ...abi import ipc as I
from ...abi.capability import CAP_IPC_OWNER, CAP_SYS_ADMIN
from ...errors import KernelError


class IpcPerm:
    """struct kern_ipc_perm: who owns an object and who may use it."""

    __slots__ = ("key", "uid", "gid", "cuid", "cgid", "mode", "seq", "id", "deleted")

    def __init__(self, key: int, cred, mode: int):
        self.key = key
        self.uid = self.cuid = cred.euid
        self.gid = self.cgid = cred.egid
        self.mode = mode & 0o777
        self.seq = 0
        self.id = -1
        self.deleted = False      # removed from its table (a waiter then sees EIDRM)

    def pack(self) -> tuple:
        """The ipc64_perm fields, in order (IPC64_PERM's format)."""
        return (self.key, self.uid, self.gid, self.cuid, self.cgid, self.mode, self.seq, 0,
                0, 0)

    def may_change(self, cred) -> None:
        """ipcctl_obtain_check: IPC_SET and IPC_RMID are for the creator, the owner or
        root (CAP_SYS_ADMIN), else EPERM."""
        if cred.euid not in (self.cuid, self.uid) and not cred.capable(CAP_SYS_ADMIN):
            raise KernelError(EPERM)

    def set_from(self, ds: tuple) -> None:
        """IPC_SET's ipc_update_perm: owner and the low 9 mode bits, from a read
        *id64_ds (its ipc64_perm's uid, gid and mode)."""
        uid, gid, mode = ds[1], ds[2], ds[5]
        self.uid, self.gid = uid, gid
        self.mode = (self.mode & ~0o777) | (mode & 0o777)


def ipcperms(perm: IpcPerm, cred, flag: int) -> bool:
    """ipcperms: may cred use perm's object for the rwx bits in flag (any of the
    owner, group or other positions)? With CAP_IPC_OWNER always."""
    requested = (flag >> 6) | (flag >> 3) | flag
    granted = perm.mode
    if cred.euid in (perm.cuid, perm.uid):
        granted >>= 6
    elif perm.cgid in _groups(cred) or perm.gid in _groups(cred):
        granted >>= 3
    return not (requested & ~granted & 0o7) or cred.capable(CAP_IPC_OWNER)


def check_perms(perm: IpcPerm, cred, flag: int) -> None:
    if not ipcperms(perm, cred, flag):
        raise KernelError(EACCES)


def _groups(cred) -> tuple:
    return (cred.egid,) + tuple(cred.groups)


def now(kernel) -> int:
    """ktime_get_real_seconds on the kernel's clock: the *_time fields."""
    return kernel.clock.realtime_ns() // 1000000000


class IdTable:
    """One kind's objects by index (struct ipc_ids): ids, keys, the limit on
    their number. An object has `perm` (an IpcPerm)."""

    def __init__(self, limit: int):
        self.limit = limit            # *MNI: how many objects may exist at once
        self.objects: dict[int, object] = {}   # index -> object
        self.seq = 0                  # the sequence number the next object gets
        self.next_index = 0           # idr_alloc_cyclic's cursor

    def __len__(self) -> int:
        return len(self.objects)

    def find(self, ipc_id: int):
        """ipc_obtain_object_check: the object with this id, or EINVAL."""
        if ipc_id < 0:
            raise KernelError(EINVAL)
        obj = self.objects.get(ipc_id & (I.IPCMNI - 1))
        if obj is None or obj.perm.id != ipc_id:
            raise KernelError(EINVAL)
        return obj

    def find_key(self, key: int):
        for obj in self.objects.values():
            if obj.perm.key == key and key != I.IPC_PRIVATE:
                return obj
        return None

    def add(self, obj) -> int:
        """Give obj an id (ipc_addid): ENOSPC when the table is full."""
        if len(self.objects) >= self.limit:
            raise KernelError(ENOSPC)
        index = self.next_index
        while index in self.objects:
            index = (index + 1) % self.limit
        self.next_index = (index + 1) % self.limit
        obj.perm.seq = self.seq
        self.seq = 0 if self.seq >= I.IPCID_SEQ_MAX else self.seq + 1
        obj.perm.id = (obj.perm.seq << I.IPCMNI_SHIFT) + index
        self.objects[index] = obj
        return obj.perm.id

    def remove(self, obj) -> None:
        """ipc_rmid: the id is gone; waiters on the object see it deleted."""
        self.objects.pop(obj.perm.id & (I.IPCMNI - 1), None)
        obj.perm.deleted = True

    def by_position(self, index: int):
        """*_STAT's argument is an index, not an id: EINVAL when nothing is there."""
        if index < 0:
            raise KernelError(EINVAL)
        obj = self.objects.get(index)
        if obj is None:
            raise KernelError(EINVAL)
        return obj

    def max_index(self) -> int:
        """The highest index in use (what *_INFO returns), 0 when none."""
        return max(self.objects, default=0)

    def get_or_create(self, key: int, flags: int, cred, make, check_existing=None) -> int:
        """ipcget: a new object for IPC_PRIVATE or an unknown key with IPC_CREAT
        (make() builds it), else the existing one's id after IPC_EXCL (EEXIST), the
        kind's own checks (check_existing(obj), e.g. a larger size: EINVAL) and the
        permission check of flags' mode bits (EACCES)."""
        if key != I.IPC_PRIVATE:
            obj = self.find_key(key)
            if obj is not None:
                if flags & I.IPC_CREAT and flags & I.IPC_EXCL:
                    raise KernelError(EEXIST)
                if check_existing is not None:
                    check_existing(obj)
                check_perms(obj.perm, cred, flags)
                return obj.perm.id
            if not flags & I.IPC_CREAT:
                raise KernelError(ENOENT)
        if len(self.objects) >= self.limit:
            raise KernelError(ENOSPC)
        return self.add(make())


def host_budget(kernel) -> int:
    """Bytes of host memory each kind's contents may take: the guest memory limit."""
    return kernel.config.memory_limit


class IpcNamespace:
    """The kernel's System V IPC objects (struct ipc_namespace): `kernel.ipc`."""

    def __init__(self, kernel):
        from .msg import MessageQueues
        from .sem import Semaphores
        from .shm import SharedSegments
        self.shm = SharedSegments(kernel)
        self.sem = Semaphores(kernel)
        self.msg = MessageQueues(kernel)

    def exit_process(self, process) -> None:
        """A process is exiting (exit_sem): its semaphore undo adjustments apply.
        Its attached segments detach as its address space goes."""
        self.sem.exit_process(process)
