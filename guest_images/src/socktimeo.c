/*
 * socktimeo.c - socket calls with SO_RCVTIMEO and SO_SNDTIMEO and a signal handler
 * installed with SA_RESTART (man 7 signal): a wait with a timeout fails with EINTR
 * whatever SA_RESTART says, a wait without one is restarted (the handler then sends
 * the datagram the restarted recv gets), and without SA_RESTART it fails with EINTR;
 * a timeout that runs out is EAGAIN. recvfrom and accept over 127.0.0.1, send on a
 * full AF_UNIX stream, connect on a full listener.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "guest.h"

static volatile int handled;
static int wake_fd = -1;
static struct sockaddr_in wake_to;

static void on_alarm(int sig)
{
    (void)sig;
    handled++;
    if (wake_fd >= 0)
        sendto(wake_fd, "wake", 4, 0, (struct sockaddr *)&wake_to, sizeof wake_to);
}

static void handler(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
}

/* SIGALRM in ms, and every ms after until disarmed: a call the first one missed
 * (a loaded machine) is still interrupted, and the count then says so. */
static void alarm_in_ms(int ms)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = ms * 1000;
    it.it_interval.tv_usec = ms * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
}

static long disarm(long r)
{
    int saved = errno;
    struct itimerval it;
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
    errno = saved;
    return r;
}

static void timeo(int fd, int name, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv);
}

static void show(const char *what, long r)
{
    const char *e = r < 0 ? errno_name(errno) : NULL;
    if (r < 0)
        printf("%s: %s, handler ran %d time(s)\n", what, e ? e : "?", handled);
    else
        printf("%s: %ld, handler ran %d time(s)\n", what, r, handled);
    handled = 0;
}

static int udp_bound(struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t len = sizeof *a;
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)a, sizeof *a);
    getsockname(fd, (struct sockaddr *)a, &len);
    return fd;
}

int main(void)
{
    char buf[64];
    struct sockaddr_in a;

    /* a timeout that runs out: EAGAIN */
    int u = udp_bound(&a);
    timeo(u, SO_RCVTIMEO, 100);
    show("recvfrom, SO_RCVTIMEO 100 ms, no signal", recvfrom(u, buf, sizeof buf, 0, NULL, NULL));

    /* SO_RCVTIMEO and an SA_RESTART handler: EINTR */
    handler(1);
    timeo(u, SO_RCVTIMEO, 5000);
    alarm_in_ms(200);
    show("recvfrom, SO_RCVTIMEO 5 s, SA_RESTART", disarm(recvfrom(u, buf, sizeof buf, 0, NULL, NULL)));

    /* no timeout and an SA_RESTART handler: restarted, gets what the handler sent */
    timeo(u, SO_RCVTIMEO, 0);
    wake_fd = socket(AF_INET, SOCK_DGRAM, 0);
    wake_to = a;
    alarm_in_ms(200);
    show("recvfrom, no timeout, SA_RESTART", disarm(recvfrom(u, buf, sizeof buf, 0, NULL, NULL)));
    close(wake_fd);
    wake_fd = -1;

    /* no timeout, no SA_RESTART: EINTR */
    handler(0);
    alarm_in_ms(200);
    show("recvfrom, no timeout, no SA_RESTART", disarm(recvfrom(u, buf, sizeof buf, 0, NULL, NULL)));
    close(u);

    /* accept with SO_RCVTIMEO and an SA_RESTART handler */
    handler(1);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    timeo(l, SO_RCVTIMEO, 5000);
    alarm_in_ms(200);
    show("accept, SO_RCVTIMEO 5 s, SA_RESTART", disarm(accept(l, NULL, NULL)));
    timeo(l, SO_RCVTIMEO, 100);
    show("accept, SO_RCVTIMEO 100 ms, no signal", accept(l, NULL, NULL));
    close(l);

    /* send on a full AF_UNIX stream with SO_SNDTIMEO and an SA_RESTART handler */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    static char chunk[4096];
    while (send(sv[0], chunk, sizeof chunk, 0) > 0)
        ;
    fcntl(sv[0], F_SETFL, 0);
    timeo(sv[0], SO_SNDTIMEO, 5000);
    alarm_in_ms(200);
    show("send on a full stream, SO_SNDTIMEO 5 s, SA_RESTART",
         disarm(send(sv[0], chunk, sizeof chunk, 0)));
    timeo(sv[0], SO_SNDTIMEO, 100);
    show("send on a full stream, SO_SNDTIMEO 100 ms, no signal",
         send(sv[0], chunk, sizeof chunk, 0));
    /* read(2) on a socket honours SO_RCVTIMEO too */
    timeo(sv[1], SO_RCVTIMEO, 5000);
    char drain[65536];
    while (recv(sv[1], drain, sizeof drain, MSG_DONTWAIT) > 0)
        ;
    alarm_in_ms(200);
    show("read, SO_RCVTIMEO 5 s, SA_RESTART", disarm(read(sv[1], drain, sizeof drain)));
    close(sv[0]);
    close(sv[1]);
    return 0;
}
