"""`pyunik compare --corpus` of 100 command lines with one worker and with -j N
(default: the host's cores): the wall time of each and the speed-up.

    python benchmarks/compare_corpus.py [--jobs N] [--lines 100] [--no-strace]

The corpus is made of the small static guest programs in guest_images/bin with a few
argument shapes, so each line is short and the figure is mostly the parallelism of the
harness (two child processes per line, native and pyunik), not guest compute.

Layer: benchmarks (runs `python -m pyunik compare` as a user would).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROGRAMS = [("hello-musl", ""), ("hello-glibc", ""), ("args-musl", "'one two' three"),
            ("args-glibc", "x ''"), ("exitcode-musl", "3"), ("exitcode-glibc", "7"),
            ("fileio-musl", ""), ("errnotest-glibc", ""), ("info-musl", ""),
            ("dirs-glibc", "")]


def corpus(lines: int) -> str:
    out = []
    for i in range(lines):
        prog, args = PROGRAMS[i % len(PROGRAMS)]
        out.append(("guest_images/bin/%s %s" % (prog, args)).strip())
    return "\n".join(out) + "\n"


def run(path: str, jobs: int, extra: list[str]) -> tuple[float, dict]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "pyunik", "compare", "-q", "--corpus", path,
                        "-j", str(jobs), "--json", out.name] + extra, cwd=REPO,
                       env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True,
                       stdin=subprocess.DEVNULL)
        seconds = time.monotonic() - start
        return seconds, json.load(open(out.name))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--lines", type=int, default=100)
    ap.add_argument("--no-strace", action="store_true")
    args = ap.parse_args()
    extra = ["--no-strace"] if args.no_strace else []
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write(corpus(args.lines))
        f.flush()
        one, r1 = run(f.name, 1, extra)
        many, rn = run(f.name, args.jobs, extra)
    print("compare --corpus of %d lines%s, %d cores" % (args.lines, " (no strace)" if extra
                                                        else " (with strace)",
                                                        os.cpu_count() or 1))
    print("  -j 1: %6.1f s  (%d same)" % (one, r1["same"]))
    print("  -j %d: %6.1f s  (%d same)" % (args.jobs, many, rn["same"]))
    print("  speed-up: %.2fx" % (one / many))
    return 0


if __name__ == "__main__":
    sys.exit(main())
