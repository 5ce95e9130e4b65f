"""ELF headers of x86-64 executables: include/uapi/linux/elf.h (and <elf.h>).

Linux facts only, no behaviour.
"""

import struct

EM_X86_64 = 62

# e_ident[EI_CLASS], e_ident[EI_DATA]
ELFCLASS64 = 2
ELFDATA2LSB = 1

# e_type
ET_NONE = 0
ET_REL = 1
ET_EXEC = 2
ET_DYN = 3
ET_CORE = 4
ET_NAMES = {ET_NONE: "ET_NONE", ET_REL: "ET_REL", ET_EXEC: "ET_EXEC", ET_DYN: "ET_DYN",
            ET_CORE: "ET_CORE"}

# Elf64_Ehdr, Elf64_Phdr, Elf64_Dyn
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
DYN = struct.Struct("<qQ")

# p_type
PT_LOAD = 1
PT_DYNAMIC = 2
PT_INTERP = 3
PT_PHDR = 6
PT_GNU_STACK = 0x6474E551

# p_flags
PF_X = 1
PF_W = 2
PF_R = 4

# d_tag
DT_NULL = 0
DT_NEEDED = 1
DT_STRTAB = 5
DT_STRSZ = 10
DT_SONAME = 14
DT_RPATH = 15
DT_DEBUG = 21                   # the dynamic linker's struct r_debug, for debuggers
DT_RUNPATH = 29
DT_FLAGS_1 = 0x6FFFFFFB
DF_1_NODEFLIB = 0x800           # DT_FLAGS_1: ignore the default library search path

# <link.h>: the dynamic linker's list of loaded objects, which DT_DEBUG points at.
# struct r_debug { int r_version; struct link_map *r_map; ElfW(Addr) r_brk;
#                  enum r_state; ElfW(Addr) r_ldbase; }
R_DEBUG = struct.Struct("<i4xQQi4xQ")
# struct link_map { ElfW(Addr) l_addr; char *l_name; ElfW(Dyn) *l_ld;
#                   struct link_map *l_next, *l_prev; }
LINK_MAP = struct.Struct("<QQQQQ")
