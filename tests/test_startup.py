"""Start-up loads only what the run uses: a plain `pyunik run` of hello imports no part
of the network stack, sockets, System V IPC, compare, the gdb stub, --stats, the
timeline, strace or crash formatting, nor the image builder and its tar and json
(these cost every run ~20 ms of imports before, benchmarks/README.md). The modules are
read from the pyunik process itself (sys.modules at exit), so the check is exact; the
controls show a run that does use a part loads it, so the report cannot pass vacuously.

Runs pyunik in a subprocess; reads nothing of its internals."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import BIN, REPO, TIMEOUT, host_env_for_pyunik

# `python -m pyunik ARGS`, then every module the run loaded (not those the interpreter's
# own start-up and site's .pth files had loaded already: they differ between machines)
# and whether the garbage collector runs (off during start-up, on once the guest
# starts), one line each on stderr.
REPORT = """\
import atexit, gc, runpy, sys
before = set(sys.modules)               # what the interpreter and site loaded itself
atexit.register(lambda: sys.stderr.write("MODULES " + " ".join(sorted(set(sys.modules)
                                                                      - before)) + "\\n"
                                         + "GC %s\\n" % gc.isenabled()))
sys.argv = ["pyunik"] + sys.argv[1:]
runpy.run_module("pyunik", run_name="__main__", alter_sys=True)
"""

# Packages (and their modules) and modules a run loads only when it uses them.
OPTIONAL = (
    "pyunik.net",                       # sockets, TCP/IP, netlink, the virtio card
    "pyunik.kernel.syscalls.net",
    "pyunik.kernel.ipc",                # System V shared memory, semaphores, queues
    "pyunik.kernel.syscalls.ipc",
    "pyunik.compare",
    "pyunik.trace.gdbstub",
    "pyunik.trace.gdbregs",
    "pyunik.trace.stats",
    "pyunik.trace.observer",
    "pyunik.trace.timeline",
    "pyunik.trace.strace",
    "pyunik.trace.netfmt",
    "pyunik.trace.crash",
    "pyunik.trace.tracediff",
    "pyunik.loader.image",              # building and opening --image tars
    "tarfile",
    "json",
    "unicorn",                          # the package's Python binding: cpu/libunicorn.py
    "inspect",                          # loads the library itself (~25 ms of imports)
    "importlib.resources",
    "typing",                           # annotations only (~2.5 ms of imports)
    "shutil",                           # with bz2 and lzma; argparse's width lookup
)


def loaded_modules(args: list[str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    p = subprocess.run([sys.executable, "-c", REPORT] + args, env=host_env_for_pyunik(),
                       cwd=REPO, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    lines = [ln for ln in p.stderr.decode(errors="replace").splitlines()
             if ln.startswith("MODULES ")]
    assert len(lines) == 1, p.stderr.decode(errors="replace")
    assert b"GC True\n" in p.stderr      # collections run while the guest does
    return p, set(lines[0].split()[1:])


def optional_loaded(modules: set[str]) -> list[str]:
    return sorted(m for m in modules
                  if any(m == o or m.startswith(o + ".") for o in OPTIONAL))


def test_plain_run_loads_no_optional_module():
    p, modules = loaded_modules(["run", "-q", str(BIN / "hello-musl")])
    assert p.returncode == 0 and p.stdout == b"Hello from pyunik guest!\n", p.stderr
    assert "pyunik.kernel.kernel" in modules          # the report is of a real run
    assert optional_loaded(modules) == []


@pytest.mark.parametrize("args, wanted", [
    (["--strace=/dev/null"], "pyunik.trace.strace"),
    (["--stats"], "pyunik.trace.stats"),
], ids=["strace", "stats"])
def test_an_option_loads_its_module(args, wanted):
    p, modules = loaded_modules(["run", "-q"] + args + [str(BIN / "hello-musl")])
    assert p.returncode == 0, p.stderr
    assert wanted in optional_loaded(modules)


def test_a_socket_loads_the_socket_layer():
    """sockets-musl makes AF_UNIX sockets (in the guest's /tmp): the first socket()
    imports net/."""
    p, modules = loaded_modules(["run", "-q", str(BIN / "sockets-musl"), "/tmp"])
    assert p.returncode == 0, p.stderr
    assert {"pyunik.net.socket", "pyunik.kernel.syscalls.net"} <= modules
