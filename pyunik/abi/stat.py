"""stat(2), statx(2) and the special times of utimensat(2).

arch/x86/include/uapi/asm/stat.h, include/uapi/linux/stat.h and include/linux/stat.h.
File type and permission bits are Python's `stat` module (the same on every Linux).
Linux facts only, no behaviour.
"""

import struct

# arch/x86/include/uapi/asm/stat.h: struct stat (x86-64), 144 bytes
STAT = struct.Struct("<QQQIIIiQqqqQQQQQQqqq")
# st_dev, st_ino, st_nlink, st_mode, st_uid, st_gid, __pad0, st_rdev, st_size,
# st_blksize, st_blocks, st_atime, st_atime_nsec, st_mtime, st_mtime_nsec,
# st_ctime, st_ctime_nsec, __unused[3]
STAT_HEAD2 = struct.Struct("<QQ")     # its first fields: st_dev, st_ino
STAT_HEAD3 = struct.Struct("<QQQ")    # st_dev, st_ino, st_nlink

# include/uapi/linux/stat.h: struct statx, 256 bytes. Its parts, at their offsets:
STATX_SIZE = 256
STATX_HEAD = struct.Struct("<IIQIIIH")      # 0x00: mask, blksize, attributes, nlink,
                                            #       uid, gid, mode
STATX_SIZES = struct.Struct("<QQQQ")        # 0x20: ino, size, blocks, attributes_mask
STATX_TIMESTAMP = struct.Struct("<qI")      # struct statx_timestamp: tv_sec, tv_nsec
STATX_ATIME, STATX_BTIME, STATX_CTIME, STATX_MTIME = 0x40, 0x50, 0x60, 0x70   # offsets
STATX_DEVS = struct.Struct("<IIII")         # 0x80: rdev_major, rdev_minor, dev_major,
STATX_DEVS_OFFSET = 0x80                    #       dev_minor
STATX_SIZES_OFFSET = 0x20
STATX_BASIC_STATS = 0x07FF                  # mask bits: type..blocks
STATX_MNT_ID = 0x1000
STATX__RESERVED = 0x80000000                # a mask with this bit is EINVAL

# include/linux/stat.h: utimensat(2)'s tv_nsec values that are not times
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
