/*
 * tswitch pingpong N: N futex round trips between two threads (the main thread
 * wakes the other and waits; the other wakes it back and waits: 4 raw futex calls
 * and 2 thread switches per round trip), then prints "done N".
 * tswitch create N: N pthread_create + pthread_join of a thread that returns at
 * once (about 10 system calls each: the stack's mmap and guard, clone, the
 * child's exit and the join's futex wait, the stack's munmap), then "done N".
 * benchmarks/threads_speed.py times both (rows 17 and 18).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "guest.h"

#define FUTEX_WAIT_PRIVATE 128     /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG */
#define FUTEX_WAKE_PRIVATE 129     /* FUTEX_WAKE | FUTEX_PRIVATE_FLAG */

static volatile int turn;        /* 0: the main thread's turn, 1: the other's */
static unsigned long rounds;

static void wait_while(int value)
{
    while (turn == value)
        raw_syscall4(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, value, 0);
}

static void hand_over(int value)
{
    turn = value;
    raw_syscall3(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1);
}

static void *partner(void *arg)
{
    (void)arg;
    for (unsigned long i = 0; i < rounds; i++) {
        wait_while(0);
        hand_over(0);
    }
    return NULL;
}

static void *nothing(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tswitch pingpong|create N\n");
        return 2;
    }
    unsigned long n = strtoul(argv[2], NULL, 0);
    pthread_t th;
    if (!strcmp(argv[1], "pingpong")) {
        rounds = n;
        if (pthread_create(&th, NULL, partner, NULL))
            return 1;
        for (unsigned long i = 0; i < n; i++) {
            hand_over(1);
            wait_while(1);
        }
        pthread_join(th, NULL);
    } else if (!strcmp(argv[1], "create")) {
        for (unsigned long i = 0; i < n; i++) {
            void *ret;
            if (pthread_create(&th, NULL, nothing, (void *)i) || pthread_join(th, &ret) ||
                ret != (void *)i)
                return 1;
        }
    } else {
        return 2;
    }
    printf("done %lu\n", n);
    return 0;
}
