"""Row 16 of benchmarks/run.py: the cost of making processes.

    16  `forkloop-musl N [MB]`: N fork + _exit + waitpid cycles of a small static
        program, per cycle from two sizes (as row 1), native, qemu-x86_64 and
        pyunik; then one fork of a process with 100 MiB touched (the guest's own
        clock around fork, exit and wait) and pyunik's peak RSS with and without
        that fork; then pyunik's peak RSS after 50 and after 250 cycles (flat: the
        engines, host threads and memory of exited children are given back);
        then a shell: `busybox sh -c true` (the shell's start and exit), and a
        50-stage pipeline `echo x | cat | ... | cat` (50 forks and execs of
        busybox, 49 pipes) with pyunik's peak RSS; then a shell loop of fork +
        exec + wait of hello-musl, per cycle from 50 and 200 cycles (as row 1),
        and pyunik's peak RSS after each (flat: replaced engines are given back).

pyunik's fork makes a new CPU engine and copies every private page the parent has
touched (mm/address_space.py's AddressSpace.fork); Linux copies page tables and
shares the pages copy-on-write, so its fork of a large process costs little until
either side writes.
"""

from __future__ import annotations

import os
import re
import shutil

TARGETS = {
    "fork_rss_growth_kb": 64.0,     # KiB of peak RSS per extra fork cycle ("flat")
    "exec_rss_growth_kb": 64.0,     # KiB of peak RSS per extra fork+exec cycle ("flat")
}
TITLES = {
    16: "16. processes (forkloop-musl): fork + exit + wait, a 100 MiB fork, RSS over forks",
}
SIZES = {"quick": (20, 100), "full": (50, 250)}
BIG_MB = 100


def _first_fork_us(run) -> float:
    m = re.search(rb"first_fork_us (\d+)", run.stderr)
    return float(m.group(1)) if m else float("nan")


def fork_costs(bench, check, median, per_op, peak_rss_kb, BIN: str) -> None:
    bench.log("row 16: processes")
    program = os.path.join(BIN, "forkloop-musl")
    names = [n for n in ("native", "qemu", "pyunik") if n in bench.engines]
    n1, n2 = SIZES["quick" if bench.mode == "quick" else "full"]
    R = 3
    times = {k: {n1: [], n2: []} for k in names}
    for _ in range(R):
        for k in names:
            for n in (n1, n2):
                times[k][n].append(bench.engines[k].run(
                    program, [str(n)], b"forks %d mb 0" % n).wall)
    us = {k: per_op(times[k], n1, n2, 1e6) for k in names}
    for k in names:
        label = k if k != "qemu" else "qemu-x86_64"
        bench.row(16, "fork+exit+wait: " + label, us[k], "us/cycle",
                  note="N=%d..%d, median of %d" % (n1, n2, R))
    bench.row(16, "fork+exit+wait: pyunik / native", us["pyunik"] / us["native"], "x")
    if "qemu" in us:
        bench.row(16, "fork+exit+wait: pyunik / qemu-x86_64", us["pyunik"] / us["qemu"], "x")

    big = {}
    for k in names:
        big[k] = median([_first_fork_us(bench.engines[k].run(
            program, ["1", str(BIG_MB)], b"forks 1 mb %d" % BIG_MB)) for _ in range(R)])
        label = k if k != "qemu" else "qemu-x86_64"
        bench.row(16, "fork of %d MiB touched: %s" % (BIG_MB, label), big[k] / 1000, "ms",
                  note="in-guest clock, median of %d" % R)
    prefix = bench.engines["pyunik"].prefix
    touched = peak_rss_kb(prefix + [program, "0", str(BIG_MB)])
    forked = peak_rss_kb(prefix + [program, "1", str(BIG_MB)])
    if touched is not None and forked is not None:
        bench.row(16, "pyunik peak RSS growth by that fork", (forked - touched) / 1024, "MB",
                  note="%d MiB touched: %.0f MB without the fork" % (BIG_MB, touched / 1024))
    few = peak_rss_kb(prefix + [program, str(n1)])
    many = peak_rss_kb(prefix + [program, str(n2)])
    if few is not None and many is not None:
        growth = (many - few) / (n2 - n1)
        t = TARGETS["fork_rss_growth_kb"]
        bench.row(16, "pyunik peak RSS growth per fork cycle", growth, "KiB", "<= %g" % t,
                  growth <= t, note="%d vs %d cycles: %.0f / %.0f MB" % (
                      n1, n2, few / 1024, many / 1024))
    bench.raw["processes"] = {"sizes": [n1, n2], "wall_s": {
        k: {str(n): v for n, v in t.items()} for k, t in times.items()}, "big_fork_us": big}


PIPELINE_STAGES = 50


EXEC_CYCLES = {"quick": (20, 80), "full": (50, 200)}


def exec_loop(bench, median, per_op, peak_rss_kb, BIN: str) -> None:
    """fork + exec + wait cycles from a shell loop: time per cycle and RSS."""
    busybox = shutil.which("busybox")
    if busybox is None:
        return
    hello = os.path.join(BIN, "hello-musl")
    n1, n2 = EXEC_CYCLES["quick" if bench.mode == "quick" else "full"]

    def loop(n):
        return ["sh", "-c", "i=0; while [ $i -lt %d ]; do %s >/dev/null; i=$((i+1)); done; "
                "echo $i" % (n, hello)]
    names = [n for n in ("native", "pyunik") if n in bench.engines]
    times = {k: {n1: [], n2: []} for k in names}
    for _ in range(3):
        for k in names:
            for n in (n1, n2):
                times[k][n].append(bench.engines[k].run(busybox, loop(n), b"%d\n" % n).wall)
    us = {k: per_op(times[k], n1, n2, 1e6) for k in names}
    for k in names:
        bench.row(16, "sh loop fork+exec+wait of hello-musl: " + k, us[k] / 1000, "ms/cycle",
                  note="N=%d..%d, median of 3" % (n1, n2))
    bench.row(16, "sh loop fork+exec+wait: pyunik / native", us["pyunik"] / us["native"], "x",
              note="qemu-x86_64 hands execve to the host: not comparable")
    prefix = bench.engines["pyunik"].prefix
    few = peak_rss_kb(prefix + [busybox] + loop(n1))
    many = peak_rss_kb(prefix + [busybox] + loop(n2))
    if few is not None and many is not None:
        growth = (many - few) / (n2 - n1)
        t = TARGETS["exec_rss_growth_kb"]
        bench.row(16, "pyunik peak RSS growth per fork+exec cycle", growth, "KiB", "<= %g" % t,
                  growth <= t, note="%d vs %d cycles: %.0f / %.0f MB" % (
                      n1, n2, few / 1024, many / 1024))


def shell_costs(bench, median, peak_rss_kb) -> None:
    """`busybox sh -c true` and a 50-stage pipeline beside native and qemu-x86_64."""
    busybox = shutil.which("busybox")
    if busybox is None:
        bench.log("row 16: no busybox, shell rows skipped")
        return
    names = [n for n in ("native", "qemu", "pyunik") if n in bench.engines]
    R = 3 if bench.mode == "quick" else 5
    pipeline = "echo x" + " | cat" * (PIPELINE_STAGES - 1)
    for what, args, expect in (("sh -c true", ["sh", "-c", "true"], b""),
                               ("%d-stage pipeline" % PIPELINE_STAGES,
                                ["sh", "-c", pipeline], b"x\n")):
        walls = {}
        for k in names:
            walls[k] = median([bench.engines[k].run(busybox, args, expect).wall
                               for _ in range(R)])
            label = k if k != "qemu" else "qemu-x86_64"
            bench.row(16, "busybox %s: %s" % (what, label), walls[k] * 1000, "ms",
                      note="median of %d" % R)
        bench.row(16, "busybox %s: pyunik / native" % what, walls["pyunik"] / walls["native"],
                  "x")
        if "qemu" in walls:
            bench.row(16, "busybox %s: pyunik / qemu-x86_64" % what,
                      walls["pyunik"] / walls["qemu"], "x")
    rss = peak_rss_kb(bench.engines["pyunik"].prefix + [busybox, "sh", "-c", pipeline])
    if rss is not None:
        bench.row(16, "pyunik peak RSS, %d-stage pipeline" % PIPELINE_STAGES, rss / 1024, "MB",
                  note="%d processes alive at once" % PIPELINE_STAGES)
