"""x86-64 hardware facts the kernel's page tables and traps are built on.

arch/x86/include/asm/pgtable_types.h (page-table entry bits, _PAGE_* there; the
leading underscore dropped here), arch/x86/include/uapi/asm/processor-flags.h
(control-register bits), arch/x86/include/asm/msr-index.h (EFER) and
arch/x86/include/asm/trapnr.h (exception vectors), arch/x86/include/asm/segment.h
(user selectors) and the FPU's reset values.
"""

import struct

# Page-table entry bits (pgtable_types.h).
PAGE_PRESENT = 1 << 0
PAGE_RW = 1 << 1
PAGE_USER = 1 << 2
PAGE_ACCESSED = 1 << 5
PAGE_DIRTY = 1 << 6
PAGE_NX = 1 << 63
PTE_PFN_MASK = 0x000FFFFFFFFFF000     # physical address bits of an entry (52-bit max)

# Control registers (processor-flags.h).
X86_CR0_WP = 1 << 16                 # supervisor writes honour read-only pages
X86_CR0_PG = 1 << 31                 # paging
X86_CR4_PAE = 1 << 5                 # 64-bit page-table entries (needed by long mode)

# Extended feature enable register (msr-index.h).
MSR_EFER = 0xC0000080
EFER_NX = 1 << 11                    # the NX bit of page-table entries is honoured

# Exception vectors (trapnr.h).
X86_TRAP_DE = 0                      # divide error
X86_TRAP_DB = 1                      # debug (single step)
X86_TRAP_BP = 3                      # breakpoint (int3)
X86_TRAP_OF = 4                      # overflow (int $4; into is invalid in 64-bit mode)
X86_TRAP_UD = 6                      # invalid opcode (ud2)
X86_TRAP_DF = 8                      # double fault
X86_TRAP_NP = 11                     # segment not present
X86_TRAP_SS = 12                     # stack segment
X86_TRAP_GP = 13                     # general protection
X86_TRAP_PF = 14                     # page fault
X86_TRAP_MF = 16                     # x87 floating point error
X86_TRAP_AC = 17                     # alignment check
X86_TRAP_XF = 19                     # SIMD floating point error

# Page-fault error code bits (arch/x86/include/asm/trap_pf.h), what sigcontext.err
# holds after a page fault.
X86_PF_PROT = 1 << 0                 # the page was present: a protection fault
X86_PF_WRITE = 1 << 1
X86_PF_USER = 1 << 2
X86_PF_INSTR = 1 << 4                # an instruction fetch

# Opcodes of the instructions that raise an exception on purpose.
X86_OPCODE_INT_N = 0xCD              # int imm8
X86_OPCODE_INT3 = 0xCC
X86_OPCODE_INT1 = 0xF1               # icebp

# Flags (processor-flags.h).
X86_EFLAGS_CF = 1 << 0
X86_EFLAGS_FIXED = 1 << 1            # always reads 1
X86_EFLAGS_PF = 1 << 2
X86_EFLAGS_AF = 1 << 4
X86_EFLAGS_ZF = 1 << 6
X86_EFLAGS_SF = 1 << 7
X86_EFLAGS_TF = 1 << 8
X86_EFLAGS_IF = 1 << 9
X86_EFLAGS_DF = 1 << 10
X86_EFLAGS_OF = 1 << 11
X86_EFLAGS_RF = 1 << 16
X86_EFLAGS_AC = 1 << 18

# User-mode segment selectors (arch/x86/include/asm/segment.h): GDT entry * 8 + RPL 3.
USER_CS = 6 * 8 + 3                  # __USER_CS, 0x33: 64-bit code
USER_DS = 5 * 8 + 3                  # __USER_DS, 0x2b: data, and the stack segment

# Reset values of the FPU state a new program gets (arch/x86/kernel/fpu/init.c,
# fpstate_init_fxstate; arch/x86/include/asm/fpu/types.h MXCSR_DEFAULT).
FPU_CW_DEFAULT = 0x037F              # every x87 exception masked, 64-bit precision
MXCSR_DEFAULT = 0x1F80               # every SSE exception masked, round to nearest
FPU_TAGS_EMPTY = 0xFFFF              # the full x87 tag word (2 bits a register): all empty
MXCSR_FEATURE_MASK = 0xFFFF          # the mxcsr_mask fxsave reports on pyunik's CPU model

# An x87 register as fxsave and Unicorn hold it: 64-bit significand, then the sign bit
# and 15-bit exponent (struct _fpxreg of arch/x86/include/uapi/asm/sigcontext.h,
# without its 6 bytes of padding).
FP_REG80 = struct.Struct("<QH")

# The syscall instruction's length in bytes (0f 05).
SYSCALL_LENGTH = 2
