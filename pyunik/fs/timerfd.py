"""timerfd: a timer read as a file (fs/timerfd.c).

read(2) gives the number of expirations since the last read (a u64) and resets it;
at zero it waits (EAGAIN with O_NONBLOCK); poll says POLLIN while it is not zero.
The count is taken from the clock whenever it is looked at, so a busy reader sees
ticks on time; the timer is armed on the scheduler's deadline heap only while someone
waits (a parked read, a poll, an epoll registration), so that the wait ends and
epoll hears of it (its WaitQueue is woken with POLLIN).

Times are kept on the monotonic clock: an absolute time on CLOCK_REALTIME is turned
into a monotonic one when set, so a change of the host's wall clock afterwards is not
followed, and TFD_TIMER_CANCEL_ON_SET never cancels (no clock is ever set in pyunik).

Layer: fs. Called by kernel/syscalls/timers.py; uses pyunik/hrtimer.py and the arm
function the kernel hands it (the scheduler's add_timer).
"""

from __future__ import annotations

from errno import EAGAIN, EINVAL

from ..abi import linux as L
from ..abi.poll import POLLIN, POLLRDNORM
from ..errors import KernelError
from ..hrtimer import IntervalTimer
from ..wait import WaitQueue, WouldBlock
from .file import AnonInodeFile


class TimerFile(AnonInodeFile):
    anon_name = b"[timerfd]"
    can_poll = True

    def __init__(self, clockid: int, flags: int, arm, monotonic):
        super().__init__(L.O_RDWR | (flags & L.O_NONBLOCK))
        self.clockid = clockid
        self.ticks = 0
        self.waiters = WaitQueue("a timerfd")
        self.timer = IntervalTimer(monotonic, arm, self._expired, monotonic)

    def _expired(self, count: int) -> bool:
        self.ticks += count
        self.waiters.wake_all(POLLIN)
        return bool(self.waiters.waiters or self.waiters.pollers)

    def _count(self) -> int:
        self.ticks += self.timer.expire()
        return self.ticks

    def settime(self, expiry: int, interval: int) -> tuple[int, int]:
        """Set the next expiry (monotonic ns; 0 disarms) and period; the count goes
        back to zero. Returns the old (time left, interval)."""
        old = self.gettime()
        self.ticks = 0
        self.timer.set(expiry, interval)
        if self.waiters.waiters or self.waiters.pollers:
            self.timer.schedule()
        return old

    def gettime(self) -> tuple[int, int]:
        self._count()
        return self.timer.remaining(), self.timer.interval

    def read(self, size: int) -> bytes:
        if size < 8:
            raise KernelError(EINVAL)
        if not self._count():
            if self.flags & L.O_NONBLOCK:
                raise KernelError(EAGAIN)
            self.timer.schedule()
            raise WouldBlock((self.waiters,), what="a timerfd")
        ticks, self.ticks = self.ticks, 0
        return L.TFD_TICKS.pack(ticks)

    def poll(self, events: int) -> int:
        return (POLLIN | POLLRDNORM) & events if self._count() else 0

    def wait_queues(self, events: int):
        self.timer.schedule()
        return (self.waiters,), ()

    def close(self) -> None:
        self.timer.cancel()
