/*
 * mremapeof.c - mremap of a file mapping longer than its file: the pages past the
 * end of the file are part of the same mapping (a touch of them is SIGBUS), and
 * mremap grows it in place, moves it (MREMAP_MAYMOVE, MREMAP_FIXED) and shrinks it
 * across that boundary as one mapping.  Shared and private mappings.
 * (tests/test_mremapeof.py)
 *
 * Usage: mremapeof DIR   (makes DIR/mremapeof-file).  Output is the same for any
 * pid and address.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096L

static sigjmp_buf env;
static volatile int last_signal;

static void on_fault(int sig)
{
    last_signal = sig;
    siglongjmp(env, 1);
}

static const char *touch(volatile char *p)
{
    last_signal = 0;
    if (sigsetjmp(env, 1) == 0) {
        char c = *p;
        (void)c;
        return "ok";
    }
    return last_signal == SIGBUS ? "SIGBUS" : last_signal == SIGSEGV ? "SIGSEGV" : "?";
}

static void report(const char *what, char *p, long pages)
{
    printf("%-36s", what);
    if (p == MAP_FAILED) {
        printf(" failed: %s\n", errno == ENOMEM ? "ENOMEM" : errno == EFAULT ? "EFAULT" :
               errno == EINVAL ? "EINVAL" : "other");
        return;
    }
    printf(" data %.5s", p);
    for (long i = 0; i < pages; i++)
        printf(" %s", touch(p + i * PAGE));
    printf("\n");
}

static void one(const char *path, int flags, const char *kind)
{
    int fd = open(path, O_RDWR);
    char *p, *q, *far;
    printf("%s\n", kind);

    /* room after it: 16 pages reserved, then the mapping at their start */
    p = mmap(NULL, 16 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, 16 * PAGE);
    p = mmap(p, 4 * PAGE, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0);
    report("  mmap 4 pages (file: 1 page + 100)", p, 4);
    p[0] = 'H';

    q = mremap(p, 4 * PAGE, 6 * PAGE, 0);
    report("  grow to 6 in place", q, 6);
    if (q != MAP_FAILED)
        p = q;
    far = mmap(NULL, 32 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(far, 32 * PAGE);
    q = mremap(p, 6 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, far);
    report("  move to a fixed place, 8 pages", q, 8);
    printf("  %-34s %d\n", "moved where asked", q == far);
    if (q != MAP_FAILED)
        p = q;
    q = mremap(p, 8 * PAGE, 3 * PAGE, 0);
    report("  shrink to 3", q, 3);
    if (q != MAP_FAILED)
        p = q;
    /* keep the next pages taken so growing must move */
    far = mmap(p + 3 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
               -1, 0);
    q = mremap(p, 3 * PAGE, 5 * PAGE, 0);
    report("  grow to 5 where it cannot", q, 0);
    q = mremap(p, 3 * PAGE, 5 * PAGE, MREMAP_MAYMOVE);
    report("  grow to 5, MREMAP_MAYMOVE", q, 5);
    printf("  %-34s %d\n", "moved", q != p);
    if (far != MAP_FAILED)
        munmap(far, PAGE);
    if (q != MAP_FAILED)
        munmap(q, 5 * PAGE);
    close(fd);
    fd = open(path, O_RDONLY);
    {
        char b[8] = {0};
        if (pread(fd, b, 5, 0) != 5)
            printf("pread failed\n");
        printf("  %-34s %.5s\n", "file's first bytes after", b);
    }
    close(fd);
}

int main(int argc, char **argv)
{
    char path[512], page[PAGE + 100];
    struct sigaction sa;
    int fd;
    if (argc < 2) {
        fprintf(stderr, "usage: mremapeof DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    snprintf(path, sizeof path, "%s/mremapeof-file", argv[1]);
    for (int kind = 0; kind < 2; kind++) {
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        memset(page, 'x', sizeof page);
        memcpy(page, "hello", 5);
        if (write(fd, page, sizeof page) != (long)sizeof page)
            printf("write failed\n");
        close(fd);
        one(path, kind ? MAP_PRIVATE : MAP_SHARED, kind ? "MAP_PRIVATE" : "MAP_SHARED");
    }
    unlink(path);
    return 0;
}
