"""Scalar C types of the x86-64 ABI: include/uapi/asm-generic/posix_types.h.

Linux facts only, no behaviour.
"""

import struct

# unsigned int: __kernel_uid32_t and __kernel_gid32_t (uid_t, gid_t), getcpu's cpu and node
UINT = struct.Struct("<I")
# int
INT = struct.Struct("<i")
# unsigned long: a u64 put_user
ULONG = struct.Struct("<Q")
