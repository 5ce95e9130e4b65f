"""Filesystem magic numbers (statfs f_type): include/uapi/linux/magic.h."""

PROC_SUPER_MAGIC = 0x9FA0
SYSFS_MAGIC = 0x62656572
ROMFS_MAGIC = 0x7275
TMPFS_MAGIC = 0x01021994
OVERLAYFS_SUPER_MAGIC = 0x794C7630
