"""futex(2) for a process with one thread.

With one thread there is never a waiter to wake, so the wake family returns 0
woken after doing any side effect the operation has on memory (FUTEX_WAKE_OP's
atomic operation, the PI unlock). A wait whose value matches can only end by its
timeout; one without a timeout could never end, which pyunik reports as a deadlock
and ends the process instead of hanging (Linux would wait for a signal forever).
"""

from __future__ import annotations

import time
from errno import EAGAIN, EDEADLK, EINVAL, ENOSYS, EPERM, ETIMEDOUT

from ...abi.futex import (FUTEX_CLOCK_REALTIME, FUTEX_CMP_REQUEUE, FUTEX_LOCK_PI, FUTEX_LOCK_PI2,
                          FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_TID_MASK, FUTEX_TRYLOCK_PI,
                          FUTEX_UNLOCK_PI, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI,
                          FUTEX_WAITERS, FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP)
from ...abi.posix_types import UINT     # a futex word is a 32-bit unsigned int
from ...errors import KernelError



def _load(t, addr):
    if addr & 3:
        raise KernelError(EINVAL)
    return UINT.unpack(t.mm.read(addr, UINT.size))[0]


def _store(t, addr, value):
    t.mm.write(addr, UINT.pack(value & 0xFFFFFFFF))


def _wait(t, deadline_ns, clock):
    if deadline_ns is None:
        t.process.kernel.deadlock(t, "a futex no other thread can wake")
    remaining = deadline_ns - time.clock_gettime_ns(clock)
    if remaining > 0:
        time.sleep(remaining / 1e9)
    raise KernelError(ETIMEDOUT)


def _wake_op(t, uaddr2, encoded):
    op, cmp = (encoded >> 28) & 0xF, (encoded >> 24) & 0xF
    oparg = (encoded >> 12) & 0xFFF     # the comparison (cmparg) only decides waking
    if op & 8:                       # FUTEX_OP_OPARG_SHIFT
        if oparg > 31:
            raise KernelError(EINVAL)
        oparg = 1 << oparg
        op &= 7
    old = _load(t, uaddr2)
    if op == 0:
        new = oparg
    elif op == 1:
        new = old + oparg
    elif op == 2:
        new = old | oparg
    elif op == 3:
        new = old & ~oparg
    elif op == 4:
        new = old ^ oparg
    else:
        raise KernelError(ENOSYS)
    if cmp > 5:
        raise KernelError(ENOSYS)
    _store(t, uaddr2, new)


def sys_futex(t, uaddr, futex_op, val, timeout, uaddr2, val3):
    """futex(2): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, the BITSET variants and the
    PI lock calls, for one thread (see the module docstring)."""
    cmd = futex_op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    if futex_op & FUTEX_CLOCK_REALTIME and cmd not in (FUTEX_WAIT, FUTEX_WAIT_BITSET,
                                                       FUTEX_WAIT_REQUEUE_PI, FUTEX_LOCK_PI2):
        raise KernelError(ENOSYS)
    clock = time.CLOCK_REALTIME if futex_op & FUTEX_CLOCK_REALTIME else time.CLOCK_MONOTONIC
    if cmd in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        if cmd == FUTEX_WAIT_BITSET and val3 & 0xFFFFFFFF == 0:
            raise KernelError(EINVAL)
        deadline = None
        if timeout:
            ns = t.mm.read_timespec(timeout)
            if cmd == FUTEX_WAIT:          # relative, on CLOCK_MONOTONIC
                deadline = time.clock_gettime_ns(time.CLOCK_MONOTONIC) + ns
                clock = time.CLOCK_MONOTONIC
            else:                          # absolute on the chosen clock
                deadline = ns
        if _load(t, uaddr) != val & 0xFFFFFFFF:
            raise KernelError(EAGAIN)
        _wait(t, deadline, clock)
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        if cmd == FUTEX_WAKE_BITSET and val3 & 0xFFFFFFFF == 0:
            raise KernelError(EINVAL)
        if uaddr & 3:
            raise KernelError(EINVAL)
        return 0
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        if cmd == FUTEX_CMP_REQUEUE and _load(t, uaddr) != val3 & 0xFFFFFFFF:
            raise KernelError(EAGAIN)
        return 0
    if cmd == FUTEX_WAKE_OP:
        _wake_op(t, uaddr2, val3)
        return 0
    if cmd in (FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI):
        word = _load(t, uaddr)
        owner = word & FUTEX_TID_MASK
        if owner == t.tid:
            raise KernelError(EDEADLK)
        if owner == 0:
            _store(t, uaddr, t.tid | (word & FUTEX_WAITERS))
            return 0
        if cmd == FUTEX_TRYLOCK_PI:
            raise KernelError(EAGAIN)
        _wait(t, t.mm.read_timespec(timeout) if timeout else None, clock)
    if cmd == FUTEX_UNLOCK_PI:
        word = _load(t, uaddr)
        if word & FUTEX_TID_MASK != t.tid:
            raise KernelError(EPERM)
        _store(t, uaddr, 0)
        return 0
    raise KernelError(ENOSYS)
