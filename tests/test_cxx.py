"""C++ threads (guest_images/src/cxxthreads.cpp, g++ with glibc, static and dynamic):
std::thread, std::mutex, std::condition_variable, std::async with an exception
carried across threads, thread_local, std::shared_mutex, std::call_once and
std::timed_mutex, run natively and under pyunik. The dynamic build needs the host's
libstdc++.so.6 (Debian's libstdc++6, which apt and gdb depend on)."""

from __future__ import annotations

import os

import pytest

from conftest import BIN, assert_no_traceback, assert_same, run_native, run_pyunik

LIBSTDCXX = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"


@pytest.mark.parametrize("name", ["cxxthreads-glibc", "cxxthreads-glibc-dyn"])
def test_cxx_threads_match_native(name):
    if name.endswith("-dyn") and not os.path.exists(LIBSTDCXX):
        pytest.skip("no libstdc++.so.6 on this machine")
    native = run_native([BIN / name])
    emulated = run_pyunik([BIN / name])
    assert_no_traceback(emulated)
    assert native.status == 0
    assert b"mutex counter 80000\n" in native.stdout
    assert b"exception carried: from another thread\n" in native.stdout
    assert_same(native, emulated)
