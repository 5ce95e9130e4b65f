/*
 * shmmap - shared memory mapped twice in one process: a memfd, a /dev/shm file
 * and MAP_SHARED anonymous memory.
 *
 * Two mappings of the same memfd (and of the same /dev/shm file) at two
 * addresses see each other's writes and the file's read()/write(); a shared
 * futex waited on through one mapping is woken through the other (a private
 * wake through the other is not); MAP_SHARED anonymous memory keeps its
 * contents across mremap and MADV_DONTNEED, and /proc/self/maps names it
 * /dev/zero (deleted) with the offset of each piece.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "ipcguest.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | 128)

static char *one, *two;
static volatile int ready;

static long futex(volatile int *word, int op, int val)
{
    return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static void *waiter(void *arg)
{
    volatile int *word = (volatile int *)(one + 256);
    (void)arg;
    ready = 1;
    while (*word == 0)
        futex(word, FUTEX_WAIT, 0);
    return NULL;
}

static void two_mappings(const char *what, int fd)
{
    char buf[16] = "";
    one = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("%s: two mappings %s\n", what, one != MAP_FAILED && two != MAP_FAILED && one != two
           ? "yes" : "no");
    strcpy(one, "written in one");
    printf("%s: two reads %s\n", what, two);
    strcpy(two + 4096, "second page");
    printf("%s: one reads %s\n", what, one + 4096);
    pwrite(fd, "by write", 9, 100);
    printf("%s: mapping reads %s\n", what, two + 100);
    pread(fd, buf, 12, 4096);
    printf("%s: read() gives %s\n", what, buf);

    ready = 0;
    *(volatile int *)(one + 256) = 0;
    pthread_t th;
    pthread_create(&th, NULL, waiter, NULL);
    while (!ready)
        sched_yield();
    usleep(50000);
    VAL("private wake through two", futex((int *)(two + 256), FUTEX_WAKE_PRIVATE, 1));
    *(volatile int *)(two + 256) = 1;
    VAL("shared wake through two", futex((int *)(two + 256), FUTEX_WAKE, 1));
    pthread_join(th, NULL);
    munmap(one, 8192);
    munmap(two, 8192);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = memfd_create("shmmap", 0);
    ftruncate(fd, 8192);
    two_mappings("memfd", fd);
    char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    maps_line("memfd maps", m);
    munmap(m, 4096);
    close(fd);

    char path[64];
    snprintf(path, sizeof path, "/dev/shm/pyunik-shmmap-%d", getpid());
    fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    YES("/dev/shm file", fd >= 0);
    ftruncate(fd, 8192);
    two_mappings("/dev/shm", fd);
    close(fd);
    unlink(path);

    char *anon = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                      -1, 0);
    strcpy(anon, "page 0");
    strcpy(anon + 4096, "page 1");
    strcpy(anon + 8192, "page 2");
    maps_line("anon maps", anon);
    SAY("munmap first page", munmap(anon, 4096));
    maps_line("anon maps rest", anon + 4096);
    SAY("MADV_DONTNEED", madvise(anon + 4096, 4096, MADV_DONTNEED));
    printf("after MADV_DONTNEED: %s\n", anon + 4096);
    char *moved = mremap(anon + 4096, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED,
                         anon + (64 << 12));
    YES("mremap whole", moved == anon + (64 << 12));
    printf("moved: %s, %s\n", moved, moved + 4096);
    char *part = mremap(moved + 4096, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED,
                        anon + (80 << 12));
    YES("mremap part", part == anon + (80 << 12));
    printf("part: %s\n", part);
    maps_line("anon maps part", part);
    SAY("mremap duplicate private", mremap(part, 0, 4096, MREMAP_MAYMOVE));
    return 0;
}
