/*
 * info: queries process/system information through ordinary libc calls and
 * prints only facts that are identical between runs and between a native and
 * an emulated execution.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

static long long ts_ns(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(void)
{
    struct utsname u;
    int r = uname(&u);
    printf("uname: ret=%d sysname=%s machine=%s\n", r, u.sysname, u.machine);
    printf("uname nodename nonempty=%d release nonempty=%d\n", u.nodename[0] != 0,
           u.release[0] != 0);

    printf("uid==euid: %d\n", getuid() == geteuid());
    printf("gid==egid: %d\n", getgid() == getegid());
    printf("pid==tid: %d\n", getpid() == (pid_t)raw_syscall0(SYS_gettid));
    printf("ppid>0: %d\n", getppid() > 0);

    umask(022);
    mode_t m = umask(077);
    printf("umask: second call returned %03o\n", (unsigned)m);
    printf("umask: third call returned %03o\n", (unsigned)umask(022));

    char cwd[4096];
    char *c = getcwd(cwd, sizeof cwd);
    printf("getcwd absolute: %s\n", (c && cwd[0] == '/') ? "yes" : "no");

    struct timespec rt, mono1, mono2, res;
    time_t now = time(NULL);
    clock_gettime(CLOCK_REALTIME, &rt);
    long long diff = (long long)rt.tv_sec - (long long)now;
    printf("time nonzero: %d\n", now != 0);
    printf("time close to CLOCK_REALTIME: %d\n", diff >= -2 && diff <= 2);
    printf("realtime after 2020: %d\n", rt.tv_sec > 1577836800);

    clock_gettime(CLOCK_MONOTONIC, &mono1);
    clock_gettime(CLOCK_MONOTONIC, &mono2);
    printf("monotonic nondecreasing: %d\n", ts_ns(&mono2) >= ts_ns(&mono1));
    printf("monotonic nsec valid: %d\n",
           mono1.tv_nsec >= 0 && mono1.tv_nsec < 1000000000L);

    r = clock_getres(CLOCK_MONOTONIC, &res);
    printf("clock_getres monotonic: ret=%d %lld.%09ld\n", r, (long long)res.tv_sec,
           res.tv_nsec);
    r = clock_getres(CLOCK_REALTIME, &res);
    printf("clock_getres realtime: ret=%d %lld.%09ld\n", r, (long long)res.tv_sec,
           res.tv_nsec);

    struct timeval tv;
    r = gettimeofday(&tv, NULL);
    printf("gettimeofday: ret=%d usec valid=%d close=%d\n", r,
           tv.tv_usec >= 0 && tv.tv_usec < 1000000,
           tv.tv_sec - rt.tv_sec >= -2 && tv.tv_sec - rt.tv_sec <= 2);

    struct sysinfo si;
    r = sysinfo(&si);
    printf("sysinfo: ret=%d mem_unit>0=%d totalram>0=%d uptime>0=%d procs>0=%d\n", r,
           si.mem_unit > 0, si.totalram > 0, si.uptime > 0, si.procs > 0);

    cpu_set_t set;
    CPU_ZERO(&set);
    r = sched_getaffinity(0, sizeof set, &set);
    printf("sched_getaffinity: ret=%d count>0=%d\n", r, CPU_COUNT(&set) > 0);
    long kr = raw_syscall3(SYS_sched_getaffinity, 0, sizeof set, &set);
    printf("sched_getaffinity raw: positive multiple of 8=%d\n", kr > 0 && kr % 8 == 0);

    unsigned char rnd[16];
    long g = raw_syscall3(SYS_getrandom, rnd, sizeof rnd, 0);
    printf("getrandom 16: %ld\n", g);

    struct rlimit rl;
    r = prlimit(0, RLIMIT_STACK, NULL, &rl);
    printf("prlimit stack: ret=%d %s\n", r,
           (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 8UL << 20) ? "stack ok"
                                                                       : "stack small");
    r = getrlimit(RLIMIT_NOFILE, &rl);
    printf("getrlimit nofile: ret=%d soft>0=%d soft<=hard=%d\n", r, rl.rlim_cur > 0,
           rl.rlim_max == RLIM_INFINITY || rl.rlim_cur <= rl.rlim_max);

    int pers = personality(0xffffffff);
    printf("personality: %#x\n", (unsigned)pers);

    printf("sysconf pagesize: %ld\n", sysconf(_SC_PAGESIZE));
    printf("sysconf clk_tck: %ld\n", sysconf(_SC_CLK_TCK));

    printf("info done\n");
    return 0;
}
