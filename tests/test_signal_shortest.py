"""A signal a thread sends itself with tgkill and takes at once, and the rt_sigreturn
that ends its handler: the case kernel/delivery.py takes by its shortest path.

guest_images/src/sigraise.c shows the whole frame (registers loaded just before the
call, the x87 stack, MXCSR, XMM0-15, the xsave magic and header, uc_stack, the masks,
siginfo), the handler's fresh FPU, a handler changing the frame, SA_NODEFER nesting,
SA_RESETHAND, arguments with their upper halves set (int, as Linux reads them) and a
blocked signal left pending; it is compared with Linux, and with pyunik's general way
(the shortest path turned off in-process) so that the two cannot drift apart."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO, assert_no_traceback, assert_same

LIBCS = ["musl", "glibc"]


def _argv(libc: str) -> list[str]:
    return ["guest_images/bin/%s-%s" % ("sigraise", libc)]


@pytest.mark.parametrize("libc", LIBCS)
def test_raised_signal_matches_linux(run_native, run_pyunik, libc):
    native = run_native(_argv(libc))
    assert native.status == 0 and native.stdout.endswith(b"done\n"), native
    assert b"rip=after syscall rcx=rip r11=eflags" in native.stdout
    emulated = run_pyunik(_argv(libc))
    assert_no_traceback(emulated)
    assert_same(native, emulated)


_IN_PROCESS = """
import os, sys
import pyunik
from pyunik.kernel import delivery
built, read = [], []
build, take = delivery.build_simple_sigframe, delivery.read_simple_sigframe
def counted_build(*args):
    frame = build(*args)
    built.append(frame)
    return frame
def counted_read(*args):
    back = take(*args)
    read.append(back)
    return back
delivery.build_simple_sigframe, delivery.read_simple_sigframe = counted_build, counted_read
if sys.argv[1] == "general":
    delivery.on_return_invoker = lambda kernel, nr, general: general
    delivery._deliver_simply = lambda *args: False
r, w = os.pipe()
status = pyunik.run([sys.argv[2]], stdout=w, quiet=True)
os.close(w)
sys.stdout.buffer.write(os.read(r, 1 << 20))
sys.stderr.write("status %d built %d read %d"
                 % (status, sum(1 for f in built if f), sum(1 for b in read if b)))
"""


def _in_process(way: str, libc: str):
    p = subprocess.run([sys.executable, "-c", _IN_PROCESS, way, _argv(libc)[0]], cwd=REPO,
                       capture_output=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    return p.stdout, p.stderr.decode().rsplit("\n", 1)[-1]


@pytest.mark.parametrize("libc", LIBCS)
def test_shortest_path_and_general_way_agree(libc):
    """The same program with the shortest path and without it: the same output, and
    the shortest path really taken (its frames built and read back: one per tgkill
    the handler takes at once, 10 of them (the one whose arguments have their upper
    halves set goes the general way, and delivery builds its frame the same way),
    and the one rt_sigprocmask's unblocking lets through; read back for each of
    those and for the frames the general way built for a signal left pending until
    a handler's return)."""
    fast, fast_note = _in_process("shortest", libc)
    general, general_note = _in_process("general", libc)
    assert fast.endswith(b"done\n") and fast == general
    assert general_note == "status 0 built 0 read 0"
    assert fast_note == "status 0 built 11 read 13", fast_note
