/*
 * indirect N: N calls through a table of eight function pointers, the slot
 * chosen by the running value, so every call is a data-dependent indirect
 * call and return; prints the final value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef uint64_t (*step_fn)(uint64_t, uint64_t);

__attribute__((noinline)) static uint64_t f0(uint64_t a, uint64_t i) { return a + i; }
__attribute__((noinline)) static uint64_t f1(uint64_t a, uint64_t i) { return a ^ (i << 3); }
__attribute__((noinline)) static uint64_t f2(uint64_t a, uint64_t i) { return a * 3 + i; }
__attribute__((noinline)) static uint64_t f3(uint64_t a, uint64_t i) { return (a >> 1) + i * 5; }
__attribute__((noinline)) static uint64_t f4(uint64_t a, uint64_t i) { return a - (i ^ 0x55); }
__attribute__((noinline)) static uint64_t f5(uint64_t a, uint64_t i) { return (a << 2) ^ i; }
__attribute__((noinline)) static uint64_t f6(uint64_t a, uint64_t i) { return a + (a >> 7) + (i & 1); }
__attribute__((noinline)) static uint64_t f7(uint64_t a, uint64_t i) { return a * 0x100000001b3ULL ^ i; }

static step_fn volatile table[8] = { f0, f1, f2, f3, f4, f5, f6, f7 };

int main(int argc, char **argv)
{
    unsigned long long n = 1000000ULL;
    if (argc > 1)
        n = strtoull(argv[1], NULL, 0);

    uint64_t a = 0x9e3779b97f4a7c15ULL ^ (uint64_t)argc;
    for (unsigned long long i = 0; i < n; i++)
        a = table[(a >> 13) & 7](a, i);
    printf("indirect %llu result=%016llx\n", n, (unsigned long long)a);
    return 0;
}
