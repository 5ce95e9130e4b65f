/*
 * sigloop N: N signal deliveries and returns (tgkill of the calling thread with
 * the raw `syscall` instruction; the handler counts, and returns through the C
 * library's restorer and rt_sigreturn), then prints "done N": two system calls
 * and a frame built and taken back per iteration (benchmarks/run.py row 12).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

static volatile unsigned long count;

static void on_usr1(int sig)
{
    (void)sig;
    count++;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    long pid = raw_syscall0(SYS_getpid), tid = raw_syscall0(SYS_gettid);
    for (unsigned long i = 0; i < n; i++)
        raw_syscall3(SYS_tgkill, pid, tid, SIGUSR1);
    printf("done %lu\n", count);
    return count == n ? 0 : 1;
}
