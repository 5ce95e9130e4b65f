/* A program for tests/test_gdb.py, built with symbols (-g -O0, not stripped). */
#include <pthread.h>
#include <stdio.h>
int shared;
void *worker(void *arg) { shared += (int)(long)arg; return 0; }
int main(void) {
    pthread_t t;
    pthread_create(&t, 0, worker, (void *)5);
    pthread_join(t, 0);
    printf("shared %d\n", shared);
    return 0;
}
