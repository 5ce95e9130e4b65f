/*
 * interp N: a bytecode interpreter loop dispatched with computed gotos (one
 * indirect jump per bytecode, as CPython's and Lua's interpreters do). The
 * bytecode program runs a counted loop N times over a small stack machine and
 * prints the value it leaves; every dispatch is a data-dependent indirect
 * branch, which is what this program measures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, ADD, MUL, XOR, SHR, DUP, SWAP, LOAD, STORE, DECJNZ, HALT };

static uint64_t run(const uint8_t *code, uint64_t n, uint64_t seed)
{
    static void *const ops[] = {
        [PUSH] = &&op_push, [ADD] = &&op_add, [MUL] = &&op_mul, [XOR] = &&op_xor,
        [SHR] = &&op_shr, [DUP] = &&op_dup, [SWAP] = &&op_swap, [LOAD] = &&op_load,
        [STORE] = &&op_store, [DECJNZ] = &&op_decjnz, [HALT] = &&op_halt,
    };
    uint64_t stack[16], *sp = stack, vars[4] = {seed, n, 0, 0};
    const uint8_t *pc = code;

#define NEXT goto *ops[*pc++]
    NEXT;
op_push:  *sp++ = *pc++; NEXT;
op_add:   sp--; sp[-1] += sp[0]; NEXT;
op_mul:   sp--; sp[-1] *= sp[0]; NEXT;
op_xor:   sp--; sp[-1] ^= sp[0]; NEXT;
op_shr:   sp--; sp[-1] >>= sp[0] & 63; NEXT;
op_dup:   sp[0] = sp[-1]; sp++; NEXT;
op_swap:  { uint64_t t = sp[-1]; sp[-1] = sp[-2]; sp[-2] = t; } NEXT;
op_load:  *sp++ = vars[*pc++]; NEXT;
op_store: vars[*pc++] = *--sp; NEXT;
op_decjnz:
    if (--vars[1]) { pc = code + pc[0]; } else { pc++; }
    NEXT;
op_halt:
    return vars[0] ^ vars[2];
#undef NEXT
}

int main(int argc, char **argv)
{
    unsigned long long n = 1000000ULL;
    if (argc > 1)
        n = strtoull(argv[1], NULL, 0);
    if (n == 0)
        n = 1;

    /* x = x * 37 + 11; x ^= x >> 7; acc += x; loop n times */
    static const uint8_t code[] = {
        /* 0 */ LOAD, 0, PUSH, 37, MUL, PUSH, 11, ADD,
        /* 8 */ DUP, PUSH, 7, SHR, XOR, DUP, STORE, 0,
        /* 16 */ LOAD, 2, ADD, STORE, 2,
        /* 21 */ DECJNZ, 0,
        /* 23 */ HALT,
    };
    uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (uint64_t)argc;
    printf("interp %llu result=%016llx\n", n, (unsigned long long)run(code, n, seed));
    return 0;
}
