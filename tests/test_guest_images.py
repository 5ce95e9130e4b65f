"""guest_images/: every binary the Makefile builds is committed, and nothing else.

`make -C guest_images check` rebuilds them all and compares bytes (it needs the
compilers named in guest_images/README.md); this test needs only make.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import BIN, REPO


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_committed_binaries_are_what_make_builds():
    out = subprocess.run(["make", "-s", "-C", str(REPO / "guest_images"), "list"],
                         capture_output=True, text=True, check=True).stdout
    targets = {line.strip().removeprefix("bin/") for line in out.splitlines() if line.strip()}
    committed = {p.name for p in BIN.iterdir() if not p.name.startswith(".")}
    assert targets - committed == set(), "built by make but not committed"
    assert committed - targets == set(), "committed but built by no target"
    src = REPO / "guest_images" / "src"
    sources = {p.stem for p in [*src.glob("*.c"), *src.glob("*.cpp")]}
    built = {re.sub(r"-(musl|glibc)(-pie|-dyn)?(-g)?$", "", t) for t in targets}   # tcp-loopback
    assert sources == built, "a source no target builds, or a target with no source"
