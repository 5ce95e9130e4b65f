/*
 * sockfork.c - AF_UNIX sockets between a parent and its child: a socketpair kept
 * across fork (a blocking read in the parent woken by the child's write, the
 * answer back), a pipe's write end passed to the child with SCM_RIGHTS, the
 * child's credentials seen with SO_PASSCRED, EOF and EPIPE once the child is
 * gone, and a listening socket the child connects to. Only the parent prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -%s\n", what, errno_name(errno) ? errno_name(errno) : "?");
    else
        printf("%s: %ld\n", what, r);
}

static int recv_fd(int sock)
{
    char data[4], ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {data, sizeof(data)};
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof(ctl);
    if (recvmsg(sock, &m, 0) <= 0)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    int fd = -1;
    if (c && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

static void send_fd(int sock, int fd)
{
    char ctl[CMSG_SPACE(sizeof(int))];
    memset(ctl, 0, sizeof(ctl));
    struct iovec iov = {"fd", 2};
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof(ctl);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    sendmsg(sock, &m, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    int sv[2];
    show("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int on = 1;
    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
    pid_t child = fork();
    if (child == 0) {
        close(sv[0]);
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);               /* the parent is already reading */
        write(sv[1], "ping", 4);
        char buf[8] = {0};
        read(sv[1], buf, 4);               /* not into the next message, with the fd */
        int fd = recv_fd(sv[1]);
        write(fd, buf, 4);                  /* "pong" into the parent's pipe */
        close(fd);
        _exit(7);
    }
    close(sv[1]);
    char buf[64] = {0}, ctl[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = {buf, sizeof(buf)};
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof(ctl);
    show("parent recvmsg (waits for the child)", recvmsg(sv[0], &m, 0));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    struct ucred uc = {0, 0, 0};
    if (c && c->cmsg_type == SCM_CREDENTIALS)
        memcpy(&uc, CMSG_DATA(c), sizeof(uc));
    printf("data %s, sender is the child: %d\n", buf, uc.pid == child);
    show("parent write", write(sv[0], "pong", 4));
    int p[2];
    pipe(p);
    send_fd(sv[0], p[1]);
    close(p[1]);
    memset(buf, 0, sizeof(buf));
    show("read the pipe the child wrote", read(p[0], buf, sizeof(buf)));
    printf("pipe data %s\n", buf);
    int status;
    waitpid(child, &status, 0);
    printf("child exit %d\n", WEXITSTATUS(status));
    show("read after the child exited", read(sv[0], buf, sizeof(buf)));
    show("write after the child exited", write(sv[0], "x", 1));
    close(sv[0]);
    close(p[0]);

    /* a listener the child connects to, by abstract name */
    struct sockaddr_un a;
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "pyunik-sockfork-%d", getpid());
    socklen_t alen = sizeof(sa_family_t) + 1 + n;
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    show("bind", bind(l, (struct sockaddr *)&a, alen));
    show("listen", listen(l, 1));
    child = fork();
    if (child == 0) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&a, alen) < 0)
            _exit(1);
        write(s, "hello from the child", 20);
        _exit(0);
    }
    int s = accept(l, NULL, NULL);
    show("accepted", s >= 0 ? 0 : -1);
    long got = 0, r;
    while ((r = read(s, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += r;
    buf[got] = 0;
    printf("from the child: %s\n", buf);
    waitpid(child, &status, 0);
    printf("child exit %d\n", WEXITSTATUS(status));
    printf("done\n");
    return 0;
}
