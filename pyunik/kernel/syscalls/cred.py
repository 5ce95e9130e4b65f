"""Credentials, priorities and process groups: the small process calls.

The rules are Linux's (kernel/sys.c): without CAP_SETUID (CAP_SETGID for group ids)
a process may set its user and group ids only to its real, effective or saved ones;
with it, to any. A user id change moves the capability sets (kernel/credentials.py);
capget and capset read and change them. Waiting for children is
kernel/syscalls/wait.py's.

Layer: kernel, syscall handlers. Calls: the process's credentials
(kernel/credentials.py) and abi/.
"""

from __future__ import annotations

from errno import EACCES, EINVAL, EPERM, ESRCH

from ...abi.capability import (CAP_DATA, CAP_HEADER, CAP_SETGID, CAP_SETPCAP, CAP_SETUID,
                               CAP_SYS_NICE, CAPABILITY_U32S, LINUX_CAPABILITY_VERSION_3)
from ...abi.limits import NGROUPS_MAX
from ...abi.posix_types import UINT as _U32
from ...abi.resource import PRIO_PGRP, PRIO_PROCESS, PRIO_USER
from ...abi.sched import SCHED_OTHER
from ...abi.time import TMS
from ...errors import KernelError
from .. import clocks, jobs
from ..process import live_thread


def _uid(value):
    """uid_t arguments arrive as 32-bit values; -1 means "unchanged"."""
    return -1 if value == 0xFFFFFFFF else value


def sys_getresuid(t, ruid, euid, suid):
    """getresuid(2)."""
    c = t.process.cred
    for ptr, v in ((ruid, c.uid), (euid, c.euid), (suid, c.suid)):
        t.mm.write(ptr, _U32.pack(v))
    return 0


def sys_getresgid(t, rgid, egid, sgid):
    """getresgid(2)."""
    c = t.process.cred
    for ptr, v in ((rgid, c.gid), (egid, c.egid), (sgid, c.sgid)):
        t.mm.write(ptr, _U32.pack(v))
    return 0


_IDS = {"u": ("uid", "euid", "suid", "fsuid"), "g": ("gid", "egid", "sgid", "fsgid")}


def _ids(c, kind):
    """(real, effective, saved) user or group ids of credentials c."""
    return tuple(getattr(c, n) for n in _IDS[kind][:3])


_SETID_CAP = {"u": CAP_SETUID, "g": CAP_SETGID}


def _privileged(c, kind):
    """CAP_SETUID for user ids, CAP_SETGID for group ids."""
    return c.capable(_SETID_CAP[kind])


def _set_ids(t, kind, real, effective, saved):
    """setres[ug]id's rule: without CAP_SETUID (CAP_SETGID) each new id must be one of
    the current real, effective or saved ids. The filesystem id follows the effective
    one; a user id change then moves the capabilities (cap_task_fix_setuid)."""
    c = t.process.cred
    current = _ids(c, kind)
    new = (_uid(real), _uid(effective), _uid(saved))
    if not _privileged(c, kind) and any(v != -1 and v not in current for v in new):
        raise KernelError(EPERM)
    names = _IDS[kind]
    for name, v in zip(names, new):
        if v != -1:
            setattr(c, name, v)
    setattr(c, names[3], getattr(c, names[1]))
    if kind == "u":
        c.fix_setuid(*current)
    return 0


def sys_setresuid(t, ruid, euid, suid):
    """setresuid(2)."""
    return _set_ids(t, "u", ruid, euid, suid)


def sys_setresgid(t, rgid, egid, sgid):
    """setresgid(2)."""
    return _set_ids(t, "g", rgid, egid, sgid)


def _set_id(t, kind, value):
    """set[ug]id: with CAP_SETUID (CAP_SETGID) all three ids; without, only the
    effective one, to the real or saved id."""
    if _privileged(t.process.cred, kind):
        return _set_ids(t, kind, value, value, value)
    real, _, saved = _ids(t.process.cred, kind)
    if value not in (real, saved):
        raise KernelError(EPERM)
    return _set_ids(t, kind, 0xFFFFFFFF, value, 0xFFFFFFFF)


def sys_setuid(t, uid):
    """setuid(2)."""
    return _set_id(t, "u", uid)


def sys_setgid(t, gid):
    """setgid(2)."""
    return _set_id(t, "g", gid)


def _set_re(t, kind, real, effective):
    """setre[ug]id: the saved id follows the effective one when the real id is set or
    the effective one changes to other than the old real id."""
    old_real, old_effective, old_saved = _ids(t.process.cred, kind)
    r, e = _uid(real), _uid(effective)
    if not _privileged(t.process.cred, kind):
        if r != -1 and r not in (old_real, old_effective):
            raise KernelError(EPERM)
        if e != -1 and e not in (old_real, old_effective, old_saved):
            raise KernelError(EPERM)
    saved = 0xFFFFFFFF
    if r != -1 or (e != -1 and e != old_real):
        saved = e if e != -1 else old_effective
    return _set_ids(t, kind, real, effective, saved)


def sys_setreuid(t, ruid, euid):
    """setreuid(2)."""
    return _set_re(t, "u", ruid, euid)


def sys_setregid(t, rgid, egid):
    """setregid(2)."""
    return _set_re(t, "g", rgid, egid)


def _set_fs(t, kind, value):
    """setfs[ug]id: returns the old id; changes it when permitted (CAP_SETUID or
    CAP_SETGID, or one of the real, effective, saved or current filesystem ids). The
    filesystem capabilities follow a filesystem uid change."""
    c = t.process.cred
    name = _IDS[kind][3]
    old = getattr(c, name)
    v = _uid(value)
    if v != -1 and (_privileged(c, kind) or v in _ids(c, kind) + (old,)):
        setattr(c, name, v)
        if kind == "u":
            c.fix_setfsuid(old)
    return old


def sys_setfsuid(t, fsuid):
    """setfsuid(2)."""
    return _set_fs(t, "u", fsuid)


def sys_setfsgid(t, fsgid):
    """setfsgid(2)."""
    return _set_fs(t, "g", fsgid)


def sys_setgroups(t, size, list_ptr):
    """setgroups(2): CAP_SETGID only."""
    if not t.process.cred.capable(CAP_SETGID):
        raise KernelError(EPERM)
    if size < 0 or size > NGROUPS_MAX:
        raise KernelError(EINVAL)
    raw = t.mm.read(list_ptr, _U32.size * size)
    t.process.cred.groups = tuple(gid for (gid,) in _U32.iter_unpack(raw))
    return 0


# ---- capabilities ------------------------------------------------------------------------

def _cap_version(t, header):
    """cap_validate_magic: the header's version gives the count of data structs; an
    unknown one is EINVAL, with _LINUX_CAPABILITY_VERSION_3 written back."""
    version, pid = CAP_HEADER.unpack(t.mm.read(header, CAP_HEADER.size))
    count = CAPABILITY_U32S.get(version)
    if count is None:
        t.mm.write(header, _U32.pack(LINUX_CAPABILITY_VERSION_3))
        raise KernelError(EINVAL)
    return count, pid


def sys_capget(t, header, dataptr):
    """capget(2): the effective, permitted and inheritable sets of the caller (pid 0
    or its own thread id) or of the process pid names (ESRCH), as 32-bit halves; a
    NULL data pointer with an unknown version only asks for the version (0)."""
    try:
        count, pid = _cap_version(t, header)
    except KernelError as e:
        if e.errno == EINVAL and not dataptr:
            return 0
        raise
    if not dataptr:
        return 0
    if pid < 0:
        raise KernelError(EINVAL)
    if pid in (0, t.tid):
        c = t.process.cred
    else:
        target = t.process.kernel.processes.get(pid)
        if target is None or not target.threads:
            th = live_thread(t.process.kernel, pid)
            if th is None:
                raise KernelError(ESRCH)
            target = th.process
        c = target.cred
    sets = (c.cap_effective, c.cap_permitted, c.cap_inheritable)
    data = CAP_DATA.pack(*(v & 0xFFFFFFFF for v in sets))
    if count == 2:
        data += CAP_DATA.pack(*(v >> 32 for v in sets))
    t.mm.write(dataptr, data)
    return 0


def sys_capset(t, header, data):
    """capset(2): the caller's own sets only (pid 0 or its thread id, else EPERM),
    checked as cap_capset: inheritable within inheritable|permitted (unless
    CAP_SETPCAP) and within inheritable|bounding, permitted never grows, effective
    within the new permitted; the ambient set keeps what stays both permitted and
    inheritable."""
    count, pid = _cap_version(t, header)
    if pid != 0 and pid != t.tid:
        raise KernelError(EPERM)
    raw = t.mm.read(data, CAP_DATA.size * count)
    effective, permitted, inheritable = CAP_DATA.unpack_from(raw, 0)
    if count == 2:
        high = CAP_DATA.unpack_from(raw, CAP_DATA.size)
        effective |= high[0] << 32
        permitted |= high[1] << 32
        inheritable |= high[2] << 32
    c = t.process.cred
    if not c.capable(CAP_SETPCAP) and \
            inheritable & ~(c.cap_inheritable | c.cap_permitted):
        raise KernelError(EPERM)
    if inheritable & ~(c.cap_inheritable | c.cap_bset) or permitted & ~c.cap_permitted or \
            effective & ~permitted:
        raise KernelError(EPERM)
    c.cap_effective, c.cap_permitted, c.cap_inheritable = effective, permitted, inheritable
    c.cap_ambient &= permitted & inheritable
    return 0


# ---- priorities --------------------------------------------------------------------------

def _priority_target(t, which, who):
    p = t.process
    if which == PRIO_PROCESS:
        if who not in (0, p.pid):
            raise KernelError(ESRCH)
    elif which == PRIO_PGRP:
        if who not in (0, p.pgid):
            raise KernelError(ESRCH)
    elif which == PRIO_USER:
        if who not in (0, p.cred.uid):
            raise KernelError(ESRCH)
    else:
        raise KernelError(EINVAL)
    return p


def sys_getpriority(t, which, who):
    """getpriority(2): the kernel returns 20 - nice (1..40); libc converts it."""
    return 20 - _priority_target(t, which, who).nice


def sys_setpriority(t, which, who, prio):
    """setpriority(2): nice clamped to -20..19; lowering it needs CAP_SYS_NICE
    (EACCES)."""
    p = _priority_target(t, which, who)
    nice = max(-20, min(19, prio))
    if nice < p.nice and not t.process.cred.capable(CAP_SYS_NICE):
        raise KernelError(EACCES)
    p.nice = nice
    return 0


def sys_sched_getscheduler(t, pid):
    """sched_getscheduler(2): SCHED_OTHER, the only policy."""
    if pid < 0:
        raise KernelError(EINVAL)
    if pid not in (0, t.process.pid, t.tid):
        raise KernelError(ESRCH)
    return SCHED_OTHER


def sys_sched_getparam(t, pid, param):
    """sched_getparam(2): priority 0 under SCHED_OTHER."""
    if pid < 0 or not param:
        raise KernelError(EINVAL)
    if pid not in (0, t.process.pid, t.tid):
        raise KernelError(ESRCH)
    t.mm.write(param, _U32.pack(0))
    return 0


def sys_getcpu(t, cpu, node, cache):
    """getcpu(2): the one CPU, node 0."""
    if cpu:
        t.mm.write(cpu, _U32.pack(0))
    if node:
        t.mm.write(node, _U32.pack(0))
    return 0


def sys_times(t, buf):
    """times(2): clock ticks (100 Hz) of the process's guest CPU time and its
    waited-for children's (all of it user time: kernel/clocks.py); the return value
    counts ticks from 1 at the kernel's boot (an arbitrary point, as Linux says, but
    never 0 or negative, which callers could take for an error)."""
    if buf:
        user = clocks.process_cpu_ns(t.process) // 10000000
        t.mm.write(buf, TMS.pack(user, 0, t.process.children_cpu_ns // 10000000, 0))
    kernel = t.process.kernel
    return 1 + (kernel.clock.monotonic_ns() - kernel.boot_ns) // 10000000


# ---- process groups, sessions, children ----------------------------------------------------

def _process(t, pid):
    """The process pid names (0: the caller), a zombie too; ESRCH if none."""
    if pid == 0:
        return t.process
    p = t.process.kernel.processes.get(pid)
    if p is None:
        raise KernelError(ESRCH)
    return p


def sys_getpgid(t, pid):
    """getpgid(2): the process group of pid (0: the caller)."""
    return _process(t, pid).pgid


def sys_getsid(t, pid):
    """getsid(2): the session of pid (0: the caller)."""
    return _process(t, pid).sid


def sys_setpgid(t, pid, pgid):
    """setpgid(2), checked in Linux's order: the caller or a child of it (ESRCH) in
    its session (EPERM) that has not exec'd (EACCES), not a session leader (EPERM),
    into its own group or an existing group of the caller's session (EPERM)."""
    me = t.process
    if pgid < 0:
        raise KernelError(EINVAL)
    p = _process(t, pid)
    if p.exit_state is not None:
        raise KernelError(ESRCH)
    pgid = pgid or p.pid
    if p is not me:
        if p.parent is not me:
            raise KernelError(ESRCH)
        if p.sid != me.sid:
            raise KernelError(EPERM)
        if p.did_exec:
            raise KernelError(EACCES)
    if p.sid == p.pid:
        raise KernelError(EPERM)        # a session leader cannot change its group
    if pgid != p.pid and not jobs.group_exists(me.kernel, pgid, me.sid):
        raise KernelError(EPERM)
    p.pgid = pgid
    return 0


def sys_setsid(t):
    """setsid(2): a new session and group led by the caller; EPERM if a process
    group with the caller's pid exists (it leads one)."""
    p = t.process
    if jobs.group_exists(p.kernel, p.pid):
        raise KernelError(EPERM)
    p.sid = p.pgid = p.pid
    return p.sid
