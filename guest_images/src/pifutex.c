/* Priority-inheritance futexes, by the system call and through the C library.
 *
 * The raw part checks Linux's futex word protocol (TID, FUTEX_WAITERS,
 * FUTEX_OWNER_DIED) and its errors: EDEADLK, ESRCH for a dead owner, EPERM on
 * unlock by a non-owner, ETIMEDOUT with absolute timeouts on CLOCK_REALTIME
 * (LOCK_PI) and on either clock (LOCK_PI2), ENOSYS for FUTEX_CLOCK_REALTIME where
 * it is not allowed, a lock handed to a waiter on unlock and on its owner's death
 * (with and without a robust list), a signal that restarts a LOCK_PI, and
 * WAIT_REQUEUE_PI / CMP_REQUEUE_PI. The library part uses PTHREAD_PRIO_INHERIT
 * mutexes (plain, timed, robust). Only results and relations are printed, never a
 * TID, so native and emulated runs print the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "futexguest.h"

/* include/uapi/linux/futex.h (musl has no kernel headers) */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu
struct robust_list { struct robust_list *next; };
struct robust_list_head { struct robust_list list; long futex_offset; struct robust_list *list_op_pending; };

static long fx(uint32_t *uaddr, int op, long val, const void *timeout, uint32_t *uaddr2,
               long val3) {
    return raw_syscall6(SYS_futex, (long)uaddr, op, val, (long)timeout, (long)uaddr2, val3);
}

static uint32_t tid(void) { return (uint32_t)raw_syscall0(SYS_gettid); }

/* ---- the word protocol in one thread ----------------------------------------------- */

static uint32_t dead_tid;
static void *note_tid(void *arg) { (void)arg; dead_tid = tid(); return NULL; }

static void single(void) {
    long r_;
    static uint32_t w __attribute__((aligned(8)));
    uint32_t me = tid();
    struct timespec bad = {0, 1000000000L};
    w = 0;
    printf("unlock free: %s\n", res(fx(&w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
    r_ = fx(&w, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    printf("lock free: %s word=tid %d\n", res(r_), w == me);
    printf("lock again: %s\n", res(fx(&w, FUTEX_LOCK_PI, 0, NULL, NULL, 0)));
    printf("trylock own: %s\n", res(fx(&w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0)));
    printf("lock2 own: %s\n", res(fx(&w, FUTEX_LOCK_PI2, 0, NULL, NULL, 0)));
    r_ = fx(&w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    printf("unlock: %s word=%u\n", res(r_), w);
    r_ = fx(&w, FUTEX_TRYLOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0);
    printf("trylock free: %s word=tid %d\n", res(r_), w == me);
    w |= FUTEX_WAITERS;                 /* no waiter is known: the kernel clears it */
    r_ = fx(&w, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0);
    printf("unlock with stale waiters bit: %s word=%u\n", res(r_), w);

    pthread_t t;
    pthread_create(&t, NULL, note_tid, NULL);
    pthread_join(t, NULL);
    msleep(10);
    w = dead_tid;
    r_ = fx(&w, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    printf("lock dead owner: %s waiters bit set %d tid kept %d\n", res(r_), !!(w & FUTEX_WAITERS),
           (w & FUTEX_TID_MASK) == dead_tid);
    printf("trylock dead owner: %s\n", res(fx(&w, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0)));
    printf("unlock not owner: %s\n", res(fx(&w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
    w = FUTEX_OWNER_DIED;
    r_ = fx(&w, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    printf("lock owner died: %s word=died|tid %d\n", res(r_), w == (FUTEX_OWNER_DIED | me));
    r_ = fx(&w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    printf("unlock owner died: %s word=%u\n", res(r_), w);

    uint32_t *mis = (uint32_t *)((char *)&w + 1);
    printf("lock misaligned: %s\n", res(fx(mis, FUTEX_LOCK_PI, 0, NULL, NULL, 0)));
    printf("lock NULL: %s\n", res(fx(NULL, FUTEX_LOCK_PI, 0, NULL, NULL, 0)));
    printf("unlock NULL: %s\n", res(fx(NULL, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
    printf("lock bad timeout: %s\n", res(fx(&w, FUTEX_LOCK_PI, 0, &bad, NULL, 0)));
    printf("lock timeout fault: %s\n", res(fx(&w, FUTEX_LOCK_PI, 0, (void *)8, NULL, 0)));
    printf("lock clock_realtime: %s\n",
           res(fx(&w, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0)));
    printf("trylock clock_realtime: %s\n",
           res(fx(&w, FUTEX_TRYLOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0)));
    printf("unlock clock_realtime: %s\n",
           res(fx(&w, FUTEX_UNLOCK_PI | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0)));
    printf("cmp_requeue_pi clock_realtime: %s\n",
           res(fx(&w, FUTEX_CMP_REQUEUE_PI | FUTEX_CLOCK_REALTIME, 1, NULL, &w + 1, 0)));
    printf("wait clock_realtime: %s\n",
           res(fx(&w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0)));
    printf("wait_bitset clock_realtime: %s\n",
           res(fx(&w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, -1)));
    printf("lock2 clock_realtime free: %s\n",
           res(fx(&w, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 0)));
    printf("unlock: %s\n", res(fx(&w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));

    uint32_t *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("lock read-only word: %s\n", res(fx(ro, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0)));
    munmap(ro, 4096);

    /* the requeue-PI argument checks */
    static uint32_t cond, lock;
    cond = 0;
    lock = 0;
    printf("wait_requeue same: %s\n", res(fx(&cond, FUTEX_WAIT_REQUEUE_PI, 0, NULL, &cond, 0)));
    printf("wait_requeue changed: %s\n", res(fx(&cond, FUTEX_WAIT_REQUEUE_PI, 1, NULL, &lock, 0)));
    struct timespec soon = abs_after(CLOCK_MONOTONIC, 30);
    printf("wait_requeue timeout: %s\n", res(fx(&cond, FUTEX_WAIT_REQUEUE_PI, 0, &soon, &lock, 0)));
    soon = abs_after(CLOCK_REALTIME, 30);
    printf("wait_requeue realtime timeout: %s\n",
           res(fx(&cond, FUTEX_WAIT_REQUEUE_PI | FUTEX_CLOCK_REALTIME, 0, &soon, &lock, 0)));
    printf("cmp_requeue_pi same: %s\n", res(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1, &cond, 0)));
    printf("cmp_requeue_pi nr_wake 2: %s\n", res(fx(&cond, FUTEX_CMP_REQUEUE_PI, 2, (void *)1, &lock, 0)));
    printf("cmp_requeue_pi nr_wake 0: %s\n", res(fx(&cond, FUTEX_CMP_REQUEUE_PI, 0, (void *)1, &lock, 0)));
    printf("cmp_requeue_pi negative: %s\n", res(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)-1L, &lock, 0)));
    printf("cmp_requeue_pi changed: %s\n", res(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1, &lock, 5)));
    printf("cmp_requeue_pi nobody: %s\n", res(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1, &lock, 0)));
    printf("cmp_requeue_pi bad lock: %s\n", res(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1, NULL, 0)));
}

/* ---- contention ------------------------------------------------------------------- */

static uint32_t L __attribute__((aligned(8)));
static volatile long result[4];
static uint32_t word_after[4];
static volatile uint32_t waiter_tid[4];
static volatile int handled;

static void on_usr1(int sig) { (void)sig; handled++; }

static void *locker(void *arg) {
    long i = (long)arg;
    waiter_tid[i] = tid();
    result[i] = fx(&L, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    word_after[i] = L;
    if (result[i] == 0)
        fx(&L, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    return NULL;
}

static void *timed(void *arg) {
    long *r = arg;
    struct timespec rt = abs_after(CLOCK_REALTIME, 30), mono = abs_after(CLOCK_MONOTONIC, 30);
    r[0] = fx(&L, FUTEX_LOCK_PI, 0, &rt, NULL, 0);
    mono = abs_after(CLOCK_MONOTONIC, 30);
    r[1] = fx(&L, FUTEX_LOCK_PI2, 0, &mono, NULL, 0);
    rt = abs_after(CLOCK_REALTIME, 30);
    r[2] = fx(&L, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, 0, &rt, NULL, 0);
    r[3] = fx(&L, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0);
    r[4] = fx(&L, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    struct timespec past = {1, 0};
    r[5] = fx(&L, FUTEX_LOCK_PI, 0, &past, NULL, 0);
    return NULL;
}

static struct robust_list_head rhead;
static struct { struct robust_list list; uint32_t word; } rlock;

static void *dies_holding(void *arg) {
    long robust = (long)arg;
    if (robust) {
        rhead.list.next = &rhead.list;
        rhead.futex_offset = (long)((char *)&rlock.word - (char *)&rlock.list);
        rhead.list_op_pending = NULL;
        raw_syscall2(SYS_set_robust_list, &rhead, sizeof rhead);
        rlock.word = 0;
        fx(&rlock.word, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
        rlock.list.next = (struct robust_list *)((uintptr_t)&rhead.list | 1);  /* a PI lock */
        rhead.list.next = &rlock.list;
    } else {
        fx(&L, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    }
    uint32_t *held = robust ? &rlock.word : &L;
    while (!(*(volatile uint32_t *)held & FUTEX_WAITERS))
        msleep(1);                       /* the waiter comes while this one holds it */
    raw_syscall1(SYS_exit, 0);           /* this thread alone, holding the lock */
    return NULL;
}

static void *waits_for(void *arg) {
    uint32_t *w = arg;
    waiter_tid[0] = tid();
    while (*(volatile uint32_t *)w == 0)
        msleep(1);                       /* the other one holds it first */
    result[0] = fx(w, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    word_after[0] = *w;
    if (result[0] == 0)
        result[1] = fx(w, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    return NULL;
}

static void contention(void) {
    long r_;
    uint32_t me = tid();
    pthread_t t[3];
    long r[6];

    L = 0;
    fx(&L, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    pthread_create(&t[0], NULL, timed, r);
    pthread_join(t[0], NULL);
    printf("timed lock_pi: %s lock_pi2 mono: %s lock_pi2 realtime: %s\n", res(r[0]), res(r[1]), res(r[2]));
    printf("trylock held: %s unlock by other: %s past deadline: %s\n", res(r[3]), res(r[4]), res(r[5]));
    printf("word after timeouts: owner %d waiters %d\n", (L & FUTEX_TID_MASK) == me, !!(L & FUTEX_WAITERS));
    r_ = fx(&L, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    printf("unlock: %s word=%u\n", res(r_), L);

    /* a waiter blocks; the unlock hands it the lock */
    fx(&L, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    waiter_tid[0] = 0;
    pthread_create(&t[0], NULL, locker, (void *)0);
    until_asleep(&waiter_tid[0]);
    printf("held with a waiter: owner %d waiters %d\n", (L & FUTEX_TID_MASK) == me, !!(L & FUTEX_WAITERS));
    printf("unlock to waiter: %s\n", res(fx(&L, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
    pthread_join(t[0], NULL);
    printf("waiter: %s word=waiters|its tid %d, after its unlock %u\n", res(result[0]),
           word_after[0] == (FUTEX_WAITERS | waiter_tid[0]), L);

    /* two waiters, in order */
    fx(&L, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    waiter_tid[1] = waiter_tid[2] = 0;
    pthread_create(&t[0], NULL, locker, (void *)1);
    until_asleep(&waiter_tid[1]);
    pthread_create(&t[1], NULL, locker, (void *)2);
    until_asleep(&waiter_tid[2]);
    fx(&L, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    printf("two waiters: %s %s first had waiters %d second had waiters %d word=%u\n",
           res(result[1]), res(result[2]), !!(word_after[1] & FUTEX_WAITERS),
           !!(word_after[2] & FUTEX_WAITERS), L);

    /* a signal with a handler (no SA_RESTART) restarts a LOCK_PI */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    fx(&L, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
    result[3] = 1;
    waiter_tid[3] = 0;
    pthread_create(&t[0], NULL, locker, (void *)3);
    until_asleep(&waiter_tid[3]);
    pthread_kill(t[0], SIGUSR1);
    while (!handled)
        msleep(1);
    until_asleep(&waiter_tid[3]);          /* back in LOCK_PI after the handler */
    printf("after the signal: handled %d still waiting %d\n", handled, result[3] == 1);
    fx(&L, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
    pthread_join(t[0], NULL);
    printf("signalled waiter: %s\n", res(result[3]));

    /* the owner dies holding it: plain, then robust */
    L = 0;
    pthread_create(&t[0], NULL, dies_holding, (void *)0);
    pthread_create(&t[1], NULL, waits_for, &L);
    pthread_join(t[1], NULL);
    printf("owner died (not robust): %s word: died %d waiters %d its tid %d unlock %s\n",
           res(result[0]), !!(word_after[0] & FUTEX_OWNER_DIED), !!(word_after[0] & FUTEX_WAITERS),
           (word_after[0] & FUTEX_TID_MASK) == waiter_tid[0], res(result[1]));
    pthread_create(&t[0], NULL, dies_holding, (void *)1);
    pthread_create(&t[1], NULL, waits_for, &rlock.word);
    pthread_join(t[1], NULL);
    printf("owner died (robust): %s word=died|waiters|tid %d unlock %s word=%u\n", res(result[0]),
           word_after[0] == (FUTEX_OWNER_DIED | FUTEX_WAITERS | waiter_tid[0]), res(result[1]),
           rlock.word);
}

/* ---- requeue-PI --------------------------------------------------------------------- */

static uint32_t cond, pil, other;

static void *requeue_waiter(void *arg) {
    long i = (long)arg;
    waiter_tid[i] = tid();
    result[i] = fx(&cond, FUTEX_WAIT_REQUEUE_PI | FUTEX_PRIVATE_FLAG, 0, NULL, &pil, 0);
    word_after[i] = pil;
    if (result[i] == 0)
        fx(&pil, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0);
    return NULL;
}

static void requeue(void) {
    long r_;
    pthread_t t[3];
    cond = 0;
    pil = 0;
    result[0] = result[1] = result[2] = -1;
    waiter_tid[0] = waiter_tid[1] = 0;
    pthread_create(&t[0], NULL, requeue_waiter, (void *)0);
    pthread_create(&t[1], NULL, requeue_waiter, (void *)1);
    until_asleep(&waiter_tid[0]);
    until_asleep(&waiter_tid[1]);
    printf("wake meets requeue waiters: %s\n", res(fx(&cond, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0)));
    printf("requeue meets them: %s\n",
           res(fx(&cond, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 1, (void *)1, &pil, 0)));
    printf("requeue to another lock: %s\n",
           res(fx(&cond, FUTEX_CMP_REQUEUE_PI | FUTEX_PRIVATE_FLAG, 1, (void *)1, &other, 0)));
    cond = 1;
    printf("cmp_requeue_pi free lock: %s\n",
           res(fx(&cond, FUTEX_CMP_REQUEUE_PI | FUTEX_PRIVATE_FLAG, 1, (void *)INT_MAX, &pil, 1)));
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    printf("requeued: %s %s word=%u\n", res(result[0]), res(result[1]), pil);

    /* the lock is held: the waiter is requeued; a signal then makes it fail EAGAIN */
    cond = 0;
    fx(&pil, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0);
    waiter_tid[2] = 0;
    pthread_create(&t[0], NULL, requeue_waiter, (void *)2);
    until_asleep(&waiter_tid[2]);
    printf("cmp_requeue_pi nr_requeue 0, held: %s\n",
           res(fx(&cond, FUTEX_CMP_REQUEUE_PI | FUTEX_PRIVATE_FLAG, 1, (void *)0, &pil, 0)));
    printf("held with requeued waiter: waiters %d\n", !!(pil & FUTEX_WAITERS));
    pthread_kill(t[0], SIGUSR1);
    pthread_join(t[0], NULL);
    printf("requeued waiter signalled: %s\n", res(result[2]));
    r_ = fx(&pil, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0);
    printf("unlock: %s word=%u\n", res(r_), pil);

    /* a signal before the requeue restarts the wait; then it is requeued and handed the lock */
    cond = 0;
    handled = 0;
    result[3] = 1;
    fx(&pil, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0);
    waiter_tid[3] = 0;
    pthread_create(&t[0], NULL, requeue_waiter, (void *)3);
    until_asleep(&waiter_tid[3]);
    pthread_kill(t[0], SIGUSR1);
    while (!handled)
        msleep(1);
    until_asleep(&waiter_tid[3]);          /* back in WAIT_REQUEUE_PI after the handler */
    printf("signal before requeue: handled %d still waiting %d\n", handled, result[3] == 1);
    printf("cmp_requeue_pi held: %s\n",
           res(fx(&cond, FUTEX_CMP_REQUEUE_PI | FUTEX_PRIVATE_FLAG, 1, (void *)1, &pil, 0)));
    printf("unlock to requeued: %s\n", res(fx(&pil, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0)));
    pthread_join(t[0], NULL);
    printf("requeued waiter: %s word=waiters|tid %d now %u\n", res(result[3]),
           word_after[3] == (FUTEX_WAITERS | waiter_tid[3]), pil);
}

/* ---- PTHREAD_PRIO_INHERIT mutexes ------------------------------------------------------ */

static pthread_mutex_t pm, rm;
static long counter;

static void *count_up(void *arg) {
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&pm);
        long c = counter;
        if ((i & 63) == 0)
            sched_yield();               /* contention: the others find it held */
        counter = c + 1;
        pthread_mutex_unlock(&pm);
    }
    return NULL;
}

static void *try_it(void *arg) {
    long *r = arg;
    struct timespec ts = abs_after(CLOCK_REALTIME, 30);
    r[0] = pthread_mutex_trylock(&pm);
    r[1] = pthread_mutex_timedlock(&pm, &ts);
    return NULL;
}

static void *hold_and_die(void *arg) {
    (void)arg;
    pthread_mutex_lock(&rm);
    return NULL;                         /* ends holding the robust mutex */
}

static void library(void) {
    pthread_mutexattr_t a;
    pthread_t t[4];
    long r[2];

    pthread_mutexattr_init(&a);
    printf("setprotocol inherit: %d\n", pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT));
    pthread_mutex_init(&pm, &a);
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, count_up, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("pi mutex counter %ld\n", counter);

    pthread_mutex_lock(&pm);
    pthread_create(&t[0], NULL, try_it, r);
    pthread_join(t[0], NULL);
    printf("trylock held: %s timedlock: %s\n", res(-r[0]), res(-r[1]));
    printf("unlock %d\n", pthread_mutex_unlock(&pm));

    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&rm, &a);
    pthread_create(&t[0], NULL, hold_and_die, NULL);
    pthread_join(t[0], NULL);
    int e = pthread_mutex_lock(&rm);
    printf("robust pi after owner died: %s\n", res(-e));
    e = pthread_mutex_consistent(&rm);
    printf("consistent: %d", e);
    printf(" unlock: %d\n", pthread_mutex_unlock(&rm));
    e = pthread_mutex_lock(&rm);
    printf("lock again: %d", e);
    printf(" unlock: %d\n", pthread_mutex_unlock(&rm));
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    single();
    contention();
    requeue();
    library();
    return 0;
}
