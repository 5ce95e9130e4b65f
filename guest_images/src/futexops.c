/* futexops: futex(2)'s FUTEX_WAIT and FUTEX_WAKE as threads use them most (the
 * calls pyunik answers on its shortest path, kernel/futex.py parking_invoker), and
 * what else meets a thread parked that way: EAGAIN, EINVAL for a misaligned word,
 * EFAULT, a wake of nobody, of 0, of a negative count and of all, requeue and
 * FUTEX_CMP_REQUEUE's EAGAIN, FUTEX_WAKE_BITSET, and a signal's EINTR (no
 * SA_RESTART) or restart (SA_RESTART). Only results are printed, so native and
 * emulated runs print the same. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "futexguest.h"

#define SYS_futex_ 202
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define PRIVATE FUTEX_PRIVATE_FLAG

static long futex(void *word, long op, long val, long val2, void *word2, long val3) {
    return raw_syscall6(SYS_futex_, (long)word, op, val, val2, (long)word2, val3);
}

static uint32_t w[4] __attribute__((aligned(16)));
static volatile uint32_t tids[3];
static long results[3];
static volatile int handled;

struct waiter { int i; uint32_t *word; };

static void *waiter(void *arg) {
    struct waiter *a = arg;
    tids[a->i] = (uint32_t)raw_syscall0(186);     /* gettid */
    results[a->i] = futex(a->word, FUTEX_WAIT | PRIVATE, 0, 0, NULL, 0);
    return NULL;
}

static void start(pthread_t *t, struct waiter *a, int i, uint32_t *word) {
    a->i = i;
    a->word = word;
    tids[i] = 0;
    pthread_create(t, NULL, waiter, a);
    until_asleep(&tids[i]);
}

static void on_usr1(int sig) {
    (void)sig;
    handled++;
}

static void signalled(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = flags;
    sigaction(SIGUSR1, &sa, NULL);
    handled = 0;
    pthread_t t;
    struct waiter a;
    w[0] = 0;
    start(&t, &a, 0, &w[0]);
    pthread_kill(t, SIGUSR1);
    while (!handled)
        msleep(1);
    if (flags & SA_RESTART) {
        while (futex(&w[0], FUTEX_CMP_REQUEUE | PRIVATE, 0, 0x7fffffff, &w[0], 0) != 1)
            msleep(1);                      /* back on the word after the handler */
        printf("restarted wait, woken: %s\n", res(futex(&w[0], FUTEX_WAKE | PRIVATE, 1, 0,
                                                        NULL, 0)));
    }
    pthread_join(t, NULL);
    printf("%s: handler ran %d, wait returned %s\n",
           flags & SA_RESTART ? "SA_RESTART" : "no SA_RESTART", handled, res(results[0]));
}

int main(void) {
    char *odd = (char *)&w[0] + 1;
    void *unmapped = (void *)8;
    (void)abs_after;                    /* futexguest.h's, unused here */
    w[0] = 1;
    printf("wait, word differs: private %s, shared %s\n",
           res(futex(&w[0], FUTEX_WAIT | PRIVATE, 0, 0, NULL, 0)),
           res(futex(&w[0], FUTEX_WAIT, 0, 0, NULL, 0)));
    printf("wait, misaligned: private %s, shared %s\n",
           res(futex(odd, FUTEX_WAIT | PRIVATE, 0, 0, NULL, 0)),
           res(futex(odd, FUTEX_WAIT, 0, 0, NULL, 0)));
    printf("wake, misaligned: private %s, shared %s\n",
           res(futex(odd, FUTEX_WAKE | PRIVATE, 1, 0, NULL, 0)),
           res(futex(odd, FUTEX_WAKE, 1, 0, NULL, 0)));
    printf("wait, unmapped: private %s, shared %s\n",
           res(futex(unmapped, FUTEX_WAIT | PRIVATE, 0, 0, NULL, 0)),
           res(futex(unmapped, FUTEX_WAIT, 0, 0, NULL, 0)));
    printf("wake, unmapped: private %s, shared %s\n",
           res(futex(unmapped, FUTEX_WAKE | PRIVATE, 1, 0, NULL, 0)),
           res(futex(unmapped, FUTEX_WAKE, 1, 0, NULL, 0)));
    printf("wake of nobody: private %s, shared %s\n",
           res(futex(&w[0], FUTEX_WAKE | PRIVATE, 1, 0, NULL, 0)),
           res(futex(&w[0], FUTEX_WAKE, 1, 0, NULL, 0)));

    /* three waiters: a wake of 0 wakes one, of -1 one, of INT_MAX the last */
    pthread_t t[3];
    struct waiter a[3];
    w[0] = 0;
    for (int i = 0; i < 3; i++)
        start(&t[i], &a[i], i, &w[0]);
    printf("wake 0: %s\n", res(futex(&w[0], FUTEX_WAKE | PRIVATE, 0, 0, NULL, 0)));
    printf("wake -1: %s\n", res(futex(&w[0], FUTEX_WAKE | PRIVATE, -1, 0, NULL, 0)));
    printf("wake INT_MAX: %s\n", res(futex(&w[0], FUTEX_WAKE | PRIVATE, 0x7fffffff, 0,
                                           NULL, 0)));
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    printf("waiters returned %s %s %s\n", res(results[0]), res(results[1]), res(results[2]));

    /* two waiters on w[0]: one woken, one moved to w[1], then woken there */
    w[0] = w[1] = 0;
    for (int i = 0; i < 2; i++)
        start(&t[i], &a[i], i, &w[0]);
    printf("cmp_requeue, word differs: %s\n",
           res(futex(&w[0], FUTEX_CMP_REQUEUE | PRIVATE, 1, 1, &w[1], 5)));
    printf("cmp_requeue 1 woken 1 moved: %s\n",
           res(futex(&w[0], FUTEX_CMP_REQUEUE | PRIVATE, 1, 1, &w[1], 0)));
    printf("wake the first word again: %s\n",
           res(futex(&w[0], FUTEX_WAKE | PRIVATE, 1, 0, NULL, 0)));
    printf("wake the second word: %s\n", res(futex(&w[1], FUTEX_WAKE | PRIVATE, 1, 0, NULL, 0)));
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("waiters returned %s %s\n", res(results[0]), res(results[1]));

    /* a FUTEX_WAIT waits with every bit: FUTEX_WAKE_BITSET of one bit wakes it */
    start(&t[0], &a[0], 0, &w[0]);
    printf("wake_bitset 0: %s\n", res(futex(&w[0], FUTEX_WAKE_BITSET | PRIVATE, 1, 0, NULL, 0)));
    printf("wake_bitset 2: %s\n", res(futex(&w[0], FUTEX_WAKE_BITSET | PRIVATE, 1, 0, NULL, 2)));
    pthread_join(t[0], NULL);
    printf("waiter returned %s\n", res(results[0]));

    signalled(0);
    signalled(SA_RESTART);
    return 0;
}
