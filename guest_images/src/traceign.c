/* Signals whose action is to ignore them, as strace(1) shows them: a traced task
 * does not discard them at sending, so strace prints `--- SIGCHLD {...} ---` for a
 * child's exit with SIGCHLD at its default, for SIGWINCH and SIGURG sent to
 * oneself, for SIGUSR1 set to SIG_IGN, and for a blocked SIGCHLD when it is
 * unblocked (tests/test_strace_signals.py). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int status;
    sigset_t chld;

    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        _exit(3);
    }
    waitpid(child, &status, 0);

    kill(getpid(), SIGWINCH);
    kill(getpid(), SIGURG);
    signal(SIGUSR1, SIG_IGN);
    kill(getpid(), SIGUSR1);

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    child = fork();
    if (child == 0) {
        kill(getpid(), SIGTERM);
        _exit(0);
    }
    waitpid(child, &status, 0);
    sigprocmask(SIG_UNBLOCK, &chld, NULL);

    printf("status %#x\n", status);
    return 0;
}
