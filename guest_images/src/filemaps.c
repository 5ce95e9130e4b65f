/*
 * filemaps: what /proc/self/maps says of file mappings.
 *
 *   filemaps self    print /proc/self/maps as it is (tests/test_filemaps.py compares
 *                    the program's own segments, as binfmt_elf mapped them, with Linux)
 *   filemaps         map the program's own file (/proc/self/exe) in several ways and
 *                    print the lines of /proc/self/maps that each mapping covers,
 *                    addresses relative to the mapping, never an address:
 *                    a private mapping reaching past the file's end, a page of it
 *                    written (copy on write), that page given back (MADV_DONTNEED:
 *                    the file's bytes again), a page made writable and read-only
 *                    again, a page moved elsewhere by mremap, msync over all of it;
 *                    a shared memfd mapping reprotected in the middle, moved whole.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096L

static char maps[1 << 20];

static size_t read_maps(void)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    size_t len = 0;
    ssize_t n;
    if (fd < 0) {
        printf("open /proc/self/maps failed\n");
        exit(1);
    }
    while ((n = read(fd, maps + len, sizeof maps - 1 - len)) > 0)
        len += n;
    maps[len] = 0;
    close(fd);
    return len;
}

/* The lines of /proc/self/maps overlapping [base, base + size), relative to base:
 * start and end, perms, file offset, whether it has a device and inode, basename. */
static void show(const char *label, char *base, long size)
{
    char *line, *save = NULL;
    read_maps();
    printf("%s:\n", label);
    for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long lo, hi, off, ino;
        unsigned major, minor;
        char perms[8], name[512] = "";
        if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %511s", &lo, &hi, perms, &off,
                   &major, &minor, &ino, name) < 7)
            continue;
        if (hi <= (unsigned long)base || lo >= (unsigned long)base + size)
            continue;
        char *slash = strrchr(name, '/');
        printf("  %+ld..%+ld %s off=%#lx %s %s\n", (long)(lo - (unsigned long)base),
               (long)(hi - (unsigned long)base), perms, off,
               (major || minor) && ino ? "file" : "nofile", slash ? slash + 1 : name);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "self") == 0) {
        size_t len = read_maps();
        fwrite(maps, 1, len, stdout);
        return 0;
    }
    int fd = open("/proc/self/exe", O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        printf("open /proc/self/exe failed\n");
        return 1;
    }
    /* three pages of the file (the last one partial), one page past its end */
    long last = (st.st_size - 1) / PAGE * PAGE;
    long off = last - 2 * PAGE;
    char *m = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, off);
    if (m == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    show("private, past the end", m, 4 * PAGE);
    printf("msync: %d\n", msync(m, 4 * PAGE, MS_SYNC));

    char *w = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    char first = w[PAGE];
    w[PAGE] = first + 1;
    show("written", w, 3 * PAGE);
    printf("madvise DONTNEED: %d\n", madvise(w + PAGE, PAGE, MADV_DONTNEED));
    printf("file's byte again: %d\n", w[PAGE] == first);
    show("given back", w, 3 * PAGE);

    char *p = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("mprotect rw: %d\n", mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE));
    printf("mprotect r: %d\n", mprotect(p + PAGE, PAGE, PROT_READ));
    show("made writable and read-only again", p, 3 * PAGE);

    char *q = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
    char *to = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *moved = mremap(q + PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    printf("mremap: %s\n", moved == to ? "moved" : "failed");
    show("left behind", q, 3 * PAGE);
    show("moved", moved, PAGE);
    char *grown = mremap(moved, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
    show("moved and grown", grown, 2 * PAGE);

    int mfd = memfd_create("filemaps", 0);
    if (mfd < 0 || ftruncate(mfd, 3 * PAGE) < 0) {
        printf("memfd failed\n");
        return 1;
    }
    char *s = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, mfd, 0);
    printf("mprotect shared rw: %d\n", mprotect(s + PAGE, PAGE, PROT_READ | PROT_WRITE));
    s[PAGE] = 7;
    printf("mprotect shared r: %d\n", mprotect(s + PAGE, PAGE, PROT_READ));
    show("shared, made writable and read-only again", s, 3 * PAGE);
    char *s2 = mremap(s, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    printf("mremap of all of it: %s, byte %d\n", s2 == to ? "moved" : "failed",
           s2 == to ? s2[PAGE] : -1);
    show("shared, moved", s2, 3 * PAGE);
    return 0;
}
