/* thrpaths: the calls a thread's start and end make (rt_sigprocmask, clone, exit,
 * the CLONE_CHILD_CLEARTID wake a join waits for) in the cases pyunik's shortest
 * paths for them leave to the general way, or must answer as it does:
 * rt_sigprocmask with a signal pending (thread- and process-directed: a mask that
 * lets it through delivers it as the call returns, one that does not leaves it
 * pending), bad how, sizes and pointers (an old set that cannot be written leaves
 * the new mask made); clone of threads with and without CLONE_SETTLS and the
 * SETTID stores (a bad address there is ignored: the thread is made), a CSIGNAL
 * byte on a thread, bad flag combinations and a fork-like clone; a thread's exit
 * whose CLEARTID word is unmapped, whose joiner waits with a timeout, and whose
 * process's other thread is parked with a signal pending, and the last thread's
 * exit, which ends the process. Only results are
 * printed, so native and emulated runs print the same. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "futexguest.h"

#define BIT(sig) (1UL << ((sig) - 1))
#define FUTEX_WAIT 0
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD \
                      | CLONE_SYSVSEM)

static long sigprocmask_k(long how, const void *set, void *old, long size) {
    return raw_syscall4(SYS_rt_sigprocmask, how, set, old, size);
}

static unsigned long cur_mask(void) {
    unsigned long m = 0;
    sigprocmask_k(SIG_BLOCK, NULL, &m, 8);
    return m;
}

static volatile int handled;

static void on_signal(int sig) {
    (void)sig;
    handled++;
}

static void masks(void) {
    unsigned long none = 0, usr1 = BIT(SIGUSR1), usr2 = BIT(SIGUSR2), old;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigprocmask_k(SIG_SETMASK, &none, NULL, 8);

    /* an old set that cannot be written: EFAULT, the new mask made all the same */
    long r = sigprocmask_k(SIG_BLOCK, &usr1, (void *)8, 8);
    printf("block, old unwritable: %s mask %#lx\n", res(r), cur_mask());
    r = sigprocmask_k(SIG_BLOCK, (void *)8, NULL, 8);
    printf("block, set unreadable: %s mask %#lx\n", res(r), cur_mask());
    printf("how 3: %s, how -1: %s, how 3 no set: %s\n",
           res(sigprocmask_k(3, &usr2, NULL, 8)), res(sigprocmask_k(-1, &usr2, NULL, 8)),
           res(sigprocmask_k(3, NULL, &old, 8)));
    printf("size 16: %s, size 0 no set: %s, size 4: %s\n",
           res(sigprocmask_k(SIG_BLOCK, &usr2, NULL, 16)),
           res(sigprocmask_k(SIG_BLOCK, NULL, &old, 0)),
           res(sigprocmask_k(SIG_BLOCK, &usr2, NULL, 4)));

    /* a thread-directed signal pending while the mask changes */
    handled = 0;
    raw_syscall3(SYS_tgkill, getpid(), raw_syscall0(SYS_gettid), SIGUSR1);
    old = 0;
    r = sigprocmask_k(SIG_BLOCK, &usr2, &old, 8);
    printf("pending, block USR2: %s old %#lx handled %d\n", res(r), old, handled);
    r = sigprocmask_k(SIG_SETMASK, &usr1, NULL, 8);
    printf("pending, setmask USR1: %s handled %d\n", res(r), handled);
    r = sigprocmask_k(SIG_UNBLOCK, &usr1, &old, 8);
    printf("pending, unblock USR1: %s old %#lx handled %d\n", res(r), old, handled);

    /* a process-directed one */
    sigprocmask_k(SIG_BLOCK, &usr1, NULL, 8);
    kill(getpid(), SIGUSR1);
    r = sigprocmask_k(SIG_SETMASK, &usr1, &old, 8);
    printf("process pending, setmask USR1: %s old %#lx handled %d\n", res(r), old, handled);
    r = sigprocmask_k(SIG_SETMASK, &none, NULL, 8);
    printf("process pending, setmask none: %s handled %d mask %#lx\n", res(r), handled,
           cur_mask());
}

/* clone(flags, stack, ptid, ctid, tls, fn): the child calls fn on its stack (16-byte
 * aligned) and exits with its result; the parent gets clone's result. */
long thr_clone(long flags, void *stack, void *ptid, void *ctid, void *tls, int (*fn)(void));
__asm__(".text\n"
        ".globl thr_clone\n"
        "thr_clone:\n"
        "    mov %rcx, %r10\n"
        "    mov $56, %eax\n"
        "    syscall\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    and $-16, %rsp\n"
        "    call *%r9\n"
        "    mov %eax, %edi\n"
        "    mov $60, %eax\n"
        "    syscall\n"
        "    hlt\n"
        "1:  ret\n");

static char stacks[2][65536] __attribute__((aligned(16)));
static volatile uint32_t ctid, ptid;
static volatile int ran;

/* runs without the C library's thread set-up: only raw calls and plain stores */
static int child(void) {
    ran++;
    return 0;
}

/* wait for the thread whose CLEARTID word is ctid to have gone (its wake is a shared
 * futex's, which a private wait does not meet) */
static void join_word(volatile uint32_t *word) {
    uint32_t v;
    while ((v = *word) != 0)
        raw_syscall6(SYS_futex, (long)word, FUTEX_WAIT, v, 0, 0, 0);
}

static void join_cleared(void) {
    join_word(&ctid);
}

/* how many threads the process has (/proc/self/status's Threads:) */
static int thread_count(void) {
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    char *p = strstr(buf, "Threads:");
    return p ? atoi(p + 8) : -1;
}

static void thread_case(const char *what, long flags, void *ptidp) {
    ran = 0;
    ctid = 1;
    ptid = 0;
    long tid = thr_clone(THREAD_FLAGS | CLONE_CHILD_CLEARTID | flags, stacks[0] + sizeof stacks[0],
                         ptidp, (void *)&ctid, NULL, child);
    if (tid > 0) {
        join_cleared();
        printf("%s: tid yes, ran %d, ptid %s\n", what, ran,
               ptid == (uint32_t)tid ? "stored" : ptid ? "wrong" : "0");
    } else {
        printf("%s: %s\n", what, res(tid));
    }
}

/* a thread whose child_tid (for flag) is unmapped: it is made, runs and ends */
static void unmapped_word(const char *what, long flag) {
    ran = 0;
    long tid = thr_clone(THREAD_FLAGS | flag, stacks[0] + sizeof stacks[0], NULL, (void *)8, NULL,
                         child);
    while (thread_count() > 1)
        msleep(1);
    printf("%s: tid %s, ran %d\n", what, tid > 0 ? "yes" : "no", ran);
}

static void clones(void) {
    thread_case("thread", 0, NULL);
    thread_case("thread, parent_tid", CLONE_PARENT_SETTID, (void *)&ptid);
    thread_case("thread, parent_tid unmapped", CLONE_PARENT_SETTID, (void *)8);
    thread_case("thread, SIGCHLD byte", SIGCHLD | CLONE_PARENT_SETTID, (void *)&ptid);
    thread_case("thread, detached untraced io", CLONE_DETACHED | CLONE_UNTRACED | CLONE_IO, NULL);

    /* CLONE_CHILD_SETTID into the CLEARTID word itself, and into an unmapped one */
    ran = 0;
    ctid = 1;
    long tid = thr_clone(THREAD_FLAGS | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID
                         | CLONE_PARENT_SETTID, stacks[0] + sizeof stacks[0], (void *)&ptid,
                         (void *)&ctid, NULL, child);
    join_cleared();
    printf("thread, child_tid: tid %s, ran %d, ptid %s\n", tid > 0 ? "yes" : "no", ran,
           ptid == (uint32_t)tid ? "stored" : "wrong");
    unmapped_word("thread, child_tid unmapped", CLONE_CHILD_SETTID);
    /* a CLEARTID word that is unmapped: the exit goes on */
    unmapped_word("thread, clear_tid unmapped", CLONE_CHILD_CLEARTID);

    /* bad combinations */
    printf("THREAD without SIGHAND: %s\n",
           res(thr_clone(CLONE_VM | CLONE_THREAD, stacks[0] + sizeof stacks[0], NULL, NULL,
                         NULL, child)));
    printf("SIGHAND without VM: %s\n",
           res(thr_clone(CLONE_SIGHAND | CLONE_THREAD, stacks[0] + sizeof stacks[0], NULL,
                         NULL, NULL, child)));

    /* a fork-like clone */
    long pid = thr_clone(SIGCHLD, stacks[1] + sizeof stacks[1], NULL, NULL, NULL, child);
    int status = -1;
    waitpid((pid_t)pid, &status, 0);
    printf("fork-like: pid %s, status %#x\n", pid > 0 ? "yes" : "no", status);
}

/* a thread that waits with a timeout for the CLEARTID word's wake, with the
 * futex operation joiner_op */
static volatile long timed_result, joiner_op;
static volatile uint32_t joiner_tid;

static int timed_joiner(void) {
    struct timespec ts = {0, 300000000};
    joiner_tid = (uint32_t)raw_syscall0(SYS_gettid);
    timed_result = raw_syscall6(SYS_futex, (long)&ctid, joiner_op, 1, (long)&ts, 0, 0);
    return 0;
}

static volatile uint32_t go;

static int waits_for_go(void) {
    while (!go)
        raw_syscall6(SYS_futex, (long)&go, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
    ran++;
    return 0;
}

static long main_tid;

static int signals_main(void) {
    raw_syscall3(SYS_tgkill, getpid(), main_tid, SIGUSR2);
    ran++;
    return 0;
}

static void exits(void) {
    /* another thread waits with a timeout for the thread that exits: woken by the
     * CLEARTID wake when its wait is shared, not when it is private */
    static const long ops[2] = {FUTEX_WAIT, FUTEX_WAIT_PRIVATE};
    for (int i = 0; i < 2; i++) {
        static volatile uint32_t joiner_ctid;
        ran = 0;
        ctid = 1;
        go = 0;
        joiner_tid = 0;
        joiner_op = ops[i];
        timed_result = -1;
        long tid = thr_clone(THREAD_FLAGS | CLONE_CHILD_CLEARTID, stacks[0] + sizeof stacks[0],
                             NULL, (void *)&ctid, NULL, waits_for_go);
        joiner_ctid = 1;
        long jtid = thr_clone(THREAD_FLAGS | CLONE_CHILD_CLEARTID, stacks[1] + sizeof stacks[1],
                              NULL, (void *)&joiner_ctid, NULL, timed_joiner);
        until_asleep(&joiner_tid);
        go = 1;
        raw_syscall6(SYS_futex, (long)&go, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
        join_word(&joiner_ctid);
        join_cleared();
        printf("timed join, %s: tids %s, ran %d, wait returned %s\n",
               i ? "private" : "shared", tid > 0 && jtid > 0 ? "yes" : "no", ran,
               res(timed_result));
    }

    /* the exiting thread signalled its joiner first: the joiner's handler runs, its
     * wait ends (EINTR, or a restart) and it joins */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR2, &sa, NULL);
    handled = 0;
    ran = 0;
    ctid = 1;
    main_tid = raw_syscall0(SYS_gettid);
    long tid = thr_clone(THREAD_FLAGS | CLONE_CHILD_CLEARTID, stacks[0] + sizeof stacks[0],
                         NULL, (void *)&ctid, NULL, signals_main);
    join_cleared();
    printf("signalled joiner: tid %s, ran %d, handled %d\n", tid > 0 ? "yes" : "no", ran,
           handled);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    masks();
    clones();
    exits();
    printf("done\n");
    raw_syscall1(SYS_exit, 0);          /* the last thread's exit(2) ends the process */
    return 1;
}
