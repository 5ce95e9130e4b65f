"""RLIMIT_CPU and RLIMIT_NPROC act as on Linux (guest_images/src/rlimits.c, run
natively and under pyunik): SIGXCPU at the soft limit with the soft limit moved a
second on, SIGKILL at the hard one, death by SIGXCPU without a handler; fork,
pthread_create and clone failing with EAGAIN once the user's tasks (threads and
unreaped zombies included) reach RLIMIT_NPROC, root exempt."""

import os

import pytest

from conftest import assert_no_traceback, assert_same

PROGRAM = "rlimits"


def _program(libc):
    return "guest_images/bin/%s-%s" % (PROGRAM, libc)


@pytest.mark.parametrize("libc,mode", [("musl", "cpu"), ("glibc", "cpu"),
                                       ("musl", "cpu-default")])
def test_cpu_limit(run_native, run_pyunik, libc, mode):
    native = run_native([_program(libc), mode])
    emulated = run_pyunik([_program(libc), mode])
    assert_no_traceback(emulated)
    if mode == "cpu":
        assert native.status == 137 and b"SIGXCPU 1: si_code SI_KERNEL, soft limit now 2" \
            in native.stdout
    else:
        assert native.status == 128 + 24
    assert_same(native, emulated)


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_nproc_limit(run_native, run_pyunik, libc):
    # a user id no other process runs as: the count is of every task of that user
    uid = str(40000 + os.getpid() % 20000)
    native = run_native([_program(libc), "nproc", uid])
    emulated = run_pyunik([_program(libc), "nproc", uid])
    assert_no_traceback(emulated)
    assert native.status == 0
    if os.geteuid() == 0:
        assert b"fork with 2 zombies: EAGAIN" in native.stdout
    assert_same(native, emulated)


def test_the_table_says_cpu_and_nproc_act():
    """The table's note says what acts now."""
    from pyunik.kernel.syscalls.table import SyscallTable
    note = SyscallTable().by_name("setrlimit").note
    assert "CPU (SIGXCPU" in note and "NPROC (clone" in note
    assert "CPU, NPROC" not in note
