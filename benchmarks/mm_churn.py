"""Row 8 of benchmarks/run.py: memory-mapping churn and Unicorn's region counts.

    8   `mmchurn-musl cycle N 300`: one mmap + mprotect + munmap cycle beside 300 live
        mappings, per cycle from two sizes (as row 1), native, qemu-x86_64 and pyunik;
        then how many Unicorn regions three programs hold at exit_group (the churn
        program, 64 thread stacks with guard pages, `python3 -c pass`), beside their
        VMA count

Unicorn's costs make this row: its map and unmap slow down as regions pile up, and an
unmap or a split flushes the TLB page by page, while changing the access of a whole
region is cheap. pyunik/mm/regions.py says how pyunik keeps regions few and reuses
them; benchmarks/README.md explains the row.
"""

from __future__ import annotations

import os
import subprocess
import sys

TARGETS = {
    "churn_cycle_us": 150.0,           # us per mmap+mprotect+munmap cycle, row 8
}
TITLES = {
    8: "8. mmap churn (mmchurn-musl cycle, 300 live mappings) and Unicorn region counts",
}
LIVE = 300                 # live mappings beside the churn
THREAD_STACKS = 64         # `mmchurn stacks`: glibc-style stacks with guard pages

# Run in a child process: pyunik in process, the region count read at exit_group.
REGION_COUNT = """
import sys
import pyunik
seen = []
def at_exit(event):
    mm = event.thread.mm
    seen.append((mm.engine.region_count(), len(mm.vmas)))
u = pyunik.Unikernel(sys.argv[1:], quiet=True)
u.on_syscall("exit_group", at_exit)
status = u.run()
print(status, *seen[-1])
"""


def region_count(argv: list[str], env: dict, BenchError) -> tuple[int, int]:
    """(Unicorn regions, VMAs) of a guest program as it calls exit_group, from a child
    process running pyunik in process (Engine.region_count)."""
    r = subprocess.run([sys.executable, "-c", REGION_COUNT] + argv, capture_output=True,
                       stdin=subprocess.DEVNULL, env=env)
    fields = r.stdout.split()[-3:]
    if r.returncode != 0 or len(fields) != 3 or fields[0] != b"0":
        raise BenchError("region count of %s: %r %r" % (" ".join(argv), r.stdout[-200:],
                                                        r.stderr[-400:]))
    return int(fields[1]), int(fields[2])


def churn(bench, median, per_op, _n, _fmt, BIN: str, PYTHON3: str, env: dict,
          BenchError) -> None:
    program = os.path.join(BIN, "mmchurn-musl")
    bench.log("row 8: mmap+mprotect+munmap churn beside %d live mappings; region counts"
              % LIVE)
    R = bench.sz["repeats"]
    plan = [(name, bench.sz["churn_pyunik" if name == "pyunik" else "churn_native"])
            for name in ("native", "qemu", "pyunik") if name in bench.engines]
    times: dict[str, dict[int, list[float]]] = {}
    for _ in range(R):
        for name, ns in plan:
            for n in ns:
                run = bench.engines[name].run(program, ["cycle", str(n), str(LIVE)],
                                              b"cycle %d live %d sum 0\n" % (n, LIVE))
                times.setdefault(name, {}).setdefault(n, []).append(run.wall)
    sizes = dict(plan)
    us = {k: per_op(times[k], *sizes[k], 1e6) for k in sizes}
    best = {k: per_op(times[k], *sizes[k], 1e6, min) for k in sizes}
    label = {"native": "native", "qemu": "qemu-x86_64", "pyunik": "pyunik"}
    for name in sizes:
        n1, n2 = sizes[name]
        target, ok = "", None
        if name == "pyunik":
            t = TARGETS["churn_cycle_us"]
            target, ok = "<= %g" % t, us[name] <= t
        bench.row(8, "churn cycle: " + label[name], us[name], "us/cycle", target, ok,
                  note="N=%s..%s, median of %d; best %s, spread %.0f%%" % (
                      _n(n1), _n(n2), R, _fmt(best[name]),
                      100 * bench.noisy("churn " + label[name], times[name][n2])))
    bench.row(8, "churn: pyunik / native", us["pyunik"] / us["native"], "x")
    if "qemu" in us:
        bench.row(8, "churn: pyunik / qemu-x86_64", us["pyunik"] / us["qemu"], "x")
    programs = [("mmchurn cycle (%d live)" % LIVE, [program, "cycle", "10", str(LIVE)]),
                ("%d thread stacks + guards" % THREAD_STACKS,
                 [program, "stacks", str(THREAD_STACKS)])]
    if os.path.exists(PYTHON3):
        programs.append(("python3 -c pass", [PYTHON3, "-c", "pass"]))
    counts = {}
    for what, argv in programs:
        regions, vmas = region_count(argv, env, BenchError)
        counts[what] = {"regions": regions, "vmas": vmas}
        bench.row(8, "Unicorn regions at exit: " + what, regions, "regions",
                  note="%d VMAs" % vmas)
    bench.raw["churn"] = {"sizes": sizes, "us_per_cycle": us, "us_per_cycle_best": best,
                          "wall_s": {k: {str(n): v for n, v in d.items()}
                                     for k, d in times.items()},
                          "regions": counts}
