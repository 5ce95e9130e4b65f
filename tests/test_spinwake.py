"""A thread made runnable while the running one spins without system calls gets the
CPU within a time slice, also where the run was to end only at a parked thread's
deadline (kernel/sched.py `_slice_armed`): before, a new thread waited for the
sleeper's deadline (20 s in guest_images/src/spinwake.c) while its maker spun.
Native Linux and pyunik (musl and glibc, plainly and in deterministic mode, whose
slices are instruction budgets) print the same: the spin was short."""

from __future__ import annotations

import time

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik


@pytest.mark.parametrize("name", ["spinwake-musl", "spinwake-glibc"])
@pytest.mark.parametrize("opts", [[], ["--deterministic"]], ids=["plain", "deterministic"])
def test_new_thread_runs_while_its_maker_spins_and_another_sleeps(name, opts):
    native = run_native([BIN / name])
    assert native.stdout == b"setter ran, spin short\n", native
    start = time.monotonic()
    emulated = run_pyunik([BIN / name], extra_opts=opts)
    took = time.monotonic() - start
    assert_no_traceback(emulated)
    assert_same(native, emulated)
    assert took < 15, took            # the sleeper's 20 s were not waited for
