"""Where two system call traces part: a native `strace -f` log against pyunik's
`--strace` of the same program.

The two logs print the same calls in the same syntax, but not the same values where
the value is the machine's, not the program's: addresses, process ids, times, inode
numbers. And strace decodes structs (`fstat(3, {st_mode=S_IFREG|0644, ...})`) that
pyunik prints as the pointer it was given. So each line is normalised to the call's
name, its arguments and its result, where
- an address, a struct (`{...}`), an array or signal set (`[...]`, `~[...]`) is `*`,
  which matches anything on the other side;
- a number that is a process or thread id of that run (what getpid, gettid,
  set_tid_address, clone, fork and vfork returned) is `PID`;
- comments (`/* 20 vars */`), `[pid N]` prefixes and `<unfinished ...>` / `<...
  resumed>` pairs of strace -f are folded away, and the `+++ exited +++` lines
  (the exit status is compared apart) dropped.

Layer: trace (pure text; the compare command calls it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..abi import mman

_PID_CALLS = {"getpid", "gettid", "getppid", "set_tid_address", "clone", "clone3", "fork",
              "vfork", "getpgid", "getpgrp", "getsid", "setsid"}
_RANDOM_OUT = {"getrandom"}
_MAP_ANONYMOUS = dict((v, n) for n, v in mman.MAP_FLAGS)[mman.MAP_ANONYMOUS]
_COMMENT = re.compile(r"\s*/\*.*?\*/")
_NATIVE_PID = re.compile(r"^(\d+)\s+")
_BRACKET_PID = re.compile(r"^\[pid\s+(\d+)\]\s+")
_CALL = re.compile(r"^([a-z_0-9]+)\((.*)\)\s+=\s+(.*)$")
_UNFINISHED = re.compile(r"^(.*?)\s*<unfinished \.\.\.>$")
_RESUMED = re.compile(r"^<\.\.\. ([a-z_0-9]+) resumed>\s*(.*)$")
_HEX = re.compile(r"^-?0x[0-9a-f]+$")
_ERROR = re.compile(r"^(-1|\?) ([A-Z0-9_]+)")


@dataclass
class Call:
    """One normalised line: name, arguments (strings, `*` for a wildcard), result."""
    name: str
    args: list[str]
    result: str
    line: str            # the line as printed, for the report

    def matches(self, other: "Call") -> bool:
        if self.name != other.name or self.result != other.result:
            return False
        if len(self.args) != len(other.args):
            return False
        return all(a == b or a == "*" or b == "*" for a, b in zip(self.args, other.args))


def split_args(text: str) -> list[str]:
    """Top-level comma-separated arguments, with quotes and brackets respected."""
    out, depth, cur, quoted, i = [], 0, [], False, 0
    while i < len(text):
        c = text[i]
        if quoted:
            cur.append(c)
            if c == "\\" and i + 1 < len(text):
                cur.append(text[i + 1])
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
            cur.append(c)
        elif c in "{[(":
            depth += 1
            cur.append(c)
        elif c in "}])":
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if cur or out:
        out.append("".join(cur).strip())
    return out


_ESCAPES = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "\\": 92, '"': 34, "'": 39,
            "a": 7, "b": 8, "e": 27}


def _unquote(a: str) -> str:
    """A C string literal as its bytes (hex), whatever escapes printed it: strace
    writes \\xae where pyunik writes \\256."""
    out, i = bytearray(), 1
    while i < len(a) and a[i] != '"':
        c = a[i]
        if c == "\\" and i + 1 < len(a):
            n = a[i + 1]
            if n == "x":
                out.append(int(a[i + 2:i + 4], 16))
                i += 4
                continue
            if n.isdigit():
                j = i + 1
                while j < len(a) and j < i + 4 and a[j] in "01234567":
                    j += 1
                out.append(int(a[i + 1:j], 8) & 0xFF)
                i = j
                continue
            out.append(_ESCAPES.get(n, ord(n)))
            i += 2
            continue
        out += c.encode()
        i += 1
    return '"%s"%s' % (out.hex(), a[i + 1:])


def _norm_arg(a: str, pids: set[str]) -> str:
    if not a or a[0] in "{[" or a.startswith("~[") or _HEX.match(a) or a == "NULL":
        return "*"
    if a in pids:
        return "PID"
    if a[0] == '"':
        try:
            return _unquote(a)
        except ValueError:
            return a
    # st_ino=123, tv_sec=..., a time in a flag expression: keep names, drop numbers
    return re.sub(r"(st_ino|tv_sec|tv_nsec|tv_usec)=\d+", r"\1=N", a)


def _norm_result(r: str, pids: set[str]) -> str:
    r = r.strip()
    m = _ERROR.match(r)
    if m:
        return "%s %s" % (m.group(1), m.group(2))
    word = r.split(" ", 1)[0]
    if _HEX.match(word):
        return "ADDR"
    if word in pids:
        return "PID"
    return word


def _fold(lines: list[str]) -> list[str]:
    """Remove pid prefixes and join strace -f's unfinished/resumed halves."""
    pending: dict[str, str] = {}
    out = []
    for line in lines:
        pid = ""
        m = _NATIVE_PID.match(line) or _BRACKET_PID.match(line)
        if m:
            pid, line = m.group(1), line[m.end():]
        line = _COMMENT.sub("", line)
        m = _UNFINISHED.match(line)
        if m:
            pending[pid] = m.group(1)
            continue
        m = _RESUMED.match(line)
        if m:
            line = pending.pop(pid, m.group(1) + "(") + m.group(2)
        out.append(line)
    return out


def parse(lines: list[str]) -> list[Call]:
    """The calls of a trace, normalised (see the module docstring)."""
    folded = _fold(lines)
    pids: set[str] = set()
    parsed = []
    for line in folded:
        m = _CALL.match(line)
        if m is None:
            continue          # +++ exited +++, --- SIGCHLD ---, strace's own notes
        name, args, result = m.groups()
        parsed.append((name, args, result, "%s(%s) = %s" % (name, args, result)))
        if name in _PID_CALLS:
            word = result.split(" ", 1)[0]
            if word.isdigit() and word != "0":
                pids.add(word)
    calls = [Call(name, [_norm_arg(a, pids) for a in split_args(args)],
                  _norm_result(result, pids), line)
             for name, args, result, line in parsed]
    for c in calls:
        if c.name in _RANDOM_OUT and c.args:
            c.args[0] = "*"          # random bytes: never the same twice
    return calls


@dataclass
class Parting:
    """Where two traces part: the index in each (up to there they match, but for
    the known extra calls skipped), the call of each side there (None past the end),
    and the last call they agreed on."""
    index: int
    native: Call | None
    pyunik: Call | None
    before: Call | None
    pyunik_index: int = -1


def without_exec(native: list[Call], pyunik: list[Call]) -> list[Call]:
    """The native trace without its leading execve (strace's own exec of the program,
    which pyunik's trace does not show)."""
    if native and native[0].name == "execve" and not (pyunik and pyunik[0].name == "execve"):
        return native[1:]
    return native


# Known extra calls: anonymous read-write mmaps are a memory allocator's, and where
# allocators take pages depends on sizes that differ for known reasons. The first is
# glibc's dynamic linker: it sizes its list of glibc-hwcaps directories (x86-64-v2,
# -v3, -v4) by the ISA levels the CPU has, and on a host CPU with more levels than
# pyunik's CPU model its small allocator takes pages at other moments (an mmap at
# once natively, later or never under pyunik). So an anonymous mmap one side makes
# and the other does not is stepped over (the calls after it must still match), and
# said in the report.
CPU_MODEL_NOTE = ("the CPU model: pyunik's CPU has fewer x86-64 ISA levels than the "
                  "host's (ld.so --list-diagnostics: dl_hwcaps_subdirs_active), so "
                  "glibc's dynamic linker allocates at other moments")


def _anonymous_mmap(call: Call) -> bool:
    return call.name == "mmap" and call.args[:1] == ["*"] and call.result == "ADDR" and \
        _MAP_ANONYMOUS in "".join(call.args)


def first_parting(native: list[Call], pyunik: list[Call], known: list | None = None,
                  explain=None) -> Parting | None:
    """The first call where the traces disagree, or None if they agree throughout
    (the native trace's leading execve skipped). Anonymous mmaps one side makes and
    the other does not are stepped over (see CPU_MODEL_NOTE), each counted in
    `known`; so is a pair of calls explain(native_call, pyunik_call) gives a note
    for (a documented difference), the note added to `known` once."""
    native = without_exec(native, pyunik)
    i = j = 0
    before = None
    skipped = {"native": 0, "pyunik": 0}
    while i < len(native) and j < len(pyunik):
        a, b = native[i], pyunik[j]
        if a.matches(b):
            before = a
            i, j = i + 1, j + 1
            continue
        if _anonymous_mmap(a) and i + 1 < len(native) and native[i + 1].matches(b):
            skipped["native"] += 1
            i += 1
            continue
        if _anonymous_mmap(b) and j + 1 < len(pyunik) and pyunik[j + 1].matches(a):
            skipped["pyunik"] += 1
            j += 1
            continue
        note = explain(a, b) if explain is not None and a.name == b.name else None
        if note is None:
            break
        if known is not None and note not in known:
            known.append(note)
        before = a
        i, j = i + 1, j + 1
    if known is not None and any(skipped.values()):
        known.append(CPU_MODEL_NOTE + " (anonymous mmaps stepped over in the traces: %d "
                     "native, %d pyunik)" % (skipped["native"], skipped["pyunik"]))
    if i < len(native) and j < len(pyunik):
        return Parting(i, native[i], pyunik[j], before, j)
    if i == len(native) and j == len(pyunik):
        return None
    return Parting(i, native[i] if i < len(native) else None,
                   pyunik[j] if j < len(pyunik) else None, before, j)
