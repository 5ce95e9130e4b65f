"""Row 15: what watching a run costs. `python3 -c pass` under pyunik plain, with
--stats=FILE, with --trace-out FILE and with --strace=FILE, interleaved; each as a ratio
to the plain run (target: --trace-out under 2x). With none of them the fast syscall
path is the one row 1 measures: observers only ever take the traced path.

Layer: benchmarks (run.py calls observer_cost).
"""

from __future__ import annotations

import os
import tempfile

TITLES = {
    15: "15. watching a run: `python3 -c pass` with --stats, --trace-out, --strace",
}
TARGETS = {
    "trace_out_over_plain": 2.0,       # x, row 15
}


def observer_cost(bench, median, Engine, PYTHON3: str) -> None:
    bench.log("row 15: python3 -c pass with --stats, --trace-out, --strace")
    if not os.path.exists(PYTHON3):
        bench.notes.append(PYTHON3 + " not installed: row 15 skipped")
        return
    prefix = bench.engines["pyunik"].prefix
    with tempfile.TemporaryDirectory(prefix="pyunik-observe-") as tmp:
        engines = {
            "plain": bench.engines["pyunik"],
            "--stats": Engine("pyunik --stats", prefix + ["--stats=" + os.path.join(tmp, "s")]),
            "--trace-out": Engine("pyunik --trace-out",
                                  prefix + ["--trace-out", os.path.join(tmp, "t.json")]),
            "--strace": Engine("pyunik --strace", prefix + ["--strace=" + os.path.join(tmp, "x")]),
        }
        R = bench.sz["py_repeats"]
        walls = {n: [] for n in engines}
        for e in engines.values():                        # warm the page cache
            e.run(PYTHON3, ["-c", "pass"], b"")
        for _ in range(R):
            for n, e in engines.items():
                walls[n].append(e.run(PYTHON3, ["-c", "pass"], b"").wall)
        size = os.path.getsize(os.path.join(tmp, "t.json"))
    bench.raw["observe"] = walls
    med = {n: median(w) for n, w in walls.items()}
    for n in engines:
        bench.row(15, "python3 -c pass: pyunik %s" % ("" if n == "plain" else n), med[n], "s",
                  note="median of %d, best %.3g" % (R, min(walls[n])))
    for n in ("--stats", "--strace"):
        bench.row(15, "%s / plain" % n, med[n] / med["plain"], "x")
    t = TARGETS["trace_out_over_plain"]
    ratio = med["--trace-out"] / med["plain"]
    bench.row(15, "--trace-out / plain", ratio, "x", "< %g" % t, ratio < t,
              note="%d KB of trace" % (size // 1024))
