"""`pyunik compare`: run a program natively and under pyunik, and say where they part.

    pyunik compare [run options] [--no-strace] [--timeout S] -- PROGRAM [ARGS...]
    pyunik compare [run options] --corpus FILE [-j N] [--json OUT]

Both sides get the same argv, environment (what `pyunik run` would give the guest),
stdin (pyunik's own, read once, unless it is a terminal: then nothing) and working
directory. Each `-v HOST:GUEST:rw` directory (and the working directory with
`--cwd rw`) is copied twice to a scratch directory, once per side, so that the two
runs' effects can be compared and the original is never written. The native side
sees its copy at GUEST by a bind mount in a private mount namespace (`unshare -c -m`,
the user's own uid mapped, so the program sees the same ids); so do read-only
volumes whose GUEST differs from HOST.

The report: exit statuses, a unified diff of stdout and of stderr (pyunik's own
`pyunik: ...` lines are set apart as notes), files created, changed or removed in
the rw directories, and, when the host has strace, the first system call where
native `strace -f` and pyunik's `--strace` part (trace/tracediff.py). Differences
Linux and pyunik are documented to have (uname's release, the hostname, the
automatic image's root) are named where they show. The verdict is "same" when the
exit status, stdout, stderr and the files agree; the trace informs, it does not
decide. Exit: 0 all same, 1 any different, 2 a usage error.

Layer: the top, beside cli.py (which calls cmd_compare). Calls: trace/tracediff.py,
kernel/namespace.py (volumes), and `pyunik run` in a child process per side.
"""

from __future__ import annotations

import concurrent.futures
import difflib
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from .kernel.kernel import HOSTNAME, UNAME_RELEASE
from .kernel.namespace import NamespaceError, Volume, parse_volume
from .trace import tracediff

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# pyunik run in a child, importing this checkout, without PYTHONPATH in the guest's env
_PYUNIK_BOOT = ("import sys; sys.path.insert(0, %r); from pyunik.cli import main; "
                "sys.exit(main())" % PACKAGE_PARENT)
# The native side's mounts, made in its own mount namespace before the program runs:
# words are WORKDIR, then (SOURCE TARGET ro|rw)..., then --, then the command.
_MOUNT_SCRIPT = r"""
set -e
wd=$1; shift
while [ "$1" != "--" ]; do
    mount --bind "$1" "$2"
    if [ "$3" = ro ]; then mount -o remount,bind,ro "$2"; fi
    shift 3
done
shift
cd "$wd"
exec "$@"
"""
IMAGE_ROOT_NOTE = ("the automatic image: the guest's root holds the program, its "
                   "libraries and what -v/--cwd show, not the host's whole tree")


class UsageError(Exception):
    """A compare command line that cannot be run: exit 2 with this message."""


@dataclass
class Plan:
    """What both sides of every case share: the guest's environment and working
    directory, pyunik's run options, the volumes, the limits."""
    env: dict                   # the guest's (and the native program's) environment
    host_env: dict              # pyunik's own, which `pyunik run` starts from
    workdir: str
    run_options: list           # pyunik run's words, before the rewritten volumes
    volumes: list               # Volume, in mount order (the --cwd rw one first)
    stdin: bytes | None
    strace: str | None          # the host's strace, or None for no traces
    timeout: float


@dataclass
class Side:
    status: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    seconds: float = 0.0
    timed_out: bool = False
    trace: list | None = None
    files: list = field(default_factory=list)   # a snapshot per rw volume
    notes: list = field(default_factory=list)   # pyunik's own stderr lines


def shell_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _run(cmd: list[str], env: dict, cwd: str | None, stdin: bytes | None,
         timeout: float) -> Side:
    side = Side()
    start = time.monotonic()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, start_new_session=True,
                         stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        side.stdout, side.stderr = p.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        side.timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        side.stdout, side.stderr = p.communicate()
    side.seconds = time.monotonic() - start
    side.status = shell_status(p.returncode)
    return side


# ---- the working copies of rw directories ----------------------------------------------

def _copy(src: str, dst: str) -> None:
    if os.path.isdir(src):
        shutil.copytree(src, dst, symlinks=True)
    else:
        shutil.copy2(src, dst)


def snapshot(path: str) -> dict:
    """Every entry under path: relative name -> (kind, mode, size, digest or target)."""
    out = {}
    if not os.path.isdir(path):
        with open(path, "rb") as f:
            return {".": ("file", os.stat(path).st_mode & 0o7777, 0,
                          hashlib.sha1(f.read()).hexdigest())}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, path)
            st = os.lstat(full)
            if os.path.islink(full):
                out[rel] = ("symlink", 0, 0, os.readlink(full))
            elif os.path.isdir(full):
                out[rel] = ("dir", st.st_mode & 0o7777, 0, "")
            elif os.path.isfile(full):
                with open(full, "rb") as f:
                    digest = hashlib.sha1(f.read()).hexdigest()
                out[rel] = ("file", st.st_mode & 0o7777, st.st_size, digest)
            else:
                out[rel] = ("special", st.st_mode, 0, "")
    return out


def changes(before: dict, after: dict) -> dict:
    """name -> 'created' | 'changed' | 'removed'."""
    out = {}
    for name in sorted(set(before) | set(after)):
        if name not in before:
            out[name] = "created"
        elif name not in after:
            out[name] = "removed"
        elif before[name] != after[name]:
            out[name] = "changed"
    return out


def _describe(entry) -> str:
    if entry is None:
        return "absent"
    kind, mode, size, extra = entry
    if kind == "file":
        return "file %04o, %d bytes, sha1 %s" % (mode, size, extra[:12])
    if kind == "symlink":
        return "symlink to %s" % extra
    return "%s %04o" % (kind, mode)


# ---- one case ---------------------------------------------------------------------------------

def run_case(plan: Plan, argv: list[str]) -> dict:
    """Run argv both ways and compare; the result as a JSON-ready dict."""
    with tempfile.TemporaryDirectory(prefix="pyunik-compare-") as scratch:
        originals, copies, mounts, volume_words = [], {"native": [], "pyunik": []}, [], []
        for i, v in enumerate(plan.volumes):
            if v.writable:
                originals.append(snapshot(v.host))
                for who in copies:
                    dst = os.path.join(scratch, "%s-%d" % (who, i))
                    _copy(v.host, dst)
                    copies[who].append(dst)
                mounts += [copies["native"][-1], v.guest, "rw"]
                volume_words += ["-v", "%s:%s:rw" % (copies["pyunik"][-1], v.guest)]
            else:
                if v.host != v.guest:
                    mounts += [v.host, v.guest, "ro"]
                volume_words += ["-v", "%s:%s" % (v.host, v.guest)]
        native_log = os.path.join(scratch, "native.strace")
        pyunik_log = os.path.join(scratch, "pyunik.strace")
        cmd = list(argv)
        if plan.strace:
            cmd = [plan.strace, "-f", "-qq", "-o", native_log, "--"] + cmd
        cwd = plan.workdir
        if mounts:
            cmd = [shutil.which("unshare") or "unshare", "-c", "-m", "--propagation", "private",
                   "--", "/bin/sh", "-c", _MOUNT_SCRIPT, "sh", plan.workdir] + mounts + \
                ["--"] + cmd
            cwd = "/"
        native = _run(cmd, plan.env, cwd, plan.stdin, plan.timeout)
        pyunik_cmd = [sys.executable, "-c", _PYUNIK_BOOT, "run"] + plan.run_options + \
            volume_words + (["--strace=" + pyunik_log] if plan.strace else []) + ["--"] + argv
        emulated = _run(pyunik_cmd, plan.host_env, plan.workdir, plan.stdin, plan.timeout)
        for side, log in ((native, native_log), (emulated, pyunik_log)):
            if plan.strace and os.path.exists(log):
                with open(log, errors="replace") as f:
                    side.trace = tracediff.parse(f.read().splitlines())
        native.files = [snapshot(c) for c in copies["native"]]
        emulated.files = [snapshot(c) for c in copies["pyunik"]]
    return compare_sides(plan, argv, native, emulated, originals)


def _split_notes(side: Side) -> None:
    """pyunik's own stderr lines (warnings, its one-line errors) become notes."""
    kept, notes = [], []
    for line in side.stderr.splitlines(keepends=True):
        (notes if line.startswith(b"pyunik: ") else kept).append(line)
    side.stderr = b"".join(kept)
    side.notes = [n.decode(errors="replace").rstrip("\n") for n in notes]


def _diff(name: str, a: bytes, b: bytes) -> str:
    lines = difflib.unified_diff(a.decode(errors="replace").splitlines(keepends=True),
                                 b.decode(errors="replace").splitlines(keepends=True),
                                 "native " + name, "pyunik " + name, n=2)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def _absolute_path(arg: str) -> str | None:
    """The path a normalised string argument holds (tracediff keeps strings as the
    hex of their bytes), if it is absolute."""
    if not arg.startswith('"'):
        return None
    try:
        text = bytes.fromhex(arg[1:arg.index('"', 1)]).decode(errors="replace")
    except ValueError:
        return None
    return text if text.startswith("/") else None


def _missing_in_image(native: list, emulated: list) -> str | None:
    """The first absolute path pyunik's guest found missing (ENOENT) where the native
    program's same call found it."""
    found = {(c.name, a) for c in native if not c.result.endswith("ENOENT")
             for a in c.args if _absolute_path(a)}
    for c in emulated:
        if c.result.endswith("ENOENT"):
            for a in c.args:
                if (c.name, a) in found:
                    return _absolute_path(a)
    return None


def known_differences(native: Side, emulated: Side) -> list[str]:
    """The documented differences that show in this comparison."""
    out = []
    uname = os.uname()
    n_text = native.stdout + native.stderr
    p_text = emulated.stdout + emulated.stderr
    if uname.release.encode() in n_text and UNAME_RELEASE in p_text:
        out.append("uname: pyunik's kernel release is %s (the host's: %s)"
                   % (UNAME_RELEASE.decode(), uname.release))
    if uname.nodename.encode() in n_text and HOSTNAME in p_text \
            and uname.nodename.encode() != HOSTNAME:
        out.append("hostname: the guest's is %s (the host's: %s)"
                   % (HOSTNAME.decode(), uname.nodename))
    if native.trace is not None and emulated.trace is not None:
        path = _missing_in_image(native.trace, emulated.trace)
        if path is not None:
            out.append("%s (%s is there natively)" % (IMAGE_ROOT_NOTE, path))
    return out


def table_note(native_call, pyunik_call) -> str | None:
    """A call pyunik answered with an error where Linux did not, whose row in the
    syscall table is not full: the row's status and note (documented there)."""
    if not pyunik_call.result.startswith("-1 ") or native_call.result.startswith("-1 "):
        return None
    from .kernel.syscalls.table import SyscallTable
    try:
        row = SyscallTable().by_name(pyunik_call.name)
    except (KeyError, LookupError):
        return None
    if row.status == "full":
        return None
    return "%s is %s in pyunik's syscall table (pyunik syscalls): %s" % (
        row.name, row.status, row.note or "no handler, ENOSYS")


def compare_sides(plan: Plan, argv: list[str], native: Side, emulated: Side,
                  originals: list) -> dict:
    _split_notes(emulated)
    files = []
    writable = [v for v in plan.volumes if v.writable]
    for v, before, n_after, p_after in zip(writable, originals, native.files, emulated.files):
        for name in sorted(set(n_after) | set(p_after)):
            a, b = n_after.get(name), p_after.get(name)
            if a != b:
                files.append({"volume": v.guest, "name": name,
                              "native": _describe(a), "pyunik": _describe(b),
                              "native_change": changes(before, n_after).get(name, "unchanged"),
                              "pyunik_change": changes(before, p_after).get(name, "unchanged")})
    effects = [{"volume": v.guest, "changes": changes(before, n_after)}
               for v, before, n_after in zip(writable, originals, native.files)]
    parting = None
    trace = None
    trace_known: list[str] = []
    if native.trace is not None and emulated.trace is not None:
        native.trace = tracediff.without_exec(native.trace, emulated.trace)
        parting = tracediff.first_parting(native.trace, emulated.trace, trace_known,
                                          table_note)
        trace = {"native_calls": len(native.trace), "pyunik_calls": len(emulated.trace),
                 "parts_at": None}
        if parting is not None:
            trace["parts_at"] = {
                "index": parting.index, "pyunik_index": parting.pyunik_index,
                "native": parting.native.line if parting.native else None,
                "pyunik": parting.pyunik.line if parting.pyunik else None,
                "after": parting.before.line if parting.before else None}
    same = (native.status == emulated.status and native.stdout == emulated.stdout
            and native.stderr == emulated.stderr and not files
            and not native.timed_out and not emulated.timed_out)
    return {
        "command": argv,
        "verdict": "same" if same else "differs",
        "native": {"status": native.status, "seconds": round(native.seconds, 3),
                   "stdout_bytes": len(native.stdout), "stderr_bytes": len(native.stderr),
                   "timed_out": native.timed_out},
        "pyunik": {"status": emulated.status, "seconds": round(emulated.seconds, 3),
                   "stdout_bytes": len(emulated.stdout), "stderr_bytes": len(emulated.stderr),
                   "timed_out": emulated.timed_out, "notes": emulated.notes},
        "stdout_diff": _diff("stdout", native.stdout, emulated.stdout),
        "stderr_diff": _diff("stderr", native.stderr, emulated.stderr),
        "files": files,
        "effects": effects,
        "trace": trace,
        "known": known_differences(native, emulated) + trace_known,
    }


# ---- reports ---------------------------------------------------------------------------------

def report(result: dict) -> str:
    """The human report of one case."""
    n, p = result["native"], result["pyunik"]
    lines = ["command: %s" % shlex.join(result["command"])]
    status = "exit status: %d native, %d pyunik" % (n["status"], p["status"])
    if n["timed_out"] or p["timed_out"]:
        status += " (timed out: %s)" % ", ".join(
            w for w, s in (("native", n), ("pyunik", p)) if s["timed_out"])
    lines.append(status + ("" if n["status"] == p["status"] else "  <- differs"))
    for stream in ("stdout", "stderr"):
        d = result[stream + "_diff"]
        if d:
            lines.append("%s differs (%d bytes native, %d pyunik):" % (
                stream, n[stream + "_bytes"], p[stream + "_bytes"]))
            lines += ["  " + x for x in d.rstrip("\n").split("\n")]
        else:
            lines.append("%s: same (%d bytes)" % (stream, n[stream + "_bytes"]))
    for e in result["effects"]:
        made = ", ".join("%s %s" % (c, name) for name, c in e["changes"].items()) or "none"
        lines.append("files in %s, native: %s" % (e["volume"], made))
    for f in result["files"]:
        lines.append("file %s/%s differs: native %s (%s), pyunik %s (%s)" % (
            f["volume"].rstrip("/"), f["name"], f["native_change"], f["native"],
            f["pyunik_change"], f["pyunik"]))
    t = result["trace"]
    if t is not None:
        if t["parts_at"] is None:
            lines.append("traces: the same %d calls" % t["native_calls"])
        else:
            w = t["parts_at"]
            lines.append("traces part at call %d native, %d pyunik (of %d, %d):" % (
                w["index"] + 1, w["pyunik_index"] + 1, t["native_calls"], t["pyunik_calls"]))
            if w["after"]:
                lines.append("  after   %s" % w["after"])
            lines.append("  native  %s" % (w["native"] or "(ends)"))
            lines.append("  pyunik  %s" % (w["pyunik"] or "(ends)"))
    for note in p["notes"]:
        lines.append("pyunik said: %s" % note)
    for k in result["known"]:
        lines.append("known difference: %s" % k)
    lines.append(result["verdict"])
    return "\n".join(lines)


def table(results: list[dict]) -> str:
    rows = ["%4s  %-7s  %6s  %6s  %7s  %s" % ("#", "verdict", "native", "pyunik", "seconds",
                                               "command")]
    for i, r in enumerate(results, 1):
        why = []
        if r["native"]["status"] != r["pyunik"]["status"]:
            why.append("status")
        why += [s for s in ("stdout", "stderr") if r[s + "_diff"]]
        if r["files"]:
            why.append("files")
        if r["known"]:
            why.append("known: " + "; ".join(k.split(":")[0] for k in r["known"]))
        rows.append("%4d  %-7s  %6d  %6d  %7.2f  %s%s" % (
            i, r["verdict"], r["native"]["status"], r["pyunik"]["status"],
            r["pyunik"]["seconds"], shlex.join(r["command"]),
            "  (%s)" % ", ".join(why) if why else ""))
    same = sum(r["verdict"] == "same" for r in results)
    rows.append("%d same, %d differ, of %d" % (same, len(results) - same, len(results)))
    return "\n".join(rows)


# ---- the command -------------------------------------------------------------------------------

def read_corpus(path: str) -> list[list[str]]:
    """One shell-quoted command line per line; blank lines and # comments skipped."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise UsageError("--corpus %s: %s" % (path, e.strerror)) from None
    cases = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            words = shlex.split(line, comments=True)
        except ValueError as e:
            raise UsageError("%s:%d: %s" % (path, number, e)) from None
        if words:
            cases.append(words)
    return cases


def make_plan(args, env: dict, host_env: dict, cwd: str | None) -> Plan:
    """The plan from `compare`'s parsed run options (cli.py parses them as for run)."""
    if args.root or args.image:
        raise UsageError("--root and --image have no native counterpart to compare with")
    try:
        volumes = [parse_volume(v) for v in args.volume]
    except NamespaceError as e:
        raise UsageError(str(e)) from None
    options = ["-m", args.memory] + (["-q"] if args.quiet else [])
    options += ["--clear-env"] if args.clear_env else []
    for kv in args.env:
        options += ["-e", kv]
    workdir = args.workdir or cwd or "/"
    if cwd is not None and args.cwd == "rw":
        volumes.insert(0, Volume(cwd, cwd, writable=True))
        options += ["--cwd", "none"]
    elif args.cwd:
        options += ["--cwd", args.cwd]
    options += ["-w", workdir]
    for v in volumes:
        if not os.path.exists(v.host):
            raise UsageError("-v %s: no such file or directory" % v.host)
        if (v.writable or v.host != v.guest) and not os.path.isdir(v.guest):
            raise UsageError("-v %s:%s: natively %s must be a directory to mount it on"
                             % (v.host, v.guest, v.guest))
    if (any(v.writable or v.host != v.guest for v in volumes)
            and shutil.which("unshare") is None):
        raise UsageError("the native side needs unshare(1) to show volumes at their guest "
                         "paths")
    if not os.path.isdir(workdir):
        raise UsageError("-w %s: natively not a directory" % workdir)
    stdin = None
    if not sys.stdin.isatty():
        try:
            stdin = sys.stdin.buffer.read()
        except (OSError, ValueError):
            stdin = None
    strace = None if args.no_strace else shutil.which("strace")
    return Plan(env, host_env, workdir, options, volumes, stdin, strace, args.timeout)


def cmd_compare(args, env: dict, host_env: dict, cwd: str | None) -> int:
    """The command: env is the guest's environment, host_env pyunik's, cwd the host
    directory --cwd shows (cli.py works them out as for run)."""
    try:
        if args.corpus is not None:
            if args.program is not None:
                raise UsageError("give either --corpus FILE or a program, not both")
            cases = read_corpus(args.corpus)
        elif args.program is None:
            raise UsageError("usage: pyunik compare [run options] -- PROGRAM [ARGS...]")
        else:
            cases = [[args.program] + args.guest_args]
        if args.jobs is not None and args.jobs < 1:
            raise UsageError("-j %d: at least one worker" % args.jobs)
        plan = make_plan(args, env, host_env, cwd)
    except UsageError as e:
        print("pyunik compare: %s" % e, file=sys.stderr)
        return 2
    jobs = args.jobs or os.cpu_count() or 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda argv: run_case(plan, argv), cases))
    if args.corpus is None:
        print(report(results[0]))
    else:
        print(table(results))
    if args.json is not None:
        try:
            with open(args.json, "w") as f:
                json.dump({"cases": results, "jobs": jobs,
                           "same": sum(r["verdict"] == "same" for r in results),
                           "total": len(results)}, f, indent=1)
        except OSError as e:
            print("pyunik compare: %s: %s" % (args.json, e.strerror), file=sys.stderr)
            return 2
    return 0 if all(r["verdict"] == "same" for r in results) else 1
