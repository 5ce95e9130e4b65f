"""What the kernel tells an observer of a run (--stats, --trace-out) and when.

The kernel holds one observer or None (`Kernel.observer`). With None, nothing below is
called and the fast syscall path is the one without hooks; with one, the kernel's
dispatcher takes its traced path (kernel/kernel.py `_make_dispatch`) and calls
- `syscall(t, row, name, args, result, start_ns, end_ns)` when a call completes
  (row the syscall table's, None for an unknown number; times from
  time.perf_counter_ns(); a call that waited spans its wait; result None for exit
  and exit_group, seen at entry);
- `blocked(t, name, what, start_ns, end_ns)` before that, for a call that waited:
  from the first park to the wake that completed it, `what` the wait's own words
  (pyunik/wait.py WouldBlock.what);
and the kernel's other parts call
- `signal(t, sig, handled)` when a signal is delivered (kernel/delivery.py), handled
  false for a default action that ends the process;
- `fault(t, fault)` for a CPU fault (cpu/engine.py GuestFault), before it becomes a
  signal or ends the run (kernel/sched.py);
- `switch(old, new, reason)` when the scheduler puts another thread on the CPU;
- `finish(kernel)` once, when the run has ended (api.py).

Layer: trace. Calls nothing; subclasses (trace/stats.py, trace/timeline.py) keep
what they see.
"""

from __future__ import annotations


class Observer:
    """Every event a no-op: a subclass overrides what it keeps."""

    def syscall(self, t, row, name: str, args: list, result: int | None, start_ns: int,
                end_ns: int) -> None:
        pass

    def blocked(self, t, name: str, what: str, start_ns: int, end_ns: int) -> None:
        pass

    def signal(self, t, sig: int, handled: bool) -> None:
        pass

    def fault(self, t, fault) -> None:
        pass

    def switch(self, old, new, reason: str) -> None:
        pass

    def finish(self, kernel) -> None:
        pass


class Observers(Observer):
    """Several observers as one, each told every event in order."""

    def __init__(self, observers: list):
        self.observers = list(observers)

    def syscall(self, *a) -> None:
        for o in self.observers:
            o.syscall(*a)

    def blocked(self, *a) -> None:
        for o in self.observers:
            o.blocked(*a)

    def signal(self, *a) -> None:
        for o in self.observers:
            o.signal(*a)

    def fault(self, *a) -> None:
        for o in self.observers:
            o.fault(*a)

    def switch(self, *a) -> None:
        for o in self.observers:
            o.switch(*a)

    def finish(self, kernel) -> None:
        for o in self.observers:
            o.finish(kernel)
