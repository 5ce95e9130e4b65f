/*
 * mmchurn MODE [N] [LIVE]: memory-mapping churn and the checks around it.
 *
 *   cycle N LIVE   map LIVE read-write mappings of 32 KiB and keep them; then N
 *                  times: mmap 64 KiB read-write, mprotect its first page
 *                  PROT_NONE (a guard), write below and above the guard, munmap
 *                  it.  Prints "cycle N live LIVE sum S".
 *   stacks N       map N thread stacks the way glibc's pthread_create does
 *                  (mmap 8 MiB + a guard page PROT_NONE, then mprotect the
 *                  stack part read-write), touch each, keep them.  Prints
 *                  "stacks N".
 *   mremap         mremap(2) with bad arguments and unmapped addresses: one
 *                  line per case with the result or the errno name, then
 *                  proof that the stack and a mapping next to the cases survive.
 *   touch          maps a page, unmaps it, maps and unmaps again at the same
 *                  address, then writes to it: dies by SIGSEGV.
 *
 * The mappings use raw system calls so no libc can add or merge calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "guest.h"

#define KIB 1024UL
#define MIB (1024 * KIB)

static long map(long addr, unsigned long len, int prot, int flags)
{
    return raw_syscall6(SYS_mmap, addr, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
}

static void fail(const char *what, long r)
{
    const char *name = errno_name(-r);
    printf("%s failed: %s\n", what, name ? name : "?");
    exit(1);
}

static int cycle(unsigned long n, unsigned long live)
{
    unsigned long sum = 0;
    for (unsigned long i = 0; i < live; i++) {
        long p = map(0, 32 * KIB, PROT_READ | PROT_WRITE, 0);
        if (p < 0)
            fail("live mmap", p);
        ((volatile char *)p)[i % (32 * KIB)] = 1;
    }
    for (unsigned long i = 0; i < n; i++) {
        long p = map(0, 64 * KIB, PROT_READ | PROT_WRITE, 0);
        if (p < 0)
            fail("mmap", p);
        long r = raw_syscall3(SYS_mprotect, p, 4 * KIB, PROT_NONE);
        if (r < 0)
            fail("mprotect", r);
        volatile char *c = (volatile char *)p;
        sum += c[8 * KIB];          /* fresh pages read zero */
        c[8 * KIB] = 1;
        c[64 * KIB - 1] = 2;
        r = raw_syscall2(SYS_munmap, p, 64 * KIB);
        if (r < 0)
            fail("munmap", r);
    }
    printf("cycle %lu live %lu sum %lu\n", n, live, sum);
    return 0;
}

static int stacks(unsigned long n)
{
    const unsigned long guard = 4 * KIB, size = 8 * MIB + guard;
    for (unsigned long i = 0; i < n; i++) {
        long p = map(0, size, PROT_NONE, MAP_STACK);
        if (p < 0)
            fail("stack mmap", p);
        long r = raw_syscall3(SYS_mprotect, p + guard, size - guard, PROT_READ | PROT_WRITE);
        if (r < 0)
            fail("stack mprotect", r);
        ((volatile char *)p)[size - 1] = 1;
        ((volatile char *)p)[guard] = 1;
    }
    printf("stacks %lu\n", n);
    return 0;
}

static void show(const char *what, long r)
{
    if (r < 0) {
        const char *name = errno_name(-r);
        printf("%-44s %s\n", what, name ? name : "?");
    } else {
        printf("%-44s ok\n", what);
    }
}

#define MREMAP(a, o, n, f, na) raw_syscall5(SYS_mremap, (a), (o), (n), (f), (na))

static int mremap_checks(void)
{
    const long M = 1, F = 2, D = 4; /* MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP */
    long area = map(0, 64 * KIB, PROT_READ | PROT_WRITE, 0);
    if (area < 0)
        fail("mmap", area);
    /* Two pages mapped, then a hole of four, then another page. */
    long a = area, hole = area + 2 * 4096;
    raw_syscall2(SYS_munmap, hole, 4 * 4096);
    long last = area + 6 * 4096;
    memset((void *)a, 'a', 2 * 4096);

    show("unmapped old, huge lengths, MAYMOVE",
         MREMAP(hole, 0xffffffffff600000UL, 0x200000000008UL, M, 0));
    show("unmapped old, shrink", MREMAP(hole, 2 * 4096, 4096, 0, 0));
    show("unmapped old, same size", MREMAP(hole, 4096, 4096, 0, 0));
    show("unmapped old, grow", MREMAP(hole, 4096, 2 * 4096, M, 0));
    show("unmapped old, huge grow", MREMAP(hole, 4096, 0x7fffffffffff0000UL, M, 0));
    show("unmapped old, zero new length", MREMAP(hole, 4096, 0, M, 0));
    show("unmapped old, bad flags", MREMAP(hole, 4096, 4096, 0x80, 0));
    show("unmapped old, unaligned", MREMAP(hole + 1, 4096, 4096, M, 0));
    show("unmapped old, FIXED without MAYMOVE", MREMAP(hole, 4096, 4096, F, hole + 4096));
    show("unmapped old, FIXED", MREMAP(hole, 4096, 4096, M | F, hole + 8192));
    show("unmapped old, FIXED unaligned new", MREMAP(hole, 4096, 4096, M | F, hole + 1));
    show("unmapped old, FIXED huge new", MREMAP(hole, 4096, 4096, M | F, -4096L));
    show("unmapped old, DONTUNMAP size change", MREMAP(hole, 4096, 8192, M | D, 0));
    show("mapped old, zero new length", MREMAP(a, 4096, 0, M, 0));
    show("mapped old, bad flags", MREMAP(a, 4096, 4096, 0x80, 0));
    show("mapped old, huge old length shrink", MREMAP(a, 0xffffffffff600000UL, 4096, 0, 0));
    show("mapped old, huge lengths, MAYMOVE",
         MREMAP(a, 0xffffffffff600000UL, 0x200000000008UL, M, 0));
    show("mapped old, past its mapping, grow", MREMAP(a, 3 * 4096, 4 * 4096, M, 0));
    show("mapped old, huge grow", MREMAP(a, 4096, 0x7fffffffffff0000UL, M, 0));
    show("mapped old, grow past TASK_SIZE", MREMAP(a, 4096, 0x800000000000UL, M, 0));
    show("mapped old, grow, new_addr without FIXED", MREMAP(a, 4096, 4096, M, -4096L));
    show("mapped old, old length wraps to zero", MREMAP(a, -1L, 4096, M, 0));
    show("mapped old, FIXED overlapping", MREMAP(a, 4096, 4096, M | F, a + 4096 - 4096));
    show("mapped old, FIXED huge new", MREMAP(a, 4096, 4096, M | F, -4096L));
    show("mapped old, FIXED new past TASK_SIZE", MREMAP(a, 4096, 4096, M | F, 0x7ffffffff000L));
    show("mapped old, grow in place without MAYMOVE", MREMAP(a, 2 * 4096, 3 * 4096, 0, 0));

    /* Everything above that failed changed nothing. */
    int intact = 1;
    for (int i = 0; i < 2 * 4096; i++)
        if (((char *)a)[i] != 'a')
            intact = 0;
    ((volatile char *)last)[0] = 1;
    printf("mapping intact %d\n", intact);
    char local[64];
    snprintf(local, sizeof local, "stack intact");
    puts(local);
    return 0;
}

static int touch(void)
{
    long p = map(0, 64 * KIB, PROT_READ | PROT_WRITE, 0);
    if (p < 0)
        fail("mmap", p);
    ((volatile char *)p)[0] = 1;
    raw_syscall2(SYS_munmap, p, 64 * KIB);
    long q = map(p, 64 * KIB, PROT_READ | PROT_WRITE, MAP_FIXED_NOREPLACE);
    printf("mapped again at the same address: %s\n", q == p ? "yes" : "no");
    raw_syscall2(SYS_munmap, q, 64 * KIB);
    long r = raw_syscall3(SYS_write, 1, p + 4096, 8);
    printf("write from the unmapped range: %s\n", errno_name(-r) ? errno_name(-r) : "?");
    fflush(stdout);
    ((volatile char *)p)[4096 + 5] = 1;     /* SIGSEGV */
    puts("still alive");
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "cycle";
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000;
    unsigned long live = argc > 3 ? strtoul(argv[3], NULL, 0) : 300;

    if (strcmp(mode, "cycle") == 0)
        return cycle(n, live);
    if (strcmp(mode, "stacks") == 0)
        return stacks(n);
    if (strcmp(mode, "mremap") == 0)
        return mremap_checks();
    if (strcmp(mode, "touch") == 0)
        return touch();
    fprintf(stderr, "mmchurn: unknown mode '%s'\n", mode);
    return 2;
}
