"""Pages and the shape of the x86-64 user address space.

arch/x86/include/asm/page_types.h, arch/x86/include/asm/page_64_types.h,
arch/x86/include/asm/elf.h and mm/Kconfig (DEFAULT_MMAP_MIN_ADDR).
Linux facts only, no behaviour.
"""

# arch/x86/include/asm/page_types.h
PAGE_SIZE = 4096
PAGE_MASK = ~(PAGE_SIZE - 1)

# arch/x86/include/asm/page_64_types.h: the top of user space (TASK_SIZE_MAX)
TASK_SIZE = 0x7FFFFFFFF000

# arch/x86/include/asm/elf.h: ELF_ET_DYN_BASE, where a static-pie or the dynamic
# linker run as a program is loaded (2/3 of TASK_SIZE, page aligned, without ASLR)
ELF_ET_DYN_BASE = 0x555555554000

# /proc/sys/vm/mmap_min_addr: CONFIG_DEFAULT_MMAP_MIN_ADDR as x86 distributions set it
MMAP_MIN_ADDR = 0x10000

# Documentation/admin-guide/mm/pagemap.rst (fs/proc/task_mmu.c): the flags of a
# /proc/<pid>/pagemap entry, one u64 per page
PM_PRESENT = 1 << 63
PM_SWAP = 1 << 62
PM_MMAP_EXCLUSIVE = 1 << 56      # the page is mapped once: this mapping's own

# Documentation/arch/x86/x86_64/mm.rst (4-level paging): the kernel's vmalloc/ioremap
# space, 32 TB from VMALLOC_START, where a kernel's own virtually mapped memory lives
VMALLOC_START = 0xFFFFC90000000000
