"""Readiness reaches every kind of watcher: guest_images/src/pollwake.c parks a thread
in an edge-triggered epoll_wait, then one in poll(2), on each kind of file (pipe,
FIFO, eventfd, timerfd, inotify, signalfd, unix and TCP/UDP sockets, epoll, pidfd)
and makes the file ready from the main thread; run natively and under pyunik and
compared. An epoll registration is a poller on the file's WaitQueue, not a parked
waiter: a wake that first asks whether anyone is parked (the queue's truth) loses
the epoll's event, as signalfd's once did."""

from __future__ import annotations

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik


@pytest.mark.parametrize("name", ["pollwake-musl", "pollwake-glibc"])
def test_every_kind_of_file_wakes_epoll_and_poll(name):
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0
    lines = native.stdout.decode().splitlines()
    assert len(lines) == 34 and all(line.endswith(" 1") for line in lines), lines
    assert_same(native, emulated)
