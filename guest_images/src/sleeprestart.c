/* Sleeps and waits that a stop signal interrupts and SIGCONT resumes.
 *
 * Each call waits 1 s on its own (a pipe that never becomes ready); a child stops
 * the process with SIGSTOP at 0.5 s and continues it with SIGCONT at 0.8 s, and
 * exits after the call has ended (at 1.2 s).
 * Linux resumes nanosleep and poll through restart_syscall with what was left, and
 * select, ppoll and pselect6 with the time left written back into their timeout, a
 * timed FUTEX_WAIT through restart_syscall until its first deadline, so each ends
 * about 1 s after it began; epoll_wait, rt_sigtimedwait and semtimedop fail with
 * EINTR at the continue (man 7 signal). Prints each call's result and whether it ended early (before
 * 0.95 s), on time or late (after 1.4 s: the whole time waited again).
 *
 * With an argument "trace", each call waits 0.4 s, stopped from 0.1 s to 0.2 s,
 * the child exiting at 0.6 s, and nothing is printed: for the lines of a strace
 * of it (tests/test_sleeprestart.py). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000L
#define FUTEX_WAIT_PRIVATE 128      /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG (linux/futex.h) */
static long wait_ms = 1000, stop_at = 500 * MS, cont_at = 800 * MS, exit_at = 1200 * MS;
static int pipefd[2];

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void nap(long ns)
{
    struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* A child that stops its parent at stop_at and continues it at cont_at (from t0),
 * and exits at exit_at. */
static pid_t stopper(long t0)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        nap(t0 + stop_at - now_ns());
        kill(parent, SIGSTOP);
        nap(t0 + cont_at - now_ns());
        kill(parent, SIGCONT);
        nap(t0 + exit_at - now_ns());
        _exit(0);
    }
    return pid;
}

static long call(int which, struct timespec *ts, struct timeval *tv)
{
    struct timespec req = { wait_ms / 1000, wait_ms % 1000 * MS };
    struct pollfd pfd = { pipefd[0], POLLIN, 0 };
    fd_set set;
    FD_ZERO(&set);
    FD_SET(pipefd[0], &set);
    switch (which) {
    case 0:
        return syscall(SYS_nanosleep, &req, ts);
    case 1:
        return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, ts);
    case 2: {
        struct timespec end;
        clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_nsec += req.tv_nsec;
        end.tv_sec += req.tv_sec + end.tv_nsec / 1000000000L;
        end.tv_nsec %= 1000000000L;
        return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &end, ts);
    }
    case 3:
        return syscall(SYS_poll, &pfd, 1, wait_ms);
    case 4:
        *ts = req;
        return syscall(SYS_ppoll, &pfd, 1, ts, NULL, 8L);
    case 5:
        tv->tv_sec = req.tv_sec;
        tv->tv_usec = req.tv_nsec / 1000;
        return syscall(SYS_select, pipefd[0] + 1, &set, NULL, NULL, tv);
    case 6:
        *ts = req;
        return syscall(SYS_pselect6, pipefd[0] + 1, &set, NULL, NULL, ts, NULL);
    case 7: {
        int ep = epoll_create1(0);
        struct epoll_event ev = { EPOLLIN, { 0 } }, out;
        epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &ev);
        long r = syscall(SYS_epoll_wait, ep, &out, 1, wait_ms);
        int e = errno;
        close(ep);
        errno = e;
        return r;
    }
    case 8: {
        static int word;
        return syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &req, NULL, 0);
    }
    case 9: {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        return syscall(SYS_rt_sigtimedwait, &set, NULL, &req, 8L);
    }
    default: {
        int id = semget(IPC_PRIVATE, 1, 0600);
        struct sembuf op = { 0, -1, 0 };
        long r = syscall(SYS_semtimedop, id, &op, 1, &req);
        int e = errno;
        semctl(id, 0, IPC_RMID);
        errno = e;
        return r;
    }
    }
}

static const char *const names[] = { "nanosleep", "clock_nanosleep", "clock_nanosleep abs",
                                     "poll", "ppoll", "select", "pselect6", "epoll_wait",
                                     "futex", "rt_sigtimedwait", "semtimedop" };

int main(int argc, char **argv)
{
    int trace = argc > 1 && strcmp(argv[1], "trace") == 0;
    if (trace) {
        wait_ms = 400;
        stop_at = 100 * MS;
        cont_at = 200 * MS;
        exit_at = 600 * MS;
    }
    if (pipe(pipefd) != 0)
        return 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int which = 0; which < 11; which++) {
        struct timespec ts = { 7, 7 };
        struct timeval tv;
        long t0 = now_ns();
        pid_t child = stopper(t0);
        errno = 0;
        long r = call(which, &ts, &tv);
        int e = errno;
        long took = now_ns() - t0;
        waitpid(child, NULL, 0);
        if (trace)
            continue;
        printf("%s: %ld %s, %s", names[which], r,
               e == 0 ? "ok" : e == EINTR ? "EINTR" : e == ETIMEDOUT ? "ETIMEDOUT" : strerror(e),
               took < 950 * MS ? "early" : took <= 1400 * MS ? "on time" : "late");
        if (which == 0 || which == 1)
            printf(", rem %s", ts.tv_sec == 7 && ts.tv_nsec == 7 ? "untouched" : "written");
        if (which == 4 || which == 6)
            printf(", timeout left %ld.%09ld", (long)ts.tv_sec, ts.tv_nsec);
        if (which == 5)
            printf(", timeout left %ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
        printf("\n");
    }
    return 0;
}
