"""memfd_create(2) flags: include/uapi/linux/memfd.h. Linux facts only."""

MFD_CLOEXEC = 0x0001
MFD_ALLOW_SEALING = 0x0002
MFD_HUGETLB = 0x0004
MFD_NOEXEC_SEAL = 0x0008        # not executable, and sealed so
MFD_EXEC = 0x0010               # executable
