/*
 * rawsock.c - AF_INET SOCK_RAW sockets over loopback, as Linux's net/ipv4/raw.c
 * gives them to a caller with CAP_NET_RAW: what socket() answers for protocol 0;
 * the options (IP_HDRINCL, ICMP_FILTER, an unknown SOL_RAW one); an echo request
 * sent to 127.0.0.1 comes back twice (the request itself, then the kernel's
 * reply), each with its IP header; ICMP_FILTER drops the request; IP_HDRINCL sends
 * a packet whose source, id, length and checksum the kernel fills in; a raw UDP
 * socket sees a UDP datagram; MSG_TRUNC, MSG_OOB, EDESTADDRREQ, a short IP_HDRINCL
 * packet; a process that setuid()s away from root gets EPERM.
 *
 * Other programs on the machine may ping 127.0.0.1 at the same time: packets are
 * matched by this program's identifier and ports, others skipped.
 *
 * Without CAP_NET_RAW the program prints socket()'s errno and exits 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define ICMP_FILTER 1
#define SOL_RAW_ 255
#define ECHO 8
#define ECHOREPLY 0
#define IDENT 0x5a17

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

static const char *err(void)
{
    static char buf[32];
    const char *name = errno_name(errno);
    if (name)
        return name;
    snprintf(buf, sizeof buf, "errno%d", errno);
    return buf;
}

static struct sockaddr_in loopback(void)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int echo(unsigned char *out, unsigned short seq)
{
    memset(out, 0, 64);
    out[0] = ECHO;
    out[4] = IDENT >> 8, out[5] = IDENT & 0xff;
    out[6] = seq >> 8, out[7] = seq & 0xff;
    for (int i = 8; i < 64; i++)
        out[i] = (unsigned char)i;
    unsigned short c = csum(out, 64);
    out[2] = c >> 8, out[3] = c & 0xff;
    return 64;
}

/* Read packets until one whose ICMP identifier is ours (or, for other protocols,
 * accept(buf) says so); print its IP header and what follows. */
static int next_packet(int fd, unsigned char *buf, int proto, int (*mine)(unsigned char *, long))
{
    for (int tries = 0; tries < 64; tries++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 2000) != 1) {
            printf("  nothing within 2 s\n");
            return -1;
        }
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        long n = recvfrom(fd, buf, 4096, 0, (struct sockaddr *)&from, &len);
        if (n < 0) {
            printf("  recvfrom: %s\n", err());
            return -1;
        }
        int ihl = (buf[0] & 15) * 4;
        if (!mine(buf, n))
            continue;
        printf("  %ld bytes from %s port %d: version %d ihl %d tot_len %d proto %d ttl %d "
               "src %d.%d.%d.%d dst %d.%d.%d.%d header checksum %s id %s",
               n, inet_ntoa(from.sin_addr), ntohs(from.sin_port), buf[0] >> 4, ihl,
               (buf[2] << 8) | buf[3], buf[9], buf[8], buf[12], buf[13], buf[14], buf[15],
               buf[16], buf[17], buf[18], buf[19], csum(buf, ihl) == 0 ? "ok" : "bad",
               (buf[4] | buf[5]) ? "set" : "zero");
        if (proto == IPPROTO_ICMP)
            printf(" icmp type %d seq %d checksum %s", buf[ihl], (buf[ihl + 6] << 8) | buf[ihl + 7],
                   csum(buf + ihl, n - ihl) == 0 ? "ok" : "bad");
        printf("\n");
        return (int)n;
    }
    printf("  only others' packets\n");
    return -1;
}

static int our_icmp(unsigned char *buf, long n)
{
    int ihl = (buf[0] & 15) * 4;
    return n >= ihl + 8 && buf[9] == IPPROTO_ICMP && ((buf[ihl + 4] << 8) | buf[ihl + 5]) == IDENT;
}

static int our_udp(unsigned char *buf, long n)
{
    int ihl = (buf[0] & 15) * 4;
    return n >= ihl + 8 && buf[9] == IPPROTO_UDP && ((buf[ihl + 2] << 8) | buf[ihl + 3]) == 47999;
}

static int our_253(unsigned char *buf, long n)
{
    int ihl = (buf[0] & 15) * 4;
    return n >= ihl + 4 && buf[9] == 253 && memcmp(buf + ihl, "pyuk", 4) == 0;
}

static void opt(int fd, int level, int name, const char *what)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) < 0)
        printf("getsockopt %s: %s\n", what, err());
    else
        printf("getsockopt %s: %d (len %d)\n", what, v, (int)len);
}

int main(void)
{
    unsigned char buf[4096], out[128];
    struct sockaddr_in lo = loopback();

    int bad = socket(AF_INET, SOCK_RAW, 0);
    printf("socket SOCK_RAW protocol 0: %s\n", bad < 0 ? err() : "ok");
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) {
        printf("socket: %s\n", err());
        return 2;
    }
    opt(fd, IPPROTO_IP, IP_HDRINCL, "IP_HDRINCL");
    opt(fd, SOL_RAW_, ICMP_FILTER, "ICMP_FILTER");
    opt(fd, SOL_RAW_, 2, "SOL_RAW 2");
    opt(fd, SOL_SOCKET, SO_TYPE, "SO_TYPE");
    opt(fd, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    printf("IP_HDRINCL on a UDP socket: %s\n",
           setsockopt(udp, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0 ? err() : "ok");
    printf("ICMP_FILTER on a UDP socket: %s\n",
           setsockopt(udp, SOL_RAW_, ICMP_FILTER, &one, sizeof one) < 0 ? err() : "ok");

    printf("send without an address: %s\n",
           send(fd, out, echo(out, 1), 0) < 0 ? err() : "ok");
    printf("send MSG_OOB: %s\n",
           sendto(fd, out, echo(out, 1), MSG_OOB, (struct sockaddr *)&lo, sizeof lo) < 0 ? err() : "ok");
    printf("recv MSG_OOB: %s\n", recv(fd, buf, sizeof buf, MSG_OOB) < 0 ? err() : "ok");

    printf("echo request 1 sent: %ld\n",
           (long)sendto(fd, out, echo(out, 1), 0, (struct sockaddr *)&lo, sizeof lo));
    next_packet(fd, buf, IPPROTO_ICMP, our_icmp);
    next_packet(fd, buf, IPPROTO_ICMP, our_icmp);

    unsigned int mask = 1u << ECHO;
    printf("ICMP_FILTER drops echo requests: %s\n",
           setsockopt(fd, SOL_RAW_, ICMP_FILTER, &mask, sizeof mask) < 0 ? err() : "ok");
    opt(fd, SOL_RAW_, ICMP_FILTER, "ICMP_FILTER");
    printf("echo request 2 sent: %ld\n",
           (long)sendto(fd, out, echo(out, 2), 0, (struct sockaddr *)&lo, sizeof lo));
    next_packet(fd, buf, IPPROTO_ICMP, our_icmp);

    /* a datagram larger than the buffer: MSG_TRUNC, and its length with MSG_TRUNC */
    sendto(fd, out, echo(out, 3), 0, (struct sockaddr *)&lo, sizeof lo);
    for (int tries = 0; tries < 64; tries++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 2000) != 1)
            break;
        long n = recv(fd, buf, sizeof buf, MSG_PEEK);
        if (!our_icmp(buf, n)) {
            recv(fd, buf, sizeof buf, 0);
            continue;
        }
        struct iovec iov = {buf, 10};
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = &iov, m.msg_iovlen = 1;
        n = recvmsg(fd, &m, MSG_TRUNC);
        printf("echo reply 3 into 10 bytes: %ld, MSG_TRUNC %s\n", n,
               m.msg_flags & MSG_TRUNC ? "set" : "clear");
        break;
    }

    /* IP_HDRINCL: source 0, id 0, total length and checksum wrong */
    printf("IP_HDRINCL on: %s\n",
           setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0 ? err() : "ok");
    opt(fd, IPPROTO_IP, IP_HDRINCL, "IP_HDRINCL");
    printf("a 10-byte packet: %s\n",
           sendto(fd, out, 10, 0, (struct sockaddr *)&lo, sizeof lo) < 0 ? err() : "ok");
    memset(buf, 0, 20);
    buf[0] = 0x45, buf[8] = 64, buf[9] = IPPROTO_ICMP;
    buf[2] = 0x12, buf[3] = 0x34;
    buf[16] = 127, buf[19] = 1;
    int n = echo(buf + 20, 4);
    printf("whole packet sent: %ld\n",
           (long)sendto(fd, buf, 20 + n, 0, (struct sockaddr *)&lo, sizeof lo));
    next_packet(fd, buf, IPPROTO_ICMP, our_icmp);
    close(fd);

    /* a raw UDP socket sees a datagram to 127.0.0.1:47999 */
    int rawudp = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
    struct sockaddr_in to = loopback();
    to.sin_port = htons(47999);
    printf("udp datagram sent: %ld\n", (long)sendto(udp, "hello", 5, 0, (struct sockaddr *)&to, sizeof to));
    next_packet(rawudp, buf, IPPROTO_UDP, our_udp);
    close(rawudp);

    /* a protocol no one else handles */
    int raw253 = socket(AF_INET, SOCK_RAW, 253);
    printf("protocol 253 sent: %ld\n", (long)sendto(raw253, "pyuk", 4, 0, (struct sockaddr *)&lo, sizeof lo));
    next_packet(raw253, buf, 253, our_253);
    close(raw253);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534) < 0)
            printf("setuid: %s\n", err());
        int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
        printf("after setuid(65534): socket %s\n", s < 0 ? err() : "ok");
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return 0;
}
