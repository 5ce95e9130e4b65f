"""Unicorn's x86 ids that pyunik uses: register and instruction numbers.

Layer: cpu/, the bottom; a table of numbers that calls nothing. engine.py and
context.py name registers with these, as the unicorn package's x86_const.py does (the values are
Unicorn 2.1's include/unicorn/x86.h; tests/test_libunicorn.py checks each against the
package). The FP, ST, XMM and YMM registers are numbered in a run: FP0 + i is FPi.
"""

UC_X86_REG_INVALID = 0
UC_X86_REG_CS = 11
UC_X86_REG_DS = 17
UC_X86_REG_EFLAGS = 25
UC_X86_REG_ES = 28
UC_X86_REG_FPSW = 31
UC_X86_REG_FS = 32
UC_X86_REG_GS = 33
UC_X86_REG_RAX = 35
UC_X86_REG_RBP = 36
UC_X86_REG_RBX = 37
UC_X86_REG_RCX = 38
UC_X86_REG_RDI = 39
UC_X86_REG_RDX = 40
UC_X86_REG_RIP = 41
UC_X86_REG_RSI = 43
UC_X86_REG_RSP = 44
UC_X86_REG_SS = 49
UC_X86_REG_CR0 = 50
UC_X86_REG_CR2 = 52
UC_X86_REG_CR3 = 53
UC_X86_REG_CR4 = 54
UC_X86_REG_FP0 = 82           # .. FP7 = 89
UC_X86_REG_R8 = 106
UC_X86_REG_R9 = 107
UC_X86_REG_R10 = 108
UC_X86_REG_R11 = 109
UC_X86_REG_R12 = 110
UC_X86_REG_R13 = 111
UC_X86_REG_R14 = 112
UC_X86_REG_R15 = 113
UC_X86_REG_ST0 = 114          # .. ST7 = 121
UC_X86_REG_XMM0 = 122         # .. XMM15 = 137
UC_X86_REG_YMM0 = 154         # .. YMM15 = 169
UC_X86_REG_FPCW = 246
UC_X86_REG_FPTAG = 247
UC_X86_REG_MSR = 248          # written and read as struct uc_x86_msr {u32 rid; u64 value}
UC_X86_REG_MXCSR = 249
UC_X86_REG_FS_BASE = 250
UC_X86_REG_GS_BASE = 251
UC_X86_REG_FIP = 254
UC_X86_REG_FDP = 256
UC_X86_REG_FOP = 258

UC_X86_INS_SYSCALL = 699
