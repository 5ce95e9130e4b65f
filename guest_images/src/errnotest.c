/*
 * errnotest: issues system calls with bad arguments through the raw
 * `syscall` instruction (so libc cannot intercept or pre-validate) and
 * prints the kernel's return value symbolically, e.g. "uname bad buf: -EFAULT".
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "guest.h"

#ifndef SYS_getrandom
#define SYS_getrandom 318
#endif

static void show(const char *what, long r)
{
    printf("%s: %s\n", what, fmt_ret(r));
}

/* Layout of the kernel's struct sigaction on x86-64. */
struct ksigaction {
    unsigned long handler;
    unsigned long flags;
    unsigned long restorer;
    unsigned long mask;
};

static const struct timespec bad_ts = {0, 2000000000L};

int main(void)
{
    char buf[256];
    int p[2] = {-1, -1};

    /*
     * write() with a bad buffer.  A pipe is used rather than fd 1 because
     * writing to e.g. /dev/null never reads the buffer and would succeed.
     */
    long r = raw_syscall2(SYS_pipe2, p, O_CLOEXEC);
    if (r != 0) {
        printf("pipe2 failed: %s\n", fmt_ret(r));
        return 1;
    }
    show("write bad buf to pipe", raw_syscall3(SYS_write, p[1], 1, 10));
    raw_syscall3(SYS_write, p[1], "x", 1); /* so that read has data to copy */
    show("read bad buf from pipe", raw_syscall3(SYS_read, p[0], 8, 1));
    show("lseek on pipe", raw_syscall3(SYS_lseek, p[0], 0, SEEK_SET));
    show("ioctl TCGETS on pipe", raw_syscall3(SYS_ioctl, p[0], 0x5401, buf));

    show("uname bad buf", raw_syscall1(SYS_uname, 8));
    show("clock_gettime bad buf", raw_syscall2(SYS_clock_gettime, CLOCK_MONOTONIC, 8));
    show("clock_gettime bad clock", raw_syscall2(SYS_clock_gettime, 12345, buf));
    show("gettimeofday bad buf", raw_syscall2(SYS_gettimeofday, 8, 0));
    show("syscall 1000", raw_syscall0(1000));
    show("syscall 500", raw_syscall0(500));
    show("syscall -1", raw_syscall0(-1));
    show("getcwd size 1", raw_syscall2(SYS_getcwd, buf, 1));
    show("getcwd size 0", raw_syscall2(SYS_getcwd, buf, 0));
    show("write fd 99", raw_syscall3(SYS_write, 99, "x", 1));
    show("read fd -1", raw_syscall3(SYS_read, -1, buf, 1));
    show("close fd 99", raw_syscall1(SYS_close, 99));
    show("dup fd 99", raw_syscall1(SYS_dup, 99));
    show("dup2 from fd 99", raw_syscall2(SYS_dup2, 99, 100));
    show("fstat fd 99", raw_syscall2(SYS_fstat, 99, buf));

    struct ksigaction act;
    memset(&act, 0, sizeof act);
    show("rt_sigaction sig 0", raw_syscall4(SYS_rt_sigaction, 0, &act, 0, 8));
    show("rt_sigaction SIGKILL", raw_syscall4(SYS_rt_sigaction, SIGKILL, &act, 0, 8));
    show("rt_sigaction SIGSTOP", raw_syscall4(SYS_rt_sigaction, SIGSTOP, &act, 0, 8));
    show("rt_sigaction sig 65", raw_syscall4(SYS_rt_sigaction, 65, &act, 0, 8));
    show("rt_sigaction bad sigsetsize",
         raw_syscall4(SYS_rt_sigaction, SIGUSR1, &act, 0, 4));
    show("rt_sigprocmask bad how", raw_syscall4(SYS_rt_sigprocmask, 99, buf, 0, 8));

    show("getrandom bad flags", raw_syscall3(SYS_getrandom, buf, 16, 0xffff));
    show("prlimit64 bad resource", raw_syscall4(SYS_prlimit64, 0, 999, 0, buf));
    show("getrlimit bad resource", raw_syscall2(SYS_getrlimit, 999, buf));
    show("arch_prctl bad code", raw_syscall2(SYS_arch_prctl, 0x9999, 0));
    show("mmap no share type",
         raw_syscall6(SYS_mmap, 0, 4096, 1 /* PROT_READ */, 0x20 /* MAP_ANONYMOUS */, -1, 0));
    show("sched_getaffinity size 1", raw_syscall3(SYS_sched_getaffinity, 0, 1, buf));
    show("readlink /proc/self/exe bad buf",
         raw_syscall3(SYS_readlink, "/proc/self/exe", 8, 100));
    show("open nonexistent",
         raw_syscall3(SYS_open, "/nonexistent-pyunik/x", O_RDONLY, 0));
    show("open bad path ptr", raw_syscall3(SYS_open, 8, O_RDONLY, 0));
    show("open dir for write", raw_syscall3(SYS_open, "/", O_WRONLY, 0));
    show("open file as dir",
         raw_syscall3(SYS_open, "/dev/null/x", O_RDONLY, 0));
    show("chdir nonexistent", raw_syscall1(SYS_chdir, "/nonexistent-pyunik"));
    show("kill bad signal", raw_syscall2(SYS_kill, 0, 999));
    show("munmap unaligned", raw_syscall2(SYS_munmap, 1, 4096));
    show("nanosleep bad nsec", raw_syscall2(SYS_nanosleep, &bad_ts, 0));

    raw_syscall1(SYS_close, p[0]);
    raw_syscall1(SYS_close, p[1]);
    return 0;
}
