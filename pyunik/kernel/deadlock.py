"""The report of a run nothing can go on with: every thread parked (or stopped) and
nothing that could ever wake one (no deadline, no host fd, no host signal awaited).
Linux would hang; pyunik says so in one line naming each thread and what it waits
for, and ends the run as if the first process were killed by SIGKILL (137).

Layer: kernel. Called by the scheduler's idle wait (kernel/sched.py).
"""

from __future__ import annotations

from ..abi import linux as L
from .jobs import STOPPED
from .process import ProcessExit


def report(kernel, parked: list) -> None:
    """Nothing can ever wake any thread of parked (of every process): one line naming
    each and what it waits for (unless quiet), then the end of the run (raises
    ProcessExit for the first process, killed by SIGKILL)."""
    if not kernel.config.quiet:
        several = len({t.process for t in parked}) > 1
        if len(parked) == 1:
            what = _waits_for(parked[0])
        else:
            what = "; ".join("%s: %s" % (_name(t, several), _waits_for(t))
                             for t in parked)
        tid = parked[0].tid if len(parked) == 1 else parked[0].process.pid
        if several:
            tid = kernel.first.pid
        kernel.config.warn.write("pyunik: guest %d would wait forever (%s): deadlock\n"
                                 % (tid, what))
        kernel.config.warn.flush()
    raise ProcessExit(0, signal=L.SIGKILL, process=kernel.first)


def _waits_for(t) -> str:
    """What a thread nothing will wake waits for: its parked call's wait, or a
    continue (its process is stopped)."""
    if t.state == STOPPED:
        return "stopped by %s" % L.signal_name(t.process.stop_report or L.SIGSTOP)
    return t.blocked.wait.what


def _name(t, several: bool) -> str:
    """A parked thread in the deadlock line: "thread T" within one process, "pid P"
    (its main thread) or "pid P thread T" among several."""
    if not several:
        return "thread %d" % t.tid
    if t.tid == t.process.pid:
        return "pid %d" % t.tid
    return "pid %d thread %d" % (t.process.pid, t.tid)
