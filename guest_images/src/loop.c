/*
 * loop N: pure compute loop (no syscalls inside), prints a 64-bit checksum.
 * The seed depends on argv so the compiler cannot constant-fold the loop.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    unsigned long long n = 10000000ULL;
    if (argc > 1)
        n = strtoull(argv[1], NULL, 0);

    /* Seed from the textual argument and argc, not from anything variable. */
    uint64_t x = 0x9e3779b97f4a7c15ULL ^ (uint64_t)argc;
    if (argc > 1)
        for (const char *p = argv[1]; *p; p++)
            x = x * 0x100000001b3ULL + (unsigned char)*p;

    uint64_t lcg = x | 1, acc = 0;
    for (unsigned long long i = 0; i < n; i++) {
        /* xorshift64 step */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* 64-bit LCG (Knuth MMIX constants) */
        lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
        /* mix with a rotate, a multiply-high and a data-dependent branch */
        uint64_t m = x ^ ((lcg << 23) | (lcg >> 41));
        acc += (uint64_t)(((unsigned __int128)m * 0xff51afd7ed558ccdULL) >> 64);
        if (m & 0x100)
            acc ^= m >> 3;
        else
            acc = (acc << 1) | (acc >> 63);
    }

    printf("loop %llu checksum=%016llx\n", n, (unsigned long long)(acc ^ (x + lcg)));
    return 0;
}
