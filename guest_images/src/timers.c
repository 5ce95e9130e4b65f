/*
 * timers.c - clocks, sleeps and timers compared with Linux: every clock id with
 * clock_gettime and clock_getres (CPU clocks of the process and of threads, by
 * clock_getcpuclockid's encodings too), CPU time that grows with work, times and
 * getrusage, clock_nanosleep with TIMER_ABSTIME, timerfd ticks and overruns (also
 * through epoll), POSIX timers (SIGEV_SIGNAL with overruns, SIGEV_THREAD_ID,
 * SIGEV_NONE), alarm, setitimer/getitimer (ITIMER_REAL and ITIMER_VIRTUAL).
 * Timing-dependent values are printed as checks of ranges, so the output is the
 * same on every run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s = -%s\n", what, errno_name(-r));
    else
        printf("%s = %ld\n", what, r);
}

static long long now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile unsigned long sink;

static void burn(long long ns)
{
    long long end = now_ns(CLOCK_THREAD_CPUTIME_ID) + ns;
    while (now_ns(CLOCK_THREAD_CPUTIME_ID) < end)
        for (int i = 0; i < 10000; i++)
            sink += i;
}

static void clock_ids(void)
{
    for (int id = -1; id <= 13; id++) {
        struct timespec ts, res;
        long g = raw_syscall2(SYS_clock_gettime, id, &ts);
        long r = raw_syscall2(SYS_clock_getres, id, &res);
        printf("clock %d: gettime %s, getres %s res %ld\n", id, g ? errno_name(-g) : "ok",
               r ? errno_name(-r) : "ok", r ? -1 : res.tv_nsec);
    }
    clockid_t pc, tc;
    printf("clock_getcpuclockid(0) = %d\n", clock_getcpuclockid(0, &pc));
    printf("clock_getcpuclockid(self) = %d, same as 0: %d\n",
           clock_getcpuclockid(getpid(), &tc), tc == pc);
    printf("pthread_getcpuclockid = %d\n", pthread_getcpuclockid(pthread_self(), &tc));
    struct timespec ts, res;
    printf("process clock by id: %ld\n", raw_syscall2(SYS_clock_gettime, pc, &ts));
    printf("thread clock by id: %ld\n", raw_syscall2(SYS_clock_gettime, tc, &ts));
    /* ~pid << 3 | which; per-thread bit 4 */
    int tid = (int)raw_syscall0(SYS_gettid);
    for (int which = 0; which < 4; which++) {
        clockid_t p = (clockid_t)((~(unsigned)tid << 3) | which);
        clockid_t t = (clockid_t)((~(unsigned)tid << 3) | 4 | which);
        long gp = raw_syscall2(SYS_clock_gettime, p, &ts);
        long rp = raw_syscall2(SYS_clock_getres, p, &res);
        long rpres = rp ? -1 : res.tv_nsec;
        long gt = raw_syscall2(SYS_clock_gettime, t, &ts);
        printf("cpu clock which %d: process %s (res %ld), thread %s\n", which,
               gp ? errno_name(-gp) : "ok", rpres, gt ? errno_name(-gt) : "ok");
    }
    clockid_t nobody = (clockid_t)((~(unsigned)99999 << 3) | 2);
    show("cpu clock of no process", raw_syscall2(SYS_clock_gettime, nobody, &ts));
    show("cpu clock of no thread", raw_syscall2(SYS_clock_gettime, nobody | 4, &ts));
}

static void cpu_time(void)
{
    /* the wall interval encloses the CPU clocks' reads, so "cpu <= wall" holds
     * however long any read takes (or the reader waits for a host CPU) */
    long long w0 = now_ns(CLOCK_MONOTONIC);
    long long p0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    struct tms tm0, tm1;
    times(&tm0);
    burn(150000000);
    long long t = now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
    long long p = now_ns(CLOCK_PROCESS_CPUTIME_ID) - p0;
    long long w = now_ns(CLOCK_MONOTONIC) - w0;
    getrusage(RUSAGE_SELF, &ru1);
    times(&tm1);
    long long ru = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1000000LL +
                   ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
                   (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1000000LL +
                   ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec;
    long tk = (tm1.tms_utime - tm0.tms_utime) + (tm1.tms_stime - tm0.tms_stime);
    printf("thread cpu >= 150 ms: %d, process >= thread: %d, cpu <= wall: %d\n",
           t >= 150000000, p + 1000000 >= t, p <= w + 5000000);
    printf("getrusage grew 100-400 ms: %d, times grew 10-40 ticks: %d\n",
           ru >= 100000 && ru <= 400000, tk >= 10 && tk <= 40);
    struct rusage rt;
    printf("RUSAGE_THREAD = %d, RUSAGE_CHILDREN = %d, bad who = %ld\n",
           getrusage(RUSAGE_THREAD, &rt), getrusage(RUSAGE_CHILDREN, &rt),
           raw_syscall2(SYS_getrusage, 5, &rt));
}

static void *burner(void *arg)
{
    (void)arg;
    burn(30000000);
    return NULL;
}

static void sleeps(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long start = now_ns(CLOCK_MONOTONIC);
    ts.tv_nsec += 30000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    long r = raw_syscall4(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, 0);
    long long slept = now_ns(CLOCK_MONOTONIC) - start;
    /* at least the 30 ms asked for; the upper bound (3 s, far below the monotonic
     * time that an absolute time taken as relative would sleep) leaves room for a
     * loaded machine */
    printf("abstime sleep %ld, slept 30 ms-3 s: %d\n", r,
           slept >= 30000000 && slept < 3000000000LL);
    struct timespec past = {1, 0};
    show("abstime in the past", raw_syscall4(SYS_clock_nanosleep, CLOCK_MONOTONIC,
                                             TIMER_ABSTIME, &past, 0));
    struct timespec short_ = {0, 1000000};
    show("raw clock sleep", raw_syscall4(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &short_, 0));
    show("coarse clock sleep", raw_syscall4(SYS_clock_nanosleep, CLOCK_MONOTONIC_COARSE, 0,
                                            &short_, 0));
    show("thread cpu clock sleep", raw_syscall4(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0,
                                                &short_, 0));
    show("bad clock sleep", raw_syscall4(SYS_clock_nanosleep, 77, 0, &short_, 0));
    struct timespec bad = {0, 1000000000};
    show("bad timespec sleep", raw_syscall4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, 0));
    /* a process's CPU clock: the sleep ends once the process has run that long
     * (here the other thread's work takes it there) */
    pthread_t th;
    pthread_create(&th, NULL, burner, NULL);
    show("process cpu clock sleep", raw_syscall4(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID,
                                                 0, &short_, 0));
    pthread_join(th, NULL);
}

static void timerfds(void)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    uint64_t ticks;
    show("read disarmed", read(fd, &ticks, 8) < 0 ? -errno : 0);
    struct itimerspec its = {{0, 20000000}, {0, 20000000}}, cur;
    long long set0 = now_ns(CLOCK_MONOTONIC);
    show("settime", timerfd_settime(fd, 0, &its, NULL));
    long long set1 = now_ns(CLOCK_MONOTONIC);
    struct timespec nap = {0, 110000000};
    nanosleep(&nap, NULL);
    show("read short", read(fd, &ticks, 4) < 0 ? -errno : 0);
    long long read0 = now_ns(CLOCK_MONOTONIC);
    long n = read(fd, &ticks, 8);
    long long read1 = now_ns(CLOCK_MONOTONIC);
    /* one tick per whole 20 ms between the settime and the read, however long the
     * nap really took (at least 5 of them); a tick of slack at each end */
    long long fewest = (read0 - set1) / 20000000 - 1, most = (read1 - set0) / 20000000 + 1;
    printf("read %ld, ticks as the time passed (at least 4): %d\n", n,
           ticks >= 4 && (long long)ticks >= fewest && (long long)ticks <= most);
    /* the read took every tick: another read finds none, or (on a loaded machine,
     * where a tick may come between the two) only those of the time since */
    long again = read(fd, &ticks, 8);
    long long again1 = now_ns(CLOCK_MONOTONIC);
    printf("read again: none, or only the ticks since: %d\n",
           again < 0 ? errno == EAGAIN
                     : again == 8 && (long long)ticks <= (again1 - read0) / 20000000 + 1);
    timerfd_gettime(fd, &cur);
    printf("gettime interval %ld.%09ld, left under 20 ms: %d\n", (long)cur.it_interval.tv_sec,
           cur.it_interval.tv_nsec, cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 20000000);
    /* through epoll, blocking: the next tick wakes it */
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 9};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    n = epoll_wait(ep, &ev, 1, 1000);
    printf("epoll on timerfd %ld data %llu\n", n, (unsigned long long)ev.data.u64);
    read(fd, &ticks, 8);
    /* absolute, one-shot */
    struct itimerspec abs = {{0, 0}, {0, 0}};
    clock_gettime(CLOCK_MONOTONIC, &abs.it_value);
    abs.it_value.tv_nsec += 10000000;
    if (abs.it_value.tv_nsec >= 1000000000) {
        abs.it_value.tv_sec++;
        abs.it_value.tv_nsec -= 1000000000;
    }
    struct itimerspec old;
    show("settime abstime", timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, &old));
    printf("old interval %ld.%09ld\n", (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);
    n = epoll_wait(ep, &ev, 1, 1000);
    n = read(fd, &ticks, 8);
    printf("abstime read %ld ticks %llu\n", n, (unsigned long long)ticks);
    timerfd_gettime(fd, &cur);
    printf("one-shot after: %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
    show("bad flags", raw_syscall4(SYS_timerfd_settime, fd, 8, &its, 0));
    struct itimerspec badv = {{0, 0}, {0, 1000000000}};
    show("bad value", raw_syscall4(SYS_timerfd_settime, fd, 0, &badv, 0));
    show("not a timerfd", raw_syscall2(SYS_timerfd_gettime, ep, &cur));
    show("create bad clock", raw_syscall2(SYS_timerfd_create, CLOCK_MONOTONIC_RAW, 0));
    show("create bad flags", raw_syscall2(SYS_timerfd_create, CLOCK_MONOTONIC, 1));
    /* a blocking read waits for the tick */
    int bfd = timerfd_create(CLOCK_REALTIME, 0);
    struct itimerspec once = {{0, 0}, {0, 15000000}};
    timerfd_settime(bfd, 0, &once, NULL);
    n = read(bfd, &ticks, 8);
    printf("blocking read %ld ticks %llu\n", n, (unsigned long long)ticks);
    close(bfd);
    close(ep);
    close(fd);
}

static volatile int usr1, alrm, vtalrm;
static volatile int last_overrun, last_code, last_value;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGUSR1) {
        usr1++;
        last_overrun = si->si_overrun;
        last_code = si->si_code;
        last_value = si->si_value.sival_int;
    } else if (sig == SIGALRM) {
        alrm++;
        last_code = si->si_code;
    } else if (sig == SIGVTALRM) {
        vtalrm++;
    }
}

/* sigevent's thread id: the first member of the union after the three fields */
static void set_tid(struct sigevent *sev, int tid)
{
    memcpy((char *)sev + 16, &tid, sizeof tid);
}

static void posix_timers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGVTALRM, &sa, NULL);
    sigset_t usr1set;
    sigemptyset(&usr1set);
    sigaddset(&usr1set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1set, NULL);

    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    sev.sigev_value.sival_int = 77;
    timer_t tm;
    show("timer_create", timer_create(CLOCK_MONOTONIC, &sev, &tm));
    struct itimerspec its = {{0, 10000000}, {0, 10000000}}, cur;
    long long set0 = now_ns(CLOCK_MONOTONIC);
    show("timer_settime", timer_settime(tm, 0, &its, NULL));
    long long set1 = now_ns(CLOCK_MONOTONIC);
    struct timespec nap = {0, 105000000};
    nanosleep(&nap, NULL);
    long long unblock0 = now_ns(CLOCK_MONOTONIC);
    sigprocmask(SIG_UNBLOCK, &usr1set, NULL);
    /* what the unblocking delivered (a later expiry may signal again) */
    int signals = usr1, overrun = last_overrun, code = last_code, value = last_value;
    int getoverrun = timer_getoverrun(tm);
    long long unblock1 = now_ns(CLOCK_MONOTONIC);
    /* the signal was queued at the first expiry; every 10 ms period after it until
     * delivery (the unblock) is an overrun, however long the nap really took (at
     * least 9 of them); one of slack at each end */
    long long fewest = (unblock0 - set1) / 10000000 - 2, most = (unblock1 - set0) / 10000000;
    printf("signals %d code SI_TIMER %d value %d overrun as the time passed (at least 7): %d "
           "getoverrun matches: %d\n", signals, code == SI_TIMER, value,
           overrun >= 7 && overrun >= fewest && overrun <= most,
           getoverrun == overrun);
    timer_gettime(tm, &cur);
    printf("gettime interval %ld.%09ld\n", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
    show("timer_delete", timer_delete(tm));
    show("timer_delete again", raw_syscall1(SYS_timer_delete, (long)tm));
    show("getoverrun deleted", raw_syscall1(SYS_timer_getoverrun, (long)tm));

    /* SIGEV_NONE: nothing is sent, gettime counts down */
    sev.sigev_notify = SIGEV_NONE;
    timer_create(CLOCK_REALTIME, &sev, &tm);
    struct itimerspec one = {{0, 0}, {5, 0}};
    timer_settime(tm, 0, &one, NULL);
    timer_gettime(tm, &cur);
    printf("SIGEV_NONE left 4-5 s: %d\n", cur.it_value.tv_sec == 4);
    timer_delete(tm);

    /* SIGEV_THREAD_ID: to this thread; a tid not of this process is EINVAL */
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGUSR1;
    set_tid(&sev, (int)raw_syscall0(SYS_gettid));
    show("thread id timer", timer_create(CLOCK_MONOTONIC, &sev, &tm));
    struct itimerspec soon = {{0, 0}, {0, 5000000}};
    timer_settime(tm, 0, &soon, NULL);
    int before = usr1;
    nanosleep(&nap, NULL);
    printf("thread id timer fired %d\n", usr1 - before);
    timer_delete(tm);
    set_tid(&sev, 1);
    show("thread id of another process", raw_syscall3(SYS_timer_create, CLOCK_MONOTONIC,
                                                      &sev, &tm));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = 0;
    show("signal 0", raw_syscall3(SYS_timer_create, CLOCK_MONOTONIC, &sev, &tm));
    sev.sigev_notify = 99;
    show("bad notify", raw_syscall3(SYS_timer_create, CLOCK_MONOTONIC, &sev, &tm));
    show("bad clock", raw_syscall3(SYS_timer_create, 77, 0, &tm));
    show("settime bad id", raw_syscall4(SYS_timer_settime, 12345, 0, &its, 0));
    /* NULL sigevent: SIGALRM with the id as the value; a CPU-time timer */
    show("cpu timer", timer_create(CLOCK_PROCESS_CPUTIME_ID, NULL, &tm));
    struct itimerspec cpu = {{0, 0}, {0, 30000000}};
    before = alrm;
    timer_settime(tm, 0, &cpu, NULL);
    long long end = now_ns(CLOCK_MONOTONIC) + 10000000000LL;
    while (alrm == before && now_ns(CLOCK_MONOTONIC) < end)
        sink++;
    printf("cpu timer fired %d code SI_TIMER %d\n", alrm - before, last_code == SI_TIMER);
    timer_delete(tm);
}

static void itimers(void)
{
    printf("alarm(5) = %u\n", alarm(5));
    printf("alarm(0) = %u\n", alarm(0));
    struct itimerval v = {{0, 0}, {0, 40000}}, o;
    int before = alrm;
    show("setitimer real", setitimer(ITIMER_REAL, &v, NULL));
    getitimer(ITIMER_REAL, &o);
    printf("getitimer left 0-40 ms: %d\n", o.it_value.tv_sec == 0 && o.it_value.tv_usec <= 40000
           && o.it_value.tv_usec > 0);
    pause();
    printf("pause ended by SIGALRM %d code SI_KERNEL %d\n", alrm - before, last_code == SI_KERNEL);
    getitimer(ITIMER_REAL, &o);
    printf("after: %ld.%06ld\n", (long)o.it_value.tv_sec, (long)o.it_value.tv_usec);
    /* a guest computing without system calls still gets its SIGALRM on time */
    before = alrm;
    struct itimerval w = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &w, NULL);
    long long start = now_ns(CLOCK_MONOTONIC);
    while (alrm == before)
        sink++;
    long long took = now_ns(CLOCK_MONOTONIC) - start;
    printf("busy loop interrupted by SIGALRM, within 30 ms-3 s: %d\n",
           took >= 29000000 && took < 3000000000LL);
    struct itimerval vt = {{0, 0}, {0, 20000}};
    show("setitimer virtual", setitimer(ITIMER_VIRTUAL, &vt, NULL));
    start = now_ns(CLOCK_MONOTONIC);
    while (!vtalrm && now_ns(CLOCK_MONOTONIC) - start < 10000000000LL)
        for (int i = 0; i < 1000; i++)
            sink += i;
    printf("SIGVTALRM %d\n", vtalrm);
    show("setitimer bad which", raw_syscall3(SYS_setitimer, 7, &v, 0));
    struct itimerval badv = {{0, 0}, {0, 1000000}};
    show("setitimer bad usec", raw_syscall3(SYS_setitimer, ITIMER_REAL, &badv, 0));
    show("getitimer bad which", raw_syscall2(SYS_getitimer, 3, &o));
    show("setitimer NULL value", raw_syscall3(SYS_setitimer, ITIMER_REAL, 0, &o));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    clock_ids();
    cpu_time();
    sleeps();
    timerfds();
    posix_timers();
    itimers();
    return 0;
}
