/*
 * sigio.c - O_ASYNC: SIGIO to a file's owner when a pipe, a socketpair or a UDP
 * or TCP socket becomes readable (or a pipe's writer gets room), F_SETSIG's signal with
 * its siginfo (si_code, si_band, si_fd), owners by process, process group and
 * thread (F_SETOWN_EX), and the fcntl commands' errors.  Output is the same for
 * any pid.  (tests/test_sigio.py)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

static volatile int sigio_count;
static volatile int info_count, info_signo, info_code, info_fd;
static volatile long info_band;

static void on_sigio(int sig)
{
    (void)sig;
    sigio_count++;
}

static void on_info(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    info_count++;
    info_signo = sig;
    info_code = si->si_code;
    info_fd = si->si_fd;
    info_band = si->si_band;
}

static long fc(int fd, long cmd, long arg)
{
    return raw_syscall3(SYS_fcntl, fd, cmd, arg);
}

static void async_on(int fd, long owner)
{
    long fl = fc(fd, F_GETFL, 0);
    printf("  setown %ld setfl %ld", fc(fd, F_SETOWN, owner), fc(fd, F_SETFL, fl | O_ASYNC));
    printf(" getfl-async %d getown-ok %d\n", !!(fc(fd, F_GETFL, 0) & O_ASYNC),
           fc(fd, F_GETOWN, 0) == owner);
}

static void say(const char *what)
{
    printf("  %-34s sigio=%d\n", what, sigio_count);
}

int main(void)
{
    char buf[64];
    int p[2], sv[2];
    setvbuf(stdout, NULL, _IONBF, 0);
    setpgid(0, 0);          /* the group owner's signals reach this process alone */
    signal(SIGIO, on_sigio);

    printf("pipe, O_ASYNC on the read end:\n");
    pipe(p);
    async_on(p[0], getpid());
    say("before any write");
    write(p[1], "abc", 3);
    say("after a write");
    write(p[1], "de", 2);
    say("after a second write");
    read(p[0], buf, sizeof buf);
    say("after a read (not a writer)");
    fc(p[0], F_SETFL, fc(p[0], F_GETFL, 0) & ~O_ASYNC);
    write(p[1], "f", 1);
    say("O_ASYNC off, a write");
    read(p[0], buf, sizeof buf);

    printf("pipe, O_ASYNC on the write end:\n");
    async_on(p[1], getpid());
    sigio_count = 0;
    write(p[1], "gh", 2);
    say("after a write");
    read(p[0], buf, sizeof buf);
    say("after a read (room)");
    close(p[0]);
    close(p[1]);

    printf("pipe, owner the process group:\n");
    pipe(p);
    async_on(p[0], -getpgrp());
    sigio_count = 0;
    write(p[1], "x", 1);
    say("after a write");
    close(p[0]);
    close(p[1]);

    printf("socketpair, O_ASYNC on one end:\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    async_on(sv[1], getpid());
    sigio_count = 0;
    write(sv[0], "hello", 5);
    say("after the peer writes");
    read(sv[1], buf, sizeof buf);
    say("after reading it");
    write(sv[1], "back", 4);
    say("after writing to the peer");
    close(sv[0]);
    say("after the peer closes");
    close(sv[1]);

    printf("UDP socket on 127.0.0.1:\n");
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    bind(u, (struct sockaddr *)&a, sizeof a);
    getsockname(u, (struct sockaddr *)&a, &alen);
    async_on(u, getpid());
    sigio_count = 0;
    sendto(u, "dg", 2, 0, (struct sockaddr *)&a, sizeof a);
    say("after a datagram to itself");
    close(u);

    printf("TCP on 127.0.0.1:\n");
    int l = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = 0;
    alen = sizeof a;
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 4);
    getsockname(l, (struct sockaddr *)&a, &alen);
    async_on(l, getpid());
    sigio_count = 0;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    struct pollfd pf = {.fd = l, .events = POLLIN};
    poll(&pf, 1, 5000);
    say("listener, after a connect");
    int s = accept(l, NULL, NULL);
    async_on(s, getpid());
    sigio_count = 0;
    write(c, "tcp", 3);
    pf.fd = s;
    poll(&pf, 1, 5000);
    say("accepted, after the peer writes");
    close(c);
    close(s);
    close(l);

    printf("F_SETSIG SIGRTMIN+1 with SA_SIGINFO:\n");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    pipe(p);
    printf("  getsig %ld", fc(p[0], F_GETSIG, 0));
    printf(" setsig %ld", fc(p[0], F_SETSIG, SIGRTMIN + 1));
    printf(" getsig-rt %d\n", fc(p[0], F_GETSIG, 0) == SIGRTMIN + 1);
    async_on(p[0], getpid());
    sigio_count = 0;
    write(p[1], "y", 1);
    printf("  info=%d signo-rt=%d code=%d fd-ok=%d band=%#lx sigio=%d\n", info_count,
           info_signo == SIGRTMIN + 1, info_code, info_fd == p[0], info_band, sigio_count);
    fc(p[1], F_SETSIG, SIGUSR1);
    async_on(p[1], getpid());
    read(p[0], buf, sizeof buf);
    printf("  writer: info=%d signo-usr1=%d code=%d fd-ok=%d band=%#lx\n", info_count,
           info_signo == SIGUSR1, info_code, info_fd == p[1], info_band);
    close(p[0]);
    close(p[1]);

    printf("F_SETOWN_EX:\n");
    pipe(p);
    struct f_owner_ex ex = {.type = F_OWNER_TID, .pid = (pid_t)raw_syscall0(SYS_gettid)};
    printf("  tid: %ld", fc(p[0], F_SETOWN_EX, (long)&ex));
    memset(&ex, 0, sizeof ex);
    printf(" get %ld", fc(p[0], F_GETOWN_EX, (long)&ex));
    printf(" type %d pid-ok %d", ex.type, ex.pid == (pid_t)raw_syscall0(SYS_gettid));
    printf(" getown-ok %d\n", fc(p[0], F_GETOWN, 0) == raw_syscall0(SYS_gettid));
    ex.type = F_OWNER_PGRP;
    ex.pid = getpgrp();
    printf("  pgrp: %ld", fc(p[0], F_SETOWN_EX, (long)&ex));
    printf(" getown-ok %d", fc(p[0], F_GETOWN, 0) == -getpgrp());
    memset(&ex, 0, sizeof ex);
    fc(p[0], F_GETOWN_EX, (long)&ex);
    printf(" type %d pid-ok %d\n", ex.type, ex.pid == getpgrp());
    ex.type = F_OWNER_TID;
    ex.pid = (pid_t)raw_syscall0(SYS_gettid);
    fc(p[0], F_SETOWN_EX, (long)&ex);
    fc(p[0], F_SETFL, fc(p[0], F_GETFL, 0) | O_ASYNC);
    sigio_count = 0;
    write(p[1], "z", 1);
    say("thread owner, after a write");
    ex.type = 3;
    printf("  bad type %ld\n", fc(p[0], F_SETOWN_EX, (long)&ex));
    ex.type = F_OWNER_PID;
    ex.pid = -1;
    printf("  negative pid %ld\n", fc(p[0], F_SETOWN_EX, (long)&ex));
    printf("  bad address %ld", fc(p[0], F_SETOWN_EX, 8));
    printf(" %ld\n", fc(p[0], F_GETOWN_EX, 8));
    printf("  setsig 65 %ld", fc(p[0], F_SETSIG, 65));
    printf(" setsig -1 %ld", fc(p[0], F_SETSIG, -1));
    printf(" setsig 64 %ld\n", fc(p[0], F_SETSIG, 64));
    close(p[0]);
    close(p[1]);
    return 0;
}
