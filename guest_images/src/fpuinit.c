/*
 * fpuinit: the FPU state a program starts with after execve (x87 control and
 * status words, the tag word, MXCSR) and arithmetic that depends on it: long
 * double (x87, 64-bit precision only with the default control word) and double
 * (SSE) results printed to the last digit.
 */
#include <stdio.h>

int main(void)
{
    unsigned short cw, sw;
    unsigned mxcsr;
    unsigned char env[28];
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    __asm__ volatile("fnstsw %0" : "=m"(sw));
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstenv %0" : "=m"(env));
    unsigned short tags = (unsigned short)(env[8] | env[9] << 8);
    printf("x87 control=%#x status=%#x tags=%#x mxcsr=%#x\n", cw, sw, tags, mxcsr);
    volatile long double a = 1.0L, b = 3.0L;
    volatile double c = 1.0, d = 3.0;
    printf("long double 1/3 = %.21Lg\n", a / b);
    printf("double 1/3 = %.17g\n", c / d);
    volatile long double big = 1e4000L;
    printf("long double 1e4000 / 3 = %.21Lg\n", big / b);
    return 0;
}
