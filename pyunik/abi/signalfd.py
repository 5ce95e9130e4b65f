"""signalfd: flags and struct signalfd_siginfo.

include/uapi/linux/signalfd.h. Linux facts only, no behaviour.
"""

import struct

from .fcntl import O_CLOEXEC, O_NONBLOCK

SFD_CLOEXEC = O_CLOEXEC
SFD_NONBLOCK = O_NONBLOCK
SFD_FLAGS = [("SFD_CLOEXEC", SFD_CLOEXEC), ("SFD_NONBLOCK", SFD_NONBLOCK)]   # strace's order

# struct signalfd_siginfo, 128 bytes: ssi_signo, ssi_errno, ssi_code, ssi_pid, ssi_uid,
# ssi_fd, ssi_tid, ssi_band, ssi_overrun, ssi_trapno, ssi_status, ssi_int [0..48),
# ssi_ptr, ssi_utime, ssi_stime, ssi_addr [48..80), ssi_addr_lsb (u16), 2 bytes of
# padding, ssi_syscall [84], ssi_call_addr [88], ssi_arch [96], then padding.
SIGNALFD_SIGINFO = struct.Struct("<IiiIIiIIIIiiQQQQH2xiQI28x")
