/*
 * epoll.c - epoll, poll, select and eventfd compared with Linux: level and edge
 * triggering, EPOLLONESHOT, registrations that follow the open file (dup, close),
 * nesting, epoll_ctl's errors, an echo between threads through a pipe and an
 * eventfd, EFD_SEMAPHORE, and the time select/ppoll/pselect6 write back.
 * Output is deterministic; every line is compared with the native run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s = -%s\n", what, errno_name(-r));
    else
        printf("%s = %ld\n", what, r);
}

/* epoll_wait through the raw call: n events, their bits and data printed */
static long wait_print(const char *what, int ep, int timeout)
{
    struct epoll_event ev[8];
    long n = raw_syscall4(SYS_epoll_wait, ep, ev, 8, timeout);
    printf("%s: %ld", what, n);
    for (long i = 0; i < n; i++)
        printf(" [%#x %llu]", ev[i].events, (unsigned long long)ev[i].data.u64);
    printf("\n");
    return n;
}

static long ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return raw_syscall4(SYS_epoll_ctl, ep, op, fd, &ev);
}

static void level_and_edge(void)
{
    int efd = eventfd(0, EFD_NONBLOCK);
    int lt = epoll_create1(EPOLL_CLOEXEC), et = epoll_create1(0);
    show("add lt", ctl(lt, EPOLL_CTL_ADD, efd, EPOLLIN, 1));
    show("add et", ctl(et, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 2));
    wait_print("lt empty", lt, 0);
    wait_print("et empty", et, 0);
    uint64_t one = 1;
    write(efd, &one, 8);
    wait_print("lt after write", lt, 0);
    wait_print("lt again", lt, 0);
    wait_print("et after write", et, 0);
    wait_print("et again", et, 0);
    write(efd, &one, 8);
    wait_print("et after second write", et, 0);
    uint64_t v;
    read(efd, &v, 8);
    printf("read %llu\n", (unsigned long long)v);
    wait_print("lt drained", lt, 0);
    close(lt);
    close(et);
    close(efd);
}

static void pipe_edges(void)
{
    int p[2];
    pipe2(p, O_NONBLOCK);
    int ep = epoll_create(1);
    show("add read end et", ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 10));
    show("add write end lt", ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 11));
    wait_print("pipe start", ep, 0);
    write(p[1], "abc", 3);
    wait_print("pipe after write", ep, 0);
    char buf[8];
    read(p[0], buf, 1);
    wait_print("pipe after partial read", ep, 0);
    write(p[1], "d", 1);
    wait_print("pipe after second write", ep, 0);
    close(p[1]);
    wait_print("pipe writer closed", ep, 0);
    close(p[0]);
    close(ep);
}

static void oneshot(void)
{
    int efd = eventfd(0, EFD_NONBLOCK);
    int ep = epoll_create1(0);
    show("add oneshot", ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLONESHOT, 7));
    uint64_t one = 1;
    write(efd, &one, 8);
    wait_print("oneshot first", ep, 0);
    wait_print("oneshot disarmed", ep, 0);
    write(efd, &one, 8);
    wait_print("oneshot still disarmed", ep, 0);
    show("mod rearm", ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLONESHOT, 8));
    wait_print("oneshot rearmed", ep, 0);
    close(ep);
    close(efd);
}

static void follows_the_file(void)
{
    int efd = eventfd(1, EFD_NONBLOCK);
    int ep = epoll_create1(0);
    int dupfd = dup(efd);
    show("add", ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 3));
    close(efd);
    wait_print("fd closed, dup open", ep, 0);
    show("del closed fd", ctl(ep, EPOLL_CTL_DEL, efd, 0, 0));
    show("del by dup", ctl(ep, EPOLL_CTL_DEL, dupfd, 0, 0));
    show("add dup", ctl(ep, EPOLL_CTL_ADD, dupfd, EPOLLIN, 4));
    close(dupfd);
    wait_print("all closed", ep, 0);
    close(ep);
}

static void errors(void)
{
    int ep = epoll_create1(0), ep2 = epoll_create1(0);
    int efd = eventfd(0, 0);
    int file = open("/proc/self/exe", O_RDONLY);
    show("create size 0", raw_syscall1(SYS_epoll_create, 0));
    show("create1 bad flag", raw_syscall1(SYS_epoll_create1, 1));
    show("add twice 1", ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
    show("add twice 2", ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0));
    show("mod missing", ctl(ep2, EPOLL_CTL_MOD, efd, EPOLLIN, 0));
    show("del missing", ctl(ep2, EPOLL_CTL_DEL, efd, 0, 0));
    show("bad op", ctl(ep, 99, efd, EPOLLIN, 0));
    show("self", ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
    show("not an epoll", ctl(efd, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
    show("regular file", ctl(ep, EPOLL_CTL_ADD, file, EPOLLIN, 0));
    show("bad fd", ctl(ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0));
    show("bad event ptr", raw_syscall4(SYS_epoll_ctl, ep2, EPOLL_CTL_ADD, efd, 8));
    show("nest", ctl(ep, EPOLL_CTL_ADD, ep2, EPOLLIN, 0));
    show("loop", ctl(ep2, EPOLL_CTL_ADD, ep, EPOLLIN, 0));
    show("exclusive mod", ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLEXCLUSIVE, 0));
    show("exclusive on epoll", ctl(ep2, EPOLL_CTL_ADD, ep, EPOLLIN | EPOLLEXCLUSIVE, 0));
    show("exclusive bad bits", ctl(ep2, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLPRI, 0));
    show("exclusive add", ctl(ep2, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLEXCLUSIVE, 0));
    show("mod of exclusive", ctl(ep2, EPOLL_CTL_MOD, efd, EPOLLIN, 0));
    struct epoll_event ev;
    show("wait maxevents 0", raw_syscall4(SYS_epoll_wait, ep, &ev, 0, 0));
    show("wait not epoll", raw_syscall4(SYS_epoll_wait, efd, &ev, 1, 0));
    show("wait bad fd", raw_syscall4(SYS_epoll_wait, 999, &ev, 1, 0));
    show("pwait bad sigsetsize", raw_syscall6(SYS_epoll_pwait, ep, (long)&ev, 1, 0, (long)&ev, 4));
    close(file);
    close(efd);
    close(ep2);
    close(ep);
}

static void nested(void)
{
    int p[2];
    pipe(p);
    int inner = epoll_create1(0), outer = epoll_create1(0);
    show("inner add", ctl(inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 5));
    show("outer add", ctl(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 6));
    wait_print("outer empty", outer, 0);
    struct pollfd pfd = {.fd = inner, .events = POLLIN};
    show("poll inner empty", poll(&pfd, 1, 0));
    write(p[1], "x", 1);
    wait_print("outer ready", outer, 0);
    show("poll inner ready", poll(&pfd, 1, 0));
    printf("revents %#x\n", pfd.revents);
    wait_print("inner ready", inner, 0);
    close(p[0]);
    close(p[1]);
    close(inner);
    close(outer);
}

/* an echo: the main thread writes into a pipe, the worker waits on it with epoll,
 * reads it and answers by adding to an eventfd the main thread waits on with epoll */
static int echo_pipe[2], echo_efd;

static void *echo_worker(void *arg)
{
    (void)arg;
    int ep = epoll_create1(0);
    ctl(ep, EPOLL_CTL_ADD, echo_pipe[0], EPOLLIN, 1);
    long total = 0;
    for (;;) {
        struct epoll_event ev;
        if (epoll_wait(ep, &ev, 1, -1) != 1)
            break;
        char c;
        if (read(echo_pipe[0], &c, 1) != 1)
            break;
        uint64_t v = (unsigned char)c;
        total += v;
        write(echo_efd, &v, 8);
    }
    close(ep);
    return (void *)total;
}

static void echo(void)
{
    pipe(echo_pipe);
    echo_efd = eventfd(0, 0);
    int ep = epoll_create1(0);
    ctl(ep, EPOLL_CTL_ADD, echo_efd, EPOLLIN | EPOLLET, 2);
    pthread_t th;
    pthread_create(&th, NULL, echo_worker, NULL);
    long sum = 0;
    for (int i = 1; i <= 200; i++) {
        char c = (char)(i % 100 + 1);
        write(echo_pipe[1], &c, 1);
        struct epoll_event ev;
        if (epoll_wait(ep, &ev, 1, 5000) != 1) {
            printf("echo: no answer at %d\n", i);
            break;
        }
        uint64_t v;
        read(echo_efd, &v, 8);
        sum += (long)v;
    }
    close(echo_pipe[1]);
    void *ret;
    pthread_join(th, &ret);
    printf("echo: sum %ld, worker total %ld\n", sum, (long)ret);
    close(echo_pipe[0]);
    close(echo_efd);
    close(ep);
}

static void semaphore(void)
{
    int efd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    uint64_t v;
    for (int i = 0; i < 4; i++)
        show("semaphore read", read(efd, &v, 8) < 0 ? -errno : (long)v);
    close(efd);
}

static void remaining_time(void)
{
    int p[2];
    pipe(p);
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {0, 30000};
    long n = raw_syscall5(SYS_select, p[0] + 1, &r, 0, 0, &tv);
    printf("select timed out %ld, left %ld.%06ld\n", n, (long)tv.tv_sec, (long)tv.tv_usec);
    write(p[1], "x", 1);
    FD_SET(p[0], &r);
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    n = raw_syscall5(SYS_select, p[0] + 1, &r, 0, 0, &tv);
    printf("select ready %ld, most left %d\n", n, tv.tv_sec == 4 && tv.tv_usec > 500000);
    tv.tv_sec = 0;
    tv.tv_usec = 1500000;       /* carried into the seconds */
    n = raw_syscall5(SYS_select, p[0] + 1, &r, 0, 0, &tv);
    printf("select usec over a second %ld, left under 1.5 s %d\n", n,
           tv.tv_sec == 1 && tv.tv_usec > 0);
    struct timeval zero = {0, 0};
    FD_SET(p[0], &r);
    show("select nfds past the fd table", raw_syscall5(SYS_select, 100000, &r, 0, 0, &zero));
    show("select negative nfds", raw_syscall5(SYS_select, -1, &r, 0, 0, &zero));
    tv.tv_sec = 0;
    tv.tv_usec = -1;
    show("select negative usec", raw_syscall5(SYS_select, p[0] + 1, &r, 0, 0, &tv));
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    struct timespec ts = {3, 0};
    n = raw_syscall5(SYS_ppoll, &pfd, 1, &ts, 0, 8);
    printf("ppoll ready %ld, most left %d\n", n, ts.tv_sec == 2 && ts.tv_nsec > 500000000);
    char c;
    read(p[0], &c, 1);
    ts.tv_sec = 0;
    ts.tv_nsec = 20000000;
    n = raw_syscall5(SYS_ppoll, &pfd, 1, &ts, 0, 8);
    printf("ppoll timed out %ld, left %ld.%09ld\n", n, (long)ts.tv_sec, ts.tv_nsec);
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
    n = raw_syscall5(SYS_ppoll, &pfd, 1, &ts, 0, 8);
    printf("ppoll zero %ld, left %ld.%09ld\n", n, (long)ts.tv_sec, ts.tv_nsec);
    /* pselect6 with a mask: the mask holds for the call only */
    sigset_t mask, now;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    struct { const sigset_t *ss; size_t len; } arg = {&mask, 8};
    ts.tv_sec = 0;
    ts.tv_nsec = 10000000;
    FD_SET(p[0], &r);
    n = raw_syscall6(SYS_pselect6, p[0] + 1, (long)&r, 0, 0, (long)&ts, (long)&arg);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("pselect6 %ld, left %ld.%09ld, SIGUSR1 blocked after %d\n", n, (long)ts.tv_sec,
           ts.tv_nsec, sigismember(&now, SIGUSR1));
    arg.len = 4;
    show("pselect6 bad sigsetsize", raw_syscall6(SYS_pselect6, p[0] + 1, (long)&r, 0, 0,
                                                 (long)&ts, (long)&arg));
    show("ppoll bad sigsetsize", raw_syscall5(SYS_ppoll, &pfd, 1, &ts, &mask, 4));
    close(p[0]);
    close(p[1]);
}

/* a signal blocked outside the call but not by its mask interrupts ppoll and
 * epoll_pwait: EINTR, the handler ran, and the old mask is back afterwards */
static volatile int handled;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void *kill_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 50000000}, tick = {0, 1000000};
    nanosleep(&ts, NULL);
    kill(getpid(), SIGUSR1);
    /* the second only once the first was handled (the main thread is past ppoll):
     * sent earlier, on a loaded machine, both could be pending at once and count as
     * one; sent later than the main thread reaches epoll_pwait, it is pending there
     * and ends it at once, as it would arriving during the wait */
    while (!handled)
        nanosleep(&tick, NULL);
    nanosleep(&ts, NULL);
    kill(getpid(), SIGUSR1);
    return NULL;
}

static void signal_during_wait(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr1, empty, now;
    sigemptyset(&usr1);
    sigemptyset(&empty);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);     /* the killer thread inherits it */
    int p[2];
    pipe(p);
    pthread_t th;
    pthread_create(&th, NULL, kill_later, NULL);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    struct timespec ts = {5, 0};
    long n = raw_syscall5(SYS_ppoll, &pfd, 1, &ts, &empty, 8);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("ppoll interrupted %s, handled %d, blocked after %d, time left %d\n",
           n == -EINTR ? "EINTR" : "no", handled, sigismember(&now, SIGUSR1),
           ts.tv_sec >= 3 && ts.tv_sec < 5);
    int ep = epoll_create1(0);
    ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0);
    struct epoll_event ev;
    n = raw_syscall6(SYS_epoll_pwait, ep, (long)&ev, 1, 5000, (long)&empty, 8);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("epoll_pwait interrupted %s, handled %d, blocked after %d\n",
           n == -EINTR ? "EINTR" : "no", handled, sigismember(&now, SIGUSR1));
    pthread_join(th, NULL);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    close(ep);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    level_and_edge();
    pipe_edges();
    oneshot();
    follows_the_file();
    errors();
    nested();
    echo();
    semaphore();
    remaining_time();
    signal_during_wait();
    return 0;
}
