"""System V IPC system calls: shared memory, semaphores, message queues.

Argument checks in Linux's order (ipc/shm.c, ipc/sem.c, ipc/msg.c: ksys_*), the
guest's structs read and written through usermem; the objects and their rules live
in kernel/ipc/ (the kernel's `ipc`).

Layer: kernel, syscall handlers. Calls kernel/ipc/ and usermem.
"""

from __future__ import annotations

from errno import E2BIG, EINVAL

from ...abi import ipc as I
from ...abi import linux as L
from ...errors import KernelError
from ..ipc import check_perms



def _stat(t, table, ipc_id, cmd, stat_cmds, buf, pack) -> int:
    """IPC_STAT (by id, 0), *_STAT (by index, returns the id) and *_STAT_ANY (by
    index, without the read permission check)."""
    ipc_stat, by_index, any_cmd = stat_cmds
    obj = table.find(ipc_id) if cmd == ipc_stat else table.by_position(ipc_id)
    if cmd != any_cmd:
        check_perms(obj.perm, t.process.cred, I.S_IRUGO)
    t.mm.write(buf, pack(obj))
    return 0 if cmd == ipc_stat else obj.perm.id


# ---- shared memory ------------------------------------------------------------------------

def sys_shmget(t, key, size, shmflg):
    """shmget(2): IPC_PRIVATE, IPC_CREAT, IPC_EXCL; a larger size than an existing
    segment's is EINVAL."""
    return t.process.kernel.ipc.shm.shmget(t, key, size, shmflg)


def sys_shmat(t, shmid, shmaddr, shmflg):
    """shmat(2): at a free address, or at shmaddr (SHM_RND rounds it, SHM_REMAP
    replaces what is there); SHM_RDONLY, SHM_EXEC."""
    return t.process.kernel.ipc.shm.shmat(t, shmid, shmaddr, shmflg)


def sys_shmdt(t, shmaddr):
    """shmdt(2): the segment attached at shmaddr."""
    return t.process.kernel.ipc.shm.shmdt(t, shmaddr)



def _ctl(t, kind, ipc_id, cmd, buf, infos, stats, ds):
    """What shmctl, semctl and msgctl share: the *_INFO commands (the highest index
    in use), the *_STAT ones, IPC_SET (the *id64_ds read first: EFAULT before the
    id is looked up) and IPC_RMID. None for another command."""
    if cmd in infos:
        t.mm.write(buf, kind.info(cmd))
        return kind.ids.max_index()
    if cmd in stats:
        return _stat(t, kind.ids, ipc_id, cmd, stats, buf, kind.stat)
    if cmd == I.IPC_SET:
        kind.set(t, ipc_id, t.mm.read_struct(ds, buf))
        return 0
    if cmd == I.IPC_RMID:
        kind.remove(t, ipc_id)
        return 0
    return None


def sys_shmctl(t, shmid, cmd, buf):
    """shmctl(2): IPC_STAT, IPC_SET, IPC_RMID, IPC_INFO, SHM_INFO, SHM_STAT(_ANY),
    SHM_LOCK, SHM_UNLOCK."""
    shm = t.process.kernel.ipc.shm
    shm.reap()
    if cmd < 0 or shmid < 0:
        raise KernelError(EINVAL)
    done = _ctl(t, shm, shmid, cmd, buf, (I.IPC_INFO, I.SHM_INFO),
                (I.IPC_STAT, I.SHM_STAT, I.SHM_STAT_ANY), I.SHMID64_DS)
    if done is not None:
        return done
    if cmd in (I.SHM_LOCK, I.SHM_UNLOCK):
        shm.lock(t, shmid, cmd == I.SHM_LOCK)
        return 0
    raise KernelError(EINVAL)


# ---- semaphores ------------------------------------------------------------------------------

def sys_semget(t, key, nsems, semflg):
    """semget(2): IPC_PRIVATE, IPC_CREAT, IPC_EXCL; more semaphores than an existing
    set has is EINVAL."""
    return t.process.kernel.ipc.sem.semget(t, key, nsems, semflg)


def _semop(t, semid, sops, nsops, timeout):
    """do_semtimedop's argument checks: the count, the operations, the timeout."""
    ts = t.mm.read_struct(L.TIMESPEC, timeout) if timeout else None
    if nsops < 1 or semid < 0:
        raise KernelError(EINVAL)
    if nsops > I.SEMOPM:
        raise KernelError(E2BIG)
    raw = t.mm.read(sops, nsops * I.SEMBUF.size)
    ops = [I.SEMBUF.unpack_from(raw, i * I.SEMBUF.size) for i in range(nsops)]
    deadline = None
    if ts is not None:
        sec, nsec = ts
        if sec < 0 or not 0 <= nsec < 1000000000:
            raise KernelError(EINVAL)
        deadline = t.process.kernel.clock.monotonic_ns() + sec * 1000000000 + nsec
    return t.process.kernel.ipc.sem.semop(t, semid, ops, deadline)


def sys_semop(t, semid, sops, nsops):
    """semop(2): all operations or none; a wait parks the thread (EAGAIN with
    IPC_NOWAIT, EIDRM when the set goes, EINTR for a signal: never restarted);
    SEM_UNDO adjustments apply when the process exits."""
    return _semop(t, semid, sops, nsops, 0)


def sys_semtimedop(t, semid, sops, nsops, timeout):
    """semtimedop(2): semop with a relative timeout (EAGAIN when it passes)."""
    return _semop(t, semid, sops, nsops, timeout)



def sys_semctl(t, semid, semnum, cmd, arg):
    """semctl(2): GETVAL, SETVAL, GETALL, SETALL, GETPID, GETNCNT, GETZCNT,
    IPC_STAT, IPC_SET, IPC_RMID, IPC_INFO, SEM_INFO, SEM_STAT(_ANY)."""
    sem = t.process.kernel.ipc.sem
    if semid < 0:
        raise KernelError(EINVAL)
    done = _ctl(t, sem, semid, cmd, arg, (I.IPC_INFO, I.SEM_INFO),
                (I.IPC_STAT, I.SEM_STAT, I.SEM_STAT_ANY), I.SEMID64_DS)
    if done is not None:
        return done
    if cmd == I.SETVAL:
        val = ((arg & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000     # union semun's int
        sem.setval(t, semid, semnum, val)
        return 0
    if cmd not in (I.GETALL, I.SETALL, I.GETVAL, I.GETPID, I.GETNCNT, I.GETZCNT):
        raise KernelError(EINVAL)
    sma = sem.find_for(t, semid, I.S_IWUGO if cmd == I.SETALL else I.S_IRUGO)
    n = len(sma.values)
    if cmd == I.GETALL:
        t.mm.write(arg, b"".join(I.SEMVAL.pack(v) for v in sma.values))
        return 0
    if cmd == I.SETALL:
        values = [v for (v,) in I.SEMVAL.iter_unpack(t.mm.read(arg, I.SEMVAL.size * n))]
        sem.setall(t, sma, list(values))
        return 0
    if semnum < 0 or semnum >= n:
        raise KernelError(EINVAL)
    if cmd == I.GETVAL:
        return sma.values[semnum]
    if cmd == I.GETPID:
        return sma.pids[semnum]
    return sma.count(semnum, zero=cmd == I.GETZCNT)


# ---- message queues ----------------------------------------------------------------------------

def sys_msgget(t, key, msgflg):
    """msgget(2): IPC_PRIVATE, IPC_CREAT, IPC_EXCL."""
    return t.process.kernel.ipc.msg.msgget(t, key, msgflg)


def sys_msgsnd(t, msqid, msgp, msgsz, msgflg):
    """msgsnd(2): a full queue parks the thread (EAGAIN with IPC_NOWAIT, EIDRM when
    the queue goes, EINTR for a signal: never restarted)."""
    mtype = I.MSG_TYPE.unpack(t.mm.read(msgp, I.MSG_TYPE.size))[0]
    if msgsz > I.MSGMAX or msgsz >= 1 << 63 or msqid < 0:
        raise KernelError(EINVAL)
    if mtype < 1:
        raise KernelError(EINVAL)
    text = t.mm.read(msgp + I.MSG_TYPE.size, msgsz)
    return t.process.kernel.ipc.msg.msgsnd(t, msqid, mtype, text, msgflg)


def sys_msgrcv(t, msqid, msgp, msgsz, msgtyp, msgflg):
    """msgrcv(2): by type (0 any, > 0 that type or, with MSG_EXCEPT, any other, < 0
    the lowest up to -msgtyp), MSG_NOERROR, IPC_NOWAIT (ENOMSG), MSG_COPY; a wait
    parks the thread. A message whose copy-out faults is lost, as on Linux."""
    if msgsz >= 1 << 63:
        raise KernelError(EINVAL)

    def deliver(mtype: int, text: bytes) -> int:
        t.mm.write(msgp, I.MSG_TYPE.pack(mtype))
        t.mm.write(msgp + I.MSG_TYPE.size, text)
        return len(text)

    return t.process.kernel.ipc.msg.msgrcv(t, msqid, msgsz, msgtyp, msgflg, deliver)



def sys_msgctl(t, msqid, cmd, buf):
    """msgctl(2): IPC_STAT, IPC_SET (msg_qbytes too), IPC_RMID, IPC_INFO, MSG_INFO,
    MSG_STAT(_ANY)."""
    msg = t.process.kernel.ipc.msg
    if msqid < 0 or cmd < 0:
        raise KernelError(EINVAL)
    done = _ctl(t, msg, msqid, cmd, buf, (I.IPC_INFO, I.MSG_INFO),
                (I.IPC_STAT, I.MSG_STAT, I.MSG_STAT_ANY), I.MSQID64_DS)
    if done is None:
        raise KernelError(EINVAL)
    return done
