"""The facts /proc and /sys print: numbers and tables from the Linux sources named
beside each (no behaviour; the files themselves are made in fs/proc/ and fs/sysfs)."""

PROC_ROOT_INO = 1               # include/linux/proc_ns.h: /proc's root inode
PROC_BLKSIZE = 1024             # st_blksize of /proc files (fs/proc/inode.c, s_blocksize)
SYSFS_ATTR_SIZE = 4096          # st_size of a sysfs attribute (fs/sysfs/file.c, PAGE_SIZE)
PROC_FD_LINK_SIZE = 64          # fs/proc/fd.c: st_size of a /proc/<pid>/fd/N link
NORMAL_PRIO_BASE = 20           # task_prio() at nice 0: DEFAULT_PRIO - MAX_RT_PRIO
NR_OPEN_DEFAULT = 64            # include/linux/fdtable.h: the first fd table's slots
USER_HZ = 100                   # include/asm-generic/param.h: ticks in /proc/<pid>/stat
PID_MAX_LIMIT = 4194304         # include/linux/threads.h on 64-bit: /proc/sys/kernel/pid_max
CAP_LAST_CAP = 40               # include/uapi/linux/capability.h: CAP_CHECKPOINT_RESTORE
CAP_FULL = (1 << (CAP_LAST_CAP + 1)) - 1
MAX_NUMNODES = 1024             # include/linux/numa.h, CONFIG_NODES_SHIFT=10 as distributions
VMALLOC_TOTAL_KB = 34359738367  # arch/x86/include/asm/pgtable_64_types.h, 4-level tables
POOLSIZE_BITS = 256             # drivers/char/random.c: poolsize and entropy_avail

# fs/proc/base.c lnames[]: /proc/<pid>/limits rows, by RLIMIT_* number (name, unit).
LIMIT_NAMES = [("Max cpu time", "seconds"), ("Max file size", "bytes"),
               ("Max data size", "bytes"), ("Max stack size", "bytes"),
               ("Max core file size", "bytes"), ("Max resident set", "bytes"),
               ("Max processes", "processes"), ("Max open files", "files"),
               ("Max locked memory", "bytes"), ("Max address space", "bytes"),
               ("Max file locks", "locks"), ("Max pending signals", "signals"),
               ("Max msgqueue size", "bytes"), ("Max nice priority", None),
               ("Max realtime priority", None), ("Max realtime timeout", "us")]

# fs/proc_namespace.c: mount options by where Linux prints them: superblock flags
# (fs_infop), then per-mount flags (mnt_infop); anything else is the filesystem's own.
SB_OPTIONS = ("sync", "dirsync", "mand", "lazytime")
MNT_OPTIONS = ("nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime", "nosymfollow")
