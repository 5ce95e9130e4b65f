"""abi/ is the one home of Linux facts: no numeric constant or struct format outside it,
no name defined in two abi modules, struct sizes as the kernel headers give them, and
strace's name tables read from abi/ instead of spelling names again.

The scan is an AST walk over pyunik/: an assignment of an integer expression (or a
tuple of them, or a struct.Struct) to an UPPER_CASE name outside pyunik/abi/ fails
unless the name is listed below as one of pyunik's own choices, not Linux's.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import struct
from pathlib import Path

from conftest import REPO

PYUNIK = REPO / "pyunik"

# pyunik's own numbers: limits and choices of this implementation, not Linux facts.
OWN_CHOICES = {
    "kernel/jobs.py": {"CONSOLE_SID"},                  # the session the console belongs to
    "cpu/context.py": {"_ENTRY"},                       # a register batch's staging words
    "cpu/cpuid.py": {"CPUINFO_LEAVES"},                 # the cpuid leaves probed once
    "cpu/switch.py": {"_SPARE_STATES"},                 # exited threads' copies kept
    "cpu/engine.py": {"_SMALL", "_CR2_UNSET",          # short-read buffer; CR2 no fault sets
                      "_FLUSH_PAGES_MAX"},              # pages flushed one by one at most
    "cpu/paging.py": {"PHYS_BITS", "TABLE_AREA", "DATA_BASE",   # CPU model; physical layout
                      "_RUNS_KEPT"},                    # runs of entries kept for reuse
    "mm/usermem.py": {"_PYBUF_WRITE"},                  # CPython's flag for a writable view
    "fs/file.py": {"TRANSFER_CHUNK"},                   # bytes moved per step of a transfer
    "fs/hostfs.py": {"_READ", "_WRITE",                 # bits of a cached host fd's access
                     "FD_CACHE_SIZE"},                  # host fds kept open
    "fs/imagefs.py": {"INDEX_VERSION", "DIR_SIZE"},     # image index format; st_size of dirs
    "fs/inode.py": {"FIRST"},                           # the first anonymous device minor
    "kernel/apps.py": {"APP_SLOT"},                     # address space per program of --apps
    "trace/stats.py": {"TOP_FILES"},                    # files --stats lists
    "trace/gdbstub.py": {"PACKET_SIZE"},                # the largest packet gdb sends
    "trace/timeline.py": {"COUNTER_INTERVAL_NS",        # how often counters are sampled
                          "WRITE_BUFFER"},              # the trace file's buffer
    "fs/locks.py": {"READ", "WRITE", "UNLOCK"},         # lock kinds in the lock tables
    "fs/overlay.py": {"UPPER_INO_BIT", "COPY_CHUNK"},   # inode numbering; copy-up chunk
    "fs/ramfs.py": {"DEFAULT_SIZE", "DENSE_HOLE"},      # tmpfs size default; sparse files
    "kernel/kernel.py": {"FIRST_PID"},                  # the first pid pyunik hands out
    "kernel/clocks.py": {"VIRTUAL_EPOCH_NS", "SYSCALL_NS",   # deterministic mode's
                         "INSTRUCTION_NS"},                  # virtual clock
    "kernel/netdev.py": {"HOSTS_LIMIT",                 # /etc/hosts bytes the DNS reads
                         "LOOPBACK_MTU"},               # lo's MTU without a network
    "kernel/sched.py": {"SLICE"},                       # instructions of a time slice
    "kernel/syscalls/table.py": {"SIZE"},               # dispatch array length
    "loader/autoimage.py": {"MAX_SCRIPT_DEPTH", "MAX_TABLE"},   # bounds on what is read
    "loader/image.py": {"ALIGN_MIN_SIZE"},              # image tar layout
    "mm/brk.py": {"HEAP_RESERVE"},                      # host address space kept for brk
    "mm/address_space.py": {"KEEP_PAGES"},              # pages munmap zeroes in place
    "kernel/ipc/sem.py": {"SEM_HOST_BYTES"},            # host bytes a semaphore costs
    "mm/host.py": {"WINDOW_SHIFT", "MAX_WINDOWS"},      # host windows: size, how many
    "mm/regions.py": {"MERGE_LIMIT", "COMPACT_MIN"},    # engine region merging policy
    "net/checksum.py": {"SHORT"},                       # where numpy takes over
    "net/ipv4.py": {"FRAGMENT_OVERHEAD"},               # what a held fragment costs
    "net/tcp_listen.py": {"COOKIE_MSS", "COOKIE_PERIOD_NS",  # SYN cookies' MSS table,
                          "COOKIE_MAX_AGE"},            # clock and lifetime
    "net/tcp_rto.py": {"CLOCK_GRANULARITY_NS"},         # RFC 6298's G
    "net/tcp_segment.py": {"SEQ_MOD"},                  # sequence space arithmetic
    # the urgent byte's states (Linux's TCP_URG_* are kernel-internal, not ABI)
    "net/tcp_urgent.py": {"URG_NOTYET", "URG_VALID", "URG_READ"},
    "net/virtio/driver.py": {"TSO_SLOTS",               # transmit slots of 64 KiB and
                             "TSO_RX_BUFFER"},          # rx buffers when TSO comes in
    "trace/strace.py": {"STRING_LIMIT",                 # strace's -s default, the size
                        "_STRACE_SIGACTION_SIZE"},      # of the sigaction strace reads
    "trace/pollfmt.py": {"ARRAY_LIMIT"},                # elements strace prints of an array
}

# Unicorn's numbers, not Linux's: the UC_ names of pyunik's binding of the unicorn
# library (tests/test_libunicorn.py checks each against the unicorn package's).
UNICORN_NUMBERS = {"cpu/libunicorn.py", "cpu/unicorn_x86.py"}


def _is_fact(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.UnaryOp):
        return _is_fact(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_fact(node.left) and _is_fact(node.right)
    if isinstance(node, ast.Tuple):
        return bool(node.elts) and all(_is_fact(e) for e in node.elts)
    if isinstance(node, ast.Call):
        func = node.func
        return (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) \
            == "Struct"
    return False


# lower-case attributes that hold Linux facts too: a filesystem's statfs f_type
_LOWER_CASE_FACTS = {"magic"}


def _assigned_names(tree: ast.AST, facts_only: bool = True):
    """(name, line) of every UPPER_CASE name bound to a numeric fact (or to anything)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if facts_only and not _is_fact(node.value):
                continue
            for t in targets:
                for n in (t.elts if isinstance(t, ast.Tuple) else [t]):
                    if isinstance(n, ast.Name) and (n.id.strip("_").isupper() or (
                            n.id in _LOWER_CASE_FACTS and ast.unparse(node.value) != "0")):
                        yield n.id, node.lineno


def _modules(under: Path):
    for path in sorted(under.rglob("*.py")):
        yield path.relative_to(PYUNIK).as_posix(), ast.parse(path.read_text())


def test_no_linux_constant_outside_abi():
    found = []
    for rel, tree in _modules(PYUNIK):
        if rel.startswith("abi/"):
            continue
        allowed = OWN_CHOICES.get(rel, set())
        found += ["pyunik/%s:%d: %s" % (rel, line, name)
                  for name, line in _assigned_names(tree) if name not in allowed
                  and not (rel in UNICORN_NUMBERS and name.startswith("UC_"))]
    assert not found, ("Linux facts belong in pyunik/abi/ (one module per header); "
                       "pyunik's own limits go in OWN_CHOICES here:\n" + "\n".join(found))


# struct formats that are not Linux structs: machine code and cpuid registers (cpu/),
# fields of Unicorn's own engine struct (cpu/stops.py), the cpuid registers
# /proc/cpuinfo decodes, and the initial stack's array of words.
FORMAT_OWNERS = {"cpu/engine.py", "cpu/stops.py", "fs/proc/system.py", "loader/stack.py"}
_STRUCT_CALLS = {"pack", "pack_into", "unpack", "unpack_from", "iter_unpack", "calcsize"}


def test_no_struct_format_outside_abi():
    """Guest struct layouts are abi/ Structs: no struct.pack("<qq", ...) elsewhere."""
    found = []
    for rel, tree in _modules(PYUNIK):
        if rel.startswith("abi/") or rel in FORMAT_OWNERS:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _STRUCT_CALLS
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "struct"
                    and node.args and isinstance(node.args[0], (ast.Constant, ast.BinOp))):
                found.append("pyunik/%s:%d: %s" % (rel, node.lineno, ast.unparse(node)[:60]))
    assert not found, "struct formats belong in pyunik/abi/:\n" + "\n".join(found)


def test_own_choices_are_still_there():
    """An allow-list entry whose constant is gone is stale."""
    for rel, names in OWN_CHOICES.items():
        defined = {name for name, _ in _assigned_names(ast.parse((PYUNIK / rel).read_text()))}
        assert names <= defined, "%s no longer defines %s" % (rel, names - defined)


def test_each_abi_name_defined_once():
    where: dict[str, list[str]] = {}
    for rel, tree in _modules(PYUNIK / "abi"):
        for name, _ in _assigned_names(tree, facts_only=False):
            where.setdefault(name, []).append(rel)
    twice = {n: m for n, m in where.items() if len(set(m)) > 1 or len(m) > 1}
    assert not twice, twice


def test_abi_holds_no_behaviour():
    """abi modules define data; the only functions are a table lookup (signal_name) and
    kdev_t.h's two encoding macros."""
    for rel, tree in _modules(PYUNIK / "abi"):
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                assert (rel, node.name) in {("abi/signal.py", "signal_name"),
                                            ("abi/kdev_t.py", "new_encode_dev"),
                                            ("abi/kdev_t.py", "new_decode_dev")}, (rel, node.name)
            assert not isinstance(node, (ast.Import,)) or all(
                a.name == "struct" for a in node.names), (rel, ast.unparse(node))


def test_linux_gathers_every_header_module():
    """abi.linux is every per-header module in one namespace, defining nothing itself."""
    from pyunik import abi
    from pyunik.abi import linux
    # pcap is libpcap's file format, not a Linux header
    apart = {"linux", "elf", "inotify", "syscall_numbers", "cpufeatures", "kdev_t", "pcap"}
    for info in pkgutil.iter_modules(abi.__path__):
        if info.name in apart:
            continue
        module = importlib.import_module("pyunik.abi." + info.name)
        for name, value in vars(module).items():
            if name.isupper() and not name.startswith("_"):
                assert getattr(linux, name) is value, (info.name, name)
    assert not list(_assigned_names(ast.parse((PYUNIK / "abi/linux.py").read_text())))


def test_struct_sizes_match_the_kernel_headers():
    from pyunik.abi import elf, fcntl, poll, resource, signal, stat, statfs, sysinfo
    sizes = {
        stat.STAT: 144,              # arch/x86/include/uapi/asm/stat.h
        statfs.STATFS: 120,          # asm-generic/statfs.h, 64-bit __statfs_word
        sysinfo.SYSINFO: 112,
        resource.RUSAGE: 144,
        fcntl.FLOCK: 32,
        poll.POLLFD: 8,
        signal.KERNEL_SIGACTION: 32,
        signal.STACK_T: 24,
        elf.EHDR: 64,
        elf.PHDR: 56,
        elf.DYN: 16,
    }
    for layout, size in sizes.items():
        assert layout.size == size, (layout.format, size)
    assert stat.STATX_DEVS_OFFSET + stat.STATX_DEVS.size <= stat.STATX_SIZE


def test_statfs_reads_what_it_writes():
    """struct statfs is one format: the host's answer (hostfs) and the guest's buffer
    (statfs(2)) are both 120 bytes with f_spare[4] last."""
    from pyunik.abi.statfs import STATFS
    raw = struct.pack("<7q2i3q4q", *range(1, 17))
    assert STATFS.unpack(raw) == tuple(range(1, 17))


def test_no_linux_name_spelled_outside_abi():
    """Name tables (strace's flags and enums, the syscall table's argument printing) come
    from abi/: no module outside it spells a Linux constant's name as a string."""
    from pyunik.abi import elf, inotify, linux
    names = {n for m in (linux, elf, inotify) for n in vars(m) if n.isupper()}
    # strace prints AT_FDCWD for a dirfd argument, O_ACCMODE for an access mode of 3,
    # PROT_NONE and F_OK for flags of 0, and appends FUTEX_CLOCK_REALTIME to a futex op's
    # name; kernel/clocks.py asks Python's time module whether it has CLOCK_TAI.
    allowed = {"trace/strace.py": {"AT_FDCWD", "O_ACCMODE", "PROT_NONE", "F_OK",
                                   "|FUTEX_CLOCK_REALTIME"},
               "kernel/clocks.py": {"CLOCK_TAI"}}
    for rel, tree in _modules(PYUNIK):
        if rel.startswith("abi/"):
            continue
        spelled = {node.value for node in ast.walk(tree)
                   if isinstance(node, ast.Constant) and isinstance(node.value, str)
                   and node.value.strip("|_: ") in names}
        assert spelled <= allowed.get(rel, set()), (rel, spelled)


def test_name_tables_agree_with_the_constants():
    """Every name table in abi/ (value -> name dicts, (name, value) lists) gives each
    name the value of the constant of that name, so strace prints what the kernel uses."""
    from pyunik import abi
    checked = 0
    for info in pkgutil.iter_modules(abi.__path__):
        if info.name == "linux":
            continue
        module = importlib.import_module("pyunik.abi." + info.name)
        facts = {k: v for k, v in vars(module).items() if k.isupper() and type(v) is int}
        for table_name, table in vars(module).items():
            if not table_name.isupper():
                continue
            if isinstance(table, dict):
                pairs = [(n, v) for v, n in table.items() if isinstance(n, str)]
            elif isinstance(table, list):
                pairs = [p if isinstance(p[0], str) else (p[1], p[0])
                         for p in table if isinstance(p, tuple) and len(p) == 2]
            else:
                continue
            for name, value in pairs:
                if name in facts:
                    assert facts[name] == value, (info.name, table_name, name)
                    checked += 1
    assert checked > 150
