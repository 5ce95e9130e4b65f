"""Credentials: the user and group ids a task acts with (Linux's struct cred).

Real, effective, saved and filesystem ids for users and groups, the supplementary
groups, and the capability sets (capabilities(7)). A new task gets a copy (Linux's
copy_creds); the set*id calls (kernel/syscalls/cred.py) change the caller's. Permission
checks on files go by the filesystem ids (`walk_creds`; they follow the effective ids
except after setfsuid and setfsgid), which the path walk and fs/vfs.permitted take as a
tuple; access(2) by the real ones (`access_creds`).

Capabilities: `capable(cap)` is Linux's capable(): the bit in the effective set. The
sets change as capabilities(7) says: user id changes (`fix_setuid`, cap_emulate_setxuid:
leaving uid 0 in all of real, effective and saved clears permitted, effective and
ambient unless keep_caps, PR_SET_KEEPCAPS; an effective uid leaving 0 clears the
effective set, one coming back to 0 restores it from the permitted set), filesystem
uid changes (`fix_setfsuid`: the CAP_FS_SET capabilities follow fsuid 0) and execve
(`exec_caps`, for a file without file capabilities). The file permission checks of
fs/ still take fsuid 0 as CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER and
CAP_CHOWN; those follow fsuid here, unless capset drops them from a root process.

Layer: kernel. Calls nothing but abi/.
"""

from __future__ import annotations

import os

from ..abi.capability import CAP_ALL, CAP_FS_SET


def _host_caps() -> dict[str, int] | None:
    """pyunik's own capability sets, from /proc/self/status (None if unreadable)."""
    try:
        with open("/proc/self/status", "rb") as f:
            lines = f.read().split(b"\n")
    except OSError:
        return None
    caps = {}
    for line in lines:
        if line.startswith(b"Cap") and b":" in line:
            name, value = line.split(b":", 1)
            caps[name.decode()] = int(value.strip(), 16)
    return caps if len(caps) == 5 else None


class Credentials:
    __slots__ = ("uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid", "groups",
                 "walk_creds", "cap_inheritable", "cap_permitted", "cap_effective",
                 "cap_bset", "cap_ambient", "keep_caps")
    # walk_creds is (fsuid, fsgid, groups), what permission checks on files and path
    # walks go by (Linux's current_fsuid()): one tuple, made again (by __setattr__)
    # whenever one of the three changes, so a walk's cache compares it by identity
    # first.
    _WALK_IDS = frozenset(("fsuid", "fsgid", "groups"))

    def __init__(self, uid: int, gid: int, groups: tuple[int, ...] = ()):
        self.uid = self.euid = self.suid = self.fsuid = uid
        self.gid = self.egid = self.sgid = self.fsgid = gid
        self.groups = tuple(groups)
        # Capability sets, bit masks by CAP_* number: root's are full, another
        # user's empty, as after an execve of a file without file capabilities.
        self.cap_inheritable = self.cap_ambient = 0
        self.cap_bset = CAP_ALL
        self.cap_permitted = self.cap_effective = CAP_ALL if uid == 0 else 0
        self.keep_caps = False          # SECBIT_KEEP_CAPS (prctl PR_SET_KEEPCAPS)

    @classmethod
    def of_host(cls) -> "Credentials":
        """pyunik's own ids and capabilities: the first guest process inherits them,
        as a child would."""
        c = cls(os.getuid(), os.getgid(), tuple(os.getgroups()))
        c.euid = c.fsuid = os.geteuid()
        c.egid = c.fsgid = os.getegid()
        caps = _host_caps()
        if caps is not None:
            c.cap_inheritable, c.cap_permitted = caps["CapInh"], caps["CapPrm"]
            c.cap_effective, c.cap_bset = caps["CapEff"], caps["CapBnd"]
            c.cap_ambient = caps["CapAmb"]
        elif c.euid == 0:
            c.cap_permitted = c.cap_effective = CAP_ALL
        return c

    # ---- capabilities -----

    def capable(self, cap: int) -> bool:
        """capable(cap): cap is in the effective set."""
        return bool(self.cap_effective >> cap & 1)

    def fix_setuid(self, old_uid: int, old_euid: int, old_suid: int) -> None:
        """cap_emulate_setxuid, after setuid, setreuid or setresuid changed the ids
        from (old_uid, old_euid, old_suid)."""
        if 0 in (old_uid, old_euid, old_suid) and 0 not in (self.uid, self.euid, self.suid):
            if not self.keep_caps:
                self.cap_permitted = self.cap_effective = 0
            self.cap_ambient = 0
        if old_euid == 0 and self.euid != 0:
            self.cap_effective = 0
        if old_euid != 0 and self.euid == 0:
            self.cap_effective = self.cap_permitted

    def fix_setfsuid(self, old_fsuid: int) -> None:
        """cap_task_fix_setuid's LSM_SETID_FS: the filesystem capabilities leave the
        effective set with fsuid 0, and come back (as far as permitted) with it."""
        if old_fsuid == 0 and self.fsuid != 0:
            self.cap_effective &= ~CAP_FS_SET
        if old_fsuid != 0 and self.fsuid == 0:
            self.cap_effective |= CAP_FS_SET & self.cap_permitted

    def exec_caps(self) -> None:
        """execve of a file without file capabilities (capabilities(7), "Transformation
        of capabilities during execve()"): root (real or effective uid 0) gets the
        bounding set and its inheritable set as permitted, effective too when its
        effective uid is 0; anyone else keeps the ambient set alone. keep_caps is
        cleared."""
        if self.uid == 0 or self.euid == 0:
            self.cap_permitted = self.cap_bset | self.cap_inheritable
            self.cap_effective = self.cap_permitted if self.euid == 0 else self.cap_ambient
        else:
            self.cap_permitted = self.cap_effective = self.cap_ambient
        self.keep_caps = False

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)
        if name in Credentials._WALK_IDS and hasattr(self, "groups"):
            object.__setattr__(self, "walk_creds", (self.fsuid, self.fsgid, self.groups))

    def access_creds(self) -> tuple:
        """What access(2) and faccessat(2) without AT_EACCESS walk and check with: the
        real ids in place of the effective ones (do_faccessat's access_override_creds);
        the very walk_creds tuple when they are equal, as they nearly always are."""
        if self.uid == self.fsuid and self.gid == self.fsgid:
            return self.walk_creds
        return (self.uid, self.gid, self.groups)

    def copy(self) -> "Credentials":
        c = Credentials.__new__(Credentials)
        for name in Credentials.__slots__:
            setattr(c, name, getattr(self, name))
        return c
