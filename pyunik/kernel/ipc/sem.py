"""System V semaphores: semget, semop, semtimedop, semctl (Linux's ipc/sem.c).

A `SemSet` holds its values and, per semaphore, the pid of the last process that
changed it. A semop applies all its operations or none (perform_atomic_semop: each
operation sees the ones before it); one that cannot go on now either fails with
EAGAIN (IPC_NOWAIT on the operation that would wait) or queues a `SemWaiter` on the
set and parks the thread (WouldBlock). Whenever values change, `update_queue`
tries the queued operations oldest first and performs those that can go on, on their
waiters' behalf, as Linux's update_queue does: a woken waiter finds its operations
done, so a process that posts and waits again cannot take the semaphore back before
the waiter it woke. GETNCNT and GETZCNT count the waiters whose operation that
blocks is a decrement (or a wait for zero) of that semaphore, as Linux now counts
(check_qop: the blocking operation only, as SUS asks).

SEM_UNDO: each process (the thread group; threads share it as CLONE_SYSVSEM does)
has adjustments per set and semaphore, applied when it exits (exit_sem: clamped to
0..SEMVMX) and cleared by SETVAL/SETALL for the semaphores they set; a fork's child
starts without any. A removed set wakes its waiters with EIDRM.

Layer: kernel. Called by kernel/syscalls/ipc.py and the kernel's process exit; calls
kernel/ipc/__init__.py and pyunik/wait.py.
"""

from __future__ import annotations

from errno import E2BIG, EAGAIN, EFBIG, EIDRM, EINVAL, ENOMEM, ENOSPC, ERANGE

from ...abi import ipc as I
from ...errors import KernelError
from ...wait import WaitQueue, WouldBlock
from . import IdTable, IpcPerm, check_perms, host_budget, now



SEM_HOST_BYTES = 16      # a semaphore's value and pid: two list slots on the host


class SemSet:
    """struct sem_array."""

    def __init__(self, perm: IpcPerm, nsems: int, ctime: int):
        self.perm = perm
        self.values = [0] * nsems
        self.pids = [0] * nsems          # sempid: who last changed each semaphore
        self.otime = 0
        self.ctime = ctime
        self.pending: list[SemWaiter] = []   # queued semops, oldest first
        self.queue = WaitQueue("a semaphore")

    def count(self, semnum: int, zero: bool) -> int:
        """count_semcnt: waiters whose blocking operation is on semnum (a wait for
        zero when zero, else a decrement)."""
        n = 0
        for w in self.pending:
            num, op = w.blocking
            if num == semnum and (op == 0 if zero else op < 0):
                n += 1
        return n


class SemWaiter:
    """struct sem_queue: a semop parked until it can be performed."""

    __slots__ = ("sops", "pid", "undo", "blocking", "result")

    def __init__(self, sops, pid: int, undo: bool, blocking):
        self.sops = sops
        self.pid = pid
        self.undo = undo
        self.blocking = blocking         # (semnum, op) of the operation that waits
        self.result: int | None = None   # 0 or -errno once update_queue settled it


class Semaphores:
    """The kernel's semaphore sets (sem_ids) and every process's undo list."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.ids = IdTable(I.SEMMNI)
        self.used_sems = 0
        # pid -> {semid: [adjustment per semaphore]} (struct sem_undo_list)
        self.undo: dict[int, dict[int, list[int]]] = {}

    # ---- semget ------------------------------------------------------------------------

    def semget(self, t, key: int, nsems: int, flags: int) -> int:
        if nsems < 0 or nsems > I.SEMMSL:
            raise KernelError(EINVAL)
        cred = t.process.cred

        def make() -> SemSet:
            if nsems == 0:
                raise KernelError(EINVAL)
            if self.used_sems + nsems > I.SEMMNS:
                raise KernelError(ENOSPC)
            if (self.used_sems + nsems) * SEM_HOST_BYTES > host_budget(self.kernel) // 2:
                raise KernelError(ENOMEM)
            self.used_sems += nsems
            return SemSet(IpcPerm(key, cred, flags), nsems, now(self.kernel))

        def check(sma: SemSet) -> None:
            if nsems > len(sma.values):          # sem_more_checks
                raise KernelError(EINVAL)

        return self.ids.get_or_create(key, flags, cred, make, check)

    # ---- semop -------------------------------------------------------------------------

    def semop(self, t, semid: int, sops: list[tuple[int, int, int]],
              deadline: int | None) -> int:
        """do_semtimedop after the arguments were read: sops are (sem_num, sem_op,
        sem_flg) triples; deadline a value of the kernel clock's monotonic_ns(), or None."""
        if semid < 0:
            raise KernelError(EINVAL)
        if len(sops) > I.SEMOPM:
            raise KernelError(E2BIG)
        top = max(num for num, _, _ in sops)
        undo = any(flg & I.SEM_UNDO for _, _, flg in sops)
        alter = any(op != 0 for _, op, _ in sops)
        sma = self.ids.find(semid)
        if top >= len(sma.values):
            raise KernelError(EFBIG)
        check_perms(sma.perm, t.process.cred, I.S_IWUGO if alter else I.S_IRUGO)
        pid = t.process.pid
        blocking = self._perform(sma, sops, pid, undo)
        if blocking is None:
            self.update_queue(sma)
            return 0
        if blocking[2] & I.IPC_NOWAIT:
            raise KernelError(EAGAIN)
        w = SemWaiter(sops, pid, undo, blocking[:2])
        sma.pending.append(w)

        def cancel() -> None:
            if w in sma.pending:
                sma.pending.remove(w)

        def retry(timed_out: bool) -> int:
            if w.result is not None:
                if w.result < 0:
                    raise KernelError(-w.result)
                return w.result
            if sma.perm.deleted:
                raise KernelError(EIDRM)
            if timed_out:
                cancel()
                raise KernelError(EAGAIN)
            raise WouldBlock((sma.queue,), deadline, retry=retry, what="a semaphore",
                             on_interrupt=cancel)

        raise WouldBlock((sma.queue,), deadline, retry=retry, what="a semaphore",
                         on_interrupt=cancel)

    def _perform(self, sma: SemSet, sops, pid: int, undo: bool):
        """perform_atomic_semop: apply every operation, or none. None when done; the
        operation that must wait (sem_num, sem_op, sem_flg) when it would block;
        KernelError(ERANGE) past SEMVMX or an undo value past SEMAEM."""
        values = list(sma.values)
        adjust = self._undo_of(pid, sma) if undo else None
        new_adjust = list(adjust) if adjust is not None else None
        for num, op, flg in sops:
            curr = values[num]
            result = curr + op
            if op == 0 and curr != 0 or result < 0:
                return (num, op, flg)
            if result > I.SEMVMX:
                raise KernelError(ERANGE)
            if flg & I.SEM_UNDO:
                a = new_adjust[num] - op
                if a < -I.SEMAEM - 1 or a > I.SEMAEM:
                    raise KernelError(ERANGE)
                new_adjust[num] = a
            values[num] = result
        sma.values = values
        for num, _, _ in sops:
            sma.pids[num] = pid
        if new_adjust is not None:
            adjust[:] = new_adjust
        sma.otime = now(self.kernel)
        return None

    def _undo_of(self, pid: int, sma: SemSet) -> list[int]:
        """find_alloc_undo: this process's adjustments for sma, made on first use."""
        sets = self.undo.setdefault(pid, {})
        adjust = sets.get(sma.perm.id)
        if adjust is None:
            adjust = sets[sma.perm.id] = [0] * len(sma.values)
        return adjust

    def update_queue(self, sma: SemSet) -> None:
        """Perform the queued operations that can now go on, oldest first, and wake
        their threads; after one that changed values, start again from the oldest."""
        again = True
        while again:
            again = False
            for w in list(sma.pending):
                try:
                    blocking = self._perform(sma, w.sops, w.pid, w.undo)
                except KernelError as e:
                    w.result = -e.errno
                    blocking = None
                if blocking is not None:
                    w.blocking = blocking[:2]
                    continue
                if w.result is None:
                    w.result = 0
                sma.pending.remove(w)
                if w.result == 0 and any(op for _, op, _ in w.sops):
                    again = True
                    break
        sma.queue.wake_all()

    # ---- semctl ------------------------------------------------------------------------

    def info(self, cmd: int) -> bytes:
        """struct seminfo for IPC_INFO, or SEM_INFO's (sets in use, semaphores)."""
        if cmd == I.SEM_INFO:
            usz, aem = len(self.ids), self.used_sems
        else:
            usz, aem = I.SEMUSZ, I.SEMAEM
        return I.SEMINFO.pack(I.SEMMNS, I.SEMMNI, I.SEMMNS, I.SEMMNU, I.SEMMSL, I.SEMOPM,
                              I.SEMUME, usz, I.SEMVMX, aem)

    @staticmethod
    def stat(sma: SemSet) -> bytes:
        return I.SEMID64_DS.pack(*sma.perm.pack(), sma.otime, 0, sma.ctime, 0,
                                 len(sma.values), 0, 0)

    def find_for(self, t, semid: int, access: int) -> SemSet:
        """The set, EINVAL when there is none; EACCES without access."""
        if semid < 0:
            raise KernelError(EINVAL)
        sma = self.ids.find(semid)
        check_perms(sma.perm, t.process.cred, access)
        return sma

    def _clear_undo(self, sma: SemSet, semnum: int | None) -> None:
        """SETVAL/SETALL: every process's adjustment of the semaphores set is 0."""
        for sets in self.undo.values():
            adjust = sets.get(sma.perm.id)
            if adjust is not None:
                if semnum is None:
                    adjust[:] = [0] * len(adjust)
                else:
                    adjust[semnum] = 0

    def setval(self, t, semid: int, semnum: int, val: int) -> None:
        """semctl_setval: ERANGE before the set is looked up, as Linux checks."""
        if val > I.SEMVMX or val < 0:
            raise KernelError(ERANGE)
        if semid < 0:
            raise KernelError(EINVAL)
        sma = self.ids.find(semid)
        if semnum < 0 or semnum >= len(sma.values):
            raise KernelError(EINVAL)
        check_perms(sma.perm, t.process.cred, I.S_IWUGO)
        self._clear_undo(sma, semnum)
        sma.values[semnum] = val
        sma.pids[semnum] = t.process.pid
        sma.ctime = now(self.kernel)
        self.update_queue(sma)

    def setall(self, t, sma: SemSet, values: list[int]) -> None:
        if any(v > I.SEMVMX for v in values):
            raise KernelError(ERANGE)
        self._clear_undo(sma, None)
        sma.values = list(values)
        sma.pids = [t.process.pid] * len(values)
        sma.ctime = now(self.kernel)
        self.update_queue(sma)

    def set(self, t, semid: int, ds: tuple) -> None:
        """IPC_SET from a read semid64_ds."""
        if semid < 0:
            raise KernelError(EINVAL)
        sma = self.ids.find(semid)
        sma.perm.may_change(t.process.cred)
        sma.perm.set_from(ds)
        sma.ctime = now(self.kernel)

    def remove(self, t, semid: int) -> None:
        """IPC_RMID (freeary): waiters fail with EIDRM, undo entries go."""
        if semid < 0:
            raise KernelError(EINVAL)
        sma = self.ids.find(semid)
        sma.perm.may_change(t.process.cred)
        self.ids.remove(sma)
        self.used_sems -= len(sma.values)
        for sets in self.undo.values():
            sets.pop(semid, None)
        for w in sma.pending:
            w.result = -EIDRM
        sma.pending.clear()
        sma.queue.wake_all()

    # ---- exit ----------------------------------------------------------------------------

    def exit_process(self, process) -> None:
        """exit_sem: add each adjustment to its semaphore (clamped to 0..SEMVMX),
        the exiting process the last to change it; waiters that can go on then do."""
        sets = self.undo.pop(process.pid, None)
        if not sets:
            return
        for semid, adjust in sets.items():
            try:
                sma = self.ids.find(semid)
            except KernelError:
                continue
            for i, a in enumerate(adjust):
                if a:
                    sma.values[i] = min(max(sma.values[i] + a, 0), I.SEMVMX)
                    sma.pids[i] = process.pid
            self.update_queue(sma)

    # ---- /proc/sysvipc/sem -----------------------------------------------------------------

    def proc_text(self) -> bytes:
        """/proc/sysvipc/sem as sysvipc_sem_proc_show prints it."""
        lines = [b"       key      semid perms      nsems   uid   gid  cuid  cgid      otime"
                 b"      ctime\n"]
        for index in sorted(self.ids.objects):
            sma = self.ids.objects[index]
            p = sma.perm
            lines.append(b"%10d %10d  %4o %10u %5u %5u %5u %5u %10d %10d\n" % (
                p.key, p.id, p.mode, len(sma.values), p.uid, p.gid, p.cuid, p.cgid,
                sma.otime, sma.ctime))
        return b"".join(lines)
