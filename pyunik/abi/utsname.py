"""uname(2)'s struct new_utsname: include/uapi/linux/utsname.h. Linux facts only."""

import struct

# six 65-byte fields: sysname, nodename, release, version, machine, domainname
UTSNAME_FIELD = 65
UTSNAME = struct.Struct("<65s65s65s65s65s65s")
