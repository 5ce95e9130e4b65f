/*
 * store N: a store-heavy loop. Each iteration advances a 64-bit LCG and stores
 * it into a 64 KiB table at an index taken from its high bits (one 8-byte
 * store per iteration, no loads in the loop); then prints a checksum of the
 * table. The seed depends on argv so the compiler cannot fold the loop.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SLOTS 8192                      /* 64 KiB of uint64_t */

static uint64_t table[SLOTS];

int main(int argc, char **argv)
{
    unsigned long long n = 10000000ULL;
    if (argc > 1)
        n = strtoull(argv[1], NULL, 0);

    uint64_t x = 0x9e3779b97f4a7c15ULL ^ (uint64_t)argc;
    if (argc > 1)
        for (const char *p = argv[1]; *p; p++)
            x = x * 0x100000001b3ULL + (unsigned char)*p;

    for (unsigned long long i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        table[(x >> 40) & (SLOTS - 1)] = x;
    }

    uint64_t sum = 0;
    for (int i = 0; i < SLOTS; i++)
        sum = (sum ^ table[i]) * 0x100000001b3ULL;
    printf("store %llu checksum=%016llx\n", n, (unsigned long long)sum);
    return 0;
}
