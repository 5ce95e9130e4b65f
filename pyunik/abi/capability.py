"""Capabilities: include/uapi/linux/capability.h (numbers, capget/capset's header and
data), include/linux/capability.h (the set a filesystem uid change moves) and
include/uapi/linux/securebits.h. No behaviour: kernel/credentials.py keeps the sets."""

import struct

from .proc import CAP_FULL, CAP_LAST_CAP

CAP_CHOWN = 0
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2
CAP_FOWNER = 3
CAP_FSETID = 4
CAP_KILL = 5
CAP_SETGID = 6
CAP_SETUID = 7
CAP_SETPCAP = 8
CAP_LINUX_IMMUTABLE = 9
CAP_NET_BIND_SERVICE = 10
CAP_NET_BROADCAST = 11
CAP_NET_ADMIN = 12
CAP_NET_RAW = 13
CAP_IPC_LOCK = 14
CAP_IPC_OWNER = 15
CAP_SYS_MODULE = 16
CAP_SYS_RAWIO = 17
CAP_SYS_CHROOT = 18
CAP_SYS_PTRACE = 19
CAP_SYS_PACCT = 20
CAP_SYS_ADMIN = 21
CAP_SYS_BOOT = 22
CAP_SYS_NICE = 23
CAP_SYS_RESOURCE = 24
CAP_SYS_TIME = 25
CAP_SYS_TTY_CONFIG = 26
CAP_MKNOD = 27
CAP_LEASE = 28
CAP_AUDIT_WRITE = 29
CAP_AUDIT_CONTROL = 30
CAP_SETFCAP = 31
CAP_MAC_OVERRIDE = 32
CAP_MAC_ADMIN = 33
CAP_SYSLOG = 34
CAP_WAKE_ALARM = 35
CAP_BLOCK_SUSPEND = 36
CAP_AUDIT_READ = 37
CAP_PERFMON = 38
CAP_BPF = 39
CAP_CHECKPOINT_RESTORE = 40
assert CAP_CHECKPOINT_RESTORE == CAP_LAST_CAP
CAP_ALL = CAP_FULL                      # CAP_FULL_SET: every capability this kernel knows

# CAP_FS_SET: what a filesystem uid change from 0 drops from the effective set (and
# one back to 0 raises from the permitted set)
CAP_FS_SET = sum(1 << c for c in (CAP_CHOWN, CAP_MKNOD, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
                                  CAP_FOWNER, CAP_FSETID, CAP_LINUX_IMMUTABLE,
                                  CAP_MAC_OVERRIDE))

# capget/capset: struct __user_cap_header_struct {__u32 version; int pid;} and the
# versions; struct __user_cap_data_struct {__u32 effective, permitted, inheritable;},
# one of them (v1) or two (v2, v3: the low and high 32 bits)
CAP_HEADER = struct.Struct("<Ii")
CAP_DATA = struct.Struct("<III")
LINUX_CAPABILITY_VERSION_1 = 0x19980330
LINUX_CAPABILITY_VERSION_2 = 0x20071026
LINUX_CAPABILITY_VERSION_3 = 0x20080522
CAPABILITY_U32S = {LINUX_CAPABILITY_VERSION_1: 1, LINUX_CAPABILITY_VERSION_2: 2,
                   LINUX_CAPABILITY_VERSION_3: 2}

# securebits.h: prctl(PR_SET_KEEPCAPS)'s bit
SECBIT_KEEP_CAPS = 1 << 4
