/*
 * tcpurg.c - TCP urgent data over 127.0.0.1 (Linux's BSD-style out-of-band byte):
 * send(MSG_OOB) makes the last byte urgent; the receiver's reads stop at the mark
 * (SIOCATMARK), recv(MSG_OOB) returns the byte once (MSG_PEEK leaves it, EINVAL
 * after, and when there is none), an ordinary read at the mark skips it, POLLPRI
 * says it is there, FIONREAD counts it; with SO_OOBINLINE it stays in the stream and
 * recv(MSG_OOB) is EINVAL; a listener's recv(MSG_OOB) is ENOTCONN; UDP's send
 * MSG_OOB is EOPNOTSUPP. F_SETOWN makes the receiving process (or its group) the
 * socket's owner, which each new urgent pointer sends SIGURG (si_code SI_KERNEL). Client and server are two sockets of this one process;
 * after each send the program sleeps 50 ms for the bytes to arrive.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

static const char *err(void)
{
    static char buf[32];
    const char *name = errno_name(errno);
    if (name)
        return name;
    snprintf(buf, sizeof buf, "errno%d", errno);
    return buf;
}

static volatile int urgs, urg_code;

static void on_urg(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)ctx;
    urgs++;
    urg_code = si->si_code;
}

static void sigurgs(void)
{
    printf("  SIGURG: %d", urgs);
    if (urgs)
        printf(" (si_code %d)", urg_code);
    printf("\n");
    urgs = 0;
}

static void owner(int fd, long who, const char *what)
{
    long r = raw_syscall3(SYS_fcntl, fd, F_SETOWN, who);
    if (r < 0)
        printf("F_SETOWN %s: %s\n", what, errno_name(-r));
    else
        printf("F_SETOWN %s: ok\n", what);
}

static void mark(int fd)
{
    int at = -1;
    if (ioctl(fd, SIOCATMARK, &at) < 0)
        printf("  SIOCATMARK: %s\n", err());
    else
        printf("  SIOCATMARK: %d\n", at);
}

static void inq(int fd)
{
    int n = -1;
    ioctl(fd, FIONREAD, &n);
    printf("  FIONREAD: %d\n", n);
}

static void rd(int fd, int flags, const char *what)
{
    char buf[64];
    long n = recv(fd, buf, sizeof buf, flags | MSG_DONTWAIT);
    if (n < 0)
        printf("  %s: %s\n", what, err());
    else
        printf("  %s: %ld \"%.*s\"\n", what, n, (int)n, buf);
}

static void ready(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLPRI, 0};
    int r = poll(&p, 1, 2000);
    printf("  poll: %d%s%s\n", r, p.revents & POLLIN ? " POLLIN" : "",
           p.revents & POLLPRI ? " POLLPRI" : "");
}

/* Let what was sent over loopback arrive (n: how many bytes, for the reader). */
static void settle(int fd, int n)
{
    (void)fd, (void)n;
    usleep(50000);
}

static void three(int c, const char *a, const char *oob, const char *b)
{
    send(c, a, strlen(a), 0);
    if (send(c, oob, strlen(oob), MSG_OOB) < 0)
        printf("  send MSG_OOB: %s\n", err());
    send(c, b, strlen(b), 0);
}

int main(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 4);
    getsockname(l, (struct sockaddr *)&a, &len);
    rd(l, MSG_OOB, "listener recv MSG_OOB");
    int c = socket(AF_INET, SOCK_STREAM, 0);
    rd(c, MSG_OOB, "unconnected recv MSG_OOB");
    connect(c, (struct sockaddr *)&a, sizeof a);
    int s = accept(l, NULL, NULL);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_urg;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGURG, &sa, NULL);
    printf("F_GETOWN: %ld\n", raw_syscall3(SYS_fcntl, s, F_GETOWN, 0));
    owner(s, 99999999, "a pid no task has");
    owner(s, INT_MIN, "INT_MIN");
    owner(s, getpid(), "getpid()");
    printf("F_GETOWN is getpid(): %d\n", raw_syscall3(SYS_fcntl, s, F_GETOWN, 0) == getpid());

    printf("no urgent data:\n");
    rd(s, MSG_OOB, "recv MSG_OOB");
    mark(s);

    printf("\"abc\", \"X\" urgent, \"def\":\n");
    three(c, "abc", "X", "def");
    settle(s, 7);
    sigurgs();
    ready(s);
    inq(s);
    mark(s);
    rd(s, 0, "recv");
    mark(s);
    rd(s, MSG_OOB | MSG_PEEK, "recv MSG_OOB|MSG_PEEK");
    rd(s, MSG_OOB, "recv MSG_OOB");
    rd(s, MSG_OOB, "recv MSG_OOB again");
    ready(s);
    mark(s);
    rd(s, 0, "recv");
    mark(s);

    printf("\"12\", \"Y\" urgent, \"34\", read past the mark without MSG_OOB:\n");
    three(c, "12", "Y", "34");
    settle(s, 5);
    sigurgs();
    rd(s, 0, "recv");
    rd(s, 0, "recv");
    rd(s, MSG_OOB, "recv MSG_OOB");
    mark(s);

    printf("several urgent bytes: \"pq\" urgent, \"r\", \"s\" urgent:\n");
    send(c, "pq", 2, MSG_OOB);
    send(c, "r", 1, 0);
    send(c, "s", 1, MSG_OOB);
    settle(s, 4);
    sigurgs();
    rd(s, MSG_OOB, "recv MSG_OOB");
    rd(s, 0, "recv");
    mark(s);
    rd(s, 0, "recv");
    rd(s, MSG_OOB, "recv MSG_OOB");

    printf("recvmsg MSG_OOB into no buffer:\n");
    send(c, "Q", 1, MSG_OOB);
    settle(s, 1);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    long n = recvmsg(s, &m, MSG_OOB);
    printf("  recvmsg: %ld, flags%s%s\n", n, m.msg_flags & MSG_OOB ? " MSG_OOB" : "",
           m.msg_flags & MSG_TRUNC ? " MSG_TRUNC" : "");
    char one_byte;
    struct iovec iov = {&one_byte, 1};
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov, m.msg_iovlen = 1;
    n = recvmsg(s, &m, MSG_OOB);
    printf("  recvmsg again: %ld '%c', flags%s%s\n", n, n > 0 ? one_byte : '-',
           m.msg_flags & MSG_OOB ? " MSG_OOB" : "", m.msg_flags & MSG_TRUNC ? " MSG_TRUNC" : "");
    rd(s, 0, "recv");

    owner(s, -getpgrp(), "-getpgrp()");
    printf("F_GETOWN is -getpgrp(): %d\n", raw_syscall3(SYS_fcntl, s, F_GETOWN, 0) == -getpgrp());
    printf("SO_OOBINLINE, \"ab\", \"Z\" urgent, \"cd\":\n");
    setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
    three(c, "ab", "Z", "cd");
    settle(s, 5);
    sigurgs();
    ready(s);
    rd(s, MSG_OOB, "recv MSG_OOB");
    rd(s, 0, "recv");
    mark(s);
    rd(s, 0, "recv");
    mark(s);

    printf("after the peer closed:\n");
    close(c);
    usleep(50000);
    rd(s, MSG_OOB, "recv MSG_OOB");
    int off = 0;
    setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &off, sizeof off);
    rd(s, MSG_OOB, "recv MSG_OOB without SO_OOBINLINE");
    rd(s, 0, "recv");
    close(s);
    close(l);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    a.sin_port = htons(9);
    printf("UDP send MSG_OOB: %s\n",
           sendto(u, "x", 1, MSG_OOB, (struct sockaddr *)&a, sizeof a) < 0 ? err() : "ok");
    return 0;
}
