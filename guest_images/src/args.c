/*
 * args: dump argc/argv, PYUNIK_* environment variables and a set of
 * auxiliary-vector facts.  Exit status is argc.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#ifndef AT_EXECFN
#define AT_EXECFN 31
#endif

extern char **environ;

int main(int argc, char **argv)
{
    /* Capture environ before stdio could possibly touch anything. */
    char **envp = environ;

    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    printf("argv[argc] null=%d\n", argv[argc] == NULL);

    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "PYUNIK_", 7) == 0)
            printf("env %s\n", *e);
    }

    /*
     * Initial process stack layout: [rsp] = argc, rsp+8 = argv[0..argc],
     * NULL, envp[...], NULL, auxv.  Both libcs hand main the original argv
     * pointer, so argv - 8 is the initial stack pointer, which the ABI
     * requires to be 16-byte aligned.  Only booleans are printed.
     */
    uintptr_t sp0 = (uintptr_t)argv - sizeof(long);
    printf("initial sp aligned16=%d\n", (sp0 & 15) == 0);
    printf("stack argc matches=%d\n", *(long *)sp0 == (long)argc);
    printf("envp follows argv=%d\n", envp == argv + argc + 1);

    /* Locate auxv by walking past the environment block. */
    char **p = argv + argc + 1;
    while (*p)
        p++;
    unsigned long *auxv = (unsigned long *)(p + 1);
    int n_aux = 0, null_term = 0;
    for (unsigned long *a = auxv; n_aux < 256; a += 2, n_aux++) {
        if (a[0] == AT_NULL) {
            null_term = 1;
            break;
        }
    }
    printf("auxv found after envp=%d\n", null_term && n_aux > 0);
    unsigned long stack_pagesz = 0;
    for (unsigned long *a = auxv; null_term && a[0] != AT_NULL; a += 2)
        if (a[0] == AT_PAGESZ)
            stack_pagesz = a[1];
    printf("auxv pagesz via stack=%lu\n", stack_pagesz);

    printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
    printf("AT_PHENT=%lu\n", getauxval(AT_PHENT));
    printf("AT_PHNUM nonzero=%d\n", getauxval(AT_PHNUM) != 0);
    printf("AT_PHDR present=%d\n", getauxval(AT_PHDR) != 0);
    printf("AT_ENTRY present=%d\n", getauxval(AT_ENTRY) != 0);
    printf("AT_RANDOM present=%d\n", getauxval(AT_RANDOM) != 0);
    printf("AT_EXECFN present=%d\n", getauxval(AT_EXECFN) != 0);
    printf("AT_PLATFORM present=%d\n", getauxval(AT_PLATFORM) != 0);

    const char *plat = (const char *)getauxval(AT_PLATFORM);
    printf("AT_PLATFORM=%s\n", plat ? plat : "(null)");
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    printf("AT_EXECFN nonempty=%d\n", execfn != NULL && execfn[0] != '\0');

    printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
    printf("AT_UID matches=%d\n", getauxval(AT_UID) == (unsigned long)getuid());
    printf("AT_EUID matches=%d\n", getauxval(AT_EUID) == (unsigned long)geteuid());
    printf("AT_GID matches=%d\n", getauxval(AT_GID) == (unsigned long)getgid());
    printf("AT_EGID matches=%d\n", getauxval(AT_EGID) == (unsigned long)getegid());
    printf("AT_CLKTCK=%lu\n", getauxval(AT_CLKTCK));

    /* AT_PHDR must point at a program header table of AT_PHNUM entries. */
    const unsigned char *phdr = (const unsigned char *)getauxval(AT_PHDR);
    if (phdr) {
        unsigned long phnum = getauxval(AT_PHNUM);
        int has_load = 0;
        for (unsigned long i = 0; i < phnum; i++) {
            uint32_t type;
            memcpy(&type, phdr + i * 56, sizeof type);
            if (type == 1 /* PT_LOAD */)
                has_load = 1;
        }
        printf("phdr has PT_LOAD=%d\n", has_load);
    }

    fflush(stdout);
    return argc;
}
