/*
 * sigwait: signals that end waits, signals waited for, and signals between threads.
 *
 * A worker thread sends the signals (after a pause long enough for the main thread
 * to be parked in its call): read from an empty pipe interrupted with and without
 * SA_RESTART, nanosleep's EINTR and time left, poll never restarted, sigsuspend
 * and pause, sigwaitinfo and sigtimedwait (timeout, queued real-time values in
 * order, standard signals coalescing), rt_sigpending, tgkill to one thread, a
 * process-directed signal taken by the thread that does not block it, a newly
 * unblocked pending signal delivered by sigprocmask itself, tgkill's, kill's and
 * rt_sigqueueinfo's errors, siglongjmp out of a SIGSEGV handler, signalfd (records
 * of pending signals, poll, a nonblocking and a blocking read).
 *
 * Only relations are printed (never pids, tids or times), so runs compare byte
 * for byte.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

static volatile sig_atomic_t hits, last_sig;
static volatile long handler_tid;
static pid_t main_tid;
static int pipefd[2];

static long gettid_raw(void) { return raw_syscall0(SYS_gettid); }

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    hits++;
    last_sig = sig;
    handler_tid = gettid_raw();
    (void)si;
    (void)uc;
}

static void install(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* ---- the worker: what to send, to whom, after how long ---- */

struct job {
    int sig;
    int to_thread;          /* tgkill the main thread, else kill the process */
    long delay_ms;
    int write_after;        /* then write a byte into the pipe */
};

static void *sender(void *arg)
{
    struct job *j = arg;
    pause_ms(j->delay_ms);
    if (j->to_thread)
        raw_syscall3(SYS_tgkill, getpid(), main_tid, j->sig);
    else
        kill(getpid(), j->sig);
    if (j->write_after) {
        pause_ms(j->delay_ms);
        if (write(pipefd[1], "x", 1) != 1) perror("write");
    }
    return NULL;
}

static pthread_t start(int sig, int to_thread, long delay_ms, int write_after)
{
    static struct job j;
    pthread_t th;
    j.sig = sig;
    j.to_thread = to_thread;
    j.delay_ms = delay_ms;
    j.write_after = write_after;
    pthread_create(&th, NULL, sender, &j);
    return th;
}

static const char *err(long r)
{
    return r >= 0 ? "ok" : errno_name(errno) ? errno_name(errno) : "other";
}

static void t_read(void)
{
    char c;
    install(SIGUSR1, 0);
    hits = 0;
    pthread_t th = start(SIGUSR1, 1, 100, 0);
    long r = read(pipefd[0], &c, 1);
    printf("read, no SA_RESTART: %ld %s, handler ran %d\n", r, err(r), (int)hits);
    pthread_join(th, NULL);

    install(SIGUSR1, SA_RESTART);
    hits = 0;
    th = start(SIGUSR1, 1, 100, 1);
    r = read(pipefd[0], &c, 1);
    printf("read, SA_RESTART: %ld %s byte %c, handler ran %d\n", r, err(r), r == 1 ? c : '-',
           (int)hits);
    pthread_join(th, NULL);
}

static void t_sleep_poll(void)
{
    install(SIGUSR1, SA_RESTART);
    hits = 0;
    pthread_t th = start(SIGUSR1, 1, 100, 0);
    struct timespec req = {5, 0}, rem = {0, 0};
    long r = nanosleep(&req, &rem);
    printf("nanosleep, SA_RESTART: %ld %s, rem between 3 s and 5 s: %s, handler ran %d\n", r,
           err(r), rem.tv_sec >= 3 && rem.tv_sec < 5 ? "yes" : "no", (int)hits);
    pthread_join(th, NULL);

    hits = 0;
    th = start(SIGUSR1, 1, 100, 0);
    struct pollfd p = {pipefd[0], POLLIN, 0};
    r = poll(&p, 1, 5000);
    printf("poll, SA_RESTART: %ld %s, handler ran %d\n", r, err(r), (int)hits);
    pthread_join(th, NULL);
}

static void t_suspend(void)
{
    sigset_t usr1, none, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    install(SIGUSR1, 0);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    hits = 0;
    pthread_t th = start(SIGUSR1, 0, 100, 0);
    long r = sigsuspend(&none);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("sigsuspend: %ld %s, handler ran %d, SIGUSR1 blocked again %d\n", r, err(r),
           (int)hits, sigismember(&now, SIGUSR1));
    pthread_join(th, NULL);

    printf("pending while blocked:\n");
    raise(SIGUSR1);
    sigset_t pend;
    sigpending(&pend);
    printf("  sigpending has SIGUSR1 %d, handler ran %d\n", sigismember(&pend, SIGUSR1),
           (int)hits);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    printf("  after unblocking: handler ran %d\n", (int)hits);

    hits = 0;
    th = start(SIGUSR1, 1, 100, 0);
    r = pause();
    printf("pause: %ld %s, handler ran %d\n", r, err(r), (int)hits);
    pthread_join(th, NULL);
}

static void t_wait(void)
{
    sigset_t set;
    siginfo_t si;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN + 2);
    sigprocmask(SIG_BLOCK, &set, NULL);

    pthread_t th = start(SIGUSR2, 0, 100, 0);
    int sig = sigwaitinfo(&set, &si);
    printf("sigwaitinfo: %s code %d from self %d\n", sig == SIGUSR2 ? "SIGUSR2" : "other",
           si.si_code, si.si_pid == getpid());
    pthread_join(th, NULL);

    struct timespec ts = {0, 50000000};
    long r = sigtimedwait(&set, &si, &ts);
    printf("sigtimedwait, nothing sent: %ld %s\n", r, err(r));

    raise(SIGUSR2);
    raise(SIGUSR2);
    ts.tv_nsec = 0;
    r = sigtimedwait(&set, &si, &ts);
    long r2 = sigtimedwait(&set, &si, &ts);
    printf("SIGUSR2 twice while blocked: first %s, second %ld %s\n",
           r == SIGUSR2 ? "SIGUSR2" : "other", r2, err(r2));

    for (int v = 1; v <= 3; v++) {
        union sigval val = {.sival_int = v * 10};
        sigqueue(getpid(), SIGRTMIN + 2, val);
    }
    printf("three sigqueue values:");
    for (int i = 0; i < 4; i++) {
        r = sigtimedwait(&set, &si, &ts);
        if (r < 0)
            printf(" %s", err(r));
        else
            printf(" %d(code %d)", si.si_value.sival_int, si.si_code);
    }
    printf("\n");
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void t_signalfd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN + 3);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    struct signalfd_siginfo rec[4];
    long r = read(fd, rec, sizeof rec);
    printf("signalfd, nothing pending: %ld %s\n", r, err(r));
    raise(SIGUSR2);
    union sigval val = {.sival_int = 77};
    sigqueue(getpid(), SIGRTMIN + 3, val);
    struct pollfd p = {fd, POLLIN, 0};
    r = poll(&p, 1, 0);
    printf("signalfd poll: %ld revents %#x\n", r, p.revents);
    r = read(fd, rec, sizeof rec);
    printf("signalfd read: %ld bytes", r);
    for (long i = 0; i < r / (long)sizeof *rec; i++)
        printf("; signo %s code %d int %d from self %d",
               rec[i].ssi_signo == SIGUSR2 ? "SIGUSR2" : "SIGRTMIN+3", rec[i].ssi_code,
               rec[i].ssi_int, rec[i].ssi_pid == (unsigned)getpid());
    printf("\n");
    r = read(fd, rec, 8);
    printf("signalfd read of 8 bytes: %ld %s\n", r, err(r));
    int fd2 = signalfd(-1, &set, 0);
    pthread_t th = start(SIGUSR2, 0, 100, 0);
    r = read(fd2, rec, sizeof rec);
    printf("signalfd blocking read: %ld bytes, signo %s\n", r,
           r > 0 && rec[0].ssi_signo == SIGUSR2 ? "SIGUSR2" : "other");
    pthread_join(th, NULL);
    close(fd);
    close(fd2);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* ---- signals between threads ---- */

static volatile int worker_ready, worker_done;
static volatile long worker_tid;

static void *target(void *arg)
{
    worker_tid = gettid_raw();
    worker_ready = 1;
    while (!worker_done) pause_ms(5);
    (void)arg;
    return NULL;
}

static void t_threads(void)
{
    install(SIGUSR1, 0);
    pthread_t th;
    worker_ready = worker_done = 0;
    pthread_create(&th, NULL, target, NULL);
    while (!worker_ready) pause_ms(1);

    hits = 0;
    handler_tid = 0;
    raw_syscall3(SYS_tgkill, getpid(), worker_tid, SIGUSR1);
    while (!hits) pause_ms(1);
    printf("tgkill to the worker: ran in %s\n",
           handler_tid == worker_tid ? "worker" : handler_tid == main_tid ? "main" : "other");

    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    hits = 0;
    handler_tid = 0;
    kill(getpid(), SIGUSR1);
    while (!hits) pause_ms(1);
    printf("kill with main blocking it: ran in %s\n",
           handler_tid == worker_tid ? "worker" : handler_tid == main_tid ? "main" : "other");
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    worker_done = 1;
    pthread_join(th, NULL);

    long r = raw_syscall3(SYS_tgkill, getpid(), 0, SIGUSR1);
    printf("tgkill to tid 0: %s\n", r == -EINVAL ? "EINVAL" : "other");
    r = raw_syscall2(SYS_kill, getpid(), 65);
    printf("kill with signal 65: %s\n", r == -EINVAL ? "EINVAL" : "other");
    r = raw_syscall2(SYS_kill, getpid(), 0);
    printf("kill with signal 0: %ld\n", r);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_code = SI_USER;
    r = raw_syscall3(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si);
    printf("rt_sigqueueinfo SI_USER to self: %ld, handler ran %d\n", r, (int)hits);
}

/* ---- siglongjmp out of a SIGSEGV handler ---- */

static sigjmp_buf jump;

static void segv(int sig)
{
    (void)sig;
    siglongjmp(jump, 1);
}

static void t_segv(void)
{
    signal(SIGSEGV, segv);
    for (volatile int round = 1; round <= 3; round++) {
        if (sigsetjmp(jump, 1) == 0) {
            volatile int *bad = (int *)(long)(round * 8);
            printf("loaded %d\n", *bad);
        } else {
            printf("SIGSEGV round %d: recovered\n", round);
        }
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    main_tid = gettid_raw();
    if (pipe(pipefd)) return 1;
    t_read();
    t_sleep_poll();
    t_suspend();
    t_wait();
    t_signalfd();
    t_threads();
    t_segv();
    printf("done\n");
    return 0;
}
