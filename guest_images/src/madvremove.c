/*
 * madvremove: madvise(MADV_REMOVE), which punches a hole in the file behind a shared
 * writable mapping: shared anonymous memory (read-only too: it may be written), a
 * memfd mapped twice (the hole reads as zeros through the other mapping and
 * through pread, the size stays), a SysV segment; EINVAL for private anonymous
 * memory, EACCES for a private file mapping and for a shared mapping of a file
 * opened read-only, ENOMEM for a range with a hole, a walk stopped by the first
 * mapping that refuses (what came before it is punched).
 *
 * Prints each result and what the pages read afterwards; never an address.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

#define PG 4096

static void result(const char *what, long r)
{
    if (r < 0)
        printf("%s: %s\n", what, errno_name(-r) ? errno_name(-r) : "?");
    else
        printf("%s: %ld\n", what, r);
}

static long remove_range(void *addr, size_t len)
{
    return raw_syscall3(SYS_madvise, addr, len, MADV_REMOVE);
}

/* The first byte of each page of [p, p + pages * PG), as characters (0 as '.'). */
static void pages(const char *what, const char *p, int n)
{
    printf("%s: ", what);
    for (int i = 0; i < n; i++)
        putchar(p[i * PG] ? p[i * PG] : '.');
    putchar('\n');
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);

    char *priv = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(priv, 'p', 2 * PG);
    result("private anonymous", remove_range(priv, PG));
    pages("private anonymous after", priv, 2);

    char *shared = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(shared, 's', 3 * PG);
    result("shared anonymous, middle page", remove_range(shared + PG, PG));
    pages("shared anonymous after", shared, 3);
    shared[PG] = 'S';
    pages("written again", shared, 3);

    char *shared_ro = mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    result("shared anonymous read-only", remove_range(shared_ro, PG));

    int fd = (int)syscall(SYS_memfd_create, "madvremove", 0);
    ftruncate(fd, 4 * PG);
    char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
    memset(a, 'm', 4 * PG);
    result("memfd, pages 1-2", remove_range(a + PG, 2 * PG));
    pages("memfd through the mapping", a, 4);
    pages("memfd through another mapping", b, 4);
    char c = 'x';
    pread(fd, &c, 1, 2 * PG);
    struct stat st;
    fstat(fd, &st);
    printf("memfd pread at page 2: %s, size %ld pages\n", c ? "data" : "zero",
           (long)(st.st_size / PG));
    result("memfd, read-only mapping of a writable file", remove_range(b + 3 * PG, PG));
    pages("memfd after", a, 4);

    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int rd = open(path, O_RDONLY);
    char *ro = rd >= 0 ? mmap(NULL, PG, PROT_READ, MAP_SHARED, rd, 0) : MAP_FAILED;
    if (ro != MAP_FAILED)
        result("shared mapping of a file opened read-only", remove_range(ro, PG));
    else
        printf("reopen read-only: failed\n");
    char *fpriv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    result("private file mapping", remove_range(fpriv, PG));

    int id = shmget(IPC_PRIVATE, 2 * PG, IPC_CREAT | 0600);
    char *seg = id >= 0 ? shmat(id, NULL, 0) : (char *)-1;
    if (seg != (char *)-1) {
        memset(seg, 'v', 2 * PG);
        result("SysV segment, first page", remove_range(seg, PG));
        pages("SysV segment after", seg, 2);
        shmdt(seg);
        shmctl(id, IPC_RMID, NULL);
    }

    /* a hole in the range: what is mapped is punched, then ENOMEM */
    char *span = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(span, 'h', 3 * PG);
    munmap(span + 2 * PG, PG);
    result("range with a hole", remove_range(span, 3 * PG));
    pages("before the hole", span, 2);

    /* shared then private: the walk stops at the private mapping */
    char *two = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(two, 't', 2 * PG);
    char *after = mmap(two + 2 * PG, PG, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (after == two + 2 * PG) {
        after[0] = 'q';
        result("shared then private", remove_range(two, 3 * PG));
        pages("shared then private after", two, 3);
    }

    result("unaligned", remove_range(shared + 1, PG));
    result("length 0", remove_range(shared, 0));
    return 0;
}
