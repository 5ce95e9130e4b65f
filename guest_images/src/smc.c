/*
 * smc: code that writes code, the ways JITs and loaders do, each run twice so the
 * second run must see the new bytes (a CPU emulator that kept a stale translation
 * would print the old value):
 *   rwx       an RWX page rewritten by stores, called before and after
 *   wx        W^X: write, mprotect(PROT_EXEC), run, back to PROT_WRITE, rewrite,
 *             mprotect(PROT_EXEC) again, run
 *   inline    an instruction that patches the immediate of the next instruction
 *             in its own block
 *   kernel    new code written into an executable page by read() from a pipe
 *   remap     munmap, then mmap(MAP_FIXED) at the same address with new code
 *   widen     a data page stored to many times, then mprotect(PROT_READ|PROT_WRITE|
 *             PROT_EXEC) (access only widened), run, rewritten by stores, run
 * Each line prints the values the calls returned; exit 0.
 * With the argument `protect`: only a store to a page after
 * mprotect(PROT_READ|PROT_EXEC) that ran as code; killed by SIGSEGV.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*fn)(void);

#define PG 4096

/* mov eax, imm32; ret */
static void put_ret(uint8_t *p, uint32_t v)
{
    p[0] = 0xb8;
    memcpy(p + 1, &v, 4);
    p[5] = 0xc3;
}

/* Call f many times so its translation is cached, return its value. */
static int call_hot(uint8_t *code)
{
    fn f = (fn)(uintptr_t)code;
    int v = 0;
    for (int i = 0; i < 1000; i++)
        v = f();
    return v;
}

static void t_rwx(void)
{
    uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    put_ret(p, 11);
    int a = call_hot(p);
    put_ret(p, 22);
    int b = call_hot(p);
    p[1] = 33;                          /* one byte of the immediate */
    int c = call_hot(p);
    put_ret(p + 64, 44);                /* a second function on the same page */
    int d = call_hot(p + 64) + call_hot(p);
    printf("rwx: %d %d %d %d\n", a, b, c, d);
    munmap(p, PG);
}

static void t_wx(void)
{
    uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    put_ret(p, 1);
    mprotect(p, PG, PROT_READ | PROT_EXEC);
    int a = call_hot(p);
    mprotect(p, PG, PROT_READ | PROT_WRITE);
    put_ret(p, 2);
    mprotect(p, PG, PROT_READ | PROT_EXEC);
    int b = call_hot(p);
    mprotect(p, PG, PROT_READ | PROT_WRITE);
    p[1] = 3;
    mprotect(p, PG, PROT_READ | PROT_EXEC);
    int c = call_hot(p);
    printf("wx: %d %d %d\n", a, b, c);
    munmap(p, PG);
}

static void t_inline(void)
{
    uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* mov byte ptr [rip+1], 42 ; mov eax, 0 ; ret -- the first patches the second */
    static const uint8_t code[] = { 0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 42,
                                    0xb8, 0x00, 0x00, 0x00, 0x00, 0xc3 };
    memcpy(p, code, sizeof code);
    int a = ((fn)(uintptr_t)p)();
    int b = call_hot(p);
    p[6] = 77;                          /* what the first instruction stores */
    int c = ((fn)(uintptr_t)p)();
    printf("inline: %d %d %d\n", a, b, c);
    munmap(p, PG);
}

static void t_kernel(void)
{
    uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int fds[2];
    put_ret(p, 5);
    int a = call_hot(p);
    uint8_t fresh[6];
    put_ret(fresh, 6);
    if (pipe(fds) != 0 || write(fds[1], fresh, sizeof fresh) != sizeof fresh
        || read(fds[0], p, sizeof fresh) != sizeof fresh) {
        printf("kernel: pipe failed\n");
        return;
    }
    int b = call_hot(p);
    printf("kernel: %d %d\n", a, b);
    close(fds[0]);
    close(fds[1]);
    munmap(p, PG);
}

static void t_remap(void)
{
    uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    put_ret(p, 7);
    int a = call_hot(p);
    munmap(p, PG);
    uint8_t *q = mmap(p, PG, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    put_ret(q, 8);
    int b = call_hot(q);
    printf("remap: %d %d same=%d\n", a, b, p == q);
    munmap(q, PG);
}

static void t_widen(void)
{
    uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile uint8_t *data = p;
    for (int i = 0; i < 100000; i++)    /* hot stores to the page while it is data */
        data[64 + (i * 8) % (PG - 64)] = (uint8_t)i;
    put_ret(p, 12);
    mprotect(p, PG, PROT_READ | PROT_WRITE | PROT_EXEC);
    int a = call_hot(p);
    for (int i = 0; i < 100000; i++)    /* stores to the page while it holds code */
        data[64 + (i * 8) % (PG - 64)] = (uint8_t)i;
    put_ret(p, 13);
    int b = call_hot(p);
    data[1] = 14;
    int c = call_hot(p);
    printf("widen: %d %d %d\n", a, b, c);
    munmap(p, PG);
}

static void t_protect(void)
{
    uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    put_ret(p, 9);
    mprotect(p, PG, PROT_READ | PROT_EXEC);
    int a = call_hot(p);
    printf("protect: %d, then a store\n", a);
    fflush(stdout);
    p[1] = 10;
    printf("protect: the store went through\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "protect") == 0) {
        t_protect();
        return 1;
    }
    t_rwx();
    t_wx();
    t_inline();
    t_kernel();
    t_remap();
    t_widen();
    return 0;
}
