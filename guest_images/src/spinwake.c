/*
 * spinwake: a thread made runnable while its maker spins gets the CPU within a
 * time slice, also while another thread sleeps with a deadline far off. The main
 * thread starts a sleeper (nanosleep, 20 s), lets it park (a 1 ms nanosleep of its
 * own), then starts a setter and spins until the setter has set a flag; it prints
 * what it saw and exits at once (the sleeper still asleep). Natively, and under
 * pyunik, the spin ends within milliseconds: the sleeper's deadline must not stand
 * in for the new thread's slice.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile int flag;

static void *sleeper(void *arg)
{
    struct timespec ts = {20, 0};
    (void)arg;
    nanosleep(&ts, NULL);
    return NULL;
}

static void *setter(void *arg)
{
    (void)arg;
    flag = 1;
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
    pthread_t s, w;
    struct timespec ms = {0, 1000000};
    if (pthread_create(&s, NULL, sleeper, NULL))
        return 1;
    nanosleep(&ms, NULL);               /* the sleeper parks with its deadline */
    double start = now();
    if (pthread_create(&w, NULL, setter, NULL))
        return 1;
    while (!flag)
        ;
    double spun = now() - start;
    pthread_join(w, NULL);
    printf("setter ran, spin %s\n", spun < 5.0 ? "short" : "long");
    fflush(stdout);
    _exit(0);
}
