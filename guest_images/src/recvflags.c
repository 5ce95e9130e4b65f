/* recv flags on AF_INET sockets over loopback: MSG_TRUNC on TCP takes (or with
 * MSG_PEEK looks at) the bytes without writing the buffer (man 7 tcp), through recv,
 * recvfrom and recvmsg; MSG_ERRQUEUE with nothing queued is EAGAIN on TCP and UDP.
 * tests/test_net_recvflags.py runs it natively and under pyunik. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, ssize_t r, const char *buf)
{
    if (r < 0)
        printf("%s: -1 %s\n", what, strerror(errno));
    else
        printf("%s: %zd buffer \"%.8s\"\n", what, r, buf);
}

static void tcp_trunc(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&a, sizeof a) || getsockname(l, (struct sockaddr *)&a, &len)
            || listen(l, 1)) {
        perror("listen");
        return;
    }
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a)) {
        perror("connect");
        return;
    }
    int s = accept(l, NULL, NULL);
    if (write(c, "abcdefghijkl", 12) != 12) {
        perror("write");
        return;
    }
    usleep(100000);
    char buf[9] = "........";
    show("recv TRUNC|PEEK 4", recv(s, buf, 4, MSG_TRUNC | MSG_PEEK), buf);
    show("recv TRUNC 3", recv(s, buf, 3, MSG_TRUNC), buf);
    show("recvfrom TRUNC 2", recvfrom(s, buf, 2, MSG_TRUNC, NULL, NULL), buf);
    struct iovec v = {buf, 2};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    ssize_t r = recvmsg(s, &m, MSG_TRUNC);
    show("recvmsg TRUNC 2", r, buf);
    printf("recvmsg msg_flags %#x\n", m.msg_flags);
    show("recv NULL TRUNC 1", recv(s, NULL, 1, MSG_TRUNC), buf);
    show("recv 8", recv(s, buf, 8, 0), buf);
    memset(buf, '.', 8);
    show("recv ERRQUEUE|DONTWAIT", recv(s, buf, 8, MSG_ERRQUEUE | MSG_DONTWAIT), buf);
    show("recv ERRQUEUE", recv(s, buf, 8, MSG_ERRQUEUE), buf);
    v.iov_len = 8;
    m.msg_flags = 0;
    show("recvmsg ERRQUEUE", recvmsg(c, &m, MSG_ERRQUEUE), buf);
    close(c);
    show("recv TRUNC at end", recv(s, buf, 4, MSG_TRUNC), buf);
    close(s);
    close(l);
}

static void udp_errqueue(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    bind(u, (struct sockaddr *)&a, sizeof a);
    getsockname(u, (struct sockaddr *)&a, &len);
    char buf[9] = "........";
    show("udp recv ERRQUEUE", recv(u, buf, 8, MSG_ERRQUEUE), buf);
    sendto(u, "xyz", 3, 0, (struct sockaddr *)&a, sizeof a);
    usleep(50000);
    show("udp recv ERRQUEUE with data", recv(u, buf, 8, MSG_ERRQUEUE), buf);
    show("udp recv TRUNC 1", recv(u, buf, 1, MSG_TRUNC), buf);
    close(u);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    tcp_trunc();
    udp_errqueue();
    return 0;
}
