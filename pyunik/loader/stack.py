"""The initial process stack, laid out byte for byte as Linux's create_elf_tables().

From the top of the 8 MiB stack VMA downwards:

    8 zero bytes            end marker
    execfn string           AT_EXECFN points here
    envp strings, argv strings (argv[0] lowest)
    (aligned to 16)
    "x86_64"                AT_PLATFORM
    16 random bytes         AT_RANDOM
    (aligned to 16 so that the final sp is 16-byte aligned)
    auxv pairs, AT_NULL
    NULL, envp[], NULL, argv[], argc   <- sp

Layer: loader. Calls: mm/ (AddressSpace, to map and write the stack).
"""

from __future__ import annotations

import struct
from errno import E2BIG

from ..abi import linux as L
from ..errors import KernelError
from ..mm.address_space import STACK_SIZE, STACK_TOP

# The most the strings (and execfn) may take: a quarter of the fixed stack, as Linux
# allows a quarter of RLIMIT_STACK (kernel/exec.py checks execve's arguments first).
MAX_ARG_AREA = STACK_SIZE // 4


def build(mm, argv: list[bytes], envp: list[bytes], execfn: bytes,
          aux: list[tuple[int, int]], random16: bytes,
          top: int = STACK_TOP) -> tuple[int, tuple[int, int, int, int]]:
    """Map the stack (ending at top), write everything on it, and return the
    initial sp and where the strings went: (arg_start, arg_end, env_start,
    env_end), what /proc/<pid>/{cmdline,environ,stat} read (Linux keeps them in
    mm_struct; pyunik in the Process, as programs started side by side share an
    address space: kernel/apps.py).

    aux holds the auxv entries that depend on the image and the credentials;
    AT_RANDOM, AT_PLATFORM and AT_EXECFN are filled in here.
    """
    stack_top = top
    mm.map_anonymous(stack_top - STACK_SIZE, STACK_SIZE, L.PROT_READ | L.PROT_WRITE,
                     L.MAP_PRIVATE | L.MAP_ANONYMOUS | L.MAP_GROWSDOWN, "[stack]")
    strings = [s + b"\0" for s in argv] + [s + b"\0" for s in envp]
    top = stack_top - 8
    area = b"".join(strings) + execfn + b"\0"
    p = top - len(area)
    if stack_top - p > MAX_ARG_AREA:
        raise KernelError(E2BIG)
    pointers = []
    pos = p
    for s in strings:
        pointers.append(pos)
        pos += len(s)
    execfn_addr = pos
    env_start = pointers[len(argv)] if envp else execfn_addr
    arg_area = (p, env_start, env_start, execfn_addr)

    p &= ~15
    platform = b"x86_64\0"
    platform_addr = p - len(platform)
    random_addr = platform_addr - 16
    p = random_addr

    auxv = list(aux) + [(L.AT_RANDOM, random_addr), (L.AT_EXECFN, execfn_addr),
                        (L.AT_PLATFORM, platform_addr), (L.AT_NULL, 0)]
    words = 1 + len(argv) + 1 + len(envp) + 1 + 2 * len(auxv)
    sp = (p - 8 * words) & ~15

    table = [len(argv)] + pointers[:len(argv)] + [0] + pointers[len(argv):] + [0]
    for key, value in auxv:
        table += [key, value]
    mm.engine.write(sp, struct.pack("<%dQ" % len(table), *table))
    mm.start_stack = sp
    mm.engine.write(random_addr, random16)
    mm.engine.write(platform_addr, platform)
    mm.engine.write(top - len(area), area + b"\0" * 8)
    return sp, arg_area
