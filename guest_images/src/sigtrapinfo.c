/* sigcontext's err, trapno and cr2 hold the thread's last fault (Linux's
 * thread.error_code, trap_nr, cr2) in every signal frame, not only the fault's: a
 * write to an unmapped page, recovered with siglongjmp, then SIGUSR1 shows the page
 * fault's values; a divide error changes err and trapno but keeps cr2; int3 the
 * same; a new thread and a forked child start with their creator's. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf recover;
static volatile int dividend = 7, divisor;

static void show(const char *what, int sig, const ucontext_t *uc)
{
    const greg_t *g = uc->uc_mcontext.gregs;
    printf("%-26s sig %2d err %#llx trapno %lld cr2 %#llx\n", what, sig,
           (unsigned long long)g[REG_ERR], (long long)g[REG_TRAPNO],
           (unsigned long long)g[REG_CR2]);
    fflush(stdout);
}

static const char *volatile current = "";

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    show(current, sig, ctx);
    siglongjmp(recover, 1);
}

static void on_usr1(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    show(current, sig, ctx);
}

static void usr1(const char *what)
{
    current = what;
    raise(SIGUSR1);
}

static void *thread_main(void *arg)
{
    (void)arg;
    usr1("SIGUSR1 in a new thread");
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sa.sa_sigaction = on_fault;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGTRAP, &sa, NULL);
    sa.sa_sigaction = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);

    usr1("SIGUSR1 before any fault");

    current = "write to 0x1234";
    if (!sigsetjmp(recover, 1))
        *(volatile int *)0x1234 = 1;
    usr1("SIGUSR1 after it");
    usr1("SIGUSR1 again");

    current = "read of 0x5678";
    if (!sigsetjmp(recover, 1))
        (void)*(volatile int *)0x5678;
    usr1("SIGUSR1 after it");

    current = "divide by zero";
    if (!sigsetjmp(recover, 1))
        divisor = dividend / divisor;
    usr1("SIGUSR1 after it");

    current = "int3";
    if (!sigsetjmp(recover, 1))
        __asm__ volatile("int3");
    usr1("SIGUSR1 after it");

    current = "write to 0x9000";
    if (!sigsetjmp(recover, 1))
        *(volatile int *)0x9000 = 1;

    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_join(th, NULL);

    pid_t child = fork();
    if (child == 0) {
        usr1("SIGUSR1 in a forked child");
        _exit(0);
    }
    waitpid(child, NULL, 0);
    usr1("SIGUSR1 in the parent");
    return 0;
}
