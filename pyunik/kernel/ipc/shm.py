"""System V shared memory: shmget, shmat, shmdt, shmctl (Linux's ipc/shm.c).

A segment's pages are a SharedMemory object (mm/shared.py, a host memfd); shmat maps
it into the caller's address space (AddressSpace.mmap with the object as source), so
every process attaching it, or inheriting an attachment across fork
(AddressSpace.map_same_pages), shows the same host pages.

Attach counts are what Linux counts: the VMAs that map a segment, in every address
space (an attachment split by mprotect counts twice, as shm_open is called for each
piece). They are counted from the VMAs when asked, never kept, so munmap, shmdt,
fork, exec and exit all count without telling this module. A segment removed
(IPC_RMID) while attached is marked SHM_DEST with its key made private, and goes
when the last attachment does: checked at the start of every shm call and by shmdt
(`reap`), which is when anything could observe it.

Layer: kernel. Called by kernel/syscalls/ipc.py; calls kernel/ipc/__init__.py (ids,
permissions), mm/ (the object, mappings).
"""

from __future__ import annotations

from errno import EINVAL, ENOMEM, ENOSPC, EPERM

from ...abi import ipc as I
from ...abi import linux as L
from ...abi.capability import CAP_IPC_LOCK
from ...errors import KernelError
from ...mm.address_space import page_up
from ...mm.host import HostMemoryError
from ...mm.shared import SharedMemory
from . import IdTable, IpcPerm, check_perms, host_budget, now

PAGE = L.PAGE_SIZE


class Segment:
    """struct shmid_kernel."""

    __slots__ = ("perm", "shm", "segsz", "atime", "dtime", "ctime", "cpid", "lpid")

    def __init__(self, perm: IpcPerm, shm: SharedMemory, segsz: int, pid: int, ctime: int):
        self.perm = perm
        self.shm = shm            # the pages
        self.segsz = segsz        # the size asked for (mappings cover whole pages)
        self.atime = self.dtime = 0
        self.ctime = ctime
        self.cpid = pid
        self.lpid = 0


class SharedSegments:
    """The kernel's segments (shm_ids) and the shm system calls' work."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.ids = IdTable(I.SHMMNI)

    # ---- attach counts ---------------------------------------------------------------

    def _address_spaces(self) -> list:
        seen = {}
        for p in self.kernel.processes.values():
            if p.mm is not None:
                seen[id(p.mm)] = p.mm
        return list(seen.values())

    def nattch(self, seg: Segment) -> int:
        return sum(1 for mm in self._address_spaces() for v in mm.vmas if v.shm is seg.shm)

    def reap(self) -> None:
        """Destroy segments marked SHM_DEST that nothing maps any more."""
        for seg in list(self.ids.objects.values()):
            if seg.perm.mode & I.SHM_DEST and self.nattch(seg) == 0:
                self.ids.remove(seg)

    def total_pages(self) -> int:
        return sum(page_up(s.segsz) // PAGE for s in self.ids.objects.values())

    # ---- shmget ------------------------------------------------------------------------

    def shmget(self, t, key: int, size: int, flags: int) -> int:
        self.reap()
        cred = t.process.cred

        def make() -> Segment:
            if size < I.SHMMIN or size > I.SHMMAX:
                raise KernelError(EINVAL)
            pages = page_up(size) // PAGE
            if pages == 0 or self.total_pages() + pages > I.SHMALL \
                    or (self.total_pages() + pages) * PAGE > host_budget(self.kernel):
                raise KernelError(ENOSPC)
            perm = IpcPerm(key, cred, flags)
            try:
                shm = SharedMemory(page_up(size), b"/SYSV%08x" % (key & 0xFFFFFFFF))
            except HostMemoryError:
                raise KernelError(ENOMEM) from None
            return Segment(perm, shm, size, t.process.pid, now(self.kernel))

        def check(seg: Segment) -> None:
            if seg.segsz < size:                 # shm_more_checks
                raise KernelError(EINVAL)

        shmid = self.ids.get_or_create(key, flags, cred, make, check)
        seg = self.ids.find(shmid)
        seg.shm.ino = shmid                      # newseg: i_ino = the id
        return shmid

    # ---- shmat / shmdt ---------------------------------------------------------------------

    def shmat(self, t, shmid: int, addr: int, flags: int) -> int:
        """do_shmat: the address the segment is attached at."""
        self.reap()
        if shmid < 0:
            raise KernelError(EINVAL)
        mm = t.mm
        if addr:
            if addr & (I.SHMLBA - 1):
                if not flags & I.SHM_RND:
                    raise KernelError(EINVAL)
                addr &= ~(I.SHMLBA - 1)
                if addr == 0 and flags & I.SHM_REMAP:
                    raise KernelError(EINVAL)
            map_flags = L.MAP_SHARED | L.MAP_FIXED
        else:
            if flags & I.SHM_REMAP:
                raise KernelError(EINVAL)
            map_flags = L.MAP_SHARED
        if flags & I.SHM_RDONLY:
            prot, acc = L.PROT_READ, I.S_IRUGO
        else:
            prot, acc = L.PROT_READ | L.PROT_WRITE, I.S_IRUGO | I.S_IWUGO
        if flags & I.SHM_EXEC:
            prot |= L.PROT_EXEC
            acc |= I.S_IXUGO
        seg = self.ids.find(shmid)
        check_perms(seg.perm, t.process.cred, acc)
        size = page_up(seg.segsz)
        if addr and not flags & I.SHM_REMAP:
            if addr + size < addr or not mm.is_free(addr, addr + size):
                raise KernelError(EINVAL)
        start = mm.mmap(addr, size, prot, map_flags, (seg.shm, 0))
        if flags & I.SHM_RDONLY:
            for v in mm.overlapping(start, start + size):
                v.may_write = False          # the segment's file is open read-only
        seg.atime = now(self.kernel)
        seg.lpid = t.process.pid
        return start

    def _segment_of(self, shm) -> Segment | None:
        for seg in self.ids.objects.values():
            if seg.shm is shm:
                return seg
        return None

    def shmdt(self, t, addr: int) -> int:
        """ksys_shmdt: unmap the segment attached at addr, every piece of it that
        is still where shmat put it; EINVAL when none starts there."""
        if addr & ~L.PAGE_MASK:
            raise KernelError(EINVAL)
        mm = t.mm
        v = mm.find(addr)
        seg = None
        if v is not None and v.start == addr and v.shm is not None and v.shm_offset == 0:
            seg = self._segment_of(v.shm)
        if seg is None:
            raise KernelError(EINVAL)
        end = addr + page_up(seg.segsz)
        for w in mm.overlapping(addr, end):
            if w.shm is seg.shm and w.shm_offset == w.start - addr:
                mm.unmap_range(w.start, w.end)
        seg.dtime = now(self.kernel)
        seg.lpid = t.process.pid
        self.reap()
        return 0

    # ---- shmctl ------------------------------------------------------------------------------

    def stat(self, seg: Segment) -> bytes:
        p = seg.perm
        return I.SHMID64_DS.pack(*p.pack(), seg.segsz, seg.atime, seg.dtime, seg.ctime,
                                 seg.cpid, seg.lpid, self.nattch(seg), 0, 0)

    def info(self, cmd: int) -> bytes:
        """struct shminfo64 for IPC_INFO; SHM_INFO's struct shm_info: ids in use,
        pages allocated, pages resident, nothing swapped."""
        if cmd == I.IPC_INFO:
            return I.SHMINFO64.pack(I.SHMMAX, I.SHMMIN, I.SHMMNI, I.SHMSEG, I.SHMALL,
                                    0, 0, 0, 0)
        rss = sum(s.shm.resident() for s in self.ids.objects.values()) // PAGE
        return I.SHM_INFO_STRUCT.pack(len(self.ids), self.total_pages(), rss, 0, 0, 0)

    def remove(self, t, shmid: int) -> None:
        """IPC_RMID (do_shm_rmid): gone now if nothing is attached, else marked
        SHM_DEST with a private key, to go with the last detach."""
        seg = self.ids.find(shmid)
        seg.perm.may_change(t.process.cred)
        if self.nattch(seg):
            seg.perm.mode |= I.SHM_DEST
            seg.perm.key = I.IPC_PRIVATE
        else:
            self.ids.remove(seg)

    def set(self, t, shmid: int, ds: tuple) -> None:
        """IPC_SET from a read shmid64_ds."""
        seg = self.ids.find(shmid)
        seg.perm.may_change(t.process.cred)
        seg.perm.set_from(ds)
        seg.ctime = now(self.kernel)

    def lock(self, t, shmid: int, locking: bool) -> None:
        """SHM_LOCK, SHM_UNLOCK: the SHM_LOCKED mode bit (the host is not asked to
        pin the pages); without privilege only for the owner, and SHM_LOCK only
        with an RLIMIT_MEMLOCK."""
        seg = self.ids.find(shmid)
        cred = t.process.cred
        if not cred.capable(CAP_IPC_LOCK):
            if cred.euid not in (seg.perm.uid, seg.perm.cuid) or \
                    (locking and t.process.rlimits[L.RLIMIT_MEMLOCK][0] == 0):
                raise KernelError(EPERM)
        if locking:
            seg.perm.mode |= I.SHM_LOCKED
        else:
            seg.perm.mode &= ~I.SHM_LOCKED

    # ---- /proc/sysvipc/shm ---------------------------------------------------------------------

    def proc_text(self) -> bytes:
        """/proc/sysvipc/shm as sysvipc_shm_proc_show prints it."""
        self.reap()
        lines = [b"       key      shmid perms                  size  cpid  lpid nattch   uid"
                 b"   gid  cuid  cgid      atime      dtime      ctime                   rss"
                 b"                  swap\n"]
        for index in sorted(self.ids.objects):
            seg = self.ids.objects[index]
            p = seg.perm
            rss = seg.shm.resident()
            lines.append(b"%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d "
                         b"%21d %21d\n" % (p.key, p.id, p.mode, seg.segsz, seg.cpid, seg.lpid,
                                           self.nattch(seg), p.uid, p.gid, p.cuid, p.cgid,
                                           seg.atime, seg.dtime, seg.ctime, rss, 0))
        return b"".join(lines)
