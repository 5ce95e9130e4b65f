/* More of what strace prints from memory, compared with `strace -f` of the same
 * binary (tests/test_strace_more.py): wait4's struct rusage, clone3's bytes past
 * the 88 of struct clone_args, and the siginfo of a SIGIO a file sends through
 * F_SETSIG (si_code POLL_IN, si_band, si_fd). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int got_code, got_fd;
static volatile long got_band;

static void on_io(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    got_code = si->si_code;
    got_band = si->si_band;
    got_fd = si->si_fd;
}

/* struct clone_args and what follows it */
static struct {
    uint64_t fields[11];
    unsigned char tail[200];
} cl;

static void clone3_sized(const char *what, long size)
{
    cl.fields[4] = SIGCHLD;             /* exit_signal */
    long r = syscall(SYS_clone3, &cl, size);
    if (r == 0)
        _exit(0);
    if (r > 0)
        waitpid(r, NULL, 0);
    printf("clone3 %s: %s\n", what, r > 0 ? "child" : strerror(errno));
}

int main(void)
{
    struct rusage ru;
    int status;
    setvbuf(stdout, NULL, _IONBF, 0);

    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    long r = syscall(SYS_wait4, pid, &status, 0, &ru);
    printf("wait4 rusage: %s, status %#x\n", r == pid ? "reaped" : strerror(errno), status);
    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    memset(&ru, 0, sizeof ru);
    r = syscall(SYS_wait4, pid, &status, WNOHANG, &ru);
    printf("wait4 WNOHANG: %ld\n", r);
    kill(pid, SIGKILL);
    r = syscall(SYS_wait4, pid, &status, 0, &ru);
    printf("wait4 killed: %s\n", r == pid ? "reaped" : strerror(errno));
    r = syscall(SYS_wait4, -1, &status, 0, &ru);
    printf("wait4 none: %s\n", r < 0 ? strerror(errno) : "a child");

    clone3_sized("96 zero", 96);
    memcpy(cl.tail, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
    clone3_sized("96 nonzero", 96);
    memset(cl.tail, 0, sizeof cl.tail);
    cl.tail[150 - 88] = 0x5a;
    clone3_sized("200 nonzero at 150", 200);
    memset(cl.tail, 0, sizeof cl.tail);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_io;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGIO, &sa, NULL);
    int p[2];
    if (pipe(p) != 0)
        return 1;
    fcntl(p[0], F_SETOWN, getpid());
    fcntl(p[0], F_SETSIG, SIGIO);
    fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);
    if (write(p[1], "x", 1) != 1)
        return 1;
    printf("SIGIO: si_code %d, si_band %ld, si_fd %d (read end %d)\n", got_code, got_band,
           got_fd, p[0]);
    return 0;
}
