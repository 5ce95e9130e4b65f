"""`pyunik run --gdb PORT`: the GDB remote serial protocol, spoken directly from Python
and through Debian's gdb in batch mode. The debugged programs are guest_images'
gdbprog, gdbthreads and gdbfork, built with symbols (-g -O0, not stripped), static or
dynamic; the other guest_images binaries are stripped."""

from __future__ import annotations

import re
import shutil
import socket
import struct
import subprocess
import sys

import pytest

from conftest import BIN, REPO, TIMEOUT, host_env_for_pyunik



def debug_program(name: str) -> str:
    """A guest_images program built with symbols (see the Makefile's DEBUG_PROGS)."""
    return str(BIN / name)


def symbol(path: str, name: str) -> int:
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        for sym in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
            if sym.name == name:
                return sym["st_value"]
    raise KeyError(name)


class Pyunik:
    """pyunik run --gdb 0 PROGRAM, and the port it listens on."""

    def __init__(self, argv):
        self.proc = subprocess.Popen([sys.executable, "-m", "pyunik", "run", "-q", "--gdb",
                                      "0", "--"] + argv, cwd=REPO, env=host_env_for_pyunik(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = self.proc.stderr.readline().decode()
        m = re.match(r"pyunik: waiting for gdb on 127\.0\.0\.1:(\d+)$", line.strip())
        assert m, line
        self.port = int(m.group(1))

    def finish(self):
        out, err = self.proc.communicate(timeout=TIMEOUT)
        assert b"Traceback" not in err, err.decode()
        return self.proc.returncode, out, err


class Client:
    """The remote protocol's client side: packets, checksums, acks."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buf = b""

    def _recv(self) -> bytes:
        while True:
            start = self.buf.find(b"$")
            end = self.buf.find(b"#", start)
            if start >= 0 and end >= 0 and len(self.buf) >= end + 3:
                payload = self.buf[start + 1:end]
                assert int(self.buf[end + 1:end + 3], 16) == sum(payload) & 0xFF
                self.buf = self.buf[end + 3:]
                self.sock.sendall(b"+")
                return payload
            data = self.sock.recv(65536)
            assert data, "the stub closed the connection"
            self.buf += data

    def send(self, payload: bytes) -> None:
        self.sock.sendall(b"$" + payload + b"#%02x" % (sum(payload) & 0xFF))

    def ask(self, payload: bytes) -> bytes:
        self.send(payload)
        return self._recv()

    def wait_stop(self) -> bytes:
        return self._recv()

    def reg(self, n: int) -> int:
        return int.from_bytes(bytes.fromhex(self.ask(b"p%x" % n).decode()), "little")

    def xfer(self, obj: bytes, annex: bytes = b"") -> bytes:
        out = b""
        while True:
            r = self.ask(b"qXfer:%s:read:%s:%x,%x" % (obj, annex, len(out), 0x800))
            out += re.sub(rb"\}(.)", lambda m: bytes((m.group(1)[0] ^ 0x20,)), r[1:],
                          flags=re.S)
            if r[:1] == b"l":
                return out
            assert r[:1] == b"m", r


RIP, FS_BASE = 16, 58


def test_protocol_registers_memory_breakpoints_exit():
    prog = debug_program("gdbprog-glibc-g")
    add = symbol(prog, "add")
    run = Pyunik([prog])
    c = Client(run.port)
    supported = c.ask(b"qSupported:multiprocess+;swbreak+;xmlRegisters=i386")
    for feature in (b"qXfer:features:read+", b"qXfer:auxv:read+", b"qXfer:exec-file:read+",
                    b"swbreak+", b"QStartNoAckMode+"):
        assert feature in supported
    assert c.ask(b"?").startswith(b"T05thread:3e8;")
    xml = c.xfer(b"features", b"target.xml").decode()
    assert "org.gnu.gdb.i386.segments" in xml and 'name="fs_base"' in xml
    assert 'name="rip" bitsize="64" type="code_ptr" regnum="16"' in xml
    auxv = c.xfer(b"auxv")
    pairs = dict(struct.iter_unpack("<QQ", auxv))
    assert c.reg(RIP) == pairs[9]                         # AT_ENTRY: not run a step yet
    assert c.xfer(b"exec-file").decode() == prog
    regs = bytes.fromhex(c.ask(b"g").decode())
    assert len(regs) == 16 * 8 + 8 + 4 + 6 * 4 + 8 * 10 + 8 * 4 + 16 * 16 + 4 + 8 + 8 + 8
    assert int.from_bytes(regs[16 * 8:17 * 8], "little") == pairs[9]
    assert c.ask(b"qfThreadInfo") == b"m3e8" and c.ask(b"qsThreadInfo") == b"l"
    with open(prog, "rb") as f:
        elf = f.read()
    code = bytes.fromhex(c.ask(b"m%x,8" % add).decode())
    assert code in elf                       # the program's bytes at its address
    assert c.ask(b"m0,8").startswith(b"E")   # an unmapped address is an error
    # a breakpoint: hit three times (the loop), its int3 never shows in memory reads
    assert c.ask(b"Z0,%x,1" % add) == b"OK"
    assert bytes.fromhex(c.ask(b"m%x,8" % add).decode()) == code
    for i in range(3):
        c.send(b"c")
        assert c.wait_stop() == b"T05thread:3e8;swbreak:;"
        assert c.reg(RIP) == add
        assert c.reg(4) == i                 # add(counter, i): i in rsi
    # a register written with P is what the guest goes on with: add(1, 10)
    assert c.ask(b"P4=" + (10).to_bytes(8, "little").hex().encode()) == b"OK"
    assert c.reg(4) == 10
    # single steps move one instruction at a time inside add
    c.send(b"s")
    assert c.wait_stop().startswith(b"T05")
    first = c.reg(RIP)
    assert add < first < add + 8
    c.send(b"s")
    c.wait_stop()
    assert first < c.reg(RIP) < first + 8
    assert c.reg(FS_BASE) != 0                # the thread's TLS, set by the C library
    assert c.ask(b"z0,%x,1" % add) == b"OK"
    c.send(b"c")
    assert c.wait_stop() == b"W0b"
    status, out, _ = run.finish()
    assert status == 11 and out == b"counter 11\n"


def test_protocol_fault_signal_and_kill():
    run = Pyunik([str(BIN / "crash-musl")])
    c = Client(run.port)
    c.ask(b"QStartNoAckMode")
    c.send(b"c")
    stop = c.wait_stop()
    assert stop.startswith(b"T0b"), stop                 # SIGSEGV, at the fault
    rip = c.reg(RIP)
    c.send(b"c")                     # resumed without the signal: the fault again
    assert c.wait_stop().startswith(b"T0b") and c.reg(RIP) == rip
    c.send(b"C0b")                   # with it: the guest's default action
    assert c.wait_stop() == b"X0b"
    status, _, _ = run.finish()
    assert status == -11

    run = Pyunik([str(BIN / "loop-musl"), "2000000000"])
    c = Client(run.port)
    c.send(b"c")
    c.sock.sendall(b"\x03")           # Ctrl-C while the guest computes
    assert c.wait_stop().startswith(b"T02thread:3e8;")
    c.send(b"vKill;3e8")
    status, _, _ = run.finish()
    assert status == -9


def test_protocol_detach_lets_the_program_finish():
    run = Pyunik([str(BIN / "hello-musl")])
    c = Client(run.port)
    assert c.ask(b"D") == b"OK"
    status, out, _ = run.finish()
    assert status == 0 and out == b"Hello from pyunik guest!\n"


def gdb_batch(prog: str, port: int, *commands: str) -> str:
    gdb = shutil.which("gdb")
    args = [gdb, "-nx", "-batch", "-ex", "set confirm off", "-ex",
            "target remote 127.0.0.1:%d" % port]
    for cmd in commands:
        args += ["-ex", cmd]
    p = subprocess.run(args + [prog], capture_output=True, timeout=TIMEOUT)
    return p.stdout.decode() + p.stderr.decode()


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
def test_gdb_break_main_bt_of_a_dynamic_program():
    prog = debug_program("gdbprog-glibc-dyn-g")                # PIE, dynamic
    run = Pyunik([prog])
    out = gdb_batch(prog, run.port, "break add", "c", "bt", "info registers rip fs_base",
                    "info sharedlibrary", "finish", "stepi", "x/i $pc", "delete", "c")
    status, stdout, _ = run.finish()
    assert "Breakpoint 1, add (a=0, b=0)" in out, out
    assert re.search(r"#1  0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\)", out), out
    assert re.search(r"fs_base +0x7[0-9a-f]+", out), out
    assert "libc.so.6" in out, out                     # libraries-svr4 and exec-file
    assert "Value returned is $1 = 0" in out, out
    assert "exited with code 03" in out, out
    assert status == 3 and stdout == b"counter 3\n"


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
def test_gdb_threads():
    prog = debug_program("gdbthreads-glibc-dyn-g")
    run = Pyunik([prog])
    out = gdb_batch(prog, run.port, "break worker", "c", "info threads", "bt 2", "delete",
                    "c")
    status, stdout, _ = run.finish()
    assert "hit Breakpoint 1, worker (arg=0x5)" in out, out
    assert re.search(r"1 +Thread 1000 \(gdbthreads-glib\)", out), out
    assert re.search(r"\* 2 +Thread 1001 \(gdbthreads-glib\) worker", out), out
    assert "start_thread" in out, out
    assert status == 0 and stdout == b"shared 5\n"


def test_bad_gdb_address():
    p = subprocess.run([sys.executable, "-m", "pyunik", "run", "--gdb", "nonsense", "--",
                        str(BIN / "hello-musl")], cwd=REPO, env=host_env_for_pyunik(),
                       capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 2 and b"--gdb" in p.stderr and b"Traceback" not in p.stderr


def test_protocol_libraries_of_a_dynamic_program():
    prog = debug_program("gdbprog-glibc-dyn-g")                # PIE, dynamic
    run = Pyunik([prog])
    c = Client(run.port)
    assert c.xfer(b"libraries-svr4") == b'<library-list-svr4 version="1.0"/>'  # ld.so's turn
    entry = dict(struct.iter_unpack("<QQ", c.xfer(b"auxv")))[9]    # AT_ENTRY: _start
    assert c.ask(b"Z0,%x,1" % entry) == b"OK"
    c.send(b"c")
    assert c.wait_stop() == b"T05thread:3e8;swbreak:;"
    libraries = c.xfer(b"libraries-svr4").decode()
    assert re.match(r'<library-list-svr4 version="1.0" main-lm="0x[0-9a-f]+">', libraries)
    names = re.findall(r'<library name="([^"]*)" lm="0x[0-9a-f]+" l_addr="0x[0-9a-f]+"',
                       libraries)
    assert any(n.endswith("/libc.so.6") for n in names), libraries
    assert any("ld-linux-x86-64.so.2" in n for n in names), libraries
    assert c.ask(b"z0,%x,1" % entry) == b"OK"
    c.send(b"c")
    assert c.wait_stop() == b"W03"
    assert run.finish()[0] == 3




@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
def test_gdb_child_runs_past_inherited_breakpoints():
    """A forked child has the parent's int3 in its copy of memory; it is not
    debugged, so it runs through the breakpoint as if none were there."""
    prog = debug_program("gdbfork-glibc-dyn-g")
    run = Pyunik([prog])
    out = gdb_batch(prog, run.port, "break add", "c", "c")
    status, stdout, _ = run.finish()
    assert "Breakpoint 1, add (a=2, b=40)" in out, out
    assert out.count("Breakpoint 1, add") == 1 and "exited normally" in out, out
    assert status == 0 and stdout == b"child 41\nparent 42\n"


def test_protocol_signal_stops_pass_and_drop():
    """A signal stops the guest before delivery: C delivers it, c drops it, and
    QPassSignals lets it through without a stop (sigloop: tgkill SIGUSR1 to itself
    N times, a handler counting)."""
    run = Pyunik([str(BIN / "sigloop-musl"), "3"])
    c = Client(run.port)
    assert b"QPassSignals+" in c.ask(b"qSupported")
    c.send(b"c")
    assert c.wait_stop() == b"T1ethread:3e8;"           # GDB's SIGUSR1 is 30
    c.send(b"C1e")                                      # delivered: counted
    assert c.wait_stop() == b"T1ethread:3e8;"
    c.send(b"c")                                        # dropped: not counted
    assert c.wait_stop() == b"T1ethread:3e8;"
    assert c.ask(b"QPassSignals:e;1e;") == b"OK"
    c.send(b"C1e")
    assert c.wait_stop() == b"W01"                      # count 2 of 3
    status, out, _ = run.finish()
    assert status == 1 and out == b"done 2\n"
