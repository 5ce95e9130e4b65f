/* Every kind of file wakes its pollers: for each kind, another thread waits in an
 * edge-triggered epoll_wait (first round) or in poll(2) (second round) on a file that
 * is not ready; the main thread then makes it ready (data, room, a signal, a timer,
 * an event, an exit) and the waiter prints whether it was woken before its 3 s
 * timeout. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 3000

struct watch {
    int fd;
    short events;       /* POLLIN or POLLOUT */
    int woken;
};

static void *epoll_waiter(void *arg)
{
    struct watch *w = arg;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLET | (w->events == POLLIN ? EPOLLIN : EPOLLOUT)};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev) < 0) {
        perror("epoll_ctl");
        exit(1);
    }
    w->woken = epoll_wait(ep, &ev, 1, TIMEOUT_MS);
    close(ep);
    return NULL;
}

static void *poll_waiter(void *arg)
{
    struct watch *w = arg;
    struct pollfd p = {.fd = w->fd, .events = w->events};
    w->woken = poll(&p, 1, TIMEOUT_MS);
    return NULL;
}

static struct watch waiter;
static pthread_t waiter_thread;
static int by_poll;     /* this round's waiter: 0 epoll_wait, 1 poll */

/* Start this round's waiter on fd and give it time to park. (One waiter at a time:
 * a thread parked in poll would wake the queue an epoll watches with it.) */
static void watch(int fd, short events)
{
    waiter = (struct watch){.fd = fd, .events = events, .woken = -2};
    pthread_create(&waiter_thread, NULL, by_poll ? poll_waiter : epoll_waiter, &waiter);
    usleep(50000);
}

static void report(const char *kind)
{
    pthread_join(waiter_thread, NULL);
    printf("%-22s %s %d\n", kind, by_poll ? "poll" : "epoll", waiter.woken);
    fflush(stdout);
}

static void check(int ok, const char *what)
{
    if (!ok) {
        perror(what);
        exit(1);
    }
}

int main(void)
{
    char dir[] = "/tmp/pollwake-XXXXXX", path[64];
    int fds[2], fd, one = 1;
    uint64_t count = 1;
    char buf[65536];
    sigset_t usr1;

    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    check(mkdtemp(dir) != NULL, "mkdtemp");

  for (by_poll = 0; by_poll < 2; by_poll++) {

    check(pipe(fds) == 0, "pipe");
    watch(fds[0], POLLIN);
    check(write(fds[1], "x", 1) == 1, "write");
    report("pipe data");

    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    while (write(fds[1], buf, sizeof buf) > 0)
        ;
    watch(fds[1], POLLOUT);
    check(read(fds[0], buf, sizeof buf) > 0, "read");
    report("pipe room");
    close(fds[0]);
    close(fds[1]);

    snprintf(path, sizeof path, "%s/fifo", dir);
    check(mkfifo(path, 0600) == 0, "mkfifo");
    fds[0] = open(path, O_RDONLY | O_NONBLOCK);
    fds[1] = open(path, O_WRONLY);
    check(fds[0] >= 0 && fds[1] >= 0, "open fifo");
    watch(fds[0], POLLIN);
    check(write(fds[1], "x", 1) == 1, "write fifo");
    report("fifo data");
    close(fds[0]);
    close(fds[1]);
    unlink(path);

    fd = eventfd(0, 0);
    watch(fd, POLLIN);
    check(write(fd, &count, 8) == 8, "write eventfd");
    report("eventfd");
    close(fd);

    fd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec its = {.it_value = {.tv_sec = 1}};
    check(timerfd_settime(fd, 0, &its, NULL) == 0, "timerfd_settime");
    watch(fd, POLLIN);
    its.it_value = (struct timespec){.tv_nsec = 20000000};
    check(timerfd_settime(fd, 0, &its, NULL) == 0, "timerfd_settime");
    report("timerfd rearmed");
    close(fd);

    fd = inotify_init1(0);
    check(inotify_add_watch(fd, dir, IN_CREATE) >= 0, "inotify_add_watch");
    watch(fd, POLLIN);
    snprintf(path, sizeof path, "%s/file", dir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    report("inotify");
    close(fd);
    unlink(path);

    fd = signalfd(-1, &usr1, 0);
    watch(fd, POLLIN);
    kill(getpid(), SIGUSR1);
    report("signalfd");
    close(fd);

    check(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair");
    watch(fds[0], POLLIN);
    check(write(fds[1], "x", 1) == 1, "write unix");
    report("unix stream data");
    close(fds[0]);
    watch(fds[1], POLLIN);
    report("unix stream hangup");       /* the close above was before: at once */
    close(fds[1]);

    check(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair");
    watch(fds[0], POLLIN);
    close(fds[1]);
    report("unix stream peer gone");
    close(fds[0]);

    check(socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) == 0, "socketpair");
    watch(fds[0], POLLIN);
    check(send(fds[1], "x", 1, 0) == 1, "send unix dgram");
    report("unix dgram");
    close(fds[0]);
    close(fds[1]);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int lst = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    check(bind(lst, (struct sockaddr *)&addr, sizeof addr) == 0, "bind");
    check(listen(lst, 4) == 0, "listen");
    getsockname(lst, (struct sockaddr *)&addr, &len);
    watch(lst, POLLIN);
    int cli = socket(AF_INET, SOCK_STREAM, 0);
    check(connect(cli, (struct sockaddr *)&addr, sizeof addr) == 0, "connect");
    report("tcp listen");
    int srv = accept(lst, NULL, NULL);
    check(srv >= 0, "accept");
    watch(srv, POLLIN);
    check(write(cli, "x", 1) == 1, "write tcp");
    report("tcp data");
    watch(cli, POLLIN);
    shutdown(srv, SHUT_WR);
    report("tcp fin");
    close(cli);
    close(srv);
    close(lst);

    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    addr.sin_port = 0;
    check(bind(udp, (struct sockaddr *)&addr, sizeof addr) == 0, "bind udp");
    len = sizeof addr;
    getsockname(udp, (struct sockaddr *)&addr, &len);
    watch(udp, POLLIN);
    int out = socket(AF_INET, SOCK_DGRAM, 0);
    check(sendto(out, "x", 1, 0, (struct sockaddr *)&addr, sizeof addr) == 1, "sendto");
    report("udp");
    close(out);
    close(udp);

    int inner = epoll_create1(0);
    fd = eventfd(0, 0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(inner, EPOLL_CTL_ADD, fd, &ev);
    watch(inner, POLLIN);
    check(write(fd, &count, 8) == 8, "write eventfd");
    report("epoll");
    close(inner);
    close(fd);

    pid_t child = fork();
    if (child == 0) {
        usleep(200000);
        _exit(0);
    }
    fd = syscall(SYS_pidfd_open, child, 0);
    check(fd >= 0, "pidfd_open");
    watch(fd, POLLIN);
    report("pidfd");
    waitpid(child, NULL, 0);
    close(fd);

  }
    rmdir(dir);
    return 0;
}
