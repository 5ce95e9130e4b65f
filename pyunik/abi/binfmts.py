"""execve's binary formats: include/uapi/linux/binfmts.h, fs/exec.c. Linux facts only."""

# how much of a file's start execve reads: the whole of a script's #! line must fit
BINPRM_BUF_SIZE = 256

# include/linux/binfmts.h: how many interpreters deep a #! chain may go
BINPRM_MAX_RECURSION = 4
