/* pthread_cancel of a thread blocked in read(2) on a pipe nobody writes: the
 * cancellation signal interrupts the parked read, the thread unwinds and its join
 * value is PTHREAD_CANCELED; then a deferred cancel acted on at pthread_testcancel. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *blocked_reader(void *arg) {
    char c;
    int *p = arg;
    read(p[0], &c, 1);              /* nothing ever comes: cancelled here */
    return (void *)1;
}

static volatile int go;

static void *deferred(void *arg) {
    (void)arg;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    while (!go)
        sched_yield();
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    pthread_testcancel();
    return (void *)2;
}

int main(void) {
    int never[2];
    pthread_t t;
    void *ret;

    pipe(never);
    pthread_create(&t, NULL, blocked_reader, never);
    usleep(20000);                  /* the reader is parked in read */
    printf("cancel blocked read: %d\n", pthread_cancel(t));
    pthread_join(t, &ret);
    printf("cancelled in read: %s\n", ret == PTHREAD_CANCELED ? "yes" : "no");

    pthread_create(&t, NULL, deferred, NULL);
    printf("cancel deferred: %d\n", pthread_cancel(t));
    go = 1;
    pthread_join(t, &ret);
    printf("cancelled at testcancel: %s\n", ret == PTHREAD_CANCELED ? "yes" : "no");
    return 0;
}
