"""x86-64 hardware facts the kernel's page tables and traps are built on.

arch/x86/include/asm/pgtable_types.h (page-table entry bits, _PAGE_* there; the
leading underscore dropped here), arch/x86/include/uapi/asm/processor-flags.h
(control-register bits), arch/x86/include/asm/msr-index.h (EFER) and
arch/x86/include/asm/trapnr.h (exception vectors).
"""

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
X86_TRAP_DF = 8                      # double fault
X86_TRAP_PF = 14                     # page fault
