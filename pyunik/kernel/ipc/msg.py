"""System V message queues: msgget, msgsnd, msgrcv, msgctl (Linux's ipc/msg.c).

A `MessageQueue` keeps its messages in arrival order as (type, text) pairs and two
wait queues: senders waiting for room (the queue holds at most msg_qbytes bytes and
msg_qbytes messages) and receivers waiting for a message of the type they ask for.
A send wakes the receivers and a receive the senders; each woken thread runs its
call again (so a message goes to whichever woken receiver runs first, where Linux
hands it to the oldest waiting receiver that wants it). msgrcv's type selects as
Linux's convert_mode: 0 any, > 0 that type (or any other with MSG_EXCEPT), < 0 the
lowest type up to -msgtyp; MSG_COPY copies the message at position msgtyp without
removing it. A removed queue wakes its waiters with EIDRM.

Layer: kernel. Called by kernel/syscalls/ipc.py; calls kernel/ipc/__init__.py and
pyunik/wait.py.
"""

from __future__ import annotations

from errno import E2BIG, EAGAIN, EIDRM, EINVAL, ENOMSG, EPERM

from ...abi import ipc as I
from ...abi.capability import CAP_SYS_RESOURCE
from ...errors import KernelError
from ...wait import WaitQueue, WouldBlock
from . import IdTable, IpcPerm, check_perms, host_budget, now



class MessageQueue:
    """struct msg_queue."""

    def __init__(self, perm: IpcPerm, ctime: int):
        self.perm = perm
        self.messages: list[tuple[int, bytes]] = []   # (mtype, mtext), oldest first
        self.cbytes = 0                  # bytes of text queued
        self.qbytes = I.MSGMNB           # the most it may hold
        self.stime = self.rtime = 0
        self.ctime = ctime
        self.lspid = self.lrpid = 0
        self.senders = WaitQueue("room in a message queue")
        self.receivers = WaitQueue("a message")


class MessageQueues:
    """The kernel's message queues (msg_ids)."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.ids = IdTable(I.MSGMNI)
        self.queued = 0          # bytes of text in every queue (bounded: host_budget)

    def msgget(self, t, key: int, flags: int) -> int:
        cred = t.process.cred
        return self.ids.get_or_create(key, flags, cred,
                                      lambda: MessageQueue(IpcPerm(key, cred, flags),
                                                                   now(self.kernel)))

    def _live(self, t, msq: MessageQueue, access: int) -> None:
        """The checks each turn of do_msgsnd's and do_msgrcv's loop makes."""
        check_perms(msq.perm, t.process.cred, access)
        if msq.perm.deleted:
            raise KernelError(EIDRM)

    # ---- msgsnd --------------------------------------------------------------------------

    def msgsnd(self, t, msqid: int, mtype: int, text: bytes, flags: int) -> int:
        """do_msgsnd after the message was read (its size and type checked by the
        caller, before it read the text, as Linux checks)."""
        msq = self.ids.find(msqid)

        def attempt(timed_out: bool = False) -> int:
            self._live(t, msq, I.S_IWUGO)
            if len(text) + msq.cbytes <= msq.qbytes and len(msq.messages) + 1 <= msq.qbytes \
                    and self.queued + len(text) <= host_budget(self.kernel) // 2:
                msq.messages.append((mtype, text))
                msq.cbytes += len(text)
                self.queued += len(text)
                msq.lspid = t.process.pid
                msq.stime = now(self.kernel)
                msq.receivers.wake_all()
                return 0
            if flags & I.IPC_NOWAIT:
                raise KernelError(EAGAIN)
            raise WouldBlock((msq.senders,), retry=attempt, what="room in a message queue")

        return attempt()

    # ---- msgrcv --------------------------------------------------------------------------

    @staticmethod
    def _find(msq: MessageQueue, msgtyp: int, flags: int) -> int | None:
        """find_msg: the index of the message to receive, or None."""
        if flags & I.MSG_COPY:
            return msgtyp if 0 <= msgtyp < len(msq.messages) else None
        if msgtyp == 0:
            return 0 if msq.messages else None
        if msgtyp < 0:
            limit = I.LONG_MAX if msgtyp == I.LONG_MIN else -msgtyp
            best = None
            for i, (mt, _) in enumerate(msq.messages):
                if mt <= limit and (best is None or mt < msq.messages[best][0]):
                    best = i
            return best
        for i, (mt, _) in enumerate(msq.messages):
            if (mt != msgtyp) if flags & I.MSG_EXCEPT else (mt == msgtyp):
                return i
        return None

    def msgrcv(self, t, msqid: int, size: int, msgtyp: int, flags: int, deliver) -> int:
        """do_msgrcv: take the message (or copy it, MSG_COPY), its text cut to size
        with MSG_NOERROR (E2BIG without it, the message left queued), and return
        deliver(mtype, text): what the caller's copy to the guest returns (after a
        wait too, so the copy is part of the call)."""
        if msqid < 0 or size < 0:
            raise KernelError(EINVAL)
        if flags & I.MSG_COPY and (flags & I.MSG_EXCEPT or not flags & I.IPC_NOWAIT):
            raise KernelError(EINVAL)
        msq = self.ids.find(msqid)

        def attempt(timed_out: bool = False) -> int:
            self._live(t, msq, I.S_IRUGO)
            i = self._find(msq, msgtyp, flags)
            if i is None:
                if flags & I.IPC_NOWAIT:
                    raise KernelError(ENOMSG)
                raise WouldBlock((msq.receivers,), retry=attempt, what="a message")
            mtype, text = msq.messages[i]
            if len(text) > size and not flags & I.MSG_NOERROR:
                raise KernelError(E2BIG)
            if not flags & I.MSG_COPY:
                del msq.messages[i]
                msq.cbytes -= len(text)
                self.queued -= len(text)
                msq.rtime = now(self.kernel)
                msq.lrpid = t.process.pid
                msq.senders.wake_all()
            return deliver(mtype, text[:size])

        return attempt()

    # ---- msgctl --------------------------------------------------------------------------

    def info(self, cmd: int) -> bytes:
        """struct msginfo for IPC_INFO, or MSG_INFO's (queues, messages, bytes in use)."""
        pool, mmap, tql = I.MSGPOOL, I.MSGMAP, I.MSGTQL
        if cmd == I.MSG_INFO:
            queues = list(self.ids.objects.values())
            pool = len(queues)
            mmap = sum(len(q.messages) for q in queues)
            tql = sum(q.cbytes for q in queues)
        return I.MSGINFO.pack(pool, mmap, I.MSGMAX, I.MSGMNB, I.MSGMNI, I.MSGSSZ, tql,
                              I.MSGSEG)

    @staticmethod
    def stat(msq: MessageQueue) -> bytes:
        return I.MSQID64_DS.pack(*msq.perm.pack(), msq.stime, msq.rtime, msq.ctime,
                                 msq.cbytes, len(msq.messages), msq.qbytes, msq.lspid,
                                 msq.lrpid, 0, 0)

    def set(self, t, msqid: int, ds: tuple) -> None:
        """IPC_SET from a read msqid64_ds: owner, mode and msg_qbytes (past MSGMNB
        only with CAP_SYS_RESOURCE)."""
        qbytes = ds[15]
        msq = self.ids.find(msqid)
        cred = t.process.cred
        msq.perm.may_change(cred)
        if qbytes > I.MSGMNB and not cred.capable(CAP_SYS_RESOURCE):
            raise KernelError(EPERM)
        msq.qbytes = qbytes
        msq.perm.set_from(ds)
        msq.ctime = now(self.kernel)
        msq.senders.wake_all()
        msq.receivers.wake_all()

    def remove(self, t, msqid: int) -> None:
        """IPC_RMID (freeque): its waiters fail with EIDRM."""
        msq = self.ids.find(msqid)
        msq.perm.may_change(t.process.cred)
        self.ids.remove(msq)
        self.queued -= msq.cbytes
        msq.senders.wake_all()
        msq.receivers.wake_all()

    def proc_text(self) -> bytes:
        """/proc/sysvipc/msg as sysvipc_msg_proc_show prints it."""
        lines = [b"       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid"
                 b"  cuid  cgid      stime      rtime      ctime\n"]
        for index in sorted(self.ids.objects):
            q = self.ids.objects[index]
            p = q.perm
            lines.append(b"%10d %10d  %4o  %10d %10d %5u %5u %5u %5u %5u %5u %10d %10d "
                         b"%10d\n" % (p.key, p.id, p.mode, q.cbytes, len(q.messages), q.lspid,
                                      q.lrpid, p.uid, p.gid, p.cuid, p.cgid, q.stime,
                                      q.rtime, q.ctime))
        return b"".join(lines)
