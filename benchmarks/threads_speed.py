"""Row 13 of benchmarks/run.py: compute-bound threads sharing pyunik's one CPU.

    13  `tcompute-musl THREADS N`: the same N iterations of a compute loop done by one
        thread and split over four (no system call inside the loop), ns per
        iteration from two sizes (as row 1), native, qemu-x86_64 and pyunik; the
        target is pyunik's four-thread cost within 1.2x of its one-thread cost

pyunik runs a process's threads on one engine, one at a time, and ends a time slice
with a host timer only while another thread waits for the CPU (kernel/sched.py); a
stop lands between two instructions (cpu/stops.py), so the slices cost guest code
nothing. native and qemu-x86_64 run the four threads on the host's CPUs at once, so
their four-thread figure can be below their one-thread one.
"""

from __future__ import annotations

import os

TARGETS = {
    "threads4_vs_1": 1.2,      # pyunik: four threads / one thread, the same work
}
TITLES = {
    13: "13. compute-bound threads (tcompute-musl): one thread, then four, the same work",
}
SIZES = {"quick": (10_000_000, 60_000_000), "full": (20_000_000, 200_000_000)}


def compute_threads(bench, check, median, per_op, BIN: str) -> None:
    bench.log("row 13: compute-bound threads, one and four")
    program = os.path.join(BIN, "tcompute-musl")
    names = [n for n in ("native", "qemu", "pyunik") if n in bench.engines]
    n1, n2 = SIZES["quick" if bench.mode == "quick" else "full"]
    R = max(3, bench.sz["loop_repeats"] // 2)
    ns: dict[str, dict[int, float]] = {}
    for threads in (1, 4):
        expect = {n: check(bench.engines["native"].run(program, [str(threads), str(n)], b""),
                           b"", "native tcompute").stdout for n in (n1, n2)}
        times = {k: {n1: [], n2: []} for k in names}
        for _ in range(R):
            for k in names:
                for n in (n1, n2):
                    times[k][n].append(bench.engines[k].run(
                        program, [str(threads), str(n)], expect[n]).wall)
        for k in names:
            ns.setdefault(k, {})[threads] = per_op(times[k], n1, n2, 1e9)
        bench.raw.setdefault("compute_threads", {})[threads] = {
            "sizes": [n1, n2],
            "wall_s": {k: {str(n): v for n, v in t.items()} for k, t in times.items()}}
    for k in names:
        label = k if k != "qemu" else "qemu-x86_64"
        for threads in (1, 4):
            bench.row(13, "%d thread%s: %s" % (threads, "s" if threads > 1 else "", label),
                      ns[k][threads], "ns/iter", note="N=%s..%s, median of %d" % (n1, n2, R))
    ratio = ns["pyunik"][4] / ns["pyunik"][1]
    t = TARGETS["threads4_vs_1"]
    bench.row(13, "pyunik: four threads / one thread", ratio, "x", "<= %g" % t, ratio <= t)
