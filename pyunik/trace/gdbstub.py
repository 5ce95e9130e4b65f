"""--gdb [HOST:]PORT: a GDB remote serial protocol stub, so gdb can debug the guest.

    pyunik run --gdb 1234 -- prog &
    gdb -batch -ex 'target remote :1234' -ex 'break main' -ex c -ex bt prog

The stub listens (127.0.0.1 unless a host is given) before the program starts and
waits for gdb at the program's first instruction. It speaks: qSupported,
QStartNoAckMode, `?`, registers (g/G/p/P, the amd64 Linux target description with
fs_base and gs_base: trace/gdbregs.py), memory (m/M/X, breakpoints hidden from reads),
breakpoints Z0/z0 and Z1/z1 (both by int3 patching), c/C/s/S
and vCont, threads (qfThreadInfo, qC, H, T), qXfer:features, exec-file, auxv and
libraries-svr4, detach (D) and kill (k, vKill), and Ctrl-C from gdb while the guest
runs.

How it holds the guest: the scheduler's run loop (kernel/sched.py) calls
`before_run(t, budget)` just before each run of the CPU and `fault(t, fault)` for
every CPU fault, both only when a stub is attached. A breakpoint's int3 comes back
as a trap fault: the stub puts rip back on the breakpoint, reports the stop, and
talks with gdb there (the guest is stopped: the run loop is waiting on this call)
until gdb resumes it. A single step is the one time an instruction hook is
installed (engine.watch_instructions): it ends the run before the second
instruction, and goes at the next `before_run`; continuing from a breakpoint steps
over it with its byte restored, then puts the int3 back. Other faults stop with
their signal; resuming with that signal (C) lets it go to the guest as it would
without gdb, resuming without one runs the instruction again.

A signal about to be delivered stops the guest too (kernel/delivery.py asks
`signal(t, sig)`), unless gdb named it in QPassSignals; resuming with it delivers
it, resuming without it drops it, as gdbserver does.

Not done: a signal given to C/S after a stop for a breakpoint, a step or Ctrl-C is
dropped;
children are not followed (one forked with breakpoints in its copy of memory has
each one it hits put back and runs on);
watchpoints (Z2-Z4 are refused, so gdb falls back to software watchpoints); a
Ctrl-C while every thread waits in a system call takes effect when one next runs.

Layer: trace. Calls the engine (cpu/) of the process it debugs and the kernel and
scheduler objects it is handed (their threads, contexts and stop).
"""

from __future__ import annotations

import queue
import socket
import struct
import threading

from ..abi import auxvec, elf
from ..abi import linux as L
from ..cpu.engine import MemoryFault
from ..errors import KernelError
from . import gdbregs

INT3 = b"\xcc"
PACKET_SIZE = 0x4000          # the largest packet gdb may send (qSupported's PacketSize)
_FAULT_SIGNAL = {"segv": L.SIGSEGV, "bus": L.SIGBUS, "ill": L.SIGILL, "trap": L.SIGTRAP,
                 "fpe": L.SIGFPE}
_INTERRUPT = object()        # the reader's note of a Ctrl-C byte
_CLOSED = object()           # the reader's note that gdb went away


def parse_address(text: str) -> tuple[str, int]:
    """--gdb [HOST:]PORT -> (host, port); ValueError with the reason. Port 0 takes
    any free port (the stub says which)."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError("--gdb %s: expected [HOST:]PORT" % text)
    return host, int(port)


def escape(data: bytes) -> bytes:
    """Binary data in a packet: #, $, } and * as } and the byte xor 0x20."""
    out = bytearray()
    for b in data:
        if b in b"#$}*":
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(data):
        if data[i] == 0x7D and i + 1 < len(data):
            out.append(data[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


def frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#%02x" % (sum(payload) & 0xFF)


class Resume:
    """What gdb asked for when it let the guest go."""

    def __init__(self, step: bool = False, signal: int = 0, detach: bool = False,
                 kill: bool = False):
        self.step, self.signal, self.detach, self.kill = step, signal, detach, kill


class GdbStub:
    def __init__(self, host: str, port: int, warn, kill_exception):
        """Listen now (so a port in use is reported before the program starts).
        kill_exception() makes the exception that ends the guest for `k`."""
        self.warn = warn
        self.kill_exception = kill_exception
        self.listener = socket.create_server((host, port), reuse_port=False)
        self.address = self.listener.getsockname()[:2]
        self.kernel = None
        self.process = None            # the process debugged: the first one
        self.conn: socket.socket | None = None
        self.packets: queue.Queue = queue.Queue()
        self.no_ack = False
        self.breakpoints: dict[int, bytes] = {}    # address -> the byte int3 covers
        self.selected = 0                          # Hg's thread id (0: the stopped one)
        self.last_stop = b"S05"
        self.reply_owed = False        # gdb resumed and waits for the next stop reply
        self.stepping = None           # the thread a single step is for
        self.step_over = None          # a breakpoint lifted for one instruction
        self.armed = False             # a step gdb asked for at a fault, not yet armed
        self.step_hook = None          # (engine, handle) of the watch of a step
        self.interrupted = False
        self.detached = False
        self.pass_signals: set[int] = set()   # QPassSignals: GDB numbers not to stop for

    def attach(self, kernel) -> None:
        """Debug kernel's run: its run loop hands over to before_run and fault."""
        self.kernel = kernel
        kernel.debugger = self

    # ---- the connection ------------------------------------------------------------------

    def _accept(self) -> None:
        self.warn.write("pyunik: waiting for gdb on %s:%d\n" % self.address)
        self.warn.flush()
        self.conn, _ = self.listener.accept()
        self.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.listener.close()
        threading.Thread(target=self._read, name="pyunik-gdb", daemon=True).start()

    def _read(self) -> None:
        """The reader thread: packets into the queue, acks, and Ctrl-C."""
        buf = b""
        try:
            while True:
                data = self.conn.recv(65536)
                if not data:
                    break
                buf += data
                while buf:
                    c = buf[:1]
                    if c in (b"+", b"-"):
                        buf = buf[1:]
                    elif c == b"\x03":
                        buf = buf[1:]
                        self._interrupt()
                    elif c == b"$":
                        end = buf.find(b"#")
                        if end < 0 or len(buf) < end + 3:
                            break
                        payload, buf = buf[1:end], buf[end + 3:]
                        if not self.no_ack:
                            self.conn.sendall(b"+")
                        self.packets.put(payload)
                    else:
                        buf = buf[1:]          # noise between packets
        except OSError:
            pass
        self.packets.put(_CLOSED)
        self._interrupt()

    def _interrupt(self) -> None:
        """Ctrl-C from gdb (or gdb gone), from the reader thread: end the guest's
        current (or next) run as a time slice ends, so the run loop comes back to
        before_run, which reports the stop; and wake the idle wait."""
        self.interrupted = True
        kernel = self.kernel
        if kernel is None:
            return
        t = kernel.sched.on_cpu
        if t is not None:
            if t.process.engine.block_stops:
                t.process.engine.preempt_in(0)
            else:
                kernel.sched.host_stop(t.process.engine)
        kernel.sched.notify()

    def _send(self, payload: bytes) -> None:
        if self.conn is not None:
            try:
                self.conn.sendall(frame(payload))
            except OSError:
                pass

    # ---- where the run loop hands over ---------------------------------------------------

    def before_run(self, t, budget: int) -> int:
        """Called before each run of the CPU with t about to run (it may wait here
        for gdb); returns the run's instruction budget, unchanged."""
        if self.step_hook is not None:
            engine, handle = self.step_hook
            self.step_hook = None
            engine.unwatch_instructions(handle)
        if self.detached:
            return budget
        if self.process is not None and t.process is not self.process:
            return budget                  # another process: not debugged
        if self.conn is None:
            self._accept()
            self.process = t.process
            self.selected = t.tid
            self.last_stop = b"T05thread:%x;" % t.tid
            self._resume(t, self._converse())
            return budget
        if self.armed:                     # a step set up at a fault, to run now
            self.armed = False
            self._arm_step(t)
            return budget
        if self.step_over is not None:
            addr = self.step_over
            self.step_over = None
            if addr in self.breakpoints:
                self._poke(t, addr, INT3)
        if self.stepping is not None:
            stepped, self.stepping = self.stepping, None
            self.interrupted = False
            self._resume(t, self._stop(stepped, b"T05thread:%x;" % stepped.tid))
        elif self.interrupted:
            self.interrupted = False
            if self.conn is not None and not self.detached:
                self._resume(t, self._stop(t, b"T02thread:%x;" % t.tid))
        return budget

    def fault(self, t, fault) -> bool:
        """A CPU fault of t: True when the stub took it (a breakpoint, or gdb resumed
        without the fault's signal), False to let it reach the guest."""
        if self.detached or self.conn is None:
            return False
        engine = t.process.engine
        if t.process is not self.process:
            # A child forked with the debugged process's breakpoints in its copy of
            # memory: the byte goes back there and the child runs on unseen.
            rip = engine.reg("rip")
            if fault.kind == "trap" and fault.intno == 3 and rip - 1 in self.breakpoints:
                engine.write(rip - 1, self.breakpoints[rip - 1])
                engine.set_reg("rip", rip - 1)
                return True
            return False
        self.stepping = None          # a step that faulted stops here, with the fault
        if fault.kind == "trap" and fault.intno == 3:
            rip = engine.reg("rip")
            for addr in (rip - 1, rip):
                if addr in self.breakpoints:
                    engine.set_reg("rip", addr)
                    how = self._stop(t, b"T05thread:%x;swbreak:;" % t.tid)
                    self.armed = self._resume(t, how, later=True)
                    return True
        sig = _FAULT_SIGNAL[fault.kind]
        how = self._stop(t, b"T%02xthread:%x;" % (gdbregs.gdb_signal(sig), t.tid))
        self.armed = self._resume(t, how, later=True)
        return how.detach or how.signal != sig

    def signal(self, t, sig: int) -> bool:
        """A signal about to be delivered to t (kernel/delivery.py): gdb stops on it
        unless QPassSignals named it; True to deliver it, False to drop it (gdb
        resumed without it)."""
        if self.detached or self.conn is None or t.process is not self.process or \
                sig == L.SIGKILL or gdbregs.gdb_signal(sig) in self.pass_signals:
            return True
        how = self._stop(t, b"T%02xthread:%x;" % (gdbregs.gdb_signal(sig), t.tid))
        self.armed = self._resume(t, how, later=True)
        return how.detach or how.signal == sig

    def finish(self, kernel) -> None:
        """The run ended: the exit reply gdb waits for, and the connection closed."""
        if self.conn is not None and not self.detached and self.reply_owed:
            if kernel.exit_signal:
                self._send(b"X%02x" % gdbregs.gdb_signal(kernel.exit_signal))
            else:
                self._send(b"W%02x" % (kernel.exit_status & 0xFF))
        self.close()

    def close(self) -> None:
        self.detached = True
        for conn in (self.conn, self.listener):
            if conn is not None:
                try:
                    conn.close()
                except OSError:
                    pass

    # ---- stops and resumes --------------------------------------------------------------

    def _stop(self, t, reply: bytes) -> Resume:
        self.selected = t.tid
        self.last_stop = reply
        if self.reply_owed:
            self.reply_owed = False
            self._send(reply)
        return self._converse()

    def _resume(self, t, how: Resume, later: bool = False) -> bool:
        """Carry out gdb's resume for t: a breakpoint under rip is lifted for one
        instruction, and a step (or that lifting) watches t's next instruction.
        later: t runs at the run loop's next turn (the stub is at a fault), so the
        watch is armed then; returns whether one is to be."""
        if how.kill:
            raise self.kill_exception()
        if how.detach:
            return False
        step = how.step
        rip = self._context(t)["rip"]
        if rip in self.breakpoints:
            self._poke(t, rip, self.breakpoints[rip])
            self.step_over = rip
            step = True
        if how.step:
            self.stepping = t
        if step and not later:
            self._arm_step(t)
        return step

    def _arm_step(self, t) -> None:
        """Stop t's run before its second instruction: one instruction runs."""
        engine = t.process.engine
        seen = [0]
        sched = self.kernel.sched

        def on_instruction(address):
            seen[0] += 1
            if seen[0] == 2:
                sched.stop_at_syscall_end(t)
        self.step_hook = (engine, engine.watch_instructions(on_instruction))

    def _converse(self) -> Resume:
        """Answer gdb's packets until it resumes the guest, detaches or kills it."""
        while True:
            packet = self.packets.get()
            if packet is _CLOSED:
                self._detach()
                return Resume(detach=True)
            how = self._handle(packet)
            if isinstance(how, Resume):
                if how.detach:
                    self._detach()
                elif not how.kill:
                    self.reply_owed = True
                return how

    def _detach(self) -> None:
        for addr, byte in list(self.breakpoints.items()):
            self._poke(None, addr, byte)
        self.breakpoints.clear()
        self.close()

    # ---- the threads, their registers and memory ------------------------------------------

    def _threads(self) -> list:
        processes = [self.process] if self.process is not None else \
            list(self.kernel.processes.values())
        return [t for p in processes for t in p.threads if t.state != "dead"]

    def _thread(self, tid: int):
        threads = self._threads()
        for t in threads:
            if t.tid == tid:
                return t
        if tid in (0, -1) and threads:
            return self._thread(self.selected) if self.selected not in (0, -1) and any(
                t.tid == self.selected for t in threads) else threads[0]
        return None

    def _context(self, t):
        sched = self.kernel.sched
        return t.process.engine.save_context() if sched.on_cpu is t else t.ctx

    def _set_context(self, t, ctx) -> None:
        if self.kernel.sched.on_cpu is t:
            t.process.engine.restore_context(ctx)
        else:
            t.ctx = ctx

    def _engine(self):
        t = self._thread(self.selected) or self._thread(0)
        return t.process.engine

    def _poke(self, t, addr: int, data: bytes) -> None:
        engine = t.process.engine if t is not None else self._engine()
        try:
            engine.write(addr, data)
        except MemoryFault:
            pass

    def _read_memory(self, addr: int, size: int) -> bytes | None:
        engine = self._engine()
        try:
            data = bytearray(engine.read(addr, size))
        except MemoryFault:
            # as much as can be read up to the first bad page
            data = bytearray()
            while len(data) < size:
                try:
                    data += engine.read(addr + len(data), 1)
                except MemoryFault:
                    break
            if not data:
                return None
        for bp, byte in self.breakpoints.items():     # gdb sees its program, not int3
            if addr <= bp < addr + len(data) and data[bp - addr] == INT3[0]:
                data[bp - addr] = byte[0]
        return bytes(data)

    def _write_memory(self, addr: int, data: bytes) -> bytes:
        mm = (self._thread(self.selected) or self._thread(0)).process.mm
        for bp in self.breakpoints:        # a write over a breakpoint changes its byte
            if addr <= bp < addr + len(data):
                self.breakpoints[bp] = data[bp - addr:bp - addr + 1]
                data = data[:bp - addr] + INT3 + data[bp - addr + 1:]
        try:
            mm.poke(addr, data)           # (whatever the protection, as ptrace's pokes)
        except KernelError:
            return b"E14"
        return b"OK"

    # ---- packets ------------------------------------------------------------------------

    def _handle(self, packet: bytes):
        """One packet: the reply sent, or a Resume."""
        try:
            reply = self._dispatch(packet)
        except (ValueError, IndexError, struct.error):
            reply = b"E01"
        if isinstance(reply, Resume):
            if reply.detach:
                self._send(b"OK")
            return reply
        self._send(reply)
        if packet == b"QStartNoAckMode":
            self.no_ack = True
        return None

    def _dispatch(self, p: bytes):
        c = p[:1]
        if p.startswith(b"qSupported"):
            return (b"PacketSize=%x;QStartNoAckMode+;qXfer:features:read+;"
                    b"qXfer:exec-file:read+;qXfer:auxv:read+;qXfer:libraries-svr4:read+;"
                    b"swbreak+;vContSupported+;QPassSignals+" % PACKET_SIZE)
        if p == b"QStartNoAckMode":
            return b"OK"
        if p.startswith(b"QPassSignals:"):
            self.pass_signals = {int(x, 16) for x in p[13:].split(b";") if x}
            return b"OK"
        if p == b"?":
            return self.last_stop
        if p.startswith(b"qXfer:"):
            return self._xfer(p)
        if p == b"qAttached" or p.startswith(b"qAttached:"):
            return b"1"
        if p == b"qC":
            return b"QC%x" % (self._thread(self.selected) or self._thread(0)).tid
        if p == b"qfThreadInfo":
            return b"m" + b",".join(b"%x" % t.tid for t in self._threads())
        if p == b"qsThreadInfo":
            return b"l"
        if p.startswith(b"qThreadExtraInfo,"):
            t = self._thread(int(p.split(b",")[1], 16))
            return (t.comm if isinstance(t.comm, bytes) else str(t.comm).encode()).hex() \
                .encode() if t else b"E01"
        if p.startswith(b"qSymbol"):
            return b"OK"
        if c == b"H":
            tid = int(p[2:], 16) if p[2:] not in (b"-1", b"") else 0
            if tid and self._thread(tid) is None:
                return b"E01"
            if p[1:2] == b"g" and tid:
                self.selected = tid
            return b"OK"
        if c == b"T":
            return b"OK" if self._thread(int(p[1:], 16)) is not None else b"E01"
        if c == b"g":
            return gdbregs.read_all(self._context(self._thread(self.selected) or
                                                  self._thread(0))).hex().encode()
        if c == b"G":
            t = self._thread(self.selected) or self._thread(0)
            ctx = self._context(t).copy()
            gdbregs.write_all(ctx, bytes.fromhex(p[1:].decode()))
            self._set_context(t, ctx)
            return b"OK"
        if c == b"p":
            n = int(p[1:], 16)
            if n >= len(gdbregs.REGISTERS):
                return b"E00"
            t = self._thread(self.selected) or self._thread(0)
            return gdbregs.read_register(self._context(t), n).hex().encode()
        if c == b"P":
            n, value = p[1:].split(b"=")
            n = int(n, 16)
            if n >= len(gdbregs.REGISTERS):
                return b"E00"
            t = self._thread(self.selected) or self._thread(0)
            ctx = self._context(t).copy()
            gdbregs.write_register(ctx, n, bytes.fromhex(value.decode()))
            self._set_context(t, ctx)
            return b"OK"
        if c == b"m":
            addr, size = (int(x, 16) for x in p[1:].split(b","))
            data = self._read_memory(addr, min(size, PACKET_SIZE // 2))
            return b"E14" if data is None else data.hex().encode()
        if c in (b"M", b"X"):
            where, data = p[1:].split(b":", 1)
            addr, size = (int(x, 16) for x in where.split(b","))
            data = bytes.fromhex(data.decode()) if c == b"M" else unescape(data)
            return self._write_memory(addr, data[:size]) if size else b"OK"
        if c in (b"Z", b"z"):
            return self._breakpoint(p)
        if c in (b"c", b"s"):
            return Resume(step=c == b"s")
        if c in (b"C", b"S"):
            sig = gdbregs.linux_signal(int(p[1:].split(b";")[0], 16))
            return Resume(step=c == b"S", signal=sig)
        if p == b"vCont?":
            return b"vCont;c;C;s;S"
        if p.startswith(b"vCont;"):
            return self._vcont(p)
        if c == b"D":
            return Resume(detach=True)
        if p == b"k" or p.startswith(b"vKill"):
            if p.startswith(b"vKill"):
                self._send(b"OK")
            return Resume(kill=True)
        return b""

    def _vcont(self, p: bytes) -> Resume:
        """vCont;ACTION[:tid];...: the stopped thread's action (or the default's)."""
        how = Resume()
        for action in p[6:].split(b";"):
            what, _, tid = action.partition(b":")
            if tid and int(tid, 16) not in (self.selected, -1, 0):
                continue
            kind = what[:1]
            how.step = kind in (b"s", b"S")
            if kind in (b"C", b"S"):
                how.signal = gdbregs.linux_signal(int(what[1:], 16))
            break
        return how

    def _breakpoint(self, p: bytes) -> bytes:
        kind, addr, _ = p[1:].split(b",")
        if kind not in (b"0", b"1"):
            return b""                         # watchpoints: not supported
        addr = int(addr, 16)
        engine = self._engine()
        if p[:1] == b"Z":
            if addr not in self.breakpoints:
                try:
                    original = engine.read(addr, 1)
                    engine.write(addr, INT3)
                except MemoryFault:
                    return b"E14"
                self.breakpoints[addr] = original
            return b"OK"
        original = self.breakpoints.pop(addr, None)
        if original is not None and self.step_over != addr:
            try:
                if engine.read(addr, 1) == INT3:    # (an execve replaced the code)
                    engine.write(addr, original)
            except MemoryFault:
                pass
        return b"OK"

    # ---- qXfer objects --------------------------------------------------------------------

    def _xfer(self, p: bytes) -> bytes:
        parts = p.split(b":")
        if len(parts) < 5 or parts[2] != b"read":
            return b""
        obj, annex = parts[1], parts[3]
        offset, length = (int(x, 16) for x in parts[4].split(b","))
        process = (self._thread(self.selected) or self._thread(0)).process
        if obj == b"features":
            if annex != b"target.xml":
                return b"E00"
            data = gdbregs.TARGET_XML.encode()
        elif obj == b"exec-file":
            data = process.exe.encode(errors="surrogateescape")
        elif obj == b"auxv":
            data = b"".join(auxvec.AUXV_ENTRY.pack(k, v) for k, v in process.auxv) + \
                auxvec.AUXV_ENTRY.pack(auxvec.AT_NULL, 0)
        elif obj == b"libraries-svr4":
            data = self._libraries(process).encode(errors="surrogateescape")
        else:
            return b""
        chunk = data[offset:offset + length]
        return (b"l" if offset + length >= len(data) else b"m") + escape(chunk)

    def _libraries(self, process) -> str:
        """The dynamic linker's list of loaded objects (r_debug.r_map), as XML."""
        empty = '<library-list-svr4 version="1.0"/>'
        aux = dict(process.auxv)
        phdr, phnum = aux.get(auxvec.AT_PHDR), aux.get(auxvec.AT_PHNUM, 0)
        if not phdr:
            return empty

        def read(layout, addr):
            data = self._read_memory(addr, layout.size)
            if data is None or len(data) < layout.size:
                raise MemoryFault(addr)
            return layout.unpack(data)

        try:
            bias, dynamic = 0, None
            for i in range(min(phnum, 64)):
                p_type, _, _, p_vaddr, *_ = read(elf.PHDR, phdr + elf.PHDR.size * i)
                if p_type == elf.PT_PHDR:
                    bias = phdr - p_vaddr
                elif p_type == elf.PT_DYNAMIC:
                    dynamic = p_vaddr
            if dynamic is None:
                return empty
            r_debug = 0
            for i in range(512):
                tag, value = read(elf.DYN, dynamic + bias + elf.DYN.size * i)
                if tag == elf.DT_NULL:
                    break
                if tag == elf.DT_DEBUG:
                    r_debug = value
            if not r_debug:
                return empty                 # the dynamic linker has not filled it yet
            main = read(elf.R_DEBUG, r_debug)[1]
            out = ['<library-list-svr4 version="1.0" main-lm="%#x">' % main]
            lm = read(elf.LINK_MAP, main)[3] if main else 0
            seen = 0
            while lm and seen < 4096:
                l_addr, l_name, l_ld, l_next, _ = read(elf.LINK_MAP, lm)
                name = self._read_memory(l_name, 4096) or b""
                name = name.split(b"\0", 1)[0].decode(errors="replace")
                name = name.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
                out.append('<library name="%s" lm="%#x" l_addr="%#x" l_ld="%#x" lmid="0x0"/>'
                           % (name, lm, l_addr, l_ld))
                lm, seen = l_next, seen + 1
            return "".join(out) + "</library-list-svr4>"
        except (MemoryFault, struct.error, TypeError):
            return empty
