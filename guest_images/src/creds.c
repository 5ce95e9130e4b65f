/*
 * creds: credentials, priorities, process groups and waiting, through raw syscalls.
 * Prints relations (equalities, errno names), never the ids themselves, so the output
 * is the same for any user; lines that depend on being root say so in their label.
 * The setuid checks come last: as root they give up root for good.
 */
#include <stdio.h>
#include <sys/syscall.h>

#include "guest.h"

static void show(const char *what, long r) { printf("%s: %s\n", what, fmt_ret(r)); }

int main(void)
{
    unsigned r, e, s, rg, eg, sg;
    long uid = raw_syscall0(SYS_getuid), gid = raw_syscall0(SYS_getgid);
    long root = raw_syscall0(SYS_geteuid) == 0;

    show("getresuid", raw_syscall3(SYS_getresuid, &r, &e, &s));
    printf("resuid all equal getuid: %d\n", r == uid && e == uid && s == uid);
    show("getresgid", raw_syscall3(SYS_getresgid, &rg, &eg, &sg));
    printf("resgid all equal getgid: %d\n", rg == gid && eg == gid && sg == gid);
    show("getresuid bad pointer", raw_syscall3(SYS_getresuid, 8, &e, &s));
    show("setresuid -1 -1 -1", raw_syscall3(SYS_setresuid, -1, -1, -1));
    show("setresgid own ids", raw_syscall3(SYS_setresgid, gid, gid, gid));
    show("setuid own uid", raw_syscall1(SYS_setuid, uid));
    show("setgid own gid", raw_syscall1(SYS_setgid, gid));
    show("setreuid -1 -1", raw_syscall2(SYS_setreuid, -1, -1));
    printf("setfsuid -1 returns euid: %d\n", raw_syscall1(SYS_setfsuid, -1) == uid);

    long p0 = raw_syscall2(SYS_getpriority, 0, 0);
    show("setpriority +5 (relative to start)", raw_syscall3(SYS_setpriority, 0, 0, 20 - p0 + 5));
    printf("getpriority after: %ld\n", p0 - raw_syscall2(SYS_getpriority, 0, 0));
    show("setpriority bad which", raw_syscall3(SYS_setpriority, 9, 0, 0));
    show("getpriority other pid", raw_syscall2(SYS_getpriority, 0, 999999));
    printf("setpriority back (root=%ld): %s\n", root,
           fmt_ret(raw_syscall3(SYS_setpriority, 0, 0, 20 - p0)));
    show("sched_getscheduler", raw_syscall1(SYS_sched_getscheduler, 0));
    show("sched_getscheduler -1", raw_syscall1(SYS_sched_getscheduler, -1));
    int prio = 99;
    show("sched_getparam", raw_syscall2(SYS_sched_getparam, 0, &prio));
    printf("sched priority: %d\n", prio);
    unsigned cpu = 99, node = 99;
    show("getcpu", raw_syscall3(SYS_getcpu, &cpu, &node, 0));
    printf("times positive: %d\n", raw_syscall1(SYS_times, 0) > 0);

    int status;
    show("wait4 any (no children)", raw_syscall4(SYS_wait4, -1, &status, 0, 0));
    show("wait4 WNOHANG", raw_syscall4(SYS_wait4, -1, &status, 1, 0));
    show("wait4 bad options", raw_syscall4(SYS_wait4, -1, &status, 0x100, 0));
    char info[128];
    show("waitid P_ALL WEXITED", raw_syscall5(SYS_waitid, 0, 0, info, 4, 0));
    show("waitid no event bits", raw_syscall5(SYS_waitid, 0, 0, info, 0, 0));

    show("setpgid 0 0", raw_syscall2(SYS_setpgid, 0, 0));
    printf("getpgid(0) == getpid: %d\n",
           raw_syscall1(SYS_getpgid, 0) == raw_syscall0(SYS_getpid));
    printf("getpgrp == getpid: %d\n", raw_syscall0(SYS_getpgrp) == raw_syscall0(SYS_getpid));
    show("setsid as group leader", raw_syscall0(SYS_setsid));
    show("setpgid negative", raw_syscall2(SYS_setpgid, 0, -1));

    long sg_ok = raw_syscall2(SYS_setgroups, 0, 0);
    printf("setgroups none (root=%ld): %s\n", root, fmt_ret(sg_ok));
    printf("getgroups count after: %ld\n", root ? raw_syscall2(SYS_getgroups, 0, 0) : 0L);
    printf("setuid 12345 (root=%ld): %s\n", root, fmt_ret(raw_syscall1(SYS_setuid, 12345)));
    show("getresuid after", raw_syscall3(SYS_getresuid, &r, &e, &s));
    printf("all 12345 when root: %d\n", root ? (r == 12345 && e == 12345 && s == 12345) : 1);
    printf("setuid back to 0 (root=%ld): %s\n", root, fmt_ret(raw_syscall1(SYS_setuid, 0)));
    return 0;
}
