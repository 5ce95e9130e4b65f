"""An interval timer: a first expiry and a period on some clock, counting its
expirations, armed on the scheduler's deadline heap (Linux's hrtimer with the
posix-timers' and timerfd's bookkeeping around it).

The timer keeps its expiry on its own clock (`now()`: the monotonic clock for wall
timers, a process's or thread's CPU time for CPU timers) and asks to be called back
at a deadline on the kernel's monotonic clock (`monotonic()`, the scheduler's time
base) through `arm(deadline, fire)` (the scheduler's add_timer, which returns a
handle with cancel()). A CPU clock never runs faster than
the wall clock (a process's threads share one host CPU), so the wall deadline of a
CPU timer is the soonest it can expire; when it comes and the CPU time has not got
there, the timer is armed again for what is left. No host thread per timer.

`expire()` counts what has expired up to now and moves the expiry on by whole
periods (a timerfd's ticks, a POSIX timer's overrun); `on_expire(count)` is called
from the run loop when the timer fires, and the timer re-arms itself while it has a
period, unless `on_expire` returns False (a timerfd no one waits on stays unarmed
until someone does: its reads count expirations from the clock anyway).

Layer: below fs/ and kernel/, like wait.py: it imports nothing of pyunik.
"""

from __future__ import annotations

from collections.abc import Callable


class IntervalTimer:
    """Fields: expiry (the next expiry on the timer's clock, ns; 0: disarmed),
    interval (ns; 0: one-shot), handle (the armed deadline, or None)."""

    __slots__ = ("now", "arm", "on_expire", "expiry", "interval", "handle", "monotonic")

    def __init__(self, now: Callable[[], int], arm: Callable, on_expire: Callable | None,
                 monotonic: Callable[[], int]):
        self.now = now
        self.monotonic = monotonic
        self.arm = arm
        self.on_expire = on_expire
        self.expiry = 0
        self.interval = 0
        self.handle = None

    def set(self, expiry: int, interval: int) -> None:
        """Arm for expiry (on the timer's clock; 0 disarms), then every interval."""
        self.cancel()
        self.expiry = expiry
        self.interval = interval if expiry else 0
        if expiry:
            self.schedule()

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def schedule(self) -> None:
        """Ask to be called back when the expiry may have come (idempotent)."""
        if self.expiry and self.handle is None:
            left = max(0, self.expiry - self.now())
            self.handle = self.arm(self.monotonic() + left, self._fire)

    def remaining(self) -> int:
        """ns until the next expiry (0 when disarmed), after counting expirations."""
        if not self.expiry:
            return 0
        return max(0, self.expiry - self.now())

    def expire(self) -> int:
        """Expirations up to now, not counted before; moves the expiry past now."""
        if not self.expiry:
            return 0
        now = self.now()
        if now < self.expiry:
            return 0
        if not self.interval:
            self.expiry = 0
            return 1
        count = 1 + (now - self.expiry) // self.interval
        self.expiry += count * self.interval
        return count

    def _fire(self, _now: int) -> None:
        self.handle = None
        count = self.expire()
        if not count:
            self.schedule()           # a CPU clock not there yet
            return
        keep = True
        if self.on_expire is not None:
            keep = self.on_expire(count) is not False
        if keep:
            self.schedule()
