"""epoll, poll and select: the guest program run natively and under pyunik and
compared, and the epoll object (fs/eventpoll.py) on its own: registration, level and
edge triggering, one-shot, exclusive wakeups, release at the file's last close."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from errno import EEXIST, EINVAL, ELOOP

import pytest

from conftest import (BIN, REPO, assert_no_traceback, assert_same, host_cpu_seconds, run_native,
                      run_pyunik, settle_cpu)
from pyunik.abi import linux as L
from pyunik.abi.eventpoll import (EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN,
                                  EPOLLONESHOT, EPOLLOUT)
from pyunik.errors import KernelError
from pyunik.fs.eventfd import EventFile
from pyunik.fs.eventpoll import Epoll, check_events
from pyunik.fs.pipe import PipeBuffer, PipeEnd
from pyunik.wait import WouldBlock

ONE = (1).to_bytes(8, "little")


@pytest.mark.parametrize("name", ["epoll-musl", "epoll-glibc"])
def test_epoll_program_matches_native(name):
    """Level/edge, oneshot, dup and close, nesting, epoll_ctl's errors, an echo
    between threads through a pipe and an eventfd, EFD_SEMAPHORE, and the time
    select, ppoll and pselect6 write back."""
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0 and b"echo: sum 10100, worker total 10100" in native.stdout
    assert_same(native, emulated)


def _ref(f):
    f.refs += 1
    return f


def test_level_triggered_item_stays_ready_until_drained():
    ev = _ref(EventFile(0, L.O_NONBLOCK))
    ep = Epoll()
    ep.add(ev, 3, EPOLLIN, 42)
    assert ep.collect(8) == []
    ev.write(ONE)
    assert ep.collect(8) == [(EPOLLIN, 42)]
    assert ep.collect(8) == [(EPOLLIN, 42)]
    ev.read(8)
    assert ep.collect(8) == []
    assert ep.rdlist == []


def test_edge_triggered_item_reports_each_change_once():
    ev = _ref(EventFile(0, L.O_NONBLOCK))
    ep = Epoll()
    ep.add(ev, 3, EPOLLIN | EPOLLET, 1)
    ev.write(ONE)
    assert ep.collect(8) == [(EPOLLIN, 1)]
    assert ep.collect(8) == []
    ev.write(ONE)                   # a new write is a new edge, though still readable
    assert ep.collect(8) == [(EPOLLIN, 1)]


def test_edge_on_a_pipe_ignores_the_readers_progress():
    """The wake key: a read announces room (EPOLLOUT), which an EPOLLIN edge item
    does not hear, as with pipe_read's key."""
    p = PipeBuffer(1, 0)
    r, w = _ref(PipeEnd(p, L.O_RDONLY | L.O_NONBLOCK)), _ref(PipeEnd(p, L.O_WRONLY))
    ep = Epoll()
    ep.add(r, 3, EPOLLIN | EPOLLET, 0)
    w.write(b"abc")
    assert ep.collect(8) == [(EPOLLIN, 0)]
    r.read(1)
    assert ep.collect(8) == []
    w.write(b"d")
    assert ep.collect(8) == [(EPOLLIN, 0)]


def test_oneshot_disarms_until_modified():
    ev = _ref(EventFile(1, 0))
    ep = Epoll()
    ep.add(ev, 3, EPOLLIN | EPOLLONESHOT, 5)
    assert ep.collect(8) == [(EPOLLIN, 5)]
    ev.write(ONE)
    assert ep.collect(8) == []
    ep.modify(ep.find(ev, 3), EPOLLIN, 6)
    assert ep.collect(8) == [(EPOLLIN, 6)]


def test_maxevents_leaves_the_rest_first_in_line():
    files = [_ref(EventFile(1, 0)) for _ in range(3)]
    ep = Epoll()
    for i, f in enumerate(files):
        ep.add(f, i, EPOLLIN, i)
    assert ep.collect(2) == [(EPOLLIN, 0), (EPOLLIN, 1)]
    # the one not reached comes first, then the level-triggered ones reported
    assert ep.collect(3) == [(EPOLLIN, 2), (EPOLLIN, 0), (EPOLLIN, 1)]


def test_registration_goes_with_the_files_last_close():
    ev = _ref(_ref(EventFile(1, 0)))       # two fds point to it
    ep = Epoll()
    ep.add(ev, 3, EPOLLIN, 0)
    ev.close_ref()
    assert ep.find(ev, 3) is not None and ep.collect(1) == [(EPOLLIN, 0)]
    ev.close_ref()
    assert ep.items == {} and ep.rdlist == [] and ev.waiters.pollers == []


def test_registration_checks():
    ev = _ref(EventFile(0, 0))
    ep, ep2 = Epoll(), Epoll()
    ep.add(ev, 3, EPOLLIN, 0)
    with pytest.raises(KernelError) as e:
        ep.add(ev, 3, EPOLLIN, 0)
    assert e.value.errno == EEXIST
    ep.add(ev, 4, EPOLLIN, 0)               # another fd of the same file is its own item
    assert ep.find(ev, 3).events == EPOLLIN | EPOLLERR | EPOLLHUP
    ep.add(_ref(ep2), 5, EPOLLIN, 0)
    with pytest.raises(KernelError) as e:
        ep2.add(_ref(ep), 6, EPOLLIN, 0)
    assert e.value.errno == ELOOP
    for op_add, events, target in ((False, EPOLLIN | EPOLLEXCLUSIVE, ev),
                                   (True, EPOLLIN | EPOLLEXCLUSIVE, ep2),
                                   (True, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, ev)):
        with pytest.raises(KernelError) as e:
            check_events(op_add, events, target)
        assert e.value.errno == EINVAL


def test_nesting_deeper_than_four_is_refused():
    eps = [_ref(Epoll()) for _ in range(6)]
    for outer, inner in zip(eps, eps[1:5]):
        outer.add(inner, 1, EPOLLIN, 0)
    with pytest.raises(KernelError) as e:
        eps[4].add(eps[5], 1, EPOLLIN, 0)
    assert e.value.errno == ELOOP


class Waiter:
    """A stand-in for a parked thread: counts its wakes."""

    def __init__(self):
        self.woken = 0

    def wake(self):
        self.woken += 1


def test_epoll_wait_wakes_one_waiter_per_event():
    ev = _ref(EventFile(0, 0))
    ep = Epoll()
    ep.add(ev, 3, EPOLLIN | EPOLLET, 0)
    a, b = Waiter(), Waiter()
    with pytest.raises(WouldBlock) as e:
        ep.wait(1, None, None)
    assert e.value.queues == (ep.wq,)
    ep.wq.add(a)
    ep.wq.add(b)
    ev.write(ONE)
    assert (a.woken, b.woken) == (1, 0)


def test_exclusive_items_share_one_wake():
    """Two epolls with EPOLLEXCLUSIVE on one eventfd: a write readies only the
    first; a plain registration hears every wake."""
    ev = _ref(EventFile(0, 0))
    ex1, ex2, plain = Epoll(), Epoll(), Epoll()
    ex1.add(ev, 3, EPOLLIN | EPOLLEXCLUSIVE, 1)
    ex2.add(ev, 3, EPOLLIN | EPOLLEXCLUSIVE, 2)
    plain.add(ev, 3, EPOLLIN | EPOLLET, 3)
    ev.write(ONE)
    assert (len(ex1.rdlist), len(ex2.rdlist), len(plain.rdlist)) == (1, 0, 1)
    ex1.collect(1)
    ev.read(8)
    ex1.collect(1)                        # drained: ex1's item leaves the ready list
    assert ex1.rdlist == []
    ev.write(ONE)                          # the first exclusive item takes it again
    assert (len(ex1.rdlist), len(ex2.rdlist)) == (1, 0)


def test_nested_epoll_readiness_reaches_the_outer_one():
    ev = _ref(EventFile(0, 0))
    inner, outer = _ref(Epoll()), Epoll()
    inner.add(ev, 3, EPOLLIN, 7)
    outer.add(inner, 4, EPOLLIN, 8)
    assert outer.collect(4) == [] and inner.poll(EPOLLIN) == 0
    ev.write(ONE)
    assert outer.collect(4) == [(EPOLLIN, 8)]
    assert inner.collect(4) == [(EPOLLIN, 7)]
    assert EventFile(0, 0).poll(EPOLLOUT) == EPOLLOUT


@pytest.mark.parametrize("stdin", ["pipe", "terminal"])
def test_host_stdin_wakes_epoll_without_busy_waiting(stdin):
    """A guest python3 blocked in epoll on its stdin (a host pipe, or a terminal)
    costs no CPU: the scheduler waits on the host fd; the answer comes when data
    arrives."""
    import shutil
    py = shutil.which("python3")
    if py is None:
        pytest.skip("no python3")
    code = ("import select, sys, os\n"
            "ep = select.epoll()\n"
            "ep.register(0, select.EPOLLIN | select.EPOLLET)\n"
            "print('waiting', flush=True)\n"
            "print(ep.poll(30), flush=True)\n"
            "print(os.read(0, 10))\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    argv = [sys.executable, "-m", "pyunik", "run", "-q", "--", py, "-c", code]
    if stdin == "pipe":
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, cwd=REPO)
        feed = proc.stdin.fileno()
    else:
        import pty
        feed, slave = pty.openpty()
        proc = subprocess.Popen(argv, stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, cwd=REPO)
        os.close(slave)
    try:
        assert proc.stdout.readline() == b"waiting\n"
        settle_cpu(proc.pid)
        before = host_cpu_seconds(proc.pid)
        time.sleep(1)
        spent = host_cpu_seconds(proc.pid) - before
        os.write(feed, b"hello\n")
        first = proc.stdout.readline()        # before the input's end (no EPOLLHUP)
        # Not communicate(): it reads the raw pipe and would lose what readline
        # buffered already when the guest's last line came with the first.
        out, err = proc.stdout.read(), proc.stderr.read()
        proc.wait(timeout=30)
    finally:
        if stdin == "terminal":
            os.close(feed)
    assert first + out == b"[(0, 1)]\nb'hello\\n'\n", err
    assert spent < 0.1
