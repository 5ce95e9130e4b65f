"""prctl(2) and arch_prctl(2) options, and the process facts they read.

include/uapi/linux/prctl.h, arch/x86/include/uapi/asm/prctl.h,
include/linux/sched.h and
include/uapi/linux/personality.h. Linux facts only, no behaviour.
"""

# arch/x86/include/uapi/asm/prctl.h
ARCH_SET_GS = 0x1001
ARCH_SET_FS = 0x1002
ARCH_GET_FS = 0x1003
ARCH_GET_GS = 0x1004
ARCH_GET_CPUID = 0x1011
ARCH_SET_CPUID = 0x1012
ARCH_NAMES = {ARCH_SET_GS: "ARCH_SET_GS", ARCH_SET_FS: "ARCH_SET_FS",
              ARCH_GET_FS: "ARCH_GET_FS", ARCH_GET_GS: "ARCH_GET_GS",
              ARCH_GET_CPUID: "ARCH_GET_CPUID", ARCH_SET_CPUID: "ARCH_SET_CPUID"}

# include/uapi/linux/prctl.h
PR_SET_PDEATHSIG = 1
PR_GET_PDEATHSIG = 2
PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
PR_GET_NAME = 16
PR_GET_SECCOMP = 21
PR_CAPBSET_READ = 23
PR_SET_TIMERSLACK = 29
PR_GET_TIMERSLACK = 30
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_SET_VMA = 0x53564D41
PRCTL_NAMES = {PR_SET_PDEATHSIG: "PR_SET_PDEATHSIG", PR_GET_PDEATHSIG: "PR_GET_PDEATHSIG",
               PR_GET_DUMPABLE: "PR_GET_DUMPABLE", PR_SET_DUMPABLE: "PR_SET_DUMPABLE",
               PR_SET_NAME: "PR_SET_NAME", PR_GET_NAME: "PR_GET_NAME",
               PR_GET_SECCOMP: "PR_GET_SECCOMP", PR_CAPBSET_READ: "PR_CAPBSET_READ",
               PR_SET_TIMERSLACK: "PR_SET_TIMERSLACK", PR_GET_TIMERSLACK: "PR_GET_TIMERSLACK",
               PR_SET_CHILD_SUBREAPER: "PR_SET_CHILD_SUBREAPER",
               PR_GET_CHILD_SUBREAPER: "PR_GET_CHILD_SUBREAPER",
               PR_SET_NO_NEW_PRIVS: "PR_SET_NO_NEW_PRIVS",
               PR_GET_NO_NEW_PRIVS: "PR_GET_NO_NEW_PRIVS", PR_SET_VMA: "PR_SET_VMA"}

# include/linux/sched.h: the length of a task's comm (name), NUL included
TASK_COMM_LEN = 16

# include/uapi/linux/personality.h
PER_LINUX = 0x0000
