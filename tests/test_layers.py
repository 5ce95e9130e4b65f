"""The layers hold: `cli/api -> kernel -> (fs, net, mm, loader) -> cpu -> abi`, nothing
imports upward, only cpu/ imports unicorn, fs/ never reaches the system calls, and
every module opens with a docstring. Read from the source with ast, so a new import
anywhere (at module level or inside a function) is checked."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "pyunik"

# What each part of pyunik may import (besides itself and the standard library).
ALLOWED = {
    "abi": set(),
    "errors": set(),
    "wait": set(),          # WaitQueue and WouldBlock: below fs/, net/ and kernel/ as errors is
    "hrtimer": set(),       # IntervalTimer: below fs/ (timerfd) and kernel/ (POSIX timers)
    "cpu": {"abi", "errors", "wait", "unicorn"},
    "mm": {"abi", "errors", "wait", "cpu"},
    "fs": {"abi", "errors", "wait", "hrtimer", "cpu", "mm"},
    "net": {"abi", "errors", "wait", "hrtimer", "cpu", "mm", "fs"},
    "loader": {"abi", "errors", "wait", "cpu", "mm", "fs"},
    "trace": {"abi", "errors", "wait", "cpu", "mm", "fs"},   # fs: an fd's name for --stats
    "kernel": {"abi", "errors", "wait", "hrtimer", "cpu", "mm", "fs", "net", "loader", "trace"},
    "api": {"abi", "errors", "wait", "cpu", "mm", "fs", "net", "loader", "trace", "kernel"},
    "compare": {"abi", "errors", "wait", "cpu", "mm", "fs", "net", "loader", "trace", "kernel"},
    "cli": {"abi", "errors", "wait", "cpu", "mm", "fs", "net", "loader", "trace", "kernel", "api",
            "compare", "__version__"},
    "__init__": {"api", "kernel", "errors"},
    "__main__": {"cli"},
}


def _modules():
    return sorted(PKG.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """The parts of pyunik (and unicorn) that path imports."""
    rel = path.relative_to(PKG)
    parts = ["pyunik"] + list(rel.with_suffix("").parts)
    package = parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                mod = base + (node.module.split(".") if node.module else [])
            else:
                mod = node.module.split(".")
            targets = [mod] if node.module else [mod + [a.name] for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name.split(".") for a in node.names]
        for t in targets:
            if t[0] == "pyunik" and len(t) > 1:
                out.add(t[1])
            elif t[0] == "unicorn":
                out.add("unicorn")
            if t[:3] == ["pyunik", "kernel", "syscalls"]:
                out.add("kernel.syscalls")
    return out


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_imports_follow_the_layers(path):
    rel = path.relative_to(PKG)
    part = rel.parts[0] if len(rel.parts) > 1 else rel.stem
    found = _imports(path) - {part}
    allowed = ALLOWED[part] | ({"kernel.syscalls"} if part in ("kernel", "api", "cli", "compare")
                               else set())
    assert found <= allowed, "%s imports %s" % (rel, sorted(found - allowed))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_module_opens_with_a_docstring(path):
    """Each module says what it is, what layer it is and whom it calls; an abi module
    names the Linux source it mirrors instead (it calls nothing)."""
    rel = path.relative_to(PKG)
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc, rel
    if rel.parts[0] == "abi":
        assert re.search(r"\.(h|c|tbl)\b|Linux facts|Linux sources", doc), rel
        return
    assert re.search(r"\blayer\b", doc, re.I), "%s: the docstring names no layer" % rel
    assert re.search(r"\b(calls?|called|imports nothing)\b", doc, re.I), \
        "%s: the docstring does not say whom the module calls" % rel


# A module a student reads whole: the largest are about this size (STYLE.md's xv6 files).
MODULE_LINES = 800


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_module_stays_readable_whole(path):
    """Every module stays under MODULE_LINES lines: a file that grows past it is split
    by what it does (as net/tcp*.py and fs/proc/ were), not left to grow."""
    lines = len(path.read_text().splitlines())
    assert lines <= MODULE_LINES, "%s has %d lines" % (path.relative_to(PKG), lines)


def test_dynamic_imports_stay_in_the_syscall_table():
    """The one import the ast check cannot see is the syscall table's: a row's handler
    module, imported by name on first use, from kernel/syscalls/ only. Any other
    importlib.import_module or __import__ would hide an arrow from the layer check."""
    users = sorted(str(p.relative_to(PKG)) for p in _modules()
                   if re.search(r"\bimport_module\b|\b__import__\b", p.read_text()))
    assert users == ["kernel/syscalls/table.py"], users
    source = (PKG / "kernel" / "syscalls" / "table.py").read_text()
    assert 'importlib.import_module("%s.%s" % (__package__, self.module))' in source
