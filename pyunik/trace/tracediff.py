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

_PID_CALLS = {"getpid", "gettid", "getppid", "set_tid_address", "clone", "clone3", "fork",
              "vfork", "getpgid", "getpgrp", "getsid", "setsid"}
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


def _norm_arg(a: str, pids: set[str]) -> str:
    if not a or a[0] in "{[" or a.startswith("~[") or _HEX.match(a) or a == "NULL":
        return "*"
    if a in pids:
        return "PID"
    if a[0] == '"':
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
    return [Call(name, [_norm_arg(a, pids) for a in split_args(args)],
                 _norm_result(result, pids), line)
            for name, args, result, line in parsed]


@dataclass
class Parting:
    """Where two traces part: the index (in both, up to it they match), the call of
    each side there (None past the end), and the last call they agreed on."""
    index: int
    native: Call | None
    pyunik: Call | None
    before: Call | None


def without_exec(native: list[Call], pyunik: list[Call]) -> list[Call]:
    """The native trace without its leading execve (strace's own exec of the program,
    which pyunik's trace does not show)."""
    if native and native[0].name == "execve" and not (pyunik and pyunik[0].name == "execve"):
        return native[1:]
    return native


def first_parting(native: list[Call], pyunik: list[Call]) -> Parting | None:
    """The first call where the traces disagree, or None if they agree throughout
    (the native trace's leading execve skipped)."""
    native = without_exec(native, pyunik)
    for i, (a, b) in enumerate(zip(native, pyunik)):
        if not a.matches(b):
            return Parting(i, a, b, native[i - 1] if i else None)
    if len(native) == len(pyunik):
        return None
    i = min(len(native), len(pyunik))
    return Parting(i, native[i] if i < len(native) else None,
                   pyunik[i] if i < len(pyunik) else None, native[i - 1] if i else None)
