/*
 * tcp-loopback.c - TCP and UDP over 127.0.0.1 inside one process: a server thread
 * and a client thread, 1 MiB each way with checksums, then the errno of common
 * misuses. One line per check; ports are never printed (they are ephemeral).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest.h"

static const char *ename(int e)
{
    switch (e) {
    case 32: return "EPIPE";
    case 88: return "ENOTSOCK";
    case 89: return "EDESTADDRREQ";
    case 90: return "EMSGSIZE";
    case 93: return "EPROTONOSUPPORT";
    case 94: return "ESOCKTNOSUPPORT";
    case 97: return "EAFNOSUPPORT";
    case 98: return "EADDRINUSE";
    case 99: return "EADDRNOTAVAIL";
    case 104: return "ECONNRESET";
    case 106: return "EISCONN";
    case 107: return "ENOTCONN";
    case 111: return "ECONNREFUSED";
    case 114: return "EALREADY";
    case 115: return "EINPROGRESS";
    }
    return errno_name(e);
}

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s: -%s\n", what, ename(errno) ? ename(errno) : "?");
    else
        printf("%s: %ld\n", what, r);
}

#define SIZE (1 << 20)
static unsigned char out[SIZE], in[SIZE];
static int port;
static int accepted_loopback;
static unsigned accepted_len;
static long server_got, server_end;
static unsigned server_sum;
static long echoed;

static struct sockaddr_in loopback(int p)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(p);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void *server(void *arg)
{
    int l = *(int *)arg;
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    int c = accept(l, (struct sockaddr *)&peer, &len);
    accepted_loopback = peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    accepted_len = len;
    long got = 0;
    unsigned sum = 0;
    static unsigned char buf[65536];
    long n;
    while ((n = read(c, buf, sizeof(buf))) > 0) {
        for (long i = 0; i < n; i++)
            sum = sum * 31 + buf[i];
        got += n;
        long w = 0;
        while (w < n) {
            long k = write(c, buf + w, n - w);
            if (k <= 0)
                break;
            w += k;
        }
    }
    server_got = got;
    server_sum = sum;
    server_end = n;
    close(c);
    return NULL;
}

static void *reader(void *arg)
{
    int c = *(int *)arg;
    long got = 0, n;
    while (got < SIZE && (n = read(c, in + got, SIZE - got)) > 0)
        got += n;
    echoed = got;
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    unsigned sum = 0;
    for (int i = 0; i < SIZE; i++) {
        out[i] = (unsigned char)(i * 131 + (i >> 8));
        sum = sum * 31 + out[i];
    }
    printf("client: checksum %08x\n", sum);

    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    show("SO_REUSEADDR", setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
    struct sockaddr_in a = loopback(0);
    show("bind 127.0.0.1:0", bind(l, (struct sockaddr *)&a, sizeof(a)));
    socklen_t len = sizeof(a);
    getsockname(l, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    printf("bound to loopback, port above 1023: %d %d\n",
           a.sin_addr.s_addr == htonl(INADDR_LOOPBACK), port > 1023);
    show("listen", listen(l, 4));
    printf("SO_ACCEPTCONN %d\n", ({ int v = 0; socklen_t vl = 4;
           getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl); v; }));

    pthread_t st, rt;
    pthread_create(&st, NULL, server, &l);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = loopback(port);
    show("connect", connect(c, (struct sockaddr *)&to, sizeof(to)));
    show("connect again", connect(c, (struct sockaddr *)&to, sizeof(to)));
    struct sockaddr_in me, peer;
    len = sizeof(me);
    getsockname(c, (struct sockaddr *)&me, &len);
    len = sizeof(peer);
    getpeername(c, (struct sockaddr *)&peer, &len);
    printf("client: local is loopback %d, peer port matches %d\n",
           me.sin_addr.s_addr == htonl(INADDR_LOOPBACK), ntohs(peer.sin_port) == port);
    show("TCP_NODELAY", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
    pthread_create(&rt, NULL, reader, &c);
    long sent = 0;
    while (sent < SIZE) {
        long n = write(c, out + sent, SIZE - sent > 100000 ? 100000 : SIZE - sent);
        if (n <= 0)
            break;
        sent += n;
    }
    printf("client: wrote %ld bytes\n", sent);
    pthread_join(rt, NULL);
    printf("client: echoed back %ld bytes, same %d\n", echoed, memcmp(in, out, SIZE) == 0);
    show("shutdown SHUT_WR", shutdown(c, SHUT_WR));
    pthread_join(st, NULL);
    printf("server: accepted from 127.0.0.1: %d len %u\n", accepted_loopback, accepted_len);
    printf("server: read %ld bytes, checksum %08x, end of stream %ld\n", server_got, server_sum,
           server_end);
    char b;
    show("read at end of stream", read(c, &b, 1));
    close(c);

    /* sendfile from a file into a connection (what a web server does) */
    {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/pyunik-tcp-loopback-%d", getpid());
        int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        write(f, out, 300000);
        lseek(f, 0, SEEK_SET);
        unlink(path);
        int ls = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in la = loopback(0);
        bind(ls, (struct sockaddr *)&la, sizeof(la));
        len = sizeof(la);
        getsockname(ls, (struct sockaddr *)&la, &len);
        listen(ls, 1);
        int cs = socket(AF_INET, SOCK_STREAM, 0);
        connect(cs, (struct sockaddr *)&la, sizeof(la));
        int as = accept(ls, NULL, NULL);
        memset(in, 0, SIZE);
        pthread_create(&rt, NULL, reader, &cs);
        long total = 0, k;
        while (total < 300000 && (k = sendfile(as, f, NULL, 300000 - total)) > 0)
            total += k;
        close(as);
        pthread_join(rt, NULL);
        printf("sendfile: %ld, received %ld, same %d\n", total, echoed,
               memcmp(in, out, 300000) == 0);
        close(cs);
        close(ls);
        close(f);
    }

    /* errors */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in taken = loopback(port);
    show("bind port in use", bind(s, (struct sockaddr *)&taken, sizeof(taken)));
    struct sockaddr_in other = loopback(0);
    other.sin_addr.s_addr = htonl(0x0a0b0c0d);
    show("bind non-local address", bind(s, (struct sockaddr *)&other, sizeof(other)));
    show("bind short", bind(s, (struct sockaddr *)&other, 8));
    len = sizeof(peer);
    show("getpeername unconnected", getpeername(s, (struct sockaddr *)&peer, &len));
    show("send unconnected", send(s, "x", 1, MSG_NOSIGNAL));
    show("shutdown unconnected", shutdown(s, SHUT_RDWR));
    close(l);
    struct sockaddr_in closed = loopback(port);
    show("connect to a closed port", connect(s, (struct sockaddr *)&closed, sizeof(closed)));
    close(s);
    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(s, (struct sockaddr *)&closed, sizeof(closed));
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd pf = {s, POLLOUT, 0};
        poll(&pf, 1, 1000);
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
        printf("non-blocking connect to a closed port: SO_ERROR %s\n", ename(err));
    } else {
        show("non-blocking connect to a closed port", r);
    }
    close(s);
    show("socket AF_INET SOCK_STREAM IPPROTO_UDP", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    show("socket AF_INET SOCK_SEQPACKET", socket(AF_INET, SOCK_SEQPACKET, 0));

    /* UDP */
    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = loopback(0);
    bind(u1, (struct sockaddr *)&ua, sizeof(ua));
    len = sizeof(ua);
    getsockname(u1, (struct sockaddr *)&ua, &len);
    show("udp sendto", sendto(u2, "datagram", 8, 0, (struct sockaddr *)&ua, sizeof(ua)));
    char buf[64] = {0};
    struct sockaddr_in from;
    len = sizeof(from);
    show("udp recvfrom", recvfrom(u1, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len));
    printf("udp data %s from loopback %d len %u\n", buf,
           from.sin_addr.s_addr == htonl(INADDR_LOOPBACK), len);
    show("udp reply", sendto(u1, "reply", 5, 0, (struct sockaddr *)&from, len));
    show("udp recv reply MSG_TRUNC", recv(u2, buf, 2, MSG_TRUNC));
    show("udp send unconnected", send(u2, "x", 1, 0));
    show("udp recv nothing", recv(u2, buf, 1, MSG_DONTWAIT));
    show("udp too big", sendto(u2, out, 70000, 0, (struct sockaddr *)&ua, sizeof(ua)));
    close(u1);
    struct sockaddr_in gone = ua;
    show("udp connect", connect(u2, (struct sockaddr *)&gone, sizeof(gone)));
    show("udp send to closed port", send(u2, "x", 1, 0));
    show("udp recv after port unreachable", recv(u2, buf, 1, 0));
    close(u2);
    printf("done\n");
    return 0;
}
