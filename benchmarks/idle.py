"""Row 14 of benchmarks/run.py: what a sleeping guest costs the host.

    14  `pyunik run -- busybox sleep 5`: the host CPU time pyunik's process uses while
        the guest sleeps (read from /proc/<pid>/stat between 1 s and 4.5 s after the
        start, so start-up does not count), as a share of one host core

When every guest thread waits, the scheduler sleeps in one selectors call until the
next deadline, a host fd or a host signal (pyunik/kernel/sched.py): the target is
under 2% of a core.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

TARGETS = {
    "sleeping_guest_cpu_pct": 2.0,     # % of one core while the guest sleeps, row 14
}
TITLES = {
    14: "14. a guest sleeping 5 s (busybox sleep 5): host CPU used meanwhile",
}
FROM, TO = 1.0, 4.5        # seconds after the start between which CPU time is read


def _cpu_seconds(pid: int) -> float:
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sleeping_guest(bench, pyunik_prefix: list[str], env: dict) -> None:
    bench.log("row 14: host CPU of a sleeping guest")
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        bench.notes.append("busybox not installed: row 14 skipped")
        return
    start = time.monotonic()
    proc = subprocess.Popen(pyunik_prefix + ["--", busybox, "sleep", "5"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(max(0.0, FROM - (time.monotonic() - start)))
        c0, t0 = _cpu_seconds(proc.pid), time.monotonic()
        time.sleep(max(0.0, TO - (time.monotonic() - start)))
        c1, t1 = _cpu_seconds(proc.pid), time.monotonic()
    finally:
        proc.wait()
    pct = 100.0 * (c1 - c0) / (t1 - t0)
    bench.raw["idle"] = {"cpu_s": c1 - c0, "wall_s": t1 - t0}
    t = TARGETS["sleeping_guest_cpu_pct"]
    bench.row(14, "sleeping guest: pyunik's host CPU", pct, "% of a core", "< %g" % t,
              pct < t, note="/proc/<pid>/stat from %g s to %g s of 5 s" % (FROM, TO))
