"""--stats: what a run did, counted, written at its end.

System calls by count and total time (a call that waited counts its wait), the files
most bytes went through (read and write family calls, named as /proc/<pid>/fd names
them), CPU faults by kind, signals delivered, context switches, the peak number of
Unicorn memory regions and of guest memory mapped (sampled after every call that
changes mappings, and at the end), pyunik's own peak resident memory, wall and CPU
time. `summary()` is the JSON-ready dict; `text()` the few lines printed to stderr.

Layer: trace (an Observer, trace/observer.py). Calls: fs/proc/fd.py for an fd's name.
"""

from __future__ import annotations

import json
import resource
import time

from ..abi import linux as L
from ..errors import KernelError
from ..fs.proc.fd import fd_target
from .observer import Observer

# Calls whose result is a byte count moved through the file named by their first
# argument: reads into the guest, writes out of it.
_READS = {"read", "pread64", "readv", "preadv", "preadv2"}
_WRITES = {"write", "pwrite64", "writev", "pwritev", "pwritev2"}
# Calls that change the address space: the peaks are sampled after them.
_MEMORY_CALLS = {"mmap", "munmap", "mprotect", "brk", "mremap", "shmat", "shmdt"}
TOP_FILES = 10


class RunStats(Observer):
    def __init__(self):
        self.start_wall = time.perf_counter()
        self.start_usage = resource.getrusage(resource.RUSAGE_SELF)
        self.calls: dict[str, list] = {}         # name -> [count, total ns, errors]
        self.files: dict[bytes, list] = {}       # fd name -> [bytes read, bytes written]
        self.faults: dict[str, int] = {}
        self.signals: dict[str, int] = {}
        self.blocked_ns = 0
        self.peak_regions = 0
        self.peak_guest = 0
        self.result: dict | None = None

    def syscall(self, t, row, name, args, result, start_ns, end_ns) -> None:
        entry = self.calls.get(name)
        if entry is None:
            entry = self.calls[name] = [0, 0, 0]
        entry[0] += 1
        entry[1] += end_ns - start_ns
        if not self.peak_guest:
            self._sample(t.process)       # the loaded program, before any mmap
        if result is None:                # exit, exit_group
            return
        if -4096 < result < 0:
            entry[2] += 1
            return
        if name in _READS or name in _WRITES:
            self._file_bytes(t, args[0], result, name in _WRITES)
        elif name in _MEMORY_CALLS:
            self._sample(t.process)

    def _file_bytes(self, t, fd: int, count: int, written: bool) -> None:
        fd &= 0xFFFFFFFF
        try:
            key = fd_target(t.process.fds.get(fd))
        except (KernelError, AttributeError):
            key = b""
        if not key or key == b"anon_inode:[hoststream]":
            key = b"fd %d (host)" % fd      # stdio the host handed over: by number
        entry = self.files.get(key)
        if entry is None:
            entry = self.files[key] = [0, 0]
        entry[1 if written else 0] += count

    def _sample(self, process) -> None:
        try:
            self.peak_regions = max(self.peak_regions, process.engine.region_count())
        except Exception:     # an engine already closed at the end: keep what was seen
            pass
        self.peak_guest = max(self.peak_guest, process.mm.mapped)

    def blocked(self, t, name, what, start_ns, end_ns) -> None:
        self.blocked_ns += end_ns - start_ns

    def signal(self, t, sig, handled) -> None:
        name = L.signal_name(sig)
        self.signals[name] = self.signals.get(name, 0) + 1

    def fault(self, t, fault) -> None:
        self.faults[fault.kind] = self.faults.get(fault.kind, 0) + 1

    def finish(self, kernel) -> None:
        for p in kernel.processes.values():
            if p.mm is not None and p.mm.mapped:
                self._sample(p)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        calls = sorted(self.calls.items(), key=lambda kv: (-kv[1][0], kv[0]))
        files = sorted(self.files.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))
        self.result = {
            "exit_status": kernel.exit_status,
            "wall_seconds": round(time.perf_counter() - self.start_wall, 6),
            "cpu_seconds": {
                "user": round(usage.ru_utime - self.start_usage.ru_utime, 6),
                "system": round(usage.ru_stime - self.start_usage.ru_stime, 6)},
            "syscalls": {name: {"count": c, "seconds": round(ns / 1e9, 6), "errors": e}
                         for name, (c, ns, e) in calls},
            "syscalls_total": sum(c for c, _, _ in self.calls.values()),
            "blocked_seconds": round(self.blocked_ns / 1e9, 6),
            "files": [{"name": name.decode(errors="replace"), "read_bytes": r,
                       "written_bytes": w} for name, (r, w) in files[:TOP_FILES]],
            "faults": dict(self.faults),
            "signals": dict(self.signals),
            "context_switches": kernel.sched.switches,
            "unicorn_regions_peak": self.peak_regions,
            "guest_memory_peak_bytes": self.peak_guest,
            "host_memory_peak_bytes": usage.ru_maxrss * 1024,   # ru_maxrss is in KiB
        }

    def summary(self) -> dict:
        return self.result or {}

    def json(self) -> str:
        return json.dumps(self.summary(), indent=1) + "\n"

    def text(self) -> str:
        """The summary as a few lines for stderr."""
        s = self.summary()
        out = ["pyunik stats: wall %.3f s, cpu %.3f s user + %.3f s system, exit %s" % (
            s["wall_seconds"], s["cpu_seconds"]["user"], s["cpu_seconds"]["system"],
            s["exit_status"])]
        out.append("  %-22s %8s %10s %7s" % ("syscall", "calls", "seconds", "errors"))
        for name, row in s["syscalls"].items():
            out.append("  %-22s %8d %10.6f %7d" % (name, row["count"], row["seconds"],
                                                   row["errors"]))
        out.append("  %-22s %8d   (%.6f s waiting)" % ("total", s["syscalls_total"],
                                                       s["blocked_seconds"]))
        for f in s["files"]:
            out.append("  file %s: %d bytes read, %d written" % (
                f["name"], f["read_bytes"], f["written_bytes"]))
        if s["faults"]:
            out.append("  faults: " + ", ".join("%s %d" % kv for kv in s["faults"].items()))
        if s["signals"]:
            out.append("  signals: " + ", ".join("%s %d" % kv for kv in s["signals"].items()))
        out.append("  context switches %d, Unicorn regions peak %d, guest memory peak %d KiB, "
                   "host memory peak %d KiB" % (
                       s["context_switches"], s["unicorn_regions_peak"],
                       s["guest_memory_peak_bytes"] // 1024,
                       s["host_memory_peak_bytes"] // 1024))
        return "\n".join(out) + "\n"
