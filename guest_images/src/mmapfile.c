/*
 * mmapfile: file-backed memory mappings - MAP_PRIVATE copy-on-write,
 * MAP_SHARED write-back and coherence with read()/write(), msync, munmap,
 * madvise(MADV_DONTNEED), mremap, mprotect, access-mode errors (EACCES),
 * unmappable files (ENODEV), offsets, the zero-filled tail of the last page,
 * /dev/zero and memfd mappings, and /proc/self/maps naming the file.
 *
 * Usage: mmapfile SCRATCH_DIR           main checks (SCRATCH_DIR/mmapfile)
 *        mmapfile SCRATCH_DIR sigbus    only the SIGBUS checks (touching
 *                                       pages wholly beyond EOF), in
 *                                       SCRATCH_DIR/mmapfile-sigbus; needs
 *                                       signal delivery to a handler
 * Raw syscalls for every call under test; never prints an address.
 */
#include <setjmp.h>
#include <signal.h>

#include "fsguest.h"

#define PG 4096L
#define FSIZE 10000L

static char buf[3 * 4096];

static long k_mmap(long addr, long len, long prot, long flags, long fd, long off)
{
    return raw_syscall6(NR_mmap, addr, len, prot, flags, fd, off);
}

static char pat(long i) { return (char)('a' + i % 26); }

static int matches(const char *p, long from, long n)
{
    for (long i = 0; i < n; i++)
        if (p[i] != pat(from + i))
            return 0;
    return 1;
}

static int all_zero(const char *p, long n)
{
    for (long i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void make_file(const char *name, long size)
{
    static char data[FSIZE];
    for (long i = 0; i < size; i++)
        data[i] = pat(i);
    put_file(name, data, size);
}

static char file_byte(const char *name, long off)
{
    char c = '?';
    long fd = k_open(name, K_O_RDONLY, 0);
    if (k_pread(fd, &c, 1, off) != 1)
        c = '!';
    k_close(fd);
    return c;
}

/* mmap and report "what: ok" or "what: -EXXX"; returns the mapping or NULL.
 * Every later use of the mapping is guarded, so a failed map never crashes
 * the program and the remaining lines still get printed. */
static char *map(const char *what, long len, long prot, long flags, long fd, long off)
{
    long r = k_mmap(0, len, prot, flags, fd, off);
    if (what && is_err(r))
        show(what, r);
    else if (what)
        printf("%s: ok\n", what);
    return is_err(r) ? NULL : (char *)r;
}

/* For mappings that must fail: the errno, or "ok" (then unmapped). */
static void map_err(const char *what, long len, long prot, long flags, long fd, long off)
{
    long r = k_mmap(0, len, prot, flags, fd, off);
    if (is_err(r)) {
        show(what, r);
    } else {
        printf("%s: ok\n", what);
        raw_syscall2(NR_munmap, r, len ? len : PG);
    }
}

static void unmap(char *p, long len)
{
    if (p)
        raw_syscall2(NR_munmap, p, len);
}

static void test_private(void)
{
    long fd = k_open("mm", K_O_RDONLY, 0);
    char *p = map("mmap PROT_READ MAP_PRIVATE 3 pages", 3 * PG, K_PROT_READ, K_MAP_PRIVATE, fd, 0);
    if (p) {
        printf("contents match file: %d\n", matches(p, 0, FSIZE));
        printf("tail of last page (beyond EOF) is zero: %d\n", all_zero(p + FSIZE, 3 * PG - FSIZE));
        show("munmap", raw_syscall2(NR_munmap, p, 3 * PG));
    }

    /* writable private mapping of a read-only descriptor */
    p = map("mmap RW MAP_PRIVATE of O_RDONLY fd", 3 * PG, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE, fd, 0);
    char *s = map("mmap PROT_READ MAP_SHARED of O_RDONLY fd", PG, K_PROT_READ, K_MAP_SHARED, fd, 0);
    if (p && s) {
        p[0] = 'X';
        p[5000] = 'Y';
        printf("private write visible in mapping: %d\n", p[0] == 'X' && p[5000] == 'Y');
        printf("private write not in file: %d\n", file_byte("mm", 0) == pat(0));
        printf("private write not in shared mapping: %d\n", s[0] == pat(0));
        show("msync private", raw_syscall3(NR_msync, p, 3 * PG, K_MS_SYNC));
        printf("file still unchanged after msync: %d\n", file_byte("mm", 0) == pat(0));
        show("madvise DONTNEED page 0", raw_syscall3(NR_madvise, p, PG, K_MADV_DONTNEED));
        printf("private page 0 re-read from file: %d\n", p[0] == pat(0));
        printf("private page 1 keeps its copy: %d\n", p[5000] == 'Y');
        show("mprotect private RW->R", raw_syscall3(NR_mprotect, p, PG, K_PROT_READ));
        show("mprotect private R->RW",
             raw_syscall3(NR_mprotect, p, PG, K_PROT_READ | K_PROT_WRITE));
        show("mprotect shared-of-O_RDONLY R->RW",
             raw_syscall3(NR_mprotect, s, PG, K_PROT_READ | K_PROT_WRITE));
    }
    unmap(p, 3 * PG);
    unmap(s, PG);

    /* offsets */
    p = map("mmap offset 4096", PG, K_PROT_READ, K_MAP_PRIVATE, fd, PG);
    if (p)
        printf("offset mapping starts at file byte 4096: %d\n", matches(p, PG, PG));
    unmap(p, PG);
    p = map("mmap offset 8192 (partial last page)", PG, K_PROT_READ, K_MAP_PRIVATE, fd, 2 * PG);
    if (p)
        printf("contents %d, zero tail %d\n", matches(p, 2 * PG, FSIZE - 2 * PG),
               all_zero(p + FSIZE - 2 * PG, 3 * PG - FSIZE));
    unmap(p, PG);
    map_err("mmap offset 100 (unaligned)", PG, K_PROT_READ, K_MAP_PRIVATE, fd, 100);
    map_err("mmap length 0", 0, K_PROT_READ, K_MAP_PRIVATE, fd, 0);
    map_err("mmap negative offset", PG, K_PROT_READ, K_MAP_PRIVATE, fd, -PG);
    map_err("mmap bad fd", PG, K_PROT_READ, K_MAP_PRIVATE, 999, 0);
    map_err("mmap no MAP_SHARED/PRIVATE", PG, K_PROT_READ, 0, fd, 0);
    unmap(map("mmap 8 pages of a 3-page file (allowed)", 8 * PG, K_PROT_READ, K_MAP_PRIVATE, fd, 0), 8 * PG);
    unmap(map("mmap wholly beyond EOF (allowed)", PG, K_PROT_READ, K_MAP_PRIVATE, fd, 100 * PG), PG);

    /* mremap grows a file mapping: new pages come from the file */
    p = map(NULL, PG, K_PROT_READ, K_MAP_PRIVATE, fd, 0);
    if (p) {
        long m2 = raw_syscall5(25 /* mremap */, p, PG, 2 * PG, 1 /* MREMAP_MAYMOVE */, 0);
        if (is_err(m2))
            show("mremap file mapping 1->2 pages", m2);
        else
            printf("mremap file mapping 1->2 pages: ok\n");
        if (!is_err(m2)) {
            printf("grown mapping page 1 is file page 1: %d\n", matches((char *)m2 + PG, PG, PG));
            raw_syscall2(NR_munmap, m2, 2 * PG);
        } else {
            unmap(p, PG);
        }
    }

    /* mapping outlives its descriptor */
    p = map(NULL, PG, K_PROT_READ, K_MAP_PRIVATE, fd, 0);
    k_close(fd);
    if (p)
        printf("mapping readable after close(fd): %d\n", matches(p, 0, 100));
    unmap(p, PG);
}

static void test_shared(void)
{
    long fd = k_open("mm", K_O_RDWR, 0);
    char *p = map("mmap RW MAP_SHARED", 3 * PG, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    if (p) {
        p[100] = 'S';
        printf("read() sees shared store before msync: %d\n", file_byte("mm", 100) == 'S');
        show("msync MS_SYNC", raw_syscall3(NR_msync, p, 3 * PG, K_MS_SYNC));
        printf("read() sees shared store after msync: %d\n", file_byte("mm", 100) == 'S');
        p[101] = 'A';
        show("msync MS_ASYNC", raw_syscall3(NR_msync, p, PG, K_MS_ASYNC));
        show("msync MS_INVALIDATE", raw_syscall3(NR_msync, p, PG, K_MS_INVALIDATE));
        printf("read() sees second store: %d\n", file_byte("mm", 101) == 'A');
        show("msync MS_SYNC|MS_ASYNC", raw_syscall3(NR_msync, p, PG, K_MS_SYNC | K_MS_ASYNC));
        show("msync unaligned", raw_syscall3(NR_msync, p + 1, PG, K_MS_SYNC));
        show("msync bad flags", raw_syscall3(NR_msync, p, PG, 0x100));
        show("pwrite via fd", raw_syscall4(NR_pwrite64, fd, "W", 1, 200));
        printf("mapping sees write(): %d\n", p[200] == 'W');
        p[5000] = 'T';
        p[9999] = 'E';
        show("munmap without msync", raw_syscall2(NR_munmap, p, 3 * PG));
        printf("read() sees stores after munmap: %d\n",
               file_byte("mm", 5000) == 'T' && file_byte("mm", 9999) == 'E');
        struct kstat st;
        k_fstat(fd, &st);
        printf("file size unchanged by mapping: %ld\n", st.size);
        show("msync on unmapped range", raw_syscall3(NR_msync, p, PG, K_MS_SYNC));
    }

    /* two shared mappings of the same page see each other */
    char *a = map("mmap shared RW view", PG, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    char *b = map("mmap shared R view", PG, K_PROT_READ, K_MAP_SHARED, fd, 0);
    if (a && b) {
        a[7] = 'Q';
        printf("second shared mapping sees store: %d\n", b[7] == 'Q');
    }
    unmap(a, PG);
    unmap(b, PG);

    /* shared mapping beyond EOF becomes valid once the file grows */
    p = map("mmap 4 pages of 3-page file", 4 * PG, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    show("ftruncate to 16384", raw_syscall2(NR_ftruncate, fd, 4 * PG));
    if (p) {
        printf("page 3 readable and zero after grow: %d\n", all_zero(p + 3 * PG, PG));
        printf("old tail 10000..12287 zero after grow: %d\n", all_zero(p + FSIZE, 3 * PG - FSIZE));
        p[3 * PG + 1] = 'G';
        printf("read() sees store into grown page: %d\n", file_byte("mm", 3 * PG + 1) == 'G');
    }
    show("ftruncate back to 10000", raw_syscall2(NR_ftruncate, fd, FSIZE));
    unmap(p, 4 * PG);
    k_close(fd);

    /* the mapping keeps the file alive after close and unlink */
    make_file("mm2", FSIZE);
    fd = k_open("mm2", K_O_RDWR, 0);
    p = map("mmap mm2 shared", PG, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    k_close(fd);
    raw_syscall1(NR_unlink, "mm2");
    if (p) {
        p[0] = 'U';
        printf("shared mapping usable after close+unlink: %d\n",
               p[0] == 'U' && matches(p + 1, 1, 100));
    }
    unmap(p, PG);
}

static void test_errors(void)
{
    long fd = k_open("mm", K_O_RDONLY, 0);
    map_err("MAP_SHARED PROT_WRITE on O_RDONLY fd",
            PG, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    map_err("MAP_SHARED PROT_WRITE only on O_RDONLY fd", PG, K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    k_close(fd);
    fd = k_open("mm", K_O_WRONLY, 0);
    map_err("MAP_SHARED PROT_READ on O_WRONLY fd", PG, K_PROT_READ, K_MAP_SHARED, fd, 0);
    map_err("MAP_PRIVATE PROT_READ on O_WRONLY fd", PG, K_PROT_READ, K_MAP_PRIVATE, fd, 0);
    map_err("MAP_SHARED PROT_WRITE on O_WRONLY fd", PG, K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    k_close(fd);
    fd = k_open("mm", K_O_RDWR | K_O_APPEND, 0);
    /* (EACCES is only for append-only inodes, chattr +a, not for O_APPEND) */
    map_err("MAP_SHARED PROT_WRITE on O_APPEND fd (allowed)",
            PG, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    map_err("MAP_SHARED PROT_READ on O_APPEND fd", PG, K_PROT_READ, K_MAP_SHARED, fd, 0);
    k_close(fd);
    fd = k_open("mm", K_O_PATH, 0);
    map_err("mmap O_PATH fd", PG, K_PROT_READ, K_MAP_PRIVATE, fd, 0);
    k_close(fd);
    raw_syscall2(NR_mkdir, "dir", 0755);
    fd = k_open("dir", K_O_RDONLY | K_O_DIRECTORY, 0);
    map_err("mmap directory fd", PG, K_PROT_READ, K_MAP_PRIVATE, fd, 0);
    k_close(fd);
    int p[2];
    raw_syscall2(NR_pipe2, p, 0);
    map_err("mmap pipe", PG, K_PROT_READ, K_MAP_PRIVATE, p[0], 0);
    k_close(p[0]);
    k_close(p[1]);
    put_file("empty", "", 0);
    fd = k_open("empty", K_O_RDWR, 0);
    map_err("mmap empty file (allowed)", PG, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    k_close(fd);
}

static void test_special(void)
{
    long fd = k_open("/dev/zero", K_O_RDWR, 0);
    char *p = map("mmap /dev/zero MAP_PRIVATE", 2 * PG, K_PROT_READ | K_PROT_WRITE, K_MAP_PRIVATE, fd, 0);
    if (p) {
        printf("/dev/zero mapping zero: %d\n", all_zero(p, 2 * PG));
        p[10] = 1;
        printf("/dev/zero mapping writable: %d\n", p[10] == 1);
    }
    unmap(p, 2 * PG);
    p = map("mmap /dev/zero MAP_SHARED", PG, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    if (p)
        printf("/dev/zero shared mapping zero: %d\n", all_zero(p, PG));
    unmap(p, PG);
    k_close(fd);

    fd = raw_syscall2(NR_memfd_create, "mmapfile", 0);
    raw_syscall2(NR_ftruncate, fd, 2 * PG);
    p = map("mmap memfd MAP_SHARED", 2 * PG, K_PROT_READ | K_PROT_WRITE, K_MAP_SHARED, fd, 0);
    if (p) {
        memcpy(p + PG, "via map", 7);
        long n = k_pread(fd, buf, 7, PG);
        print_bytes("memfd read() after map store", buf, n < 0 ? 0 : n);
        raw_syscall4(NR_pwrite64, fd, "via fd", 6, 0);
        printf("memfd mapping sees write(): %d\n", memcmp(p, "via fd", 6) == 0);
    }
    unmap(p, 2 * PG);
    k_close(fd);

    /* /proc/self/maps names the mapped file */
    fd = k_open("mm", K_O_RDONLY, 0);
    p = map(NULL, PG, K_PROT_READ, K_MAP_SHARED, fd, PG);
    k_close(fd);
    static char maps[65536];
    long len = get_file("/proc/self/maps", maps, sizeof maps);
    int found = 0;
    for (char *line = maps; p && len > 0 && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        unsigned long lo, hi, off;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx", &lo, &hi, perms, &off) == 4 && lo == (unsigned long)p) {
            long l = strlen(line);
            found = 1;
            printf("maps line for file mapping: perms=%s offset=%lx size=%lu names file=%d\n",
                   perms,
                   off, hi - lo, l >= 12 && strcmp(line + l - 12, "/mmapfile/mm") == 0);
        }
        line = nl ? nl + 1 : 0;
    }
    if (!found)
        printf("maps line for file mapping: not found (%s)\n", len < 0 ? fs_ret(len) : "absent");
    unmap(p, PG);
}

/* ---- SIGBUS mode ------------------------------------------------------ */
static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile void *got_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(jb, 1);
}

static void touch(const char *what, volatile char *addr)
{
    got_sig = 0;
    got_code = 0;
    got_addr = 0;
    if (sigsetjmp(jb, 1) == 0) {
        char c = *addr;
        (void)c;
        printf("%s: no signal\n", what);
    } else {
        printf("%s: signal=%s si_code=%d si_addr matches=%d\n", what,
               got_sig == SIGBUS ? "SIGBUS" : got_sig == SIGSEGV ? "SIGSEGV" : "other", got_code,
               got_addr == (void *)addr);
    }
}

static void sigbus_mode(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, 0);
    sigaction(SIGSEGV, &sa, 0);

    make_file("mm", FSIZE);
    long fd = k_open("mm", K_O_RDWR, 0);
    char *p = map("mmap 4 pages of a 10000-byte file", 4 * PG, K_PROT_READ, K_MAP_SHARED, fd, 0);
    if (p) {
        touch("read in last partial page (offset 10000)", p + FSIZE);
        touch("read in page wholly beyond EOF", p + 3 * PG + 5);
        show("ftruncate to 100", raw_syscall2(NR_ftruncate, fd, 100));
        touch("read page 1 after shrink", p + PG);
        touch("read page 0 after shrink", p + 50);
    }
    unmap(p, 4 * PG);
    k_close(fd);

    put_file("empty", "", 0);
    fd = k_open("empty", K_O_RDONLY, 0);
    p = map("mmap empty file", PG, K_PROT_READ, K_MAP_PRIVATE, fd, 0);
    if (p)
        touch("read mapping of empty file", p);
    unmap(p, PG);
    k_close(fd);
    p = map(NULL, PG, K_PROT_READ, K_MAP_PRIVATE | K_MAP_ANONYMOUS, -1, 0);
    if (p) {
        raw_syscall2(NR_munmap, p, PG);
        touch("read unmapped page", p);
    }
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[2], "sigbus") == 0) {
        fs_setup(argc, argv, "mmapfile-sigbus");
        sigbus_mode();
        printf("mmapfile sigbus done\n");
        return 0;
    }
    fs_setup(argc, argv, "mmapfile");
    make_file("mm", FSIZE);
    test_private();
    test_shared();
    test_errors();
    test_special();
    printf("mmapfile done\n");
    return 0;
}
