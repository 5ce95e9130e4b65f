/* madvise's fork advice: MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK.
 * After each advice the program forks and the child reads the pages: a page left out
 * of the child faults (the child catches SIGSEGV and says so), a wiped page reads
 * zero there and keeps its data in the parent. Also the errors (EINVAL, ENOMEM) and
 * the advice kept through mprotect's split, mremap and a second fork. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static sigjmp_buf env;

static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(env, 1);
}

/* "who: page i: X" for each page's first byte, or "SIGSEGV" */
static void show(const char *who, char *p, int pages)
{
    for (volatile int i = 0; i < pages; i++) {
        if (sigsetjmp(env, 1)) {
            printf("%s: page %d: SIGSEGV\n", who, i);
            continue;
        }
        volatile char c = p[i * PG];
        printf("%s: page %d: %s\n", who, i, c ? (char[]){c, 0} : "zero");
    }
    fflush(stdout);
}

/* fork; the child shows the pages (and, deep, forks once more and its child shows
 * them too); the parent waits, then shows them */
static void fork_and_show(const char *what, char *p, int pages, int deep)
{
    printf("-- %s\n", what);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        show("child", p, pages);
        if (deep) {
            if (sigsetjmp(env, 1) == 0)
                memset(p, 'C', PG);
            pid_t g = fork();
            if (g == 0) {
                show("grandchild", p, pages);
                _exit(0);
            }
            waitpid(g, NULL, 0);
        }
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    show("parent", p, pages);
}

static char *fresh(int pages, char fill)
{
    char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < pages; i++)
        memset(p + i * PG, fill + i, PG);
    return p;
}

static void try(const char *what, void *p, size_t len, int advice)
{
    int r = madvise(p, len, advice);
    printf("madvise %s = %d %s\n", what, r,
           r == 0 ? "" : errno == EINVAL ? "EINVAL" : errno == ENOMEM ? "ENOMEM" : "other");
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);

    char *p = fresh(3, 'A');
    try("DONTFORK middle", p + PG, PG, MADV_DONTFORK);
    fork_and_show("DONTFORK on page 1 of 3", p, 3, 0);
    try("DOFORK middle", p + PG, PG, MADV_DOFORK);
    fork_and_show("DOFORK undoes it", p, 3, 0);

    try("WIPEONFORK first two", p, 2 * PG, MADV_WIPEONFORK);
    fork_and_show("WIPEONFORK on pages 0-1 (and the child's child)", p, 3, 1);
    try("KEEPONFORK", p, 3 * PG, MADV_KEEPONFORK);
    fork_and_show("KEEPONFORK undoes it", p, 3, 0);

    char *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    try("WIPEONFORK shared anonymous", s, PG, MADV_WIPEONFORK);
    try("DONTFORK shared anonymous", s, PG, MADV_DONTFORK);
    s[0] = 'S';
    fork_and_show("DONTFORK on shared memory", s, 1, 0);
    int fd = memfd_create("madvfork", 0);
    if (fd >= 0 && ftruncate(fd, PG) == 0) {
        char *f = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        try("WIPEONFORK private file", f, PG, MADV_WIPEONFORK);
    }

    /* a hole: the mapped pages take the advice, then ENOMEM */
    char *h = fresh(3, 'H');
    munmap(h + PG, PG);
    try("DONTFORK over a hole", h, 3 * PG, MADV_DONTFORK);
    fork_and_show("DONTFORK around a hole", h, 1, 0);
    try("WIPEONFORK unaligned", h + 1, PG, MADV_WIPEONFORK);

    /* the advice stays with the pages through mprotect's split and mremap */
    char *m = fresh(2, 'M');
    try("WIPEONFORK both", m, 2 * PG, MADV_WIPEONFORK);
    mprotect(m, PG, PROT_READ);
    fork_and_show("WIPEONFORK, then page 0 made read-only", m, 2, 0);
    char *d = fresh(2, 'D');
    try("DONTFORK both", d, 2 * PG, MADV_DONTFORK);
    char *moved = mremap(d, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
    fork_and_show("DONTFORK, then mremap grown and moved", moved, 2, 0);
    printf("done\n");
    return 0;
}
