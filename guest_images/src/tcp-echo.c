/*
 * tcp-echo.c - a TCP echo server: each connection's bytes are written back until the
 * peer shuts its writing down, then the server shuts its own and takes the next.
 *
 *   tcp-echo [-a ADDR] [-p PORT] [-n CONNECTIONS]   (default 0.0.0.0, port 7, no limit)
 *
 * One connection at a time, a 64 KiB buffer: what is read is written back in full
 * before the next read, so a peer must read while it writes. Once listening it
 * writes "tcp-echo: listening on port N" to stderr; after each connection it writes
 * "tcp-echo: N bytes" (the count echoed) to stdout. Exits 0 after CONNECTIONS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK 65536

static char buf[CHUNK];

static long long echo(int c)
{
    long long total = 0;
    for (;;) {
        ssize_t r = read(c, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -1 : total;
        for (ssize_t done = 0; done < r;) {
            ssize_t w = write(c, buf + done, (size_t)(r - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            done += w;
        }
        total += r;
    }
}

int main(int argc, char **argv)
{
    const char *addr = "0.0.0.0";
    int port = 7, limit = -1, opt;
    while ((opt = getopt(argc, argv, "a:p:n:")) != -1) {
        if (opt == 'a')
            addr = optarg;
        else if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 'n')
            limit = atoi(optarg);
        else {
            fprintf(stderr, "usage: tcp-echo [-a ADDR] [-p PORT] [-n CONNECTIONS]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    if (s < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        perror("tcp-echo: socket");
        return 1;
    }
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 16) < 0) {
        perror("tcp-echo: bind");
        return 1;
    }
    fprintf(stderr, "tcp-echo: listening on port %d\n", port);
    for (int served = 0; limit < 0 || served < limit; served++) {
        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                served--;
                continue;
            }
            perror("tcp-echo: accept");
            return 1;
        }
        long long n = echo(c);
        shutdown(c, SHUT_WR);
        close(c);
        printf("tcp-echo: %lld bytes\n", n);
        fflush(stdout);
    }
    return 0;
}
