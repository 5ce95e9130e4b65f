/* neighbour: small steps for programs sharing one address space (pyunik run --apps).
 *
 *   neighbour publish FILE   a buffer's address into FILE, then wait (up to ~10 s) until
 *                            someone else changes the buffer; prints what it then holds
 *   neighbour poke FILE      wait for FILE, write a string at the address it holds
 *   neighbour closeout FILE  close fd 1, then create FILE (a signal for waitout)
 *   neighbour waitout FILE   wait for FILE, then write to fd 1 (still open here?)
 *   neighbour ids            print pid and ppid
 *   neighbour heap           brk(2): grow the break by 64 KiB, fill it, shrink it back
 *   neighbour exit N [MS]    sleep MS milliseconds, print "exit N", exit with N
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

static char buf[64] = "untouched";

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int wait_for(const char *path)
{
    for (int i = 0; i < 2000; i++) {
        if (access(path, F_OK) == 0)
            return 0;
        nap(5);
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *what = argv[1];
    if (!strcmp(what, "publish") && argc > 2) {
        char tmp[256], line[64];
        snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int n = snprintf(line, sizeof line, "%lx\n", (unsigned long)(uintptr_t)buf);
        if (fd < 0 || write(fd, line, n) != n || close(fd) || rename(tmp, argv[2])) {
            perror("publish");
            return 1;
        }
        for (int i = 0; i < 2000 && !strcmp(buf, "untouched"); i++) {
            nap(5);
            __asm__ volatile("" ::: "memory");    /* another program may write buf */
        }
        printf("publish: buffer holds \"%s\"\n", buf);
        return strcmp(buf, "untouched") ? 0 : 1;
    }
    if (!strcmp(what, "poke") && argc > 2) {
        char line[64] = {0};
        if (wait_for(argv[2]))
            return 1;
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0 || read(fd, line, sizeof line - 1) <= 0)
            return 1;
        char *p = (char *)(uintptr_t)strtoul(line, NULL, 16);
        strcpy(p, "written by a neighbour");
        printf("poke: wrote into the neighbour\n");
        return 0;
    }
    if (!strcmp(what, "closeout") && argc > 2) {
        close(1);
        int fd = open(argv[2], O_WRONLY | O_CREAT, 0644);
        if (fd < 0)
            return 1;
        close(fd);
        fprintf(stderr, "closeout: closed my fd 1\n");
        return 0;
    }
    if (!strcmp(what, "waitout") && argc > 2) {
        if (wait_for(argv[2]))
            return 1;
        nap(20);
        if (write(1, "waitout: my fd 1 is open\n", 25) != 25)
            return 1;
        return 0;
    }
    if (!strcmp(what, "ids")) {
        printf("pid %d ppid %d\n", (int)getpid(), (int)getppid());
        return 0;
    }
    if (!strcmp(what, "heap")) {
        /* brk(2) itself: musl's sbrk refuses to move the break */
        char *start = (char *)raw_syscall1(SYS_brk, 0);
        char *end = (char *)raw_syscall1(SYS_brk, start + 65536);
        if (end != start + 65536) {
            printf("heap: brk did not grow\n");
            return 1;
        }
        memset(start, 0x5a, 65536);
        int ok = start[65535] == 0x5a;
        ok &= (char *)raw_syscall1(SYS_brk, start) == start;
        printf("heap: grew and shrank %s\n", ok ? "ok" : "WRONG");
        return ok ? 0 : 1;
    }
    if (!strcmp(what, "exit") && argc > 2) {
        int code = atoi(argv[2]);
        if (argc > 3)
            nap(atol(argv[3]));
        printf("exit %d\n", code);
        return code;
    }
    return 2;
}
