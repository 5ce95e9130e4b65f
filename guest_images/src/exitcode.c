/* exitcode N: prints "exiting N" to stderr and calls exit(N) (default 0). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 0;
    fprintf(stderr, "exiting %d\n", n);
    exit(n);
}
