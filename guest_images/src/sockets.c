/*
 * sockets.c - AF_UNIX sockets as a program sees them: socketpair, stream and
 * datagram and seqpacket sockets on paths and abstract names, a stream echo
 * between two threads, SCM_RIGHTS and SCM_CREDENTIALS, options, ioctls, poll,
 * and the errno of each misuse.
 *
 * argv[1] is a scratch directory for the socket files.  One line per check,
 * "what: result", results as a number or -ENAME; nothing printed depends on
 * pids, inode numbers or times (only comparisons of them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

static const char *ename(int e)
{
    switch (e) {
    case 88: return "ENOTSOCK";
    case 90: return "EMSGSIZE";
    case 91: return "EPROTOTYPE";
    case 92: return "ENOPROTOOPT";
    case 93: return "EPROTONOSUPPORT";
    case 94: return "ESOCKTNOSUPPORT";
    case 97: return "EAFNOSUPPORT";
    case 98: return "EADDRINUSE";
    case 99: return "EADDRNOTAVAIL";
    case 104: return "ECONNRESET";
    case 106: return "EISCONN";
    case 107: return "ENOTCONN";
    case 111: return "ECONNREFUSED";
    }
    return errno_name(e);
}

/* A libc call's result: the value, or -ENAME from errno. */
static void show(const char *what, long r)
{
    if (r < 0) {
        const char *n = ename(errno);
        if (n)
            printf("%s: -%s\n", what, n);
        else
            printf("%s: -%d\n", what, errno);
    } else {
        printf("%s: %ld\n", what, r);
    }
}

static volatile int sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

static socklen_t un_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static int intopt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof(v);
    if (getsockopt(fd, level, name, &v, &len) < 0)
        return -1000 - errno;
    return v;
}

static void creation_errors(void)
{
    show("socket family 9999", socket(9999, SOCK_STREAM, 0));
    show("socket AF_MAX", socket(46, SOCK_STREAM, 0));
    show("socket type 99", socket(AF_UNIX, 99, 0));
    show("socket bad flag", socket(AF_UNIX, SOCK_STREAM | 0x1000000, 0));
    show("socket AF_UNIX protocol 5", socket(AF_UNIX, SOCK_STREAM, 5));
    show("socket AF_UNIX SOCK_RDM", socket(AF_UNIX, SOCK_RDM, 0));
    show("socket AF_NETLINK SOCK_STREAM", socket(AF_NETLINK, SOCK_STREAM, 0));
    show("socket AF_NETLINK protocol 99", socket(AF_NETLINK, SOCK_RAW, 99));
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    show("socket AF_INET6", fd < 0 ? fd : 0);
    if (fd >= 0)
        close(fd);
    int sv[2];
    show("socketpair AF_NETLINK", socketpair(AF_NETLINK, SOCK_RAW, 0, sv));
    int *volatile bad = (int *)8;
    show("socketpair bad pointer", socketpair(AF_UNIX, SOCK_STREAM, 0, bad));
    int p[2];
    pipe(p);
    struct sockaddr_un a;
    socklen_t len = sizeof(a);
    show("getsockname on a pipe", getsockname(p[0], (struct sockaddr *)&a, &len));
    show("getsockname on fd 999", getsockname(999, (struct sockaddr *)&a, &len));
    show("listen on a pipe", listen(p[1], 1));
    close(p[0]);
    close(p[1]);
}

static void pair_basics(void)
{
    int sv[2];
    show("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct stat st;
    fstat(sv[0], &st);
    printf("fstat S_ISSOCK: %d mode %o\n", S_ISSOCK(st.st_mode), st.st_mode & 07777);
    char link[64] = {0}, proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", sv[0]);
    readlink(proc, link, sizeof(link) - 1);
    printf("fd link: %.8s...] %d\n", link, link[strlen(link) - 1] == ']');
    printf("SO_TYPE %d SO_DOMAIN %d SO_PROTOCOL %d SO_ACCEPTCONN %d\n",
           intopt(sv[0], SOL_SOCKET, SO_TYPE), intopt(sv[0], SOL_SOCKET, SO_DOMAIN),
           intopt(sv[0], SOL_SOCKET, SO_PROTOCOL), intopt(sv[0], SOL_SOCKET, SO_ACCEPTCONN));
    printf("SO_ERROR %d SO_SNDBUF %d SO_RCVBUF %d SO_KEEPALIVE %d\n",
           intopt(sv[0], SOL_SOCKET, SO_ERROR), intopt(sv[0], SOL_SOCKET, SO_SNDBUF),
           intopt(sv[0], SOL_SOCKET, SO_RCVBUF), intopt(sv[0], SOL_SOCKET, SO_KEEPALIVE));
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    show("SO_PEERCRED", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &clen));
    printf("peer cred is mine: %d %d %d len %u\n", cred.pid == getpid(), cred.uid == geteuid(),
           cred.gid == getegid(), clen);
    clen = 4;
    cred.uid = 12345;
    show("SO_PEERCRED short", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &clen));
    printf("short len %u uid untouched %d\n", clen, cred.uid == 12345);
    struct sockaddr_un a;
    socklen_t len = sizeof(a);
    show("getsockname unbound", getsockname(sv[0], (struct sockaddr *)&a, &len));
    printf("len %u family %d\n", len, a.sun_family);
    len = sizeof(a);
    show("getpeername pair", getpeername(sv[0], (struct sockaddr *)&a, &len));
    printf("len %u\n", len);

    show("write", write(sv[0], "hello", 5));
    int n = -1;
    show("FIONREAD", ioctl(sv[1], FIONREAD, &n));
    printf("FIONREAD value %d\n", n);
    struct pollfd pf = {sv[1], POLLIN | POLLOUT | POLLRDHUP, 0};
    poll(&pf, 1, 0);
    printf("poll with data: %#x\n", pf.revents);
    char buf[64] = {0};
    show("recv MSG_PEEK", recv(sv[1], buf, sizeof(buf), MSG_PEEK));
    show("read", read(sv[1], buf, sizeof(buf)));
    printf("data: %.5s\n", buf);
    show("recv MSG_DONTWAIT empty", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
    show("recv zero bytes nonblocking empty", recv(sv[1], buf, 0, MSG_DONTWAIT));
    write(sv[0], "z", 1);
    show("recv zero bytes with data", recv(sv[1], buf, 0, 0));
    show("read zero bytes", read(sv[1], buf, 0));
    show("read the byte", read(sv[1], buf, 1));
    show("lseek", lseek(sv[0], 0, SEEK_SET));
    show("pread", pread(sv[0], buf, 1, 0));

    /* scatter and gather */
    struct iovec out[3] = {{"ab", 2}, {"cde", 3}, {"f", 1}};
    struct msghdr m = {0};
    m.msg_iov = out;
    m.msg_iovlen = 3;
    show("sendmsg 3 iovecs", sendmsg(sv[0], &m, 0));
    char x[2], y[10];
    struct iovec in[2] = {{x, 2}, {y, 10}};
    struct msghdr r = {0};
    r.msg_iov = in;
    r.msg_iovlen = 2;
    show("recvmsg 2 iovecs", recvmsg(sv[1], &r, 0));
    printf("got %.2s|%.4s flags %#x namelen %u\n", x, y, r.msg_flags, r.msg_namelen);

    /* shutdown */
    show("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR));
    show("read after peer SHUT_WR", read(sv[1], buf, sizeof(buf)));
    pf.fd = sv[1];
    pf.revents = 0;
    poll(&pf, 1, 0);
    printf("poll after peer SHUT_WR: %#x\n", pf.revents);
    signal(SIGPIPE, on_sigpipe);
    sigpipes = 0;
    show("write after SHUT_WR", write(sv[0], "x", 1));
    printf("SIGPIPE count: %d\n", sigpipes);
    show("send MSG_NOSIGNAL after SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL));
    printf("SIGPIPE count: %d\n", sigpipes);
    show("shutdown bad how", shutdown(sv[0], 7));
    show("write other way", write(sv[1], "back", 4));
    show("read other way", read(sv[0], buf, sizeof(buf)));
    close(sv[0]);
    close(sv[1]);

    /* a peer that closes with data unread: ECONNRESET once, then end of file */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[0], "unread", 6);
    close(sv[1]);
    show("read after peer closed with data unread", read(sv[0], buf, sizeof(buf)));
    show("read again", read(sv[0], buf, sizeof(buf)));
    pf.fd = sv[0];
    pf.revents = 0;
    poll(&pf, 1, 0);
    printf("poll after peer closed: %#x\n", pf.revents);
    sigpipes = 0;
    show("write to closed peer", write(sv[0], "x", 1));
    printf("SIGPIPE count: %d\n", sigpipes);
    close(sv[0]);

    /* non-blocking */
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
    printf("O_NONBLOCK %d FD_CLOEXEC %d\n", !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK),
           fcntl(sv[0], F_GETFD));
    show("read nonblocking empty", read(sv[0], buf, sizeof(buf)));
    static char big[300000];
    long total = 0, w;
    while ((w = write(sv[0], big, sizeof(big))) > 0)
        total += w;
    show("write until full", w);
    printf("filled: %d\n", total > 0);
    pf.fd = sv[0];
    pf.events = POLLOUT;
    pf.revents = 0;
    poll(&pf, 1, 0);
    printf("poll POLLOUT when full: %#x\n", pf.revents);
    close(sv[0]);
    close(sv[1]);
}

struct echo {
    int fd;
    long bytes;
    unsigned sum;
};

static void *echo_server(void *arg)
{
    struct echo *e = arg;
    int c = accept(e->fd, NULL, NULL);
    char buf[4096];
    long n;
    while ((n = read(c, buf, sizeof(buf))) > 0) {
        for (long i = 0; i < n; i++)
            e->sum += (unsigned char)buf[i];
        e->bytes += n;
        write(c, buf, n);
    }
    close(c);
    return NULL;
}

static void *slow_writer(void *arg)
{
    int fd = *(int *)arg;
    struct timespec ts = {0, 20000000};
    for (int i = 0; i < 3; i++) {
        nanosleep(&ts, NULL);
        write(fd, "0123456789", 10);
    }
    return NULL;
}

static void stream_paths(void)
{
    struct sockaddr_un a, b;
    socklen_t alen = un_addr(&a, "s.sock");
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    show("listen unbound", listen(srv, 5));
    show("bind path", bind(srv, (struct sockaddr *)&a, alen));
    struct stat st;
    show("stat socket file", stat("s.sock", &st));
    printf("S_ISSOCK %d mode %o\n", S_ISSOCK(st.st_mode), st.st_mode & 07777);
    show("open socket file", open("s.sock", O_RDONLY));
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    show("bind same path", bind(other, (struct sockaddr *)&a, alen));
    socklen_t blen = un_addr(&b, "t.sock");
    show("bind bound socket again", bind(srv, (struct sockaddr *)&b, blen));
    show("t.sock exists after", access("t.sock", F_OK));
    show("bind short addrlen", bind(other, (struct sockaddr *)&a, 1));
    show("bind missing dir", bind(other, (struct sockaddr *)&b,
                                  un_addr(&b, "nodir/x.sock")));
    show("connect to bound, not listening", connect(other, (struct sockaddr *)&a, alen));
    show("accept not listening", accept(srv, NULL, NULL));
    show("listen", listen(srv, 5));
    printf("SO_ACCEPTCONN %d\n", intopt(srv, SOL_SOCKET, SO_ACCEPTCONN));
    show("send on listening", send(srv, "x", 1, MSG_NOSIGNAL));
    show("send unconnected", send(other, "x", 1, MSG_NOSIGNAL));
    char buf[64];
    show("recv unconnected", recv(other, buf, 1, 0));
    socklen_t plen = sizeof(b);
    show("getpeername unconnected", getpeername(other, (struct sockaddr *)&b, &plen));
    show("connect nonexistent", connect(other, (struct sockaddr *)&b, un_addr(&b, "none.sock")));
    int f = open("plain", O_CREAT | O_WRONLY, 0644);
    close(f);
    show("connect to a regular file", connect(other, (struct sockaddr *)&b, un_addr(&b, "plain")));
    int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(dg, (struct sockaddr *)&b, un_addr(&b, "d.sock"));
    show("stream connect to dgram socket", connect(other, (struct sockaddr *)&b,
                                                   un_addr(&b, "d.sock")));
    close(dg);
    show("connect nscd", connect(other, (struct sockaddr *)&b,
                                 un_addr(&b, "/var/run/nscd/socket")));

    struct echo e = {srv, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, echo_server, &e);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    show("connect", connect(c, (struct sockaddr *)&a, alen));
    show("connect again", connect(c, (struct sockaddr *)&a, alen));
    plen = sizeof(b);
    getpeername(c, (struct sockaddr *)&b, &plen);
    printf("getpeername: %u %s\n", plen, b.sun_path);
    plen = sizeof(b);
    getsockname(c, (struct sockaddr *)&b, &plen);
    printf("client getsockname len: %u\n", plen);
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen);
    printf("client peer cred is mine: %d\n", cred.pid == getpid() && cred.uid == geteuid());
    static char chunk[100000];
    unsigned sum = 0;
    for (int i = 0; i < (int)sizeof(chunk); i++) {
        chunk[i] = (char)(i * 7 + 3);
        sum += (unsigned char)chunk[i];
    }
    long sent = 0, got = 0;
    unsigned back = 0;
    while (sent < (long)sizeof(chunk)) {
        long n = write(c, chunk + sent, sizeof(chunk) - sent > 8192 ? 8192
                                                                   : sizeof(chunk) - sent);
        if (n <= 0)
            break;
        sent += n;
        while (got < sent) {
            long r = read(c, buf, sizeof(buf));
            if (r <= 0)
                break;
            for (long i = 0; i < r; i++)
                back += (unsigned char)buf[i];
            got += r;
        }
    }
    shutdown(c, SHUT_WR);
    long r;
    while ((r = read(c, buf, sizeof(buf))) > 0)
        got += r;
    pthread_join(th, NULL);
    printf("echo: sent %ld got %ld server %ld sums %d %d\n", sent, got, e.bytes,
           back == sum, e.sum == sum);
    close(c);

    /* MSG_WAITALL across three writes */
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, alen);
    int s = accept(srv, NULL, NULL);
    pthread_create(&th, NULL, slow_writer, &s);
    char wait[40] = {0};
    show("recv MSG_WAITALL 30", recv(c, wait, 30, MSG_WAITALL));
    pthread_join(th, NULL);
    close(s);
    show("recv MSG_WAITALL at end of file", recv(c, wait, 30, MSG_WAITALL));
    close(c);

    /* the backlog: a connect completes while the queue holds at most backlog + 1 */
    int bsrv = socket(AF_UNIX, SOCK_STREAM, 0);
    socklen_t llen = un_addr(&b, "backlog.sock");
    bind(bsrv, (struct sockaddr *)&b, llen);
    listen(bsrv, 1);
    int ok = 0, last = 0;
    for (int i = 0; i < 4; i++) {
        int cc = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        last = connect(cc, (struct sockaddr *)&b, llen);
        if (last == 0)
            ok++;
        else
            break;
    }
    printf("backlog 1: %d connected, then %s\n", ok, last < 0 ? ename(errno) : "none");
    int nb = accept4(bsrv, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    printf("accept4 flags: nonblock %d cloexec %d\n", !!(fcntl(nb, F_GETFL) & O_NONBLOCK),
           fcntl(nb, F_GETFD));
    /* raw: musl's accept4 answers EINVAL from the kernel with a plain accept */
    long raw = raw_syscall4(288, bsrv, 0, 0, 0x4);
    printf("accept4 bad flags: %s\n", raw < 0 ? ename(-raw) : "accepted");
    plen = sizeof(b);
    memset(&b, 0, sizeof(b));
    accept(bsrv, (struct sockaddr *)&b, &plen);
    printf("accepted peer address len %u\n", plen);
    int fl = fcntl(bsrv, F_GETFL);
    fcntl(bsrv, F_SETFL, fl | O_NONBLOCK);
    show("accept nothing pending nonblocking", accept(bsrv, NULL, NULL));
    close(bsrv);
    close(srv);
    close(other);
    show("connect after listener closed", connect(socket(AF_UNIX, SOCK_STREAM, 0),
                                                  (struct sockaddr *)&a, alen));
    unlink("s.sock");
}

static void abstract_names(void)
{
    char name[64];
    snprintf(name, sizeof(name), "pyunik-sockets-%d", getpid());
    struct sockaddr_un a, b;
    socklen_t alen = abstract_addr(&a, name);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    show("bind abstract", bind(s, (struct sockaddr *)&a, alen));
    socklen_t len = sizeof(b);
    getsockname(s, (struct sockaddr *)&b, &len);
    printf("abstract getsockname len is bind's %d, same name %d\n", len == alen,
           memcmp(&a, &b, alen) == 0);
    int t = socket(AF_UNIX, SOCK_STREAM, 0);
    show("bind abstract again", bind(t, (struct sockaddr *)&a, alen));
    listen(s, 2);
    show("connect abstract", connect(t, (struct sockaddr *)&a, alen));
    int c = accept(s, NULL, NULL);
    show("write", write(t, "abc", 3));
    char buf[8] = {0};
    show("read", read(c, buf, sizeof(buf)));
    close(c);
    close(t);
    close(s);
    t = socket(AF_UNIX, SOCK_STREAM, 0);
    show("connect abstract after close", connect(t, (struct sockaddr *)&a, alen));
    struct sockaddr_un ab = {AF_UNIX, {0}};
    show("autobind", bind(t, (struct sockaddr *)&ab, offsetof(struct sockaddr_un, sun_path)));
    len = sizeof(b);
    getsockname(t, (struct sockaddr *)&b, &len);
    int hex = 1;
    for (int i = 1; i < 6; i++)
        hex &= (b.sun_path[i] >= '0' && b.sun_path[i] <= '9') ||
               (b.sun_path[i] >= 'a' && b.sun_path[i] <= 'f');
    printf("autobind name: len %u leading NUL %d five hex digits %d\n", len,
           b.sun_path[0] == 0, hex);
    show("autobind again", bind(t, (struct sockaddr *)&ab, offsetof(struct sockaddr_un, sun_path)));
    close(t);
}

static void datagrams(void)
{
    int sv[2];
    show("socketpair dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    send(sv[0], "first", 5, 0);
    send(sv[0], "second!", 7, 0);
    send(sv[0], "", 0, 0);
    int n = -1;
    ioctl(sv[1], FIONREAD, &n);
    printf("FIONREAD dgram: %d\n", n);
    char buf[64] = {0};
    struct iovec iov = {buf, 3};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    show("recvmsg short buffer", recvmsg(sv[1], &m, 0));
    printf("msg_flags %#x data %.3s\n", m.msg_flags, buf);
    show("recv MSG_PEEK|MSG_TRUNC", recv(sv[1], buf, 2, MSG_PEEK | MSG_TRUNC));
    show("recv MSG_TRUNC", recv(sv[1], buf, 2, MSG_TRUNC));
    show("recv empty datagram", recv(sv[1], buf, sizeof(buf), 0));
    show("recv none left", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT));
    close(sv[1]);
    show("send to closed dgram peer", send(sv[0], "x", 1, MSG_NOSIGNAL));
    close(sv[0]);

    struct sockaddr_un a, b, from;
    socklen_t alen = un_addr(&a, "dgram-a.sock"), blen = un_addr(&b, "dgram-b.sock");
    int da = socket(AF_UNIX, SOCK_DGRAM, 0), db = socket(AF_UNIX, SOCK_DGRAM, 0);
    int dc = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind(da, (struct sockaddr *)&a, alen);
    bind(db, (struct sockaddr *)&b, blen);
    show("send unconnected dgram", send(dc, "x", 1, 0));
    show("sendto path", sendto(da, "to b", 4, 0, (struct sockaddr *)&b, blen));
    socklen_t flen = sizeof(from);
    show("recvfrom", recvfrom(db, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen));
    printf("from len %u path %s\n", flen, from.sun_path);
    show("sendto from unbound", sendto(dc, "anon", 4, 0, (struct sockaddr *)&b, blen));
    flen = sizeof(from);
    show("recvfrom unbound sender", recvfrom(db, buf, sizeof(buf), 0, (struct sockaddr *)&from,
                                             &flen));
    printf("from len %u\n", flen);
    struct sockaddr_un z;
    show("sendto missing path", sendto(da, "x", 1, 0, (struct sockaddr *)&z,
                                       un_addr(&z, "missing.sock")));
    show("sendto missing abstract", sendto(da, "x", 1, 0, (struct sockaddr *)&z,
                                           abstract_addr(&z, "pyunik-no-such-name")));
    show("sendto bad family", sendto(da, "x", 1, 0, (struct sockaddr *)&z, 1));
    show("connect dgram", connect(db, (struct sockaddr *)&a, alen));
    show("sendto socket connected elsewhere", sendto(dc, "x", 1, 0, (struct sockaddr *)&b, blen));
    show("send connected", send(db, "to a", 4, 0));
    show("recv", recv(da, buf, sizeof(buf), 0));
    struct sockaddr unspec = {AF_UNSPEC, {0}};
    show("connect AF_UNSPEC", connect(db, &unspec, sizeof(unspec)));
    show("send after disconnect", send(db, "x", 1, 0));
    int i, r = 0;
    for (i = 0; i < 20; i++) {
        r = sendto(dc, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&a, alen);
        if (r < 0)
            break;
    }
    printf("datagrams queued before full: %d then %s\n", i, r < 0 ? ename(errno) : "none");
    struct pollfd pf = {dc, POLLOUT, 0};
    show("sendto too big", sendto(dc, (char[300000]){0}, 300000, 0, (struct sockaddr *)&a, alen));
    (void)pf;
    close(da);
    close(db);
    close(dc);

    /* sendmmsg / recvmmsg */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    struct mmsghdr out[3], in[4];
    struct iovec oi[3] = {{"one", 3}, {"two!", 4}, {"three", 5}};
    char ib[4][8];
    struct iovec ii[4];
    memset(out, 0, sizeof(out));
    memset(in, 0, sizeof(in));
    for (i = 0; i < 3; i++) {
        out[i].msg_hdr.msg_iov = &oi[i];
        out[i].msg_hdr.msg_iovlen = 1;
    }
    for (i = 0; i < 4; i++) {
        ii[i].iov_base = ib[i];
        ii[i].iov_len = 8;
        in[i].msg_hdr.msg_iov = &ii[i];
        in[i].msg_hdr.msg_iovlen = 1;
    }
    show("sendmmsg", sendmmsg(sv[0], out, 3, 0));
    printf("msg_len %u %u %u\n", out[0].msg_len, out[1].msg_len, out[2].msg_len);
    show("recvmmsg MSG_WAITFORONE", recvmmsg(sv[1], in, 4, MSG_WAITFORONE, NULL));
    printf("msg_len %u %u %u %.5s\n", in[0].msg_len, in[1].msg_len, in[2].msg_len, ib[2]);
    close(sv[0]);
    close(sv[1]);

    /* seqpacket */
    show("socketpair seqpacket", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    send(sv[0], "record-one", 10, 0);
    send(sv[0], "two", 3, 0);
    memset(&m, 0, sizeof(m));
    iov.iov_base = buf;
    iov.iov_len = 6;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    show("seqpacket recvmsg short", recvmsg(sv[1], &m, 0));
    printf("msg_flags %#x\n", m.msg_flags);
    show("seqpacket recv", recv(sv[1], buf, sizeof(buf), 0));
    close(sv[0]);
    show("seqpacket recv after peer closed", recv(sv[1], buf, sizeof(buf), 0));
    sigpipes = 0;
    show("seqpacket send after peer closed", send(sv[1], "x", 1, 0));
    printf("SIGPIPE count: %d\n", sigpipes);
    close(sv[1]);
    int sq = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    show("seqpacket send unconnected", send(sq, "x", 1, 0));
    show("seqpacket recv unconnected", recv(sq, buf, 1, MSG_DONTWAIT));
    close(sq);
}

static int send_fds(int sock, int *fds, int count)
{
    char ctl[CMSG_SPACE(sizeof(int) * 4)];
    memset(ctl, 0, sizeof(ctl));
    struct iovec iov = {"F", 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * count);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * count);
    return sendmsg(sock, &m, 0);
}

static void rights_and_credentials(void)
{
    int sv[2], p[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    show("sendmsg SCM_RIGHTS pipe write end", send_fds(sv[0], &p[1], 1));
    close(p[1]);
    char ctl[CMSG_SPACE(sizeof(int) * 4)], data[4];
    struct iovec iov = {data, sizeof(data)};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof(ctl);
    show("recvmsg SCM_RIGHTS", recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    int got = -1;
    if (c && c->cmsg_type == SCM_RIGHTS) {
        memcpy(&got, CMSG_DATA(c), sizeof(int));
        printf("cmsg level %d type %d len %zu controllen %zu flags %#x\n", c->cmsg_level,
               c->cmsg_type, (size_t)c->cmsg_len, (size_t)m.msg_controllen, m.msg_flags);
    }
    printf("received fd cloexec %d\n", fcntl(got, F_GETFD));
    show("write through received fd", write(got, "via", 3));
    close(got);
    char buf[8] = {0};
    show("read from pipe", read(p[0], buf, sizeof(buf)));
    printf("pipe data: %s\n", buf);
    show("read pipe at end (all writers closed)", read(p[0], buf, sizeof(buf)));
    close(p[0]);

    /* two fds, room for one: MSG_CTRUNC */
    pipe(p);
    send_fds(sv[0], p, 2);
    m.msg_control = ctl;
    m.msg_controllen = CMSG_SPACE(sizeof(int));
    show("recvmsg room for one fd", recvmsg(sv[1], &m, 0));
    c = CMSG_FIRSTHDR(&m);
    printf("flags %#x cmsg_len %zu controllen %zu\n", m.msg_flags, c ? (size_t)c->cmsg_len : 0,
           (size_t)m.msg_controllen);
    if (c) {
        memcpy(&got, CMSG_DATA(c), sizeof(int));
        close(got);
    }
    close(p[0]);
    close(p[1]);
    /* no control buffer at all */
    pipe(p);
    send_fds(sv[0], p, 1);
    m.msg_control = NULL;
    m.msg_controllen = 0;
    show("recvmsg fds without control buffer", recvmsg(sv[1], &m, 0));
    printf("flags %#x\n", m.msg_flags);
    close(p[0]);
    close(p[1]);
    int bad = 999;
    show("sendmsg SCM_RIGHTS bad fd", send_fds(sv[0], &bad, 1));
    /* a bad cmsg_len */
    char bctl[CMSG_SPACE(sizeof(int))];
    memset(bctl, 0, sizeof(bctl));
    m.msg_control = bctl;
    m.msg_controllen = sizeof(bctl);
    iov.iov_base = "x";
    iov.iov_len = 1;
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = 4;
    show("sendmsg cmsg_len 4", sendmsg(sv[0], &m, 0));
    c->cmsg_len = CMSG_LEN(sizeof(int));
    c->cmsg_type = 77;
    show("sendmsg unknown cmsg type", sendmsg(sv[0], &m, 0));
    iov.iov_base = data;
    iov.iov_len = sizeof(data);
    show("nothing was queued", recv(sv[1], data, sizeof(data), MSG_DONTWAIT));

    /* credentials */
    int on = 1;
    show("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)));
    printf("SO_PASSCRED now %d\n", intopt(sv[1], SOL_SOCKET, SO_PASSCRED));
    write(sv[0], "cred", 4);
    char cctl[CMSG_SPACE(sizeof(struct ucred))];
    m.msg_control = cctl;
    m.msg_controllen = sizeof(cctl);
    iov.iov_base = data;
    iov.iov_len = sizeof(data);
    show("recvmsg with SO_PASSCRED", recvmsg(sv[1], &m, 0));
    c = CMSG_FIRSTHDR(&m);
    if (c && c->cmsg_type == SCM_CREDENTIALS) {
        struct ucred uc;
        memcpy(&uc, CMSG_DATA(c), sizeof(uc));
        printf("SCM_CREDENTIALS pid %d uid %d gid %d len %zu\n", uc.pid == getpid(),
               uc.uid == getuid(), uc.gid == getgid(), (size_t)c->cmsg_len);
    } else {
        printf("no SCM_CREDENTIALS\n");
    }
    /* explicit credentials */
    struct ucred mine = {getpid(), getuid(), getgid()};
    memset(cctl, 0, sizeof(cctl));
    m.msg_control = cctl;
    m.msg_controllen = sizeof(cctl);
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof(mine));
    memcpy(CMSG_DATA(c), &mine, sizeof(mine));
    iov.iov_base = "c2";
    iov.iov_len = 2;
    show("sendmsg SCM_CREDENTIALS", sendmsg(sv[0], &m, 0));
    c->cmsg_len = CMSG_LEN(sizeof(mine)) - 1;
    show("sendmsg SCM_CREDENTIALS short", sendmsg(sv[0], &m, 0));
    iov.iov_base = data;
    iov.iov_len = sizeof(data);
    m.msg_controllen = sizeof(cctl);
    show("recvmsg", recvmsg(sv[1], &m, 0));
    m.msg_control = NULL;
    m.msg_controllen = 0;
    write(sv[0], "z", 1);
    show("recvmsg SO_PASSCRED without control buffer", recvmsg(sv[1], &m, 0));
    printf("flags %#x\n", m.msg_flags);
    close(sv[0]);
    close(sv[1]);
}

static void options(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int v = 10000;
    show("SO_SNDBUF 10000", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
    printf("SO_SNDBUF now %d\n", intopt(s, SOL_SOCKET, SO_SNDBUF));
    v = 1;
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
    printf("minimum SO_SNDBUF %d SO_RCVBUF %d\n", intopt(s, SOL_SOCKET, SO_SNDBUF),
           intopt(s, SOL_SOCKET, SO_RCVBUF));
    v = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
    v = 5;
    setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
    printf("SO_REUSEADDR %d SO_KEEPALIVE %d SO_REUSEPORT %d\n",
           intopt(s, SOL_SOCKET, SO_REUSEADDR), intopt(s, SOL_SOCKET, SO_KEEPALIVE),
           intopt(s, SOL_SOCKET, SO_REUSEPORT));
    show("setsockopt short int", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
    show("setsockopt unknown name", setsockopt(s, SOL_SOCKET, 9999, &v, sizeof(v)));
    show("setsockopt SO_TYPE", setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof(v)));
    show("setsockopt negative len", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, -1));
    show("getsockopt unknown name", getsockopt(s, SOL_SOCKET, 9999, &v, &(socklen_t){4}));
    socklen_t len = 2;
    v = 0;
    show("getsockopt short len", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
    printf("short: len %u value %d\n", len, v);
    len = -1;
    show("getsockopt negative len", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
    struct linger l = {1, 7}, lo = {0, 0};
    show("SO_LINGER", setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l)));
    len = sizeof(lo);
    getsockopt(s, SOL_SOCKET, SO_LINGER, &lo, &len);
    printf("SO_LINGER %d %d len %u\n", lo.l_onoff, lo.l_linger, len);
    struct timeval tv = {0, 500000}, got = {9, 9};
    show("SO_RCVTIMEO", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
    len = sizeof(got);
    getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &len);
    printf("SO_RCVTIMEO %ld.%06ld\n", (long)got.tv_sec, (long)got.tv_usec);
    tv.tv_usec = 2000000;
    show("SO_RCVTIMEO usec too big", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
    show("SO_SNDTIMEO short", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, 4));
    close(s);

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    tv.tv_sec = 0;
    tv.tv_usec = 200000;
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    char buf[4];
    show("recv with SO_RCVTIMEO", recv(sv[0], buf, sizeof(buf), 0));
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("waited at least 150 ms: %d\n", ms >= 150);

    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.u32 = 7}}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
    show("epoll_wait empty", epoll_wait(ep, &out, 1, 0));
    write(sv[1], "e", 1);
    show("epoll_wait after write", epoll_wait(ep, &out, 1, 1000));
    printf("event %#x data %u\n", out.events, out.data.u32);
    close(ep);
    close(sv[0]);
    close(sv[1]);
}

static void interfaces(void)
{
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    show("SIOCGIFFLAGS lo", ioctl(s, SIOCGIFFLAGS, &ifr));
    printf("lo flags %#x\n", ifr.ifr_flags & 0xffff);
    show("SIOCGIFMTU lo", ioctl(s, SIOCGIFMTU, &ifr));
    printf("lo mtu %d\n", ifr.ifr_mtu);
    show("SIOCGIFINDEX lo", ioctl(s, SIOCGIFINDEX, &ifr));
    printf("lo index %d\n", ifr.ifr_ifindex);
    show("SIOCGIFHWADDR lo", ioctl(s, SIOCGIFHWADDR, &ifr));
    printf("lo hw family %d\n", ifr.ifr_hwaddr.sa_family);
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_ifindex = 1;
    show("SIOCGIFNAME 1", ioctl(s, SIOCGIFNAME, &ifr));
    printf("name of 1: %s\n", ifr.ifr_name);
    strcpy(ifr.ifr_name, "nosuchif0");
    show("SIOCGIFFLAGS unknown", ioctl(s, SIOCGIFFLAGS, &ifr));
    strcpy(ifr.ifr_name, "lo");
    show("SIOCGIFADDR on AF_UNIX", ioctl(s, SIOCGIFADDR, &ifr));
    struct ifreq reqs[32];
    struct ifconf ifc = {sizeof(reqs), {(char *)reqs}};
    show("SIOCGIFCONF", ioctl(s, SIOCGIFCONF, &ifc));
    for (int i = 0; i < ifc.ifc_len / (int)sizeof(struct ifreq); i++) {
        if (strcmp(reqs[i].ifr_name, "lo") == 0) {
            unsigned char *ip = (unsigned char *)&((struct sockaddr_in *)&reqs[i].ifr_addr)
                                    ->sin_addr;
            printf("ifconf lo %d.%d.%d.%d family %d\n", ip[0], ip[1], ip[2], ip[3],
                   reqs[i].ifr_addr.sa_family);
        }
    }
    show("ioctl TCGETS", ioctl(s, TCGETS, &ifr));
    close(s);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || chdir(argv[1]) < 0) {
        fprintf(stderr, "usage: sockets SCRATCH_DIR\n");
        return 2;
    }
    mkdir("sockets", 0755);
    if (chdir("sockets") < 0)
        return 2;
    umask(022);
    creation_errors();
    pair_basics();
    stream_paths();
    abstract_names();
    datagrams();
    rights_and_credentials();
    options();
    interfaces();
    printf("done\n");
    return 0;
}
