/*
 * evlock: eventfd counters and the mlock family, through raw syscalls: values read
 * back, poll readiness and errno names. No argument. The blocking read of an empty
 * counter is left out (natively it waits forever).
 */
#include <poll.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "guest.h"

#define EFD_SEMAPHORE 1
#define EFD_NONBLOCK 04000
#define EFD_CLOEXEC 02000000

static void show(const char *what, long r) { printf("%s: %s\n", what, fmt_ret(r)); }

static int revents(long fd)
{
    struct pollfd p = {(int)fd, POLLIN | POLLOUT, 0};
    raw_syscall3(SYS_poll, &p, 1, 0);
    return p.revents;
}

int main(void)
{
    unsigned long long v = 0;
    long fd = raw_syscall2(SYS_eventfd2, 3, EFD_NONBLOCK);
    printf("eventfd2 nonblock: %s\n", fd >= 0 ? "ok" : fmt_ret(fd));
    printf("poll with count 3: %#x\n", revents(fd));
    show("read 8", raw_syscall3(SYS_read, fd, &v, 8));
    printf("value: %llu\n", v);
    show("read at zero", raw_syscall3(SYS_read, fd, &v, 8));
    printf("poll with count 0: %#x\n", revents(fd));
    show("read 4 bytes", raw_syscall3(SYS_read, fd, &v, 4));
    v = 5;
    show("write 5", raw_syscall3(SYS_write, fd, &v, 8));
    v = 7;
    show("write 7", raw_syscall3(SYS_write, fd, &v, 8));
    show("read", raw_syscall3(SYS_read, fd, &v, 8));
    printf("value: %llu\n", v);
    v = ~0ULL;
    show("write all ones", raw_syscall3(SYS_write, fd, &v, 8));
    v = ~0ULL - 1;
    show("write max", raw_syscall3(SYS_write, fd, &v, 8));
    printf("poll at max: %#x\n", revents(fd));
    v = 1;
    show("write past max", raw_syscall3(SYS_write, fd, &v, 8));
    show("write 4 bytes", raw_syscall3(SYS_write, fd, &v, 4));
    show("lseek", raw_syscall3(SYS_lseek, fd, 0, 0));
    raw_syscall1(SYS_close, fd);

    fd = raw_syscall2(SYS_eventfd2, 2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    show("semaphore read 1", raw_syscall3(SYS_read, fd, &v, 8));
    printf("value: %llu\n", v);
    show("semaphore read 2", raw_syscall3(SYS_read, fd, &v, 8));
    printf("value: %llu\n", v);
    show("semaphore read 3", raw_syscall3(SYS_read, fd, &v, 8));
    printf("cloexec: %ld\n", raw_syscall2(SYS_fcntl, fd, 1 /* F_GETFD */));
    raw_syscall1(SYS_close, fd);
    show("eventfd2 bad flags", raw_syscall2(SYS_eventfd2, 0, 0x10));

    static char buf[3 * 4096] __attribute__((aligned(4096)));
    show("mlock", raw_syscall2(SYS_mlock, buf, sizeof buf));
    show("munlock", raw_syscall2(SYS_munlock, buf, sizeof buf));
    show("mlock unaligned start", raw_syscall2(SYS_mlock, buf + 5, 100));
    show("mlock2 bad flags", raw_syscall3(SYS_mlock2, buf, 4096, 8));
    show("mlock2 ONFAULT", raw_syscall3(SYS_mlock2, buf, 4096, 1));
    long m = raw_syscall6(SYS_mmap, 0, 8192, 3, 0x22, -1, 0);
    raw_syscall2(SYS_munmap, m + 4096, 4096);
    show("mlock over a hole", raw_syscall2(SYS_mlock, m, 8192));
    show("munlock over a hole", raw_syscall2(SYS_munlock, m, 8192));
    show("mlockall 0", raw_syscall1(SYS_mlockall, 0));
    show("mlockall ONFAULT alone", raw_syscall1(SYS_mlockall, 4));
    show("mlockall bad bit", raw_syscall1(SYS_mlockall, 64));
    show("munlockall", raw_syscall0(SYS_munlockall));
    return 0;
}
