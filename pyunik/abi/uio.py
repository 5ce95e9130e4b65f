"""Vectored I/O: include/uapi/linux/uio.h. Linux facts only."""

import struct

# struct iovec {void *iov_base; size_t iov_len}
IOVEC = struct.Struct("<QQ")
UIO_MAXIOV = 1024
