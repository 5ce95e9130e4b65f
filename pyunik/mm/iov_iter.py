"""IovIter: a cursor over guest buffers, as Linux's iov_iter over a user iovec
(lib/iov_iter.c).

Layer: mm. Used by the open files of fs/ (their read_iter/write_iter) and by the
syscall handlers that build one; calls only the usermem helpers of the address space.

Linux checks user memory while it copies: copy_to_iter and copy_from_iter stop at the
first byte the guest could not touch and say how much they did, so a transfer that
faults part way returns what was done (a writev whose second buffer is bad writes the
first). The same here: `copy_out` and `copy_in` stop at the first bad page, advance
by what they copied and set `faulted`. Nothing is copied until the file asks for it,
and never more than it asks for, so no host memory is ever sized by a length the
guest gave, only by what the file takes.
"""

from __future__ import annotations

from errno import EFAULT, EINVAL

from ..abi import linux as L
from ..errors import KernelError

_SSIZE_MAX = L.SSIZE_MAX


def access_ok(addr: int, size: int) -> None:
    """Linux's access_ok: the range must lie below the top of user space (a range
    check only; whether it is mapped is found out while copying)."""
    if addr + size > L.TASK_SIZE:
        raise KernelError(EFAULT)


class IovIter:
    """The guest buffers of one transfer. `count` is what is left to move; a segment
    is (base, length), consumed from `index` on, `skip` bytes into it."""

    __slots__ = ("mm", "segs", "index", "skip", "count", "faulted")

    def __init__(self, mm, segs: list[tuple[int, int]], count: int):
        self.mm = mm
        self.segs = segs
        self.index = 0
        self.skip = 0
        self.count = count
        self.faulted = False      # a copy stopped at a byte the guest cannot touch

    @classmethod
    def buffer(cls, mm, buf: int, count: int) -> "IovIter":
        """read(2)/write(2)'s one buffer: access_ok on the whole length, then at
        most MAX_RW_COUNT bytes (vfs_read, vfs_write)."""
        access_ok(buf, count)
        count = min(count, L.MAX_RW_COUNT)
        return cls(mm, [(buf, count)], count)

    @classmethod
    def iovec(cls, mm, iov: int, iovcnt: int) -> "IovIter":
        """import_iovec: EINVAL for a bad count or a negative length, EFAULT for the
        array itself or a buffer past the top of user space; the total is capped at
        MAX_RW_COUNT by shortening the buffer that crosses it."""
        if iovcnt < 0 or iovcnt > L.UIO_MAXIOV:
            raise KernelError(EINVAL)
        if iovcnt == 0:
            return cls(mm, [], 0)
        vecs = list(L.IOVEC.iter_unpack(mm.read(iov, iovcnt * L.IOVEC.size)))
        for _, length in vecs:
            if length > _SSIZE_MAX:
                raise KernelError(EINVAL)
        segs, total = [], 0
        for base, length in vecs:
            access_ok(base, length)
            length = min(length, L.MAX_RW_COUNT - total)
            segs.append((base, length))
            total += length
        return cls(mm, segs, total)

    def segments(self) -> list["IovIter"]:
        """One IovIter per remaining buffer (do_loop_readv_writev's loop, for files
        that read or write one buffer at a time)."""
        out = []
        for base, length in self.segs[self.index:]:
            out.append(IovIter(self.mm, [(base, length)], length))
        return out

    def room(self) -> int:
        """How many bytes from here on the guest could have written into, before the
        first bad page (for a host stream, whose data cannot be put back)."""
        total, skip = 0, self.skip
        for base, length in self.segs[self.index:]:
            want = min(length - skip, self.count - total)
            n = self.mm.accessible(base + skip, want, L.PROT_WRITE)
            total += n
            if n < want or total >= self.count:
                break
            skip = 0
        return total

    def _advance(self, n: int, length: int) -> None:
        self.skip += n
        self.count -= n
        if self.skip == length:
            self.index += 1
            self.skip = 0

    def copy_out(self, data: bytes) -> int:
        """copy_to_iter: as much of data as fits and the guest can take; how much."""
        done, want = 0, min(len(data), self.count)
        segs = self.segs
        while done < want:
            base, length = segs[self.index]
            take = min(length - self.skip, want - done)
            if take == 0:
                self._advance(0, length)
                continue
            n = self.mm.write_upto(base + self.skip,
                                   data if take == len(data) else data[done:done + take])
            done += n
            self._advance(n, length)
            if n < take:
                self.faulted = True
                break
        return done

    def copy_in(self, size: int) -> bytes:
        """copy_from_iter: up to size bytes from the guest, fewer if a bad page comes
        first (then `faulted` is set)."""
        out = []
        want = min(size, self.count)
        got = 0
        segs = self.segs
        while got < want:
            base, length = segs[self.index]
            take = min(length - self.skip, want - got)
            if take == 0:
                self._advance(0, length)
                continue
            piece = self.mm.read_upto(base + self.skip, take)
            out.append(piece)
            got += len(piece)
            self._advance(len(piece), length)
            if len(piece) < take:
                self.faulted = True
                break
        return out[0] if len(out) == 1 else b"".join(out)
