"""Directory entries as getdents(2) and getdents64(2) return them.

include/linux/fs_types.h (d_type values) and fs/readdir.c (struct linux_dirent64,
struct linux_dirent). Linux facts only, no behaviour.
"""

import struct

DT_UNKNOWN = 0
DT_FIFO = 1
DT_CHR = 2
DT_DIR = 4
DT_BLK = 6
DT_REG = 8
DT_LNK = 10
DT_SOCK = 12

# struct linux_dirent64: d_ino, d_off, d_reclen, d_type, then the name
DIRENT64 = struct.Struct("<QqHB")
# struct linux_dirent: d_ino, d_off, d_reclen, the name, then d_type in the last byte
DIRENT = struct.Struct("<QqH")
