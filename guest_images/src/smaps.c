/*
 * smaps: /proc/self/smaps's VmFlags line for mappings of every kind the program
 * makes itself: anonymous private (writable, PROT_NONE, made read-only after a
 * write, made writable later), shared anonymous, MAP_NORESERVE, MAP_GROWSDOWN,
 * madvise(MADV_DONTFORK) and (MADV_WIPEONFORK), a file mapped private and shared
 * read-only, a memfd mapped shared, the heap and the stack. Then the names of the
 * fields of one entry, in order ("fields: ..."), and whether every entry has a
 * VmFlags line.
 *
 * Prints "label: perms VmFlags: ..." per mapping, never an address.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static char smaps[1 << 20];
static size_t smaps_len;

static void read_smaps(void)
{
    int fd = open("/proc/self/smaps", O_RDONLY);
    ssize_t n;
    smaps_len = 0;
    if (fd < 0) {
        printf("open /proc/self/smaps failed\n");
        exit(1);
    }
    while ((n = read(fd, smaps + smaps_len, sizeof smaps - 1 - smaps_len)) > 0)
        smaps_len += n;
    smaps[smaps_len] = 0;
    close(fd);
}

/* The entry whose range holds addr (or whose name is name): its perms and VmFlags. */
static void show(const char *label, void *addr, const char *name)
{
    unsigned long a = (unsigned long)addr;
    char *p = smaps;
    while (p && *p) {
        unsigned long lo, hi;
        char perms[8];
        char *eol = strchr(p, '\n');
        if (sscanf(p, "%lx-%lx %7s", &lo, &hi, perms) == 3) {
            int match = name ? (eol && eol - p >= (long)strlen(name)
                                && strncmp(eol - strlen(name), name, strlen(name)) == 0)
                             : (lo <= a && a < hi);
            if (match) {
                char *flags = strstr(p, "VmFlags:");   /* this entry's: the next one */
                if (flags) {
                    char *end = strchr(flags, '\n');
                    printf("%s: %s %.*s\n", label, perms, (int)(end - flags), flags);
                } else {
                    printf("%s: %s no VmFlags\n", label, perms);
                }
                return;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    printf("%s: not found\n", label);
}

static void fields(void)
{
    /* the lines after the first entry's header, up to its VmFlags line */
    char *p = strchr(smaps, '\n');
    printf("fields:");
    while (p && p[1]) {
        p++;
        char *colon = strchr(p, ':');
        if (!colon)
            break;
        printf(" %.*s", (int)(colon - p), p);
        if (strncmp(p, "VmFlags:", 8) == 0)
            break;
        p = strchr(p, '\n');
    }
    printf("\n");
    /* every entry ends with its VmFlags line: count headers (a '-' before the first
       space) and VmFlags lines */
    int entries = 0, flags = 0;
    for (p = smaps; p && *p;) {
        char *space = strchr(p, ' ');
        char *dash = strchr(p, '-');
        if (strncmp(p, "VmFlags:", 8) == 0)
            flags++;
        else if (dash && space && dash < space && strchr("0123456789abcdef", *p))
            entries++;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    printf("every entry has VmFlags: %s\n", entries > 0 && entries == flags ? "yes" : "no");
}

int main(int argc, char **argv)
{
    (void)argc;
    size_t pg = 4096;
    char *rw = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *none = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *ro = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ro[0] = 1;
    mprotect(ro, pg, PROT_READ);
    char *later = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(later, pg, PROT_READ | PROT_WRITE);
    char *shared = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *noreserve = mmap(NULL, pg, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *down = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
    char *dontfork = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    madvise(dontfork, pg, MADV_DONTFORK);
    char *wipe = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    madvise(wipe, pg, MADV_WIPEONFORK);
    int self = open(argv[0], O_RDONLY);
    char *fpriv = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, self, 0);
    char *fshared = mmap(NULL, pg, PROT_READ, MAP_SHARED, self, 0);
    int mfd = (int)syscall(SYS_memfd_create, "smaps", 0);
    ftruncate(mfd, pg);
    char *memfd = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    char *heap = (char *)syscall(SYS_brk, 0);     /* musl's sbrk cannot grow the heap */
    syscall(SYS_brk, heap + pg);
    heap[0] = 1;
    int on_stack = 0;

    read_smaps();
    show("private rw", rw, NULL);
    show("PROT_NONE", none, NULL);
    show("rw then read-only", ro, NULL);
    show("PROT_NONE then rw", later, NULL);
    show("shared anonymous", shared, NULL);
    show("MAP_NORESERVE", noreserve, NULL);
    show("MAP_GROWSDOWN", down + pg, NULL);
    show("MADV_DONTFORK", dontfork, NULL);
    show("MADV_WIPEONFORK", wipe, NULL);
    show("file private", fpriv, NULL);
    show("file shared read-only", fshared, NULL);
    show("memfd shared", memfd, NULL);
    show("heap", heap, NULL);
    show("stack", &on_stack, NULL);
    fields();
    return 0;
}
