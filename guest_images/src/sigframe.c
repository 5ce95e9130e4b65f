/*
 * sigframe: what a signal handler sees on x86-64 Linux.
 *
 * siginfo of kill, tgkill and sigqueue; faults turned into SIGSEGV (unmapped and
 * protection), SIGFPE (divide error), SIGILL (ud2), SIGTRAP (int3) and SIGBUS
 * (a file mapping past its end); the rt_sigframe's shape (where rsi, rdx and the
 * return address point, rax, rsp alignment), the ucontext (rip at the faulting
 * instruction, rsp, rflags, selectors, uc_flags, trap number, error code, the FPU
 * state and its xsave magic); the alternate stack with SA_ONSTACK; a handler that
 * changes uc_mcontext (skips the faulting instruction, sets a register, changes
 * the mask); siglongjmp out of a SIGSEGV handler; stack overflow caught on the
 * alternate stack; SA_RESETHAND, SA_NODEFER and sa_mask.
 *
 * Only relations are printed (an address "=insn", "=next", "on altstack"), never
 * addresses, pids or sizes that depend on the host CPU, so native and emulated
 * runs compare byte for byte.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "guest.h"

/* ---- instructions that fault, with a label on them and after them ---- */
extern char segv_insn[], segv_next[], div_insn[], div_next[], ill_insn[], ill_next[];
extern char trap_insn[], trap_next[], reg_insn[], reg_next[];
long do_store(long *p);          /* movl $1, (p): faults on a bad p */
long do_div(long a, long b);     /* a / b with idiv */
long do_ud2(void);               /* rax = 0x55, then ud2 */
long do_int3(void);
long do_reg(void);               /* rbx = 0, ud2, return rbx: a handler may set it */
void entry_handler(int, siginfo_t *, void *);
void k_restorer(void);

unsigned long entry_rdi, entry_rsi, entry_rdx, entry_rax, entry_rsp, entry_ret;
void entry_c(int sig, siginfo_t *si, void *uc);

__asm__(".text\n"
        ".globl do_store, segv_insn, segv_next\n"
        "do_store:\n"
        "segv_insn: movl $1, (%rdi)\n"
        "segv_next: xor %eax, %eax\n"
        "    ret\n"
        ".globl do_div, div_insn, div_next\n"
        "do_div: mov %rdi, %rax\n"
        "    cqo\n"
        "div_insn: idivq %rsi\n"
        "div_next: ret\n"
        ".globl do_ud2, ill_insn, ill_next\n"
        "do_ud2: mov $0x55, %eax\n"
        "ill_insn: ud2\n"
        "ill_next: ret\n"
        ".globl do_int3, trap_insn, trap_next\n"
        "do_int3: mov $0x33, %eax\n"
        "trap_insn: int3\n"
        "trap_next: ret\n"
        ".globl do_reg, reg_insn, reg_next\n"
        "do_reg: push %rbx\n"
        "    xor %ebx, %ebx\n"
        "reg_insn: ud2\n"
        "reg_next: mov %rbx, %rax\n"
        "    pop %rbx\n"
        "    ret\n"
        /* records the registers a handler is entered with, then runs entry_c */
        ".globl entry_handler\n"
        "entry_handler:\n"
        "    mov %rdi, entry_rdi(%rip)\n"
        "    mov %rsi, entry_rsi(%rip)\n"
        "    mov %rdx, entry_rdx(%rip)\n"
        "    mov %rax, entry_rax(%rip)\n"
        "    mov %rsp, entry_rsp(%rip)\n"
        "    mov (%rsp), %rax\n"
        "    mov %rax, entry_ret(%rip)\n"
        "    jmp entry_c\n"
        ".globl k_restorer\n"
        "k_restorer: mov $15, %eax\n" /* rt_sigreturn */
        "    syscall\n"
        "    hlt\n");

/* The kernel's struct sigaction, for SA_RESTORER with our own restorer. */
struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

#define K_UC_FP_XSTATE 1
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define KERNEL_UCONTEXT_SIZE 304 /* struct ucontext of the kernel, not glibc's */

static volatile sig_atomic_t depth, raised;
static unsigned long expect_addr;           /* the data address a fault should name */
static char event_log[256];
static sigjmp_buf jump;
static char *altstack;
static size_t altstack_size;
static long page;

static void log_event(const char *what)
{
    size_t n = strlen(event_log);
    snprintf(event_log + n, sizeof event_log - n, "%s%s", n ? " " : "", what);
}

static const char *where(unsigned long a, const void *insn, const void *next)
{
    if (a == expect_addr) return "data";
    if (a == (unsigned long)insn) return "insn";
    if (a == (unsigned long)next) return "next";
    if (a == 0) return "0";
    return "other";
}

static int on_altstack(const void *p)
{
    return altstack && (const char *)p >= altstack && (const char *)p < altstack + altstack_size;
}

static unsigned long blocked_now(void)
{
    sigset_t s;
    sigprocmask(SIG_BLOCK, NULL, &s);
    unsigned long bits = 0;
    for (int i = 1; i <= 64; i++)
        if (sigismember(&s, i) == 1) bits |= 1UL << (i - 1);
    return bits;
}

#define BIT(sig) (1UL << ((sig) - 1))

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags, int masked)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    if (masked) sigaddset(&sa.sa_mask, masked);
    if (sigaction(sig, &sa, NULL)) perror("sigaction");
}

/* ---- siginfo of signals sent by a process ---- */

static void show_sent(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    printf("  handler: signo=%d(arg %s) errno=%d code=%d pid=%s uid=%s",
           si->si_signo, si->si_signo == sig ? "same" : "differs", si->si_errno, si->si_code,
           si->si_pid == getpid() ? "self" : "other", si->si_uid == getuid() ? "self" : "other");
    if (si->si_code == SI_QUEUE) printf(" value=%d", si->si_value.sival_int);
    printf(" blocked-self=%d\n", !!(blocked_now() & BIT(sig)));
    (void)uc;
}

static void t_sent(void)
{
    install(SIGUSR1, show_sent, 0, 0);
    install(SIGUSR2, show_sent, 0, 0);
    install(SIGRTMIN + 1, show_sent, 0, 0);
    printf("kill SIGUSR1:\n");
    kill(getpid(), SIGUSR1);
    printf("tgkill SIGUSR2:\n");
    raw_syscall3(SYS_tgkill, getpid(), raw_syscall0(SYS_gettid), SIGUSR2);
    printf("sigqueue SIGRTMIN+1:\n");
    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), SIGRTMIN + 1, v);
    printf("raise SIGUSR1:\n");
    raise(SIGUSR1);
}

/* ---- faults: siginfo, ucontext, and stepping past the instruction ---- */

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    const void *insn = 0, *next = 0;
    switch (sig) {
    case SIGSEGV: case SIGBUS: insn = segv_insn; next = segv_next; break;
    case SIGFPE: insn = div_insn; next = div_next; break;
    case SIGILL:
        if ((unsigned long)g[REG_RIP] == (unsigned long)reg_insn) {
            insn = reg_insn; next = reg_next;
        } else {
            insn = ill_insn; next = ill_next;
        }
        break;
    case SIGTRAP: insn = trap_insn; next = trap_next; break;
    }
    int local;
    long rsp_gap = (long)((char *)&local - (char *)g[REG_RSP]);
    printf("  handler: signo=%d errno=%d code=%d addr=%s rip=%s trapno=%ld",
           si->si_signo, si->si_errno, si->si_code, where((unsigned long)si->si_addr, insn, next),
           where(g[REG_RIP], insn, next), (long)g[REG_TRAPNO]);
    if (sig == SIGSEGV) printf(" err=%#lx", (long)g[REG_ERR]);
    printf("\n  context: rsp %s, rflags&0x202=%#lx, csgsfs=%#lx, uc_flags=%#lx,"
           " blocked-self=%d\n",
           rsp_gap < 0 ? "above the handler's frame" : "BELOW the handler's frame",
           (unsigned long)g[REG_EFL] & 0x202, (unsigned long)g[REG_CSGSFS],
           uc->uc_flags, !!(blocked_now() & BIT(sig)));
    if ((unsigned long)g[REG_RIP] == (unsigned long)insn) {
        g[REG_RIP] = (greg_t)next;
        if (insn == reg_insn) g[REG_RBX] = 0x1234;
    } else if ((unsigned long)g[REG_RIP] != (unsigned long)next) {
        printf("  unexpected rip: giving up\n");
        exit(3);
    }
}

static void t_faults(void)
{
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++)
        install(sigs[i], fault_handler, 0, 0);

    char *p = mmap(0, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + page, page);
    printf("store to an unmapped page:\n");
    expect_addr = (unsigned long)(p + page + 8);
    printf("  returned %ld\n", do_store((long *)(p + page + 8)));
    mprotect(p, page, PROT_READ);
    printf("store to a read-only page (touched):\n");
    printf("  read %d first\n", p[16]);
    expect_addr = (unsigned long)(p + 16);
    printf("  returned %ld\n", do_store((long *)(p + 16)));
    printf("store to page 0:\n");
    expect_addr = 8;
    printf("  returned %ld\n", do_store((long *)8));

    int fd = memfd_create("sigframe", 0);
    if (fd < 0 || ftruncate(fd, 100) < 0) {
        printf("memfd: failed\n");
    } else {
        char *m = mmap(0, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        printf("store inside a file's last page:\n  returned %ld\n", do_store((long *)(m + 200)));
        printf("store past a file's last page:\n");
        expect_addr = (unsigned long)(m + page + 40);
        printf("  returned %ld\n", do_store((long *)(m + page + 40)));
        close(fd);
    }
    expect_addr = 1;
    printf("idiv by zero:\n");
    printf("  returned %ld\n", do_div(7, 0));
    printf("ud2:\n");
    printf("  returned %#lx\n", do_ud2());
    printf("int3:\n");
    printf("  returned %#lx\n", do_int3());
    printf("ud2, handler sets rbx in the context:\n");
    printf("  returned %#lx\n", do_reg());
}

/* ---- the frame itself: registers at entry, the restorer, fpstate ---- */

struct fpx_sw_bytes {
    uint32_t magic1, extended_size;
    uint64_t xfeatures;
    uint32_t xstate_size, padding[7];
};

/* Rounding control of the x87 unit and SSE (0 nearest, 1 down, 2 up, 3 toward
 * zero), set and read with the instructions (no libm in static glibc). */
static void set_rounding(unsigned mode)
{
    unsigned short cw;
    unsigned mxcsr;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    cw = (unsigned short)((cw & ~0xc00) | mode << 10);
    __asm__ volatile("fldcw %0" : : "m"(cw));
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    mxcsr = (mxcsr & ~0x6000U) | mode << 13;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
}

/* Both rounding fields as x87 * 4 + sse. */
static unsigned get_rounding(void)
{
    unsigned short cw;
    unsigned mxcsr;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    return ((cw >> 10) & 3) * 4 + ((mxcsr >> 13) & 3);
}

static unsigned fpu_round_in_handler;

void entry_c(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
    printf("  entry: rdi=sig %s, rax=%#lx, (rsp+8)%%16=%lu, [rsp]=%s, rdx=rsp+%ld,"
           " rsi=rdx+%ld, fpstate %s info, fpstate%%64=%lu\n",
           entry_rdi == (unsigned long)sig ? "yes" : "no", entry_rax, (entry_rsp + 8) % 16,
           entry_ret == (unsigned long)k_restorer ? "restorer" : "other",
           (long)(entry_rdx - entry_rsp), (long)(entry_rsi - entry_rdx),
           fp > (unsigned char *)si ? "above" : "below", (unsigned long)fp % 64);
    if (fp) {
        struct fpx_sw_bytes sw;
        memcpy(&sw, fp + 464, sizeof sw);
        uint32_t magic2 = 0;
        if (sw.magic1 == FP_XSTATE_MAGIC1) memcpy(&magic2, fp + sw.extended_size - 4, 4);
        uint16_t cwd, swd;
        uint32_t mxcsr;
        memcpy(&cwd, fp, 2);
        memcpy(&swd, fp + 2, 2);
        memcpy(&mxcsr, fp + 24, 4);
        printf("  fpstate: magic1=%s magic2=%s x87+sse=%s uc_fp_xstate=%s"
               " saved rounding x87=%d sse=%d\n",
               sw.magic1 == FP_XSTATE_MAGIC1 ? "ok" : "missing",
               magic2 == FP_XSTATE_MAGIC2 ? "ok" : "missing",
               (sw.xfeatures & 3) == 3 ? "yes" : "no",
               uc->uc_flags & K_UC_FP_XSTATE ? "yes" : "no", (cwd >> 10) & 3,
               (int)(mxcsr >> 13) & 3);
    }
    fpu_round_in_handler = get_rounding();
    set_rounding(2);                         /* undone by sigreturn */
    if (sig == SIGILL && (unsigned long)g[REG_RIP] == (unsigned long)ill_insn)
        g[REG_RIP] = (greg_t)ill_next;
}

static void t_entry(void)
{
    struct ksigaction ka = {entry_handler, SA_SIGINFO | 0x04000000UL /* SA_RESTORER */,
                            k_restorer, 0};
    raw_syscall4(SYS_rt_sigaction, SIGILL, &ka, 0, 8);
    set_rounding(3);
    printf("ud2 with SA_SIGINFO and our own restorer:\n");
    long r = do_ud2();
    printf("  returned %#lx; rounding (x87*4+sse) in handler %u, after return %u\n", r,
           fpu_round_in_handler, get_rounding());
    ka.flags &= ~(unsigned long)SA_SIGINFO;
    raw_syscall4(SYS_rt_sigaction, SIGILL, &ka, 0, 8);
    printf("ud2 without SA_SIGINFO:\n");
    r = do_ud2();
    printf("  returned %#lx\n", r);
    set_rounding(0);
}

/* ---- the alternate stack ---- */

static void alt_handler(int sig, siginfo_t *si, void *ucv)
{
    int local;
    stack_t now;
    sigaltstack(NULL, &now);
    printf("  handler: on altstack=%s, ss_flags=%d (SS_ONSTACK=%d), code=%d\n",
           on_altstack(&local) ? "yes" : "no", now.ss_flags, SS_ONSTACK, si->si_code);
    (void)sig;
    (void)ucv;
}

static volatile char *deep_sink;
static int (*volatile again)(int);

static int recurse(int n)
{
    volatile char buf[1024];
    buf[0] = (char)n;
    deep_sink = buf;
    return again(n + 1) + buf[0];
}

static void overflow_handler(int sig, siginfo_t *si, void *ucv)
{
    int local;
    printf("  handler: signo=%d on altstack=%s\n", si->si_signo, on_altstack(&local) ? "yes" : "no");
    (void)sig;
    (void)ucv;
    siglongjmp(jump, 1);
}

static void t_altstack(void)
{
    altstack_size = 64 * 1024;
    altstack = malloc(altstack_size);
    stack_t ss = {.ss_sp = altstack, .ss_size = altstack_size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL)) perror("sigaltstack");
    install(SIGUSR1, alt_handler, SA_ONSTACK, 0);
    printf("SIGUSR1 with SA_ONSTACK:\n");
    raise(SIGUSR1);
    install(SIGUSR1, alt_handler, 0, 0);
    printf("SIGUSR1 without SA_ONSTACK:\n");
    raise(SIGUSR1);

    install(SIGSEGV, overflow_handler, SA_ONSTACK, 0);
    printf("stack overflow with SIGSEGV on the altstack:\n");
    if (sigsetjmp(jump, 1) == 0) {
        again = recurse;
        recurse(0);
        printf("  not reached\n");
    } else {
        printf("  recovered after overflow\n");
    }
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
}

/* ---- siglongjmp out of a SIGSEGV handler ---- */

static void jump_handler(int sig, siginfo_t *si, void *ucv)
{
    printf("  handler: code=%d addr=%s, jumping out\n", si->si_code,
           si->si_addr == (void *)16 ? "16" : "other");
    (void)sig;
    (void)ucv;
    siglongjmp(jump, 7);
}

static void t_longjmp(void)
{
    int *volatile bad = (int *)16;
    install(SIGSEGV, jump_handler, 0, 0);
    for (int round = 1; round <= 2; round++) {
        printf("load from address 16, round %d:\n", round);
        int r = sigsetjmp(jump, 1);
        if (r == 0) {
            printf("  loaded %d\n", *bad);
        } else {
            printf("  back from the handler with %d; SIGSEGV blocked=%d\n", r,
                   !!(blocked_now() & BIT(SIGSEGV)));
        }
    }
}

/* ---- flags: SA_RESETHAND, SA_NODEFER, sa_mask; the mask in the frame ---- */

static void nest_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    char buf[64];
    snprintf(buf, sizeof buf, "enter%d(self-blocked=%d,usr2-blocked=%d,uc-usr2=%d)", (int)depth + 1,
             !!(blocked_now() & BIT(sig)), !!(blocked_now() & BIT(SIGUSR2)),
             sigismember(&uc->uc_sigmask, SIGUSR2) == 1);
    log_event(buf);
    depth++;
    if (!raised) {
        raised = 1;
        log_event("raise");
        raise(sig);
    }
    depth--;
    snprintf(buf, sizeof buf, "leave%d", (int)depth + 1);
    log_event(buf);
    (void)si;
}

static void mask_handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    sigaddset(&uc->uc_sigmask, SIGUSR2);       /* sigreturn installs it */
    (void)sig;
    (void)si;
}

static void t_flags(void)
{
    struct sigaction old;
    event_log[0] = 0;
    raised = 0;
    install(SIGUSR1, nest_handler, 0, 0);
    printf("raise inside the handler, default flags:\n");
    raise(SIGUSR1);
    printf("  %s\n", event_log);

    event_log[0] = 0;
    raised = 0;
    install(SIGUSR1, nest_handler, SA_NODEFER, 0);
    printf("raise inside the handler, SA_NODEFER:\n");
    raise(SIGUSR1);
    printf("  %s\n", event_log);

    event_log[0] = 0;
    raised = 0;
    install(SIGUSR1, nest_handler, 0, SIGUSR2);
    printf("sa_mask with SIGUSR2:\n");
    raise(SIGUSR1);
    printf("  %s\n", event_log);

    event_log[0] = 0;
    install(SIGUSR1, nest_handler, SA_RESETHAND, 0);
    sigaction(SIGUSR1, NULL, &old);
    printf("SA_RESETHAND: flag kept=%d\n", !!(old.sa_flags & SA_RESETHAND));
    signal(SIGUSR1, SIG_IGN);
    install(SIGUSR1, nest_handler, SA_RESETHAND, 0);
    raised = 1;                                  /* no nested raise: it would kill us */
    raise(SIGUSR1);
    sigaction(SIGUSR1, NULL, &old);
    printf("  %s; disposition after: %s\n", event_log,
           old.sa_handler == SIG_DFL ? "SIG_DFL" : "still the handler");

    printf("handler adds SIGUSR2 to uc_sigmask:\n");
    install(SIGUSR1, mask_handler, 0, 0);
    printf("  before: usr2 blocked=%d\n", !!(blocked_now() & BIT(SIGUSR2)));
    raise(SIGUSR1);
    printf("  after: usr2 blocked=%d usr1 blocked=%d\n", !!(blocked_now() & BIT(SIGUSR2)),
           !!(blocked_now() & BIT(SIGUSR1)));
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    printf("blocked SIGUSR2 in the interrupted mask:\n");
    event_log[0] = 0;
    install(SIGUSR1, nest_handler, 0, 0);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    raised = 1;
    raise(SIGUSR1);
    printf("  %s\n", event_log);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---- a handler without SA_SIGINFO ---- */

static int plain_seen;

static void plain_handler(int sig)
{
    plain_seen = sig;
}

static void t_plain(void)
{
    signal(SIGUSR2, plain_handler);
    printf("plain handler (no SA_SIGINFO):\n");
    kill(getpid(), SIGUSR2);
    printf("  handler saw %d\n", plain_seen);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    page = sysconf(_SC_PAGESIZE);
    t_sent();
    t_faults();
    t_entry();
    t_altstack();
    t_longjmp();
    t_flags();
    t_plain();
    printf("done\n");
    return 0;
}
