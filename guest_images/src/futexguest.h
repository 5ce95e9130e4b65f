/*
 * futexguest.h - what the futex programs (pifutex, futexwaitv) share: a call's
 * result in words, an absolute time some milliseconds ahead on a clock, a sleep.
 */
#ifndef PYUNIK_FUTEXGUEST_H
#define PYUNIK_FUTEXGUEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "guest.h"

/* a raw call's result: the number, or the errno's name */
static const char *res(long r) {
    static char buf[8][32];
    static int n;
    char *b = buf[n++ & 7];
    if (r >= 0)
        snprintf(b, 32, "%ld", r);
    else if (r == -EDEADLK)
        snprintf(b, 32, "EDEADLK");
    else if (r == -EOWNERDEAD)
        snprintf(b, 32, "EOWNERDEAD");
    else if (r == -ENOTRECOVERABLE)
        snprintf(b, 32, "ENOTRECOVERABLE");
    else if (errno_name(-r))
        snprintf(b, 32, "%s", errno_name(-r));
    else
        snprintf(b, 32, "errno %ld", -r);
    return b;
}

static struct timespec abs_after(clockid_t clock, long ms) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_nsec += (ms % 1000) * 1000000L;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

static void msleep(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Wait until the thread whose TID *tid will hold sleeps in the kernel (its state in
 * /proc/self/task/TID/stat is S): a thread that stores its TID just before a
 * blocking call is then parked in it, however loaded the machine. */
static void until_asleep(volatile uint32_t *tid) {
    char path[64], buf[512];
    while (*tid == 0)
        msleep(1);
    snprintf(path, sizeof path, "/proc/self/task/%u/stat", *tid);
    for (;;) {
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 0) {
            buf[n] = 0;
            char *p = strrchr(buf, ')');
            if (p && p[1] == ' ' && p[2] == 'S')
                return;
        }
        msleep(1);
    }
}

#endif
