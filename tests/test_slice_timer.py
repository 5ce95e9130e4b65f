"""The slice timer's host thread (cpu/stops.py SliceTimer): slices armed and cleared
again and again wake it at most once; it waits untimed once none has been armed for
a while (an idle guest costs nothing); and a slice armed while it lingers, or one
shorter than its linger, still ends on time."""

from __future__ import annotations

import threading
import time

from pyunik.cpu.stops import SliceTimer


class _Counted(SliceTimer):
    """A SliceTimer that counts the times its thread is woken by an arm."""

    def __init__(self, stop):
        super().__init__(stop)
        self.wakes = 0

    def _wake(self) -> None:
        self.wakes += 1
        super()._wake()


def _wait_for(cond, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.001)
    return cond()


def test_slices_armed_and_cleared_often_wake_the_thread_once():
    """A thread created and joined arms a slice and clears it twice each, tens of
    microseconds apart: the timer thread lingers in timed waits instead of an
    untimed one that each next arm would have to wake (notify, and a GIL handoff)."""
    stops = []
    timer = _Counted(lambda: stops.append(time.monotonic()))
    try:
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            timer.arm(0.01)
            timer.restart(None)
            time.sleep(0.0001)
        # its start (and, on a loaded host, a stall of a whole linger between two
        # arms now and then); without the linger, about every other arm woke it
        assert timer.wakes <= 10
        assert not stops
        wakes = timer.wakes
        # with none armed for a whole linger, it waits untimed
        assert _wait_for(lambda: timer._wakes_at is None)
        assert timer.wakes == wakes and not stops
        # and the next arm wakes it, and ends the slice on time
        start = time.monotonic()
        timer.arm(0.01)
        assert timer.wakes == wakes + 1
        assert _wait_for(lambda: stops)
        assert stops[0] >= start + 0.01
    finally:
        timer.close()


def _lingering(timer) -> None:
    """Arm and clear a slice, then wait until the timer thread lingers in a timed wait."""
    timer.arm(0.01)
    timer.restart(None)
    assert _wait_for(lambda: timer._wakes_at not in (None, 0.0) and not timer._armed)


def test_a_slice_armed_while_it_lingers_ends_on_time():
    """Armed while the thread lingers (no lock, no wake), a slice of a linger or
    more ends when it should; a shorter one, which the thread would sleep past,
    ends on time too (the arm wakes it)."""
    stops = []
    fired = threading.Event()

    def stop():
        stops.append(time.monotonic())
        fired.set()
    timer = _Counted(stop)
    try:
        # (a loaded host may stall this thread past the linger's end, when the
        # thread waits untimed and the arm must wake it: a few tries)
        for _ in range(20):
            _lingering(timer)
            wakes = timer.wakes
            start = time.monotonic()
            timer.arm(SliceTimer.LINGER)
            if timer.wakes == wakes:
                break                     # it wakes by then and finds the deadline
            assert fired.wait(5)
            timer.disarm()
            fired.clear()
            stops.clear()
        else:
            raise AssertionError("every arm woke the lingering timer thread")
        assert fired.wait(5)
        assert stops[0] >= start + SliceTimer.LINGER
        timer.disarm()
        fired.clear()
        stops.clear()
        _lingering(timer)
        start = time.monotonic()
        timer.arm(0.001)
        assert fired.wait(5)
        assert stops[0] >= start + 0.001
    finally:
        timer.close()
