/*
 * jobs.c - process groups, sessions and job control: setpgid/getpgid/setsid/getsid
 * and their errno cases, kill of a process group, SIGSTOP/SIGTSTP/SIGCONT with the
 * stopped state seen by wait4 (WUNTRACED, WCONTINUED) and waitid (WSTOPPED), SIGCHLD
 * with CLD_STOPPED and CLD_CONTINUED (and SA_NOCLDSTOP), a stopped child that does
 * not run, and a parent's wait4 interrupted by its own timer signal: restarted under
 * SA_RESTART, EINTR without.
 *
 * Only the parent prints; no pids are printed, only facts about them.
 * `jobs hold FD`: (an exec'd child) waits until FD reaches end of file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

static const char *err(long r)
{
    if (r >= 0)
        return "0";
    const char *n = errno_name(errno);
    return n ? n : "?";
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* a child that waits until the pipe's write end closes, then exits with code */
static pid_t holder(int fds[2], int code)
{
    pid_t p = fork();
    if (p == 0) {
        char c;
        close(fds[1]);
        while (read(fds[0], &c, 1) > 0)
            ;
        _exit(code);
    }
    return p;
}

static void groups(char *self)
{
    int fds[2];
    pipe(fds);
    pid_t me = getpid();
    pid_t a = holder(fds, 0);
    pid_t b = holder(fds, 0);
    printf("child starts in our group %d, session %d\n", getpgid(a) == getpgid(0),
           getsid(a) == getsid(0));
    const char *r = err(setpgid(a, a));
    printf("setpgid(a, a): %s, leads %d\n", r, getpgid(a) == a);
    r = err(setpgid(b, a));
    printf("setpgid(b, a): %s, joined %d\n", r, getpgid(b) == a);
    printf("setpgid(b, no group): %s\n", err(setpgid(b, b + 100000)));
    printf("setpgid(-1 pgid): %s\n", err(setpgid(0, -1)));
    printf("setpgid(not a child): %s\n", err(setpgid(getppid(), 0)));
    printf("getpgid(none): %s\n", err(getpgid(0x3ffffff0)));
    printf("getsid(none): %s\n", err(getsid(0x3ffffff0)));
    printf("kill group: %s\n", err(kill(-a, SIGTERM)));
    int st, n = 0;
    for (int i = 0; i < 2; i++)
        if (wait(&st) > 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
            n++;
    printf("  both killed %d\n", n == 2);
    printf("kill empty group: %s\n", err(kill(-a, SIGTERM)));
    close(fds[0]);
    close(fds[1]);

    /* a child in its own session */
    int rep[2];
    pipe(rep);
    pid_t p = fork();
    if (p == 0) {
        int bits = 0;
        bits |= (setsid() == getpid()) << 0;
        bits |= (getsid(0) == getpid()) << 1;
        bits |= (getpgid(0) == getpid()) << 2;
        bits |= (setsid() < 0 && errno == EPERM) << 3;
        bits |= (setpgid(0, 0) < 0 && errno == EPERM) << 4;
        bits |= (getppid() == me) << 5;
        _exit(bits);
    }
    waitpid(p, &st, 0);
    printf("setsid in a child: new session %d, its sid %d, its group %d, again EPERM %d, "
           "setpgid EPERM %d, same parent %d\n", WEXITSTATUS(st) & 1, !!(WEXITSTATUS(st) & 2),
           !!(WEXITSTATUS(st) & 4), !!(WEXITSTATUS(st) & 8), !!(WEXITSTATUS(st) & 16),
           !!(WEXITSTATUS(st) & 32));
    printf("setsid as a group leader: %s\n",
           err(getpgid(0) == getpid() ? setsid() : (errno = EPERM, -1)));

    /* setpgid on a child that has exec'd */
    pipe(fds);
    p = fork();
    if (p == 0) {
        char fd[16];
        close(fds[1]);
        snprintf(fd, sizeof fd, "%d", fds[0]);
        execl(self, self, "hold", fd, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    for (int i = 0; i < 500; i++) {     /* until its exec has happened */
        char path[64], buf[256] = "";
        snprintf(path, sizeof path, "/proc/%d/cmdline", p);
        FILE *f = fopen(path, "r");
        if (f) {
            size_t got = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            if (got > 0 && memmem(buf, got, "hold", 5))
                break;
        }
        sleep_ms(2);
    }
    printf("setpgid after exec: %s\n", err(setpgid(p, p)));
    close(fds[1]);
    waitpid(p, &st, 0);
}

static volatile sig_atomic_t codes[8], ncodes;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (ncodes < 8)
        codes[ncodes++] = si->si_code;
}

static const char *cld(int code)
{
    switch (code) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_STOPPED: return "CLD_STOPPED";
    case CLD_CONTINUED: return "CLD_CONTINUED";
    default: return "other";
    }
}

static void stop_continue(void)
{
    volatile long *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    ncodes = 0;
    pid_t p = fork();
    if (p == 0) {
        for (;;) {
            (*counter)++;
            sleep_ms(1);
        }
    }
    while (*counter < 3)
        sleep_ms(1);
    int st;
    printf("SIGSTOP: %s\n", err(kill(p, SIGSTOP)));
    pid_t w = waitpid(p, &st, WUNTRACED);
    printf("  wait WUNTRACED: it %d, stopped %d, by %d\n", w == p, WIFSTOPPED(st),
           WSTOPSIG(st));
    siginfo_t si;
    memset(&si, 0x55, sizeof si);
    const char *r = err(waitid(P_PID, p, &si, WSTOPPED | WNOHANG));
    printf("  waitid WSTOPPED again: %s, si_pid %d\n", r, si.si_pid);
    long before = *counter;
    sleep_ms(30);
    printf("  ran while stopped: %d\n", *counter != before);
    printf("SIGCONT: %s\n", err(kill(p, SIGCONT)));
    w = waitpid(p, &st, WCONTINUED);
    printf("  wait WCONTINUED: it %d, continued %d\n", w == p, WIFCONTINUED(st));
    before = *counter;
    for (int i = 0; i < 1000 && *counter == before; i++)
        sleep_ms(1);
    printf("  runs again: %d\n", *counter != before);
    kill(p, SIGSTOP);
    memset(&si, 0, sizeof si);
    waitid(P_PID, p, &si, WSTOPPED);
    printf("waitid WSTOPPED: code %s, status %d\n", cld(si.si_code), si.si_status);
    kill(p, SIGTERM);                      /* pending while stopped */
    usleep(10000);
    printf("  SIGTERM while stopped, reaped: %d\n", waitpid(p, &st, WNOHANG));
    kill(p, SIGCONT);
    waitpid(p, &st, 0);
    printf("  after SIGCONT: killed by %d\n", WTERMSIG(st));
    /* (a fifth, CLD_KILLED, comes or coalesces with the last CLD_CONTINUED by timing) */
    printf("SIGCHLD codes:");
    for (int i = 0; i < ncodes && i < 4; i++)
        printf(" %s", cld(codes[i]));
    printf("\n");

    /* SIGTSTP's default stops; SA_NOCLDSTOP keeps SIGCHLD for exits only */
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    ncodes = 0;
    p = fork();
    if (p == 0) {
        raise(SIGTSTP);
        _exit(9);
    }
    waitpid(p, &st, WUNTRACED);
    printf("raise(SIGTSTP): stopped %d, by %d\n", WIFSTOPPED(st), WSTOPSIG(st));
    kill(p, SIGKILL);
    waitpid(p, &st, 0);
    printf("  SIGKILL while stopped: killed by %d\n", WTERMSIG(st));
    printf("SA_NOCLDSTOP codes:");
    for (int i = 0; i < ncodes; i++)
        printf(" %s", cld(codes[i]));
    printf("\n");
    signal(SIGCHLD, SIG_DFL);
    munmap((void *)counter, 4096);
}

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
    (void)sig;
    ticks++;
}

static void heartbeat(int restart)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    ticks = 0;
    pid_t p = fork();
    if (p == 0) {
        sleep_ms(80);
        _exit(5);
    }
    struct itimerval it = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_REAL, &it, NULL);
    int st;
    long r = wait4(p, &st, 0, NULL);
    int e = errno;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    if (r < 0) {
        errno = e;
        printf("heartbeat, %s: wait4 %s, ticks > 0 %d\n", restart ? "SA_RESTART" : "no SA_RESTART",
               err(-1), ticks > 0);
        waitpid(p, &st, 0);
    } else {
        printf("heartbeat, %s: wait4 it %d, code %d, ticks > 1 %d\n",
               restart ? "SA_RESTART" : "no SA_RESTART", r == p, WEXITSTATUS(st), ticks > 1);
    }
    signal(SIGALRM, SIG_DFL);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "hold") == 0) {
        char c;
        while (read(atoi(argv[2]), &c, 1) > 0)
            ;
        return 0;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    groups(argv[0]);
    stop_continue();
    heartbeat(1);
    heartbeat(0);
    printf("done\n");
    return 0;
}
