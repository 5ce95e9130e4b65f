"""Resource limits that act (guest python3's resource module, natively and under
pyunik, on a -v directory and on /tmp): RLIMIT_FSIZE cuts a write short at the limit
and makes one at it, or a truncate past it, EFBIG with SIGXFSZ; RLIMIT_AS makes mmap
and mremap past it ENOMEM."""

from __future__ import annotations

import os

import pytest

from conftest import SYSTEM_PYTHON3, python_script_both_ways

PROGRAM = r'''
import errno, mmap, os, resource, signal, sys
d = sys.argv[1]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (10000, resource.RLIM_INFINITY))
fd = os.open(os.path.join(d, "big"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
print("write 12000:", os.write(fd, b"a" * 12000))
try:
    os.write(fd, b"b")
except OSError as e:
    print("write at the limit:", errno.errorcode[e.errno])
print("pwrite before:", os.pwrite(fd, b"c" * 100, 9990))
for what, call in (("ftruncate past", lambda: os.ftruncate(fd, 20000)),
                   ("ftruncate below", lambda: os.ftruncate(fd, 500)),
                   ("truncate past", lambda: os.truncate(os.path.join(d, "big"), 10001))):
    try:
        print(what, call(), os.fstat(fd).st_size)
    except OSError as e:
        print(what, errno.errorcode[e.errno])
got = []
signal.signal(signal.SIGXFSZ, lambda s, f: got.append(s))
try:
    os.pwrite(fd, b"d", 10000)
except OSError as e:
    print("SIGXFSZ caught:", got, errno.errorcode[e.errno])
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
with open("/proc/self/status") as f:
    vm = [int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize")][0]
resource.setrlimit(resource.RLIMIT_AS, (vm + (64 << 20), hard))
try:
    m = mmap.mmap(-1, 256 << 20)
    print("256M mmap: mapped")
except OSError as e:
    print("256M mmap:", errno.errorcode[e.errno])
m = mmap.mmap(-1, 16 << 20)
print("16M mmap: mapped")
try:
    m.resize(300 << 20)
    print("mremap to 300M: done")
except OSError as e:
    print("mremap to 300M:", errno.errorcode[e.errno])
print("done")
'''

@pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON3), reason="no Debian python3")
@pytest.mark.parametrize("where", ["volume", "tmp"])
def test_limits_act_as_on_linux(tmp_path, where):
    native, emulated = python_script_both_ways(tmp_path, PROGRAM, where, "big")
    assert b"EFBIG" in native.stdout and b"ENOMEM" in native.stdout
    assert (emulated.status, emulated.stdout) == (0, native.stdout)
