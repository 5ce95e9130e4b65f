/*
 * ptrchase N [MB]: follows N links of one random cycle through a table of
 * MB megabytes (default 16) of 8-byte indices, so nearly every load lands on
 * another page; prints where the walk ended. The cycle is built with
 * Sattolo's algorithm from a fixed xorshift seed, so the output is the same
 * on every run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    unsigned long long n = 1000000ULL, mb = 16;
    if (argc > 1)
        n = strtoull(argv[1], NULL, 0);
    if (argc > 2)
        mb = strtoull(argv[2], NULL, 0);
    size_t count = (size_t)(mb << 20) / sizeof(uint64_t);
    if (count < 2)
        count = 2;
    uint64_t *next = malloc(count * sizeof(uint64_t));
    if (!next) {
        printf("ptrchase: no memory\n");
        return 1;
    }
    for (size_t i = 0; i < count; i++)
        next[i] = i;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t i = count - 1; i > 0; i--) {        /* Sattolo: one single cycle */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t j = x % i;
        uint64_t t = next[i];
        next[i] = next[j];
        next[j] = t;
    }
    uint64_t at = 0, sum = 0;
    for (unsigned long long i = 0; i < n; i++) {
        at = next[at];
        sum += at;
    }
    printf("ptrchase %llu at=%llu sum=%016llx\n", n, (unsigned long long)at,
           (unsigned long long)sum);
    free(next);
    return 0;
}
