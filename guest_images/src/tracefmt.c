/*
 * tracefmt: system calls whose arguments strace prints from the memory they point
 * at, for tests/test_strace_format.py to compare `pyunik --strace` with the real
 * `strace -f` of the same binary: signal sets (rt_sigprocmask, rt_sigpending,
 * rt_sigsuspend, signalfd4), struct sigaction (rt_sigaction), the arguments of
 * clone and clone3 (fork-like children and a thread that exits at once), and
 * futex's by operation (timeouts, bitsets, FUTEX_WAKE_OP's encoded operation),
 * nanosleep's and clock_nanosleep's timespec, sigaltstack's stack_t and wait4's
 * status.
 *
 * Every buffer is a global, so its address is the same natively and under pyunik;
 * calls are raw syscalls so neither C library adds or changes one. Bad pointers,
 * wrong sizes and invalid flags are there on purpose: strace prints the address.
 * stdout gets one line per call with its result (a pid prints as "pid").
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

/* the kernel's struct sigaction (x86-64) */
struct ksigaction {
    unsigned long handler, flags, restorer, mask;
};

/* struct clone_args, CLONE_ARGS_SIZE_VER2 (88 bytes) */
struct clone_args_v2 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
        set_tid, set_tid_size, cgroup;
};

#define K_SA_RESTORER 0x04000000UL
#define K_SA_INTERRUPT 0x20000000UL
#define K_CLONE_DETACHED 0x00400000UL
#define K_CLONE_PIDFD 0x00001000UL
#define K_SFD_CLOEXEC 02000000
#define K_SFD_NONBLOCK 04000

static unsigned long set, old;
static struct ksigaction act, oact;
static struct clone_args_v2 cl;
static int ptid, ctid, pidfd;
static char child_stack[16384] __attribute__((aligned(16)));
static char tls_area[256] __attribute__((aligned(64)));
static volatile int caught;

static void on_signal(int sig)
{
    (void)sig;
    caught++;
}

/* The restorer of raw rt_sigaction: rt_sigreturn. */
void tracefmt_restorer(void);
__asm__(".text\n"
        ".globl tracefmt_restorer\n"
        "tracefmt_restorer:\n"
        "    mov $15, %eax\n"
        "    syscall\n"
        "    hlt\n");

/* clone(flags, stack, ptid, ctid, tls) whose child exits at once with status 0,
 * touching neither its stack nor its TLS. */
long tracefmt_clone(long flags, long stack, long ptid, long ctid, long tls);
__asm__(".text\n"
        ".globl tracefmt_clone\n"
        "tracefmt_clone:\n"
        "    mov %rcx, %r10\n"
        "    mov $56, %eax\n"
        "    syscall\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    xor %edi, %edi\n"
        "    mov $60, %eax\n"
        "    syscall\n"
        "    hlt\n"
        "1:  ret\n");

/* clone3(args, size), the same way. */
long tracefmt_clone3(long args, long size);
__asm__(".text\n"
        ".globl tracefmt_clone3\n"
        "tracefmt_clone3:\n"
        "    mov $435, %eax\n"
        "    syscall\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    xor %edi, %edi\n"
        "    mov $60, %eax\n"
        "    syscall\n"
        "    hlt\n"
        "1:  ret\n");

static void report(const char *what, long r)
{
    if (r < 0)
        printf("%s: -%s\n", what, errno_name(-r) ? errno_name(-r) : "?");
    else
        printf("%s: %ld\n", what, r);
}

static void report_child(const char *what, long r)
{
    if (r > 0) {
        long w = raw_syscall4(SYS_wait4, r, 0, 0, 0);
        printf("%s: pid, reaped %s\n", what, w == r ? "yes" : "no");
    } else {
        report(what, r);
    }
}

static long sigaction_raw(int sig, void *a, void *o, long size)
{
    return raw_syscall4(SYS_rt_sigaction, sig, a, o, size);
}

static long procmask(int how, void *s, void *o, long size)
{
    return raw_syscall4(SYS_rt_sigprocmask, how, s, o, size);
}

static void sigactions(void)
{
    report("query USR1", sigaction_raw(SIGUSR1, NULL, &oact, 8));
    act.handler = (unsigned long)on_signal;
    act.flags = K_SA_RESTORER | SA_RESTART | SA_SIGINFO | SA_ONSTACK | SA_NODEFER
                | SA_RESETHAND;
    act.restorer = (unsigned long)tracefmt_restorer;
    act.mask = 1UL << (SIGUSR2 - 1) | 1UL << (SIGTERM - 1);
    report("set USR1", sigaction_raw(SIGUSR1, &act, &oact, 8));
    report("back USR1", sigaction_raw(SIGUSR1, NULL, &oact, 8));

    memset(&act, 0, sizeof act);
    act.handler = (unsigned long)SIG_IGN;
    act.mask = ~0UL;
    report("ignore USR2", sigaction_raw(SIGUSR2, &act, NULL, 8));
    report("back USR2", sigaction_raw(SIGUSR2, NULL, &oact, 8));

    /* SA_UNSUPPORTED (0x400) and SA_INTERRUPT: unknown bits the kernel drops */
    act.handler = (unsigned long)SIG_DFL;
    act.flags = K_SA_RESTORER | K_SA_INTERRUPT | 0x400 | SA_NOCLDSTOP;
    act.restorer = (unsigned long)tracefmt_restorer;
    act.mask = 0;
    report("odd flags", sigaction_raw(SIGCHLD, &act, &oact, 8));
    report("back CHLD", sigaction_raw(SIGCHLD, NULL, &oact, 8));
    act.flags = 0;
    report("flags 0", sigaction_raw(SIGCHLD, &act, NULL, 8));

    /* the new action and the old one in the same buffer */
    act.handler = (unsigned long)SIG_IGN;
    act.flags = K_SA_RESTORER;
    report("same buffer", sigaction_raw(SIGUSR1, &act, &act, 8));

    report("bad act", sigaction_raw(SIGUSR1, (void *)1, NULL, 8));
    report("bad oldact", sigaction_raw(SIGUSR1, NULL, (void *)8, 8));
    report("KILL", sigaction_raw(SIGKILL, &act, &oact, 8));
    report("size 4", sigaction_raw(SIGUSR1, &act, &oact, 4));
    report("RT 32", sigaction_raw(32, NULL, &oact, 8));
    report("RT 34", sigaction_raw(34, NULL, &oact, 8));
    report("RT 64", sigaction_raw(64, NULL, &oact, 8));
    report("signal 65", sigaction_raw(65, NULL, &oact, 8));
}

static void masks(void)
{
    set = 1UL << (SIGUSR1 - 1);
    report("block USR1", procmask(SIG_BLOCK, &set, &old, 8));
    report("query", procmask(SIG_SETMASK, NULL, &old, 8));
    set = ~0UL;
    report("block all", procmask(SIG_BLOCK, &set, &old, 8));
    report("query all", procmask(SIG_BLOCK, NULL, &old, 8));
    set = 0;
    report("unblock all", procmask(SIG_SETMASK, &set, NULL, 8));

    /* strace shows the signals not in a set once two thirds of them are in it */
    set = (1UL << 41) - 1;
    report("41 signals", procmask(SIG_BLOCK, &set, NULL, 8));
    set = (1UL << 42) - 1;
    report("42 signals", procmask(SIG_BLOCK, &set, &old, 8));
    set = 1UL << 31 | 1UL << 32 | 1UL << 33 | 1UL << 63;
    report("rt signals", procmask(SIG_SETMASK, &set, &old, 8));

    /* the new mask and the old one in the same buffer */
    set = 1UL << (SIGUSR2 - 1);
    report("same buffer", procmask(SIG_SETMASK, &set, &set, 8));

    report("bad set", procmask(SIG_BLOCK, (void *)8, NULL, 8));
    report("bad oldset", procmask(SIG_BLOCK, NULL, (void *)8, 8));
    report("size 4", procmask(SIG_BLOCK, &set, &old, 4));
    report("size 16", procmask(SIG_BLOCK, &set, &old, 16));
    report("how 7", procmask(7, &set, &old, 8));

    set = 1UL << (SIGUSR2 - 1) | 1UL << (SIGRTMIN + 0);
    report("pending", raw_syscall2(SYS_rt_sigpending, &set, 8));
    report("pending 4", raw_syscall2(SYS_rt_sigpending, &set, 4));
    report("pending 9", raw_syscall2(SYS_rt_sigpending, &set, 9));

    set = 1UL << (SIGUSR1 - 1) | 1UL << (SIGINT - 1);
    long fd = raw_syscall4(SYS_signalfd4, -1, &set, 8, K_SFD_CLOEXEC | K_SFD_NONBLOCK);
    report("signalfd4", fd);
    if (fd >= 0)
        raw_syscall1(SYS_close, fd);
    report("signalfd4 bad", raw_syscall4(SYS_signalfd4, -1, (void *)8, 8, 0));
}

static void suspend(void)
{
    memset(&act, 0, sizeof act);
    act.handler = (unsigned long)on_signal;
    act.flags = K_SA_RESTORER;
    act.restorer = (unsigned long)tracefmt_restorer;
    report("handler USR2", sigaction_raw(SIGUSR2, &act, NULL, 8));
    set = 1UL << (SIGUSR2 - 1);
    report("block USR2", procmask(SIG_SETMASK, &set, NULL, 8));
    raw_syscall2(SYS_kill, raw_syscall0(SYS_getpid), SIGUSR2);
    set = 1UL << (SIGTERM - 1);
    report("suspend", raw_syscall2(SYS_rt_sigsuspend, &set, 8));
    printf("caught: %d\n", caught);
    set = 0;
    report("unblock", procmask(SIG_SETMASK, &set, NULL, 8));
}

static void clones(void)
{
    report_child("clone fork", tracefmt_clone(SIGCHLD, 0, 0, 0, 0));
    ctid = ptid = 0;
    report_child("clone settid",
                 tracefmt_clone(CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID
                                | SIGCHLD, 0, (long)&ptid, (long)&ctid, 0));

    /* a thread that exits at once: wait for its CLONE_CHILD_CLEARTID */
    ctid = 1;
    long tid = tracefmt_clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD
                              | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID
                              | CLONE_CHILD_CLEARTID | K_CLONE_DETACHED,
                              (long)(child_stack + sizeof child_stack), (long)&ptid,
                              (long)&ctid, (long)tls_area);
    if (tid > 0) {
        while (ctid)
            raw_syscall4(SYS_futex, &ctid, 0 /* FUTEX_WAIT */, 1, 0);
        printf("clone thread: tid %s\n", ptid == tid ? "stored" : "missing");
    } else {
        report("clone thread", tid);
    }

    report("clone bad flags", tracefmt_clone(CLONE_SIGHAND, 0, 0, 0, 0));
    report("clone bad flags 2",
           tracefmt_clone(CLONE_SIGHAND | CLONE_PARENT_SETTID | CLONE_SETTLS | SIGCHLD, 0,
                          (long)&ptid, (long)&ctid, (long)tls_area));

    memset(&cl, 0, sizeof cl);
    cl.exit_signal = SIGCHLD;
    report_child("clone3 fork", tracefmt_clone3((long)&cl, sizeof cl));
    report_child("clone3 ver0", tracefmt_clone3((long)&cl, 64));
    cl.flags = K_CLONE_PIDFD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
    cl.pidfd = (uint64_t)(uintptr_t)&pidfd;
    cl.child_tid = (uint64_t)(uintptr_t)&ctid;
    cl.parent_tid = (uint64_t)(uintptr_t)&ptid;
    long pid = tracefmt_clone3((long)&cl, sizeof cl);
    report_child("clone3 pidfd", pid);
    if (pid > 0)
        raw_syscall1(SYS_close, pidfd);
    memset(&cl, 0, sizeof cl);
    cl.exit_signal = SIGCHLD;
    cl.stack = (uint64_t)(uintptr_t)child_stack;
    cl.stack_size = sizeof child_stack;
    report_child("clone3 stack", tracefmt_clone3((long)&cl, sizeof cl));
    cl.exit_signal = 100;
    report("clone3 bad signal", tracefmt_clone3((long)&cl, sizeof cl));
    report("clone3 bad pointer", tracefmt_clone3(8, sizeof cl));
    report("clone3 size 32", tracefmt_clone3((long)&cl, 32));
}

/* include/uapi/linux/futex.h (musl's headers have no linux/futex.h) */
#define K_FUTEX_WAIT 0
#define K_FUTEX_WAKE 1
#define K_FUTEX_REQUEUE 3
#define K_FUTEX_CMP_REQUEUE 4
#define K_FUTEX_WAKE_OP 5
#define K_FUTEX_LOCK_PI 6
#define K_FUTEX_UNLOCK_PI 7
#define K_FUTEX_TRYLOCK_PI 8
#define K_FUTEX_WAIT_BITSET 9
#define K_FUTEX_WAKE_BITSET 10
#define K_PRIVATE 128
#define K_CLOCK_REALTIME 256
#define K_BITSET_MATCH_ANY 0xffffffffL
#define K_FUTEX_OP(op, oparg, cmp, cmparg) \
    ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) \
     | ((cmparg) & 0xfff))
#define K_OP_SET 0
#define K_OP_ADD 1
#define K_OP_OPARG_SHIFT 8
#define K_OP_CMP_EQ 0
#define K_OP_CMP_GT 4

static int fw = 3, fw2;
static struct timespec short_wait = {0, 1000};

static long futex6(int *uaddr, int op, long val, long timeout, int *uaddr2, long val3)
{
    return raw_syscall6(SYS_futex, (long)uaddr, op, val, timeout, (long)uaddr2, val3);
}

/* futex's arguments by operation: no call here waits (the words never match) */
static void futexes(void)
{
    report("wake", futex6(&fw, K_FUTEX_WAKE | K_PRIVATE, 1, 0, NULL, 0));
    report("wait", futex6(&fw, K_FUTEX_WAIT, 5, (long)&short_wait, NULL, 0));
    report("wait no timeout", futex6(&fw, K_FUTEX_WAIT | K_PRIVATE, 5, 0, NULL, 0));
    report("wait bad timeout", futex6(&fw, K_FUTEX_WAIT, 3, 8, NULL, 0));
    report("wait bitset", futex6(&fw, K_FUTEX_WAIT_BITSET | K_PRIVATE | K_CLOCK_REALTIME, 5,
                                 (long)&short_wait, NULL, K_BITSET_MATCH_ANY));
    report("wake bitset", futex6(&fw, K_FUTEX_WAKE_BITSET, 1, 0, NULL, 5));
    report("requeue", futex6(&fw, K_FUTEX_REQUEUE | K_PRIVATE, 1, 2, &fw2, 0));
    report("cmp requeue", futex6(&fw, K_FUTEX_CMP_REQUEUE | K_PRIVATE, 1, 2, &fw2, 7));
    report("wake op", futex6(&fw, K_FUTEX_WAKE_OP | K_PRIVATE, 1, 1, &fw2,
                             K_FUTEX_OP(K_OP_SET, 0, K_OP_CMP_GT, 1)));
    report("wake op shift", futex6(&fw, K_FUTEX_WAKE_OP, 1, 1, &fw2,
                                   K_FUTEX_OP(K_OP_ADD | K_OP_OPARG_SHIFT, 3, K_OP_CMP_EQ, 0)));
    fw2 = 0;
    report("trylock pi", futex6(&fw2, K_FUTEX_TRYLOCK_PI, 0, 0, NULL, 0));
    report("lock pi held", futex6(&fw2, K_FUTEX_LOCK_PI | K_PRIVATE, 0, 0, NULL, 0));
    report("unlock pi", futex6(&fw2, K_FUTEX_UNLOCK_PI, 0, 0, NULL, 0));
    report("op 99", futex6(&fw, 99, 1, 0x10, &fw2, 0x20));
}

static struct timespec nap = {0, 1000}, at_zero = {0, 0};
static stack_t ss, old_ss;
static char altstack[16384];
static int wstatus;

/* nanosleep and clock_nanosleep's timespec, sigaltstack's stack_t, wait4's status */
static void others(void)
{
    report("nanosleep", raw_syscall2(SYS_nanosleep, &nap, NULL));
    report("nanosleep bad", raw_syscall2(SYS_nanosleep, 8, NULL));
    report("clock_nanosleep", raw_syscall4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &nap, NULL));
    report("clock_nanosleep abs", raw_syscall4(SYS_clock_nanosleep, CLOCK_MONOTONIC,
                                               TIMER_ABSTIME, &at_zero, NULL));

    report("sigaltstack query", raw_syscall2(SYS_sigaltstack, NULL, &old_ss));
    ss.ss_sp = altstack;
    ss.ss_size = sizeof altstack;
    ss.ss_flags = 0;
    report("sigaltstack set", raw_syscall2(SYS_sigaltstack, &ss, NULL));
    report("sigaltstack back", raw_syscall2(SYS_sigaltstack, NULL, &old_ss));
    ss.ss_flags = 5;
    report("sigaltstack bad flags", raw_syscall2(SYS_sigaltstack, &ss, &old_ss));
    ss.ss_flags = 0;
    ss.ss_size = 512;
    report("sigaltstack small", raw_syscall2(SYS_sigaltstack, &ss, NULL));
    ss.ss_flags = SS_DISABLE;
    report("sigaltstack disable", raw_syscall2(SYS_sigaltstack, &ss, &old_ss));
    report("sigaltstack bad", raw_syscall2(SYS_sigaltstack, 8, NULL));

    long pid = raw_syscall0(SYS_fork);
    if (pid == 0)
        raw_syscall1(SYS_exit_group, 3);
    report("wait exited", raw_syscall4(SYS_wait4, pid, &wstatus, 0, NULL) == pid ? 0 : -1);
    pid = raw_syscall0(SYS_fork);
    if (pid == 0)
        raw_syscall2(SYS_kill, raw_syscall0(SYS_getpid), SIGKILL);
    report("wait killed", raw_syscall4(SYS_wait4, pid, &wstatus, 0, NULL) == pid ? 0 : -1);
    report("wait none", raw_syscall4(SYS_wait4, -1, &wstatus, WNOHANG, NULL));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sigactions();
    masks();
    suspend();
    clones();
    futexes();
    others();
    return 0;
}
