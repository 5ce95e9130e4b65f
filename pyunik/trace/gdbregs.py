"""The x86-64 registers as GDB's remote protocol carries them, and its signal numbers.

The target description (`TARGET_XML`, sent for `qXfer:features:read:target.xml`) is
GDB's own amd64 Linux one, inlined: the features org.gnu.gdb.i386.core (general
registers, rip, eflags, the selectors, st0-7 and the x87 control registers), .sse
(xmm0-15, mxcsr), .linux (orig_rax) and .segments (fs_base, gs_base), numbered 0-59 in
that order. `g`/`G` carry them all in that order, little endian, each at its size;
`p`/`P` one by number. A thread's registers come from and go to a
cpu/context.py CpuContext.

Layer: trace. Calls nothing (the context object is handed in).
"""

from __future__ import annotations

GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15")
SELECTORS = ("cs", "ss", "ds", "es", "fs", "gs")
X87_CONTROL = ("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")

# (name, bits, gdb type, group) in register-number order.
REGISTERS = (
    [(n, 64, "data_ptr" if n in ("rbp", "rsp") else "int64", "general") for n in GPRS]
    + [("rip", 64, "code_ptr", "general"), ("eflags", 32, "i386_eflags", "general")]
    + [(n, 32, "int32", "general") for n in SELECTORS]
    + [("st%d" % i, 80, "i387_ext", "float") for i in range(8)]
    + [(n, 32, "int", "float") for n in X87_CONTROL]
    + [("xmm%d" % i, 128, "vec128", "vector") for i in range(16)]
    + [("mxcsr", 32, "i386_mxcsr", "vector")]
    + [("orig_rax", 64, "int", "system")]
    + [("fs_base", 64, "int", "system"), ("gs_base", 64, "int", "system")]
)
NUMBER = {name: i for i, (name, _, _, _) in enumerate(REGISTERS)}

_TYPES = """
  <flags id="i386_eflags" size="4">
    <field name="CF" start="0" end="0"/><field name="" start="1" end="1"/>
    <field name="PF" start="2" end="2"/><field name="AF" start="4" end="4"/>
    <field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
    <field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/>
    <field name="DF" start="10" end="10"/><field name="OF" start="11" end="11"/>
    <field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
    <field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/>
    <field name="VIF" start="19" end="19"/><field name="VIP" start="20" end="20"/>
    <field name="ID" start="21" end="21"/>
  </flags>"""
_SSE_TYPES = """
  <vector id="v8bf16" type="bfloat16" count="8"/>
  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v16i8" type="int8" count="16"/>
  <vector id="v8i16" type="int16" count="8"/>
  <vector id="v4i32" type="int32" count="4"/>
  <vector id="v2i64" type="int64" count="2"/>
  <union id="vec128">
    <field name="v8_bfloat16" type="v8bf16"/><field name="v4_float" type="v4f"/>
    <field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>
    <field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/>
    <field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/>
  </union>
  <flags id="i386_mxcsr" size="4">
    <field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/>
    <field name="ZE" start="2" end="2"/><field name="OE" start="3" end="3"/>
    <field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
    <field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/>
    <field name="DM" start="8" end="8"/><field name="ZM" start="9" end="9"/>
    <field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
    <field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
  </flags>"""


def _target_xml() -> str:
    out = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
           '<target version="1.0">', "  <architecture>i386:x86-64</architecture>",
           "  <osabi>GNU/Linux</osabi>"]
    features = [("org.gnu.gdb.i386.core", _TYPES, ("general", "float")),
                ("org.gnu.gdb.i386.sse", _SSE_TYPES, ("vector",)),
                ("org.gnu.gdb.i386.linux", "", ("system-linux",)),
                ("org.gnu.gdb.i386.segments", "", ("system-segments",))]
    for name, types, groups in features:
        out.append('  <feature name="%s">%s' % (name, types))
        for i, (reg, bits, typ, group) in enumerate(REGISTERS):
            kind = group
            if group == "system":
                kind = "system-linux" if reg == "orig_rax" else "system-segments"
            if kind not in groups:
                continue
            extra = ' group="float"' if group == "float" and reg.startswith("f") else ""
            out.append('    <reg name="%s" bitsize="%d" type="%s" regnum="%d"%s/>'
                       % (reg, bits, typ, i, extra))
        out.append("  </feature>")
    out.append("</target>")
    return "\n".join(out) + "\n"


TARGET_XML = _target_xml()


def read_register(ctx, n: int) -> bytes:
    """Register n of ctx (a CpuContext) as gdb carries it."""
    name, bits, _, _ = REGISTERS[n]
    if n < 16 or name in ("rip", "fs_base", "gs_base"):
        return ctx[name].to_bytes(8, "little")
    if name == "eflags":
        return (ctx["rflags"] & 0xFFFFFFFF).to_bytes(4, "little")
    if name in SELECTORS:
        return ctx[name].to_bytes(4, "little")
    if name.startswith("st"):
        significand, sign_exponent = ctx.st(int(name[2:]))
        return significand.to_bytes(8, "little") + sign_exponent.to_bytes(2, "little")
    if name in X87_CONTROL:
        value = {"fctrl": ctx["fcw"], "fstat": ctx["fsw"], "ftag": ctx["ftw"],
                 "fiseg": 0, "fioff": ctx["fip"] & 0xFFFFFFFF, "foseg": 0,
                 "fooff": ctx["fdp"] & 0xFFFFFFFF, "fop": ctx["fop"]}[name]
        return value.to_bytes(4, "little")
    if name.startswith("xmm"):
        return ctx.xmm(int(name[3:]))
    if name == "mxcsr":
        return ctx["mxcsr"].to_bytes(4, "little")
    if name == "orig_rax":
        return (0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")     # not in a system call
    raise IndexError(n)


def write_register(ctx, n: int, data: bytes) -> None:
    """Set register n of ctx from gdb's bytes (orig_rax and the x87 segment
    registers, which Linux keeps no other way, are ignored)."""
    name, bits, _, _ = REGISTERS[n]
    value = int.from_bytes(data[:bits // 8], "little")
    if n < 16 or name in ("rip", "fs_base", "gs_base"):
        ctx[name] = value
    elif name == "eflags":
        ctx["rflags"] = value
    elif name in SELECTORS:
        ctx[name] = value
    elif name.startswith("st"):
        physical = (ctx.top + int(name[2:])) & 7
        ctx.set_fp(physical, int.from_bytes(data[:8], "little"),
                   int.from_bytes(data[8:10], "little"))
    elif name in ("fctrl", "fstat", "ftag", "fop"):
        ctx[{"fctrl": "fcw", "fstat": "fsw", "ftag": "ftw", "fop": "fop"}[name]] = value
    elif name == "fioff":
        ctx["fip"] = value
    elif name == "fooff":
        ctx["fdp"] = value
    elif name.startswith("xmm"):
        ctx.set_xmm(int(name[3:]), data[:16])
    elif name == "mxcsr":
        ctx["mxcsr"] = value


def size_of(n: int) -> int:
    return REGISTERS[n][1] // 8


def read_all(ctx) -> bytes:
    return b"".join(read_register(ctx, n) for n in range(len(REGISTERS)))


def write_all(ctx, data: bytes) -> None:
    at = 0
    for n in range(len(REGISTERS)):
        size = size_of(n)
        if at + size > len(data):
            break
        write_register(ctx, n, data[at:at + size])
        at += size


# Linux signal numbers -> GDB's (gdb/signals.def), where they differ from Linux's.
_TO_GDB = {7: 10, 10: 30, 12: 31, 16: 0, 17: 20, 18: 19, 19: 17, 20: 18, 21: 21, 22: 22,
           23: 16, 24: 24, 25: 25, 26: 26, 27: 27, 28: 28, 29: 23, 30: 32, 31: 12}


def gdb_signal(sig: int) -> int:
    return _TO_GDB.get(sig, sig)


def linux_signal(gdb_sig: int) -> int:
    for linux, gdb in _TO_GDB.items():
        if gdb == gdb_sig and linux != 16:
            return linux
    return gdb_sig
