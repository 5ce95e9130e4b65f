"""Signals: numbers, dispositions, sigaction flags, alternate stacks and their structs.

include/uapi/asm-generic/signal.h, include/uapi/asm-generic/signal-defs.h and
arch/x86/include/uapi/asm/signal.h. Linux facts only, no behaviour.
"""

import struct

NSIG = 64
SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE = range(1, 9)
SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT = range(9, 17)
SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU = range(17, 25)
SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSYS = range(25, 32)
SIGRTMIN = 32
SIGNAL_NAMES = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
    13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
    18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG",
    24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO",
    30: "SIGPWR", 31: "SIGSYS",
    # real-time signals, as strace names them (glibc takes 32 and 33 for itself)
    **{n: "SIGRT_%d" % (n - SIGRTMIN) for n in range(SIGRTMIN, NSIG + 1)}, 34: "SIGRTMIN",
}


def signal_name(sig: int) -> str:
    """SIGSEGV for 11; the number itself for what is no signal."""
    return SIGNAL_NAMES.get(sig, str(sig))


SIG_BLOCK = 0
SIG_UNBLOCK = 1
SIG_SETMASK = 2
SIGPROCMASK_HOW = {SIG_BLOCK: "SIG_BLOCK", SIG_UNBLOCK: "SIG_UNBLOCK",
                   SIG_SETMASK: "SIG_SETMASK"}
SIG_DFL = 0
SIG_IGN = 1
SA_NOCLDSTOP = 0x00000001
SA_NOCLDWAIT = 0x00000002
SA_SIGINFO = 0x00000004
SA_UNSUPPORTED = 0x00000400
SA_EXPOSE_TAGBITS = 0x00000800
SA_RESTORER = 0x04000000
SA_ONSTACK = 0x08000000
SA_RESTART = 0x10000000
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000
SA_FLAGS = [("SA_NOCLDSTOP", SA_NOCLDSTOP), ("SA_NOCLDWAIT", SA_NOCLDWAIT),
            ("SA_SIGINFO", SA_SIGINFO), ("SA_RESTORER", SA_RESTORER), ("SA_ONSTACK", SA_ONSTACK),
            ("SA_RESTART", SA_RESTART), ("SA_NODEFER", SA_NODEFER), ("SA_RESETHAND", SA_RESETHAND)]
SS_ONSTACK = 1
SS_DISABLE = 2
SS_AUTODISARM = 1 << 31
MINSIGSTKSZ = 2048

# the kernel's struct sigaction (x86-64): sa_handler, sa_flags, sa_restorer, sa_mask
KERNEL_SIGACTION = struct.Struct("<QQQQ")
SIGSET = struct.Struct("<Q")
SIGSET_SIZE = 8
# fs/select.c: pselect6's sixth argument, struct sigset_argpack {sigset_t *p; size_t size}
SIGSET_ARGPACK = struct.Struct("<QQ")

# stack_t {void *ss_sp; int ss_flags; size_t ss_size}
STACK_T = struct.Struct("<Qi4xQ")

# include/linux/errno.h: what an interrupted system call answers inside the kernel
# until signal delivery turns it into EINTR or a restart (a program never sees
# them; strace prints them).
ERESTARTSYS = 512            # restart under SA_RESTART, else EINTR
ERESTARTNOINTR = 513         # always restart
ERESTARTNOHAND = 514         # EINTR when a handler runs, else restart
ERESTART_RESTARTBLOCK = 516  # EINTR when a handler runs, else restart_syscall
RESTART_ERRORS = {
    ERESTARTSYS: ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    ERESTARTNOINTR: ("ERESTARTNOINTR", "To be restarted"),
    ERESTARTNOHAND: ("ERESTARTNOHAND", "To be restarted if no handler"),
    ERESTART_RESTARTBLOCK: ("ERESTART_RESTARTBLOCK", "Interrupted by signal"),
}
