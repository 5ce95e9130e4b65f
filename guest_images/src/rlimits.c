/*
 * rlimits: the resource limits that end in a signal or a failed clone.
 *
 *   rlimits cpu            RLIMIT_CPU {1, 2}: SIGXCPU (SI_KERNEL) when the process's CPU
 *                          time reaches the soft limit, the soft limit raised by one
 *                          second each time, SIGKILL at the hard limit (a busy loop
 *                          until it comes; exit status 137)
 *   rlimits cpu-default    RLIMIT_CPU {1, 5} and no handler: killed by SIGXCPU at 1 s
 *   rlimits nproc UID      RLIMIT_NPROC {3, 3}: root is exempt; after setresuid(UID)
 *                          fork and pthread_create fail with EAGAIN once the user has
 *                          3 tasks (threads and unreaped zombies count); a reaped
 *                          child makes room again
 *
 * UID should be one no other process of the machine runs as (the count is of every
 * task of that real user). Prints relations and errno names only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

static volatile sig_atomic_t xcpu;

static void on_xcpu(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    struct rlimit now;
    char line[96];
    xcpu++;
    getrlimit(RLIMIT_CPU, &now);
    int n = snprintf(line, sizeof line, "%s %d: si_code %s, soft limit now %ld\n",
                     sig == SIGXCPU ? "SIGXCPU" : "?", (int)xcpu,
                     info->si_code == SI_KERNEL ? "SI_KERNEL" : "other",
                     (long)now.rlim_cur);
    write(1, line, n);
}

static int cpu(int handled)
{
    struct rlimit lim = {1, handled ? 2 : 5};
    if (handled) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_xcpu;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGXCPU, &sa, NULL);
    }
    if (setrlimit(RLIMIT_CPU, &lim) != 0) {
        printf("setrlimit: %s\n", errno_name(errno));
        return 1;
    }
    getrlimit(RLIMIT_CPU, &lim);
    printf("RLIMIT_CPU %ld %ld\n", (long)lim.rlim_cur, (long)lim.rlim_max);
    fflush(stdout);
    for (volatile unsigned long i = 0;; i++)
        ;
}

static int release_fd[2];

static void *idle_thread(void *arg)
{
    (void)arg;
    char c;
    read(release_fd[0], &c, 1);
    return NULL;
}

/* A child that waits until the parent writes a byte per child, then exits. */
static pid_t waiting_child(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        read(release_fd[0], &c, 1);
        _exit(0);
    }
    return pid;
}

static void release(int n)
{
    while (n-- > 0)
        write(release_fd[1], "x", 1);
}

static int nproc(uid_t uid)
{
    struct rlimit lim = {3, 3};
    pid_t kids[8];
    int n = 0;

    if (pipe(release_fd) != 0 || setrlimit(RLIMIT_NPROC, &lim) != 0) {
        printf("setup: %s\n", errno_name(errno));
        return 1;
    }
    if (geteuid() != 0) {
        printf("not root: nothing to compare\n");
        return 0;
    }
    /* root goes past the limit */
    for (n = 0; n < 4; n++)
        if ((kids[n] = waiting_child()) < 0)
            break;
    printf("root: %d of 4 children\n", n);
    release(n);
    while (n > 0)
        waitpid(kids[--n], NULL, 0);

    if (setresuid(uid, uid, uid) != 0) {
        printf("setresuid: %s\n", errno_name(errno));
        return 1;
    }
    for (n = 0; n < 4; n++) {
        kids[n] = waiting_child();
        if (kids[n] < 0) {
            printf("user: fork %d: %s\n", n + 1, errno_name(errno));
            break;
        }
    }
    printf("user: %d children under a limit of 3\n", n);
    pthread_t th;
    int err = pthread_create(&th, NULL, idle_thread, NULL);
    printf("pthread_create at the limit: %s\n", err ? errno_name(err) : "ok");
    if (!err) {
        release(1);
        pthread_join(th, NULL);
    }
    long r = raw_syscall5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (r == 0)
        _exit(0);
    printf("raw clone at the limit: %s\n", r < 0 ? errno_name(-r) : "ok");

    /* the children exit: zombies still count until they are reaped */
    release(n);
    for (int i = 0; i < n; i++) {
        siginfo_t info;
        waitid(P_PID, kids[i], &info, WEXITED | WNOWAIT);
    }
    pid_t again = fork();
    if (again == 0)
        _exit(0);
    printf("fork with %d zombies: %s\n", n, again < 0 ? errno_name(errno) : "ok");
    if (again > 0)
        waitpid(again, NULL, 0);
    waitpid(kids[0], NULL, 0);
    again = fork();
    if (again == 0)
        _exit(0);
    printf("fork after reaping one: %s\n", again < 0 ? errno_name(errno) : "ok");
    if (again > 0)
        waitpid(again, NULL, 0);
    for (int i = 1; i < n; i++)
        waitpid(kids[i], NULL, 0);

    /* with threads: the process and two threads are the user's three tasks */
    pthread_t threads[3];
    int made = 0;
    for (; made < 3; made++) {
        err = pthread_create(&threads[made], NULL, idle_thread, NULL);
        if (err) {
            printf("thread %d: %s\n", made + 1, errno_name(err));
            break;
        }
    }
    printf("threads: %d under a limit of 3\n", made);
    again = fork();
    if (again == 0)
        _exit(0);
    printf("fork with %d threads: %s\n", made, again < 0 ? errno_name(errno) : "ok");
    if (again > 0)
        waitpid(again, NULL, 0);
    release(made);
    for (int i = 0; i < made; i++)
        pthread_join(threads[i], NULL);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 2 && strcmp(argv[1], "cpu") == 0)
        return cpu(1);
    if (argc >= 2 && strcmp(argv[1], "cpu-default") == 0)
        return cpu(0);
    if (argc >= 3 && strcmp(argv[1], "nproc") == 0)
        return nproc((uid_t)atoi(argv[2]));
    fprintf(stderr, "usage: rlimits cpu | cpu-default | nproc UID\n");
    return 2;
}
