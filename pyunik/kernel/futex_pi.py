"""Priority-inheritance futexes: FUTEX_LOCK_PI(2), FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI,
FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI (Linux's kernel/futex/pi.c and the
requeue-PI half of requeue.c).

The futex word of a PI lock is Linux's protocol, which user space relies on: 0 when
free, else the owner's TID (FUTEX_TID_MASK) with FUTEX_WAITERS set while the kernel
knows of waiters (so the owner's unlock must come to the kernel) and FUTEX_OWNER_DIED
when the owner died holding it. User space takes and releases an uncontended lock
with a compare-and-exchange of its own; the kernel is asked only when that fails.

A contended lock has a PiState (Linux's futex_pi_state and its rt_mutex): the owning
thread and the waiters, oldest first. A state lives while it has waiters; an unlock
hands the lock to the first of them (the word becomes FUTEX_WAITERS | its TID, as
wake_futex_pi writes it), and a thread that dies owning a state hands it on the same
way after its robust list was walked (exit_pi_state_list), the new owner's word
then carrying FUTEX_OWNER_DIED. Priority inheritance itself does nothing in pyunik: there
is one CPU and no priorities that order the run queue, so a lock's owner never runs
later for having a waiter of higher priority; waiters are served in arrival order
(Linux's order among waiters of equal priority).

FUTEX_WAIT_REQUEUE_PI waits on a plain futex (a condition variable's word) for a
FUTEX_CMP_REQUEUE_PI that either gives it the PI lock at once or moves it onto the
lock's waiters. Those waiters are kept here (`requeue_waiters`, the dict the futex
table holds as `pi_requeue_waiters`), apart from kernel/futex.py's plain ones; a plain
wake or requeue that finds them fails with EINVAL, as Linux's does
(kernel/syscalls/futex.py asks `has_requeue_waiters`).

Restarts as Linux: a signal that interrupts a LOCK_PI or a WAIT_REQUEUE_PI not yet
requeued restarts it after the handler whatever SA_RESTART says (ERESTARTNOINTR,
kernel/delivery.py); one that interrupts a requeued waiter makes the call fail with
EAGAIN (futex_wait_requeue_pi saves the restart that would find the word changed).

Layer: kernel. Called by kernel/syscalls/futex.py and by thread exit
(kernel/threads.py release_futexes); calls kernel/futex.py for keys and words, mm/
through them.
"""

from __future__ import annotations

from errno import EAGAIN, EDEADLK, EINVAL, EPERM, ESRCH, ETIMEDOUT

from ..abi.futex import FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS
from ..abi.posix_types import UINT
from ..errors import KernelError
from ..wait import WaitQueue, WouldBlock
from .futex import load, store
from .process import live_thread


class PiState:
    """One contended PI lock: `owner` holds it, `queue` holds its waiters (parked
    threads, oldest first). Guarded by nothing: pyunik's kernel runs one call at a
    time, which is what the hash-bucket and wait_lock locks give Linux."""

    __slots__ = ("key", "owner", "queue")

    def __init__(self, key, owner):
        self.key = key
        self.owner = owner
        self.queue = WaitQueue("a PI futex")


class PiFutexes:
    """The kernel's PI locks (`states`, by futex key) and its requeue-PI waiters
    still on their first futex (`requeue_waiters`, by that futex's key)."""

    def __init__(self, table):
        self.table = table                 # kernel/futex.py's FutexTable: keys, plain waiters
        self.states: dict[tuple, PiState] = {}
        self.requeue_waiters: dict[tuple, WaitQueue] = table.pi_requeue_waiters

    def has_requeue_waiters(self, key) -> bool:
        q = self.requeue_waiters.get(key)
        return q is not None and bool(q.waiters)

    def _state(self, key) -> PiState | None:
        """The lock's PiState while it has waiters (a waiter that left by dying, which
        takes it off every queue, may have left one empty)."""
        state = self.states.get(key)
        if state is not None and not state.queue.waiters:
            del self.states[key]
            return None
        return state

    def _tidy(self, key) -> None:
        state = self.states.get(key)
        if state is not None and not state.queue.waiters:
            del self.states[key]

    def _tidy_requeue(self, key) -> None:
        q = self.requeue_waiters.get(key)
        if q is not None and not q.waiters:
            del self.requeue_waiters[key]

    def _foreign_waiters(self, key) -> bool:
        """A waiter on key that is not a PI waiter: Linux's top waiter without a
        pi_state, which makes a PI operation fail with EINVAL."""
        return bool(self.table.queues.get(key)) or self.has_requeue_waiters(key)

    # ---- taking the lock -----------------------------------------------------------

    def _lock_atomic(self, kernel, mm, uaddr: int, key, task, set_waiters: bool) -> bool:
        """futex_lock_pi_atomic for task: True when task now owns the lock (the word
        is its TID), False when the lock has a PiState task must wait on."""
        uval = load(mm, uaddr)
        if uval & FUTEX_TID_MASK == task.tid:
            raise KernelError(EDEADLK)
        state = self._state(key)
        if state is not None:                                   # attach_to_pi_state
            pid = uval & FUTEX_TID_MASK
            if uval & FUTEX_OWNER_DIED and not pid:
                return False
            if state.owner is None or pid != state.owner.tid:
                raise KernelError(EINVAL)                       # the word was tampered with
            return False
        if self._foreign_waiters(key):
            raise KernelError(EINVAL)
        if not uval & FUTEX_TID_MASK:
            # Free (a robust owner's death leaves FUTEX_OWNER_DIED, which is kept).
            store(mm, uaddr, (uval & FUTEX_OWNER_DIED) | task.tid |
                  (FUTEX_WAITERS if set_waiters else 0))
            if set_waiters:
                self.states[key] = PiState(key, task)
            return True
        # Contended: the waiters bit first, then the owner is looked for
        # (attach_to_pi_owner); a dead one leaves the bit set and answers ESRCH.
        store(mm, uaddr, uval | FUTEX_WAITERS)
        owner = live_thread(kernel, uval & FUTEX_TID_MASK)
        if owner is None:
            raise KernelError(ESRCH)
        self.states[key] = PiState(key, owner)
        return False

    def lock(self, t, uaddr: int, private: bool, deadline: int | None,
             trylock: bool = False) -> int:
        """FUTEX_LOCK_PI(2) and FUTEX_TRYLOCK_PI: 0 once t owns the lock; EAGAIN for
        a trylock of a held lock; ETIMEDOUT at the (absolute) deadline."""
        key = self.table.key(t.mm, uaddr, private)
        if self._lock_atomic(t.process.kernel, t.mm, uaddr, key, t, False):
            return 0
        state = self.states[key]
        if trylock:
            self._tidy(key)
            raise KernelError(EAGAIN)
        t.pi_uaddr = uaddr
        t.pi_blocked_on = state
        return self._lock_waiter(t, state, deadline, None)(False)

    def _lock_waiter(self, t, state: PiState, deadline: int | None, interrupted):
        """The retry of t parked among state's waiters (rt_mutex_wait_proxy_lock):
        0 once it was handed the lock, ETIMEDOUT at the deadline (t then leaves the
        waiters), else it parks (again); interrupted() gives the answer to a signal
        (None: the dispatcher restarts the call)."""

        def leave():
            state.queue.remove(t)
            t.pi_blocked_on = None
            self._tidy(state.key)
            return interrupted() if interrupted is not None else None

        def retry(timed_out: bool) -> int:
            if state.owner is t:
                t.pi_blocked_on = None
                return 0
            if timed_out:
                leave()
                raise KernelError(ETIMEDOUT)
            raise WouldBlock((state.queue,), deadline, retry=retry, what="a PI futex",
                             on_interrupt=leave)
        return retry

    # ---- releasing it --------------------------------------------------------------

    def unlock(self, t, uaddr: int, private: bool) -> int:
        """FUTEX_UNLOCK_PI: EPERM unless the word names t; the first waiter gets the
        lock, or the word becomes 0 (neither FUTEX_WAITERS nor FUTEX_OWNER_DIED is
        kept)."""
        uval = UINT.unpack(t.mm.read(uaddr, UINT.size))[0]      # get_user: before the key
        if uval & FUTEX_TID_MASK != t.tid:
            raise KernelError(EPERM)
        key = self.table.key(t.mm, uaddr, private)
        state = self._state(key)
        if state is None:
            if self._foreign_waiters(key):
                raise KernelError(EINVAL)
            store(t.mm, uaddr, 0)
            return 0
        if state.owner is not t:
            raise KernelError(EINVAL)
        heir = state.queue.waiters[0]
        store(t.mm, uaddr, FUTEX_WAITERS | heir.tid)            # wake_futex_pi
        self._hand_over(state, heir)
        return 0

    def _hand_over(self, state: PiState, heir) -> None:
        state.owner = heir
        state.queue.remove(heir)
        self._tidy(state.key)
        heir.wake()

    def exit_thread(self, t) -> None:
        """exit_pi_state_list: each lock t dies owning goes to its first waiter, whose
        word becomes FUTEX_OWNER_DIED | FUTEX_WAITERS | its TID, robust list or not
        (fixup_pi_state_owner marks a lock taken over from no owner)."""
        for state in [s for s in self.states.values() if s.owner is t and s.queue.waiters]:
            heir = state.queue.waiters[0]
            try:
                store(heir.mm, heir.pi_uaddr, FUTEX_OWNER_DIED | FUTEX_WAITERS | heir.tid)
            except KernelError:
                pass                  # the waiter finds out when it touches the word
            self._hand_over(state, heir)

    # ---- requeue-PI ----------------------------------------------------------------

    def wait_requeue(self, t, uaddr: int, val: int, uaddr2: int, private: bool,
                     deadline: int | None) -> int:
        """FUTEX_WAIT_REQUEUE_PI: wait on the plain futex at uaddr (EAGAIN unless it
        holds val) until a FUTEX_CMP_REQUEUE_PI to uaddr2 gives t that PI lock, 0."""
        if uaddr == uaddr2:
            raise KernelError(EINVAL)
        mm = t.mm
        key2 = self.table.key(mm, uaddr2, private)
        key = self.table.key(mm, uaddr, private)
        if load(mm, uaddr) != val & 0xFFFFFFFF:
            raise KernelError(EAGAIN)
        if key == key2:
            raise KernelError(EINVAL)
        q = self.requeue_waiters.get(key)
        if q is None:
            q = self.requeue_waiters[key] = WaitQueue("a futex (requeue to PI)")
        t.pi_requeue = (key, key2)               # (waiting on, to be requeued to)
        t.pi_uaddr = uaddr2
        t.pi_got_lock = False                    # handed the lock by the requeue
        t.pi_blocked_on = None                   # the PiState once requeued

        def leave():
            q.remove(t)
            t.pi_requeue = None
            self._tidy_requeue(key)

        def retry(timed_out: bool) -> int:
            if t.pi_got_lock:                    # Q_REQUEUE_PI_LOCKED
                t.pi_got_lock = False
                return 0
            state = t.pi_blocked_on
            if state is not None:                # Q_REQUEUE_PI_DONE: now a lock waiter
                return self._lock_waiter(t, state, deadline, lambda: -EAGAIN)(timed_out)
            if timed_out:
                leave()
                raise KernelError(ETIMEDOUT)
            raise WouldBlock((q,), deadline, retry=retry, what="a futex (requeue to PI)",
                             on_interrupt=leave)
        raise WouldBlock((q,), deadline, retry=retry, what="a futex (requeue to PI)",
                         on_interrupt=leave)

    def cmp_requeue(self, t, uaddr: int, uaddr2: int, private: bool, nr_wake: int,
                    nr_requeue: int, cmpval: int) -> int:
        """FUTEX_CMP_REQUEUE_PI: if the word at uaddr is cmpval, the first waiter takes
        the PI lock at uaddr2 when it is free and is woken; the others, up to
        nr_requeue (and the first when the lock was held), become the lock's
        waiters. Returns how many were woken plus moved."""
        if nr_wake < 0 or nr_requeue < 0 or uaddr == uaddr2 or nr_wake != 1:
            raise KernelError(EINVAL)
        mm = t.mm
        key = self.table.key(mm, uaddr, private)
        key2 = self.table.key(mm, uaddr2, private)
        if key == key2:
            raise KernelError(EINVAL)
        if load(mm, uaddr) != cmpval:
            raise KernelError(EAGAIN)
        load(mm, uaddr2)                                        # EFAULT before anything
        q = self.requeue_waiters.get(key)
        if q is None or not q.waiters:
            if self.table.queues.get(key):
                raise KernelError(EINVAL)        # plain waiters met by a requeue-PI
            return 0
        top = q.waiters[0]
        if top.pi_requeue[1] != key2:
            raise KernelError(EINVAL)
        count = 0
        if self._lock_atomic(t.process.kernel, mm, uaddr2, key2, top, nr_requeue > 0):
            q.remove(top)
            top.pi_requeue = None
            top.pi_got_lock = True
            top.wake()
            count = 1
        state = self.states.get(key2)
        for w in list(q.waiters):
            if count - nr_wake >= nr_requeue:
                break
            if w.pi_requeue[1] != key2:
                self._tidy_requeue(key)
                raise KernelError(EINVAL)
            q.remove(w)
            state.queue.add(w)
            w.blocked.wait.queues = (state.queue,)
            w.pi_requeue = None
            w.pi_blocked_on = state
            count += 1
        self._tidy_requeue(key)
        self._tidy(key2)
        return count

