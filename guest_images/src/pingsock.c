/*
 * pingsock.c - an ICMP echo ("ping") datagram socket to 127.0.0.1: the errnos of a
 * non-echo type and a short message, three echoes answered (sequence, reply type,
 * identifier the kernel set, checksum and payload checked) through poll, epoll and
 * a blocking recvfrom, then EAGAIN from MSG_DONTWAIT and from SO_RCVTIMEO.
 *
 * argv[1], if given, is the address to ping instead (10.0.2.2 under --net user).
 *
 * Where net.ipv4.ping_group_range excludes the caller, socket() fails and the
 * program prints that errno and exits 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "guest.h"

#define ECHO 8
#define ECHOREPLY 0
#define PAYLOAD 56

static unsigned short csum(const unsigned char *p, int n)
{
    unsigned long s = 0;
    for (int i = 0; i + 1 < n; i += 2)
        s += (p[i] << 8) | p[i + 1];
    if (n & 1)
        s += p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (unsigned short)~s;
}

static int make(unsigned char *m, int type, int seq)
{
    memset(m, 0, 8);
    m[0] = type;
    m[6] = seq >> 8;
    m[7] = seq & 0xff;
    for (int i = 0; i < PAYLOAD; i++)
        m[8 + i] = (unsigned char)(i * 7 + seq);
    return 8 + PAYLOAD;
}

static void show(const char *what, long r)
{
    printf("%s: %s\n", what, r < 0 ? fmt_errno(errno) : "ok");
}

int main(int argc, char **argv)
{
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    unsigned char m[256], r[256];
    if (argc > 1)
        inet_aton(argv[1], &lo.sin_addr);
    int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (s < 0) {
        printf("socket: %s\n", fmt_errno(errno));
        return 2;
    }
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    getsockname(s, (struct sockaddr *)&me, &len);
    printf("unbound port %d\n", ntohs(me.sin_port));

    int n = make(m, 13, 1);                      /* a timestamp request */
    show("non-echo type", sendto(s, m, n, 0, (struct sockaddr *)&lo, sizeof lo));
    make(m, ECHO, 1);
    show("short message", sendto(s, m, 4, 0, (struct sockaddr *)&lo, sizeof lo));
    show("no address", send(s, m, n, 0));
    m[1] = 1;
    show("echo code 1", sendto(s, m, n, 0, (struct sockaddr *)&lo, sizeof lo));

    struct timeval tv = {.tv_sec = 5};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);

    for (int seq = 1; seq <= 3; seq++) {
        n = make(m, ECHO, seq);
        long sent = sendto(s, m, n, 0, (struct sockaddr *)&lo, sizeof lo);
        if (seq == 1) {
            len = sizeof me;
            getsockname(s, (struct sockaddr *)&me, &len);
            printf("bound: port is nonzero %d\n", me.sin_port != 0);
        }
        if (seq == 1) {
            struct pollfd p = {.fd = s, .events = POLLIN};
            int k = poll(&p, 1, 5000);
            printf("poll %d revents %#x\n", k, p.revents);
        } else if (seq == 2) {
            printf("epoll %d\n", epoll_wait(ep, &out, 1, 5000));
        }
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        long got = recvfrom(s, r, sizeof r, 0, (struct sockaddr *)&from, &flen);
        if (got < 0) {
            printf("seq %d: sent %ld recvfrom %s\n", seq, sent, fmt_errno(errno));
            continue;
        }
        int rseq = (r[6] << 8) | r[7];
        int id_ok = memcmp(r + 4, &me.sin_port, 2) == 0;
        int payload_ok = got == n && memcmp(r + 8, m + 8, PAYLOAD) == 0;
        printf("seq %d: sent %ld got %ld from %s:%d type %d code %d seq %d id %s "
               "checksum %s payload %s\n", seq, sent, got, inet_ntoa(from.sin_addr),
               ntohs(from.sin_port), r[0], r[1], rseq, id_ok ? "ok" : "BAD",
               csum(r, got) == 0 ? "ok" : "BAD", payload_ok ? "ok" : "BAD");
    }
    show("empty, MSG_DONTWAIT", recv(s, r, sizeof r, MSG_DONTWAIT));
    tv.tv_sec = 0;
    tv.tv_usec = 100000;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    show("empty, SO_RCVTIMEO", recv(s, r, sizeof r, 0));
    /* a second socket cannot bind the first one's identifier */
    int t = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    struct sockaddr_in same = lo;
    same.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    same.sin_port = me.sin_port;
    show("bind a taken identifier", bind(t, (struct sockaddr *)&same, sizeof same));
    close(t);
    close(ep);
    close(s);
    return 0;
}
