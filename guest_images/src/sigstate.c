/*
 * sigstate: exercises signal *state* system calls (rt_sigaction,
 * rt_sigprocmask, sigaltstack) through raw syscalls.  No signal is ever
 * raised or delivered.  Only flags, masks, sizes and errno names are printed.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "guest.h"

/* Kernel ABI structures for x86-64. */
struct ksigaction {
    unsigned long handler;
    unsigned long flags;
    unsigned long restorer;
    unsigned long mask;
};

struct kstack {
    unsigned long sp;
    int flags;
    int pad;
    unsigned long size;
};

#define K_SA_RESTORER 0x04000000UL
#define K_SA_RESTART 0x10000000UL
#define K_SA_SIGINFO 0x00000004UL
#define K_SA_ONSTACK 0x08000000UL
#define K_SA_NODEFER 0x40000000UL
#define K_SS_ONSTACK 1
#define K_SS_DISABLE 2

#define BIT(sig) (1UL << ((sig) - 1))

/* Signal-return trampoline (never used because nothing is delivered). */
extern void guest_restorer(void);
__asm__(".text\n"
        ".globl guest_restorer\n"
        ".type guest_restorer,@function\n"
        "guest_restorer:\n"
        "    mov $15, %eax\n" /* SYS_rt_sigreturn */
        "    syscall\n"
        "    hlt\n"
        ".size guest_restorer, .-guest_restorer\n");

static void handler(int sig) { (void)sig; }

static long sigaction_k(int sig, const struct ksigaction *act, struct ksigaction *old)
{
    return raw_syscall4(SYS_rt_sigaction, sig, act, old, 8);
}

static long sigprocmask_k(int how, const unsigned long *set, unsigned long *old)
{
    return raw_syscall4(SYS_rt_sigprocmask, how, set, old, 8);
}

static unsigned long cur_mask(void)
{
    unsigned long m = 0xdeadbeef;
    long r = sigprocmask_k(SIG_BLOCK, NULL, &m);
    if (r != 0)
        printf("query mask failed: %s\n", fmt_ret(r));
    return m;
}

static void t_sigaction(void)
{
    struct ksigaction old, act, back;

    /* Fresh process: SIGUSR1 has the default disposition. */
    memset(&old, 0xff, sizeof old);
    long r = sigaction_k(SIGUSR1, NULL, &old);
    printf("sigaction query default: ret=%s dfl=%d flags=%#lx mask=%#lx\n",
           fmt_ret(r), old.handler == 0, old.flags, old.mask);

    memset(&act, 0, sizeof act);
    act.handler = (unsigned long)handler;
    act.flags = K_SA_RESTART | K_SA_RESTORER;
    act.restorer = (unsigned long)guest_restorer;
    act.mask = BIT(SIGUSR2);
    memset(&old, 0xff, sizeof old);
    r = sigaction_k(SIGUSR1, &act, &old);
    printf("sigaction install: ret=%s old dfl=%d\n", fmt_ret(r), old.handler == 0);

    memset(&back, 0, sizeof back);
    r = sigaction_k(SIGUSR1, NULL, &back);
    printf("sigaction readback: ret=%s handler match=%d restorer match=%d "
           "flags=%#lx flags match=%d mask=%#lx mask match=%d\n",
           fmt_ret(r), back.handler == act.handler, back.restorer == act.restorer,
           back.flags, back.flags == act.flags, back.mask, back.mask == act.mask);

    /* Replace it; the old value returned must be the one just installed. */
    struct ksigaction act2;
    memset(&act2, 0, sizeof act2);
    act2.handler = (unsigned long)handler;
    act2.flags = K_SA_SIGINFO | K_SA_ONSTACK | K_SA_NODEFER | K_SA_RESTORER;
    act2.restorer = (unsigned long)guest_restorer;
    act2.mask = BIT(SIGUSR2) | BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGTERM);
    memset(&old, 0, sizeof old);
    r = sigaction_k(SIGUSR1, &act2, &old);
    printf("sigaction replace: ret=%s old flags=%#lx old mask=%#lx\n",
           fmt_ret(r), old.flags, old.mask);
    memset(&back, 0, sizeof back);
    sigaction_k(SIGUSR1, NULL, &back);
    /* The kernel silently drops SIGKILL and SIGSTOP from sa_mask. */
    printf("sigaction mask with KILL/STOP: flags=%#lx mask=%#lx\n", back.flags,
           back.mask);

    /* SIG_IGN round trip on another signal, then restore default. */
    memset(&act, 0, sizeof act);
    act.handler = (unsigned long)SIG_IGN;
    act.flags = K_SA_RESTORER;
    act.restorer = (unsigned long)guest_restorer;
    r = sigaction_k(SIGUSR2, &act, NULL);
    memset(&back, 0, sizeof back);
    sigaction_k(SIGUSR2, NULL, &back);
    printf("sigaction SIG_IGN: ret=%s ign=%d\n", fmt_ret(r), back.handler == 1);

    memset(&act, 0, sizeof act);
    sigaction_k(SIGUSR2, &act, NULL);
    sigaction_k(SIGUSR1, &act, NULL);
    memset(&back, 0xff, sizeof back);
    sigaction_k(SIGUSR1, NULL, &back);
    printf("sigaction reset: dfl=%d flags=%#lx mask=%#lx\n", back.handler == 0,
           back.flags, back.mask);

    /* Querying SIGKILL is allowed; changing it is not. */
    memset(&old, 0xff, sizeof old);
    r = sigaction_k(SIGKILL, NULL, &old);
    printf("sigaction query SIGKILL: ret=%s dfl=%d\n", fmt_ret(r), old.handler == 0);
    act.handler = (unsigned long)handler;
    printf("sigaction set SIGKILL: %s\n", fmt_ret(sigaction_k(SIGKILL, &act, NULL)));
    printf("sigaction set SIGSTOP: %s\n", fmt_ret(sigaction_k(SIGSTOP, &act, NULL)));
    printf("sigaction query sig 64: %s\n", fmt_ret(sigaction_k(64, NULL, &old)));
    printf("sigaction query sig 65: %s\n", fmt_ret(sigaction_k(65, NULL, &old)));
}

static void t_sigprocmask(void)
{
    /* Start from an empty mask: the inherited mask depends on the parent. */
    unsigned long empty = 0, set, old;
    long r = sigprocmask_k(SIG_SETMASK, &empty, NULL);
    printf("sigprocmask clear: ret=%s mask=%#lx\n", fmt_ret(r), cur_mask());

    set = BIT(SIGUSR1);
    old = 0xdead;
    r = sigprocmask_k(SIG_BLOCK, &set, &old);
    printf("sigprocmask block USR1: ret=%s old=%#lx now=%#lx\n", fmt_ret(r), old,
           cur_mask());

    set = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGUSR2);
    r = sigprocmask_k(SIG_BLOCK, &set, NULL);
    unsigned long m = cur_mask();
    printf("sigprocmask block KILL|STOP|USR2: ret=%s now=%#lx kill blocked=%d "
           "stop blocked=%d\n",
           fmt_ret(r), m, (m & BIT(SIGKILL)) != 0, (m & BIT(SIGSTOP)) != 0);

    set = ~0UL;
    r = sigprocmask_k(SIG_SETMASK, &set, NULL);
    printf("sigprocmask setmask all: ret=%s now=%#lx\n", fmt_ret(r), cur_mask());

    set = BIT(SIGUSR1);
    r = sigprocmask_k(SIG_SETMASK, &set, NULL);
    set = BIT(SIGUSR1);
    r = sigprocmask_k(SIG_UNBLOCK, &set, &old);
    printf("sigprocmask unblock USR1: ret=%s old=%#lx now=%#lx\n", fmt_ret(r), old,
           cur_mask());

    printf("sigprocmask bad how: %s\n", fmt_ret(sigprocmask_k(7, &set, NULL)));
    printf("sigprocmask bad how null set: %s\n", fmt_ret(sigprocmask_k(7, NULL, &old)));
    printf("sigprocmask bad size: %s\n",
           fmt_ret(raw_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, &set, 0, 4)));
    printf("sigprocmask bad ptr: %s\n",
           fmt_ret(raw_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, 8, 0, 8)));
    printf("sigprocmask final=%#lx\n", cur_mask());

    /* rt_sigpending: nothing pending */
    unsigned long pend = 0xff;
    r = raw_syscall2(SYS_rt_sigpending, &pend, 8);
    printf("sigpending: ret=%s pending=%#lx\n", fmt_ret(r), pend);
}

static char altstack_mem[65536] __attribute__((aligned(16)));

static void t_sigaltstack(void)
{
    struct kstack ss, old;

    memset(&old, 0xff, sizeof old);
    long r = raw_syscall2(SYS_sigaltstack, NULL, &old);
    printf("sigaltstack initial: ret=%s flags=%d size=%lu\n", fmt_ret(r), old.flags,
           old.size);

    memset(&ss, 0, sizeof ss);
    ss.sp = (unsigned long)altstack_mem;
    ss.size = sizeof altstack_mem;
    ss.flags = 0;
    r = raw_syscall2(SYS_sigaltstack, &ss, NULL);
    memset(&old, 0xff, sizeof old);
    raw_syscall2(SYS_sigaltstack, NULL, &old);
    printf("sigaltstack set: ret=%s flags=%d size=%lu sp match=%d onstack=%d\n",
           fmt_ret(r), old.flags, old.size, old.sp == ss.sp,
           (old.flags & K_SS_ONSTACK) != 0);

    /* SS_ONSTACK is accepted as a (legacy) flag and means the same as 0. */
    ss.flags = K_SS_ONSTACK;
    r = raw_syscall2(SYS_sigaltstack, &ss, NULL);
    memset(&old, 0xff, sizeof old);
    raw_syscall2(SYS_sigaltstack, NULL, &old);
    printf("sigaltstack set SS_ONSTACK: ret=%s flags=%d\n", fmt_ret(r), old.flags);

    ss.flags = 0;
    ss.size = 1024;
    printf("sigaltstack too small: %s\n",
           fmt_ret(raw_syscall2(SYS_sigaltstack, &ss, NULL)));
    ss.size = sizeof altstack_mem;
    ss.flags = 0x10;
    printf("sigaltstack bad flags: %s\n",
           fmt_ret(raw_syscall2(SYS_sigaltstack, &ss, NULL)));
    printf("sigaltstack bad ptr: %s\n", fmt_ret(raw_syscall2(SYS_sigaltstack, 8, NULL)));

    memset(&ss, 0, sizeof ss);
    ss.flags = K_SS_DISABLE;
    memset(&old, 0xff, sizeof old);
    r = raw_syscall2(SYS_sigaltstack, &ss, &old);
    printf("sigaltstack disable: ret=%s old size=%lu old flags=%d\n", fmt_ret(r),
           old.size, old.flags);
    memset(&old, 0xff, sizeof old);
    raw_syscall2(SYS_sigaltstack, NULL, &old);
    printf("sigaltstack after disable: flags=%d size=%lu\n", old.flags, old.size);
}

int main(void)
{
    t_sigaction();
    t_sigprocmask();
    t_sigaltstack();
    printf("sigstate done\n");
    return 0;
}
