"""statfs(2): struct statfs and its f_flags (f_type's magic numbers are in magic.py).

include/uapi/asm-generic/statfs.h and include/linux/statfs.h.
Linux facts only, no behaviour.
"""

import struct

# include/uapi/asm-generic/statfs.h: struct statfs (x86-64: __statfs_word is a long),
# 120 bytes: f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree,
# f_fsid (two ints), f_namelen, f_frsize, f_flags, f_spare[4]
STATFS = struct.Struct("<7q2i3q4q")

# include/linux/statfs.h: f_flags
ST_RDONLY = 0x0001
ST_NOSUID = 0x0002
ST_NODEV = 0x0004
ST_VALID = 0x0020               # f_flags is valid (set by every statfs)
