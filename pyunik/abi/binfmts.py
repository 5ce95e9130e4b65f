"""execve's binary formats: include/uapi/linux/binfmts.h, fs/exec.c. Linux facts only."""

# how much of a file's start execve reads: the whole of a script's #! line must fit
BINPRM_BUF_SIZE = 256

# include/linux/binfmts.h: how many interpreters deep a #! chain may go
BINPRM_MAX_RECURSION = 4

# fs/exec.c exec_binprm: how many times a binary format may hand over to another
# file (a #! script to its interpreter) before execve fails with ELOOP
MAX_EXEC_DEPTH = 5

# include/uapi/linux/binfmts.h: the longest argument or environment string execve
# copies (its NUL included) and the most strings it counts
MAX_ARG_STRLEN = 4096 * 32
MAX_ARG_STRINGS = 0x7FFFFFFF

# fs/exec.c bprm_stack_limits: the strings and their pointers may take a quarter of
# RLIMIT_STACK, at most 3/4 of _STK_LIM (abi/resource.py) and at least ARG_MAX
ARG_MAX = 4096 * 32
