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
    # real-time signals as strace names them: the kernel's SIGRTMIN (32), then
    # SIGRT_1 (33) to SIGRT_32 (64), whatever the C library keeps for itself
    SIGRTMIN: "SIGRTMIN", **{n: "SIGRT_%d" % (n - SIGRTMIN) for n in range(SIGRTMIN + 1, NSIG + 1)},
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
SIG_ERR = 0xFFFFFFFFFFFFFFFF     # (__sighandler_t)-1, as the unsigned long sa_handler holds it
SA_HANDLER_NAMES = {SIG_DFL: "SIG_DFL", SIG_IGN: "SIG_IGN", SIG_ERR: "SIG_ERR"}
SA_NOCLDSTOP = 0x00000001
SA_NOCLDWAIT = 0x00000002
SA_SIGINFO = 0x00000004
SA_UNSUPPORTED = 0x00000400
SA_EXPOSE_TAGBITS = 0x00000800
SA_RESTORER = 0x04000000
SA_ONSTACK = 0x08000000
SA_RESTART = 0x10000000
SA_INTERRUPT = 0x20000000        # historical no-op: the kernel drops it
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000
# in the order strace prints them (its xlat/sigact_flags.in)
SA_FLAGS = [("SA_RESTORER", SA_RESTORER), ("SA_ONSTACK", SA_ONSTACK), ("SA_RESTART", SA_RESTART),
            ("SA_INTERRUPT", SA_INTERRUPT), ("SA_NODEFER", SA_NODEFER),
            ("SA_RESETHAND", SA_RESETHAND), ("SA_SIGINFO", SA_SIGINFO),
            ("SA_NOCLDSTOP", SA_NOCLDSTOP), ("SA_NOCLDWAIT", SA_NOCLDWAIT)]
SS_ONSTACK = 1
SS_DISABLE = 2
SS_AUTODISARM = 1 << 31
SS_FLAGS = [("SS_ONSTACK", SS_ONSTACK), ("SS_DISABLE", SS_DISABLE),
            ("SS_AUTODISARM", SS_AUTODISARM)]
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
