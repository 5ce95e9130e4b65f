"""The network card's memory in the kernel half of every address space
(mm/kernel_area.py, kernel/netdev.py): guest_images' kernelmap against native Linux
(memory calls on a kernel address, a touch there, syscalls given it as a buffer), the
`[virtio-net]` line of /proc/self/maps in a process and its forked child, and the
rings read through a process's CPU engine at the addresses the device uses."""

from __future__ import annotations

import struct

import pytest

from conftest import BIN, KnownLine, assert_no_traceback, assert_same, assert_same_except, \
    run_native, run_pyunik

MAPPED = [KnownLine(who + ": ", who + ": kernel mapping ---p [virtio-net]",
                    "with --net the card's virtqueues and buffers are a kernel mapping "
                    "every process shows above TASK_SIZE, as Linux shows [vsyscall]; a "
                    "native process has no such card", native=who + ": no kernel mapping")
          for who in ("parent", "child")]


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_kernel_addresses_answer_as_linux(libc):
    """munmap EINVAL, mprotect/mmap MAP_FIXED/madvise/msync/mincore ENOMEM, mremap
    EFAULT, read and write EFAULT, a touch SIGSEGV/SEGV_MAPERR: with the card's
    mapping there as without it."""
    prog = BIN / ("kernelmap-" + libc)
    native = run_native([prog])
    assert native.status == 0
    assert_same(native, run_pyunik([prog]))
    emulated = run_pyunik([prog], extra_opts=["--net", "user"])
    assert_no_traceback(emulated)
    assert_same_except(native, emulated, MAPPED)


def _started(net="user"):
    import pyunik
    vm = pyunik.Unikernel([str(BIN / "hello-musl")], env={}, net=net, quiet=True,
                          capture_output=True)
    vm.start()
    return vm


def test_rings_are_read_through_the_engine_at_the_devices_addresses():
    from pyunik.abi import virtio as V
    from pyunik.mm.kernel_area import KernelArea
    from pyunik.mm.maps import maps_text
    vm = _started()
    try:
        kernel = vm.kernel
        device = kernel.net.network.device
        (process,) = kernel.processes.values()
        mm = process.mm
        (area,) = mm.kernel_mappings
        assert area.start == KernelArea().next and area.name == "[virtio-net]"
        line = maps_text(mm).splitlines()[-1]
        assert line.startswith(b"%x-%x ---p 00000000 00:00 0 " % (area.start, area.end))
        assert line.endswith(b" [virtio-net]")
        rx = device.queues[V.VIRTIO_NET_RX_QUEUE]
        layout = rx.layout
        for addr in (layout.desc, layout.avail, layout.used):
            assert area.start <= addr < area.end
            assert mm.engine.page_access(addr) == 0          # no guest access
        # The driver posted 256 receive buffers: avail->idx says so in the engine's
        # view, and each descriptor is one device-writable buffer in the same area.
        flags, idx = struct.unpack("<HH", mm.engine.read(layout.avail, 4))
        assert idx == layout.size == 256
        addr, length, dflags, _ = struct.unpack("<QIHH", mm.engine.read(layout.desc, 16))
        assert dflags == V.VRING_DESC_F_WRITE and area.start <= addr < area.end
        assert length == kernel.net.network.driver.buffer_size
        # What the engine shows is the device's memory, byte for byte.
        assert mm.engine.read(layout.desc, 4096) == device.memory.read(layout.desc, 4096)
        # A forked address space maps the same pages, not a copy.
        from pyunik.cpu.engine import Engine
        child = mm.fork(Engine())
        try:
            device.memory.write(layout.used + 2, b"\x07\x00")
            assert child.engine.read(layout.used + 2, 2) == b"\x07\x00"
            assert child.kernel_mappings == mm.kernel_mappings
        finally:
            device.memory.write(layout.used + 2, b"\x00\x00")
            child.free_all(close_engine=True)
    finally:
        vm.close()


def test_no_card_no_kernel_mapping():
    vm = _started(net=None)
    try:
        (process,) = vm.kernel.processes.values()
        assert process.mm.kernel_mappings == []
        assert vm.kernel.memory.kernel_area.mappings == []
    finally:
        vm.close()
