"""The auxiliary vector execve puts above the environment on the initial stack.

include/uapi/linux/auxvec.h and arch/x86/include/uapi/asm/auxvec.h. Linux facts only.
"""

import struct

AT_NULL = 0
AT_PHDR = 3
AT_PHENT = 4
AT_PHNUM = 5
AT_PAGESZ = 6
AT_BASE = 7
AT_FLAGS = 8
AT_ENTRY = 9
AT_UID = 11
AT_EUID = 12
AT_GID = 13
AT_EGID = 14
AT_PLATFORM = 15
AT_HWCAP = 16
AT_CLKTCK = 17
AT_SECURE = 23
AT_RANDOM = 25
AT_HWCAP2 = 26
AT_EXECFN = 31
AT_MINSIGSTKSZ = 51

# entries are (type, value) pairs of 64-bit words
AUXV_ENTRY = struct.Struct("<QQ")
