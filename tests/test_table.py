"""Self-checks of the one syscall table (pyunik/kernel/syscalls/table.py) and of
`pyunik syscalls`, which prints it."""

from __future__ import annotations

import errno
import inspect
import json
import re
from pathlib import Path

import pytest

from pyunik.abi.syscall_numbers import NAMES, NUMBERS
from pyunik.kernel.syscalls import table as T

ROW_IDS = ["%d-%s" % (r.nr, r.name) for r in T.ROWS]
HANDLED = [r for r in T.ROWS if r.handler is not None]


def test_rows_sorted_by_number_without_duplicates():
    numbers = [r.nr for r in T.ROWS]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    assert not duplicates, "numbers with more than one row: %s" % duplicates
    assert numbers == sorted(numbers), "ROWS must be sorted by number"


@pytest.mark.parametrize("row", T.ROWS, ids=ROW_IDS)
def test_row_name_matches_abi_number(row):
    assert NAMES.get(row.nr) == row.name


@pytest.mark.parametrize("row", HANDLED, ids=["%d-%s" % (r.nr, r.name) for r in HANDLED])
def test_handler_parameters_match_argument_kinds(row):
    params = list(inspect.signature(row.handler).parameters.values())
    assert params and params[0].name == "t", "first parameter is the thread, `t`"
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params), "plain parameters only"
    assert len(params) - 1 == len(row.args), \
        "%s: handler takes %s, the row declares %d argument kinds" % (
            row.name, [p.name for p in params[1:]], len(row.args))


@pytest.mark.parametrize("row", HANDLED, ids=["%d-%s" % (r.nr, r.name) for r in HANDLED])
def test_handler_docstring_names_the_syscall(row):
    doc = inspect.getdoc(row.handler) or ""
    assert doc.startswith(row.name + "(2)"), \
        "%s's docstring must start %r: %r" % (row.handler.__name__, row.name + "(2)", doc[:60])


@pytest.mark.parametrize("row", T.ROWS, ids=ROW_IDS)
def test_status_is_known_and_partial_stub_have_notes(row):
    assert row.status in (T.FULL, T.PARTIAL, T.STUB)
    if row.status in (T.PARTIAL, T.STUB):
        assert row.note.strip(), "%s is %s without a note" % (row.name, row.status)
    if row.status == T.STUB:
        assert row.handler is None
        assert row.errno in errno.errorcode, "stub %s: errno %r" % (row.name, row.errno)
    else:
        assert row.handler is not None, "%s is %s but has no handler" % (row.name, row.status)


def test_every_abi_number_has_a_row():
    rows = T.SyscallTable().rows
    assert set(rows) == set(NAMES), "table and abi disagree on which numbers exist"
    for nr, name in NAMES.items():
        assert rows[nr].name == name
    assert max(NAMES) < T.SyscallTable.SIZE, "dispatch array too small for the numbers"


def test_abi_names_and_numbers_agree():
    assert len(NUMBERS) == len(NAMES), "a name used for two numbers"
    assert all(NAMES[NUMBERS[name]] == name for name in NUMBERS)


def test_abi_numbers_match_the_linux_headers():
    """Linux is the specification: where the host's kernel headers are installed,
    every __NR_x in asm/unistd_64.h has pyunik's number for x."""
    for header in (Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
                   Path("/usr/include/asm/unistd_64.h")):
        if header.exists():
            break
    else:
        pytest.skip("no asm/unistd_64.h on this host")
    found = dict(re.findall(r"^#define __NR_(\w+)\s+(\d+)\s*$", header.read_text(), re.M))
    assert len(found) > 300
    wrong = {name: (int(nr), NUMBERS.get(name)) for name, nr in found.items()
             if NUMBERS.get(name) != int(nr)}
    assert not wrong, "name: (Linux's number, pyunik's number): %s" % wrong


def test_table_names_are_unique():
    rows = T.SyscallTable().rows.values()
    names = [r.name for r in rows]
    assert len(names) == len(set(names))
    assert T.SyscallTable().by_name("write").nr == 1
    with pytest.raises(KeyError):
        T.SyscallTable().by_name("no_such_syscall")


# ---- `pyunik syscalls` ------------------------------------------------------------

@pytest.fixture(scope="module")
def syscalls_json(run_cli):
    out = run_cli(["syscalls", "--json"])
    assert out.status == 0 and out.stderr == b""
    return json.loads(out.stdout)


def test_syscalls_json_matches_the_table(syscalls_json):
    rows = T.SyscallTable().rows
    assert [e["nr"] for e in syscalls_json] == sorted(rows)
    for e in syscalls_json:
        r = rows[e["nr"]]
        assert (e["name"], e["status"], e["note"]) == (r.name, r.status, r.note)
        assert e["args"] == [k.c_type for k in r.args]
        if r.status in ("stub", "missing"):
            assert e["errno"] == r.errno


def test_syscalls_json_examples(syscalls_json):
    by_name = {e["name"]: e for e in syscalls_json}
    assert by_name["write"]["status"] == "full"
    assert by_name["write"]["args"] == ["int fd", "const void *buf", "size_t"]
    assert by_name["rseq"]["status"] == "stub"
    assert by_name["rseq"]["errno"] == errno.ENOSYS
    missing = [e for e in syscalls_json if e["status"] == "missing"]
    assert {e["nr"] for e in missing} == set(NAMES) - {r.nr for r in T.ROWS}
    assert all(e["errno"] == errno.ENOSYS for e in missing)


@pytest.mark.parametrize("status", ["full", "partial", "stub", "missing"])
def test_syscalls_status_filter(run_cli, syscalls_json, status):
    out = run_cli(["syscalls", "--json", "--status", status])
    assert out.status == 0
    got = json.loads(out.stdout)
    assert got == [e for e in syscalls_json if e["status"] == status]


def test_syscalls_text_listing(run_cli, syscalls_json):
    out = run_cli(["syscalls"])
    assert out.status == 0 and out.stderr == b""
    lines = out.stdout.decode().splitlines()
    body = [line for line in lines
            if re.match(r"^\s*\d+\s+\w+\s+(full|partial|stub|missing)\b", line)]
    assert len(body) == len(syscalls_json)
    assert re.match(r"^\s*1\s+write\s+full\b", body[1])
    counts = {s: sum(e["status"] == s for e in syscalls_json)
              for s in ("full", "partial", "stub", "missing")}
    assert lines[-1] == ", ".join("%d %s" % (counts[s], s) for s in counts)


def test_generated_invokers_have_source_for_pdb():
    """Each row's compiled invoker is registered with linecache under a readable name,
    so tracebacks show its lines and pdb can step into it and list it."""
    import linecache
    table = T.SyscallTable()
    for r in table.sorted():
        if r.invoke is None:
            continue
        code = r.invoke.__code__
        assert code.co_filename == "<syscall %d %s>" % (r.nr, r.name)
        assert code.co_name == "invoke_" + r.name
        source = "".join(linecache.getlines(code.co_filename))
        assert source == inspect.getsource(r.invoke)
        assert "return %s(" % r.handler.__name__ in source
        for kind in r.args:
            assert "# " + kind.c_type in source
    openat = table.by_name("openat")
    lines = linecache.getlines(openat.invoke.__code__.co_filename)
    assert lines[0] == "def invoke_openat(t, r):\n"
    assert lines[3].strip() == "t,"
    assert lines[4].strip().endswith("# int dirfd")
    linecache.checkcache()          # what pdb and traceback do: the source stays
    assert linecache.getlines(openat.invoke.__code__.co_filename) == lines
