/* futex_waitv(2), and futex2's futex_wake(2), futex_wait(2), futex_requeue(2): Linux's checks in their order (kernel/futex/syscalls.c), absolute
 * timeouts on CLOCK_MONOTONIC and CLOCK_REALTIME, the index of the futex a wake
 * came through, private and shared futexes, and a signal's EINTR or restart
 * (SA_RESTART). Only results are printed, so native and emulated runs print the
 * same. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "futexguest.h"

#define SYS_futex_waitv_ 449
#define SYS_futex_ 202
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX2_SIZE_U8 0x00
#define FUTEX2_SIZE_U16 0x01
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_SIZE_U64 0x03
#define FUTEX2_PRIVATE FUTEX_PRIVATE_FLAG

/* include/uapi/linux/futex.h */
struct futex_waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t __reserved;
};

static long waitv(struct futex_waitv *w, long n, long flags, void *timeout, long clockid) {
    return raw_syscall5(SYS_futex_waitv_, w, n, flags, timeout, clockid);
}

static uint32_t f[4] __attribute__((aligned(16)));
static struct futex_waitv v[130];

static void set(int i, uint32_t *addr, uint64_t val, uint32_t flags) {
    v[i].val = val;
    v[i].uaddr = (uintptr_t)addr;
    v[i].flags = flags;
    v[i].__reserved = 0;
}

static void checks(void) {
    struct timespec bad = {0, 1000000000L}, soon;
    const uint32_t P = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
    for (int i = 0; i < 130; i++)
        set(i, &f[0], 1, P);              /* f[0] is 0: any wait answers EAGAIN */
    printf("flags 1: %s\n", res(waitv(v, 1, 1, NULL, 0)));
    printf("nr 0: %s\n", res(waitv(v, 0, 0, NULL, 0)));
    printf("nr 129: %s\n", res(waitv(v, 129, 0, NULL, 0)));
    printf("nr 128: %s\n", res(waitv(v, 128, 0, NULL, 0)));
    printf("waiters NULL: %s\n", res(waitv(NULL, 1, 0, NULL, 0)));
    printf("waiters unmapped: %s\n", res(waitv((void *)8, 1, 0, NULL, 0)));
    printf("flags before nr: %s\n", res(waitv(NULL, 0, 2, NULL, 0)));
    printf("bad clock, no timeout: %s\n", res(waitv(v, 1, 0, NULL, 77)));
    soon = abs_after(CLOCK_MONOTONIC, 10);
    printf("bad clock: %s\n", res(waitv(v, 1, 0, &soon, CLOCK_BOOTTIME)));
    printf("bad clock, timeout unmapped: %s\n", res(waitv(v, 1, 0, (void *)8, CLOCK_BOOTTIME)));
    printf("timeout unmapped: %s\n", res(waitv(v, 1, 0, (void *)8, CLOCK_MONOTONIC)));
    printf("timeout bad nsec: %s\n", res(waitv(v, 1, 0, &bad, CLOCK_MONOTONIC)));
    printf("timeout before entries: %s\n", res(waitv((void *)8, 1, 0, &bad, CLOCK_MONOTONIC)));

    static const struct { const char *what; uint32_t flags; } fl[] = {
        {"size u8", FUTEX2_SIZE_U8}, {"size u16", FUTEX2_SIZE_U16},
        {"size u64", FUTEX2_SIZE_U64}, {"unknown bit 0x10", FUTEX2_SIZE_U32 | 0x10},
        {"bit 0x100", FUTEX2_SIZE_U32 | 0x100}, {"shared u32", FUTEX2_SIZE_U32},
    };
    for (unsigned i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        set(0, &f[0], 1, fl[i].flags);
        printf("entry %s: %s\n", fl[i].what, res(waitv(v, 1, 0, NULL, 0)));
    }
    set(0, &f[0], 1, P);
    v[0].__reserved = 1;
    printf("entry reserved: %s\n", res(waitv(v, 1, 0, NULL, 0)));
    set(0, &f[0], 1ULL << 32, P);
    printf("entry val over 32 bits: %s\n", res(waitv(v, 1, 0, NULL, 0)));
    set(0, (uint32_t *)((char *)&f[0] + 2), 1, P);
    printf("entry misaligned: %s\n", res(waitv(v, 1, 0, NULL, 0)));
    set(0, NULL, 1, P);
    printf("entry NULL private: %s\n", res(waitv(v, 1, 0, NULL, 0)));
    set(0, NULL, 1, FUTEX2_SIZE_U32);
    printf("entry NULL shared: %s\n", res(waitv(v, 1, 0, NULL, 0)));

    /* order: all entries parsed, then all keys, then values in turn */
    set(0, &f[0], 1, P);
    set(1, &f[1], 0, 0x10);
    printf("mismatch then bad flags: %s\n", res(waitv(v, 2, 0, NULL, 0)));
    set(1, (uint32_t *)((char *)&f[1] + 1), 0, P);
    printf("mismatch then misaligned: %s\n", res(waitv(v, 2, 0, NULL, 0)));
    set(1, NULL, 0, FUTEX2_SIZE_U32);
    printf("mismatch then shared NULL: %s\n", res(waitv(v, 2, 0, NULL, 0)));
    set(1, NULL, 0, P);
    printf("mismatch then private NULL: %s\n", res(waitv(v, 2, 0, NULL, 0)));
    set(0, NULL, 0, P);
    set(1, &f[1], 1, P);
    printf("private NULL then mismatch: %s\n", res(waitv(v, 2, 0, NULL, 0)));
    set(0, &f[0], 0, P);
    set(1, &f[1], 0, P);
    set(2, &f[2], 5, P);
    printf("third mismatches: %s\n", res(waitv(v, 3, 0, NULL, 0)));

    /* FUTEX2_NUMA: a node word follows, the pair 8-aligned; -1 becomes the node */
    static uint32_t nw[4] __attribute__((aligned(16)));
    nw[0] = 0;
    nw[1] = 0xffffffff;
    set(0, &nw[0], 1, P | 0x04);
    printf("numa any node: %s", res(waitv(v, 1, 0, NULL, 0)));
    printf(" node word now %u\n", nw[1]);
    nw[1] = 0;
    printf("numa node 0: %s\n", res(waitv(v, 1, 0, NULL, 0)));
    nw[1] = 4096;
    printf("numa node 4096: %s\n", res(waitv(v, 1, 0, NULL, 0)));
    set(0, &nw[1], 1, P | 0x04);
    printf("numa 4-aligned: %s\n", res(waitv(v, 1, 0, NULL, 0)));
    set(0, &nw[0], 1, P | 0x08);
    printf("mpol: %s\n", res(waitv(v, 1, 0, NULL, 0)));

    uint32_t *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    set(0, ro, 1, P);
    printf("read-only word: %s\n", res(waitv(v, 1, 0, NULL, 0)));
    munmap(ro, 4096);

    set(0, &f[0], 0, P);
    set(1, &f[1], 0, FUTEX2_SIZE_U32);
    soon = abs_after(CLOCK_MONOTONIC, 30);
    printf("timeout monotonic: %s\n", res(waitv(v, 2, 0, &soon, CLOCK_MONOTONIC)));
    soon = abs_after(CLOCK_REALTIME, 30);
    printf("timeout realtime: %s\n", res(waitv(v, 2, 0, &soon, CLOCK_REALTIME)));
    soon.tv_sec = 1;
    soon.tv_nsec = 0;
    printf("timeout in the past: %s\n", res(waitv(v, 2, 0, &soon, CLOCK_MONOTONIC)));
}

/* ---- waking ------------------------------------------------------------------------- */

static volatile long got;
static volatile uint32_t waiter_tid;
static volatile int handled;

static void on_usr1(int sig) { (void)sig; handled++; }

static void *waiter(void *arg) {
    long n = (long)arg;
    waiter_tid = (uint32_t)raw_syscall0(186);     /* gettid */
    got = waitv(v, n, 0, NULL, 0);
    return NULL;
}

static void wake_one(int index, int op_flags, int n) {
    pthread_t t;
    got = 99;
    waiter_tid = 0;
    pthread_create(&t, NULL, waiter, (void *)(long)n);
    until_asleep(&waiter_tid);
    long woke = raw_syscall6(SYS_futex_, (long)&f[index], FUTEX_WAKE | op_flags, 1, 0, 0, 0);
    pthread_join(t, NULL);
    printf("wake futex %d: woke %s, waitv returned %s\n", index, res(woke), res(got));
}

static void waking(void) {
    memset(f, 0, sizeof f);
    for (int i = 0; i < 4; i++)
        set(i, &f[i], 0, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
    set(3, &f[3], 0, FUTEX2_SIZE_U32);              /* shared */
    wake_one(2, FUTEX_PRIVATE_FLAG, 4);
    wake_one(0, FUTEX_PRIVATE_FLAG, 4);
    wake_one(3, 0, 4);

    /* the same futex twice in the vector */
    set(1, &f[0], 0, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
    wake_one(0, FUTEX_PRIVATE_FLAG, 2);
    set(1, &f[1], 0, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);

    /* a signal: EINTR without SA_RESTART; with it the wait goes on */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t;
    got = 99;
    waiter_tid = 0;
    pthread_create(&t, NULL, waiter, (void *)3L);
    until_asleep(&waiter_tid);
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    printf("signal, no SA_RESTART: handled %d, waitv returned %s\n", handled, res(got));

    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    got = 99;
    waiter_tid = 0;
    pthread_create(&t, NULL, waiter, (void *)3L);
    until_asleep(&waiter_tid);
    pthread_kill(t, SIGUSR1);
    while (handled < 2)
        msleep(1);
    msleep(20);
    printf("signal, SA_RESTART: handled %d, still waiting %d\n", handled, got == 99);
    until_asleep(&waiter_tid);             /* back in the call after the handler */
    while (got == 99) {
        raw_syscall6(SYS_futex_, (long)&f[1], FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0);
        msleep(1);
    }
    pthread_join(t, NULL);
    printf("then woken: %s\n", res(got));
}

/* ---- futex_wake, futex_wait, futex_requeue ------------------------------------------ */

#define SYS_futex_wake_ 454
#define SYS_futex_wait_ 455
#define SYS_futex_requeue_ 456

static uint32_t g[2] __attribute__((aligned(16)));
static volatile long f2_result[2];
static volatile uint32_t f2_tid[2];

static long wake2(void *uaddr, unsigned long mask, int nr, unsigned flags) {
    return raw_syscall4(SYS_futex_wake_, uaddr, mask, nr, flags);
}

static long wait2(void *uaddr, unsigned long val, unsigned long mask, unsigned flags,
                  void *timeout, long clockid) {
    return raw_syscall6(SYS_futex_wait_, (long)uaddr, val, mask, flags, (long)timeout, clockid);
}

static void *f2_waiter(void *arg) {
    long i = (long)arg;
    f2_tid[i] = (uint32_t)raw_syscall0(186);
    f2_result[i] = wait2(&g[0], 0, i == 0 ? 1 : 3, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE, NULL, 0);
    return NULL;
}

static void futex2(void) {
    const unsigned P = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
    struct timespec soon, bad = {0, 1000000000L};
    long r;
    g[0] = g[1] = 0;
    printf("wake bad flag: %s\n", res(wake2(&g[0], 1, 1, P | 0x10)));
    printf("wake size u8: %s\n", res(wake2(&g[0], 1, 1, FUTEX2_PRIVATE)));
    printf("wake mask 0: %s\n", res(wake2(&g[0], 0, 1, P)));
    printf("wake mask over 32 bits: %s\n", res(wake2(&g[0], 1UL << 32, 1, P)));
    printf("wake nr 0 misaligned: %s\n", res(wake2((char *)&g[0] + 1, 1, 0, P)));
    printf("wake nr 0: %s\n", res(wake2(&g[0], 1, 0, P)));
    printf("wake nobody: %s\n", res(wake2(&g[0], ~0UL >> 32, 5, P)));
    printf("wake shared NULL: %s\n", res(wake2(NULL, 1, 1, FUTEX2_SIZE_U32)));
    printf("wait mismatch: %s\n", res(wait2(&g[0], 1, 1, P, NULL, 0)));
    printf("wait val over 32 bits: %s\n", res(wait2(&g[0], 1UL << 32, 1, P, NULL, 0)));
    printf("wait mask 0: %s\n", res(wait2(&g[0], 0, 0, P, NULL, 0)));
    printf("wait mask 0, timeout unmapped: %s\n", res(wait2(&g[0], 0, 0, P, (void *)8, CLOCK_MONOTONIC)));
    printf("wait bad clock: %s\n", res(wait2(&g[0], 0, 1, P, &bad, CLOCK_BOOTTIME)));
    printf("wait bad nsec: %s\n", res(wait2(&g[0], 0, 1, P, &bad, CLOCK_MONOTONIC)));
    printf("wait NULL private: %s\n", res(wait2(NULL, 0, 1, P, NULL, 0)));
    soon = abs_after(CLOCK_MONOTONIC, 20);
    printf("wait monotonic timeout: %s\n", res(wait2(&g[0], 0, 1, P, &soon, CLOCK_MONOTONIC)));
    soon = abs_after(CLOCK_REALTIME, 20);
    printf("wait realtime timeout: %s\n", res(wait2(&g[0], 0, 1, P, &soon, CLOCK_REALTIME)));

    /* bitsets: waiter 0 waits with mask 1, waiter 1 with mask 3 */
    pthread_t t[2];
    f2_result[0] = f2_result[1] = 99;
    f2_tid[0] = f2_tid[1] = 0;
    pthread_create(&t[0], NULL, f2_waiter, (void *)0L);
    until_asleep(&f2_tid[0]);
    pthread_create(&t[1], NULL, f2_waiter, (void *)1L);
    until_asleep(&f2_tid[1]);
    r = wake2(&g[0], 2, 5, P);
    printf("wake mask 2: %s\n", res(r));
    pthread_join(t[1], NULL);
    r = wake2(&g[0], 1, 5, P);
    printf("wake mask 1: %s\n", res(r));
    pthread_join(t[0], NULL);
    printf("waiters returned %s %s\n", res(f2_result[0]), res(f2_result[1]));

    struct futex_waitv pair[2];
    memset(pair, 0, sizeof pair);
    pair[0].uaddr = (uintptr_t)&g[0];
    pair[0].flags = P;
    pair[1].uaddr = (uintptr_t)&g[1];
    pair[1].flags = P;
    printf("requeue flags 1: %s\n", res(raw_syscall4(SYS_futex_requeue_, pair, 1, 1, 1)));
    printf("requeue NULL: %s\n", res(raw_syscall4(SYS_futex_requeue_, NULL, 0, 1, 1)));
    printf("requeue nr_wake -1: %s\n", res(raw_syscall4(SYS_futex_requeue_, pair, 0, -1, 1)));
    pair[1].flags = 0x10;
    printf("requeue bad second flags: %s\n", res(raw_syscall4(SYS_futex_requeue_, pair, 0, -1, 1)));
    pair[1].flags = P;
    pair[0].val = 7;
    printf("requeue changed: %s\n", res(raw_syscall4(SYS_futex_requeue_, pair, 0, 1, 1)));
    pair[0].val = 0;
    f2_result[0] = f2_result[1] = 99;
    f2_tid[0] = f2_tid[1] = 0;
    pthread_create(&t[0], NULL, f2_waiter, (void *)0L);
    until_asleep(&f2_tid[0]);
    pthread_create(&t[1], NULL, f2_waiter, (void *)1L);
    until_asleep(&f2_tid[1]);
    printf("requeue one woken one moved: %s\n", res(raw_syscall4(SYS_futex_requeue_, pair, 0, 1, 1)));
    printf("wake the moved one: %s\n", res(wake2(&g[1], ~0UL >> 32, 5, P)));
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    printf("waiters returned %s %s\n", res(f2_result[0]), res(f2_result[1]));
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    checks();
    waking();
    futex2();
    return 0;
}
