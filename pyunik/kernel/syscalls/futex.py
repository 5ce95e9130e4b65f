"""futex(2): argument decoding for kernel/futex.py's table and kernel/futex_pi.py's
PI locks (the kernel's).

WAIT, WAKE, their BITSET forms, REQUEUE, CMP_REQUEUE and WAKE_OP, private and
shared, with relative (FUTEX_WAIT) and absolute (FUTEX_WAIT_BITSET, on
CLOCK_MONOTONIC or with FUTEX_CLOCK_REALTIME on CLOCK_REALTIME) timeouts, in
Linux's order of checks (kernel/futex/syscalls.c: the timeout is read and checked
first, then FUTEX_CLOCK_REALTIME is refused for all but WAIT_BITSET, WAIT_REQUEUE_PI
and LOCK_PI2: FUTEX_WAIT's timeout is relative and takes no clock).
The priority-inheritance operations go to kernel/futex_pi.py: LOCK_PI's timeout is
absolute on CLOCK_REALTIME always, LOCK_PI2's on CLOCK_MONOTONIC unless
FUTEX_CLOCK_REALTIME, WAIT_REQUEUE_PI's as WAIT_BITSET's; TRYLOCK_PI, UNLOCK_PI and
CMP_REQUEUE_PI take none (CMP_REQUEUE_PI's val2 is where the timeout would be).

futex_waitv(2) waits on up to 128 futexes at once (FutexTable.wait_multiple), with
Linux's checks in its order (kernel/futex/syscalls.c): flags, count and array
pointer, then the timeout's clock, copy and validity, then each entry's copy, flags
(FUTEX2_SIZE_U32 with FUTEX2_PRIVATE, FUTEX2_NUMA and FUTEX2_MPOL allowed; reserved
zero) and value, then every key, then the words in order. FUTEX2_NUMA's node word
(after the futex word, the pair 8-aligned) must say -1, which becomes 0, or 0:
pyunik has one node; FUTEX2_MPOL changes nothing without memory policies.

futex_wake(2), futex_wait(2) and futex_requeue(2) (Linux 6.7's futex2 calls) take the
same per-futex flags: a wake of nr 0 wakes none, a wait's timeout is absolute on the
clock named, a requeue's two futexes come as a futex_waitv pair.

Layer: kernel, syscall handlers. Calls: kernel/futex.py (the futex table),
kernel/futex_pi.py and usermem.
"""

from __future__ import annotations

from errno import EAGAIN, EINVAL, ENOSYS

from ...abi.futex import (FUTEX2_NUMA, FUTEX2_PRIVATE, FUTEX2_SIZE_MASK, FUTEX2_SIZE_U32,
                          FUTEX2_VALID_MASK, FUTEX_NO_NODE, FUTEX_WAITV, FUTEX_WAITV_MAX,
                          FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMD_MASK,
                          FUTEX_CMP_REQUEUE, FUTEX_CMP_REQUEUE_PI, FUTEX_LOCK_PI, FUTEX_LOCK_PI2,
                          FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI,
                          FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_WAKE,
                          FUTEX_WAKE_BITSET, FUTEX_WAKE_OP)
from ...abi.posix_types import UINT
from ...abi.time import CLOCK_MONOTONIC, CLOCK_REALTIME
from ...errors import KernelError
from ..futex import load

_HAS_TIMEOUT = (FUTEX_WAIT, FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_WAIT_BITSET,
                FUTEX_WAIT_REQUEUE_PI)


def _int(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _deadline(t, cmd, futex_op, timeout) -> int | None:
    """futex_init_timeout: the wait's end on the kernel's monotonic clock."""
    if not timeout:
        return None
    ns = t.mm.read_timespec(timeout)
    clock = t.process.kernel.clock
    now = clock.monotonic_ns()
    if cmd == FUTEX_WAIT:                          # relative
        return now + ns
    if futex_op & FUTEX_CLOCK_REALTIME or cmd == FUTEX_LOCK_PI:   # absolute, CLOCK_REALTIME
        return now + (ns - clock.realtime_ns())
    return ns                                      # absolute on CLOCK_MONOTONIC


def sys_futex(t, uaddr, futex_op, val, timeout, uaddr2, val3):
    """futex(2): see the module docstring."""
    cmd = futex_op & FUTEX_CMD_MASK
    # The common calls first: a wake (while no requeue-PI waiter could meet it), a
    # wait with no timeout (the checks below pass for them; the mask decoded val to
    # unsigned).
    if cmd == FUTEX_WAKE and not futex_op & FUTEX_CLOCK_REALTIME:
        table = t.process.kernel.futexes
        if not table.pi_requeue_waiters:
            return table.wake(table.key(t.process.mm, uaddr, futex_op & FUTEX_PRIVATE_FLAG),
                              (val ^ 0x80000000) - 0x80000000)
    if cmd == FUTEX_WAIT and not timeout and not futex_op & FUTEX_CLOCK_REALTIME:
        table = t.process.kernel.futexes
        return table.wait(t, table.key(t.process.mm, uaddr, futex_op & FUTEX_PRIVATE_FLAG),
                          uaddr, val, FUTEX_BITSET_MATCH_ANY, None)
    deadline = _deadline(t, cmd, futex_op, timeout) if cmd in _HAS_TIMEOUT else None
    if futex_op & FUTEX_CLOCK_REALTIME and cmd not in (FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI,
                                                       FUTEX_LOCK_PI2):
        raise KernelError(ENOSYS)                  # FUTEX_WAIT too, as do_futex says
    kernel = t.process.kernel
    table = kernel.futexes
    private = bool(futex_op & FUTEX_PRIVATE_FLAG)
    val3 &= 0xFFFFFFFF
    if cmd in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAIT else val3
        if bitset == 0:
            raise KernelError(EINVAL)              # before the key
        key = table.key(t.mm, uaddr, private)
        return table.wait(t, key, uaddr, val, bitset, deadline)
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAKE else val3
        if bitset == 0:
            raise KernelError(EINVAL)
        key = table.key(t.mm, uaddr, private)
        if kernel.pi_futexes.requeue_waiters and kernel.pi_futexes.has_requeue_waiters(key):
            raise KernelError(EINVAL)              # a requeue-PI waiter met by a wake
        return table.wake(key, _int(val), bitset)
    val2 = _int(timeout)                           # these take val2 where a timeout goes
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        if _int(val) < 0 or val2 < 0:
            raise KernelError(EINVAL)
        key1 = table.key(t.mm, uaddr, private)
        key2 = table.key(t.mm, uaddr2, private)
        if cmd == FUTEX_CMP_REQUEUE and load(t.mm, uaddr) != val3:
            raise KernelError(EAGAIN)
        if kernel.pi_futexes.has_requeue_waiters(key1):
            raise KernelError(EINVAL)
        return table.requeue(key1, key2, _int(val), val2)
    if cmd == FUTEX_WAKE_OP:
        key1 = table.key(t.mm, uaddr, private)
        key2 = table.key(t.mm, uaddr2, private)
        return table.wake_op(t.mm, key1, key2, uaddr2, _int(val), val2, val3)
    pi = kernel.pi_futexes
    if cmd in (FUTEX_LOCK_PI, FUTEX_LOCK_PI2):
        return pi.lock(t, uaddr, private, deadline)
    if cmd == FUTEX_TRYLOCK_PI:
        return pi.lock(t, uaddr, private, None, trylock=True)
    if cmd == FUTEX_UNLOCK_PI:
        return pi.unlock(t, uaddr, private)
    if cmd == FUTEX_WAIT_REQUEUE_PI:
        return pi.wait_requeue(t, uaddr, val, uaddr2, private, deadline)
    if cmd == FUTEX_CMP_REQUEUE_PI:
        return pi.cmp_requeue(t, uaddr, uaddr2, private, _int(val), val2, val3)
    raise KernelError(ENOSYS)      # FUTEX_FD (gone since 2.6.26), unknown operations


def _waitv_key(t, table, uaddr: int, flags: int):
    """get_futex_key for a futex2 entry: FUTEX2_NUMA doubles the alignment and reads
    (and for -1 writes) the node word."""
    if flags & FUTEX2_NUMA:
        if uaddr & 7:
            raise KernelError(EINVAL)
        node = UINT.unpack(t.mm.read(uaddr + 4, UINT.size))[0]
        if node == FUTEX_NO_NODE:
            t.mm.write(uaddr + 4, UINT.pack(0))      # numa_node_id(): the one node
        elif node != 0:
            raise KernelError(EINVAL)
    return table.key(t.mm, uaddr, bool(flags & FUTEX2_PRIVATE))


def _futex2_flags(flags: int, *values: int) -> None:
    """futex2_to_flags and its checks: known bits only, a 32-bit futex, values
    that fit it (futex_validate_input)."""
    if flags & ~FUTEX2_VALID_MASK or flags & FUTEX2_SIZE_MASK != FUTEX2_SIZE_U32:
        raise KernelError(EINVAL)
    if any(v >> 32 for v in values):
        raise KernelError(EINVAL)


def _futex2_deadline(t, timeout: int, clockid: int) -> int | None:
    """futex2_setup_timeout: an absolute time on CLOCK_MONOTONIC or CLOCK_REALTIME
    (the clock checked before the copy), as the kernel's monotonic ns."""
    if not timeout:
        return None
    if clockid not in (CLOCK_REALTIME, CLOCK_MONOTONIC):
        raise KernelError(EINVAL)
    ns = t.mm.read_timespec(timeout)
    if clockid == CLOCK_MONOTONIC:
        return ns
    clock = t.process.kernel.clock
    return clock.monotonic_ns() + ns - clock.realtime_ns()


def _read_waitv(t, waiters: int, count: int) -> list:
    """futex_parse_waitv: (uaddr, val, flags) of each entry, checked in turn."""
    entries = []
    for i in range(count):
        val, uaddr, fl, reserved = FUTEX_WAITV.unpack(
            t.mm.read(waiters + i * FUTEX_WAITV.size, FUTEX_WAITV.size))
        if reserved:
            raise KernelError(EINVAL)
        _futex2_flags(fl, val)
        entries.append((uaddr, val, fl))
    return entries


def sys_futex_waitv(t, waiters, nr_futexes, flags, timeout, clockid):
    """futex_waitv(2): see the module docstring; returns the index of a futex woken."""
    if flags:
        raise KernelError(EINVAL)
    if not nr_futexes or nr_futexes > FUTEX_WAITV_MAX or not waiters:
        raise KernelError(EINVAL)
    deadline = _futex2_deadline(t, timeout, clockid)
    entries = _read_waitv(t, waiters, nr_futexes)
    table = t.process.kernel.futexes
    waits = [(_waitv_key(t, table, uaddr, fl), uaddr, val) for uaddr, val, fl in entries]
    return table.wait_multiple(t, waits, deadline)


def sys_futex_wake(t, uaddr, mask, nr, flags):
    """futex_wake(2): wake up to nr waiters whose bitset meets mask; nr 0 wakes none
    (FLAGS_STRICT), unlike FUTEX_WAKE."""
    _futex2_flags(flags, mask)
    if not mask:
        raise KernelError(EINVAL)
    table = t.process.kernel.futexes
    key = _waitv_key(t, table, uaddr, flags)
    if nr <= 0:
        return 0
    if t.process.kernel.pi_futexes.has_requeue_waiters(key):
        raise KernelError(EINVAL)              # a requeue-PI waiter met by a wake
    return table.wake(key, nr, mask)


def sys_futex_wait(t, uaddr, val, mask, flags, timeout, clockid):
    """futex_wait(2): FUTEX_WAIT_BITSET with futex2 flags and an absolute timeout on
    the clock named."""
    _futex2_flags(flags, val, mask)
    deadline = _futex2_deadline(t, timeout, clockid)
    if not mask:
        raise KernelError(EINVAL)
    table = t.process.kernel.futexes
    return table.wait(t, _waitv_key(t, table, uaddr, flags), uaddr, val, mask, deadline)


def sys_futex_requeue(t, waiters, flags, nr_wake, nr_requeue):
    """futex_requeue(2): FUTEX_CMP_REQUEUE between waiters[0] (its val the expected
    word) and waiters[1], each with its own futex2 flags."""
    if flags or not waiters:
        raise KernelError(EINVAL)
    (uaddr1, cmpval, fl1), (uaddr2, _, fl2) = _read_waitv(t, waiters, 2)
    if nr_wake < 0 or nr_requeue < 0:
        raise KernelError(EINVAL)
    table = t.process.kernel.futexes
    key1 = _waitv_key(t, table, uaddr1, fl1)
    key2 = _waitv_key(t, table, uaddr2, fl2)
    if load(t.mm, uaddr1) != cmpval:
        raise KernelError(EAGAIN)
    if t.process.kernel.pi_futexes.has_requeue_waiters(key1):
        raise KernelError(EINVAL)
    return table.requeue(key1, key2, nr_wake, nr_requeue)
