"""--trace-out FILE.json: the run as a timeline in the Chrome trace-event format, which
Perfetto (ui.perfetto.dev) and chrome://tracing open.

    {"traceEvents": [
      {"ph": "M", "name": "process_name", "pid": 1000, "args": {"name": "/bin/ls"}},
      {"ph": "M", "name": "thread_name", "pid": 1000, "tid": 1000, "args": {"name": "ls"}},
      {"ph": "X", "cat": "syscall", "name": "openat", "ts": 812.4, "dur": 31.2,
       "pid": 1000, "tid": 1000, "args": {"call": "openat(AT_FDCWD, \\"/etc\\", ...) = 3"}},
      ...], "displayTimeUnit": "ns"}

A process is a Perfetto process, each guest thread a track in it. On a thread's track:
- each system call is a slice (`X`, cat syscall) with its strace line (decoded
  arguments and result, trace/strace.py) and its result;
- a call that waited holds a nested slice (cat wait) from the park to the wake that
  completed it, named by what it waited on (pyunik/wait.py's `what`);
- signal deliveries and CPU faults are instants (`i`, cat signal / fault);
- mmap, munmap, mprotect, brk and mremap are syscall slices like the rest (cat mm),
  after which the counters are sampled;
and on the process: scheduler switches as instants (cat sched: from, to, reason) and
counters (`C`): the guest memory mapped, Unicorn's regions, pyunik's resident memory
(sampled after memory calls, at most once a millisecond, and at the end).

Times are microseconds from the start of the run (time.perf_counter_ns()). Events are
written as they happen through a buffered file, so memory stays bounded whatever the
run's length; what the file holds is valid JSON once the run has ended (`close`), and
a viewer reads a file cut short too (the array format tolerates a missing end).

Layer: trace (an Observer, trace/observer.py). Calls: trace/strace.py for call lines.
"""

from __future__ import annotations

import json
import os
import time

from ..abi import linux as L
from . import strace
from .observer import Observer

_MM_CALLS = {"mmap", "munmap", "mprotect", "brk", "mremap", "shmat", "shmdt"}
COUNTER_INTERVAL_NS = 1_000_000     # counters sampled at most this often
WRITE_BUFFER = 1 << 20


def _page_size() -> int:
    return os.sysconf("SC_PAGE_SIZE")


class Timeline(Observer):
    def __init__(self, out):
        """out: a binary file opened for writing (the caller closes it after close())."""
        self.out = out
        self.t0 = time.perf_counter_ns()
        self.named: set = set()           # (pid, tid) already given a name
        self.last_counters = 0
        self.closed = False
        self._first = True
        self._page = _page_size()
        out.write(b'{"traceEvents":[\n')

    def _emit(self, event: dict) -> None:
        line = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        if self._first:
            self._first = False
            self.out.write(line.encode("utf-8", "surrogateescape"))
        else:
            self.out.write(b",\n" + line.encode("utf-8", "surrogateescape"))

    def _us(self, ns: int) -> float:
        return round((ns - self.t0) / 1000, 3)

    def _ids(self, t) -> tuple[int, int]:
        pid, tid = t.process.pid, t.tid
        if (pid, tid) not in self.named:
            if (pid, pid) not in self.named and (pid, None) not in self.named:
                self.named.add((pid, None))
                self._emit({"ph": "M", "name": "process_name", "pid": pid,
                            "args": {"name": "%s (pid %d)" % (t.process.exe, pid)}})
            self.named.add((pid, tid))
            self._emit({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                        "args": {"name": "%s %d" % (t.comm.decode(errors="replace")
                                                    if isinstance(t.comm, bytes) else t.comm,
                                                    tid)}})
        return pid, tid

    # ---- events ---------------------------------------------------------------------------

    def syscall(self, t, row, name, args, result, start_ns, end_ns) -> None:
        pid, tid = self._ids(t)
        if row is not None:
            line = strace.format_call(row, args, result, t)
        else:
            line = "%s(%s) = %s" % (name, ", ".join("%#x" % a for a in args),
                                    strace.format_result(None, result))
        cat = "mm" if name in _MM_CALLS else "syscall"
        if result is None:              # exit, exit_group: never return
            self._emit({"ph": "i", "s": "t", "cat": cat, "name": name, "ts": self._us(start_ns),
                        "pid": pid, "tid": tid, "args": {"call": line}})
            return
        self._emit({"ph": "X", "cat": cat, "name": name, "ts": self._us(start_ns),
                    "dur": round((end_ns - start_ns) / 1000, 3), "pid": pid, "tid": tid,
                    "args": {"call": line, "result": strace.format_result(row, result)}})
        if cat == "mm" and end_ns - self.last_counters >= COUNTER_INTERVAL_NS:
            self._counters(t.process, end_ns)

    def blocked(self, t, name, what, start_ns, end_ns) -> None:
        pid, tid = self._ids(t)
        self._emit({"ph": "X", "cat": "wait", "name": "wait: " + what,
                    "ts": self._us(start_ns), "dur": round((end_ns - start_ns) / 1000, 3),
                    "pid": pid, "tid": tid, "args": {"call": name, "waits_for": what}})

    def signal(self, t, sig, handled) -> None:
        pid, tid = self._ids(t)
        self._emit({"ph": "i", "s": "t", "cat": "signal", "name": L.signal_name(sig),
                    "ts": self._us(time.perf_counter_ns()), "pid": pid, "tid": tid,
                    "args": {"action": "handler" if handled else "default"}})

    def fault(self, t, fault) -> None:
        pid, tid = self._ids(t)
        self._emit({"ph": "i", "s": "t", "cat": "fault", "name": "fault: " + fault.kind,
                    "ts": self._us(time.perf_counter_ns()), "pid": pid, "tid": tid,
                    "args": {"address": "%#x" % (fault.address or 0),
                             "access": fault.access or ""}})

    def switch(self, old, new, reason) -> None:
        pid, tid = self._ids(new)
        self._emit({"ph": "i", "s": "p", "cat": "sched", "name": "switch",
                    "ts": self._us(time.perf_counter_ns()), "pid": pid, "tid": tid,
                    "args": {"from": old.tid if old is not None else None, "to": new.tid,
                             "reason": reason}})

    def _counters(self, process, now: int) -> None:
        self.last_counters = now
        ts = self._us(now)
        pid = process.pid
        self._emit({"ph": "C", "name": "guest memory", "ts": ts, "pid": pid,
                    "args": {"mapped": process.mm.mapped}})
        try:
            regions = process.engine.region_count()
        except Exception:        # the engine is gone at the very end
            regions = None
        if regions is not None:
            self._emit({"ph": "C", "name": "Unicorn regions", "ts": ts, "pid": pid,
                        "args": {"regions": regions}})
        try:
            with open("/proc/self/statm", "rb") as f:
                resident = int(f.read().split()[1]) * self._page
        except (OSError, ValueError, IndexError):
            return
        self._emit({"ph": "C", "name": "pyunik resident memory", "ts": ts, "pid": pid,
                    "args": {"resident": resident}})

    def finish(self, kernel) -> None:
        for p in kernel.processes.values():
            if p.mm is not None and p.mm.mapped:
                self._counters(p, time.perf_counter_ns())
        self.close()

    def close(self) -> None:
        """End the JSON (once); the file holds a whole document after it."""
        if not self.closed:
            self.closed = True
            self.out.write(b'\n],"displayTimeUnit":"ns"}\n')
            self.out.flush()
