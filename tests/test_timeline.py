"""`pyunik run --trace-out FILE.json`: the run as Chrome trace-event JSON (Perfetto):
the file's structure, and a known program's events in the order it made them."""

from __future__ import annotations

import json

from conftest import assert_no_traceback, run_pyunik

HELLO = b"Hello from pyunik guest!\n"


def timeline(tmp_path, argv, opts=("-q",)):
    path = tmp_path / "run.json"
    strace = tmp_path / "strace.txt"
    out = run_pyunik(argv, extra_opts=list(opts) + ["--trace-out", str(path),
                                                    "--strace=%s" % strace])
    assert_no_traceback(out)
    doc = json.loads(path.read_text())
    return doc, out, strace.read_text().splitlines()


def check_structure(doc) -> list:
    assert set(doc) == {"traceEvents", "displayTimeUnit"}
    events = doc["traceEvents"]
    named_threads = set()
    for e in events:
        assert e["ph"] in ("M", "X", "i", "C"), e
        assert isinstance(e["name"], str) and isinstance(e["pid"], int)
        if e["ph"] == "M":
            assert e["name"] in ("process_name", "thread_name") and e["args"]["name"]
            if e["name"] == "thread_name":
                named_threads.add(e["tid"])
            continue
        assert e["ts"] >= 0
        if e["ph"] == "X":
            assert e["dur"] >= 0 and e["cat"] in ("syscall", "mm", "wait")
        if e["ph"] in ("X", "i") and e.get("s") != "p":
            assert e["tid"] in named_threads, "a track is named before its first event"
        if e["ph"] == "C":
            assert all(isinstance(v, int) for v in e["args"].values())
    return events


def test_known_program_in_order(tmp_path):
    doc, out, strace = timeline(tmp_path, ["guest_images/bin/hello-glibc-dyn"])
    assert out.status == 0 and out.stdout == HELLO
    events = check_structure(doc)
    calls = [e for e in events if e.get("cat") in ("syscall", "mm")]
    # the same calls, decoded the same way, in the order strace printed them
    assert [e["args"]["call"] for e in calls] == [line for line in strace
                                                   if not line.startswith("+++")]
    names = [e["name"] for e in calls]
    assert names[0] == "brk" and names[-2:] == ["write", "exit_group"]
    assert names.index("openat") < names.index("mmap") < names.index("write")
    write = calls[-2]
    assert write["args"]["call"] == 'write(1, "Hello from pyunik guest!\\n", 25) = 25'
    assert write["args"]["result"] == "25" and write["ph"] == "X"
    assert calls[-1]["ph"] == "i"                     # exit_group never returns
    starts = [e["ts"] for e in calls]
    assert starts == sorted(starts)
    assert all(a["ts"] + a["dur"] <= b["ts"] + 1e-3 for a, b in zip(calls, calls[1:]))
    assert {e["cat"] for e in calls if e["name"] in ("mmap", "mprotect", "brk")} == {"mm"}
    counters = {e["name"] for e in events if e["ph"] == "C"}
    assert {"guest memory", "Unicorn regions", "pyunik resident memory"} <= counters
    mapped = [e["args"]["mapped"] for e in events if e["name"] == "guest memory"]
    assert mapped[0] > 8 << 20
    meta = [e for e in events if e["ph"] == "M"]
    assert meta[0]["args"]["name"].endswith("hello-glibc-dyn (pid 1000)")


def test_threads_waits_and_switches(tmp_path):
    doc, out, _ = timeline(tmp_path, ["guest_images/bin/threads-glibc"])
    assert out.status == 0
    events = check_structure(doc)
    tracks = {e["tid"] for e in events if e["name"] == "thread_name"}
    assert len(tracks) > 1
    waits = [e for e in events if e.get("cat") == "wait"]
    assert waits and all(w["name"].startswith("wait: ") for w in waits)
    # each wait sits inside the slice of the call that waited, on the same track
    slices = [e for e in events if e["ph"] == "X" and e["cat"] != "wait"]
    for w in waits[:50]:
        assert any(s["tid"] == w["tid"] and s["name"] == w["args"]["call"]
                   and s["ts"] <= w["ts"] and w["ts"] + w["dur"] <= s["ts"] + s["dur"] + 1e-3
                   for s in slices), w
    switches = [e for e in events if e.get("cat") == "sched"]
    assert switches and {s["args"]["to"] for s in switches} <= tracks
    reasons = {s["args"]["reason"].split(":")[0] for s in switches}
    assert "blocked" in reasons
    assert any(s["args"]["reason"].startswith("blocked: ") and len(s["args"]["reason"]) > 9
               for s in switches)


def test_signals_and_faults(tmp_path):
    doc, out, _ = timeline(tmp_path, ["guest_images/bin/sigwait-musl"])
    assert out.status == 0
    events = check_structure(doc)
    signals = [e for e in events if e.get("cat") == "signal"]
    assert "SIGUSR1" in {s["name"] for s in signals}
    faults = [e for e in events if e.get("cat") == "fault"]
    assert faults and faults[0]["name"] == "fault: segv" and faults[0]["args"]["address"]
    # a fault comes before the SIGSEGV it became
    first_fault = events.index(faults[0])
    assert any(e["name"] == "SIGSEGV" for e in events[first_fault:])


def test_crash_still_gives_a_whole_file(tmp_path):
    doc, out, _ = timeline(tmp_path, ["guest_images/bin/crash-musl"])
    assert out.status == 139
    events = check_structure(doc)
    assert [e["name"] for e in events if e.get("cat") == "fault"] == ["fault: segv"]


def test_unwritable_trace_file(tmp_path):
    out = run_pyunik(["guest_images/bin/hello-musl"],
                     extra_opts=["--trace-out", str(tmp_path / "no" / "x.json")])
    assert_no_traceback(out)
    assert out.status == 2 and out.stdout == b""
