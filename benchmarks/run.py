#!/usr/bin/env python3
"""pyunik benchmark: measures pyunik beside its baselines in one run and prints ratios.

    python benchmarks/run.py            # full run, a few minutes
    python benchmarks/run.py --quick    # small sizes, about half a minute
    python benchmarks/run.py --json out.json

Rows (benchmarks/README.md explains each one and how to read it):

  1  cost of one trivial syscall (getppid): native, qemu-x86_64, a bare-Unicorn floor
     (empty Python hook on `syscall`), pyunik (subprocess and in-process), qiling
  2  `pyunik run hello-musl`: wall time and peak RSS, beside native and qemu-x86_64
  3  compute loop (loop-musl): pyunik against the same program on bare Unicorn
  4  RSS over 1,000,000 syscalls: does pyunik's memory stay flat?
  5-7  python3 -c pass; a hostfs read; stat against a trivial syscall
  8    memory-mapping churn and Unicorn region counts (benchmarks/mm_churn.py)
  9-11 guest code speed (benchmarks/guest_speed.py): C loops, CPython, busybox
  12   signal delivery and return (sigloop-musl: tgkill to itself, a handler, and
       rt_sigreturn): native, qemu-x86_64, pyunik, and pyunik against its two syscalls
  13   compute-bound threads (benchmarks/threads_speed.py): one thread, then four
       doing the same work on pyunik's one CPU (target: four within 1.2x of one)
  14   host CPU of a guest sleeping 5 s (benchmarks/idle.py)
  15   python3 -c pass with --stats, --trace-out, --strace against plain
       (benchmarks/observe_cost.py)
  16   processes (benchmarks/processes.py): fork + exit + wait, a 100 MiB fork, RSS
       over many forks, sh -c true, a 50-stage pipeline, fork+exec loops (with peak RSS)
  17   futex round trip between two threads (tswitch-musl pingpong, threads_speed.py)
  18   thread create + join (tswitch-musl create), each against its trivial syscalls
  19   deterministic mode's cost: four compute threads and the futex round trip
  20   HTTP and bulk TCP through a host forward (benchmarks/net_speed.py): httpd-musl
       native, under qemu-x86_64 and under pyunik --net user,hostfwd (and mtu=65520)

Per-operation costs are differences, (t(N2) - t(N1)) / (N2 - N1), so process start-up,
loading and the program's few other syscalls cancel. Each t(N) is the median of several
runs, and the best run is shown beside it (noise on a shared machine only ever adds
time, so best-of is the cost when nothing interferes, and a median far above it is
worth a look). Runs of the different engines are interleaved so that a noisy moment
on the machine hits all of them alike, and each row notes how far its runs spread.
Rows 12, 17 and 18 judge pyunik against its own trivial syscall, and row 1 against
the bare-Unicorn floor, on the median of paired ratios, one per repeat from runs
made side by side (paired_ratios).

qiling is measured when `import qiling` works in this interpreter or in the one named
by the environment variable PYUNIK_QILING_PYTHON (keep qiling in its own venv: it
pins its own unicorn). qemu-x86_64 is measured when it is on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(ROOT, "guest_images", "bin")
SYSLOOP = os.path.join(BIN, "sysloop-musl")
LOOP = os.path.join(BIN, "loop-musl")
HELLO = os.path.join(BIN, "hello-musl")
HELLO_OUT = b"Hello from pyunik guest!\n"
STATLOOP = os.path.join(BIN, "statloop-musl")
SIGLOOP = os.path.join(BIN, "sigloop-musl")
PYTHON3 = "/usr/bin/python3"          # Debian's, a dynamic program with a large stdlib

sys.path.insert(0, ROOT)          # import pyunik from this checkout
import guest_speed  # noqa: E402  (benchmarks/guest_speed.py: rows 5 and 9-11)
import mm_churn  # noqa: E402  (benchmarks/mm_churn.py: row 8)
import threads_speed  # noqa: E402  (benchmarks/threads_speed.py: rows 13, 17-19)
import idle  # noqa: E402  (benchmarks/idle.py: row 14)
import observe_cost  # noqa: E402  (benchmarks/observe_cost.py: row 15)
import processes  # noqa: E402  (benchmarks/processes.py: row 16)
import net_speed  # noqa: E402  (benchmarks/net_speed.py: row 20)

# Child processes import pyunik from this checkout too.
CHILD_ENV = dict(os.environ)
CHILD_ENV["PYTHONPATH"] = ROOT + (os.pathsep + os.environ["PYTHONPATH"]
                                  if os.environ.get("PYTHONPATH") else "")
# pyunik's own modules are byte-compiled as in any installed copy (pip compiles them at
# install time); a PYTHONDONTWRITEBYTECODE in the environment would instead make every
# pyunik run recompile its source.
CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)

SIZES = {
    # name: (N1, N2) per mode
    "quick": {
        "repeats": 3, "loop_repeats": 5, "hello_repeats": 5,
        "sys_native": (10_000, 1_000_000), "sys_qemu": (10_000, 1_000_000),
        "sys_floor": (10_000, 200_000), "sys_pyunik": (10_000, 200_000),
        "sys_qiling": (1_000, 20_000),
        "loop": (1_000_000, 30_000_000),
        "rss_syscalls": 1_000_000,
        "py_repeats": 3, "stat": (10_000, 100_000), "dd_mb": (16, 128),
        "churn_native": (1_000, 21_000), "churn_pyunik": (200, 2_200),
        "sig_native": (10_000, 200_000), "sig_pyunik": (1_000, 10_000),
        "sig_getppid": (20_000, 200_000),
    },
    "full": {
        "repeats": 7, "loop_repeats": 9, "hello_repeats": 11,
        "sys_native": (100_000, 5_000_000), "sys_qemu": (100_000, 5_000_000),
        "sys_floor": (10_000, 1_000_000), "sys_pyunik": (10_000, 1_000_000),
        "sys_qiling": (1_000, 100_000),
        "loop": (1_000_000, 200_000_000),
        "rss_syscalls": 1_000_000,
        "py_repeats": 7, "stat": (10_000, 300_000), "dd_mb": (16, 256),
        "churn_native": (1_000, 41_000), "churn_pyunik": (200, 5_200),
        "sig_native": (10_000, 1_000_000), "sig_pyunik": (1_000, 30_000),
        "sig_getppid": (20_000, 200_000),
    },
}

TARGETS = dict(guest_speed.TARGETS) | dict(mm_churn.TARGETS) | dict(threads_speed.TARGETS) | \
    dict(idle.TARGETS) | dict(observe_cost.TARGETS) | dict(processes.TARGETS) | \
    dict(net_speed.TARGETS) | {
    "pyunik_over_floor": 5.0,          # x, row 1
    "hello_wall_s": 0.25,              # s, row 2
    "hello_rss_mb": 40.0,              # MB, row 2
    "loop_over_bare": 1.3,             # x, row 3
    "rss_growth_b_per_syscall": 1.0,   # bytes per syscall, row 4 ("flat")
    "hostfs_read_mb_s": 500.0,         # MB/s, row 6
    "stat_over_syscall": 2.0,          # x, row 7
    "signal_over_syscalls": 3.0,       # x (2 trivial syscalls' cost), row 12
}


NOISY = 0.5    # runs of one size spreading more than this (max/min - 1) get a warning


class BenchError(Exception):
    pass


# ---- running things ---------------------------------------------------------------------

@dataclass
class Run:
    wall: float        # seconds
    maxrss_kb: int     # peak resident set of that one child (ru_maxrss, KiB)
    status: int
    stdout: bytes
    stderr: bytes


RUSAGE = os.path.join(HERE, "rusage.py")
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_child(argv: list[str], env: dict | None = None,
              rss_samples: list | None = None) -> Run:
    """Run argv to its end, through benchmarks/rusage.py: wall time from spawn to reap
    and the child's own peak RSS (see rusage.py for why it is a separate process).
    With rss_samples, the command runs directly instead and its VmRSS is read from
    /proc every 100 ms into rss_samples as (seconds since start, bytes)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", prefix="pyunik-bench-") as res:
        if rss_samples is None:
            t0 = time.perf_counter()
            p = subprocess.Popen([sys.executable, "-S", "-I", RUSAGE, res.name] + argv,
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 env=env or CHILD_ENV)
            p.wait()
            fields = res.read().split()
            if len(fields) != 3:
                raise BenchError("%s: not run (%r)" % (" ".join(argv), _tail(err)))
            wall, maxrss, status = float(fields[0]), int(fields[1]), int(fields[2])
        else:
            hwm = 0
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 env=env or CHILD_ENV)
            while True:
                pid, st, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                now = _vmrss(p.pid)
                if now is not None:
                    rss_samples.append((time.perf_counter() - t0, now[0]))
                    hwm = now[1]
                time.sleep(0.1)
            wall = time.perf_counter() - t0
            p.returncode = status = os.waitstatus_to_exitcode(st)
            # ru_maxrss would be at least this process's size (see rusage.py); the
            # child's own high-water mark, last read while it ran, is the peak.
            maxrss = hwm // 1024
        out.seek(0)
        err.seek(0)
        return Run(wall, maxrss, status, out.read(), err.read())


def peak_rss_kb(argv: list[str]) -> int | None:
    """Peak RSS of one run of argv measured by GNU time, whose own tiny size is the
    floor (rusage.py's floor is a Python interpreter's). None without /usr/bin/time."""
    if GNU_TIME is None:
        return None
    with tempfile.NamedTemporaryFile("r", prefix="pyunik-bench-") as res:
        r = subprocess.run([GNU_TIME, "-f", "%M", "-o", res.name] + argv,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=CHILD_ENV)
        text = res.read().split()
        if r.returncode != 0 or not text:
            return None
        return int(text[-1])


def _tail(f) -> bytes:
    f.seek(0)
    return f.read()[-400:]


def _vmrss(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a live process, in bytes."""
    got = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    got[line[:5]] = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    if len(got) != 2:
        return None
    return got["VmRSS"], got["VmHWM"]


def check(run: Run, expect: bytes, what: str) -> Run:
    if run.status != 0 or expect not in run.stdout:
        raise BenchError("%s: exit %d, stdout %r, stderr %r" % (
            what, run.status, run.stdout[-200:], run.stderr[-400:]))
    return run


class Engine:
    """One way of running a guest program as a child process."""

    def __init__(self, name: str, prefix: list[str]):
        self.name = name
        self.prefix = prefix

    def argv(self, program: str, args: list[str]) -> list[str]:
        return self.prefix + [program] + args

    def run(self, program: str, args: list[str], expect: bytes, **kw) -> Run:
        return check(run_child(self.argv(program, args), **kw), expect,
                     "%s %s %s" % (self.name, os.path.basename(program), " ".join(args)))


class QilingEngine(Engine):
    """qiling in its own interpreter; the program is copied into a temporary rootfs."""

    def __init__(self, python: str, rootfs: str):
        super().__init__("qiling", [python, os.path.join(HERE, "qiling_run.py"), rootfs])
        self.rootfs = rootfs

    def argv(self, program: str, args: list[str]) -> list[str]:
        dest = os.path.join(self.rootfs, os.path.basename(program))
        if not os.path.exists(dest):
            shutil.copy2(program, dest)
        return super().argv(dest, args)


def find_qiling() -> tuple[str, str] | None:
    """(python, qiling version) for an interpreter where `import qiling` works."""
    candidates = [sys.executable]
    if os.environ.get("PYUNIK_QILING_PYTHON"):
        candidates.insert(0, os.environ["PYUNIK_QILING_PYTHON"])
    for py in candidates:
        try:
            r = subprocess.run([py, "-c", "import qiling, importlib.metadata as m; "
                                "print(m.version('qiling'))"],
                               capture_output=True, timeout=120, env=os.environ)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return py, r.stdout.decode().strip()
    return None


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def spread(xs: list[float]) -> float:
    """(max - min) / min: how noisy a set of runs was."""
    m = min(xs)
    return (max(xs) - m) / m if m else 0.0


def per_op(samples: dict[int, list[float]], n1: int, n2: int, scale: float,
           stat=median) -> float:
    """Cost of one operation from runs of N1 and N2 operations: the median (or stat) of
    each size, differenced."""
    return (stat(samples[n2]) - stat(samples[n1])) / (n2 - n1) * scale


def paired_ratios(num: dict[int, list[float]], num_sizes: tuple[int, int],
                  den: dict[int, list[float]], den_sizes: tuple[int, int]) -> list[float]:
    """One ratio per repeat: that repeat's per-operation cost of the numerator over
    the same repeat's of the denominator, each from its own two sizes' runs in that
    repeat (run side by side, so a slower spell of the machine lasting seconds
    falls on both sides of a ratio alike; see README, "How the numbers are made")."""
    (a1, a2), (b1, b2) = num_sizes, den_sizes
    out = []
    for r in range(min(len(num[a1]), len(num[a2]), len(den[b1]), len(den[b2]))):
        top = (num[a2][r] - num[a1][r]) / (a2 - a1)
        bottom = (den[b2][r] - den[b1][r]) / (b2 - b1)
        if bottom > 0:
            out.append(top / bottom)
    return out


def ratio_note(ratios: list[float], from_medians: float, from_best: float) -> str:
    """The note of a ratio row judged on the median of paired ratios."""
    return "median of %d paired (%s..%s); medians' ratio %s, best runs' %s" % (
        len(ratios), _fmt(min(ratios)), _fmt(max(ratios)), _fmt(from_medians),
        _fmt(from_best))


# ---- the rows ---------------------------------------------------------------------------

class Bench:
    def __init__(self, mode: str, log):
        self.mode = mode
        self.sz = SIZES[mode]
        self.log = log
        self.rows: list[dict] = []
        self.raw: dict = {}
        self.notes: list[str] = []
        self.noisy_rows: list[tuple[str, float]] = []
        self.engines: dict[str, Engine] = {
            "native": Engine("native", []),
            "pyunik": Engine("pyunik", [sys.executable, "-m", "pyunik", "run", "-q"]),
        }
        qemu = shutil.which("qemu-x86_64")
        if qemu:
            self.engines["qemu"] = Engine("qemu-x86_64", [qemu])
        else:
            self.notes.append("qemu-x86_64 not on PATH (Debian: apt-get install qemu-user): "
                              "its rows are skipped")
        self.qiling = find_qiling()
        self._rootfs = None
        if self.qiling:
            self._rootfs = tempfile.mkdtemp(prefix="pyunik-bench-qlroot-")
            self.engines["qiling"] = QilingEngine(self.qiling[0], self._rootfs)
        else:
            self.notes.append("qiling not importable here nor in $PYUNIK_QILING_PYTHON: "
                              "its rows are skipped")

    # -- row 6 --

    def hostfs_read(self) -> None:
        self.log("row 6: sequential read of a hostfs file with 128 KiB reads")
        busybox = shutil.which("busybox") or "/bin/busybox"
        if not os.path.exists(busybox):
            self.notes.append("busybox not installed: row 6 skipped")
            return
        n1, n2 = self.sz["dd_mb"]
        tmp = tempfile.mkdtemp(prefix="pyunik-bench-dd-")
        try:
            chunk = os.urandom(1 << 20)
            with open(os.path.join(tmp, "big"), "wb") as f:
                for _ in range(n2):
                    f.write(chunk)
            engines = {"native": Engine("native", []),
                       "pyunik": Engine("pyunik", self.engines["pyunik"].prefix
                                        + ["-v", tmp + ":/vol"])}
            path = {"native": os.path.join(tmp, "big"), "pyunik": "/vol/big"}
            R = self.sz["repeats"]
            times: dict[str, dict[int, list[float]]] = {}
            for _ in range(R):
                for name, eng in engines.items():
                    for mb in (n1, n2):
                        run = eng.run(busybox, ["dd", "if=" + path[name], "of=/dev/null",
                                                "bs=131072", "count=%d" % (mb * 8)], b"",
                                      )
                        times.setdefault(name, {}).setdefault(mb, []).append(run.wall)
            rate = {name: (n2 - n1) / (median(t[n2]) - median(t[n1]))
                    for name, t in times.items()}
            self.raw["hostfs_read"] = {"mb": [n1, n2], "wall_s": times}
            self.row(6, "dd 128 KiB reads: native", rate["native"], "MB/s",
                     note="%d..%d MB, median of %d" % (n1, n2, R))
            t = TARGETS["hostfs_read_mb_s"]
            self.row(6, "dd 128 KiB reads: pyunik (hostfs)", rate["pyunik"], "MB/s",
                     ">= %g" % t, rate["pyunik"] >= t,
                     note="%d..%d MB, median of %d" % (n1, n2, R))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- row 7 --

    def stat_cost(self) -> None:
        self.log("row 7: stat of one path against a trivial syscall")
        n1, n2 = self.sz["stat"]
        R = self.sz["repeats"]
        eng = self.engines["pyunik"]
        samples: dict[str, dict[int, list[float]]] = {"stat": {}, "getppid": {}}
        for _ in range(R):
            for n in (n1, n2):
                samples["stat"].setdefault(n, []).append(
                    eng.run(STATLOOP, [str(n), "/etc/passwd"], b"done %d" % n).wall)
                samples["getppid"].setdefault(n, []).append(
                    eng.run(SYSLOOP, [str(n)], b"done %d" % n).wall)
        us = {k: per_op(v, n1, n2, 1e6) for k, v in samples.items()}
        self.raw["stat"] = {"us": us}
        self.row(7, "stat(\"/etc/passwd\"): pyunik", us["stat"], "us/call",
                 note="N=%s..%s, median of %d" % (_n(n1), _n(n2), R))
        self.row(7, "getppid: pyunik (same run)", us["getppid"], "us/call")
        t = TARGETS["stat_over_syscall"]
        ratio = us["stat"] / us["getppid"]
        self.row(7, "stat / trivial syscall", ratio, "x", "<= %g" % t, ratio <= t)

    # -- row 12 --

    def signal_cost(self) -> None:
        self.log("row 12: signal delivery and return (tgkill to itself, handler, "
                 "rt_sigreturn)")
        R = self.sz["repeats"]
        plan = [(name, self.sz["sig_native" if name != "pyunik" else "sig_pyunik"])
                for name in ("native", "qemu", "pyunik") if name in self.engines]
        times: dict[str, dict[int, list[float]]] = {"getppid": {}}
        for _ in range(R):
            for name, ns in plan:
                for n in ns:
                    run = self.engines[name].run(SIGLOOP, [str(n)], b"done %d\n" % n)
                    times.setdefault(name, {}).setdefault(n, []).append(run.wall)
            for n in self.sz["sig_getppid"]:
                times["getppid"].setdefault(n, []).append(
                    self.engines["pyunik"].run(SYSLOOP, [str(n)], b"done %d" % n).wall)
        sizes = dict(plan) | {"getppid": self.sz["sig_getppid"]}
        us = {k: per_op(times[k], *sizes[k], 1e6) for k in sizes}
        us["getppid"] *= 2                     # per pair of syscalls
        best = {k: per_op(times[k], *sizes[k], 1e6, min) for k in ("pyunik", "getppid")}
        best["getppid"] *= 2
        pairs = [r / 2 for r in paired_ratios(times["pyunik"], sizes["pyunik"],
                                              times["getppid"], sizes["getppid"])]
        self.raw["signal"] = {"us": us, "best_us": best, "paired_ratios": pairs,
                              "sizes": sizes,
                              "wall_s": {k: {str(n): v for n, v in d.items()}
                                         for k, d in times.items()}}
        for name, _ in plan:
            self.row(12, "signal round trip: %s" % name, us[name], "us",
                     note="N=%s..%s, median of %d" % (_n(sizes[name][0]), _n(sizes[name][1]),
                                                      R))
        self.row(12, "2 trivial syscalls: pyunik (same run)", us["getppid"], "us",
                 note="getppid N=%s..%s, median of %d" % (_n(sizes["getppid"][0]),
                                                          _n(sizes["getppid"][1]), R))
        t = TARGETS["signal_over_syscalls"]
        ratio = median(pairs)
        self.row(12, "signal round trip / 2 syscalls", ratio, "x", "<= %g" % t, ratio <= t,
                 note=ratio_note(pairs, us["pyunik"] / us["getppid"],
                                 best["pyunik"] / best["getppid"]))

    def close(self) -> None:
        if self._rootfs:
            shutil.rmtree(self._rootfs, ignore_errors=True)

    def noisy(self, what: str, samples: list[float]) -> float:
        """The spread of a set of runs, remembered when it is large enough to mention."""
        sp = spread(samples)
        if sp > NOISY:
            self.noisy_rows.append((what, sp))
        return sp

    def row(self, section: int, name: str, value: float | None, unit: str,
            target: str = "", ok: bool | None = None, note: str = "") -> None:
        self.rows.append({"row": section, "name": name, "value": value, "unit": unit,
                          "target": target, "result": "" if ok is None else
                          ("PASS" if ok else "MISS"), "note": note})

    # -- row 1 --

    def syscall_cost(self) -> None:
        self.log("row 1: trivial syscall cost (getppid)")
        R = self.sz["repeats"]
        plan = [(name, self.sz["sys_" + key]) for name, key in
                (("native", "native"), ("qemu", "qemu"), ("pyunik", "pyunik"),
                 ("qiling", "qiling")) if name in self.engines]
        times: dict[str, dict[int, list[float]]] = {}
        rss: dict[str, dict[int, list[int]]] = {}
        inproc: dict[int, list[float]] = {}
        floor: dict[int, list[float]] = {}
        pn = self.sz["sys_pyunik"]
        fn = self.sz["sys_floor"]
        floor_run = FloorLoop()
        floor_run.time(1000)                                   # warm up
        for r in range(R):
            for name, ns in plan:
                eng = self.engines[name]
                for n in ns:
                    run = eng.run(SYSLOOP, [str(n)], b"done %d\n" % n)
                    times.setdefault(name, {}).setdefault(n, []).append(run.wall)
                    rss.setdefault(name, {}).setdefault(n, []).append(run.maxrss_kb)
            for n in fn:
                floor.setdefault(n, []).append(floor_run.time(n))
            for n in pn:
                inproc.setdefault(n, []).append(pyunik_inprocess(SYSLOOP, n))
            self.log("  repeat %d/%d done" % (r + 1, R))

        samples = dict(times) | {"floor": floor, "pyunik_inproc": inproc}
        sizes = {name: ns for name, ns in plan} | {"floor": fn, "pyunik_inproc": pn}
        us = {k: per_op(samples[k], *sizes[k], 1e6) for k in sizes}
        best = {k: per_op(samples[k], *sizes[k], 1e6, min) for k in sizes}
        self.raw["syscall"] = {
            "sizes": sizes,
            "wall_s": {name: {str(n): v for n, v in d.items()} for name, d in times.items()}
            | {"floor": {str(n): v for n, v in floor.items()},
               "pyunik_inproc": {str(n): v for n, v in inproc.items()}},
            "maxrss_kb": {name: {str(n): v for n, v in d.items()} for name, d in rss.items()},
            "us_per_syscall": us,
            "us_per_syscall_best": best,
        }
        label = {"native": "native", "qemu": "qemu-x86_64", "floor": "bare Unicorn floor",
                 "pyunik": "pyunik (subprocess)", "pyunik_inproc": "pyunik (in-process)",
                 "qiling": "qiling"}
        for key in ("native", "qemu", "floor", "pyunik", "pyunik_inproc", "qiling"):
            if key in us:
                n1, n2 = sizes[key]
                self.row(1, "getppid: " + label[key], us[key], "us/syscall",
                         note="N=%s..%s, median of %d; best %s, spread %.0f%%" % (
                             _n(n1), _n(n2), R, _fmt(best[key]),
                             100 * self.noisy(label[key], samples[key][n2])))
        p = us["pyunik"]
        pairs = paired_ratios(times["pyunik"], sizes["pyunik"], floor, fn)
        self.raw["syscall"]["paired_ratios"] = pairs
        ratio = median(pairs)
        t = TARGETS["pyunik_over_floor"]
        self.row(1, "pyunik / floor", ratio, "x", "<= %g" % t, ratio <= t,
                 note=ratio_note(pairs, p / us["floor"], best["pyunik"] / best["floor"]))
        self.row(1, "pyunik / floor, best runs", best["pyunik"] / best["floor"], "x")
        self.row(1, "pyunik in-process / floor", us["pyunik_inproc"] / us["floor"], "x")
        self.row(1, "pyunik / native", p / us["native"], "x")
        if "qemu" in us:
            self.row(1, "pyunik / qemu-x86_64", p / us["qemu"], "x")
        if "qiling" in us:
            self.row(1, "qiling / pyunik", us["qiling"] / p, "x")
        # Peak-RSS growth between the small and the large run, per syscall (row 4 uses it).
        self.raw["syscall"]["rss_growth_b_per_syscall"] = {
            name: (median(rss[name][ns[1]]) - median(rss[name][ns[0]])) * 1024
            / (ns[1] - ns[0]) for name, ns in plan}

    # -- row 2 --

    def hello(self) -> None:
        self.log("row 2: hello-musl start-up")
        R = self.sz["hello_repeats"]
        names = [n for n in ("native", "qemu", "pyunik", "qiling") if n in self.engines]
        walls: dict[str, list[float]] = {n: [] for n in names}
        rss: dict[str, list[int]] = {n: [] for n in names}
        for n in names:                                        # warm the page cache
            self.engines[n].run(HELLO, [], HELLO_OUT)
        for _ in range(R):
            for n in names:
                run = self.engines[n].run(HELLO, [], HELLO_OUT)
                walls[n].append(run.wall)
                rss[n].append(run.maxrss_kb)
        # Peak RSS: GNU time where it exists (a floor of its own few hundred KB), else
        # the timing runs' numbers (a floor of a small Python interpreter, ~8 MB).
        rss_by = "GNU time"
        if GNU_TIME:
            by_time = {n: [peak_rss_kb(self.engines[n].argv(HELLO, [])) for _ in range(3)]
                       for n in names}
            if any(None in v for v in by_time.values()):
                rss_by = "rusage.py"
            else:
                rss = by_time
        else:
            rss_by = "rusage.py"
        self.raw["hello"] = {"wall_s": walls, "maxrss_kb": rss, "rss_measured_by": rss_by}
        label = {"native": "native", "qemu": "qemu-x86_64", "pyunik": "pyunik",
                 "qiling": "qiling"}
        med = {n: median(walls[n]) for n in names}
        peak = {n: max(rss[n]) / 1024 for n in names}
        for n in names:
            if n == "pyunik":
                t = TARGETS["hello_wall_s"]
                self.row(2, "hello wall: pyunik", med[n], "s", "<= %g" % t, med[n] <= t,
                         note="median of %d, spread %.0f%%" % (R, 100 * spread(walls[n])))
            else:
                self.row(2, "hello wall: " + label[n], med[n], "s",
                         note="median of %d" % R)
        for n in names:
            if n == "pyunik":
                t = TARGETS["hello_rss_mb"]
                self.row(2, "hello peak RSS: pyunik", peak[n], "MB", "<= %g" % t,
                         peak[n] <= t, note="max of %d runs, by %s" % (len(rss[n]), rss_by))
            else:
                self.row(2, "hello peak RSS: " + label[n], peak[n], "MB",
                         note="max of %d runs, by %s" % (len(rss[n]), rss_by))
        self.row(2, "hello wall: pyunik / native", med["pyunik"] / med["native"], "x")
        if "qemu" in med:
            self.row(2, "hello wall: pyunik / qemu-x86_64", med["pyunik"] / med["qemu"], "x")
        if "qiling" in med:
            self.row(2, "hello wall: qiling / pyunik", med["qiling"] / med["pyunik"], "x")

    # -- row 3 --

    def compute_loop(self) -> None:
        self.log("row 3: compute loop (loop-musl)")
        R = self.sz["loop_repeats"]
        n1, n2 = self.sz["loop"]
        engines = {
            "native": self.engines["native"],
            "bare": Engine("bare Unicorn", [sys.executable,
                                            os.path.join(HERE, "bare_unicorn.py")]),
            "pyunik": self.engines["pyunik"],
        }
        if "qemu" in self.engines:
            engines["qemu"] = self.engines["qemu"]
        expect = {}
        for n in (n1, n2):                                     # the native checksum line
            expect[n] = check(run_child([LOOP, str(n)]), b"loop %d" % n, "native loop").stdout
        times: dict[str, dict[int, list[float]]] = {k: {n1: [], n2: []} for k in engines}
        for r in range(R):
            for key, eng in engines.items():
                for n in (n1, n2):
                    times[key][n].append(eng.run(LOOP, [str(n)], expect[n]).wall)
            self.log("  repeat %d/%d done" % (r + 1, R))
        ns_iter = {k: per_op(v, n1, n2, 1e9) for k, v in times.items()}
        best = {k: per_op(v, n1, n2, 1e9, min) for k, v in times.items()}
        self.raw["loop"] = {"sizes": [n1, n2],
                            "wall_s": {k: {str(n): x for n, x in v.items()}
                                       for k, v in times.items()},
                            "ns_per_iteration": ns_iter,
                            "ns_per_iteration_best": best}
        label = {"native": "native", "qemu": "qemu-x86_64", "bare": "bare Unicorn",
                 "pyunik": "pyunik"}
        for key in ("native", "qemu", "bare", "pyunik"):
            if key in ns_iter:
                self.row(3, "loop: " + label[key], ns_iter[key], "ns/iter",
                         note="N=%s..%s, median of %d; best %s, spread %.0f%%" % (
                             _n(n1), _n(n2), R, _fmt(best[key]),
                             100 * self.noisy("loop " + label[key], times[key][n2])))
        ratio = ns_iter["pyunik"] / ns_iter["bare"]
        t = TARGETS["loop_over_bare"]
        self.row(3, "loop: pyunik / bare Unicorn", ratio, "x", "<= %g" % t, ratio <= t)
        self.row(3, "loop: pyunik / bare Unicorn, best runs", best["pyunik"] / best["bare"],
                 "x")
        self.row(3, "loop: pyunik / native", ns_iter["pyunik"] / ns_iter["native"], "x")
        if "qemu" in ns_iter:
            self.row(3, "loop: pyunik / qemu-x86_64", ns_iter["pyunik"] / ns_iter["qemu"], "x")

    # -- row 4 --

    def rss_flatness(self) -> None:
        n = self.sz["rss_syscalls"]
        self.log("row 4: RSS over %s syscalls" % _n(n))
        samples: list[tuple[float, int]] = []
        run = self.engines["pyunik"].run(SYSLOOP, [str(n)], b"done %d\n" % n,
                                         rss_samples=samples)
        # Start-up is a hello run; the guest's loop fills the time after it.
        startup = median(self.raw["hello"]["wall_s"]["pyunik"]) if "hello" in self.raw \
            else 0.25
        in_loop = [(t, b) for t, b in samples if t >= startup + 0.1]
        self.raw["rss"] = {"syscalls": n, "wall_s": run.wall, "samples": samples,
                           "maxrss_kb": run.maxrss_kb, "startup_s": startup}
        if len(in_loop) < 2:
            self.row(4, "RSS growth", None, "B/syscall",
                     note="run too short to sample (%.2f s)" % run.wall)
            return
        (t_a, rss_a), (t_b, rss_b) = in_loop[0], in_loop[-1]
        loop_time = max(run.wall - startup, 1e-9)
        calls = n * (t_b - t_a) / loop_time
        growth = (rss_b - rss_a) / calls
        t = TARGETS["rss_growth_b_per_syscall"]
        self.row(4, "RSS at loop start (t=%.1fs)" % t_a, rss_a / 2**20, "MB")
        self.row(4, "RSS at loop end (t=%.1fs)" % t_b, rss_b / 2**20, "MB",
                 note="%d samples, run %.2f s" % (len(samples), run.wall))
        self.row(4, "peak RSS (VmHWM), %s syscalls" % _n(n), run.maxrss_kb / 1024, "MB",
                 note="last read before exit")
        self.row(4, "RSS growth: pyunik (sampled)", growth, "B/syscall", "<= %g" % t,
                 growth <= t, note="about %s syscalls between samples" % _n(int(calls)))
        pg = self.raw.get("syscall", {}).get("rss_growth_b_per_syscall", {})
        for key, label in (("pyunik", "pyunik"), ("qiling", "qiling")):
            if key in pg:
                ns = self.raw["syscall"]["sizes"][key]
                self.row(4, "peak-RSS growth: " + label, pg[key], "B/syscall",
                         note="row 1 runs, N=%s..%s" % (_n(ns[0]), _n(ns[1])))


class FloorLoop:
    """The floor: bare Unicorn running `mov eax,110; syscall; dec rbx; jnz` with an
    empty Python callback on `syscall`, hooked through the ordinary unicorn binding.
    This is what any Unicorn-based emulator with a Python kernel pays before its kernel
    does anything."""

    CODE = bytes.fromhex("b86e000000"    # mov eax, 110 (getppid)
                         "0f05"          # syscall
                         "48ffcb"        # dec rbx (rcx and r11 belong to syscall)
                         "75f4")         # jnz back to mov
    BASE = 0x400000

    def __init__(self):
        from unicorn import (UC_ARCH_X86, UC_HOOK_INSN, UC_MODE_64, UC_PROT_EXEC,
                             UC_PROT_READ, Uc)
        from unicorn import x86_const as x86
        self.uc = Uc(UC_ARCH_X86, UC_MODE_64)
        self.uc.mem_map(self.BASE, 0x1000, UC_PROT_READ | UC_PROT_EXEC)
        self.uc.mem_write(self.BASE, self.CODE)
        self.calls = 0

        def on_syscall(uc, user_data):
            pass

        self.uc.hook_add(UC_HOOK_INSN, on_syscall, None, 1, 0, x86.UC_X86_INS_SYSCALL)
        self.rbx = x86.UC_X86_REG_RBX

    def time(self, n: int) -> float:
        self.uc.reg_write(self.rbx, n)
        t0 = time.perf_counter()
        self.uc.emu_start(self.BASE, self.BASE + len(self.CODE))
        t = time.perf_counter() - t0
        if self.uc.reg_read(self.rbx) != 0:
            raise BenchError("floor loop stopped early")
        return t


_devnull_fd = None


def pyunik_inprocess(program: str, n: int) -> float:
    """Wall time of pyunik.run() on the program in this process, output discarded."""
    global _devnull_fd
    import pyunik
    if _devnull_fd is None:
        _devnull_fd = os.open(os.devnull, os.O_WRONLY)
    t0 = time.perf_counter()
    status = pyunik.run([program, str(n)], stdout=_devnull_fd, quiet=True)
    t = time.perf_counter() - t0
    if status != 0:
        raise BenchError("pyunik in-process: exit %d" % status)
    return t


# ---- output -----------------------------------------------------------------------------

def _n(n: int) -> str:
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % div == 0:
            return "%d%s" % (n // div, suffix)
    return str(n)


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 0.1:
        return "%.2f" % v
    if a >= 0.001:
        return "%.3f" % v
    return "%.2g" % v


TITLES = {
    1: "1. trivial syscall cost: (t(N2) - t(N1)) / (N2 - N1)",
    2: "2. `pyunik run hello-musl`: start-up to exit",
    3: "3. compute loop (loop-musl): (t(N2) - t(N1)) / (N2 - N1)",
    4: "4. RSS over a long syscall loop (sysloop-musl)",
    5: "5. `python3 -c pass` (Debian's dynamic python3, its stdlib in the automatic image)",
    6: "6. sequential read of a hostfs file, busybox dd bs=128K: (N2 - N1) MB / (t2 - t1)",
    7: "7. stat(2) of one path (statloop-musl) against getppid, per call",
    12: "12. signal delivery and return (sigloop-musl: tgkill to itself, handler, "
        "rt_sigreturn)",
} | guest_speed.TITLES | mm_churn.TITLES | threads_speed.TITLES | idle.TITLES | \
    observe_cost.TITLES | processes.TITLES | net_speed.TITLES


def table(rows: list[dict]) -> str:
    w = max(len(r["name"]) for r in rows) + 2
    head = "%-*s %10s  %-10s %-8s %-6s %s" % (w, "measurement", "value", "unit", "target",
                                              "result", "note")
    lines = [head, "-" * len(head)]
    section = None
    for r in rows:
        if r["row"] != section:
            section = r["row"]
            if len(lines) > 2:
                lines.append("")
            lines.append(TITLES[section])
        lines.append(("  %-*s %10s  %-10s %-8s %-6s %s" % (
            w - 2, r["name"], _fmt(r["value"]), r["unit"], r["target"], r["result"],
            r["note"])).rstrip())
    return "\n".join(lines)


def environment(bench: Bench) -> dict:
    import unicorn
    import pyunik
    env = {"pyunik": pyunik.__version__, "python": platform.python_version(),
           "unicorn": unicorn.__version__,
           "machine": platform.machine(), "cpus": os.cpu_count(),
           "mode": bench.mode}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    env["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    if "qemu" in bench.engines:
        r = subprocess.run([bench.engines["qemu"].prefix[0], "--version"],
                           capture_output=True, text=True)
        env["qemu"] = r.stdout.splitlines()[0] if r.stdout else "?"
    if bench.qiling:
        env["qiling"] = "%s (%s)" % (bench.qiling[1], bench.qiling[0])
    try:
        r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                           capture_output=True, text=True)
        if r.returncode == 0:
            env["pyunik"] += " (%s)" % r.stdout.strip()
    except OSError:
        pass
    try:
        with open("/proc/loadavg") as f:
            env["loadavg_at_start"] = f.read().split()[0]
    except OSError:
        pass
    return env


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="pyunik benchmark: pyunik beside native, "
                                 "qemu-x86_64, bare Unicorn and qiling, with ratios.")
    ap.add_argument("--quick", action="store_true", help="small sizes (about 30 s)")
    ap.add_argument("--json", metavar="FILE", help="also write every number to FILE")
    ap.add_argument("--only", metavar="ROWS",
                    default="1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20",
                    help="comma-separated rows to run (default all: 1..20)")
    args = ap.parse_args(argv)
    only = {int(x) for x in args.only.split(",") if x.strip()}

    def log(msg: str) -> None:
        print("[%6.1fs] %s" % (time.perf_counter() - t_start, msg), file=sys.stderr,
              flush=True)

    t_start = time.perf_counter()
    bench = Bench("quick" if args.quick else "full", log)
    env = environment(bench)
    try:
        if 1 in only:
            bench.syscall_cost()
        if 2 in only or 4 in only:
            bench.hello()
        if 4 in only:
            bench.rss_flatness()
        if 3 in only:
            bench.compute_loop()
        if 5 in only:
            guest_speed.python_startup(bench, median, PYTHON3)
        if 6 in only:
            bench.hostfs_read()
        if 7 in only:
            bench.stat_cost()
        if 8 in only:
            mm_churn.churn(bench, median, per_op, _n, _fmt, BIN, PYTHON3, CHILD_ENV,
                           BenchError)
        if 9 in only:
            guest_speed.c_loops(bench, check, median, per_op, BIN)
        if 10 in only:
            guest_speed.python_workloads(bench, check, median, PYTHON3)
        if 11 in only:
            guest_speed.busybox_files(bench, check, median, Engine, BenchError)
        if 12 in only:
            bench.signal_cost()
        if 13 in only:
            threads_speed.compute_threads(bench, check, median, per_op, BIN)
        if 14 in only:
            idle.sleeping_guest(bench, bench.engines["pyunik"].prefix, CHILD_ENV)
        if 15 in only:
            observe_cost.observer_cost(bench, median, Engine, PYTHON3)
        if 16 in only:
            processes.fork_costs(bench, check, median, per_op, peak_rss_kb, BIN)
            processes.shell_costs(bench, median, peak_rss_kb)
            processes.exec_loop(bench, median, per_op, peak_rss_kb, BIN)
        if 17 in only or 18 in only:
            threads_speed.switch_costs(bench, check, median, per_op, BIN,
                                       paired_ratios, ratio_note)
        if 19 in only:
            threads_speed.deterministic_cost(bench, check, median, per_op, BIN)
        if 20 in only:
            net_speed.http_and_bulk(bench, BIN, bench.engines["pyunik"].prefix, CHILD_ENV)
    except BenchError as e:
        print("benchmark failed: %s" % e, file=sys.stderr)
        return 1
    finally:
        bench.close()
    if 2 not in only:
        bench.rows = [r for r in bench.rows if r["row"] != 2]
    bench.rows.sort(key=lambda r: r["row"])
    elapsed = time.perf_counter() - t_start

    print("pyunik %s benchmark (%s)  python %s  unicorn %s  %s x%s  load %s" % (
        env["pyunik"], env["mode"], env["python"], env["unicorn"],
        env.get("cpu", env["machine"]), env["cpus"], env.get("loadavg_at_start", "?")))
    if "qemu" in env:
        print(env["qemu"])
    if "qiling" in env:
        print("qiling " + env["qiling"])
    for note in bench.notes:
        print("note: " + note)
    print()
    print(table(bench.rows))
    print()
    results = [r["result"] for r in bench.rows if r["result"]]
    print("%d of %d targets met; took %.0f s" % (results.count("PASS"), len(results), elapsed))
    if bench.noisy_rows:
        print("warning: runs of one size spread by more than %d%% in: %s. The machine was "
              "busy, or the engine is bimodal (see README); compare the best-of figures and "
              "rerun on an idle machine before trusting a close PASS or MISS." % (
                  100 * NOISY, ", ".join("%s (%.0f%%)" % (w, 100 * sp)
                                         for w, sp in bench.noisy_rows)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "elapsed_s": elapsed, "targets": TARGETS,
                       "rows": bench.rows, "raw": bench.raw, "notes": bench.notes,
                       "noisy": bench.noisy_rows},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
