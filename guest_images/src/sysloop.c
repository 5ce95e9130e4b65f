/*
 * sysloop N [name]: performs N trivial system calls with the raw `syscall`
 * instruction (one syscall per iteration on every libc), then prints
 * "done N".  name selects the syscall: getppid (default), getpid, gettid,
 * getuid, geteuid, getgid, getegid, sched_yield.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "guest.h"

static const struct {
    const char *name;
    long nr;
} table[] = {
    {"getppid", SYS_getppid},
    {"getpid", SYS_getpid},
    {"gettid", SYS_gettid},
    {"getuid", SYS_getuid},
    {"geteuid", SYS_geteuid},
    {"getgid", SYS_getgid},
    {"getegid", SYS_getegid},
    {"sched_yield", SYS_sched_yield},
};

int main(int argc, char **argv)
{
    unsigned long n = 100000;
    long nr = SYS_getppid;

    if (argc > 1)
        n = strtoul(argv[1], NULL, 0);
    if (argc > 2) {
        size_t i;
        for (i = 0; i < sizeof table / sizeof table[0]; i++)
            if (strcmp(argv[2], table[i].name) == 0)
                break;
        if (i == sizeof table / sizeof table[0]) {
            fprintf(stderr, "sysloop: unknown syscall name '%s'\n", argv[2]);
            return 2;
        }
        nr = table[i].nr;
    }

    long bad = 0;
    for (unsigned long i = 0; i < n; i++) {
        long r = raw_syscall0(nr);
        if (r < 0)
            bad++;
    }
    if (bad)
        printf("errors %ld\n", bad);
    printf("done %lu\n", n);
    return bad ? 1 : 0;
}
