/*
 * crash: faults by storing through NULL+0x10 from two nested function
 * calls (main -> outer_frame -> inner_frame).  Built with -O0
 * -fno-omit-frame-pointer so a frame-pointer backtrace is available.
 * Expected result: killed by SIGSEGV after the stderr line below.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline)) static void inner_frame(volatile int *p, int v)
{
    /* p is NULL+0x10 here */
    p[0] = v;
}

__attribute__((noinline)) static void outer_frame(uintptr_t base)
{
    inner_frame((volatile int *)(base + 0x10), 42);
}

int main(int argc, char **argv)
{
    (void)argv;
    static const char msg[] = "crash: about to fault\n";
    write(2, msg, sizeof msg - 1);
    /* argc - argc keeps the compiler from proving the pointer is NULL */
    outer_frame((uintptr_t)(argc - argc));
    write(2, "crash: survived?!\n", 18);
    return 0;
}
