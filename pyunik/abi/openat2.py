"""Linux facts of openat2(2): include/uapi/linux/openat2.h. No behaviour."""

import struct

# struct open_how { __u64 flags; __u64 mode; __u64 resolve; } (version 0, 24 bytes)
OPEN_HOW = struct.Struct("<QQQ")

RESOLVE_NO_XDEV = 0x01          # no crossing of mount points
RESOLVE_NO_MAGICLINKS = 0x02    # no /proc "magic" links
RESOLVE_NO_SYMLINKS = 0x04      # no symlinks at all (implies NO_MAGICLINKS)
RESOLVE_BENEATH = 0x08          # no escaping the dirfd (.., absolute paths, symlinks)
RESOLVE_IN_ROOT = 0x10          # the dirfd is the root ('/' and '..' stay in it)
RESOLVE_CACHED = 0x20           # only the dcache; EAGAIN if that is not enough
RESOLVE_ALL = 0x3F
