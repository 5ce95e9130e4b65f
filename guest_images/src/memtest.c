/*
 * memtest: exercises the memory-management system calls and prints one
 * deterministic line per check (booleans, return codes and errno names only;
 * never an address).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif

#define PG 4096UL

/* Raw wrappers: results are kernel values (negative errno on failure). */
static long k_mmap(void *a, unsigned long len, int prot, int flags)
{
    return raw_syscall6(SYS_mmap, (long)a, (long)len, prot, flags, -1, 0);
}
static long k_munmap(void *a, unsigned long len)
{
    return raw_syscall2(SYS_munmap, a, len);
}
static long k_mremap(void *old, unsigned long olen, unsigned long nlen,
                     int flags, void *naddr)
{
    return raw_syscall5(SYS_mremap, old, olen, nlen, flags, naddr);
}
static long k_mincore(void *a, unsigned long len, unsigned char *vec)
{
    return raw_syscall3(SYS_mincore, a, len, vec);
}

static int is_err(long r) { return r < 0 && r > -4096; }

static char *anon(unsigned long len)
{
    long r = k_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (is_err(r)) {
        printf("FATAL: anonymous mmap of %lu bytes failed: %s\n", len, fmt_ret(r));
        exit(1);
    }
    return (char *)r;
}

static int all_bytes(const char *p, unsigned long len, unsigned char v)
{
    for (unsigned long i = 0; i < len; i++)
        if ((unsigned char)p[i] != v)
            return 0;
    return 1;
}

static void fill_pattern(char *p, unsigned long len, unsigned seed)
{
    for (unsigned long i = 0; i < len; i++)
        p[i] = (char)(i * 131 + seed + (i >> 12));
}

static int check_pattern(const char *p, unsigned long len, unsigned seed)
{
    for (unsigned long i = 0; i < len; i++)
        if (p[i] != (char)(i * 131 + seed + (i >> 12)))
            return 0;
    return 1;
}

/* "ok"/"BAD" helper */
static const char *ok(int c) { return c ? "ok" : "BAD"; }

/* Is [a, a+len) fully unmapped?  mincore reports ENOMEM for unmapped pages. */
static const char *mapped_state(void *a, unsigned long len)
{
    unsigned char vec[64];
    long r = k_mincore(a, len, vec);
    if (r == 0)
        return "mapped";
    if (r == -ENOMEM)
        return "unmapped";
    return fmt_ret(r);
}

static void t_anon_rw(void)
{
    char *p = anon(4 * PG);
    int zero = all_bytes(p, 4 * PG, 0);
    fill_pattern(p, 4 * PG, 7);
    int rw = check_pattern(p, 4 * PG, 7);
    printf("anon mmap: zero-filled=%d rw=%s munmap=%s\n", zero, ok(rw),
           fmt_ret(k_munmap(p, 4 * PG)));
}

static void t_munmap_middle(void)
{
    char *p = anon(3 * PG);
    fill_pattern(p, 3 * PG, 1);
    long r = k_munmap(p + PG, PG);
    int first = check_pattern(p, PG, 1);
    int third = 1;
    for (unsigned long i = 2 * PG; i < 3 * PG; i++)
        if (p[i] != (char)(i * 131 + 1 + (i >> 12)))
            third = 0;
    p[0] = 'A';
    p[2 * PG] = 'C';
    first = first && p[0] == 'A';
    third = third && p[2 * PG] == 'C';
    printf("munmap middle: ret=%s first=%s third=%s middle=%s\n", fmt_ret(r),
           ok(first), ok(third), mapped_state(p + PG, PG));
    /* munmap over a range containing a hole is fine */
    printf("munmap with hole: %s\n", fmt_ret(k_munmap(p, 3 * PG)));
    printf("munmap already unmapped: %s\n", fmt_ret(k_munmap(p, 3 * PG)));
}

static void t_mprotect(void)
{
    char *p = anon(2 * PG);
    memset(p, 0x11, 2 * PG);
    long r = raw_syscall3(SYS_mprotect, p, PG, PROT_READ);
    p[PG] = 0x22;                 /* second page is still writable */
    int wr = p[PG] == 0x22;
    int rd = all_bytes(p, PG, 0x11); /* read-only page still readable */
    long r2 = raw_syscall3(SYS_mprotect, p, PG, PROT_READ | PROT_WRITE);
    p[0] = 0x33;
    printf("mprotect: ro=%s write other=%s read ro=%s back rw=%s write=%s\n",
           fmt_ret(r), ok(wr), ok(rd), fmt_ret(r2), ok(p[0] == 0x33));
    printf("mprotect unaligned: %s\n",
           fmt_ret(raw_syscall3(SYS_mprotect, p + 1, PG, PROT_READ)));
    printf("mprotect bad prot: %s\n",
           fmt_ret(raw_syscall3(SYS_mprotect, p, PG, 0x1000)));
    k_munmap(p, 2 * PG);
    printf("mprotect unmapped: %s\n",
           fmt_ret(raw_syscall3(SYS_mprotect, p, PG, PROT_READ)));
}

static void t_map_fixed(void)
{
    char *p = anon(2 * PG);
    memset(p, 0xAA, 2 * PG);
    long r = k_mmap(p, PG, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    printf("map fixed: same addr=%d replaced zero=%d neighbour kept=%d\n",
           r == (long)p, all_bytes(p, PG, 0), all_bytes(p + PG, PG, 0xAA));

    long r2 = k_mmap(p + PG, PG, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
    printf("map fixed_noreplace occupied: %s\n", fmt_ret(r2));
    k_munmap(p + PG, PG);
    long r3 = k_mmap(p + PG, PG, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
    printf("map fixed_noreplace free: same addr=%d zero=%d\n", r3 == (long)(p + PG),
           r3 == (long)(p + PG) && all_bytes(p + PG, PG, 0));
    long r4 = k_mmap(p + 1, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    printf("map fixed unaligned: %s\n", fmt_ret(r4));
    k_munmap(p, 2 * PG);
}

static void t_brk(void)
{
    long cur = raw_syscall1(SYS_brk, 0);
    long cur2 = raw_syscall1(SYS_brk, 0);
    printf("brk query: nonzero=%d stable=%d\n", cur != 0, cur == cur2);

    long want = cur + (1L << 20);
    long grown = raw_syscall1(SYS_brk, want);
    int grow_ok = grown == want;
    int wr = 0;
    if (grow_ok) {
        char *area = (char *)cur;
        /* new brk memory must be zero and writable */
        int zero = all_bytes(area, 1UL << 20, 0);
        fill_pattern(area, 1UL << 20, 9);
        wr = zero && check_pattern(area, 1UL << 20, 9);
    }
    printf("brk grow 1MiB: ok=%d zero+rw=%s\n", grow_ok, ok(wr));

    long shrunk = raw_syscall1(SYS_brk, cur);
    printf("brk shrink: ok=%d after=%s\n", shrunk == cur,
           mapped_state((void *)((cur + PG - 1) & ~(PG - 1)), PG));

    /* Regrow: the re-exposed memory must be zero again. */
    long again = raw_syscall1(SYS_brk, cur + (long)(2 * PG));
    int rezero = again == cur + (long)(2 * PG) && all_bytes((char *)cur, 2 * PG, 0);
    printf("brk regrow zeroed: %d\n", rezero);
    raw_syscall1(SYS_brk, cur);

    long absurd = raw_syscall1(SYS_brk, 0x7ffffffffffff000L);
    printf("brk absurd high: returns old=%d\n", absurd == cur);
    long past = raw_syscall1(SYS_brk, -4096L);
    printf("brk kernel address: returns old=%d\n", past == cur);
    long low = raw_syscall1(SYS_brk, 4096);
    printf("brk below start: returns old=%d\n", low == cur);
    printf("brk final unchanged=%d\n", raw_syscall1(SYS_brk, 0) == cur);
}

static void t_mremap(void)
{
    /* grow with MREMAP_MAYMOVE: contents preserved, new tail usable */
    char *p = anon(PG);
    fill_pattern(p, PG, 3);
    long r = k_mremap(p, PG, 4 * PG, MREMAP_MAYMOVE, NULL);
    int pres = 0, tail = 0;
    if (!is_err(r)) {
        char *q = (char *)r;
        pres = check_pattern(q, PG, 3);
        tail = all_bytes(q + PG, 3 * PG, 0);
        memset(q + PG, 0x44, 3 * PG);
        tail = tail && all_bytes(q + PG, 3 * PG, 0x44);
        k_munmap(q, 4 * PG);
    }
    printf("mremap maymove grow: %s preserved=%s tail zero+rw=%s\n",
           is_err(r) ? fmt_ret(r) : "ok", ok(pres), ok(tail));

    /* grow in place: reserve 4 pages, free the last 3, then grow page 0 */
    p = anon(4 * PG);
    fill_pattern(p, PG, 4);
    k_munmap(p + PG, 3 * PG);
    r = k_mremap(p, PG, 4 * PG, 0, NULL);
    int inplace = r == (long)p;
    if (inplace) {
        pres = check_pattern(p, PG, 4);
        p[4 * PG - 1] = 1;
    }
    printf("mremap grow in place: %s same addr=%d preserved=%s\n",
           is_err(r) ? fmt_ret(r) : "ok", inplace, ok(inplace && pres));

    /* grow blocked by a neighbour without MAYMOVE -> ENOMEM */
    k_munmap(p + PG, 3 * PG);
    char *n = (char *)k_mmap(p + PG, PG, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    memset(n, 0x55, PG);
    r = k_mremap(p, PG, 2 * PG, 0, NULL);
    printf("mremap grow blocked: %s neighbour intact=%d\n", fmt_ret(r),
           all_bytes(n, PG, 0x55));
    k_munmap(p, 2 * PG);

    /* shrink: same address, tail unmapped */
    p = anon(4 * PG);
    fill_pattern(p, 4 * PG, 5);
    r = k_mremap(p, 4 * PG, PG, 0, NULL);
    printf("mremap shrink: same addr=%d preserved=%s tail=%s\n", r == (long)p,
           ok(check_pattern(p, PG, 5)), mapped_state(p + PG, 3 * PG));
    k_munmap(p, PG);

    /* MREMAP_FIXED: move onto an existing mapping, replacing it */
    char *src = anon(2 * PG);
    char *dst = anon(2 * PG);
    fill_pattern(src, 2 * PG, 6);
    memset(dst, 0x77, 2 * PG);
    r = k_mremap(src, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    printf("mremap fixed: at dst=%d preserved=%s src=%s\n", r == (long)dst,
           ok(r == (long)dst && check_pattern(dst, 2 * PG, 6)),
           mapped_state(src, 2 * PG));
    k_munmap(dst, 2 * PG);

    /* error cases */
    p = anon(PG);
    printf("mremap fixed without maymove: %s\n",
           fmt_ret(k_mremap(p, PG, PG, MREMAP_FIXED, p + 16 * PG)));
    printf("mremap unaligned: %s\n",
           fmt_ret(k_mremap(p + 1, PG, 2 * PG, MREMAP_MAYMOVE, NULL)));
    printf("mremap zero new len: %s\n",
           fmt_ret(k_mremap(p, PG, 0, MREMAP_MAYMOVE, NULL)));
    printf("mremap bad flags: %s\n",
           fmt_ret(k_mremap(p, PG, 2 * PG, 0x100, NULL)));
    k_munmap(p, PG);
    printf("mremap unmapped: %s\n",
           fmt_ret(k_mremap(p, PG, 2 * PG, MREMAP_MAYMOVE, NULL)));
}

static void t_madvise(void)
{
    char *p = anon(2 * PG);
    memset(p, 0x5A, 2 * PG);
    long r = raw_syscall3(SYS_madvise, p, PG, MADV_DONTNEED);
    printf("madvise dontneed: ret=%s zeroed=%d other kept=%d\n", fmt_ret(r),
           all_bytes(p, PG, 0), all_bytes(p + PG, PG, 0x5A));
    printf("madvise willneed: %s\n",
           fmt_ret(raw_syscall3(SYS_madvise, p, 2 * PG, MADV_WILLNEED)));
    printf("madvise unaligned: %s\n",
           fmt_ret(raw_syscall3(SYS_madvise, p + 1, PG, MADV_DONTNEED)));
    printf("madvise bad advice: %s\n",
           fmt_ret(raw_syscall3(SYS_madvise, p, PG, 9999)));
    k_munmap(p, 2 * PG);
}

static void t_mincore_msync(void)
{
    char *p = anon(2 * PG);
    p[0] = 1;                     /* touch first page only */
    unsigned char vec[2] = {0xff, 0xff};
    long r = k_mincore(p, 2 * PG, vec);
    printf("mincore mapped: ret=%s touched resident=%d\n", fmt_ret(r), vec[0] & 1);
    printf("mincore unaligned: %s\n", fmt_ret(k_mincore(p + 1, PG, vec)));
    printf("mincore bad vec: %s\n", fmt_ret(k_mincore(p, PG, (unsigned char *)8)));

    printf("msync: %s\n", fmt_ret(raw_syscall3(SYS_msync, p, 2 * PG, MS_SYNC)));
    printf("msync async: %s\n", fmt_ret(raw_syscall3(SYS_msync, p, PG, MS_ASYNC)));
    printf("msync unaligned: %s\n",
           fmt_ret(raw_syscall3(SYS_msync, p + 1, PG, MS_SYNC)));
    printf("msync bad flags: %s\n",
           fmt_ret(raw_syscall3(SYS_msync, p, PG, MS_SYNC | MS_ASYNC)));
    k_munmap(p, 2 * PG);
    printf("mincore unmapped: %s\n", fmt_ret(k_mincore(p, 2 * PG, vec)));
    printf("msync unmapped: %s\n",
           fmt_ret(raw_syscall3(SYS_msync, p, PG, MS_SYNC)));
}

static void t_errors(void)
{
    printf("mmap len 0: %s\n",
           fmt_ret(k_mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)));
    printf("mmap no share type: %s\n",
           fmt_ret(k_mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS)));
    printf("mmap bad fd: %s\n",
           fmt_ret(raw_syscall6(SYS_mmap, 0, PG, PROT_READ, MAP_PRIVATE, 99, 0)));
    printf("mmap unaligned offset: %s\n",
           fmt_ret(raw_syscall6(SYS_mmap, 0, PG, PROT_READ,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 1)));
    char *p = anon(PG);
    printf("munmap unaligned: %s\n", fmt_ret(k_munmap(p + 1, PG)));
    printf("munmap len 0: %s\n", fmt_ret(k_munmap(p, 0)));
    printf("munmap ok: %s\n", fmt_ret(k_munmap(p, PG)));

    /* Unaligned length is rounded up. */
    p = anon(PG + 1);
    p[2 * PG - 1] = 1;
    printf("mmap odd length rounded: %s\n", mapped_state(p, 2 * PG));
    k_munmap(p, PG + 1);
    printf("munmap odd length: %s\n", mapped_state(p, 2 * PG));

    /* PROT_NONE then mprotect to RW */
    long r = k_mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
    long pr = raw_syscall3(SYS_mprotect, r, PG, PROT_READ | PROT_WRITE);
    ((char *)r)[5] = 9;
    printf("prot_none then rw: %s value=%d\n", fmt_ret(pr), ((char *)r)[5]);
    k_munmap((void *)r, PG);

    /* 1 TiB without MAP_NORESERVE: depends on the overcommit policy. */
    long h = k_mmap(NULL, 1UL << 40, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS);
    if (is_err(h)) {
        printf("huge mmap: %s\n", fmt_ret(h) + 1);
    } else {
        printf("huge mmap: ok\n");
        k_munmap((void *)h, 1UL << 40);
    }
    /* With MAP_NORESERVE it must succeed and be usable sparsely. */
    h = k_mmap(NULL, 1UL << 40, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
    if (is_err(h)) {
        printf("huge mmap noreserve: %s\n", fmt_ret(h));
    } else {
        char *q = (char *)h;
        q[0] = 1;
        q[(1UL << 40) - 1] = 2;
        q[1UL << 39] = 3;
        printf("huge mmap noreserve: ok sparse rw=%s\n",
               ok(q[0] == 1 && q[(1UL << 40) - 1] == 2 && q[1UL << 39] == 3 &&
                  q[12345678] == 0));
        k_munmap(q, 1UL << 40);
    }
}

static void t_malloc(void)
{
    uint64_t sum = 0, seed = 12345;
    void *slots[64] = {0};
    size_t sizes[64] = {0};
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int s = (int)(seed >> 58);                 /* 0..63 */
        if (slots[s]) {
            unsigned char *b = slots[s];
            for (size_t k = 0; k < sizes[s]; k += 61)
                sum = sum * 31 + b[k];
            free(slots[s]);
            slots[s] = NULL;
        } else {
            /* mostly small, sometimes large (mmap-backed) */
            size_t sz = (seed >> 20) % 2048 + 1;
            if ((seed >> 40) % 97 == 0)
                sz = 300000 + (seed >> 44) % 100000;
            unsigned char *b = malloc(sz);
            if (!b) {
                printf("malloc: FAILED size=%zu\n", sz);
                return;
            }
            for (size_t k = 0; k < sz; k++)
                b[k] = (unsigned char)(k ^ s ^ i);
            slots[s] = b;
            sizes[s] = sz;
        }
    }
    for (int s = 0; s < 64; s++)
        free(slots[s]);

    /* calloc must be zeroed; realloc must preserve */
    unsigned char *c = calloc(1000, 100);
    int cz = c && all_bytes((char *)c, 100000, 0);
    memset(c, 0x3C, 100000);
    c = realloc(c, 1000000);
    int rp = c && all_bytes((char *)c, 100000, 0x3C);
    free(c);
    printf("malloc cycles: checksum=%016llx calloc zero=%d realloc preserved=%d\n",
           (unsigned long long)sum, cz, rp);
}

int main(void)
{
    t_anon_rw();
    t_munmap_middle();
    t_mprotect();
    t_map_fixed();
    t_brk();
    t_mremap();
    t_madvise();
    t_mincore_msync();
    t_errors();
    t_malloc();
    printf("memtest done\n");
    return 0;
}
