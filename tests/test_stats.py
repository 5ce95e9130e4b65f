"""`pyunik run --stats`: what a run did, counted at its end, to stderr or as JSON."""

from __future__ import annotations

import json

from conftest import assert_no_traceback, run_pyunik

HELLO = b"Hello from pyunik guest!\n"


def stats_of(tmp_path, argv, opts=("-q",)):
    out_file = tmp_path / "stats.json"
    out = run_pyunik(argv, extra_opts=list(opts) + ["--stats=%s" % out_file])
    assert_no_traceback(out)
    return json.loads(out_file.read_text()), out


def test_stats_json_of_a_dynamic_program(tmp_path):
    s, out = stats_of(tmp_path, ["guest_images/bin/hello-glibc-dyn"])
    assert out.status == 0 and out.stdout == HELLO and out.stderr == b""
    assert s["exit_status"] == 0
    assert s["syscalls"]["write"] == {"count": 1, "seconds": s["syscalls"]["write"]["seconds"],
                                      "errors": 0}
    assert s["syscalls"]["exit_group"]["count"] == 1
    assert s["syscalls_total"] == sum(r["count"] for r in s["syscalls"].values())
    counts = [r["count"] for r in s["syscalls"].values()]
    assert counts == sorted(counts, reverse=True)
    files = {f["name"]: f for f in s["files"]}
    libc = [f for name, f in files.items() if "libc.so" in name]
    assert libc and libc[0]["read_bytes"] > 0
    assert [f["written_bytes"] for f in s["files"]] == [0, len(HELLO)]   # libc, stdout
    assert s["unicorn_regions_peak"] >= 4
    assert s["guest_memory_peak_bytes"] > 8 << 20          # the 8 MiB stack and more
    assert s["host_memory_peak_bytes"] > s["guest_memory_peak_bytes"] // 8
    assert 0 < s["wall_seconds"] < 60 and s["cpu_seconds"]["user"] > 0
    assert s["faults"] == {} and s["signals"] == {}


def test_stats_count_signals_waits_and_switches(tmp_path):
    s, out = stats_of(tmp_path, ["guest_images/bin/sigwait-musl"])
    assert out.status == 0
    assert s["signals"].get("SIGUSR1", 0) >= 1
    assert s["blocked_seconds"] > 0 and s["context_switches"] > 0
    s, out = stats_of(tmp_path, ["guest_images/bin/threads-glibc"])
    assert out.status == 0 and s["context_switches"] > 0
    pipe = [f for f in s["files"] if f["name"].startswith("pipe:[")]
    assert pipe and pipe[0]["read_bytes"] == pipe[0]["written_bytes"] > 0


def test_stats_fault_of_a_crash(tmp_path):
    s, out = stats_of(tmp_path, ["guest_images/bin/crash-musl"])
    assert out.status == 128 + 11 and s["exit_status"] == 139
    assert s["faults"] == {"segv": 1}


def test_stats_to_stderr_and_program_not_taken_as_file():
    out = run_pyunik(["guest_images/bin/hello-musl"], extra_opts=["-q", "--stats"])
    assert_no_traceback(out)
    assert out.stdout == HELLO and out.status == 0
    err = out.stderr.decode()
    assert err.startswith("pyunik stats: wall ")
    assert "writev" in err and "Unicorn regions peak" in err


def test_stats_unwritable_file(tmp_path):
    out = run_pyunik(["guest_images/bin/hello-musl"],
                     extra_opts=["--stats=%s" % (tmp_path / "no" / "such")])
    assert_no_traceback(out)
    assert out.status == 2 and b"--stats=" in out.stderr
