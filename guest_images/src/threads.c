/* POSIX threads: a mutex-guarded counter, a condition-variable producer and
 * consumer, a barrier, __thread storage, join values, a pipe between two threads
 * that blocks for real, a busy wait that only preemption can end on one CPU, and read-modify-write loops
 * preempted many times (an instruction run twice on resuming shows as a wrong count),
 * and a robust mutex whose owner exits while another thread waits for it.
 * Every line printed is the same on any Linux, whatever the interleaving. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTHREADS 4
#define INCREMENTS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *add(void *arg) {
    (void)arg;
    for (int i = 0; i < INCREMENTS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

/* producer/consumer over a one-slot buffer */
static pthread_cond_t full = PTHREAD_COND_INITIALIZER, empty = PTHREAD_COND_INITIALIZER;
static int slot, has_item;
#define ITEMS 500

static void *produce(void *arg) {
    (void)arg;
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&lock);
        while (has_item)
            pthread_cond_wait(&empty, &lock);
        slot = i;
        has_item = 1;
        pthread_cond_signal(&full);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void *consume(void *arg) {
    long sum = 0;
    (void)arg;
    for (int i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&lock);
        while (!has_item)
            pthread_cond_wait(&full, &lock);
        sum += slot;
        has_item = 0;
        pthread_cond_signal(&empty);
        pthread_mutex_unlock(&lock);
    }
    return (void *)sum;
}

static pthread_barrier_t barrier;
static int arrived;

static void *meet(void *arg) {
    __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
    int r = pthread_barrier_wait(&barrier);
    /* after the barrier everybody has arrived */
    int seen = __atomic_load_n(&arrived, __ATOMIC_SEQ_CST);
    return (void *)(intptr_t)((seen == NTHREADS ? 100 : 0) + (r == PTHREAD_BARRIER_SERIAL_THREAD)
                              + (intptr_t)arg * 0);
}

static __thread int tls_value = 7;

static void *tls(void *arg) {
    tls_value += (int)(intptr_t)arg;
    usleep(1000);
    return (void *)(intptr_t)tls_value;
}

static int fds[2];

static void *reader(void *arg) {
    char buf[64];
    long total = 0;
    ssize_t n;
    (void)arg;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        total += n;
    return (void *)total;
}

static volatile int spin_flag;

static void *set_flag(void *arg) {
    (void)arg;
    spin_flag = 1;
    return NULL;
}

#define RMW 2000000
static long rmw[NTHREADS];

static void *rmw_loop(void *arg) {
    long *p = arg;
    for (long i = 0; i < RMW; i++)
        __asm__ volatile("addq $1, (%0)" : : "r"(p) : "memory");
    return NULL;
}

static pthread_mutex_t robust;
static int robust_fds[2];

static void *die_holding(void *arg) {
    (void)arg;
    pthread_mutex_lock(&robust);
    write(robust_fds[1], "l", 1);   /* main may now wait for the lock */
    usleep(20000);
    return NULL;                    /* exits holding it */
}

int main(void) {
    pthread_t t[NTHREADS];
    void *ret;

    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, add, NULL);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    printf("counter %ld (want %d)\n", counter, NTHREADS * INCREMENTS);

    pthread_create(&t[0], NULL, consume, NULL);
    pthread_create(&t[1], NULL, produce, NULL);
    pthread_join(t[1], NULL);
    pthread_join(t[0], &ret);
    printf("consumed sum %ld (want %d)\n", (long)ret, ITEMS * (ITEMS + 1) / 2);

    pthread_barrier_init(&barrier, NULL, NTHREADS);
    int serial = 0, all = 0;
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, meet, (void *)(intptr_t)i);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], &ret);
        serial += (intptr_t)ret % 100;
        all += (intptr_t)ret >= 100;
    }
    printf("barrier: %d saw everyone, %d serial\n", all, serial);

    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, tls, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], &ret);
        printf("tls thread %d: %ld\n", i, (long)ret);
    }
    printf("tls main: %d\n", tls_value);

    pipe(fds);
    pthread_create(&t[0], NULL, reader, NULL);
    usleep(20000);                  /* the reader blocks on the empty pipe */
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 100; i++)
        write(fds[1], chunk, sizeof chunk);
    close(fds[1]);
    pthread_join(t[0], &ret);
    printf("pipe between threads: %ld bytes\n", (long)ret);

    pthread_create(&t[0], NULL, set_flag, NULL);
    while (!spin_flag)
        ;                           /* never yields: the other thread runs by preemption */
    pthread_join(t[0], NULL);
    printf("busy wait ended\n");

    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, rmw_loop, &rmw[i]);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        printf("add loop %d: %ld (want %d)\n", i, rmw[i], RMW);
    }

    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &attr);
    pipe(robust_fds);
    pthread_create(&t[0], NULL, die_holding, NULL);
    char c;
    read(robust_fds[0], &c, 1);
    int r = pthread_mutex_lock(&robust);
    printf("robust lock after its owner died: %s\n",
           r == EOWNERDEAD ? "EOWNERDEAD" : r ? strerror(r) : "0");
    pthread_mutex_consistent(&robust);
    pthread_mutex_unlock(&robust);
    pthread_join(t[0], NULL);
    return 0;
}
