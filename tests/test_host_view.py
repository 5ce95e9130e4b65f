"""What the guest sees of the host by default, as a person at a shell expects: the
host's working directory at its own path (read-only unless --cwd rw) as the guest's
working directory, and host directories listed in the host's own order."""

from __future__ import annotations

import os
import random
import subprocess

import pytest

from conftest import (BIN, GUEST_ENV, PYUNIK, TIMEOUT, Outcome, assert_no_traceback,
                      assert_same, host_env_for_pyunik, run_native, shell_status)

FIND = "/usr/bin/find"
LS = "/bin/ls"
needs_coreutils = pytest.mark.skipif(not (os.path.exists(FIND) and os.path.exists(LS)),
                                     reason="find or ls not installed")


def run_here(args, cwd) -> Outcome:
    """`pyunik run ARGS` started in cwd, with the tests' guest environment."""
    cmd = PYUNIK + ["run", "-q", "--clear-env"]
    for k, v in GUEST_ENV.items():
        cmd += ["-e", "%s=%s" % (k, v)]
    p = subprocess.run(cmd + [str(a) for a in args], env=host_env_for_pyunik(), cwd=cwd,
                       capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    return Outcome(shell_status(p.returncode), p.stdout, p.stderr, max(0, -p.returncode))


@pytest.fixture
def shuffled_dir(tmp_path):
    """A host directory of 60 names created in a shuffled order, so that the host's
    getdents order is neither creation nor alphabetical order."""
    d = tmp_path / "many"
    d.mkdir()
    names = ["f%03d" % i for i in range(50)] + ["d%d" % i for i in range(10)]
    random.Random(5).shuffle(names)
    for name in names:
        if name.startswith("d"):
            (d / name).mkdir()
            (d / name / "inner").write_text("x")
        else:
            (d / name).write_text(name)
    return d


@needs_coreutils
def test_find_lists_in_the_host_order_under_root(shuffled_dir):
    """`pyunik run --root / -- find DIR` (and find /etc, whose entries the overlay's
    generated files shadow) list names in the host's getdents order, as natively."""
    for where in (str(shuffled_dir), "/etc"):
        native = run_native([FIND, where], cwd="/")
        emulated = run_here(["--root", "/", "--", FIND, where], cwd="/")
        assert_no_traceback(emulated)
        assert_same(native, emulated, "find " + where)


@needs_coreutils
def test_find_lists_in_the_host_order_in_a_volume(shuffled_dir):
    native = run_native([FIND, "."], cwd=shuffled_dir)
    emulated = run_here(["-v", "%s:/data" % shuffled_dir, "-w", "/data", "--", FIND, "."],
                        cwd="/")
    assert_same(native, emulated)


@needs_coreutils
def test_host_working_directory_is_the_guests(tmp_path):
    """The default: the host's working directory at its own path, read-only, and the
    guest's working directory; so relative names work as at a shell."""
    (tmp_path / "README.md").write_text("hello\n")
    native = run_native([LS, "README.md"], cwd=tmp_path)
    emulated = run_here(["--", LS, "README.md"], cwd=tmp_path)
    assert native.stdout == b"README.md\n"
    assert_same(native, emulated)
    pwd = run_here(["--", "/bin/pwd"], cwd=tmp_path)
    assert pwd.stdout == b"%s\n" % os.fsencode(os.path.realpath(tmp_path))
    touch = run_here(["--", "/bin/touch", "new"], cwd=tmp_path)
    assert touch.status == 1 and b"Read-only file system" in touch.stderr
    assert not (tmp_path / "new").exists()


@needs_coreutils
def test_cwd_rw_and_none(tmp_path):
    (tmp_path / "README.md").write_text("hello\n")
    assert run_here(["--cwd", "rw", "--", "/bin/touch", "new"], cwd=tmp_path).status == 0
    assert (tmp_path / "new").exists()
    hidden = run_here(["--cwd", "none", "--", LS, "README.md"], cwd=tmp_path)
    assert hidden.status == 2 and b"No such file or directory" in hidden.stderr
    assert run_here(["--cwd", "none", "--", "/bin/pwd"], cwd=tmp_path).stdout == b"/\n"
    # -w still names the working directory; the host's stays visible at its path
    other = run_here(["-w", "/tmp", "--", LS, str(tmp_path / "README.md")], cwd=tmp_path)
    assert other.stdout == b"%s\n" % os.fsencode(tmp_path / "README.md")


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="python3 not installed")
def test_readme_script_example(tmp_path):
    """README's `pyunik run ./tool.py` with `#!/usr/bin/python3`."""
    tool = tmp_path / "tool.py"
    tool.write_text("#!/usr/bin/python3\nimport sys\nprint('tool', sys.argv[1:])\n")
    tool.chmod(0o755)
    native = run_native(["./tool.py", "a"], cwd=tmp_path)
    emulated = run_here(["./tool.py", "a"], cwd=tmp_path)
    assert native.stdout == b"tool ['a']\n"
    assert_same(native, emulated)


@pytest.mark.parametrize("volume,message", [
    (":/x", "-v :/x: no host directory before the ':'"),
    ("/tmp:/", "-v /tmp:/: a host directory cannot replace the guest's root; use --root /tmp"),
    ("/tmp:/x/..", "-v /tmp:/x/..: a host directory cannot replace the guest's root; "
                   "use --root /tmp")])
def test_volume_without_a_meaning_is_an_error(volume, message):
    out = run_here(["-v", volume, "--", str(BIN / "hello-musl")], cwd="/")
    assert_no_traceback(out)
    assert (out.status, out.stdout, out.stderr_lines()) == (2, b"", ["pyunik: " + message])


def test_working_directory_removed_on_the_host(tmp_path):
    """A host working directory that no longer exists: the guest starts in /."""
    gone = tmp_path / "gone"
    gone.mkdir()
    p = subprocess.run(["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone)]
                       + PYUNIK + ["run", "--", "/bin/pwd"], env=host_env_for_pyunik(),
                       capture_output=True, timeout=TIMEOUT)
    assert (p.returncode, p.stdout) == (0, b"/\n"), p.stderr
