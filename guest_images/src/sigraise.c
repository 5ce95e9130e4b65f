/*
 * sigraise: a signal a thread sends itself with tgkill and takes at once, the case
 * pyunik delivers by its shortest path (kernel/delivery.py), shown whole.
 *
 * Just before the raw tgkill the general registers, the x87 stack, MXCSR and
 * XMM0-15 are loaded with known values; the handler prints what its frame holds
 * (sigcontext, the fxsave image, the xsave magic and header, uc_flags, uc_stack,
 * uc_sigmask, siginfo) and the state it starts with (a fresh FPU), then changes
 * the frame (a register, ST(0), XMM5, MXCSR, the mask), and the code after the
 * system call prints what rt_sigreturn restored. Then: without SA_SIGINFO, with
 * SA_NODEFER nesting, sa_mask, SA_RESETHAND, and a blocked signal left pending.
 *
 * Only values that do not depend on the host CPU or on addresses are printed
 * (relations for addresses), so native and emulated runs compare byte for byte.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "guest.h"

#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U

/* What the code around the system call loads and finds afterwards. */
struct state {
    uint64_t rbx, r8, r9, r10, r12, r13, r14, r15;
    unsigned char st0[10], st1[10];
    uint32_t mxcsr;
    unsigned char xmm[16][16];
};

/* (named in the assembly below: kept, and their layout fixed) */
static struct state before __attribute__((used)), after __attribute__((used));
static void *after_syscall __attribute__((used));   /* the return address of the tgkill */
static long self_pid, self_tid;

/* tgkill(pid, tid, sig) with every register of `before` loaded (two x87 values
 * pushed, popped into `after` with the rest afterwards). */
static long raise_loaded(int sig)
{
    long ret;
    __asm__ volatile(
        "ldmxcsr before+84(%%rip)\n\t"
        "movdqu before+88(%%rip), %%xmm0\n\t"   "movdqu before+104(%%rip), %%xmm1\n\t"
        "movdqu before+120(%%rip), %%xmm2\n\t"  "movdqu before+136(%%rip), %%xmm3\n\t"
        "movdqu before+152(%%rip), %%xmm4\n\t"  "movdqu before+168(%%rip), %%xmm5\n\t"
        "movdqu before+184(%%rip), %%xmm6\n\t"  "movdqu before+200(%%rip), %%xmm7\n\t"
        "movdqu before+216(%%rip), %%xmm8\n\t"  "movdqu before+232(%%rip), %%xmm9\n\t"
        "movdqu before+248(%%rip), %%xmm10\n\t" "movdqu before+264(%%rip), %%xmm11\n\t"
        "movdqu before+280(%%rip), %%xmm12\n\t" "movdqu before+296(%%rip), %%xmm13\n\t"
        "movdqu before+312(%%rip), %%xmm14\n\t" "movdqu before+328(%%rip), %%xmm15\n\t"
        "fldt before+74(%%rip)\n\t"
        "fldt before+64(%%rip)\n\t"
        "movq before+0(%%rip), %%rbx\n\t"
        "movq before+8(%%rip), %%r8\n\t"
        "movq before+16(%%rip), %%r9\n\t"
        "movq before+24(%%rip), %%r10\n\t"
        "movq before+32(%%rip), %%r12\n\t"
        "movq before+40(%%rip), %%r13\n\t"
        "movq before+48(%%rip), %%r14\n\t"
        "movq before+56(%%rip), %%r15\n\t"
        "leaq 1f(%%rip), %%rcx\n\t"
        "movq %%rcx, after_syscall(%%rip)\n\t"
        "xorl %%ecx, %%ecx\n\t"          /* known flags: ZF, PF, and CF */
        "stc\n\t"
        "syscall\n"
        "1:\n\t"
        "movq %%rbx, after+0(%%rip)\n\t"
        "movq %%r8, after+8(%%rip)\n\t"
        "movq %%r9, after+16(%%rip)\n\t"
        "movq %%r10, after+24(%%rip)\n\t"
        "movq %%r12, after+32(%%rip)\n\t"
        "movq %%r13, after+40(%%rip)\n\t"
        "movq %%r14, after+48(%%rip)\n\t"
        "movq %%r15, after+56(%%rip)\n\t"
        "fstpt after+64(%%rip)\n\t"
        "fstpt after+74(%%rip)\n\t"
        "stmxcsr after+84(%%rip)\n\t"
        "movdqu %%xmm0, after+88(%%rip)\n\t"   "movdqu %%xmm1, after+104(%%rip)\n\t"
        "movdqu %%xmm2, after+120(%%rip)\n\t"  "movdqu %%xmm3, after+136(%%rip)\n\t"
        "movdqu %%xmm4, after+152(%%rip)\n\t"  "movdqu %%xmm5, after+168(%%rip)\n\t"
        "movdqu %%xmm6, after+184(%%rip)\n\t"  "movdqu %%xmm7, after+200(%%rip)\n\t"
        "movdqu %%xmm8, after+216(%%rip)\n\t"  "movdqu %%xmm9, after+232(%%rip)\n\t"
        "movdqu %%xmm10, after+248(%%rip)\n\t" "movdqu %%xmm11, after+264(%%rip)\n\t"
        "movdqu %%xmm12, after+280(%%rip)\n\t" "movdqu %%xmm13, after+296(%%rip)\n\t"
        "movdqu %%xmm14, after+312(%%rip)\n\t" "movdqu %%xmm15, after+328(%%rip)\n\t"
        : "=a"(ret)
        : "a"((long)SYS_tgkill), "D"(self_pid), "S"(self_tid), "d"((long)sig)
        : "rbx", "rcx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
          "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
    return ret;
}

/* The FPU as the handler starts with it, taken before the C code uses it. */
static uint16_t entry_cw, entry_tags;
static uint32_t entry_mxcsr;
static unsigned char entry_xmm[16][16];

static void take_entry_fpu(void)
{
    unsigned char env[28];
    __asm__ volatile("fnstenv %0\n\t"
                     "stmxcsr %1\n\t"
                     : "=m"(env), "=m"(entry_mxcsr));
    memcpy(&entry_cw, env, 2);
    memcpy(&entry_tags, env + 8, 2);
    __asm__ volatile(
        "movdqu %%xmm0, 0(%0)\n\t"   "movdqu %%xmm1, 16(%0)\n\t"
        "movdqu %%xmm2, 32(%0)\n\t"  "movdqu %%xmm3, 48(%0)\n\t"
        "movdqu %%xmm4, 64(%0)\n\t"  "movdqu %%xmm5, 80(%0)\n\t"
        "movdqu %%xmm6, 96(%0)\n\t"  "movdqu %%xmm7, 112(%0)\n\t"
        "movdqu %%xmm8, 128(%0)\n\t" "movdqu %%xmm9, 144(%0)\n\t"
        "movdqu %%xmm10, 160(%0)\n\t" "movdqu %%xmm11, 176(%0)\n\t"
        "movdqu %%xmm12, 192(%0)\n\t" "movdqu %%xmm13, 208(%0)\n\t"
        "movdqu %%xmm14, 224(%0)\n\t" "movdqu %%xmm15, 240(%0)\n\t"
        : : "r"(entry_xmm) : "memory");
}

static void hex(const char *name, const unsigned char *p, int n)
{
    printf(" %s=", name);
    for (int i = n - 1; i >= 0; i--)
        printf("%02x", p[i]);
}

static int all_zero(const unsigned char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static volatile int change_frame, depth, nest;
static int handled_sig;

static void show_frame(int sig, siginfo_t *si, ucontext_t *uc, int with_info)
{
    greg_t *g = uc->uc_mcontext.gregs;
    unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
    printf("  frame: sig=%d rax=%lld rdi=%s rsi=%s rdx=%lld rip=%s rcx=%s r11=%s"
           " eflags&0xcd5=%#llx\n", sig, (long long)g[REG_RAX],
           g[REG_RDI] == self_pid ? "pid" : "other", g[REG_RSI] == self_tid ? "tid" : "other",
           (long long)g[REG_RDX],
           (void *)g[REG_RIP] == after_syscall ? "after syscall" : "other",
           g[REG_RCX] == g[REG_RIP] ? "rip" : "other",
           g[REG_R11] == g[REG_EFL] ? "eflags" : "other",
           (unsigned long long)g[REG_EFL] & 0xcd5);
    printf("  regs: rbx=%llx r8=%llx r9=%llx r10=%llx r12=%llx r13=%llx r14=%llx r15=%llx\n",
           (unsigned long long)g[REG_RBX], (unsigned long long)g[REG_R8],
           (unsigned long long)g[REG_R9], (unsigned long long)g[REG_R10],
           (unsigned long long)g[REG_R12], (unsigned long long)g[REG_R13],
           (unsigned long long)g[REG_R14], (unsigned long long)g[REG_R15]);
    uint64_t csgsfs = (uint64_t)g[REG_CSGSFS];
    printf("  cs=%#llx ss=%#llx err=%lld trapno=%lld oldmask=%#llx cr2=%lld\n",
           (unsigned long long)(csgsfs & 0xffff), (unsigned long long)(csgsfs >> 48),
           (long long)g[REG_ERR], (long long)g[REG_TRAPNO], (unsigned long long)g[REG_OLDMASK],
           (long long)g[REG_CR2]);
    printf("  uc_flags=%#lx uc_link=%p ss_sp=%p ss_flags=%d ss_size=%zu uc_sigmask=%#lx\n",
           uc->uc_flags, (void *)uc->uc_link, uc->uc_stack.ss_sp, uc->uc_stack.ss_flags,
           uc->uc_stack.ss_size, ((unsigned long *)&uc->uc_sigmask)[0]);
    if (with_info)
        printf("  siginfo: signo=%d errno=%d code=%d pid=%s uid=%s\n", si->si_signo,
               si->si_errno, si->si_code, si->si_pid == self_pid ? "self" : "other",
               si->si_uid == getuid() ? "self" : "other");
    printf("  layout: siginfo-ucontext=%ld fpstate-ucontext=%ld fpstate%%64=%lu\n",
           (long)((char *)si - (char *)uc), (long)(fp - (unsigned char *)uc),
           (unsigned long)fp % 64);
    uint16_t cwd, swd;
    uint32_t mxcsr, mxcsr_mask, magic1, extended, xstate_size, magic2 = 0;
    uint64_t xfeatures, header;
    memcpy(&cwd, fp, 2);
    memcpy(&swd, fp + 2, 2);
    memcpy(&mxcsr, fp + 24, 4);
    memcpy(&mxcsr_mask, fp + 28, 4);
    memcpy(&magic1, fp + 464, 4);
    memcpy(&extended, fp + 468, 4);
    memcpy(&xfeatures, fp + 472, 8);
    memcpy(&xstate_size, fp + 480, 4);
    memcpy(&header, fp + 512, 8);
    if (magic1 == FP_XSTATE_MAGIC1)
        memcpy(&magic2, fp + extended - 4, 4);
    printf("  fpstate: cwd=%#x swd=%#x ftw=%#x mxcsr=%#x mxcsr_mask=%s magic1=%s magic2=%s"
           " xfeatures&3=%llu header&3=%llu size>=576=%s\n", cwd, swd, fp[4], mxcsr,
           mxcsr_mask ? "set" : "0", magic1 == FP_XSTATE_MAGIC1 ? "ok" : "no",
           magic2 == FP_XSTATE_MAGIC2 ? "ok" : "no", (unsigned long long)(xfeatures & 3),
           (unsigned long long)(header & 3), xstate_size >= 576 ? "yes" : "no");
    printf("  st:");
    hex("st0", fp + 32, 10);
    hex("st1", fp + 48, 10);
    printf("\n  xmm:");
    for (int i = 0; i < 16; i++) {
        char name[8];
        snprintf(name, sizeof name, "%d", i);
        hex(name, fp + 160 + 16 * i, 16);
        if (i == 7)
            printf("\n     ");
    }
    printf("\n");
    printf("  entry fpu: cw=%#x tags=%#x mxcsr=%#x xmm zero=%s\n", entry_cw, entry_tags,
           entry_mxcsr, all_zero(&entry_xmm[0][0], sizeof entry_xmm) ? "yes" : "no");
}

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    take_entry_fpu();
    ucontext_t *uc = ucv;
    handled_sig = sig;
    if (change_frame >= 0)
        show_frame(sig, si, uc, change_frame != 2);
    if (change_frame == 1) {
        greg_t *g = uc->uc_mcontext.gregs;
        unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
        g[REG_R12] = 0x600dcafe;
        g[REG_RBX] ^= 0xff;
        memset(fp + 160 + 16 * 5, 0x5a, 16);                   /* xmm5 */
        uint32_t mxcsr;
        memcpy(&mxcsr, fp + 24, 4);
        mxcsr = (mxcsr & ~0x6000U) | 0x4000U;                  /* round up */
        memcpy(fp + 24, &mxcsr, 4);
        fp[32 + 7] ^= 0x40;                                    /* ST(0)'s mantissa */
        sigaddset(&uc->uc_sigmask, SIGUSR2);
    }
}

static void show_after(void)
{
    printf("  after: rbx=%llx r12=%llx r13=%llx r15=%llx mxcsr=%#x",
           (unsigned long long)after.rbx, (unsigned long long)after.r12,
           (unsigned long long)after.r13, (unsigned long long)after.r15, after.mxcsr);
    hex("st0", after.st0, 10);
    hex("st1", after.st1, 10);
    hex("xmm5", after.xmm[5], 16);
    hex("xmm15", after.xmm[15], 16);
    printf("\n");
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags, int masked)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (masked)
        sigaddset(&sa.sa_mask, masked);
    sigaction(sig, &sa, NULL);
}

static unsigned long blocked_now(void)
{
    sigset_t set;
    sigprocmask(SIG_BLOCK, NULL, &set);
    return ((unsigned long *)&set)[0];
}

static void on_nested(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    (void)ucv;
    int me = ++depth;
    printf("  handler depth %d: blocked %#lx\n", me, blocked_now());
    if (nest && me < 3)
        raw_syscall3(SYS_tgkill, self_pid, self_tid, sig);
    printf("  handler depth %d returns\n", me);
}

int main(void)
{
    self_pid = raw_syscall0(SYS_getpid);
    self_tid = raw_syscall0(SYS_gettid);
    before.rbx = 0x0123456789abcdefULL;
    before.r8 = 0x8888000000000008ULL;
    before.r9 = 0x9999000000000009ULL;
    before.r10 = 0xaaaa00000000000aULL;
    before.r12 = 0xc0c0c0c0c0c0c0c0ULL;
    before.r13 = 0xd0d0d0d0d0d0d0d0ULL;
    before.r14 = 0xe0e0e0e0e0e0e0e0ULL;
    before.r15 = 0xf0f0f0f0f0f0f0f0ULL;
    /* 1.0 and -3.0 as 80-bit values: mantissa, then sign and exponent */
    static const unsigned char one[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f};
    static const unsigned char minus3[10] = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0xc0};
    memcpy(before.st0, one, 10);
    memcpy(before.st1, minus3, 10);
    before.mxcsr = 0x7f80;                                     /* round toward zero */
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            before.xmm[i][j] = (unsigned char)(i * 16 + j);

    install(SIGUSR1, on_signal, SA_SIGINFO, SIGUSR2);
    printf("tgkill SIGUSR1 with SA_SIGINFO, sa_mask USR2, the handler looks:\n");
    change_frame = 0;
    long r = raise_loaded(SIGUSR1);
    printf("  returned %ld, handled %d, blocked after %#lx\n", r, handled_sig, blocked_now());
    show_after();

    printf("again, the handler changes r12, rbx, ST(0), XMM5, MXCSR and the mask:\n");
    change_frame = 1;
    r = raise_loaded(SIGUSR1);
    printf("  returned %ld, blocked after %#lx\n", r, blocked_now());
    show_after();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    install(SIGUSR2, on_signal, 0, 0);
    printf("tgkill SIGUSR2 without SA_SIGINFO:\n");
    change_frame = 2;
    r = raise_loaded(SIGUSR2);
    printf("  returned %ld, handled %d\n", r, handled_sig);
    show_after();

    printf("SA_NODEFER, the handler raises it again twice:\n");
    install(SIGUSR1, on_nested, SA_NODEFER, 0);
    depth = 0;
    nest = 1;
    raw_syscall3(SYS_tgkill, self_pid, self_tid, SIGUSR1);
    printf("default flags, the handler raises it again (pending until it returns):\n");
    install(SIGUSR1, on_nested, 0, 0);
    depth = 0;
    raw_syscall3(SYS_tgkill, self_pid, self_tid, SIGUSR1);
    nest = 0;

    printf("SA_RESETHAND:\n");
    install(SIGUSR1, on_nested, SA_RESETHAND, 0);
    depth = 0;
    raw_syscall3(SYS_tgkill, self_pid, self_tid, SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("  disposition after: %s\n", now.sa_handler == SIG_DFL ? "SIG_DFL" : "handler");

    printf("tgkill with the upper halves of pid, tid and sig set (int arguments):\n");
    install(SIGUSR1, on_nested, 0, 0);
    depth = 0;
    r = raw_syscall3(SYS_tgkill, self_pid | 0x5a5a5a5a00000000L, self_tid | 0xa5a5a5a500000000L,
                     SIGUSR1 | 0x100000000L);
    printf("  returned %ld\n", r);

    printf("a blocked SIGUSR2 pending while SIGUSR1 is raised:\n");
    install(SIGUSR1, on_nested, 0, 0);
    install(SIGUSR2, on_nested, 0, 0);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    raw_syscall3(SYS_tgkill, self_pid, self_tid, SIGUSR2);
    depth = 0;
    raw_syscall3(SYS_tgkill, self_pid, self_tid, SIGUSR1);
    sigset_t pending;
    sigpending(&pending);
    printf("  SIGUSR2 pending: %s; unblocking it:\n", sigismember(&pending, SIGUSR2) ? "yes" : "no");
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);

    printf("a blocked SIGUSR1 raised while an epoll watches a signalfd (edge-triggered):\n");
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    int sfd = signalfd(-1, &usr1, SFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = sfd}, got;
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    printf("  before: %d ready\n", epoll_wait(ep, &got, 1, 0));
    raw_syscall3(SYS_tgkill, self_pid, self_tid, SIGUSR1);
    printf("  after tgkill: %d ready\n", epoll_wait(ep, &got, 1, 0));
    struct signalfd_siginfo si;
    int got_bytes = (int)read(sfd, &si, sizeof si);
    printf("  read %d bytes, signo %u\n", got_bytes, si.ssi_signo);
    kill(self_pid, SIGUSR1);
    printf("  after kill: %d ready\n", epoll_wait(ep, &got, 1, 0));
    printf("done\n");
    return 0;
}
