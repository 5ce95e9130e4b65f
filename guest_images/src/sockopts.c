/* Socket options that change behaviour: TCP keepalive settings (ranges, defaults,
 * inheritance by an accepted socket), SO_BROADCAST for UDP and ping sockets, the TCP
 * options a stack may not offer. Loopback only: nothing leaves the machine.
 * tests/test_sockopts.py runs it natively and under pyunik. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *err(int e)
{
    switch (e) {
    case 0: return "ok";
    case EINVAL: return "EINVAL";
    case EACCES: return "EACCES";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EPERM: return "EPERM";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "errno%d", e);
        return buf;
    }
    }
}

static int set_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

static int get_int(int fd, int level, int name)
{
    int value = -1;
    socklen_t len = sizeof value;
    if (getsockopt(fd, level, name, &value, &len) != 0)
        return -errno;
    return value;
}

static void show_keepalive(const char *who, int fd)
{
    printf("%s: SO_KEEPALIVE %d idle %d intvl %d cnt %d\n", who,
           get_int(fd, SOL_SOCKET, SO_KEEPALIVE), get_int(fd, IPPROTO_TCP, TCP_KEEPIDLE),
           get_int(fd, IPPROTO_TCP, TCP_KEEPINTVL), get_int(fd, IPPROTO_TCP, TCP_KEEPCNT));
}

static void tcp_options(int probe)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    show_keepalive("new", s);
    printf("TCP_KEEPIDLE 0: %s\n", err(set_int(s, IPPROTO_TCP, TCP_KEEPIDLE, 0)));
    printf("TCP_KEEPIDLE 32768: %s\n", err(set_int(s, IPPROTO_TCP, TCP_KEEPIDLE, 32768)));
    printf("TCP_KEEPINTVL -1: %s\n", err(set_int(s, IPPROTO_TCP, TCP_KEEPINTVL, -1)));
    printf("TCP_KEEPCNT 128: %s\n", err(set_int(s, IPPROTO_TCP, TCP_KEEPCNT, 128)));
    short shorter = 5;
    printf("TCP_KEEPCNT short: %s\n",
           err(setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &shorter, sizeof shorter) ? errno : 0));
    printf("TCP_KEEPIDLE 30: %s\n", err(set_int(s, IPPROTO_TCP, TCP_KEEPIDLE, 30)));
    printf("TCP_KEEPINTVL 7: %s\n", err(set_int(s, IPPROTO_TCP, TCP_KEEPINTVL, 7)));
    printf("TCP_KEEPCNT 3: %s\n", err(set_int(s, IPPROTO_TCP, TCP_KEEPCNT, 3)));
    printf("SO_KEEPALIVE 1: %s\n", err(set_int(s, SOL_SOCKET, SO_KEEPALIVE, 1)));
    show_keepalive("set", s);
    /* what pyunik's stack does not offer: tests/test_sockopts.py KNOWN */
    printf("TCP_CORK 1: %s\n", err(set_int(s, IPPROTO_TCP, TCP_CORK, 1)));
    printf("TCP_QUICKACK 1: %s\n", err(set_int(s, IPPROTO_TCP, TCP_QUICKACK, 1)));
    printf("TCP_USER_TIMEOUT 1000: %s\n", err(set_int(s, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000)));
    printf("TCP_MAXSEG 1000: %s\n", err(set_int(s, IPPROTO_TCP, TCP_MAXSEG, 1000)));

    /* an accepted connection inherits the listener's keepalive settings */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &len)
            || listen(s, 1)) {
        perror("listen");
        return;
    }
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a)) {
        perror("connect");
        return;
    }
    int n = accept(s, NULL, NULL);
    show_keepalive("accepted", n);
    show_keepalive("client", c);
    printf("client TCP_KEEPIDLE 5: %s\n", err(set_int(c, IPPROTO_TCP, TCP_KEEPIDLE, 5)));
    printf("client SO_KEEPALIVE 1: %s\n", err(set_int(c, SOL_SOCKET, SO_KEEPALIVE, 1)));
    show_keepalive("client", c);
    printf("echo: %s\n", write(c, "k", 1) == 1 && read(n, &shorter, 1) == 1 ? "ok" : "lost");
    if (probe) {
        /* idle for 2.5 s with a 1 s keepalive: the peer (the accepted socket's
         * stack) answers the probes, so the connection stays up */
        set_int(c, IPPROTO_TCP, TCP_KEEPIDLE, 1);
        set_int(c, IPPROTO_TCP, TCP_KEEPINTVL, 1);
        usleep(2500000);
        printf("after idle: %s\n", write(c, "k", 1) == 1 && read(n, &shorter, 1) == 1
               ? "ok" : "lost");
    }
    close(n);
    close(c);
    close(s);
}

static void broadcast(int type, int protocol, const char *name)
{
    int s = socket(AF_INET, type, protocol);
    if (s < 0) {
        printf("%s socket: %s\n", name, err(errno));
        return;
    }
    struct sockaddr_in b = {.sin_family = AF_INET, .sin_port = htons(9),
                            .sin_addr.s_addr = htonl(0x7fffffff)};   /* lo's broadcast */
    struct icmphdr h = {.type = ICMP_ECHO};
    int r = sendto(s, &h, sizeof h, 0, (struct sockaddr *)&b, sizeof b);
    printf("%s sendto 127.255.255.255: %s\n", name, err(r < 0 ? errno : 0));
    r = connect(s, (struct sockaddr *)&b, sizeof b);
    printf("%s connect 127.255.255.255: %s\n", name, err(r < 0 ? errno : 0));
    printf("%s SO_BROADCAST 1: %s\n", name, err(set_int(s, SOL_SOCKET, SO_BROADCAST, 1)));
    printf("%s SO_BROADCAST: %d\n", name, get_int(s, SOL_SOCKET, SO_BROADCAST));
    r = connect(s, (struct sockaddr *)&b, sizeof b);
    printf("%s connect 127.255.255.255: %s\n", name, err(r < 0 ? errno : 0));
    close(s);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    /* argv[1] "probe": also stay idle past a short keepalive time */
    tcp_options(argc > 1 && !strcmp(argv[1], "probe"));
    broadcast(SOCK_DGRAM, 0, "udp");
    return 0;
}
