"""Stopping the CPU from another host thread, at a point where it can resume.

Layer: cpu/, beside engine.py, which alone uses it; calls only the unicorn library
(ctypes on the engine's handle; its version from cpu/libunicorn.py).

Why this is needed. Unicorn 2.1.4 checks for a stop request at the start of every
translated block, and also after every guest load and store (tcg/tcg-op.c emits
`check_exit_request` after each qemu_ld/qemu_st, so that a memory hook can stop the
CPU). A stop taken at one of those mid-instruction checks restores rip to the
instruction that did the access, after its store has been done: resuming there runs
the store again (`add qword [rdi], 1` in a loop stopped every 5 ms from another
thread: one extra addition almost every stop). Taken at a block start, the stop is
exact: every earlier instruction is complete, no later one has begun.

Unicorn keeps a flag that turns the mid-instruction checks off at translation time,
`uc_struct.no_exit_request` (ARM uses it to keep an IT block whole). pyunik installs
no memory hooks, so it needs none of those checks: `ask_for_block_stops` sets the
flag on a new engine, before any code is translated. Then a stop from any thread
lands on a block boundary, so a time slice can end by a host timer and a host signal
can pause a running guest, both at no cost to guest code (and each load and store
loses a helper call, which makes memory-heavy guest code faster too).

The flag is not part of Unicorn's API, so its place in `struct uc_struct` is taken
from Unicorn 2.1.4's include/uc_priv.h (offsetof on x86-64 Linux), and checked
before it is written: the fields around it must hold what a fresh x86-64 engine
holds (arch, mode, the page sizes, init_done). On any other layout nothing is
written and `ask_for_block_stops` returns False: the engine then ends slices with
an instruction budget instead (engine.run's `budget`), which is exact but makes guest
code several times slower.
"""

from __future__ import annotations

import ctypes
import struct
import threading
import time

from . import libunicorn
from .libunicorn import UC_ARCH_X86, UC_MODE_64

_monotonic = time.monotonic

# struct uc_struct, Unicorn 2.1.4 (include/uc_priv.h), x86-64 Linux build: offsets.
_LAYOUTS = {
    "2.1.4": {"arch": 0, "mode": 4, "target_page_size": 1984, "target_page_align": 1988,
              "qemu_host_page_size": 1992, "no_exit_request": 2034, "init_done": 2035},
}


def ask_for_block_stops(handle: int) -> bool:
    """Make stops of the engine at handle land only on translated-block boundaries.
    Call before the engine translates any code. True if done (see the docstring)."""
    layout = _LAYOUTS.get(libunicorn.version())
    if layout is None:
        return False
    top = layout["init_done"] + 1
    raw = ctypes.string_at(handle, top)
    arch, mode = struct.unpack_from("<II", raw, layout["arch"])
    page, align = struct.unpack_from("<II", raw, layout["target_page_size"])
    host_page, = struct.unpack_from("<Q", raw, layout["qemu_host_page_size"])
    if (arch, mode, page, align) != (UC_ARCH_X86, UC_MODE_64, 4096, 4095) or \
            host_page < 4096 or host_page & (host_page - 1) or \
            raw[layout["no_exit_request"]] != 0 or raw[layout["init_done"]] != 1:
        return False
    ctypes.memset(handle + layout["no_exit_request"], 1, 1)
    return True


def set_exit_checks(handle: int, on: bool) -> None:
    """Turn Unicorn's stop checks inside blocks back on (on=True) or off again, on an
    engine ask_for_block_stops succeeded on; takes effect for code translated after
    (the caller drops translations). With them on, a stop asked for by a code hook
    is taken before the hooked instruction runs: a debugger's single step."""
    layout = _LAYOUTS[libunicorn.version()]
    ctypes.memset(handle + layout["no_exit_request"], 0 if on else 1, 1)


class SliceTimer:
    """One host thread per engine (made on first use) that stops the CPU when an armed
    time slice runs out. It costs nothing while unarmed; arming takes one lock.
    `fired` says the last armed slice ran out (the owner clears it).

    A stop asked for before the run has started is lost (Unicorn clears its stop
    request when a run starts), so once the slice has run out the timer stops the
    CPU again every RETRY seconds until the owner disarms it after the run.

    Arming is on the path of every thread switch (a wake arms the slice of the
    thread that woke another), so it wakes the timer thread only when that thread
    would otherwise sleep past the new deadline: disarming leaves it asleep until
    the old deadline, where it finds the new one (or none) and sleeps on. Waking it
    at every arm cost a handoff of the GIL each time (tens of us a futex round trip
    between two guest threads, measured).

    A look that finds no slice armed, with one armed since the look before, waits
    on timed all the same (LINGER, no longer than a slice) rather than untimed:
    threads that switch often arm a slice and clear it again many times a slice
    (a thread created and joined: twice each, tens of microseconds apart), and a
    thread in an untimed wait had to be woken by the next arm (a notify, and the
    timer thread's turn with the GIL: about one arm in ten paid for it, measured).
    Lingering, it wakes once a LINGER at most while slices come and go, and waits
    untimed once a whole LINGER has passed with none armed (an idle guest, or a
    lone thread, costs nothing).

    arm and restart take no lock while the timer thread sleeps in a timed wait
    that ends no later than the new deadline. `_wakes_at` says where it is (set
    under the lock: the end of its wait before each wait, None for an untimed one,
    0.0 once awake): the new deadline is written first and `_wakes_at` read after
    it; a time no later than the deadline there means the thread's next look at
    the deadline comes after the write and in time (a store of one attribute is
    atomic under the GIL). A deadline cleared while it sleeps at all is found the
    same way. Otherwise (awake, asleep untimed or past the deadline, not started)
    they take the lock and wake it as needed. The timer thread reads the deadline
    once a turn and writes it only under the lock; so do disarm and close."""

    RETRY = 0.001
    LINGER = 0.01       # at most the shortest slice armed often (sched.SLICE_SECONDS)

    def __init__(self, stop):
        self._stop = stop                 # stops the CPU; safe from any thread
        # The lock guards the fields below; arm and restart take it directly (a
        # with-statement on the Condition runs Python code each way).
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._wakes_at: float | None = 0.0   # its wait's end (None: untimed; 0: awake)
        self._armed = False     # a slice was armed since the timer thread last looked
        self.fired = False

    def arm(self, seconds: float) -> None:
        """Stop the CPU seconds from now (or at the earlier time already armed)
        unless disarmed first."""
        when = _monotonic() + seconds
        deadline = self._deadline
        if deadline is not None and deadline <= when:
            return
        self._armed = True
        if self._wakes_at:
            self._deadline = when
            wakes_at = self._wakes_at
            if wakes_at and wakes_at <= when:
                return                  # it wakes by then and reads it (see above)
        with self._lock:
            if self._deadline is None or when <= self._deadline:
                self._deadline = when
                if self._wakes_at is None or self._wakes_at > when or self._thread is None:
                    self._wake()

    def restart(self, seconds: float | None) -> None:
        """A new slice in place of the armed one (None: none). `fired` stays: a
        stop the timer has asked for may still end the run (Unicorn may drop it
        or take it), which is then the slice's end."""
        if seconds is None:
            if self._deadline is not None:
                self._deadline = None
                if self._wakes_at != 0.0:
                    return              # asleep: it finds none when it wakes
                with self._lock:
                    self._deadline = None
            return
        when = _monotonic() + seconds
        self._armed = True
        if self._wakes_at:
            self._deadline = when
            wakes_at = self._wakes_at
            if wakes_at and wakes_at <= when:
                return
        with self._lock:
            self._deadline = when
            if self._wakes_at is None or self._wakes_at > when or self._thread is None:
                self._wake()

    def _wake(self) -> None:
        """(Holding the lock.) The timer thread, made on first use, is woken: it
        would sleep past the new deadline (or has yet to start)."""
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(target=self._loop, name="pyunik-slice",
                                            daemon=True)
            self._thread.start()
        self._cond.notify()

    def disarm(self) -> None:
        with self._lock:
            self._deadline = None

    def close(self) -> None:
        """End the host thread (the engine is going away)."""
        with self._cond:
            self._closed = True
            self._deadline = None
            self._cond.notify()

    def _loop(self) -> None:
        with self._cond:
            while not self._closed:
                deadline = self._deadline     # read once: arm may change it unlocked
                if deadline is None:
                    if self._armed:           # slices come and go: linger (see above)
                        self._armed = False
                        self._wakes_at = time.monotonic() + self.LINGER
                        self._cond.wait(self.LINGER)
                    else:
                        self._wakes_at = None
                        self._cond.wait()
                    self._wakes_at = 0.0
                    continue
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._wakes_at = deadline
                    self._cond.wait(remaining)
                    self._wakes_at = 0.0
                    continue
                self._deadline = time.monotonic() + self.RETRY
                self.fired = True
                self._stop()
