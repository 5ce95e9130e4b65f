"""`pyunik run --strace`: the line format, and the sequence of system calls compared
with the real strace(1) of the same program run natively."""

from __future__ import annotations

import re
import shutil
import subprocess
from difflib import SequenceMatcher

import pytest

from conftest import GUEST_ENV, REPO, TIMEOUT, assert_no_traceback

HELLO = "Hello from pyunik guest!"


def pyunik_trace(run_pyunik, tmp_path, argv, opts=("-q",)) -> tuple[list[str], object]:
    trace = tmp_path / "trace.txt"
    out = run_pyunik(argv, extra_opts=list(opts) + ["--strace=%s" % trace])
    assert_no_traceback(out)
    return trace.read_text().splitlines(), out


def real_strace(tmp_path, argv) -> list[str]:
    """`strace -f -qq` of the native run, pids and alignment padding removed; a call
    strace split (`<unfinished ...>` while another process ran, then `<... resumed>`)
    joined into one line where it ended, as pyunik prints it."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    log = tmp_path / "native-trace.txt"
    p = subprocess.run([strace, "-f", "-qq", "-o", str(log)] + argv, cwd=REPO,
                       env=GUEST_ENV, capture_output=True, timeout=TIMEOUT)
    if not log.exists() or "execve(" not in log.read_text():
        pytest.skip("strace cannot trace here: %s" % p.stderr.decode(errors="replace"))
    lines = []
    unfinished = {}
    for line in log.read_text().splitlines():
        pid, line = re.match(r"^(\d*)\s*(.*)$", line).groups()
        if line.endswith(" <unfinished ...>"):
            unfinished[pid] = line[:-len(" <unfinished ...>")]
            continue
        resumed = re.match(r"^<\.\.\. [a-z_0-9]+ resumed>", line)
        if resumed and pid in unfinished:
            line = unfinished.pop(pid) + line[resumed.end():]
        lines.append(re.sub(r"\)\s+= ", ") = ", line))
    return lines


def picked(lines: list[str], pattern, substitutions=()) -> list[str]:
    """The lines pattern matches, without strace's `[pid N] ` prefix, each with the
    (regex, replacement) substitutions made in order (what differs between runs)."""
    out = []
    for line in lines:
        line = re.sub(r"^\[pid +\d+\] ", "", line)
        if pattern.match(line):
            for regex, replacement in substitutions:
                line = re.sub(regex, replacement, line)
            out.append(line)
    return out


def names(lines: list[str]) -> list[str]:
    return [m.group(1) for m in (re.match(r"([a-z_0-9]+)\(", line) for line in lines) if m]


# ---- format ------------------------------------------------------------------------

@pytest.mark.parametrize("libc,write_line", [
    ("musl", 'writev(1, [{iov_base="%s", iov_len=24}, {iov_base="\\n", iov_len=1}], 2) = 25'
     % HELLO),
    ("glibc", 'write(1, "%s\\n", 25) = 25' % HELLO),
])
def test_hello_trace(run_pyunik, tmp_path, libc, write_line):
    lines, out = pyunik_trace(run_pyunik, tmp_path, ["guest_images/bin/hello-" + libc])
    assert out.stdout == (HELLO + "\n").encode() and out.status == 0
    assert out.stderr == b"", "--strace=FILE keeps the trace off stderr"
    assert write_line in lines, "\n".join(lines)
    assert lines[-2:] == ["exit_group(0) = ?", "+++ exited with 0 +++"]
    assert lines.count(write_line) == 1


def test_trace_to_stderr(run_pyunik):
    out = run_pyunik(["guest_images/bin/hello-musl"], extra_opts=["--strace"])
    assert_no_traceback(out)
    assert out.stdout == (HELLO + "\n").encode() and out.status == 0
    err = out.stderr.decode().splitlines()
    assert err[-2:] == ["exit_group(0) = ?", "+++ exited with 0 +++"]
    assert any(line.startswith("writev(1, ") for line in err)


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_exit_status_in_trace(run_pyunik, tmp_path, libc):
    lines, out = pyunik_trace(run_pyunik, tmp_path, ["guest_images/bin/exitcode-" + libc, "3"])
    assert out.status == 3 and out.stderr == b"exiting 3\n"
    assert lines[-2:] == ["exit_group(3) = ?", "+++ exited with 3 +++"]


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_killed_by_signal_in_trace(run_pyunik, tmp_path, libc):
    lines, out = pyunik_trace(run_pyunik, tmp_path, ["guest_images/bin/crash-" + libc])
    assert out.status == 139
    assert re.fullmatch(r"\+\+\+ killed by SIGSEGV( \(core dumped\))? \+\+\+", lines[-1]), lines[-1]


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_error_returns(run_pyunik, tmp_path, libc):
    lines, _ = pyunik_trace(run_pyunik, tmp_path, ["guest_images/bin/errnotest-" + libc])
    assert "uname(0x8) = -1 EFAULT (Bad address)" in lines
    assert "gettimeofday(0x8, NULL) = -1 EFAULT (Bad address)" in lines
    assert "lseek(3, 0, SEEK_SET) = -1 ESPIPE (Illegal seek)" in lines
    assert "close(99) = -1 EBADF (Bad file descriptor)" in lines
    unknown = [line for line in lines if line.startswith("syscall_0x3e8(")]
    assert len(unknown) == 1 and unknown[0].endswith(") = -1 ENOSYS (Function not implemented)")
    assert any(line.endswith("= -1 EFAULT (Bad address)") and line.startswith("write(")
               for line in lines)


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_mmap_lines(run_pyunik, tmp_path, libc):
    lines, _ = pyunik_trace(run_pyunik, tmp_path, ["guest_images/bin/memtest-" + libc])
    anon = re.compile(r"^mmap\(NULL, (\d+), PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, "
                      r"-1, 0\) = 0x7[0-9a-f]+$")
    sizes = [int(m.group(1)) for m in map(anon.match, lines) if m]
    assert 4 * 4096 in sizes and 3 * 4096 in sizes, "memtest maps 4 and 3 pages first"
    assert all(s > 0 for s in sizes)
    fixed = [line for line in lines if "MAP_FIXED_NOREPLACE" in line]
    assert any(line.endswith("= -1 EEXIST (File exists)") for line in fixed), fixed
    assert any(re.match(r"^munmap\(0x7[0-9a-f]+, \d+\) = 0$", line) for line in lines)
    assert any(re.match(r"^brk\(NULL\) = 0x[0-9a-f]+$", line) for line in lines)


def _strace_quote(data: bytes) -> str:
    out = ['"']
    for b in data:
        c = chr(b)
        out.append({"\n": "\\n", '"': '\\"', "\\": "\\\\"}.get(c, c))
    return "".join(out) + '"'


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_long_strings_are_cut(run_pyunik, tmp_path, libc):
    """bigwrite writes 64 KiB at a time: the buffer prints as its first 32 bytes
    and `...`, as strace's default -s 32 does."""
    lines, _ = pyunik_trace(run_pyunik, tmp_path, ["guest_images/bin/bigwrite-" + libc])
    first = bytes(10 if i % 64 == 63 else 33 + ((i // 64) * 7 + (i % 64) * 3) % 94
                  for i in range(32))
    want = "write(1, %s..., 65536) = 65536" % _strace_quote(first)
    assert lines.count(want) == 1, "\n".join(lines[:8])
    writes = [line for line in lines if line.startswith("write(1, ")]
    assert len(writes) == 16
    assert all(re.match(r'^write\(1, ".{32,64}"\.\.\., 65536\) = 65536$', w) for w in writes)


# ---- compared with the real strace -------------------------------------------------

# Calls the C libraries make through the vDSO natively (no syscall, so strace does
# not see them); pyunik offers no vDSO, so under pyunik they are real syscalls.
VDSO_CALLS = {"clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu"}

# Where the native and pyunik call sequences knowingly part: per program, the
# difflib opcodes (tag, native names, pyunik names) that are allowed, with why.
TRACE_KNOWN_DIFFERENCES = {
    "memtest": ([("delete", ["munmap"], [])],
                "the 1 TiB MAP_NORESERVE mapping fails under pyunik (see test_guests.py "
                "KNOWN_DIFFERENCES), so memtest has nothing to munmap"),
}

TRACED = [
    ["hello-musl"], ["hello-glibc"], ["hello-musl-pie"], ["hello-glibc-pie"],
    ["args-musl", "a", "b"], ["args-glibc", "a", "b"],
    ["info-musl"], ["info-glibc"], ["sigstate-musl"], ["sigstate-glibc"],
    ["memtest-musl"], ["memtest-glibc"], ["errnotest-musl"], ["errnotest-glibc"],
    ["bigwrite-musl"], ["bigwrite-glibc"], ["exitcode-musl", "3"], ["exitcode-glibc", "3"],
    ["sysloop-musl", "20"], ["sysloop-glibc", "20"],
]


@pytest.mark.parametrize("argv", TRACED, ids=lambda a: "-".join(a))
def test_call_sequence_matches_strace(run_pyunik, tmp_path, argv):
    program = ["guest_images/bin/" + argv[0]] + argv[1:]
    native = real_strace(tmp_path, program)
    assert names(native)[0] == "execve"
    # pyunik's trace starts after the program is loaded: there is no execve call.
    native_names = [n for n in names(native)[1:] if n not in VDSO_CALLS]
    lines, _ = pyunik_trace(run_pyunik, tmp_path, program)
    pyunik_names = [n for n in names(lines) if n not in VDSO_CALLS]
    base = re.sub(r"-(musl|glibc)(-pie)?$", "", argv[0])
    allowed, why = TRACE_KNOWN_DIFFERENCES.get(base, ([], ""))
    diffs = [(tag, native_names[i1:i2], pyunik_names[j1:j2]) for tag, i1, i2, j1, j2
             in SequenceMatcher(None, native_names, pyunik_names, autojunk=False).get_opcodes()
             if tag != "equal"]
    assert diffs == allowed, "native strace vs pyunik (known: %s):\n%s" % (why or "none", diffs)


@pytest.mark.parametrize("argv", [["bigwrite-musl"], ["bigwrite-glibc"], ["hello-musl"],
                                  ["hello-glibc"], ["exitcode-musl", "3"],
                                  ["exitcode-glibc", "3"]], ids=lambda a: "-".join(a))
def test_write_lines_match_strace_exactly(run_pyunik, tmp_path, argv):
    """Lines with no addresses in them print exactly as strace prints them."""
    program = ["guest_images/bin/" + argv[0]] + argv[1:]
    pick = re.compile(r"^(write|writev|exit_group)\(")
    native = [line for line in real_strace(tmp_path, program) if pick.match(line)]
    lines, _ = pyunik_trace(run_pyunik, tmp_path, program)
    assert [line for line in lines if pick.match(line)] == native


@pytest.mark.parametrize("argv", [["sigframe-musl"], ["sigframe-glibc"]],
                         ids=lambda a: "-".join(a))
def test_sigreturn_lines_match_strace_exactly(run_pyunik, tmp_path, argv):
    """rt_sigreturn prints the mask its frame restores and the restored rax, as
    strace does: rt_sigreturn({mask=[USR2]}) = 0."""
    program = ["guest_images/bin/" + argv[0]] + argv[1:]
    pick = re.compile(r"^rt_sigreturn\(")
    native = [line for line in real_strace(tmp_path, program) if pick.match(line)]
    lines, _ = pyunik_trace(run_pyunik, tmp_path, program)
    assert len(native) > 10 and any("{mask=[USR2]}" in line for line in native)
    assert [line for line in lines if pick.match(line)] == native


def test_sigset_as_strace_prints_it():
    from pyunik.trace.strace import sigset
    assert sigset(0) == "[]"
    assert sigset(1 << 9 | 1 << 11 | 1 << 18) == "[USR1 USR2 STOP]"
    assert sigset((1 << 0) | (1 << 1)) == "[HUP INT]"
    assert sigset((1 << 64) - 1) == "~[]"
    assert sigset(((1 << 64) - 1) & ~(1 << 8) & ~(1 << 18)) == "~[KILL STOP]"
    assert sigset(1 << 31) == "[RTMIN]"
    assert sigset(1 << 32 | 1 << 33 | 1 << 63) == "[RT_1 RT_2 RT_32]"
    # inverted once two thirds of the bits (42 of 64) are set, as strace does
    assert sigset((1 << 41) - 1).startswith("[HUP INT ")
    assert sigset((1 << 42) - 1) == "~[%s]" % " ".join("RT_%d" % n for n in range(11, 33))
    assert sigset(0xFFFFFFFF, 4) == "~[]" and sigset(1, 4) == "[HUP]"


@pytest.mark.parametrize("name,args,shown", [
    ("pipe2", [0x1000, 0], "pipe2(0x1000, 0) = 0"),
    ("pipe2", [0x1000, 0o4000 | 0o2000000], "pipe2(0x1000, O_NONBLOCK|O_CLOEXEC) = 0"),
    ("dup3", [5, 10, 0o2000000], "dup3(5, 10, O_CLOEXEC) = 0"),
    ("eventfd2", [3, 1 | 0o2000000], "eventfd2(3, EFD_SEMAPHORE|EFD_CLOEXEC) = 0"),
    ("eventfd2", [0, 0], "eventfd2(0, 0) = 0"),
])
def test_flag_words_without_access_mode(name, args, shown):
    """pipe2, dup3 and eventfd2 take O_*/EFD_* bits, never an access mode: strace prints
    0 for none (O_RDONLY would be wrong)."""
    from pyunik.kernel.syscalls.table import SyscallTable
    from pyunik.trace.strace import format_call
    row = SyscallTable().by_name(name)
    assert format_call(row, args, 0, None) == shown


def test_open_mode_only_when_creating(run_pyunik, tmp_path):
    """strace prints open's and openat's mode only with O_CREAT or O_TMPFILE."""
    lines, out = pyunik_trace(run_pyunik, tmp_path, ["guest_images/bin/hello-glibc-dyn"])
    assert out.status == 0
    opens = [line for line in lines if line.startswith("openat(")]
    assert opens and all(re.match(r'openat\(AT_FDCWD, "[^"]+", O_RDONLY\|O_CLOEXEC\) = ', line)
                         for line in opens), opens
    work = tmp_path / "work"
    work.mkdir()
    trace = tmp_path / "fileio.txt"
    out = run_pyunik([REPO / "guest_images/bin/fileio-musl", work], cwd=work,
                     extra_opts=["-q", "--cwd", "rw", "--strace=%s" % trace])
    assert_no_traceback(out)
    created = [line for line in trace.read_text().splitlines()
               if line.startswith(("open(", "openat(")) and "O_CREAT" in line]
    assert created and all(re.search(r"O_CREAT[|A-Z_]*, 0[0-7]{3}\) = ", line)
                           for line in created), created
