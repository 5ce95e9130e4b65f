/*
 * tcompute THREADS N: N iterations of a compute loop split evenly over THREADS
 * threads (each on its own counter, no sharing, no system call inside the loop);
 * prints the total, which is the same for any THREADS. With one CPU, THREADS
 * threads should take about as long as one doing all the work (benchmarks row 13).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAXTHREADS 16

static unsigned long long per_thread;
static struct { volatile uint64_t sum; char pad[56]; } counters[MAXTHREADS];

static void *work(void *arg)
{
    long i = (long)arg;
    unsigned long long first = per_thread * (unsigned long long)i;
    for (unsigned long long k = first; k < first + per_thread; k++) {
        uint64_t x = k * 0x9e3779b97f4a7c15ULL;   /* a hash of the global index k */
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 32;
        counters[i].sum += x & 0xff;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = argc > 1 ? strtol(argv[1], NULL, 0) : 1;
    unsigned long long n = argc > 2 ? strtoull(argv[2], NULL, 0) : 10000000ULL;
    if (threads < 1 || threads > MAXTHREADS) {
        fprintf(stderr, "tcompute: 1 to %d threads\n", MAXTHREADS);
        return 2;
    }
    per_thread = n / (unsigned long long)threads;
    pthread_t t[MAXTHREADS];
    for (long i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, work, (void *)i);
    uint64_t total = 0;
    for (long i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += counters[i].sum;
    }
    printf("threads %ld iterations %llu total %llu\n", threads, per_thread * threads,
           (unsigned long long)total);
    return 0;
}
