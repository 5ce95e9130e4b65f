"""The system call table: the one place that says what each x86-64 syscall is.

One row per syscall, sorted by number: number, name, handler, argument kinds,
status and a note. Dispatch, `--strace` and `pyunik syscalls` all read this table;
numbers without a row are "missing" (ENOSYS, warned once by name).

Statuses:
- full:    behaves as Linux does for every argument;
- partial: works for what the note says, returns Linux's errno for the rest;
- stub:    always fails with the row's errno, for the reason in the note.

A row names its handler as `module.sys_name` through a HandlerModule, which imports
nothing: the module is imported when the row's handler is first wanted (its first call,
`pyunik syscalls`, a table check). So a run loads the handler modules of the calls its
guest makes and no others; a program that opens no socket never imports net/.

Layer: kernel. Calls: every handler module of kernel/syscalls/ (on first use) and
args.py; the dispatcher (kernel/kernel.py), trace/strace.py and `pyunik syscalls` read it.
"""

from __future__ import annotations

import importlib
import linecache
from errno import ENOSYS, EPERM
from collections.abc import Callable

from ...abi.syscall_numbers import NAMES
from .args import (Argv, CloneArgs, DirFd, Enum, Envp, Fd, Flags, InBuf, InIovec, Int,
                   IntPair, Kind, Long, Mode, MsgHdr, Off, OptName, OutBuf, OutIovec, OutMsgHdr,
                   OutSigAction, OutSigSet, OutSockAddr, OutStackT, Path, Ptr, RemTimeSpec,
                   Request, Rusage, SigAction, SigSet, Signal, Size, SockAddr, SockLenPtr,
                   SockType, StackT, TimeSpec, UInt, ULong, WaitStatus)
from .args import EpollEvent, EpollEvents, FdSet, PollFds, PselectSig, TimeVal

FULL, PARTIAL, STUB, MISSING = "full", "partial", "stub", "missing"


class HandlerName:
    """A handler named by its module of kernel/syscalls/ and its function, not imported.
    (The table's classes are plain classes: a dataclass compiles its methods at import,
    ~0.5 ms apiece paid by every run.)"""

    __slots__ = ("module", "function")

    def __init__(self, module: str, function: str):
        self.module = module
        self.function = function

    def __repr__(self) -> str:
        return "HandlerName(%r, %r)" % (self.module, self.function)

    def resolve(self) -> Callable:
        module = importlib.import_module("%s.%s" % (__package__, self.module))
        return getattr(module, self.function)


class HandlerModule:
    """Stands for a handler module in ROWS: `fs.sys_read` is HandlerName("fs", "sys_read")."""

    def __init__(self, module: str):
        self.module = module

    def __getattr__(self, function: str) -> HandlerName:
        if function.startswith("__"):
            raise AttributeError(function)
        return HandlerName(self.module, function)


(cred, epoll, execve, files, fs, futex, inotify, ipc, mm, net, poll, proc, signal, time,
 timers, wait, xattr) = map(HandlerModule, ("cred", "epoll", "execve", "files", "fs", "futex",
                                            "inotify", "ipc", "mm", "net", "poll", "proc",
                                            "signal", "time", "timers", "wait", "xattr"))


class Syscall:
    """One row: number, name, handler, argument kinds, status and note, the errno of a
    stub."""

    __slots__ = ("nr", "name", "_handler", "args", "status", "note", "errno", "_invoke")

    def __init__(self, nr: int, name: str, handler: Callable | HandlerName | None,
                 args: tuple[Kind, ...] = (), status: str = FULL, note: str = "",
                 errno: int = ENOSYS):
        self.nr = nr
        self.name = name
        self._handler = handler   # the function, or its name until first use
        self.args = args
        self.status = status
        self.note = note
        self.errno = errno
        self._invoke: Callable | None = None   # made by compile_row

    def __repr__(self) -> str:
        return "Syscall(%d, %r, %s)" % (self.nr, self.name, self.status)

    @property
    def handler(self) -> Callable | None:
        """The handler function (its module imported on first use), or None."""
        h = self._handler
        if isinstance(h, HandlerName):
            h = self._handler = h.resolve()
        return h

    @property
    def invoke(self) -> Callable | None:
        """invoke(t, regs): the row's compiled invoker, made on first use (a kernel
        compiles only the calls its guest makes), or None without a handler."""
        if self._invoke is None and self.handler is not None:
            compile_row(self)
        return self._invoke


def row(nr, name, handler, *args, status=FULL, note=""):
    return Syscall(nr, name, handler, tuple(args), status, note)


def stub(nr, name, err, note, *args):
    return Syscall(nr, name, None, tuple(args), STUB, note, err)


NODEV = "device nodes can be made (as root) but have no driver behind them (ENXIO)"
XATTR = "no extended attributes are stored: get/remove ENODATA, set ENOTSUP, lists empty"
WAITLOCK = ("a lock that must wait parks the thread until the inode's locks change; "
            "no EDEADLK detection (it needs two processes)")
POLL = ("waits on the files' wait queues and host fds; a wait nothing could end is "
        "a reported deadlock")
EPOLL = ("level, edge, EPOLLONESHOT, EPOLLEXCLUSIVE, nesting, registrations follow the "
         "open file; edge-triggered items on host fds (stdio) re-arm once the fd is "
         "drained (the host gives no edges)")
CPUTIME = ("guest CPU time is the host CPU time of each thread's runs on the engine; "
           "system time is not told apart (all of it is user time)")
TIMERS = ("fired from the scheduler's deadline heap, no host thread per timer; a thread "
          "computing alone is stopped at the next deadline by the engine's slice timer "
          "(an instruction budget where the engine cannot stop on a block boundary); "
          "CPU-time timers are checked at the soonest wall time they could expire")
FUTEX2 = ("32-bit futexes, private and shared, FUTEX2_NUMA with one node (0); "
          "FUTEX2_MPOL changes nothing (no memory policies)")
EXECVE = ("the same pid, new address space on a new engine; de_thread, close-on-exec, "
          "handlers reset, #! (5 deep), ETXTBSY, E2BIG as Linux; no set-user-ID or "
          "file capabilities (AT_SECURE stays 0); the automatic image learns exec'd host "
          "programs (README)")
RUSAGE_CHILD = ("the child's rusage has its CPU time (all user time) and peak mapped "
                "size; the fault, I/O and switch counts are 0; no core files are "
                "written, so WCOREDUMP is never set (as with RLIMIT_CORE 0)")
MLOCK = ("checked as Linux does (mapped range, RLIMIT_MEMLOCK); the host is not asked "
         "to pin guest pages")
EVENTFD = ("a blocking read at zero or write past the maximum parks the thread until "
           "the counter changes")
PIPE = ("a read or write that must wait parks the thread; a blocking write larger than "
        "the room left returns a short count instead of waiting for the rest")
SHMCTL = ("SHM_LOCK marks the segment locked without asking the host to pin its pages; "
          "a segment removed while attached goes at the next shm call after its last "
          "detach (nothing can see it before)")
SEMOP = ("a woken waiter's operations are performed for it oldest first, as Linux's "
         "update_queue does; the timeout is on the kernel's monotonic clock")
MSGQ = ("a message goes to whichever woken receiver runs first (Linux hands it to the "
        "oldest waiting receiver that wants its type)")
INOTIFY = ("events come only from what the guest itself does through pyunik's system "
           "calls (a host process changing a -v directory is not seen)")
SOCKETS = ("AF_UNIX (stream, datagram, seqpacket), AF_INET (TCP, UDP and ICMP echo "
           "'ping' datagram sockets over the kernel's own stack; ping_group_range is "
           "'0 2147483647', every group) and AF_NETLINK (NETLINK_ROUTE: link and address "
           "dumps); AF_INET6 and other families are EAFNOSUPPORT (no IPv6 yet); SOCK_RAW "
           "(IPv4, over the same stack, never a host raw socket) for a caller with "
           "CAP_NET_RAW, which pyunik's credentials give effective uid 0, EPERM for others; "
           "other netlink protocols EPROTONOSUPPORT")
SOCKIO = ("unix, TCP, UDP, ping, raw and netlink sockets; MSG_OOB is TCP's urgent data as "
          "Linux's (reads stop at the mark, SO_OOBINLINE, SIOCATMARK, POLLPRI, SIGURG to the "
          "F_SETOWN owner), and EOPNOTSUPP on other sockets (AF_UNIX "
          "streams too, as a kernel without CONFIG_AF_UNIX_OOB); MSG_TRUNC on TCP drops "
          "the bytes unwritten; MSG_ERRQUEUE on AF_INET sockets is EAGAIN (IP_RECVERR is "
          "not kept, so nothing is ever queued); a call waiting with "
          "SO_RCVTIMEO or SO_SNDTIMEO fails with EINTR when a handler runs, SA_RESTART or "
          "not, as Linux's")
SOCKOPT = ("SOL_SOCKET options kept and reported (timeouts exact to the microsecond, not "
           "rounded to jiffies; SO_PRIORITY, SO_MARK and SO_DONTROUTE change nothing, "
           "SO_OOBINLINE only TCP's urgent data; SO_REUSEPORT lets no two sockets share "
           "a port: EADDRINUSE); "
           "SO_KEEPALIVE, SO_BROADCAST (EACCES without it) as Linux; "
           "TCP_NODELAY, TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, TCP_INFO, reading TCP_MAXSEG; "
           "setting TCP_MAXSEG, TCP_CORK, TCP_QUICKACK, TCP_USER_TIMEOUT and other TCP "
           "options is ENOPROTOOPT; IP_TTL, IP_TOS; IP_HDRINCL and SOL_RAW's ICMP_FILTER on "
           "raw sockets; SOL_NETLINK flags; other levels "
           "EOPNOTSUPP/ENOPROTOOPT")
RLIMITS = ("limits that act: NOFILE, FSIZE (write, pwrite, writev, truncate: SIGXFSZ and "
           "EFBIG; not sendfile, splice, copy_file_range or fallocate), AS (mmap, mremap, "
           "brk), DATA (brk only), STACK (execve's argument space), MEMLOCK, CPU (SIGXCPU "
           "at the soft limit and each second after, SIGKILL at the hard, on the guest's "
           "CPU clock; one the first process inherits from pyunik's own is the host's to "
           "enforce, on pyunik), NPROC (clone, fork and vfork: EAGAIN; not checked again "
           "by execve after a change of user); SIGPENDING, MSGQUEUE, LOCKS, NICE, RTPRIO "
           "and RTTIME are kept and reported but enforced nowhere; CORE changes nothing "
           "(no core files are written)")
# inotify_add_watch reads its path only after checking the fd, as Linux does
WATCH_PATH = Kind("const char *pathname", Ptr.expr, "path")

ROWS = [
    row(0, "read", fs.sys_read, Fd, OutBuf(), Size),
    row(1, "write", fs.sys_write, Fd, InBuf(2), Size),
    row(2, "open", files.sys_open, Path, Flags(table="open"), Mode),
    row(3, "close", fs.sys_close, Fd),
    row(4, "stat", files.sys_stat, Path, Ptr),
    row(5, "fstat", fs.sys_fstat, Fd, Ptr),
    row(6, "lstat", files.sys_lstat, Path, Ptr),
    row(7, "poll", poll.sys_poll, PollFds(1), UInt, Int, status=PARTIAL, note=POLL),
    row(8, "lseek", fs.sys_lseek, Fd, Off, Enum(table="whence")),
    row(9, "mmap", mm.sys_mmap, Ptr, Size, Flags(table="prot"), Flags(table="mmap"), Fd, Off,
        status=PARTIAL, note="file pages are shared with the file (ramfs, memfd, hostfs, the "
                             "automatic image); members of built images are copied at mmap "
                             "time; a touch wholly past the file's end is SIGBUS; a copied "
                             "file's pages the file grows into later read as zeros"),
    row(10, "mprotect", mm.sys_mprotect, Ptr, Size, Flags(table="prot"),
        status=PARTIAL, note="a range with a hole fails with ENOMEM before changing any page"),
    row(11, "munmap", mm.sys_munmap, Ptr, Size),
    row(12, "brk", mm.sys_brk, Ptr),
    row(13, "rt_sigaction", signal.sys_rt_sigaction, Signal, SigAction, OutSigAction, Size,
        status=PARTIAL, note="every flag honoured; SIG_DFL of the stop signals ignores "
                             "them (no job control)"),
    row(14, "rt_sigprocmask", signal.sys_rt_sigprocmask, Enum(table="sighow"), SigSet(3),
        OutSigSet(3), Size),
    row(15, "rt_sigreturn", signal.sys_rt_sigreturn),
    row(16, "ioctl", fs.sys_ioctl, Fd, Request, Ptr,
        status=PARTIAL, note="FIOCLEX, FIONCLEX, FIONBIO, FIONREAD; terminal ioctls on a "
                             "host terminal; on sockets SIOCINQ, SIOCOUTQ and SIOCGIFCONF, "
                             "FLAGS, MTU, HWADDR, INDEX, NAME, METRIC, MAP, TXQLEN, ADDR, "
                             "DSTADDR, NETMASK, BRDADDR (no SIOCSIF*: interfaces are fixed); "
                             "ENOTTY elsewhere"),
    row(17, "pread64", fs.sys_pread64, Fd, OutBuf(), Size, Off),
    row(18, "pwrite64", fs.sys_pwrite64, Fd, InBuf(2), Size, Off),
    row(19, "readv", fs.sys_readv, Fd, OutIovec(2), Int),
    row(20, "writev", fs.sys_writev, Fd, InIovec(2), Int),
    row(21, "access", files.sys_access, Path, Enum(table="access")),
    row(22, "pipe", fs.sys_pipe, Ptr, status=PARTIAL, note=PIPE),
    row(23, "select", poll.sys_select, Int, FdSet(0), FdSet(0), FdSet(0), TimeVal,
        status=PARTIAL,
        note=POLL + "; the time left is written back"),
    row(24, "sched_yield", proc.sys_sched_yield),
    row(25, "mremap", mm.sys_mremap, Ptr, Size, Size, Flags(table="mremap"), Ptr,
        status=PARTIAL, note="moving part of a shared mapping of a host file copies its "
                             "pages (no longer shared); a shared anonymous mapping grown "
                             "past its object reads zeros where Linux gives SIGBUS"),
    row(26, "msync", mm.sys_msync, Ptr, Size, Flags(table="msync")),
    row(27, "mincore", mm.sys_mincore, Ptr, Size, Ptr),
    row(28, "madvise", mm.sys_madvise, Ptr, Size, Enum(table="madvise"),
        status=PARTIAL, note="MADV_DONTNEED as Linux (zeros, or the file's bytes again); "
                             "MADV_FREE private anonymous only; MADV_DONTFORK/DOFORK and "
                             "MADV_WIPEONFORK/KEEPONFORK as Linux (mm/fork_advice.py: "
                             "fork leaves the pages out or gives zeros); MADV_REMOVE "
                             "punches shared memory and files on in-memory filesystems "
                             "(mm/punch.py; EOPNOTSUPP on others, as fallocate); the other "
                             "advice are hints with nothing to change"),
    row(29, "shmget", ipc.sys_shmget, Int, Size, Int),
    row(30, "shmat", ipc.sys_shmat, Int, Ptr, Int),
    row(31, "shmctl", ipc.sys_shmctl, Int, Int, Ptr, status=PARTIAL, note=SHMCTL),
    row(32, "dup", fs.sys_dup, Fd),
    row(33, "dup2", fs.sys_dup2, Fd, Fd),
    row(34, "pause", signal.sys_pause),
    row(35, "nanosleep", time.sys_nanosleep, TimeSpec, RemTimeSpec,
        note="parks the thread until its deadline; a signal writes rem; a handler "
             "makes it EINTR, else restart_syscall sleeps until the same deadline"),
    row(36, "getitimer", timers.sys_getitimer, Int, Ptr, status=PARTIAL, note=TIMERS),
    row(37, "alarm", timers.sys_alarm, UInt, status=PARTIAL, note=TIMERS),
    row(38, "setitimer", timers.sys_setitimer, Int, Ptr, Ptr, status=PARTIAL,
        note=TIMERS + "; " + CPUTIME),
    row(39, "getpid", proc.sys_getpid),
    row(40, "sendfile", fs.sys_sendfile, Fd, Fd, Ptr, Size),
    row(41, "socket", net.sys_socket, Enum(table="af"), SockType, Int,
        status=PARTIAL, note=SOCKETS),
    row(42, "connect", net.sys_connect, Fd, SockAddr(2), Int, status=PARTIAL, note=SOCKIO),
    row(43, "accept", net.sys_accept, Fd, OutSockAddr(2), SockLenPtr,
        status=PARTIAL, note=SOCKIO),
    row(44, "sendto", net.sys_sendto, Fd, InBuf(2), Size, Flags(table="msg"), SockAddr(5), Int,
        status=PARTIAL, note=SOCKIO),
    row(45, "recvfrom", net.sys_recvfrom, Fd, OutBuf(), Size, Flags(table="msg"),
        OutSockAddr(5), SockLenPtr, status=PARTIAL, note=SOCKIO),
    row(46, "sendmsg", net.sys_sendmsg, Fd, MsgHdr, Flags(table="msg"),
        status=PARTIAL, note=SOCKIO),
    row(47, "recvmsg", net.sys_recvmsg, Fd, OutMsgHdr, Flags(table="msg"),
        status=PARTIAL, note=SOCKIO),
    row(48, "shutdown", net.sys_shutdown, Fd, Enum(table="shut")),
    row(49, "bind", net.sys_bind, Fd, SockAddr(2), Int),
    row(50, "listen", net.sys_listen, Fd, Int),
    row(51, "getsockname", net.sys_getsockname, Fd, OutSockAddr(2), SockLenPtr),
    row(52, "getpeername", net.sys_getpeername, Fd, OutSockAddr(2), SockLenPtr),
    row(53, "socketpair", net.sys_socketpair, Enum(table="af"), SockType, Int, IntPair),
    row(54, "setsockopt", net.sys_setsockopt, Fd, Enum(table="sol"), OptName(1), Ptr, Int,
        status=PARTIAL, note=SOCKOPT),
    row(55, "getsockopt", net.sys_getsockopt, Fd, Enum(table="sol"), OptName(1), Ptr, Ptr,
        status=PARTIAL, note=SOCKOPT),
    row(56, "clone", proc.sys_clone, ULong, Ptr, Ptr, Ptr, ULong,
        status=PARTIAL, note="threads (CLONE_THREAD) and processes (fork's copy of the "
                             "memory on a new CPU engine, or CLONE_VM's shared one; "
                             "CLONE_FILES, FS, SIGHAND, VFORK, PARENT, PIDFD, SETTLS, "
                             "PARENT/CHILD_SETTID, CHILD_CLEARTID) with Linux's EINVAL "
                             "checks; namespaces are ENOSYS"),
    row(57, "fork", proc.sys_fork),
    row(58, "vfork", proc.sys_vfork),
    row(59, "execve", execve.sys_execve, Path, Argv, Envp,
        status=PARTIAL, note=EXECVE),
    row(60, "exit", proc.sys_exit, Int),
    row(61, "wait4", wait.sys_wait4, Int, WaitStatus, Flags(table="wait"), Rusage,
        status=PARTIAL, note=RUSAGE_CHILD),
    row(62, "kill", signal.sys_kill, Int, Signal),
    row(63, "uname", proc.sys_uname, Ptr),
    row(64, "semget", ipc.sys_semget, Int, Int, Int),
    row(65, "semop", ipc.sys_semop, Int, Ptr, UInt, status=PARTIAL, note=SEMOP),
    row(66, "semctl", ipc.sys_semctl, Int, Int, Int, ULong),
    row(67, "shmdt", ipc.sys_shmdt, Ptr),
    row(68, "msgget", ipc.sys_msgget, Int, Int),
    row(69, "msgsnd", ipc.sys_msgsnd, Int, Ptr, Size, Int),
    row(70, "msgrcv", ipc.sys_msgrcv, Int, Ptr, Size, Long, Int, status=PARTIAL, note=MSGQ),
    row(71, "msgctl", ipc.sys_msgctl, Int, Int, Ptr),
    row(72, "fcntl", fs.sys_fcntl, Fd, Enum(table="fcntl"), ULong,
        status=PARTIAL, note="F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL, "
                             "F_GET/SETPIPE_SZ, F_ADD/GET_SEALS, F_GETLK/SETLK/SETLKW and "
                             "F_OFD_*, F_SETOWN/GETOWN and F_SETOWN_EX/GETOWN_EX (SIGURG "
                             "for TCP urgent data), F_SETSIG/GETSIG, O_ASYNC: SIGIO or "
                             "F_SETSIG's signal (si_code POLL_IN/POLL_OUT, si_band, si_fd) "
                             "when a pipe, FIFO, socket or inotify file becomes readable, "
                             "or a pipe writable (no socket POLL_OUT after a full send "
                             "buffer; eventfd, timerfd and host terminals have no fasync "
                             "here, the flag alone, as Linux's eventfd; no sigio_perm "
                             "credential check); " + WAITLOCK + "; locks on any file "
                             "(a pipe's on its buffer); F_SETLEASE/F_GETLEASE with their "
                             "break by open and truncate (SIGIO or F_SETSIG's signal, "
                             "POLL_MSG; EWOULDBLOCK or a wait of up to lease-break-time, "
                             "45 s, not settable; no break by a host process) and "
                             "F_NOTIFY's DN_* signals for what the guest does in the "
                             "directory; leases are refused to nobody (no leases-enable)"),
    row(73, "flock", fs.sys_flock, Fd, Enum(table="flock"),
        status=PARTIAL, note=WAITLOCK),
    row(74, "fsync", files.sys_fsync, Fd),
    row(75, "fdatasync", files.sys_fdatasync, Fd),
    row(76, "truncate", files.sys_truncate, Path, Off),
    row(77, "ftruncate", files.sys_ftruncate, Fd, Off),
    row(78, "getdents", files.sys_getdents, Fd, Ptr, UInt),
    row(79, "getcwd", files.sys_getcwd, OutBuf(), Size),
    row(80, "chdir", files.sys_chdir, Path),
    row(81, "fchdir", files.sys_fchdir, Fd),
    row(82, "rename", files.sys_rename, Path, Path),
    row(83, "mkdir", files.sys_mkdir, Path, Mode),
    row(84, "rmdir", files.sys_rmdir, Path),
    row(85, "creat", files.sys_creat, Path, Mode),
    row(86, "link", files.sys_link, Path, Path),
    row(87, "unlink", files.sys_unlink, Path),
    row(88, "symlink", files.sys_symlink, Path, Path),
    row(89, "readlink", files.sys_readlink, Path, OutBuf(), Int),
    row(90, "chmod", files.sys_chmod, Path, Mode),
    row(91, "fchmod", files.sys_fchmod, Fd, Mode),
    row(92, "chown", files.sys_chown, Path, Int, Int),
    row(93, "fchown", files.sys_fchown, Fd, Int, Int),
    row(94, "lchown", files.sys_lchown, Path, Int, Int),
    row(95, "umask", proc.sys_umask, Mode),
    row(96, "gettimeofday", time.sys_gettimeofday, Ptr, Ptr),
    row(97, "getrlimit", proc.sys_getrlimit, Enum(table="rlimit"), Ptr),
    row(98, "getrusage", proc.sys_getrusage, Int, Ptr,
        status=PARTIAL, note=CPUTIME + "; no children (RUSAGE_CHILDREN is zeros); only "
                                       "ru_maxrss among the other fields"),
    row(99, "sysinfo", proc.sys_sysinfo, Ptr),
    row(100, "times", cred.sys_times, Ptr,
        status=PARTIAL, note=CPUTIME + "; no children"),
    row(102, "getuid", proc.sys_getuid),
    row(104, "getgid", proc.sys_getgid),
    row(105, "setuid", cred.sys_setuid, UInt),
    row(106, "setgid", cred.sys_setgid, UInt),
    row(107, "geteuid", proc.sys_geteuid),
    row(108, "getegid", proc.sys_getegid),
    row(109, "setpgid", cred.sys_setpgid, Int, Int),
    row(110, "getppid", proc.sys_getppid),
    row(111, "getpgrp", proc.sys_getpgrp),
    row(112, "setsid", cred.sys_setsid),
    row(113, "setreuid", cred.sys_setreuid, UInt, UInt),
    row(114, "setregid", cred.sys_setregid, UInt, UInt),
    row(115, "getgroups", proc.sys_getgroups, Int, Ptr),
    row(116, "setgroups", cred.sys_setgroups, Int, Ptr),
    row(117, "setresuid", cred.sys_setresuid, UInt, UInt, UInt),
    row(118, "getresuid", cred.sys_getresuid, Ptr, Ptr, Ptr),
    row(119, "setresgid", cred.sys_setresgid, UInt, UInt, UInt),
    row(120, "getresgid", cred.sys_getresgid, Ptr, Ptr, Ptr),
    row(121, "getpgid", cred.sys_getpgid, Int),
    row(122, "setfsuid", cred.sys_setfsuid, UInt),
    row(123, "setfsgid", cred.sys_setfsgid, UInt),
    row(124, "getsid", cred.sys_getsid, Int),
    row(125, "capget", cred.sys_capget, Ptr, Ptr,
        status=PARTIAL, note="the sets of the caller's process or another's (the sets are "
                             "per process here, as the ids: a thread's capset changes its "
                             "whole process)"),
    row(126, "capset", cred.sys_capset, Ptr, Ptr,
        status=PARTIAL, note="the caller's sets, cap_capset's rules; per process, as the "
                             "ids; no securebits but keep_caps; file permission checks in "
                             "fs/ still take fsuid 0 for CAP_DAC_OVERRIDE, "
                             "CAP_DAC_READ_SEARCH, CAP_FOWNER and CAP_CHOWN"),
    row(127, "rt_sigpending", signal.sys_rt_sigpending, OutSigSet(1, table="pending"), Size),
    row(128, "rt_sigtimedwait", signal.sys_rt_sigtimedwait, SigSet(3), Ptr, Ptr, Size),
    row(129, "rt_sigqueueinfo", signal.sys_rt_sigqueueinfo, Int, Signal, Ptr),
    row(130, "rt_sigsuspend", signal.sys_rt_sigsuspend, SigSet(1), Size),
    row(131, "sigaltstack", signal.sys_sigaltstack, StackT, OutStackT),
    row(132, "utime", files.sys_utime, Path, Ptr),
    row(133, "mknod", files.sys_mknod, Path, Mode, ULong, status=PARTIAL, note=NODEV),
    row(135, "personality", proc.sys_personality, UInt,
        status=PARTIAL, note="PER_LINUX domains only (others are EINVAL); the flags are "
                             "kept and reported: ADDR_NO_RANDOMIZE holds anyway (pyunik "
                             "places memory the same way every run), READ_IMPLIES_EXEC, "
                             "ADDR_LIMIT_*, MMAP_PAGE_ZERO, UNAME26 and the rest change "
                             "nothing"),
    row(137, "statfs", files.sys_statfs, Path, Ptr),
    row(138, "fstatfs", files.sys_fstatfs, Fd, Ptr,
        status=PARTIAL, note="EINVAL on pipes and host streams"),
    row(140, "getpriority", cred.sys_getpriority, Int, Int),
    row(141, "setpriority", cred.sys_setpriority, Int, Int, Int,
        status=PARTIAL, note="the nice value is kept and reported; with one runnable thread it "
                             "changes no scheduling"),
    row(143, "sched_getparam", cred.sys_sched_getparam, Int, Ptr),
    row(145, "sched_getscheduler", cred.sys_sched_getscheduler, Int),
    row(149, "mlock", mm.sys_mlock, Ptr, Size, status=PARTIAL, note=MLOCK),
    row(150, "munlock", mm.sys_munlock, Ptr, Size),
    row(151, "mlockall", mm.sys_mlockall, Int, status=PARTIAL, note=MLOCK),
    row(152, "munlockall", mm.sys_munlockall),
    row(157, "prctl", proc.sys_prctl, Enum(table="prctl"), ULong, ULong, ULong, ULong,
        status=PARTIAL, note="PR_SET/GET_NAME, DUMPABLE, PDEATHSIG, NO_NEW_PRIVS, "
                             "CHILD_SUBREAPER, TIMERSLACK, GET_SECCOMP, CAPBSET_READ, "
                             "CAPBSET_DROP, GET/SET_KEEPCAPS (no PR_CAP_AMBIENT); "
                             "other options EINVAL"),
    row(158, "arch_prctl", proc.sys_arch_prctl, Enum(table="arch_prctl"), Ptr,
        status=PARTIAL, note="ARCH_SET_CPUID (CPUID faulting) is EINVAL"),
    row(160, "setrlimit", proc.sys_setrlimit, Enum(table="rlimit"), Ptr,
        status=PARTIAL, note=RLIMITS),
    row(161, "chroot", files.sys_chroot, Path),
    row(162, "sync", files.sys_sync),
    row(186, "gettid", proc.sys_gettid),
    row(188, "setxattr", xattr.sys_setxattr, Path, Path, Ptr, Size, Int,
        status=PARTIAL, note=XATTR),
    row(189, "lsetxattr", xattr.sys_lsetxattr, Path, Path, Ptr, Size, Int,
        status=PARTIAL, note=XATTR),
    row(190, "fsetxattr", xattr.sys_fsetxattr, Fd, Path, Ptr, Size, Int,
        status=PARTIAL, note=XATTR),
    row(191, "getxattr", xattr.sys_getxattr, Path, Path, Ptr, Size, status=PARTIAL, note=XATTR),
    row(192, "lgetxattr", xattr.sys_lgetxattr, Path, Path, Ptr, Size,
        status=PARTIAL, note=XATTR),
    row(193, "fgetxattr", xattr.sys_fgetxattr, Fd, Path, Ptr, Size, status=PARTIAL, note=XATTR),
    row(194, "listxattr", xattr.sys_listxattr, Path, Ptr, Size, status=PARTIAL, note=XATTR),
    row(195, "llistxattr", xattr.sys_llistxattr, Path, Ptr, Size, status=PARTIAL, note=XATTR),
    row(196, "flistxattr", xattr.sys_flistxattr, Fd, Ptr, Size, status=PARTIAL, note=XATTR),
    row(197, "removexattr", xattr.sys_removexattr, Path, Path, status=PARTIAL, note=XATTR),
    row(198, "lremovexattr", xattr.sys_lremovexattr, Path, Path, status=PARTIAL, note=XATTR),
    row(199, "fremovexattr", xattr.sys_fremovexattr, Fd, Path, status=PARTIAL, note=XATTR),
    row(200, "tkill", signal.sys_tkill, Int, Signal),
    row(201, "time", time.sys_time, Ptr),
    row(202, "futex", futex.sys_futex, Ptr, Enum(table="futex"), UInt, Ptr, Ptr, UInt,
        status=PARTIAL, note="WAIT, WAKE, the BITSET forms, REQUEUE, CMP_REQUEUE, WAKE_OP, "
                             "private and shared, FUTEX_CLOCK_REALTIME; LOCK_PI(2), "
                             "TRYLOCK_PI, UNLOCK_PI, WAIT_REQUEUE_PI, CMP_REQUEUE_PI with "
                             "Linux's word protocol, errors, restarts and owner death "
                             "(kernel/futex_pi.py), but priority inheritance itself is a "
                             "no-op (one CPU, no priorities: waiters get a lock in arrival "
                             "order); a plain wake or requeue that meets a requeue-PI "
                             "waiter fails EINVAL before waking any plain waiter"),
    row(203, "sched_setaffinity", proc.sys_sched_setaffinity, Int, Size, Ptr),
    row(204, "sched_getaffinity", proc.sys_sched_getaffinity, Int, Size, Ptr),
    row(213, "epoll_create", epoll.sys_epoll_create, Int, status=PARTIAL, note=EPOLL),
    row(217, "getdents64", files.sys_getdents64, Fd, Ptr, UInt),
    row(218, "set_tid_address", proc.sys_set_tid_address, Ptr),
    row(219, "restart_syscall", signal.sys_restart_syscall),
    row(220, "semtimedop", ipc.sys_semtimedop, Int, Ptr, UInt, Ptr, status=PARTIAL,
        note=SEMOP),
    row(221, "fadvise64", fs.sys_fadvise64, Fd, Off, Off, Enum(table="fadvise")),
    row(222, "timer_create", timers.sys_timer_create, Enum(table="clock"), Ptr, Ptr,
        status=PARTIAL, note=TIMERS),
    row(223, "timer_settime", timers.sys_timer_settime, Int, Int, Ptr, Ptr,
        status=PARTIAL, note=TIMERS),
    row(224, "timer_gettime", timers.sys_timer_gettime, Int, Ptr,
        status=PARTIAL, note=TIMERS),
    row(225, "timer_getoverrun", timers.sys_timer_getoverrun, Int,
        status=PARTIAL, note=TIMERS),
    row(226, "timer_delete", timers.sys_timer_delete, Int,
        status=PARTIAL, note=TIMERS),
    stub(227, "clock_settime", EPERM, "the host's clocks are never set from a guest (as "
         "for a caller without CAP_SYS_TIME)", Enum(table="clock"), Ptr),
    row(228, "clock_gettime", time.sys_clock_gettime, Enum(table="clock"), Ptr,
        status=PARTIAL, note="CPU clocks (the caller's, and clock_getcpuclockid's of any "
                             "guest thread or process) read guest CPU time: " + CPUTIME),
    row(229, "clock_getres", time.sys_clock_getres, Enum(table="clock"), Ptr),
    row(230, "clock_nanosleep", time.sys_clock_nanosleep, Enum(table="clock"),
        Flags(table="timer"), TimeSpec, RemTimeSpec(1),
        status=PARTIAL, note="parks the thread until its deadline (a handled signal ends "
                             "a relative sleep with EINTR and rem; without one it "
                             "resumes through restart_syscall); an absolute "
                             "CLOCK_REALTIME time is taken relative at the call; a process "
                             "CPU clock sleeps until the process has run so long"),
    row(231, "exit_group", proc.sys_exit_group, Int),
    row(232, "epoll_wait", epoll.sys_epoll_wait, Fd, EpollEvents, Int, Int, status=PARTIAL,
        note=EPOLL),
    row(233, "epoll_ctl", epoll.sys_epoll_ctl, Fd, Enum(table="epoll_ctl"), Fd, EpollEvent,
        status=PARTIAL, note=EPOLL),
    row(234, "tgkill", signal.sys_tgkill, Int, Int, Signal),
    row(235, "utimes", files.sys_utimes, Path, Ptr),
    row(247, "waitid", wait.sys_waitid, Int, Int, Ptr, Flags(table="wait"), Ptr,
        status=PARTIAL, note=RUSAGE_CHILD),
    row(253, "inotify_init", inotify.sys_inotify_init, status=PARTIAL, note=INOTIFY),
    row(254, "inotify_add_watch", inotify.sys_inotify_add_watch, Fd, WATCH_PATH,
        Flags(table="inotify"), status=PARTIAL, note=INOTIFY),
    row(255, "inotify_rm_watch", inotify.sys_inotify_rm_watch, Fd, Int),
    row(257, "openat", files.sys_openat, DirFd, Path, Flags(table="open"), Mode),
    row(258, "mkdirat", files.sys_mkdirat, DirFd, Path, Mode),
    row(259, "mknodat", files.sys_mknodat, DirFd, Path, Mode, ULong, status=PARTIAL, note=NODEV),
    row(260, "fchownat", files.sys_fchownat, DirFd, Path, Int, Int, Flags(table="at")),
    row(261, "futimesat", files.sys_futimesat, DirFd, Path, Ptr),
    row(262, "newfstatat", files.sys_newfstatat, DirFd, Path, Ptr, Flags(table="at")),
    row(263, "unlinkat", files.sys_unlinkat, DirFd, Path, Flags(table="at")),
    row(264, "renameat", files.sys_renameat, DirFd, Path, DirFd, Path),
    row(265, "linkat", files.sys_linkat, DirFd, Path, DirFd, Path, Flags(table="at")),
    row(266, "symlinkat", files.sys_symlinkat, Path, DirFd, Path),
    row(267, "readlinkat", files.sys_readlinkat, DirFd, Path, OutBuf(), Int),
    row(268, "fchmodat", files.sys_fchmodat, DirFd, Path, Mode),
    row(269, "faccessat", files.sys_faccessat, DirFd, Path, Enum(table="access")),
    row(270, "pselect6", poll.sys_pselect6, Int, FdSet(0), FdSet(0), FdSet(0), TimeSpec,
        PselectSig,
        status=PARTIAL, note=POLL + "; the mask is the thread's for the call; the time "
                                    "left is written back"),
    row(271, "ppoll", poll.sys_ppoll, PollFds(1), UInt, TimeSpec, SigSet(4), Size,
        status=PARTIAL, note=POLL + "; the mask is the thread's for the call; the time "
                                    "left is written back"),
    row(273, "set_robust_list", proc.sys_set_robust_list, Ptr, Size),
    row(274, "get_robust_list", proc.sys_get_robust_list, Int, Ptr, Ptr),
    row(275, "splice", fs.sys_splice, Fd, Ptr, Fd, Ptr, Size, UInt),
    row(276, "tee", fs.sys_tee, Fd, Fd, Size, UInt),
    row(280, "utimensat", files.sys_utimensat, DirFd, Ptr, Ptr, Flags(table="at")),
    row(281, "epoll_pwait", epoll.sys_epoll_pwait, Fd, EpollEvents, Int, Int, SigSet(5), Size,
        status=PARTIAL, note=EPOLL + "; the mask is the thread's for the call"),
    row(282, "signalfd", signal.sys_signalfd, Fd, SigSet(2), Size),
    row(283, "timerfd_create", timers.sys_timerfd_create, Enum(table="clock"), Int,
        status=PARTIAL, note=TIMERS),
    row(284, "eventfd", fs.sys_eventfd, UInt, status=PARTIAL, note=EVENTFD),
    row(285, "fallocate", files.sys_fallocate, Fd, Int, Off, Off,
        status=PARTIAL, note="modes 0 and KEEP_SIZE; PUNCH_HOLE on in-memory files only; "
                             "the others are EOPNOTSUPP, as on tmpfs"),
    row(286, "timerfd_settime", timers.sys_timerfd_settime, Fd, Int, Ptr, Ptr,
        status=PARTIAL, note=TIMERS + "; TFD_TIMER_CANCEL_ON_SET never cancels (no clock "
                                      "is ever set); REALTIME absolute times are fixed "
                                      "on the monotonic clock when set"),
    row(287, "timerfd_gettime", timers.sys_timerfd_gettime, Fd, Ptr),
    row(288, "accept4", net.sys_accept4, Fd, OutSockAddr(2), SockLenPtr,
        Flags(table="sock_flags"), status=PARTIAL, note=SOCKIO),
    row(289, "signalfd4", signal.sys_signalfd4, Fd, SigSet(2), Size, Flags(table="sfd")),
    row(290, "eventfd2", fs.sys_eventfd2, UInt, Flags(table="eventfd"),
        status=PARTIAL, note=EVENTFD),
    row(291, "epoll_create1", epoll.sys_epoll_create1, Flags(table="epoll_create"),
        status=PARTIAL, note=EPOLL),
    row(292, "dup3", fs.sys_dup3, Fd, Fd, Flags(table="fd_flags")),
    row(293, "pipe2", fs.sys_pipe2, Ptr, Flags(table="fd_flags"), status=PARTIAL, note=PIPE),
    row(294, "inotify_init1", inotify.sys_inotify_init1, Flags(table="inotify_init"),
        status=PARTIAL, note=INOTIFY),
    row(295, "preadv", fs.sys_preadv, Fd, OutIovec(2), Int, Off, Off),
    row(296, "pwritev", fs.sys_pwritev, Fd, InIovec(2), Int, Off, Off),
    row(297, "rt_tgsigqueueinfo", signal.sys_rt_tgsigqueueinfo, Int, Int, Signal, Ptr),
    row(299, "recvmmsg", net.sys_recvmmsg, Fd, Ptr, UInt, Flags(table="msg"), Ptr,
        status=PARTIAL, note=SOCKIO + "; a timeout is EINVAL"),
    row(302, "prlimit64", proc.sys_prlimit64, Int, Enum(table="rlimit"), Ptr, Ptr,
        status=PARTIAL, note="the calling process only (ESRCH for other pids); " + RLIMITS),
    row(306, "syncfs", files.sys_syncfs, Fd),
    row(307, "sendmmsg", net.sys_sendmmsg, Fd, Ptr, UInt, Flags(table="msg"),
        status=PARTIAL, note=SOCKIO),
    row(309, "getcpu", cred.sys_getcpu, Ptr, Ptr, Ptr),
    row(316, "renameat2", files.sys_renameat2, DirFd, Path, DirFd, Path, Flags(table="rename"),
        status=PARTIAL, note="RENAME_WHITEOUT is EINVAL"),
    row(318, "getrandom", proc.sys_getrandom, OutBuf(), Size, Flags(table="grnd")),
    row(319, "memfd_create", fs.sys_memfd_create, Path, UInt,
        status=PARTIAL, note="no MFD_HUGETLB (EINVAL); F_SEAL_WRITE is not refused while "
                             "a shared writable mapping exists"),
    row(322, "execveat", execve.sys_execveat, DirFd, Path, Argv, Envp,
        Flags(table="at"), status=PARTIAL, note=EXECVE),
    row(325, "mlock2", mm.sys_mlock2, Ptr, Size, UInt, status=PARTIAL, note=MLOCK),
    row(326, "copy_file_range", fs.sys_copy_file_range, Fd, Ptr, Fd, Ptr, Size, UInt),
    row(327, "preadv2", fs.sys_preadv2, Fd, OutIovec(2), Int, Off, Off, UInt),
    row(328, "pwritev2", fs.sys_pwritev2, Fd, InIovec(2), Int, Off, Off, UInt),
    row(332, "statx", files.sys_statx, DirFd, Path, Flags(table="at"), UInt, Ptr,
        status=PARTIAL, note="no birth time; stx_attributes and stx_mnt_id are 0"),
    stub(334, "rseq", ENOSYS, "restartable sequences are not offered; glibc and musl "
         "run without them", Ptr, UInt, Int, UInt),
    row(424, "pidfd_send_signal", wait.sys_pidfd_send_signal, Fd, Signal, Ptr, UInt),
    row(434, "pidfd_open", wait.sys_pidfd_open, Int, UInt),
    row(435, "clone3", proc.sys_clone3, CloneArgs(1), Size,
        status=PARTIAL, note="threads and processes, as clone; set_tid, "
                             "CLONE_INTO_CGROUP, CLONE_CLEAR_SIGHAND and CLONE_NEWTIME "
                             "are ENOSYS"),
    row(436, "close_range", files.sys_close_range, UInt, UInt, UInt),
    row(437, "openat2", files.sys_openat2, DirFd, Path, Ptr, Size),
    row(439, "faccessat2", files.sys_faccessat2, DirFd, Path, Enum(table="access"),
        Flags(table="at")),
    row(441, "epoll_pwait2", epoll.sys_epoll_pwait2, Fd, EpollEvents, Int, TimeSpec,
        SigSet(5), Size,
        status=PARTIAL, note=EPOLL + "; the mask is the thread's for the call"),
    row(449, "futex_waitv", futex.sys_futex_waitv, Ptr, UInt, UInt, Ptr, Enum(table="clock"),
        status=PARTIAL, note="up to 128 32-bit futexes, private and shared, absolute "
                             "timeout on CLOCK_MONOTONIC or CLOCK_REALTIME, Linux's checks "
                             "in order; FUTEX2_NUMA with one node (0); a futex named twice "
                             "is woken once"),
    row(452, "fchmodat2", files.sys_fchmodat2, DirFd, Path, Mode, Flags(table="at")),
    row(454, "futex_wake", futex.sys_futex_wake, Ptr, ULong, Int, UInt,
        status=PARTIAL, note=FUTEX2),
    row(455, "futex_wait", futex.sys_futex_wait, Ptr, ULong, ULong, UInt, Ptr,
        Enum(table="clock"), status=PARTIAL, note=FUTEX2),
    row(456, "futex_requeue", futex.sys_futex_requeue, Ptr, UInt, Int, Int,
        status=PARTIAL, note=FUTEX2),
]


class SyscallTable:
    """Rows by number; each row compiles its invoke function for dispatch when first
    asked for it."""

    SIZE = 512

    def __init__(self, rows=ROWS):
        self.rows: dict[int, Syscall] = {}
        for r in rows:
            self.rows[r.nr] = r
        for nr, name in NAMES.items():
            if nr not in self.rows:
                self.rows[nr] = Syscall(nr, name, None, (), MISSING, "not implemented")

    def by_name(self, name: str) -> Syscall:
        for r in self.rows.values():
            if r.name == name:
                return r
        raise KeyError(name)

    def sorted(self) -> list[Syscall]:
        return [self.rows[nr] for nr in sorted(self.rows)]


def compile_row(r: Syscall) -> None:
    """Build r.invoke(t, regs): decode each argument by its kind and call the handler.

    Generated once per row so the hot path has no loop over kinds. The source is kept in
    linecache under "<syscall NR NAME>", so a traceback shows the line and pdb can step
    into it (`s` from the dispatcher, then `l`); each argument's line names its C type.
    """
    function = r.handler
    if function is None:
        r._invoke = None
        return
    handler = function.__name__
    lines = ["def invoke_%s(t, r):" % r.name,
             "    # %s(2), syscall %d: registers decoded by kind, then %s.%s"
             % (r.name, r.nr, function.__module__, handler)]
    if r.args:
        lines.append("    return %s(" % handler)
        lines.append("        t,")
        for i, k in enumerate(r.args):
            lines.append("        %s,  # %s" % (k.expr.format(r="r[%d]" % (i + 1)), k.c_type))
        lines.append("    )")
    else:
        lines.append("    return %s(t)" % handler)
    src = "\n".join(lines) + "\n"
    filename = "<syscall %d %s>" % (r.nr, r.name)
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    namespace = {handler: function}
    exec(compile(src, filename, "exec"), namespace)
    r._invoke = namespace["invoke_" + r.name]
