/*
 * forks.c - fork, vfork, clone and wait: exit codes and signals through wait4 and
 * waitid, SIGCHLD's siginfo, zombies, orphans and a subreaper, WNOHANG and
 * WNOWAIT, __WCLONE/__WALL, SIG_IGN and SA_NOCLDWAIT, what a child inherits (memory
 * copied, fd offsets shared, the mask kept, pending signals cleared), vfork's
 * shared memory and wait, pidfds, and the errno cases.
 *
 * Only the parent prints; children answer with exit codes and pipes, so the output
 * is the same on every run (no pids printed, only facts about them).
 * `forks sleep`: a child sleeps one second while the parent waits for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static const char *err(long r)
{
    static char buf[32];
    if (r >= 0) {
        snprintf(buf, sizeof buf, "%ld", r);
        return buf;
    }
    const char *n = errno_name(-r);
    return n ? n : "?";
}

static volatile sig_atomic_t chld_count;
static volatile int chld_code, chld_status, chld_pid, chld_uid;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    chld_count++;
    chld_code = si->si_code;
    chld_status = si->si_status;
    chld_pid = si->si_pid;
    chld_uid = si->si_uid;
}

static pid_t child_exiting(int code)
{
    pid_t p = fork();
    if (p == 0)
        _exit(code);
    return p;
}

/* a child that waits for one byte on a new pipe, then exits with it (code < 0) or
 * with code; fds[1] is the parent's end to write (fds[0] is closed here) */
static pid_t waiting_child(int fds[2], int code)
{
    pipe(fds);
    pid_t p = fork();
    if (p == 0) {
        char c = 0;
        close(fds[1]);
        read(fds[0], &c, 1);
        _exit(code < 0 ? c : code);
    }
    close(fds[0]);
    return p;
}

static void exit_codes(void)
{
    int codes[] = {0, 3, 255, 256 + 7};
    for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        int st = -1;
        pid_t p = child_exiting(codes[i]);
        pid_t w = waitpid(p, &st, 0);
        printf("exit %d: waited %s, exited %d, code %d\n", codes[i], w == p ? "it" : "other",
               WIFEXITED(st), WEXITSTATUS(st));
    }
}

static void killed(void)
{
    int sigs[] = {SIGTERM, SIGKILL, SIGUSR1, SIGSEGV};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        pid_t p = fork();
        if (p == 0) {
            if (sigs[i] == SIGSEGV) {
                static int *volatile bad = (int *)8;
                *bad = 1;
            }
            raise(sigs[i]);
            _exit(99);
        }
        int st;
        waitpid(p, &st, 0);
        printf("killed by %d: signaled %d, termsig %d, core %d\n", sigs[i], WIFSIGNALED(st),
               WTERMSIG(st), WCOREDUMP(st) ? 1 : 0);
    }
    /* a child the parent kills */
    int fds[2];
    pid_t p = waiting_child(fds, 0);
    printf("kill running child: %s\n", err(kill(p, SIGTERM) ? -errno : 0));
    int st;
    waitpid(p, &st, 0);
    printf("  termsig %d\n", WTERMSIG(st));
    close(fds[1]);
}

static void sigchld_info(void)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    /* SIGCHLD blocked until sigsuspend: one arriving between the test of the
       count and the wait would otherwise leave pause() waiting forever */
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    chld_count = 0;
    pid_t p = child_exiting(42);
    int st;
    while (chld_count == 0)
        sigsuspend(&old);
    waitpid(p, &st, 0);
    printf("SIGCHLD exit: count %d, code %s, status %d, pid ok %d, uid ok %d\n", chld_count,
           chld_code == CLD_EXITED ? "CLD_EXITED" : "other", chld_status, chld_pid == p,
           chld_uid == (int)getuid());
    chld_count = 0;
    p = fork();
    if (p == 0) {
        raise(SIGINT);
        _exit(1);
    }
    while (chld_count == 0)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    waitpid(p, &st, 0);
    printf("SIGCHLD kill: code %s, status %d\n",
           chld_code == CLD_KILLED ? "CLD_KILLED" : chld_code == CLD_DUMPED ? "CLD_DUMPED" : "other",
           chld_status);
    signal(SIGCHLD, SIG_DFL);
}

static void nohang(void)
{
    int fds[2];
    pid_t p = waiting_child(fds, -1);
    int st = 0;
    printf("WNOHANG while running: %d\n", waitpid(p, &st, WNOHANG));
    siginfo_t si;
    memset(&si, 0x55, sizeof si);
    int r = waitid(P_PID, p, &si, WEXITED | WNOHANG);
    printf("waitid WNOHANG while running: %d, si_pid %d, si_signo %d\n", r, si.si_pid, si.si_signo);
    write(fds[1], "\x05", 1);
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, p, &si, WEXITED | WNOWAIT);
    printf("waitid WNOWAIT: %d, signo %d, code %s, status %d, pid ok %d\n", r, si.si_signo,
           si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status, si.si_pid == p);
    r = waitid(P_ALL, 0, &si, WEXITED);
    printf("waitid again: %d, status %d, pid ok %d\n", r, si.si_status, si.si_pid == p);
    printf("then: %s\n", err(waitpid(-1, &st, 0) < 0 ? -errno : 0));
    close(fds[1]);
}

static void errors(void)
{
    int st;
    printf("wait no children: %s\n", err(wait(&st) < 0 ? -errno : 0));
    printf("waitpid self: %s\n", err(waitpid(getpid(), &st, 0) < 0 ? -errno : 0));
    printf("wait4 bad options: %s\n", err(raw_syscall4(SYS_wait4, -1, &st, 0x100, 0)));
    printf("wait4 INT_MIN: %s\n", err(raw_syscall4(SYS_wait4, -2147483647 - 1, &st, 0, 0)));
    siginfo_t si;
    printf("waitid no options: %s\n", err(raw_syscall5(SYS_waitid, P_ALL, 0, &si, 0, 0)));
    printf("waitid bad idtype: %s\n", err(raw_syscall5(SYS_waitid, 7, 0, &si, WEXITED, 0)));
    printf("waitid P_PID 0: %s\n", err(raw_syscall5(SYS_waitid, P_PID, 0, &si, WEXITED, 0)));
    printf("waitid P_PGID -1: %s\n", err(raw_syscall5(SYS_waitid, P_PGID, -1, &si, WEXITED, 0)));
    printf("waitid P_PIDFD bad fd: %s\n", err(raw_syscall5(SYS_waitid, P_PIDFD, 99, &si, WEXITED, 0)));
    printf("waitid P_PIDFD not pidfd: %s\n", err(raw_syscall5(SYS_waitid, P_PIDFD, 1, &si, WEXITED, 0)));
    printf("waitid ECHILD: %s\n", err(raw_syscall5(SYS_waitid, P_ALL, 0, &si, WEXITED, 0)));
    pid_t p = child_exiting(9);
    usleep(1000);
    long r = raw_syscall4(SYS_wait4, p, 8, 0, 0);
    printf("wait4 bad status pointer: %s, then %s\n", err(r),
           err(waitpid(p, &st, WNOHANG) < 0 ? -errno : 0));
}

static void zombie_and_kill(void)
{
    pid_t p = child_exiting(0);
    siginfo_t si;
    waitid(P_PID, p, &si, WEXITED | WNOWAIT);   /* a zombie now */
    printf("kill zombie: %s\n", err(kill(p, 0) ? -errno : 0));
    int st;
    waitpid(p, &st, 0);
    printf("kill reaped: %s\n", err(kill(p, 0) ? -errno : 0));
}

static void clone_flags(void)
{
    /* a child whose exit signal is 0: only __WCLONE or __WALL see it */
    long p = raw_syscall5(SYS_clone, 0, 0, 0, 0, 0);
    if (p == 0)
        raw_syscall1(SYS_exit, 6);
    int st = 0;
    usleep(2000);
    printf("exit signal 0, plain wait: %s\n", err(waitpid(p, &st, WNOHANG) < 0 ? -errno : 0));
    long r = waitpid(p, &st, __WCLONE);
    printf("  __WCLONE: %s, code %d\n", r == p ? "it" : err(-errno), WEXITSTATUS(st));
    p = raw_syscall5(SYS_clone, SIGURG, 0, 0, 0, 0);
    if (p == 0)
        raw_syscall1(SYS_exit, 8);
    r = waitpid(p, &st, __WALL);
    printf("exit signal SIGURG, __WALL: %s, code %d\n", r == p ? "it" : err(-errno),
           WEXITSTATUS(st));
    /* CLONE_PARENT_SETTID and CLONE_CHILD_SETTID */
    static int ptid, ctid;
    p = raw_syscall5(SYS_clone, CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | SIGCHLD, 0, &ptid,
                     &ctid, 0);
    if (p == 0)
        raw_syscall1(SYS_exit, ctid == raw_syscall0(SYS_getpid) ? 1 : 2);
    waitpid(p, &st, 0);
    printf("PARENT_SETTID %d, CHILD_SETTID in child %d, in parent %d\n", ptid == p,
           WEXITSTATUS(st) == 1, ctid == p);
    printf("clone CLONE_SIGHAND without VM: %s\n",
           err(raw_syscall5(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0)));
}

static void inherit(void)
{
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *private = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static int data = 10;
    *shared = 1;
    *private = 1;
    int fd = memfd_create("forks", 0);
    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    pid_t p = fork();
    if (p == 0) {
        sigset_t mine;
        sigprocmask(SIG_BLOCK, NULL, &mine);
        sigpending(&pend);
        int bits = (getppid() == getppid()) | (*shared == 1) << 1 | (*private == 1) << 2 |
                   (data == 10) << 3 | sigismember(&mine, SIGUSR1) << 4 |
                   !sigismember(&pend, SIGUSR1) << 5;
        *shared = 2;
        *private = 2;
        data = 20;
        write(fd, "abc", 3);
        _exit(bits);
    }
    int st;
    waitpid(p, &st, 0);
    sigpending(&pend);
    printf("child saw: ppid %d, shared %d, private %d, data %d, mask kept %d, pending cleared %d\n",
           WEXITSTATUS(st) & 1, !!(WEXITSTATUS(st) & 2), !!(WEXITSTATUS(st) & 4),
           !!(WEXITSTATUS(st) & 8), !!(WEXITSTATUS(st) & 16), !!(WEXITSTATUS(st) & 32));
    printf("parent after: shared %d, private %d, data %d, offset %ld, own pending %d\n", *shared,
           *private, data, (long)lseek(fd, 0, SEEK_CUR), sigismember(&pend, SIGUSR1));
    signal(SIGUSR1, SIG_IGN);
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
    close(fd);
}

static void vforks(void)
{
    static volatile int flag;
    flag = 1;
    pid_t me = getpid();
    pid_t p = vfork();
    if (p == 0) {
        flag = (getppid() == me) ? 2 : 3;
        _exit(4);
    }
    int st;
    printf("vfork: parent sees %d", flag);
    waitpid(p, &st, 0);
    printf(", child code %d\n", WEXITSTATUS(st));
    /* the vfork parent waits until the child exits */
    static volatile int step;
    step = 0;
    p = vfork();
    if (p == 0) {
        for (volatile int i = 0; i < 200000; i++)
            ;
        step = 1;
        _exit(0);
    }
    printf("vfork waited for the child: %d\n", step);
    waitpid(p, &st, 0);
    /* a SIGKILL ends a vfork parent's wait (a middle process, killed by its child) */
    pid_t mid = fork();
    if (mid == 0) {
        pid_t c = vfork();
        if (c == 0) {
            kill(getppid(), SIGKILL);
            for (volatile int i = 0; i < 100000; i++)
                ;
            _exit(0);
        }
        _exit(1);                           /* never: killed in vfork */
    }
    waitpid(mid, &st, 0);
    printf("vfork parent killed by its child: signaled %d, by %d\n", WIFSIGNALED(st),
           WTERMSIG(st));
}

static void orphans(void)
{
    printf("subreaper: %s\n", err(prctl(PR_SET_CHILD_SUBREAPER, 1) ? -errno : 0));
    int fds[2];
    pipe(fds);
    pid_t me = getpid();
    pid_t p = fork();
    if (p == 0) {
        pid_t g = fork();
        if (g == 0) {
            char c;
            close(fds[1]);
            read(fds[0], &c, 1);       /* until the middle one has gone */
            _exit(getppid() == me ? 11 : 12);
        }
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    write(fds[1], "x", 1);
    close(fds[0]);
    close(fds[1]);
    pid_t g = waitpid(-1, &st, 0);
    printf("orphan reparented to the subreaper: waited %d, code %d\n", g > 0, WEXITSTATUS(st));
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void ignored(void)
{
    signal(SIGCHLD, SIG_IGN);
    for (int i = 0; i < 3; i++)
        child_exiting(i);
    int st;
    long r = wait(&st);
    printf("SIG_IGN: wait %s\n", r < 0 ? err(-errno) : "a child");
    signal(SIGCHLD, SIG_DFL);

    struct sigaction sa = {0};
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_NOCLDWAIT | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    chld_count = 0;
    pid_t p = child_exiting(1);
    r = waitpid(p, &st, 0);
    printf("SA_NOCLDWAIT: wait %s, handler ran %d\n", r < 0 ? err(-errno) : "a child",
           chld_count);
    signal(SIGCHLD, SIG_DFL);
}

static void pidfds(void)
{
    int fds[2];
    pid_t p = waiting_child(fds, 13);
    long pfd = raw_syscall2(SYS_pidfd_open, p, 0);
    printf("pidfd_open: %s\n", pfd >= 0 ? "an fd" : err(pfd));
    printf("pidfd cloexec: %d\n", (fcntl(pfd, F_GETFD) & FD_CLOEXEC) != 0);
    struct pollfd pf = {.fd = (int)pfd, .events = POLLIN};
    printf("poll running: %d\n", poll(&pf, 1, 0));
    printf("pidfd_send_signal 0: %s\n", err(raw_syscall4(SYS_pidfd_send_signal, pfd, 0, 0, 0)));
    printf("pidfd_send_signal bad flags: %s\n",
           err(raw_syscall4(SYS_pidfd_send_signal, pfd, 0, 0, 8)));
    write(fds[1], "x", 1);
    int n = poll(&pf, 1, 5000);
    printf("poll exited: %d, revents %#x\n", n, pf.revents);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    long r = raw_syscall5(SYS_waitid, P_PIDFD, pfd, &si, WEXITED, 0);
    printf("waitid P_PIDFD: %s, status %d, pid ok %d\n", err(r), si.si_status, si.si_pid == p);
    printf("pidfd_send_signal reaped: %s\n", err(raw_syscall4(SYS_pidfd_send_signal, pfd, SIGTERM, 0, 0)));
    close(pfd);
    close(fds[1]);
    printf("pidfd_open bad flags: %s\n", err(raw_syscall2(SYS_pidfd_open, getpid(), 1)));
    printf("pidfd_open none: %s\n", err(raw_syscall2(SYS_pidfd_open, 0x3fffff00, 0)));
}

static void rusage_of_children(void)
{
    pid_t p = fork();
    if (p == 0) {
        for (volatile long i = 0; i < 3000000; i++)
            ;
        _exit(0);
    }
    struct rusage ru;
    int st;
    memset(&ru, 0xff, sizeof ru);
    long r = wait4(p, &st, 0, &ru);
    printf("wait4 rusage: %d, utime sane %d\n", r == p,
           ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_sec < 100 && ru.ru_utime.tv_usec < 1000000);
    getrusage(RUSAGE_CHILDREN, &ru);
    printf("RUSAGE_CHILDREN counts it: %d\n", ru.ru_utime.tv_sec > 0 || ru.ru_utime.tv_usec > 0);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "sleep") == 0) {
        /* a child sleeps a second while its parent waits in wait4 */
        pid_t p = fork();
        if (p == 0) {
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
            _exit(2);
        }
        int st;
        waitpid(p, &st, 0);
        printf("slept, code %d\n", WEXITSTATUS(st));
        return 0;
    }
    exit_codes();
    killed();
    sigchld_info();
    nohang();
    errors();
    zombie_and_kill();
    clone_flags();
    inherit();
    vforks();
    orphans();
    ignored();
    pidfds();
    rusage_of_children();
    printf("done\n");
    return 0;
}
