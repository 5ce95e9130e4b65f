/* Futex waits that end without a wake, each on a word of its own: an untimed
 * FUTEX_WAIT ended by a signal (EINTR, no SA_RESTART), a timed one ending by its
 * timeout (ETIMEDOUT), a FUTEX_WAIT_BITSET with an absolute deadline, and a
 * futex_waitv on two words timing out. Prints how each ended; the kernel is left
 * with no waiter anywhere (tests/test_futexleave.py checks that pyunik's futex
 * table is then empty too). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 40

/* linux/futex.h's, which musl's headers lack */
#define FUTEX_WAIT 0
#define FUTEX_WAIT_BITSET 9
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#define FUTEX_32 2
#define SYS_futex_waitv_ 449

struct waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t __reserved;
};

static uint32_t words[4][ROUNDS];
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts, uint32_t mask)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, mask);
}

static void tally(const char *what, int *counts)
{
    printf("%-28s EINTR %d ETIMEDOUT %d other %d\n", what, counts[0], counts[1], counts[2]);
}

static void count(int *counts, long r)
{
    counts[r < 0 && errno == EINTR ? 0 : r < 0 && errno == ETIMEDOUT ? 1 : 2]++;
}

/* SIGALRM in 2 ms and every 2 ms after, until disarmed: a wait that begins only
 * after the first one (a slow or loaded machine) is still ended by the next */
static void arm(void)
{
    struct itimerval it = {.it_value = {.tv_usec = 2000}, .it_interval = {.tv_usec = 2000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm(void)
{
    struct itimerval it = {0};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* CLOCK_MONOTONIC 1 ms from now */
static struct timespec ms_ahead(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* futex_waitv's vector for words[3][i] and words[3][i + 1], both at 0 */
static void two_words(struct waitv *w, int i)
{
    for (int k = 0; k < 2; k++)
        w[k] = (struct waitv){.val = 0, .uaddr = (uintptr_t)&words[3][i + k],
                              .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG};
}

int main(void)
{
    struct sigaction sa;
    int counts[3];

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);

    memset(counts, 0, sizeof counts);
    for (int i = 0; i < ROUNDS; i++) {
        arm();
        count(counts, futex(&words[0][i], FUTEX_WAIT_PRIVATE, 0, NULL, 0));
        disarm();
    }
    tally("wait, signal", counts);
    printf("alarms at least one a wait: %s\n", alarms >= ROUNDS ? "yes" : "no");

    memset(counts, 0, sizeof counts);
    for (int i = 0; i < ROUNDS; i++) {
        struct timespec ts = {.tv_nsec = 1000000};
        count(counts, futex(&words[1][i], FUTEX_WAIT, 0, &ts, 0));
    }
    tally("wait, timeout", counts);

    memset(counts, 0, sizeof counts);
    for (int i = 0; i < ROUNDS; i++) {
        struct timespec ts = ms_ahead();
        count(counts, futex(&words[2][i], FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, FUTEX_BITSET_MATCH_ANY));
    }
    tally("wait_bitset, deadline", counts);

    memset(counts, 0, sizeof counts);
    for (int i = 0; i + 1 < ROUNDS; i += 2) {
        struct waitv w[2];
        two_words(w, i);
        struct timespec ts = ms_ahead();
        count(counts, syscall(SYS_futex_waitv_, w, 2, 0, &ts, CLOCK_MONOTONIC));
    }
    tally("waitv, deadline", counts);

    memset(counts, 0, sizeof counts);
    for (int i = 0; i + 1 < ROUNDS; i += 2) {
        struct waitv w[2];
        two_words(w, i);
        arm();
        count(counts, syscall(SYS_futex_waitv_, w, 2, 0, NULL, 0));
        disarm();
    }
    tally("waitv, signal", counts);
    return 0;
}
