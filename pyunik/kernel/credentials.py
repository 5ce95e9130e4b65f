"""Credentials: the user and group ids a task acts with (Linux's struct cred).

Real, effective, saved and filesystem ids for users and groups, and the
supplementary groups. A new task gets a copy (Linux's copy_creds); the set*id calls
(kernel/syscalls/cred.py) change the caller's. Permission checks on files go by the
filesystem ids (`walk_creds`; they follow the effective ids except after setfsuid and
setfsgid), which the path walk and fs/vfs.permitted take as a tuple; access(2) by the
real ones (`access_creds`).

Layer: kernel. Calls nothing.
"""

from __future__ import annotations

import os


class Credentials:
    __slots__ = ("uid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid", "groups",
                 "walk_creds")
    # walk_creds is (fsuid, fsgid, groups), what permission checks on files and path
    # walks go by (Linux's current_fsuid()): one tuple, made again (by __setattr__)
    # whenever one of the three changes, so a walk's cache compares it by identity
    # first.
    _WALK_IDS = frozenset(("fsuid", "fsgid", "groups"))

    def __init__(self, uid: int, gid: int, groups: tuple[int, ...] = ()):
        self.uid = self.euid = self.suid = self.fsuid = uid
        self.gid = self.egid = self.sgid = self.fsgid = gid
        self.groups = tuple(groups)

    @classmethod
    def of_host(cls) -> "Credentials":
        """pyunik's own ids: the first guest process inherits them, as a child would."""
        c = cls(os.getuid(), os.getgid(), tuple(os.getgroups()))
        c.euid = c.fsuid = os.geteuid()
        c.egid = c.fsgid = os.getegid()
        return c

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
