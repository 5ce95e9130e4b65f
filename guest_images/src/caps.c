/*
 * caps.c - capabilities: capget/capset, the sets set*id and setfsuid change
 * (capabilities(7), "Effect of user ID changes on capabilities"), PR_SET_KEEPCAPS,
 * the bounding set, /proc/self/status's Cap lines, and the privilege checks made
 * with a capability (chroot, mknod, setuid, setgroups, nice, setrlimit, kill,
 * F_SETPIPE_SZ) with and without it.  Run as root; each case that changes ids runs
 * in a child.  Output is the same for any pid.  (tests/test_caps.py)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#define V1 0x19980330
#define V3 0x20080522

struct header { unsigned version; int pid; };
struct data { unsigned effective, permitted, inheritable; };

static unsigned long long eff, prm, inh;

static long get(int pid)
{
    struct header h = { V3, pid };
    struct data d[2];
    long r = raw_syscall2(SYS_capget, &h, d);
    if (r == 0) {
        eff = d[0].effective | (unsigned long long)d[1].effective << 32;
        prm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
        inh = d[0].inheritable | (unsigned long long)d[1].inheritable << 32;
    }
    return r;
}

static long set(unsigned long long e, unsigned long long p, unsigned long long i)
{
    struct header h = { V3, 0 };
    struct data d[2] = { { (unsigned)e, (unsigned)p, (unsigned)i },
                         { (unsigned)(e >> 32), (unsigned)(p >> 32), (unsigned)(i >> 32) } };
    return raw_syscall2(SYS_capset, &h, d);
}

static void show_caps(const char *what)
{
    long r = get(0);
    printf("%-40s %s eff %011llx prm %011llx inh %llx\n", what, fmt_ret(r), eff, prm, inh);
}

static void show(const char *what, long r)
{
    printf("%-40s %s\n", what, fmt_ret(r));
}

static void status_caps(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        n = 0;
    buf[n] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        if (!strncmp(line, "Cap", 3))
            printf("  %s\n", line);
}

/* The checks a capability guards, each printed with its answer. */
#define NODE "/tmp/pyunik-caps-node"

static long lower_nice(void)
{
    errno = 0;
    int now = getpriority(PRIO_PROCESS, 0);
    return raw_syscall3(SYS_setpriority, PRIO_PROCESS, 0, now - 1);
}

static void checks(const char *who)
{
    struct rlimit rl;
    int p[2];
    gid_t g = 0;
    printf("checks %s\n", who);
    show("  chroot /", raw_syscall1(SYS_chroot, "/"));
    show("  mknod a char device in /tmp", raw_syscall3(SYS_mknod, NODE, S_IFCHR | 0600,
                                                       makedev(1, 3)));
    unlink(NODE);
    /* the name is looked up before CAP_MKNOD is asked for */
    show("  mknod a char device in a missing dir", raw_syscall3(SYS_mknod,
                                                    "/tmp/pyunik-caps-none/node",
                                                    S_IFCHR | 0600, makedev(1, 3)));
    show("  mknod a char device over /tmp", raw_syscall3(SYS_mknod, "/tmp",
                                                        S_IFCHR | 0600, makedev(1, 3)));
    show("  setgroups", raw_syscall2(SYS_setgroups, 1, &g));
    show("  setpriority one lower", lower_nice());
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_max += 1;
    show("  setrlimit NOFILE hard + 1", raw_syscall2(SYS_setrlimit, RLIMIT_NOFILE, &rl));
    if (strcmp(who, "as root"))         /* the parent is the test program */
        show("  kill(parent, 0)", raw_syscall2(SYS_kill, getppid(), 0));
    if (pipe(p) == 0) {
        show("  F_SETPIPE_SZ 2 MiB", raw_syscall3(SYS_fcntl, p[1], F_SETPIPE_SZ, 2 << 20));
        close(p[0]);
        close(p[1]);
    }
    show("  socket SOCK_RAW", raw_syscall3(SYS_socket, 2, 3, 1));
}

static void in_child(void (*fn)(void))
{
    int status;
    pid_t c = fork();
    if (c == 0) {
        fn();
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, &status, 0);
}

static void drop_all(void)
{
    show("setresuid 1000 1000 1000", raw_syscall3(SYS_setresuid, 1000, 1000, 1000));
    show_caps("  after");
    status_caps();
    checks("as uid 1000, no capability");
    show("setuid 0", raw_syscall1(SYS_setuid, 0));
}

static void keep(void)
{
    show("PR_SET_KEEPCAPS 1", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    printf("%-40s %d\n", "PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    show("setresuid 1000 1000 1000", raw_syscall3(SYS_setresuid, 1000, 1000, 1000));
    show_caps("  after, keep_caps");
    show("capset effective = CAP_SETUID", set(1ULL << 7, prm, inh));
    show_caps("  after");
    show("setresuid 0 0 0", raw_syscall3(SYS_setresuid, 0, 0, 0));
    show_caps("  after (effective stays)");
}

static void effective_only(void)
{
    show("setresuid -1 1000 -1", raw_syscall3(SYS_setresuid, -1, 1000, -1));
    show_caps("  after");
    checks("as euid 1000, uid 0");
    show("setresuid -1 0 -1", raw_syscall3(SYS_setresuid, -1, 0, -1));
    show_caps("  after");
}

static void fsuid(void)
{
    long old = raw_syscall1(SYS_setfsuid, 1000);
    printf("%-40s %ld\n", "setfsuid 1000 (old)", old);
    show_caps("  after");
    old = raw_syscall1(SYS_setfsuid, 0);
    printf("%-40s %ld\n", "setfsuid 0 (old)", old);
    show_caps("  after");
    show("capset drop CAP_DAC_OVERRIDE from prm", set(eff & ~2ULL, prm & ~2ULL, inh));
    raw_syscall1(SYS_setfsuid, 1000);
    raw_syscall1(SYS_setfsuid, 0);
    show_caps("setfsuid 1000, 0: what is permitted");
}

static void dropped(void)
{
    unsigned long long chroot_cap = 1ULL << 18, nice_cap = 1ULL << 23;
    get(0);
    show("capset effective - SYS_CHROOT - SYS_NICE", set(eff & ~(chroot_cap | nice_cap),
                                                          prm, inh));
    show_caps("  after");
    show("  chroot /", raw_syscall1(SYS_chroot, "/"));
    show("  setpriority one lower", lower_nice());
    show("capset effective + SYS_CHROOT", set(eff | chroot_cap, prm, inh));
    show("  chroot /", raw_syscall1(SYS_chroot, "/"));
    show("capset permitted - SYS_CHROOT", set(eff & ~chroot_cap, prm & ~chroot_cap, inh));
    get(0);
    show("capset effective + SYS_CHROOT again", set(eff | chroot_cap, prm, inh));
    show("capset inheritable = permitted", set(eff, prm, prm));
    show_caps("  after");
    show("capset inheritable + SYS_CHROOT (not permitted)", set(eff, prm, prm | chroot_cap));
    show("capset drop SETPCAP, inheritable + SYS_CHROOT",
         set(eff & ~(1ULL << 8), prm, prm | chroot_cap));
    show("PR_CAPBSET_DROP SYS_BOOT", prctl(PR_CAPBSET_DROP, 22, 0, 0, 0));
    printf("%-40s %d\n", "PR_CAPBSET_READ SYS_BOOT", prctl(PR_CAPBSET_READ, 22, 0, 0, 0));
    status_caps();
}

int main(void)
{
    struct header h;
    struct data d[2];
    setvbuf(stdout, NULL, _IONBF, 0);
    show_caps("capget");
    status_caps();
    h.version = 0x12345678; h.pid = 0;
    show("capget bad version, NULL data", raw_syscall2(SYS_capget, &h, NULL));
    printf("%-40s %#x\n", "  version written", h.version);
    h.version = 0x12345678;
    show("capget bad version", raw_syscall2(SYS_capget, &h, d));
    printf("%-40s %#x\n", "  version written", h.version);
    h.version = V1; h.pid = 0;
    memset(d, 0xff, sizeof d);
    show("capget v1", raw_syscall2(SYS_capget, &h, d));
    printf("%-40s %x %x (second struct %s)\n", "  eff prm", d[0].effective, d[0].permitted,
           d[1].effective == 0xffffffffu ? "untouched" : "written");
    show("capget pid = own", get(getpid()));
    show("capget pid 99999", get(99999));
    show("capget pid -1", get(-1));
    h.version = V3; h.pid = 99999;
    show("capset pid 99999", raw_syscall2(SYS_capset, &h, d));
    h.version = V3; h.pid = 0;
    show("capset NULL data", raw_syscall2(SYS_capset, &h, NULL));
    get(0);
    show("capset effective beyond permitted", set(eff | (1ULL << 24), prm, inh));
    show("capset permitted beyond permitted", set(eff, prm | (1ULL << 24), inh));
    printf("%-40s %d\n", "PR_CAPBSET_READ SYS_RESOURCE", prctl(PR_CAPBSET_READ, 24, 0, 0, 0));
    printf("%-40s %d\n", "PR_CAPBSET_READ CHOWN", prctl(PR_CAPBSET_READ, 0, 0, 0, 0));
    show("PR_CAPBSET_READ 99", prctl(PR_CAPBSET_READ, 99, 0, 0, 0) < 0 ? -errno : 0);
    checks("as root");
    in_child(drop_all);
    in_child(keep);
    in_child(effective_only);
    in_child(fsuid);
    in_child(dropped);
    return 0;
}
