"""The CPU model's identity: cpuid leaves read from a guest engine.

cpu layer. Every guest engine emulates the same CPU model, so the kernel reads these
leaves once per process it starts (AT_HWCAP comes from leaf 1) and keeps them for
/proc/cpuinfo. Calls: cpu/engine (Engine.cpuid).
"""

from __future__ import annotations

# The leaves /proc/cpuinfo describes: vendor and max leaf (0), family/model/features
# (1), extended features (7), extended max leaf, features and brand string
# (0x80000000-0x80000004), address sizes (0x80000008).
CPUINFO_LEAVES = (0, 1, 7, 0x80000000, 0x80000001, 0x80000002, 0x80000003, 0x80000004,
                  0x80000008)


def probe_cpuid(engine) -> dict[int, tuple[int, int, int, int]]:
    """(eax, ebx, ecx, edx) for each of CPUINFO_LEAVES on engine's CPU model. Runs a
    few instructions on it, so call it while no guest code is running there."""
    return engine.cpuid(CPUINFO_LEAVES)
