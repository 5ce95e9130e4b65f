"""Guest-code speed rows of benchmarks/run.py: pyunik beside native and qemu-x86_64.

    5   `python3 -c pass`: a whole CPython start-up
    9   C loops (guest_images/bin): store-heavy, a computed-goto bytecode interpreter,
        indirect calls through a table, pointer chasing over 16 MB; ns per iteration
        from two sizes, as row 3
    10  CPython (Debian's /usr/bin/python3) on pure-Python compute (`sum(i*i ...)`)
        and a dict/list workload, timed inside the guest by the program itself
    11  busybox sha256sum and gzip of a 64 MB file (8 MB with --quick) in a host
        directory shown to the guest with -v; whole-run wall time

Every run's output is checked against the native run's, so a wrong answer stops the
benchmark instead of giving a fast-looking number. Targets are pyunik / qemu-x86_64
ratios (see TARGETS); README.md explains the rows and where the time goes.
"""

from __future__ import annotations

import os
import shutil
import tempfile

TARGETS = {
    "python_over_qemu": 1.5,           # x, row 5
    "store_over_qemu": 2.0,            # x, row 9
    "interp_over_qemu": 2.5,           # x, row 9
    "python_compute_over_qemu": 3.0,   # x, row 10
}

# name: (program, (N1, N2) quick, (N1, N2) full, extra args, target key)
C_LOOPS = [
    ("store", "store-musl", (1_000_000, 20_000_000), (1_000_000, 100_000_000), [],
     "store_over_qemu"),
    ("interp", "interp-musl", (100_000, 1_000_000), (100_000, 5_000_000), [],
     "interp_over_qemu"),
    ("indirect", "indirect-musl", (100_000, 3_000_000), (100_000, 20_000_000), [], None),
    ("ptrchase 16 MB", "ptrchase-musl", (100_000, 1_000_000), (100_000, 5_000_000), ["16"],
     None),
]

# Each prints "<name> <result> <seconds>": the result is checked against the native run,
# the seconds (time.perf_counter around the work only) are the measurement.
PY_COMPUTE = ("import time, sys\nn = int(sys.argv[1])\nt = time.perf_counter()\n"
              "s = sum(i * i for i in range(n))\n"
              "print('compute', s, time.perf_counter() - t)\n")
PY_DICT_LIST = ("import time, sys\nn = int(sys.argv[1])\nt = time.perf_counter()\n"
                "d = {}\nfor i in range(n):\n    d.setdefault(i % 1009, []).append(i * 7 % 101)\n"
                "s = 0\nfor k in sorted(d):\n    v = d[k]\n    v.sort()\n"
                "    s += sum(v[::3]) + len(v) * k\n"
                "print('dictlist', s, time.perf_counter() - t)\n")
PY_CASES = [("sum(i*i for i in range(N))", PY_COMPUTE, 300_000, 2_000_000,
             "python_compute_over_qemu"),
            ("dict/list: setdefault, append, sort", PY_DICT_LIST, 100_000, 500_000, None)]

BUSYBOX_MB = {"quick": 8, "full": 64}


def _versus_qemu(bench, section: int, label: str, value: dict, target: str | None) -> None:
    """The pyunik / qemu-x86_64 row of a measurement, judged when it has a target."""
    if "qemu" not in value:
        return
    ratio = value["pyunik"] / value["qemu"]
    name = "%s: pyunik / qemu-x86_64" % label
    if target:
        t = TARGETS[target]
        bench.row(section, name, ratio, "x", "<= %g" % t, ratio <= t)
    else:
        bench.row(section, name, ratio, "x")


def python_startup(bench, median, PYTHON3: str) -> None:
    """Row 5: wall time of `python3 -c pass`, native / qemu / pyunik."""
    bench.log("row 5: python3 -c pass")
    if not os.path.exists(PYTHON3):
        bench.notes.append(PYTHON3 + " not installed: row 5 skipped")
        return
    R = bench.sz["py_repeats"]
    names = [n for n in ("native", "qemu", "pyunik") if n in bench.engines]
    walls: dict[str, list[float]] = {n: [] for n in names}
    for n in names:                                        # warm the page cache
        bench.engines[n].run(PYTHON3, ["-c", "pass"], b"")
    for _ in range(R):
        for n in names:
            walls[n].append(bench.engines[n].run(PYTHON3, ["-c", "pass"], b"").wall)
    bench.raw["python"] = walls
    label = {"native": "native", "qemu": "qemu-x86_64", "pyunik": "pyunik"}
    med = {n: median(walls[n]) for n in names}
    for n in names:
        bench.row(5, "python3 -c pass: " + label[n], med[n], "s",
                  note="median of %d, best %.3g" % (R, min(walls[n])))
    bench.row(5, "python3: pyunik / native", med["pyunik"] / med["native"], "x")
    if "qemu" in med:
        t = TARGETS["python_over_qemu"]
        ratio = med["pyunik"] / med["qemu"]
        bench.row(5, "python3: pyunik / qemu-x86_64", ratio, "x", "<= %g" % t, ratio <= t)


def c_loops(bench, check, median, per_op, BIN: str) -> None:
    """Row 9: ns per iteration of each C loop, native / qemu / pyunik."""
    bench.log("row 9: guest C loops (store, interpreter, indirect calls, pointer chasing)")
    names = [n for n in ("native", "qemu", "pyunik") if n in bench.engines]
    R = bench.sz["loop_repeats"]
    mode = "quick" if bench.mode == "quick" else "full"
    for label, prog, quick, full, extra, target in C_LOOPS:
        n1, n2 = quick if mode == "quick" else full
        path = os.path.join(BIN, prog)
        expect = {n: check(bench.engines["native"].run(path, [str(n)] + extra, b""),
                           b"", "native " + prog).stdout for n in (n1, n2)}
        times = {k: {n1: [], n2: []} for k in names}
        for _ in range(R if "ptrchase" not in label else max(3, R // 3)):
            for k in names:
                for n in (n1, n2):
                    times[k][n].append(bench.engines[k].run(path, [str(n)] + extra,
                                                             expect[n]).wall)
        ns = {k: per_op(times[k], n1, n2, 1e9) for k in names}
        bench.raw.setdefault("guest_loops", {})[label] = {
            "sizes": [n1, n2], "ns_per_iteration": ns,
            "wall_s": {k: {str(n): v for n, v in t.items()} for k, t in times.items()}}
        for k in names:
            bench.row(9, "%s: %s" % (label, k if k != "qemu" else "qemu-x86_64"), ns[k],
                      "ns/iter", note="N=%s..%s, median of %d" % (n1, n2, len(times[k][n2])))
        _versus_qemu(bench, 9, label, ns, target)


def python_workloads(bench, check, median, PYTHON3: str) -> None:
    """Row 10: CPython workloads timed inside the guest."""
    bench.log("row 10: CPython workloads (timed inside the guest)")
    if not os.path.exists(PYTHON3):
        bench.notes.append(PYTHON3 + " not installed: row 10 skipped")
        return
    names = [n for n in ("native", "qemu", "pyunik") if n in bench.engines]
    R = bench.sz["py_repeats"]
    for label, code, quick_n, full_n, target in PY_CASES:
        n = quick_n if bench.mode == "quick" else full_n
        argv = ["-c", code, str(n)]
        first = check(bench.engines["native"].run(PYTHON3, argv, b""), b"", "native python3")
        answer = first.stdout.rsplit(b" ", 1)[0]
        secs = {k: [] for k in names}
        for _ in range(R):
            for k in names:
                out = bench.engines[k].run(PYTHON3, argv, answer).stdout
                secs[k].append(float(out.split()[-1]))
        med = {k: median(v) for k, v in secs.items()}
        bench.raw.setdefault("python_workloads", {})[label] = {"n": n, "seconds": secs}
        for k in names:
            bench.row(10, "%s: %s" % (label, k if k != "qemu" else "qemu-x86_64"), med[k],
                      "s", note="N=%d, median of %d, best %.3g" % (n, R, min(secs[k])))
        _versus_qemu(bench, 10, label, med, target)


def busybox_files(bench, check, median, Engine, BenchError) -> None:
    """Row 11: busybox sha256sum and gzip -c of one generated file."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    mb = BUSYBOX_MB["quick" if bench.mode == "quick" else "full"]
    bench.log("row 11: busybox sha256sum and gzip of %d MB" % mb)
    if not os.path.exists(busybox):
        bench.notes.append("busybox not installed: row 11 skipped")
        return
    tmp = tempfile.mkdtemp(prefix="pyunik-bench-bb-")
    try:
        # Hex text of random bytes: gzip finds some redundancy, sha256 none matters.
        with open(os.path.join(tmp, "data"), "wb") as f:
            for _ in range(mb):
                f.write(os.urandom(1 << 19).hex().encode())
        host_path = os.path.join(tmp, "data")
        engines = {k: bench.engines[k] for k in ("native", "qemu") if k in bench.engines}
        engines["pyunik"] = Engine("pyunik", bench.engines["pyunik"].prefix
                                   + ["-v", tmp + ":/vol"])
        path = {k: host_path for k in engines} | {"pyunik": "/vol/data"}
        R = max(3, bench.sz["repeats"] // 2)
        for label, args in (("sha256sum", ["sha256sum"]), ("gzip -c", ["gzip", "-c"])):
            native = check(engines["native"].run(busybox, args + [host_path], b""), b"",
                           "native busybox " + label)
            if label == "sha256sum":
                expect = native.stdout.split()[0]
            else:
                expect = b""
                want_len = len(native.stdout)
            walls = {k: [] for k in engines}
            for _ in range(R):
                for k, eng in engines.items():
                    run = eng.run(busybox, args + [path[k]], expect)
                    if label != "sha256sum" and len(run.stdout) != want_len:
                        raise BenchError("%s busybox gzip: %d bytes, native %d"
                                           % (k, len(run.stdout), want_len))
                    walls[k].append(run.wall)
            med = {k: median(v) for k, v in walls.items()}
            bench.raw.setdefault("busybox", {})[label] = {"mb": mb, "wall_s": walls}
            for k in engines:
                bench.row(11, "busybox %s %d MB: %s" % (label, mb,
                                                       k if k != "qemu" else "qemu-x86_64"),
                          med[k], "s", note="median of %d" % R)
            if "qemu" in med:
                bench.row(11, "busybox %s: pyunik / qemu-x86_64" % label,
                          med["pyunik"] / med["qemu"], "x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


TITLES = {
    9: "9. guest C loops (guest_images/bin), ns per iteration: (t(N2) - t(N1)) / (N2 - N1)",
    10: "10. CPython workloads (Debian's python3), seconds timed inside the guest",
    11: "11. busybox over a file in a -v host directory, whole-run wall time",
}
