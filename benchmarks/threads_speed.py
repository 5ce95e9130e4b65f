"""Rows 13, 17, 18 and 19 of benchmarks/run.py: threads on pyunik's one CPU.

    13  `tcompute-musl THREADS N`: the same N iterations of a compute loop done by one
        thread and split over four (no system call inside the loop), ns per
        iteration from two sizes (as row 1), native, qemu-x86_64 and pyunik; the
        target is pyunik's four-thread cost within 1.2x of its one-thread cost
    17  `tswitch-musl pingpong N`: a futex round trip between two threads (4 futex
        calls, 2 switches), us each; target within 3x of 4 trivial syscalls
    18  `tswitch-musl create N`: pthread_create + pthread_join (11 system calls),
        us each; target within 3x of 11 trivial syscalls
    19  deterministic mode's cost: row 13's four threads and row 17's round trip
        with --deterministic against without

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
    "futex_over_syscalls": 3.0,    # x (4 trivial syscalls' cost), row 17
    "create_over_syscalls": 3.0,   # x (11 trivial syscalls' cost), row 18
}
TITLES = {
    13: "13. compute-bound threads (tcompute-musl): one thread, then four, the same work",
    17: "17. futex round trip between two threads (tswitch-musl pingpong: 4 syscalls, "
        "2 switches)",
    18: "18. thread create + join (tswitch-musl create: 11 syscalls)",
    19: "19. deterministic mode (--deterministic) against a plain run",
}
SWITCH_SIZES = {"quick": {"pingpong": (2_000, 20_000), "create": (1_000, 5_000),
                          "det_compute": (2_000_000, 10_000_000)},
                "full": {"pingpong": (5_000, 50_000), "create": (2_000, 20_000),
                         "det_compute": (5_000_000, 40_000_000)}}
# system calls per operation: the futex round trip's 4 (wake, wait on each side);
# create + join: mmap, mprotect, clone, 4 rt_sigprocmask, set_robust_list is not
# made by musl; the child's exit, the join's futex wait, munmap: 11 (strace -f -c)
CALLS = {"pingpong": 4, "create": 11}
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


TRIVIAL_SIZES = (20_000, 200_000)    # sysloop-musl's getppid calls, rows 17 and 18


def switch_costs(bench, check, median, per_op, BIN: str, paired_ratios, ratio_note) -> None:
    """Rows 17 and 18: the futex round trip and thread create + join, us each, with
    pyunik's against the trivial syscalls they make. Each repeat runs the trivial
    syscall loop (row 1's program) at two sizes beside the operation's runs, and the
    target is judged on the median of the repeats' paired ratios (run.paired_ratios)."""
    bench.log("rows 17, 18: futex round trip, thread create + join")
    program = os.path.join(BIN, "tswitch-musl")
    sysloop = os.path.join(BIN, "sysloop-musl")
    names = [n for n in ("native", "qemu", "pyunik") if n in bench.engines]
    R = max(3, bench.sz["loop_repeats"] // 2)
    sizes = SWITCH_SIZES["quick" if bench.mode == "quick" else "full"]
    s1, s2 = TRIVIAL_SIZES
    for row, mode in ((17, "pingpong"), (18, "create")):
        n1, n2 = sizes[mode]
        times = {k: {n1: [], n2: []} for k in names}
        trivial_times: dict[int, list[float]] = {s1: [], s2: []}
        for _ in range(R):
            for k in names:
                for n in (n1, n2):
                    times[k][n].append(bench.engines[k].run(
                        program, [mode, str(n)], b"done %d\n" % n).wall)
            for n in (s1, s2):
                trivial_times[n].append(bench.engines["pyunik"].run(
                    sysloop, [str(n)], b"done %d" % n).wall)
        us = {k: per_op(times[k], n1, n2, 1e6) for k in names}
        trivial = per_op(trivial_times, s1, s2, 1e6)
        best = per_op(times["pyunik"], n1, n2, 1e6, min)
        best_trivial = per_op(trivial_times, s1, s2, 1e6, min)
        calls = CALLS[mode]
        pairs = [r / calls for r in paired_ratios(times["pyunik"], (n1, n2),
                                                  trivial_times, (s1, s2))]
        bench.raw.setdefault("switch_costs", {})[mode] = {
            "sizes": [n1, n2], "us": us, "trivial_syscall_us": trivial,
            "best_us": best, "best_trivial_syscall_us": best_trivial,
            "paired_ratios": pairs,
            "wall_s": {k: {str(n): v for n, v in t.items()} for k, t in times.items()}
            | {"trivial": {str(n): v for n, v in trivial_times.items()}}}
        for k in names:
            label = k if k != "qemu" else "qemu-x86_64"
            bench.row(row, "%s: %s" % (mode, label), us[k], "us",
                      note="N=%s..%s, median of %d" % (n1, n2, R))
        bench.row(row, "%d trivial syscalls: pyunik (same run)" % calls, calls * trivial, "us",
                  note="N=%s..%s, median of %d" % (s1, s2, R))
        ratio = median(pairs)
        t = TARGETS["futex_over_syscalls" if mode == "pingpong" else "create_over_syscalls"]
        bench.row(row, "pyunik / %d syscalls" % calls, ratio, "x", "<= %g" % t, ratio <= t,
                  note=ratio_note(pairs, us["pyunik"] / (calls * trivial),
                                  best / (calls * best_trivial)))


def deterministic_cost(bench, check, median, per_op, BIN: str) -> None:
    """Row 19: what --deterministic costs: four compute-bound threads (instruction
    budgets instead of a host timer) and the futex round trip (a budgeted run while
    the other thread is runnable), against plain runs, from two sizes each."""
    bench.log("row 19: deterministic mode against plain")
    R = max(3, bench.sz["loop_repeats"] // 2)
    sizes = SWITCH_SIZES["quick" if bench.mode == "quick" else "full"]
    engine = bench.engines["pyunik"]
    deterministic = type(engine)("pyunik --deterministic", engine.prefix + ["--deterministic"])
    cases = [("4 compute threads", "tcompute-musl", lambda n: ["4", str(n)],
              sizes["det_compute"], 1e9, "ns/iter"),
             ("futex round trip", "tswitch-musl", lambda n: ["pingpong", str(n)],
              sizes["pingpong"], 1e6, "us")]
    for what, name, args, (n1, n2), scale, unit in cases:
        program = os.path.join(BIN, name)
        expect = {n: check(bench.engines["native"].run(program, args(n), b""), b"",
                           "native " + name).stdout for n in (n1, n2)}
        times = {k: {n1: [], n2: []} for k in ("plain", "deterministic")}
        for _ in range(R):
            for n in (n1, n2):
                times["plain"][n].append(engine.run(program, args(n), expect[n]).wall)
                times["deterministic"][n].append(
                    deterministic.run(program, args(n), expect[n]).wall)
        cost = {k: per_op(times[k], n1, n2, scale) for k in times}
        for k in ("plain", "deterministic"):
            bench.row(19, "%s: pyunik %s" % (what, k), cost[k], unit,
                      note="N=%s..%s, median of %d" % (n1, n2, R))
        bench.row(19, "%s: deterministic / plain" % what,
                  cost["deterministic"] / cost["plain"], "x")
        bench.raw.setdefault("deterministic", {})[what] = {"sizes": [n1, n2], "cost": cost}
