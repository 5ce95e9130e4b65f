/* More of what strace prints from memory, compared with `strace -f` of the same
 * binary (tests/test_strace_more.py): wait4's struct rusage, clone3's bytes past
 * the 88 of struct clone_args, the siginfo of a SIGIO a file sends through
 * F_SETSIG (si_code POLL_IN, si_band, si_fd), fcntl's arguments and results by
 * command, open flags (strace's order, FASYNC, O_SYNC over O_DSYNC), and poll's,
 * ppoll's, select's and pselect6's pollfds, fd sets and what they return, epoll's
 * events. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int got_code, got_fd;
static volatile long got_band;

static void on_io(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    got_code = si->si_code;
    got_band = si->si_band;
    got_fd = si->si_fd;
}

/* struct clone_args and what follows it */
static struct {
    uint64_t fields[11];
    unsigned char tail[200];
} cl;

static void clone3_sized(const char *what, long size)
{
    cl.fields[4] = SIGCHLD;             /* exit_signal */
    long r = syscall(SYS_clone3, &cl, size);
    if (r == 0)
        _exit(0);
    if (r > 0)
        waitpid(r, NULL, 0);
    printf("clone3 %s: %s\n", what, r > 0 ? "child" : strerror(errno));
}

/* fcntl's commands, each printed by what its argument and result are */
static void fcntls(int fd)
{
    static const long calls[][2] = {
        { F_GETFL, 0 }, { F_GETFD, 0 }, { F_SETFD, FD_CLOEXEC }, { F_GETFD, 0 },
        { F_SETFD, 3 }, { F_SETFD, 0 }, { F_GETSIG, 0 }, { F_SETSIG, 36 }, { F_GETSIG, 0 },
        { F_SETSIG, 0 }, { F_GETSIG, 0 }, { F_SETSIG, 99 }, { F_SETSIG, -1 },
        { F_SETFL, O_NONBLOCK | O_APPEND }, { F_GETFL, 0 }, { F_SETFL, 0 },
        { F_DUPFD_CLOEXEC, 200 }, { F_GETPIPE_SZ, 0 }, { F_SETPIPE_SZ, 8192 },
        { 12345, 7 }, { F_SETLK, 8 }, { F_GETLK, 8 }, { F_SETOWN_EX, 8 }, { F_DUPFD, -1 },
    };
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++)
        printf("fcntl %ld: %ld\n", calls[i][0], syscall(SYS_fcntl, fd, calls[i][0], calls[i][1]));
    printf("fcntl bad fd: %ld\n", syscall(SYS_fcntl, 99, F_GETFL));
    struct f_owner_ex owner = { F_OWNER_PID, getpid() };
    printf("F_SETOWN_EX: %ld\n", syscall(SYS_fcntl, fd, F_SETOWN_EX, &owner));
    memset(&owner, 0, sizeof owner);
    long r = syscall(SYS_fcntl, fd, F_GETOWN_EX, &owner);
    printf("F_GETOWN_EX: %ld, type %d\n", r, owner.type);

    int m = syscall(SYS_memfd_create, "tracemore", 2 /* MFD_ALLOW_SEALING */);
    printf("seals: %ld", syscall(SYS_fcntl, m, F_GET_SEALS));
    printf(" %ld", syscall(SYS_fcntl, m, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | 0x100));
    printf(" %ld", syscall(SYS_fcntl, m, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK));
    printf(" %ld\n", syscall(SYS_fcntl, m, F_GET_SEALS));
    struct flock fl = { F_WRLCK, SEEK_SET, 10, 20, 0 };
    printf("F_SETLK: %ld\n", syscall(SYS_fcntl, m, F_SETLK, &fl));
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_CUR;
    r = syscall(SYS_fcntl, m, F_GETLK, &fl);
    printf("F_GETLK: %ld, type %d\n", r, fl.l_type);
    fl.l_type = 7;
    printf("F_SETLKW bad type: %ld\n", syscall(SYS_fcntl, m, F_SETLKW, &fl));
    close(m);
}

/* poll, ppoll, select and pselect6: the pollfds and sets at entry, what came back */
static void polls(void)
{
    int p[2], q[2];
    if (pipe(p) != 0 || pipe(q) != 0 || write(q[1], "x", 1) != 1)
        return;
    struct pollfd fds[4] = { { p[0], POLLIN, 0 }, { q[0], POLLIN | POLLPRI, 0 },
                             { -1, POLLIN, 0 }, { p[1], POLLOUT, 0 } };
    printf("poll: %ld", syscall(SYS_poll, fds, 4, 5000));
    printf(" %ld", syscall(SYS_poll, fds, 1, 0));
    printf(" %ld", syscall(SYS_poll, 8L, 1, 0));
    printf(" %ld", syscall(SYS_poll, NULL, 0, 0));
    struct pollfd bad = { 99, POLLIN, 0 };
    printf(" %ld\n", syscall(SYS_poll, &bad, 1, 0));
    struct timespec ts = { 5, 0 };
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    printf("ppoll: %ld", syscall(SYS_ppoll, fds, 2, &ts, NULL, 8L));
    printf(" %ld\n", syscall(SYS_ppoll, fds, 2, NULL, &set, 8L));
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(q[0], &r);
    FD_SET(p[1], &w);
    struct timeval tv = { 5, 0 };
    printf("select: %ld", syscall(SYS_select, 9, &r, &w, NULL, &tv));
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    printf(" %ld", syscall(SYS_select, 9, &r, NULL, NULL, &tv));
    FD_ZERO(&r);
    FD_SET(q[0], &r);
    printf(" %ld\n", syscall(SYS_select, 9, &r, NULL, NULL, NULL));
    struct { const sigset_t *ss; size_t len; } arg = { &set, 8 };
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    FD_SET(q[0], &r);
    ts.tv_sec = 5;
    ts.tv_nsec = 0;
    printf("pselect6: %ld\n", syscall(SYS_pselect6, 9, &r, NULL, NULL, &ts, &arg));

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { EPOLLIN | EPOLLET, { .u64 = 0x1122334455667788ULL } };
    printf("epoll_ctl: %ld", syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, q[0], &ev));
    ev.events = EPOLLOUT;
    ev.data.fd = p[1];
    printf(" %ld", syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[1], &ev));
    printf(" %ld", syscall(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, p[1], NULL));
    printf(" %ld", syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], 8L));
    printf(" %ld\n", syscall(SYS_epoll_ctl, ep, 7, p[0], &ev));
    struct epoll_event out[4];
    printf("epoll_wait: %ld", syscall(SYS_epoll_wait, ep, out, 4, 0));
    printf(" %ld", syscall(SYS_epoll_wait, ep, out, 4, 0));
    printf(" %ld", syscall(SYS_epoll_pwait, ep, out, 4, 0, &set, 8L));
    printf(" %ld\n", syscall(SYS_epoll_wait, ep, 8L, 4, 0));
    close(ep);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

/* open's flags in strace's order, on a path that does not exist */
static void open_flags(void)
{
    static const long flags[] = {
        O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |
            O_ASYNC | O_DIRECT | 0100000 | O_NOFOLLOW | O_NOATIME | O_CLOEXEC,
        O_RDONLY | O_SYNC | O_PATH | O_ASYNC,
        O_RDWR | O_ASYNC | 0100000 | 0x40000000,
        O_RDONLY | O_NONBLOCK | O_SYNC | O_DIRECT | O_PATH | O_CLOEXEC | O_DIRECTORY,
        3 | O_CREAT,
    };
    for (unsigned i = 0; i < sizeof flags / sizeof flags[0]; i++)
        printf("openat %u: %ld\n", i, syscall(SYS_openat, AT_FDCWD, "/nonexistent/tracemore",
                                              flags[i], i == 4 ? 0 : 0644));
}

int main(void)
{
    struct rusage ru;
    int status;
    setvbuf(stdout, NULL, _IONBF, 0);

    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    long r = syscall(SYS_wait4, pid, &status, 0, &ru);
    printf("wait4 rusage: %s, status %#x\n", r == pid ? "reaped" : strerror(errno), status);
    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    memset(&ru, 0, sizeof ru);
    r = syscall(SYS_wait4, pid, &status, WNOHANG, &ru);
    printf("wait4 WNOHANG: %ld\n", r);
    kill(pid, SIGKILL);
    r = syscall(SYS_wait4, pid, &status, 0, &ru);
    printf("wait4 killed: %s\n", r == pid ? "reaped" : strerror(errno));
    r = syscall(SYS_wait4, -1, &status, 0, &ru);
    printf("wait4 none: %s\n", r < 0 ? strerror(errno) : "a child");

    clone3_sized("96 zero", 96);
    memcpy(cl.tail, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
    clone3_sized("96 nonzero", 96);
    memset(cl.tail, 0, sizeof cl.tail);
    cl.tail[150 - 88] = 0x5a;
    clone3_sized("200 nonzero at 150", 200);
    memset(cl.tail, 0, sizeof cl.tail);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_io;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGIO, &sa, NULL);
    int p[2];
    if (pipe(p) != 0)
        return 1;
    fcntl(p[0], F_SETOWN, getpid());
    fcntl(p[0], F_SETSIG, SIGIO);
    fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);
    if (write(p[1], "x", 1) != 1)
        return 1;
    printf("SIGIO: si_code %d, si_band %ld, si_fd %d (read end %d)\n", got_code, got_band,
           got_fd, p[0]);
    fcntls(p[0]);
    open_flags();
    polls();
    return 0;
}
