"""The `pyunik` command.

    pyunik run [OPTIONS] [--] PROGRAM [ARGS...]
    pyunik run [OPTIONS] --apps 'CMD [ARGS]; CMD [ARGS] &'      (kernel/apps.py)
    pyunik compare [RUN OPTIONS] [--corpus FILE] [-j N] [--json FILE] [--] PROGRAM [ARGS...]
    pyunik syscalls [--json] [--status STATUS]
    pyunik image build MANIFEST -o IMAGE [--var K=V];  pyunik image ls IMAGE

`run` follows qemu-user and docker habits: the environment pyunik was started with
passes to the guest unless --clear-env, -e K=V sets one variable, -m limits guest
memory. The exit is the guest's: its exit code, or, when a signal killed it, pyunik
ends by the same signal (core dumps off), as qemu-user does, so a parent sees what it
would see natively. A program that cannot be started gives one line on stderr and 127
(not found) or 126 (not executable).

Layer: the top, beside api.py.
Calls: api.py (Unikernel), compare.py for `compare`, and, for `syscalls` and `image`,
the table and loader/image.py.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import faulthandler
import gc
import os
import resource
import signal
import sys
import threading

from . import __version__
from .api import ProgramError, Unikernel, parse_size
from .kernel.namespace import Volume

TYPE_CHECKING = False      # typing is imported by type checkers only: a run needs none of it
if TYPE_CHECKING:
    from typing import NoReturn


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns, found the same way ($COLUMNS, then the
    terminal on stdout, else 80) without importing shutil (with bz2 and lzma, ~3 ms)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter given the width it would find itself: its own lookup imports
    shutil, and argparse makes a formatter for every add_argument (each run pays)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)


class _ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser with _HelpFormatter; its subcommands' parsers are of this class."""

    def __init__(self, *args, formatter_class=_HelpFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


def _run_parser(sub) -> None:
    p = sub.add_parser("run", help="run a guest program",
                       usage="pyunik run [OPTIONS] [--] PROGRAM [ARGS...]")
    _run_options(p)
    p.add_argument("--strace", nargs="?", const="-", default=None, metavar="FILE",
                   help="trace system calls to stderr, or to FILE with --strace=FILE")
    p.add_argument("--stats", nargs="?", const="-", default=None, metavar="FILE",
                   help="at exit, what the run did (system calls, files, faults, signals, "
                        "memory, time): a summary on stderr, or JSON to FILE with "
                        "--stats=FILE")
    p.add_argument("--trace-out", metavar="FILE.json",
                   help="write a timeline of the run (system calls, waits, signals, faults, "
                        "scheduler switches, memory counters) in the Chrome trace-event "
                        "format, for Perfetto or chrome://tracing")
    p.add_argument("--net", metavar="user[,hostfwd=tcp|udp:[HOST]:PORT-:PORT...][,outbound=on]"
                   "[,mtu=N][,mac=M] | hub=NAME[,mac=M][,ip=A]",
                   help="a virtio-net card as eth0 (10.0.2.15/24, gateway 10.0.2.2, DNS "
                        "10.0.2.3): user is a user-mode NAT (10.0.2.2 is the host's "
                        "127.0.0.1; nothing else unless outbound=on), hub joins other "
                        "pyunik guests")
    p.add_argument("--pcap", metavar="FILE",
                   help="write every frame of eth0 to FILE (libpcap, Ethernet)")
    p.add_argument("--dns", action="append", default=[], metavar="NAME=IP",
                   help="a name the DNS at 10.0.2.3 answers (besides the guest's /etc/hosts)")
    p.add_argument("--trace", action="append", default=[], choices=["virtio", "tcp"],
                   help="virtio: trace the virtio-net card (chains, ring indices, "
                        "notifications); tcp: the guest's TCP (state changes, "
                        "retransmissions, timeouts, resets); to stderr")
    p.add_argument("--gdb", metavar="[HOST:]PORT",
                   help="wait for gdb (target remote HOST:PORT) at the first instruction; "
                        "HOST is 127.0.0.1 unless given")
    p.add_argument("--deterministic", type=int, default=None, metavar="SEED",
                   help="same output and --strace on every run: a virtual clock, seeded "
                        "randomness (SEED, default 0) and thread switches at points no "
                        "host timing decides (--deterministic or --deterministic=SEED)")
    p.add_argument("--apps", metavar="'CMD; CMD &'",
                   help="instead of PROGRAM: several programs in ONE address space, OSv "
                        "style: ';' waits for the command before it, '&' runs it in the "
                        "background, NAME=VALUE words before a command set its environment; "
                        "the run ends when every one has exited")
    p.add_argument("program", metavar="PROGRAM", nargs="?", default=None,
                   help="the program; what follows it are its arguments, passed as they are")


def _compare_parser(sub) -> None:
    p = sub.add_parser("compare", help="run a program natively and under pyunik and compare",
                       usage="pyunik compare [RUN OPTIONS] [--corpus FILE] [-j N] "
                             "[--json FILE] [--] PROGRAM [ARGS...]")
    _run_options(p)
    p.add_argument("--corpus", metavar="FILE",
                   help="compare every command line of FILE (shell-quoted, one a line)")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="cases run at once (default: the host's cores)")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON to FILE")
    p.add_argument("--no-strace", action="store_true",
                   help="do not trace system calls (faster; no parting call in the report)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="kill a side that runs longer (default 120)")
    p.add_argument("program", metavar="PROGRAM", nargs="?", default=None,
                   help="the program; what follows it are its arguments")


def _run_options(p) -> None:
    """The options `run` and `compare` share: what the guest is given."""
    p.add_argument("-e", "--env", action="append", default=[], metavar="K=V",
                   help="set an environment variable in the guest")
    p.add_argument("--clear-env", action="store_true",
                   help="start from an empty environment instead of the host's")
    p.add_argument("-m", "--memory", default="2G", metavar="SIZE",
                   help="guest memory limit (default 2G); beyond it mmap/brk give ENOMEM")
    p.add_argument("-q", "--quiet", action="store_true", help="no pyunik warnings")
    p.add_argument("-v", "--volume", action="append", default=[], metavar="HOST:GUEST[:ro|:rw]",
                   help="show a host directory in the guest (read-only unless :rw)")
    p.add_argument("--cwd", choices=["ro", "rw", "none"], default=None,
                   help="the host's working directory at its own path in the guest, as its "
                        "working directory: read-only (ro, the default without --root or "
                        "--image), writable (rw), or not shown at all (none, the default "
                        "with --root or --image)")
    p.add_argument("-w", "--workdir", default=None, metavar="DIR",
                   help="the guest's working directory (default: the host's, else /)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--root", metavar="DIR",
                       help="a host directory as the read-only root, writes go to an overlay")
    where.add_argument("--image", metavar="IMAGE",
                       help="a built image (pyunik image build) as the root, under an overlay")


def _image_parser(sub) -> None:
    p = sub.add_parser("image", help="build and inspect images (OSv manifest syntax)")
    isub = p.add_subparsers(dest="image_command", metavar="ACTION")
    b = isub.add_parser("build", help="build an image from a manifest")
    b.add_argument("manifest", metavar="MANIFEST")
    b.add_argument("-o", "--output", required=True, metavar="IMAGE")
    b.add_argument("--var", action="append", default=[], metavar="K=V",
                   help="a value for ${K} in the manifest")
    ls = isub.add_parser("ls", help="list an image's files")
    ls.add_argument("image", metavar="IMAGE")


def cmd_image(args) -> int:
    from .loader.image import ImageError, build_image, list_image
    try:
        if args.image_command == "build":
            variables = {}
            for kv in args.var:
                if "=" not in kv:
                    print("pyunik: --var %s: expected K=V" % kv, file=sys.stderr)
                    return 2
                k, v = kv.split("=", 1)
                variables[k] = v
            count = build_image(args.manifest, args.output, variables)
            print("%s: %d entries" % (args.output, count))
            return 0
        if args.image_command == "ls":
            for line in list_image(args.image):
                print(line)
            return 0
    except ImageError as e:
        print("pyunik: %s" % e, file=sys.stderr)
        return 1
    print("usage: pyunik image {build,ls} ...", file=sys.stderr)
    return 2


def _syscalls_parser(sub) -> None:
    p = sub.add_parser("syscalls", help="list the system call support table")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--status", choices=["full", "partial", "stub", "missing"],
                   help="only rows with this status")


# `run` options that take a value as the next word.
_RUN_VALUE_OPTIONS = {"-e", "--env", "-m", "--memory", "-v", "--volume", "-w", "--workdir",
                      "--root", "--image", "--cwd", "--trace-out", "--gdb",
                      "--net", "--pcap", "--dns", "--trace", "--apps"}
_COMPARE_VALUE_OPTIONS = _RUN_VALUE_OPTIONS - {"--trace-out", "--gdb", "--net", "--pcap",
                                               "--dns", "--trace", "--apps"} | {
    "--corpus", "-j", "--jobs", "--json", "--timeout"}


def _split_run(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split `run ...` into pyunik's words (through PROGRAM) and the guest's
    arguments, which argparse never sees: they reach the guest untouched, `--` and
    `--strace` included. `--strace` and `--stats` take a file only as --strace=FILE,
    so `--strace prog` runs prog; `--deterministic` likewise takes its seed only as
    --deterministic=SEED."""
    if not argv or argv[0] not in ("run", "compare"):
        return argv, []
    value_options = _RUN_VALUE_OPTIONS if argv[0] == "run" else _COMPARE_VALUE_OPTIONS
    out = [argv[0]]
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return out + argv[i:i + 2], argv[i + 2:]
        if not a.startswith("-") or a == "-":
            return out + ["--", a], argv[i + 1:]
        if a in ("--strace", "--stats"):
            out.append(a + "=-")
        elif a == "--deterministic":
            out.append("--deterministic=0")
        elif a in value_options and i + 1 < len(argv):
            out += [a, argv[i + 1]]
            i += 1
        else:
            out.append(a)
        i += 1
    return out, []


def startup_environment() -> dict[str, str]:
    """The environment this process was started with, in its order.

    Not os.environ: Python adds to it at start-up (LC_CTYPE=C.UTF-8 when the host sets
    no locale, PEP 538), and the guest must see only what the user gave pyunik.
    /proc/self/environ is the block execve handed us, which setenv never rewrites."""
    try:
        with open("/proc/self/environ", "rb") as f:
            block = f.read()
    except OSError:
        return dict(os.environ)
    env = {}
    for entry in block.split(b"\0"):
        if b"=" in entry[1:]:
            k, v = entry.split(b"=", 1)
            env.setdefault(os.fsdecode(k), os.fsdecode(v))   # getenv finds the first
    return env


def guest_environment(args, host_env: dict) -> dict:
    """The guest's environment from run's options: the host's unless --clear-env,
    then -e K=V (or -e K, the host's value, as docker does)."""
    env = {} if args.clear_env else dict(host_env)
    for kv in args.env:
        if "=" not in kv:
            # docker habit: -e NAME passes the host's value
            if kv in host_env:
                env[kv] = host_env[kv]
            continue
        k, v = kv.split("=", 1)
        env[k] = v
    return env


def cmd_run(args) -> int:
    if (args.apps is None) == (args.program is None):
        print("pyunik: run: give a PROGRAM or --apps 'CMD; CMD &', not %s"
              % ("both" if args.apps is not None else "neither"), file=sys.stderr)
        return 2
    env = guest_environment(args, startup_environment())
    try:
        memory = parse_size(args.memory)
    except ValueError as e:
        print("pyunik: %s" % e, file=sys.stderr)
        return 2
    trace_out = None
    if args.strace == "-":
        trace_out = sys.stderr
    elif args.strace is not None:
        try:
            trace_out = open(args.strace, "w", buffering=1)   # line by line, for tail -f
        except OSError as e:
            print("pyunik: %s: %s" % (args.strace, e.strerror), file=sys.stderr)
            return 2
    observers = []
    stats = None
    if args.stats is not None:
        from .trace.stats import RunStats
        stats = RunStats()
        observers.append(stats)
    timeline = None
    if args.trace_out is not None:
        from .trace.timeline import WRITE_BUFFER, Timeline
        try:
            timeline = Timeline(open(args.trace_out, "wb", buffering=WRITE_BUFFER))
        except OSError as e:
            print("pyunik: %s: %s" % (args.trace_out, e.strerror), file=sys.stderr)
            return 2
        observers.append(timeline)
    dns = {}
    for entry in args.dns:
        name, sep, address = entry.partition("=")
        if not sep or not name:
            print("pyunik: --dns %s: want NAME=IP" % entry, file=sys.stderr)
            return 2
        dns[name] = address
    if (args.pcap or "virtio" in args.trace) and not args.net:
        print("pyunik: --pcap and --trace virtio need a card: add --net", file=sys.stderr)
        return 2
    pcap = None
    if args.pcap is not None:
        try:
            pcap = open(args.pcap, "wb")
        except OSError as e:
            print("pyunik: %s: %s" % (args.pcap, e.strerror), file=sys.stderr)
            return 2
    stub = None
    if args.gdb is not None:
        from .kernel.process import ProcessExit
        from .trace.gdbstub import GdbStub, parse_address
        try:
            host, port = parse_address(args.gdb)
            stub = GdbStub(host, port, sys.stderr,
                           lambda: ProcessExit(0, signal=signal.SIGKILL))
        except (ValueError, OSError) as e:
            print("pyunik: --gdb %s: %s" % (args.gdb, getattr(e, "strerror", None) or e),
                  file=sys.stderr)
            return 2
    observer = None
    if observers:
        from .trace.observer import Observers
        observer = observers[0] if len(observers) == 1 else Observers(observers)
    program_args = args.guest_args
    volumes, workdir = list(args.volume), args.workdir
    cwd = host_working_directory(args)
    if cwd is not None:
        volumes.insert(0, Volume(cwd, cwd, writable=args.cwd == "rw"))
        workdir = workdir or cwd
    try:
        vm = Unikernel([args.program] + program_args if args.apps is None else None,
                       env=env, memory=memory, apps=args.apps,
                       quiet=args.quiet, strace=trace_out, root=args.root, image=args.image,
                       volumes=volumes, workdir=workdir or "/", observer=observer,
                       deterministic=args.deterministic,
                       net=args.net, pcap=pcap,
                       trace_virtio=sys.stderr if "virtio" in args.trace else None,
                       trace_tcp=sys.stderr if "tcp" in args.trace else None, dns=dns)
        vm.config.host_exit_frees = True      # entry() ends the process after main()
        vm.start()
        start_collecting()
        if stub is not None:
            stub.attach(vm.kernel)
        with forward_host_signals(vm.kernel):
            status = vm.run()
        if stub is not None:
            stub.finish(vm.kernel)
    except ProgramError as e:
        print(str(e), file=sys.stderr)
        return e.exit_status
    finally:
        if trace_out is not None and trace_out is not sys.stderr:
            trace_out.close()
        if timeline is not None:
            timeline.close()
            timeline.out.close()
        if stub is not None:
            stub.close()
        if pcap is not None:
            pcap.close()
    if stats is not None and not write_stats(stats, args.stats):
        return 2
    if vm.kernel.exit_signal:
        end_by_signal(vm.kernel.exit_signal)
    return status


def start_collecting() -> None:
    """The guest is about to run. `python -m pyunik` starts with the garbage collector
    off (start-up makes many objects and no garbage cycles; ~5% of a hello run's CPU
    was collections): it runs from here on, and never scans what start-up made
    (gc.freeze: the kernel, the table, the image's inodes live as long as the run)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def write_stats(stats, where: str) -> bool:
    """--stats: the summary to stderr, or its JSON to a file. False (after one line
    on stderr) if the file cannot be written."""
    if where == "-":
        sys.stderr.write(stats.text())
        sys.stderr.flush()
        return True
    try:
        with open(where, "w") as f:
            f.write(stats.json())
    except OSError as e:
        print("pyunik: --stats=%s: %s" % (where, e.strerror), file=sys.stderr)
        return False
    return True


def host_working_directory(args) -> str | None:
    """The host directory --cwd shows at its own path, or None.

    Without --root/--image the default is read-only, so `pyunik run ./tool.py` and
    `pyunik run -- /bin/ls README.md` work as at a shell; a guest root of the user's
    choosing gets it only when asked. Never the host's / (that is --root /), nor a
    directory inside the guest's own /proc, /sys or /dev."""
    mode = args.cwd or ("none" if args.root or args.image else "ro")
    if mode == "none":
        return None
    try:
        cwd = os.getcwd()
    except OSError:
        return None           # removed under us: nothing to show
    if cwd == "/" or any(cwd == d or cwd.startswith(d + "/") for d in ("/proc", "/sys", "/dev")):
        return None
    try:
        cwd.encode()
    except UnicodeEncodeError:
        return None           # not UTF-8: the kernel's working directory takes text
    return cwd


def end_by_signal(sig: int) -> None:
    """End this process by signal sig, as the guest ended, so that a parent sees
    what it would see natively (a shell prints "Segmentation fault", Python's
    returncode is -sig). Core dumps are off: the core would be pyunik's, not the
    guest's. Returns only if sig does not kill by default (then the caller exits
    with 128 + sig)."""
    sys.stdout.flush()
    sys.stderr.flush()
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    faulthandler.disable()          # its handlers would report the signal as our crash
    if sig not in (signal.SIGKILL, signal.SIGSTOP):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    # To this thread, not the process: the host-signal watcher still sits in sigwait
    # and would take a process-directed SIGINT/SIGTERM/SIGHUP for itself.
    signal.pthread_kill(threading.get_ident(), sig)


@contextlib.contextmanager
def forward_host_signals(kernel):
    """Ctrl-C, SIGTERM and SIGHUP sent to pyunik go to the guest.

    The guest's CPU runs in C for long stretches, where Python's own handlers never
    run; so the signals are blocked here and a watcher thread takes them with
    sigwait and hands them to the kernel, which stops the CPU to act on them.
    """
    wanted = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, wanted)

    def watch():
        while True:
            kernel.interrupt(signal.sigwait(wanted))

    threading.Thread(target=watch, name="pyunik-signals", daemon=True).start()
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def cmd_syscalls(args) -> int:
    from .kernel.syscalls.table import SyscallTable
    rows = SyscallTable().sorted()
    if args.status:
        rows = [r for r in rows if r.status == args.status]
    if args.json:
        import json
        print(json.dumps([{
            "nr": r.nr, "name": r.name, "status": r.status, "note": r.note,
            "args": [k.c_type for k in r.args],
            **({"errno": r.errno} if r.status in ("stub", "missing") else {}),
        } for r in rows], indent=1))
        return 0
    print("%4s  %-24s %-8s %s" % ("nr", "name", "status", "note"))
    for r in rows:
        note = r.note if r.status != "missing" else ""
        print("%4d  %-24s %-8s %s" % (r.nr, r.name, r.status, note))
    counts = {}
    for r in SyscallTable().sorted():
        counts[r.status] = counts.get(r.status, 0) + 1
    print("\n" + ", ".join("%d %s" % (counts.get(s, 0), s)
                           for s in ("full", "partial", "stub", "missing")))
    return 0


def _entry_point() -> bool:
    """Is the command the process's entry point (`pyunik`, `python -m pyunik`), with
    nothing left to run after it? Its caller (the console script, or
    pyunik/__main__.py) is then called by nothing, or by runpy alone. Under
    `python -m cProfile -m pyunik` (or any program running the module) the caller
    has work left, such as writing its profile."""
    frame = sys._getframe(2)           # entry() <- its caller <- ...
    while frame.f_back is not None:
        frame = frame.f_back
        if frame.f_globals.get("__name__") != "runpy":
            return False
    return True


def entry() -> NoReturn:
    """The `pyunik` command and `python -m pyunik`: main(), then the process ends at
    once with its status. Nothing is left to tear down by then (cmd_run closed the
    files it wrote; guest output went out with write(2)), and the interpreter's own
    teardown of ~300 modules and the kernel's objects took ~9 ms of every run.
    atexit handlers still run, and the standard streams are flushed. An exception
    (a kernel bug's traceback, argparse's exit) ends the process the usual way, and
    so does every run whose caller goes on after it (a profiler: _entry_point)."""
    status = main()
    if not _entry_point():
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _ArgumentParser(prog="pyunik", description="Run x86-64 Linux programs "
                             "on a Unicorn CPU with a kernel written in Python.")
    parser.add_argument("--version", action="version", version="pyunik " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands = {"run": _run_parser, "compare": _compare_parser,
                "syscalls": _syscalls_parser, "image": _image_parser}
    if argv and argv[0] in commands:
        commands[argv[0]](sub)     # argparse reads only that command's words (~1 ms)
    else:
        for add in commands.values():     # top-level help and errors list them all
            add(sub)
    own, guest_args = _split_run(argv)
    args = parser.parse_args(own)
    args.guest_args = guest_args
    if args.command != "run":
        gc.enable()           # (python -m pyunik turned it off; cmd_run turns it on)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "compare":
            from .compare import cmd_compare
            host_env = startup_environment()
            return cmd_compare(args, guest_environment(args, host_env), host_env,
                               host_working_directory(args))
        if args.command == "syscalls":
            return cmd_syscalls(args)
        if args.command == "image":
            return cmd_image(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141
    parser.print_help()
    return 2
