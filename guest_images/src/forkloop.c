/*
 * forkloop.c - the cost of making processes (benchmarks/run.py row 16).
 *
 *   forkloop N [MB]   touch MB MiB of private memory (default 0), then N times:
 *                     fork, the child _exits at once, the parent waits for it.
 *                     Prints `forks N mb MB` to stdout and, to stderr, the first
 *                     cycle's time as `first_fork_us T` (the copy of MB MiB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    long mb = argc > 2 ? atol(argv[2]) : 0;
    if (mb > 0) {
        char *p = mmap(NULL, mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED)
            return 2;
        for (long i = 0; i < mb << 20; i += 4096)
            p[i] = (char)i;
    }
    double first = 0;
    for (long i = 0; i < n; i++) {
        double t0 = now_us();
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid < 0)
            return 3;
        int st;
        if (waitpid(pid, &st, 0) != pid || st != 0)
            return 4;
        if (i == 0)
            first = now_us() - t0;
    }
    printf("forks %ld mb %ld\n", n, mb);
    fprintf(stderr, "first_fork_us %.0f\n", first);
    return 0;
}
