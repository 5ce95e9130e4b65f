/*
 * kernelmap.c - the kernel half of the address space as a process sees it: memory
 * calls on a kernel address (the start of Linux's vmalloc area, where pyunik keeps
 * its network card's virtqueues) get Linux's answers, a touch there is SIGSEGV with
 * SEGV_MAPERR, syscalls given such a buffer say EFAULT; and whether /proc/self/maps
 * names a kernel mapping there, in this process and in a forked child.
 *
 * Every call is made with raw syscalls, so libc cannot answer for the kernel.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define KERNEL_ADDR 0xffffc90000000000UL   /* VMALLOC_START, 4-level paging */

static void show(const char *what, long r)
{
    if (r < 0 && r > -4096)
        printf("%s: %s\n", what, errno_name(-r));
    else
        printf("%s: ok\n", what);
}

static sigjmp_buf back;
static volatile int code;
static volatile unsigned long where;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)ctx;
    code = si->si_code;
    where = (unsigned long)si->si_addr;
    siglongjmp(back, 1);
}

/* The /proc/self/maps line of the mapping above user space, if any. */
static void kernel_lines(const char *who)
{
    char buf[65536];
    int fd = open("/proc/self/maps", O_RDONLY);
    long n = 0, r;
    while (fd >= 0 && n < (long)sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += r;
    if (fd >= 0)
        close(fd);
    buf[n] = 0;
    int found = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "ffffc9", 6) == 0) {
            char *name = strrchr(line, ' ');
            char perms[8] = "";
            sscanf(line, "%*s %7s", perms);
            printf("%s: kernel mapping %s %s\n", who, perms, name ? name + 1 : "");
            found = 1;
        }
    }
    if (!found)
        printf("%s: no kernel mapping\n", who);
}

int main(void)
{
    unsigned long k = KERNEL_ADDR;
    char buf[16];
    show("munmap", raw_syscall2(SYS_munmap, k, 4096));
    show("munmap spanning the top of user space",
         raw_syscall2(SYS_munmap, 0x7ffffffff000UL - 4096, 8192));
    show("mprotect PROT_READ", raw_syscall3(SYS_mprotect, k, 4096, PROT_READ));
    show("mprotect PROT_READ|PROT_WRITE",
         raw_syscall3(SYS_mprotect, k, 4096, PROT_READ | PROT_WRITE));
    show("mprotect PROT_NONE", raw_syscall3(SYS_mprotect, k, 4096, PROT_NONE));
    show("mmap MAP_FIXED", raw_syscall6(SYS_mmap, k, 4096, PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    show("mmap MAP_FIXED_NOREPLACE",
         raw_syscall6(SYS_mmap, k, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
    long hinted = raw_syscall6(SYS_mmap, k, 4096, PROT_READ,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap with the address as a hint: %s\n",
           hinted < 0 && hinted > -4096 ? errno_name(-hinted)
           : (unsigned long)hinted < 0x800000000000UL ? "placed in user space" : "placed there");
    show("mremap", raw_syscall5(SYS_mremap, k, 4096, 8192, MREMAP_MAYMOVE, 0));
    show("madvise MADV_DONTNEED", raw_syscall3(SYS_madvise, k, 4096, MADV_DONTNEED));
    show("msync", raw_syscall3(SYS_msync, k, 4096, MS_SYNC));
    show("mincore", raw_syscall3(SYS_mincore, k, 4096, (long)buf));
    show("write from it", raw_syscall3(SYS_write, 1, k, 16));
    int fd = open("/proc/self/maps", O_RDONLY);
    show("read into it", raw_syscall3(SYS_read, fd, k, 16));
    close(fd);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (!sigsetjmp(back, 1)) {
        volatile char c = *(volatile char *)k;
        (void)c;
        printf("read: no fault\n");
    } else {
        printf("read: SIGSEGV code %d at the address: %s\n", code, where == k ? "yes" : "no");
    }
    if (!sigsetjmp(back, 1)) {
        *(volatile char *)(k + 64) = 1;
        printf("write: no fault\n");
    } else {
        printf("write: SIGSEGV code %d at the address: %s\n", code,
               where == k + 64 ? "yes" : "no");
    }

    fflush(stdout);
    kernel_lines("parent");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        kernel_lines("child");
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return 0;
}
