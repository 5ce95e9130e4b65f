/*
 * statloop N PATH: calls newfstatat(AT_FDCWD, PATH, &st, 0) N times with the raw
 * `syscall` instruction, then prints "done N size" (the size of PATH) or the error.
 * The benchmark compares its cost per call with sysloop's trivial getppid.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "guest.h"

int main(int argc, char **argv)
{
    unsigned long n = 100000, i;
    const char *path = argc > 2 ? argv[2] : "/";
    struct stat st;
    long r = 0;

    if (argc > 1)
        n = strtoul(argv[1], NULL, 0);
    for (i = 0; i < n; i++)
        r = raw_syscall4(SYS_newfstatat, AT_FDCWD, path, &st, 0);
    if (r != 0) {
        printf("stat %s: %s\n", path, fmt_ret(r));
        return 1;
    }
    printf("done %lu %ld\n", n, (long)st.st_size);
    return 0;
}
