"""The Python face: pyunik.run(...) and Unikernel with syscall hooks."""

from __future__ import annotations

import errno
import os

import pytest

import pyunik
from conftest import BIN, GUEST_ENV, run_native

HELLO_OUT = b"Hello from pyunik guest!\n"


def prog(name: str) -> str:
    return str(BIN / name)


def make_vm(argv, **kw) -> pyunik.Unikernel:
    kw.setdefault("env", dict(GUEST_ENV))
    kw.setdefault("capture_output", True)
    return pyunik.Unikernel(argv, **kw)


def run_vm(vm: pyunik.Unikernel) -> tuple[int, bytes, bytes]:
    try:
        status = vm.run()
        out, err = vm.captured()
        return status, out, err
    finally:
        vm.close()


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_run_captures_output(libc):
    r = pyunik.run([prog("hello-" + libc)], env={}, capture_output=True)
    assert isinstance(r, pyunik.RunResult)
    assert (r.status, r.stdout, r.stderr, r.signal) == (0, HELLO_OUT, b"", 0)


def test_run_status_stderr_and_env():
    argv = [prog("exitcode-glibc"), "300"]
    r = pyunik.run(argv, env={}, capture_output=True)
    assert (r.status, r.stdout, r.stderr) == (44, b"", b"exiting 300\n")
    native = run_native(argv, env={})
    assert (native.status, native.stderr) == (r.status, r.stderr)


def test_run_args_and_env_like_linux():
    argv = [prog("args-musl"), "x y", ""]
    env = {"PYUNIK_ONE": "1", "OTHER": "not printed", "PYUNIK_TWO": "a=b"}
    r = pyunik.run(argv, env=env, capture_output=True)
    native = run_native(argv, env=env)
    assert (r.status, r.stdout, r.stderr) == (native.status, native.stdout, native.stderr)


def test_run_killed_by_signal():
    r = pyunik.run([prog("crash-musl")], env={}, capture_output=True)
    assert (r.status, r.signal) == (139, 11)
    assert r.stdout == b""
    assert r.stderr.startswith(b"crash: about to fault\n")


def test_run_missing_program():
    with pytest.raises(pyunik.ProgramError) as e:
        pyunik.run([prog("no-such-program")], env={}, capture_output=True)
    assert e.value.exit_status == 127


def test_run_without_capture_returns_status():
    with open(os.devnull, "w") as devnull:
        assert pyunik.run([prog("exitcode-musl"), "7"], env={}, stderr=devnull) == 7


def test_empty_argv():
    with pytest.raises(ValueError):
        pyunik.Unikernel([])


# ---- hooks -------------------------------------------------------------------------

def test_before_hook_changes_arguments():
    """Redirect hello-glibc's write(1, ...) to fd 2: the text moves to stderr."""
    seen = []

    def to_stderr(call):
        seen.append((call.name, call.nr, list(call.args)))
        if call.args[0] == 1:
            call.args[0] = 2

    vm = make_vm([prog("hello-glibc")])
    vm.on_syscall("write", to_stderr, when="before")
    assert run_vm(vm) == (0, b"", HELLO_OUT)
    assert [(name, nr, args[0], args[2]) for name, nr, args in seen] == [("write", 1, 1, 25)]
    assert len(seen[0][2]) == 6


def test_before_hook_on_writev():
    def to_stderr(call):
        call.args[0] = 2

    vm = make_vm([prog("hello-musl")])
    vm.on_syscall("writev", to_stderr)
    assert run_vm(vm) == (0, b"", HELLO_OUT)


def test_before_hook_result_skips_the_handler():
    """Setting result in a 'before' hook answers the call without running it: the
    write claims success and nothing is written."""
    def swallow(call):
        call.result = call.args[2]

    vm = make_vm([prog("hello-glibc")])
    vm.on_syscall("write", swallow)
    assert run_vm(vm) == (0, b"", b"")


def test_before_hook_can_fail_a_call():
    """sysloop counts failed calls: every getppid made to fail with -EPERM."""
    calls = []

    def fail(call):
        calls.append(call.nr)
        call.result = -errno.EPERM

    vm = make_vm([prog("sysloop-musl"), "5"])
    vm.on_syscall("getppid", fail)
    assert run_vm(vm) == (1, b"errors 5\ndone 5\n", b"")
    assert calls == [110] * 5


def test_after_hook_changes_the_result():
    """info prints pid==tid; an 'after' hook on getpid makes them differ."""
    results = []

    def other_pid(call):
        results.append(call.result)
        call.result = 4242

    vm = make_vm([prog("info-musl")])
    vm.on_syscall("getpid", other_pid, when="after")
    status, out, err = run_vm(vm)
    assert status == 0 and err == b""
    assert b"pid==tid: 0\n" in out
    assert len(results) == 1 and results[0] > 0
    native = run_native([prog("info-musl")])
    assert native.stdout.replace(b"pid==tid: 1\n", b"pid==tid: 0\n") == out


def test_after_hook_sees_the_handler_result():
    seen = []
    vm = make_vm([prog("hello-glibc")])
    vm.on_syscall("write", lambda call: seen.append(call.result), when="after")
    assert run_vm(vm) == (0, HELLO_OUT, b"")
    assert seen == [25]


def test_after_hook_error_reaches_the_guest():
    """bigwrite-glibc reports a failed write(2) with its errno: make the first one
    fail with EIO after it happened."""
    def eio(call):
        call.result = -errno.EIO

    vm = make_vm([prog("bigwrite-glibc")])
    vm.on_syscall("write", eio, when="after")
    status, out, err = run_vm(vm)
    assert status == 1
    assert err == b"bigwrite: write failed at 0: errno %d\n" % errno.EIO
    assert len(out) == 65536, "the handler ran: the data was written"


def test_hooks_run_in_order_before_then_after():
    order = []
    vm = make_vm([prog("sysloop-glibc"), "2"])
    vm.on_syscall("getppid", lambda c: order.append("before1"))
    vm.on_syscall("getppid", lambda c: order.append("before2"))
    vm.on_syscall("getppid", lambda c: order.append("after"), when="after")
    assert run_vm(vm) == (0, b"done 2\n", b"")
    assert order == ["before1", "before2", "after"] * 2


def test_hook_for_a_missing_syscall_can_answer_it(make_program):
    """A syscall the table lists as missing can be answered by a 'before' hook."""
    from pyunik.kernel.syscalls.table import SyscallTable
    missing = [r for r in SyscallTable().sorted() if r.status == "missing"]
    if not missing:
        pytest.skip("no missing syscall left")
    nr = missing[0].nr
    # mov eax, nr; syscall; mov rdi, rax; mov eax, 60; syscall  -> exit(result)
    code = (b"\xb8" + nr.to_bytes(4, "little") + b"\x0f\x05" + b"\x48\x89\xc7"
            + b"\xb8\x3c\x00\x00\x00\x0f\x05")
    path = make_program("missing", code)

    def answer(call):
        call.result = 42

    vm = make_vm([path], quiet=True)
    vm.on_syscall(missing[0].name, answer)
    assert run_vm(vm) == (42, b"", b"")
    vm = make_vm([path], quiet=True)
    assert run_vm(vm)[0] == 256 - errno.ENOSYS


def test_hook_on_unknown_name():
    vm = make_vm([prog("hello-musl")])
    try:
        with pytest.raises(KeyError):
            vm.on_syscall("no_such_syscall", lambda call: None)
        with pytest.raises(ValueError):
            vm.on_syscall("write", lambda call: None, when="during")
    finally:
        vm.close()


def test_stdin_bytes(make_program):
    """stdin=b'...' is what the guest reads from fd 0 (a cat built in test_raw)."""
    from test_raw_programs import CAT
    path = make_program("cat", CAT)
    data = bytes(range(256)) * 40
    r = pyunik.run([path], env={}, stdin=data, capture_output=True)
    assert (r.status, r.stdout, r.stderr) == (0, data, b"")


def test_captured_stderr_holds_pyunik_lines_in_order():
    """With capture_output, pyunik's own lines (warnings, the crash report) land in
    the captured stderr after what the guest wrote before them."""
    r = pyunik.run([str(BIN / "crash-musl")], capture_output=True)
    assert r.status == 139
    text = r.stderr.decode()
    assert text.startswith("crash: about to fault\n")
    assert "killed by SIGSEGV" in text
    r = pyunik.run([str(BIN / "errnotest-musl")], capture_output=True)
    assert "pyunik: warning: unknown syscall 1000\n" in r.stderr.decode()
