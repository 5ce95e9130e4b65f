"""eventfd(2): include/linux/eventfd.h and fs/eventfd.c. Linux facts only."""

import struct

from . import fcntl as _fcntl

EFD_SEMAPHORE = 1
EFD_CLOEXEC = _fcntl.O_CLOEXEC
EFD_NONBLOCK = _fcntl.O_NONBLOCK
EFD_MAX_COUNT = 0xFFFFFFFFFFFFFFFE    # ULLONG_MAX - 1: the counter's largest value
EFD_FLAGS = [("EFD_SEMAPHORE", EFD_SEMAPHORE), ("EFD_CLOEXEC", EFD_CLOEXEC),  # strace's order
             ("EFD_NONBLOCK", EFD_NONBLOCK)]
EFD_VALUE = struct.Struct("<Q")       # reads and writes move one 8-byte counter
