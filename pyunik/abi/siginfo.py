"""siginfo_t: what a signal carries, as the x86-64 kernel lays it out.

include/uapi/asm-generic/siginfo.h (si_code values and the union of per-source
fields). Checked against the installed uapi headers with offsetof: a siginfo is 128
bytes, si_signo/si_errno/si_code at 0/4/8 and the union at 16 (pointer aligned).
Linux facts only, no behaviour.
"""

import struct

SI_MAX_SIZE = 128

# si_code for signals sent by processes (<= 0) or by the kernel.
SI_USER = 0              # kill, raise (of a process)
SI_KERNEL = 0x80         # the kernel itself (e.g. int3, a #GP, a bad rt_sigreturn frame)
SI_QUEUE = -1            # sigqueue, rt_sigqueueinfo
SI_TIMER = -2            # POSIX timer expiry
SI_MESGQ = -3            # message queue state change
SI_ASYNCIO = -4          # AIO completion
SI_SIGIO = -5            # queued SIGIO
SI_TKILL = -6            # tkill, tgkill
SI_DETHREAD = -7         # execve killing the other threads
SI_ASYNCNL = -60         # glibc's async name lookup
SI_CODE_NAMES = {SI_USER: "SI_USER", SI_KERNEL: "SI_KERNEL", SI_QUEUE: "SI_QUEUE",
                 SI_TIMER: "SI_TIMER", SI_MESGQ: "SI_MESGQ", SI_ASYNCIO: "SI_ASYNCIO",
                 SI_SIGIO: "SI_SIGIO", SI_TKILL: "SI_TKILL"}

# SIGILL
ILL_ILLOPC, ILL_ILLOPN, ILL_ILLADR, ILL_ILLTRP, ILL_PRVOPC, ILL_PRVREG, ILL_COPROC, \
    ILL_BADSTK, ILL_BADIADDR = range(1, 10)
# SIGFPE
FPE_INTDIV, FPE_INTOVF, FPE_FLTDIV, FPE_FLTOVF, FPE_FLTUND, FPE_FLTRES, FPE_FLTINV, \
    FPE_FLTSUB = range(1, 9)
FPE_FLTUNK = 14          # undiagnosed floating-point exception
FPE_CONDTRAP = 15
# SIGSEGV
SEGV_MAPERR = 1          # nothing mapped at the address
SEGV_ACCERR = 2          # mapped, but the access is not allowed
SEGV_BNDERR = 3
SEGV_PKUERR = 4          # protection key (x86)
# SIGBUS
BUS_ADRALN = 1           # misaligned (alignment check)
BUS_ADRERR = 2           # no such physical address: a file page past the file's end
BUS_OBJERR = 3
BUS_MCEERR_AR = 4
BUS_MCEERR_AO = 5
# SIGTRAP
TRAP_BRKPT, TRAP_TRACE, TRAP_BRANCH, TRAP_HWBKPT, TRAP_UNK, TRAP_PERF = range(1, 7)
# SIGCHLD
CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_TRAPPED, CLD_STOPPED, CLD_CONTINUED = range(1, 7)
CLD_CODE_NAMES = {CLD_EXITED: "CLD_EXITED", CLD_KILLED: "CLD_KILLED", CLD_DUMPED: "CLD_DUMPED",
                  CLD_TRAPPED: "CLD_TRAPPED", CLD_STOPPED: "CLD_STOPPED",
                  CLD_CONTINUED: "CLD_CONTINUED"}
# SIGPOLL / SIGIO
POLL_IN, POLL_OUT, POLL_MSG, POLL_ERR, POLL_PRI, POLL_HUP = range(1, 7)
POLL_CODE_NAMES = {POLL_IN: "POLL_IN", POLL_OUT: "POLL_OUT", POLL_MSG: "POLL_MSG",
                   POLL_ERR: "POLL_ERR", POLL_PRI: "POLL_PRI", POLL_HUP: "POLL_HUP"}
# SIGSYS
SYS_SECCOMP = 1

# The kernel's si_code names of each fault signal, as strace prints them
ILL_CODE_NAMES = {ILL_ILLOPC: "ILL_ILLOPC", ILL_ILLOPN: "ILL_ILLOPN", ILL_ILLADR: "ILL_ILLADR",
                  ILL_ILLTRP: "ILL_ILLTRP", ILL_PRVOPC: "ILL_PRVOPC", ILL_PRVREG: "ILL_PRVREG",
                  ILL_COPROC: "ILL_COPROC", ILL_BADSTK: "ILL_BADSTK",
                  ILL_BADIADDR: "ILL_BADIADDR"}
FPE_CODE_NAMES = {FPE_INTDIV: "FPE_INTDIV", FPE_INTOVF: "FPE_INTOVF", FPE_FLTDIV: "FPE_FLTDIV",
                  FPE_FLTOVF: "FPE_FLTOVF", FPE_FLTUND: "FPE_FLTUND", FPE_FLTRES: "FPE_FLTRES",
                  FPE_FLTINV: "FPE_FLTINV", FPE_FLTSUB: "FPE_FLTSUB", FPE_FLTUNK: "FPE_FLTUNK",
                  FPE_CONDTRAP: "FPE_CONDTRAP"}
SEGV_CODE_NAMES = {SEGV_MAPERR: "SEGV_MAPERR", SEGV_ACCERR: "SEGV_ACCERR",
                   SEGV_BNDERR: "SEGV_BNDERR", SEGV_PKUERR: "SEGV_PKUERR"}
BUS_CODE_NAMES = {BUS_ADRALN: "BUS_ADRALN", BUS_ADRERR: "BUS_ADRERR", BUS_OBJERR: "BUS_OBJERR",
                  BUS_MCEERR_AR: "BUS_MCEERR_AR", BUS_MCEERR_AO: "BUS_MCEERR_AO"}
TRAP_CODE_NAMES = {TRAP_BRKPT: "TRAP_BRKPT", TRAP_TRACE: "TRAP_TRACE",
                   TRAP_BRANCH: "TRAP_BRANCH", TRAP_HWBKPT: "TRAP_HWBKPT",
                   TRAP_UNK: "TRAP_UNK", TRAP_PERF: "TRAP_PERF"}

# Each member of the union as a whole 128-byte siginfo: si_signo, si_errno, si_code,
# 4 bytes of padding, then the member's fields (offsets from the start in brackets).
SIGINFO_HEAD = struct.Struct("<iii4x")                    # the three ints, 16 bytes
# _kill: si_pid [16], si_uid [20]
SIGINFO_KILL = struct.Struct("<iii4xiI104x")
# _timer: si_tid [16], si_overrun [20], si_value [24], si_sys_private [32]
SIGINFO_TIMER = struct.Struct("<iii4xiiQi92x")
# _rt: si_pid [16], si_uid [20], si_value [24] (a union sigval: int or pointer)
SIGINFO_RT = struct.Struct("<iii4xiIQ96x")
# _sigchld: si_pid [16], si_uid [20], si_status [24], si_utime [32], si_stime [40]
SIGINFO_SIGCHLD = struct.Struct("<iii4xiIi4xqq80x")
# _sigfault: si_addr [16]; then one of: si_addr_lsb [24] (short); si_lower [32],
# si_upper [40] (SEGV_BNDERR); si_pkey [32] (SEGV_PKUERR)
SIGINFO_SIGFAULT = struct.Struct("<iii4xQ104x")
SIGINFO_SIGFAULT_LSB = struct.Struct("<iii4xQh102x")
SIGINFO_SIGFAULT_BND = struct.Struct("<iii4xQ8xQQ80x")
SIGINFO_SIGFAULT_PKEY = struct.Struct("<iii4xQ8xI92x")
# _sigpoll: si_band [16] (long), si_fd [24]
SIGINFO_SIGPOLL = struct.Struct("<iii4xqi100x")
# _sigsys: si_call_addr [16], si_syscall [24], si_arch [28]
SIGINFO_SIGSYS = struct.Struct("<iii4xQiI96x")
