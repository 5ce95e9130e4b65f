"""Futexes: the kernel's table of threads waiting on a 32-bit word in guest memory
(Linux's kernel/futex/: core.c, waitwake.c, requeue.c).

A waiter is keyed by what the word is: a private futex (FUTEX_PRIVATE_FLAG) by its
address space and address, a shared one by the memory behind the word
(AddressSpace.futex_identity: a file's inode and offset, a SharedMemory object and
offset, as Linux keys by inode and page offset), so every mapping of the same pages,
in one process or several, meets on one key.
Each key has a WaitQueue whose waiters are parked threads, oldest first; a waiter
carries its bitset (`t.futex_bitset`) and is told it was woken (`t.futex_woken`, the
key it was woken through, false until then), which is what its FUTEX_WAIT returns 0
on: a woken waiter does not look at the word again, exactly as in Linux. A
futex_waitv waiter is parked on the queues of all its keys at once and answers the
index of the key it was woken through.

Operations return what futex(2) returns and raise KernelError as it fails; a wait
raises WouldBlock (pyunik/wait.py) after checking the word, so the check and the
parking are one step, as Linux's hash-bucket lock makes them.

Layer: kernel. Called by kernel/syscalls/futex.py and by thread exit (the
clear_child_tid wake, robust lists); calls mm/ for the word and the key.
"""

from __future__ import annotations

from errno import EAGAIN, EINVAL, ENOSYS, ETIMEDOUT

from ..abi import syscall_numbers as N
from ..abi.futex import (FUTEX_BITSET_MATCH_ANY, FUTEX_PRIVATE_FLAG, FUTEX_WAIT, FUTEX_WAKE,
                         FUTEX_OP_ADD, FUTEX_OP_ANDN, FUTEX_OP_CMP_EQ, FUTEX_OP_CMP_GE,
                         FUTEX_OP_CMP_GT, FUTEX_OP_CMP_LE, FUTEX_OP_CMP_LT, FUTEX_OP_CMP_NE,
                         FUTEX_OP_OPARG_SHIFT, FUTEX_OP_OR, FUTEX_OP_SET, FUTEX_OP_XOR)
from ..abi.posix_types import UINT     # a futex word is a 32-bit unsigned int
from ..errors import KernelError
from ..wait import WaitQueue, WouldBlock
from .sched import Blocked


def load(mm, addr: int) -> int:
    """The futex word at addr: EINVAL unless 4-aligned, EFAULT when unreadable."""
    if addr & 3:
        raise KernelError(EINVAL)
    return UINT.unpack(mm.read(addr, UINT.size))[0]


def store(mm, addr: int, value: int) -> None:
    mm.write(addr, UINT.pack(value & 0xFFFFFFFF))


def _wake_waiter(w) -> None:
    w.wake()


def _signed(v: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return (v & (sign - 1)) - (v & sign)


class FutexTable:
    """Waiters by key. `queues` holds only keys with waiters: a queue is dropped
    where it is left empty, by a wake, a requeue, or a waiter leaving (a timeout,
    a signal; must_wait's and FutexWait's retry, and their on_interrupt)."""

    def __init__(self, wake_thread=None):
        self.queues: dict[tuple, WaitQueue] = {}
        # how a waiter taken off its queue is made runnable: the scheduler's wake
        # (Kernel passes it), else the waiter's own wake()
        self._wake_thread = wake_thread if wake_thread is not None else _wake_waiter
        # FUTEX_WAIT_REQUEUE_PI waiters by their first key, kept by kernel/futex_pi.py:
        # a plain wake or requeue that meets them fails (EINVAL)
        self.pi_requeue_waiters: dict[tuple, WaitQueue] = {}
        # The queue a FUTEX_WAKE last emptied and dropped, for futex(2)'s fast wait
        # to use again (a ping-pong between two threads then makes none)
        self.spare: WaitQueue | None = None

    # ---- keys ------------------------------------------------------------------------

    @staticmethod
    def key(mm, addr: int, private: bool) -> tuple:
        """get_futex_key: EINVAL unless aligned; a shared futex is keyed by the
        memory behind it, EFAULT when the address is not mapped."""
        if addr & 3:
            raise KernelError(EINVAL)
        if private:
            return (id(mm), addr)
        return mm.futex_identity(addr)

    def _queue(self, key) -> WaitQueue:
        q = self.queues.get(key)
        if q is None:
            q = self.queues[key] = WaitQueue("a futex")
        return q

    def _tidy(self, key) -> None:
        q = self.queues.get(key)
        if q is not None and not q.waiters:
            del self.queues[key]

    # ---- wait and wake ---------------------------------------------------------------

    def wait(self, t, key, addr: int, val: int, bitset: int, deadline: int | None) -> int:
        """FUTEX_WAIT(_BITSET): EAGAIN if the word is not val, else park until a wake
        (0) or the deadline (ETIMEDOUT)."""
        raise self.must_wait(t, key, addr, val, bitset, deadline)

    def must_wait(self, t, key, addr: int, val: int, bitset: int,
                  deadline: int | None) -> WouldBlock:
        """`wait`'s checks and set-up; returns the WouldBlock that wait raises (EAGAIN
        and EINVAL raise KernelError)."""
        if bitset == 0:
            raise KernelError(EINVAL)
        if load(t.mm, addr) != val & 0xFFFFFFFF:
            raise KernelError(EAGAIN)
        t.futex_bitset = bitset
        t.futex_woken = False
        t.futex_key = key
        queue = self._queue(key)

        def retry(timed_out: bool) -> int:
            if t.futex_woken:
                return 0
            self._tidy(t.futex_key)
            if timed_out:
                raise KernelError(ETIMEDOUT)
            raise WouldBlock((self._queue(t.futex_key),), deadline, retry=retry,
                             what="a futex", on_interrupt=left)

        def left() -> None:
            self._tidy(t.futex_key)          # a signal ended the wait: EINTR or a restart
            if deadline is not None:
                # futex_wait_restart: the word checked again, the same deadline
                t.restart_block = ["", lambda: self.wait(t, key, addr, val, bitset, deadline)]
        return WouldBlock((queue,), deadline, retry=retry, what="a futex")

    def wait_multiple(self, t, waits: list, deadline: int | None) -> int:
        """futex_waitv: waits holds (key, addr, val) in the caller's order, keys all
        taken; EAGAIN (or EFAULT) at the first word that is not its val, else park
        on every key until a wake (the index of the key it came through) or the
        deadline (ETIMEDOUT)."""
        for _, addr, val in waits:
            if load(t.mm, addr) != val:
                raise KernelError(EAGAIN)
        keys = [key for key, _, _ in waits]
        t.futex_bitset = 0xFFFFFFFF
        t.futex_woken = False
        t.futex_key = None
        t.futex_vector = keys

        def queues():
            return tuple(self._queue(key) for key in dict.fromkeys(keys))

        def retry(timed_out: bool) -> int:
            woken = t.futex_woken
            if woken:
                t.futex_vector = None
                return keys.index(woken)
            left()
            if timed_out:
                t.futex_vector = None
                raise KernelError(ETIMEDOUT)
            raise WouldBlock(queues(), deadline, retry=retry, what="futexes",
                             on_interrupt=left)

        def left() -> None:
            for key in keys:
                self._tidy(key)
        raise WouldBlock(queues(), deadline, retry=retry, what="futexes")

    def wake(self, key, n: int, bitset: int = 0xFFFFFFFF) -> int:
        """Wake waiters on key whose bitset meets bitset, oldest first, stopping once
        n are woken but waking one even for n <= 0 (futex_wake's loop)."""
        if bitset == 0:
            raise KernelError(EINVAL)
        q = self.queues.get(key)
        if q is None:
            return 0
        waiters = q.waiters
        count = 0
        if bitset == 0xFFFFFFFF:        # FUTEX_WAKE's: it meets every waiter's (never 0)
            wake_thread = self._wake_thread
            while waiters:
                w = waiters.pop(0)
                w.futex_woken = key
                wake_thread(w)
                count += 1
                if count >= n:
                    break
        else:
            for w in list(waiters):
                if w.futex_bitset & bitset:
                    waiters.remove(w)
                    w.futex_woken = key
                    w.wake()
                    count += 1
                    if count >= n:
                        break
        if not waiters:
            del self.queues[key]
            self.spare = q              # for futex(2)'s fast wait to use again
        return count

    def requeue(self, key1, key2, nwake: int, nrequeue: int) -> int:
        """FUTEX_(CMP_)REQUEUE: wake nwake waiters of key1, move up to nrequeue of the
        rest to key2; returns how many were woken plus moved."""
        if nwake < 0 or nrequeue < 0:
            raise KernelError(EINVAL)
        woken = self.wake(key1, nwake) if nwake > 0 else 0
        q1 = self.queues.get(key1)
        moved = 0
        if q1 is not None and key1 != key2:
            q2 = self._queue(key2)
            while q1.waiters and moved < nrequeue:
                w = q1.waiters.pop(0)
                q2.add(w)
                w.futex_key = key2
                # a futex_waitv waiter keeps its other queues
                w.blocked.wait.queues = tuple(q2 if q is q1 else q
                                              for q in w.blocked.wait.queues)
                vector = getattr(w, "futex_vector", None)
                if vector is not None and key1 in vector:
                    vector[vector.index(key1)] = key2
                moved += 1
            self._tidy(key1)
            self._tidy(key2)
        elif q1 is not None:
            moved = min(nrequeue, len(q1.waiters))
        return woken + moved

    def wake_op(self, mm, key1, key2, addr2: int, n1: int, n2: int, encoded: int) -> int:
        """FUTEX_WAKE_OP: the atomic operation on the word at addr2 (its old value
        compared with cmparg), then wake n1 on key1 and, if the comparison held, n2
        on key2."""
        op = (encoded >> 28) & 7
        cmp = (encoded >> 24) & 15
        oparg = _signed((encoded >> 12) & 0xFFF, 12)
        cmparg = _signed(encoded & 0xFFF, 12)
        if encoded & (FUTEX_OP_OPARG_SHIFT << 28):
            oparg = 1 << (oparg & 31)         # Linux masks a shift out of 0..31
        old = load(mm, addr2)
        if op == FUTEX_OP_SET:
            new = oparg
        elif op == FUTEX_OP_ADD:
            new = old + oparg
        elif op == FUTEX_OP_OR:
            new = old | oparg
        elif op == FUTEX_OP_ANDN:
            new = old & ~oparg
        elif op == FUTEX_OP_XOR:
            new = old ^ oparg
        else:
            raise KernelError(ENOSYS)
        store(mm, addr2, new)
        old = _signed(old, 32)
        if cmp == FUTEX_OP_CMP_EQ:
            hit = old == cmparg
        elif cmp == FUTEX_OP_CMP_NE:
            hit = old != cmparg
        elif cmp == FUTEX_OP_CMP_LT:
            hit = old < cmparg
        elif cmp == FUTEX_OP_CMP_LE:
            hit = old <= cmparg
        elif cmp == FUTEX_OP_CMP_GT:
            hit = old > cmparg
        elif cmp == FUTEX_OP_CMP_GE:
            hit = old >= cmparg
        else:
            raise KernelError(ENOSYS)
        woken = self.wake(key1, n1)
        if hit:
            woken += self.wake(key2, n2)
        return woken


NR_FUTEX = N.NUMBERS["futex"]


class FutexWait(WouldBlock):
    """What a thread's untimed FUTEX_WAIT waits for when futex(2)'s fast invoker
    parks it: one per thread (with the Blocked record holding it,
    `Thread.futex_parked`), made at its first such wait and used again by each
    one after, whose queue it is given then. Its retry is must_wait's: 0 once
    woken, else the wait goes on (a new WouldBlock, as must_wait's retry raises)."""

    def __init__(self, table: "FutexTable", t):
        super().__init__((), None, retry=self._retry, what="a futex")
        self._table = table
        self._thread = t

    def _retry(self, timed_out: bool) -> int:
        t = self._thread
        if t.futex_woken:
            return 0
        table = self._table
        table._tidy(t.futex_key)
        if timed_out:
            raise KernelError(ETIMEDOUT)
        raise WouldBlock((table._queue(t.futex_key),), None, retry=self._retry, what="a futex",
                         on_interrupt=self._left)

    def _left(self) -> None:
        """A signal ended the wait (EINTR or a restart): the queue goes if empty."""
        self._table._tidy(self._thread.futex_key)


def parking_invoker(table: FutexTable, sched, invoke):
    """futex(2)'s invoker in the kernel's fast dispatcher (Kernel._first_call): the
    common calls in the fewest steps, with the answers sys_futex gives them.

    FUTEX_WAKE (while no requeue-PI waiter could meet it) is FutexTable.wake with
    every bit set, its key made here.
    An untimed FUTEX_WAIT that must wait is parked with its thread's own
    FutexWait and Blocked record (`Thread.futex_parked`, made at its first wait)
    and Scheduler.park, the dispatcher's own answer to a WouldBlock without one:
    no exception raised and unwound, no objects made per wait; a signal that ends
    the wait, EINTR and restarts are decided where they are for any call. Every
    other futex call is invoke's (sys_futex, registers decoded as its table row
    says: the operation and the value as 32 bits)."""
    queues = table.queues
    park = sched.park
    wake = table.wake

    def invoke_futex(t, regs):
        op = regs[2] & 0xFFFFFFFF
        cmd = op & ~FUTEX_PRIVATE_FLAG
        if cmd == FUTEX_WAKE:
            if table.pi_requeue_waiters:
                return invoke(t, regs)
            uaddr = regs[1]
            if op & FUTEX_PRIVATE_FLAG:
                if uaddr & 3:
                    return -EINVAL
                key = (id(t.process.mm), uaddr)
            else:
                try:
                    key = table.key(t.process.mm, uaddr, False)
                except KernelError as e:
                    return -e.errno
            # the value is an int: below 1 wakes one (futex_wake's loop)
            return wake(key, (regs[3] & 0xFFFFFFFF ^ 0x80000000) - 0x80000000)
        if cmd != FUTEX_WAIT or regs[4]:
            return invoke(t, regs)
        uaddr = regs[1]
        if uaddr & 3:
            return -EINVAL
        mm = t.process.mm
        try:
            key = (id(mm), uaddr) if op & FUTEX_PRIVATE_FLAG else mm.futex_identity(uaddr)
            word = mm.read_int(uaddr, UINT)
        except KernelError as e:
            return -e.errno
        if word != regs[3] & 0xFFFFFFFF:
            return -EAGAIN
        t.futex_bitset = FUTEX_BITSET_MATCH_ANY
        t.futex_woken = False
        t.futex_key = key
        q = queues.get(key)
        if q is None:
            q = table.spare
            if q is None or q.waiters:
                q = WaitQueue("a futex")
            else:
                table.spare = None
            queues[key] = q
        b = t.futex_parked
        if b is None:
            b = t.futex_parked = Blocked(invoke, regs, FutexWait(table, t), None)
        else:
            b.invoke = invoke
            b.regs = regs
            b.timed_out = b.interrupted = False
        b.wait.queues = (q,)
        q.waiters.append(t)
        return park(t, b)
    return invoke_futex
