/*
 * partial: transfers whose user buffer faults part way.  Linux checks user
 * memory while it copies, so read/write and their positioned and vectored
 * variants, sendfile, copy_file_range and getdents64 return what was done
 * before the first bad page (EFAULT only when nothing was), a read at end of
 * file never touches the buffer, and a pipe keeps whole pages only.
 *
 * Usage: partial SCRATCH_DIR   (works only inside SCRATCH_DIR/partial).
 * Memory: page A read-write, page B PROT_NONE, page C unmapped, page R
 * read-only; "edge" is the last 100 bytes of A.  One line per check; file
 * offsets and sizes are printed after each transfer.
 */
#include "fsguest.h"

#define PAGE 4096L
#define K_PROT_NONE 0
#define K_MAP_FIXED_NOREPLACE 0x100000
#define LOW_ADDR 0x200000000L        /* a fixed page for the huge-count writes */
#define HUGE_COUNT 0x20000000c300L

static char *area, *edge, *bad, *ro;

static long k_mmap(void *addr, long len, long prot, long flags, long fd, long off)
{
    return raw6(NR_mmap, addr, len, prot, flags, fd, off);
}

static long offset_of(long fd) { return k_lseek(fd, 0, K_SEEK_CUR); }

static long size_of(long fd)
{
    struct kstat st;
    long r = k_fstat(fd, &st);
    return r ? r : st.size;
}

static long fionread(long fd)
{
    int n = -1;
    long r = raw_syscall3(NR_ioctl, fd, K_FIONREAD, &n);
    return r ? r : n;
}

/* "what: result (offset N)" */
static void show_at(const char *what, long r, long fd)
{
    printf("%s: %s (offset %ld)\n", what, fs_ret(r), offset_of(fd));
}

static void show_size(const char *what, long r, long fd)
{
    printf("%s: %s (size %ld)\n", what, fs_ret(r), size_of(fd));
}

static void show_pipe(const char *what, long r, long fd)
{
    printf("%s: %s (queued %ld)\n", what, fs_ret(r), fionread(fd));
}

static long vec2(long nr, long fd, void *b0, long l0, void *b1, long l1, long off,
                 long flags)
{
    struct kiovec iov[2] = {{b0, l0}, {b1, l1}};
    return raw6(nr, fd, iov, 2, off, 0, flags);
}

static void reads(void)
{
    static char data[8192];
    for (long i = 0; i < (long)sizeof data; i++)
        data[i] = 'a' + i % 26;
    put_file("src", data, sizeof data);
    long fd = k_open("src", K_O_RDONLY, 0);

    memset(area, '.', PAGE);
    show_at("read 300 into edge", k_read(fd, edge, 300), fd);
    printf("edge holds: %.10s\n", edge);
    show_at("read 10 into PROT_NONE", k_read(fd, bad, 10), fd);
    show_at("read 10 into unmapped", k_read(fd, area + 2 * PAGE, 10), fd);
    show_at("read 10 into read-only", k_read(fd, ro, 10), fd);
    show_at("read 0 into PROT_NONE", k_read(fd, bad, 0), fd);
    show_at("pread 300 at 1000 into edge", k_pread(fd, edge, 300, 1000), fd);
    printf("edge holds: %.10s\n", edge);
    show_at("pread 10 at 8192 (eof) into PROT_NONE", k_pread(fd, bad, 10, 8192), fd);
    show_at("pread 10 at 9000 into PROT_NONE", k_pread(fd, bad, 10, 9000), fd);
    show_at("pread 10 at 8190 into PROT_NONE", k_pread(fd, bad, 10, 8190), fd);
    show_at("readv good 50 + bad 10", vec2(NR_readv, fd, area, 50, bad, 10, 0, 0), fd);
    show_at("readv bad 10 + good 50", vec2(NR_readv, fd, bad, 10, area, 50, 0, 0), fd);
    show_at("readv good 0 + edge 300", vec2(NR_readv, fd, area, 0, edge, 300, 0, 0), fd);
    show_at("preadv at 10 good 50 + bad 10",
            vec2(NR_preadv, fd, area, 50, bad, 10, 10, 0), fd);
    show_at("preadv2 at -1 good 50 + bad 10",
            vec2(NR_preadv2, fd, area, 50, bad, 10, -1, 0), fd);
    show_at("preadv2 at 20 bad 10 + good 50",
            vec2(NR_preadv2, fd, bad, 10, area, 50, 20, 0), fd);
    k_lseek(fd, 0, K_SEEK_END);
    show_at("read 10 at eof into PROT_NONE", k_read(fd, bad, 10), fd);
    show_at("read 10 at eof into unmapped", k_read(fd, area + 2 * PAGE, 10), fd);
    show_at("readv at eof into bad", vec2(NR_readv, fd, bad, 10, bad, 10, 0, 0), fd);
    k_lseek(fd, 8100, K_SEEK_SET);
    show_at("read 300 at 8100 into edge", k_read(fd, edge, 300), fd);
    k_close(fd);

    fd = k_open("/dev/zero", K_O_RDONLY, 0);
    show("read /dev/zero 300 into edge", k_read(fd, edge, 300));
    show("read /dev/zero 10 into PROT_NONE", k_read(fd, bad, 10));
    k_close(fd);
    fd = k_open("/dev/null", K_O_RDONLY, 0);
    show("read /dev/null 10 into PROT_NONE", k_read(fd, bad, 10));
    k_close(fd);
}

static void writes(void)
{
    memset(area, 'w', PAGE);
    long fd = k_open("dst", K_O_RDWR | K_O_CREAT | K_O_TRUNC, 0644);
    show_size("write 300 from edge", k_write(fd, edge, 300), fd);
    show_size("write 10 from PROT_NONE", k_write(fd, bad, 10), fd);
    show_size("write 10 from unmapped", k_write(fd, area + 2 * PAGE, 10), fd);
    show_size("write 10 from read-only", k_write(fd, ro, 10), fd);
    show_size("write 0 from PROT_NONE", k_write(fd, bad, 0), fd);
    show_size("writev good 5 + bad 10", vec2(NR_writev, fd, area, 5, bad, 10, 0, 0), fd);
    show_size("writev bad 10 + good 5", vec2(NR_writev, fd, bad, 10, area, 5, 0, 0), fd);
    show_size("writev good 5 + edge 300",
              vec2(NR_writev, fd, area, 5, edge, 300, 0, 0), fd);
    show_size("pwrite 300 at 1000 from edge",
              raw_syscall4(NR_pwrite64, fd, edge, 300, 1000), fd);
    show_size("pwrite 10 at 500 from PROT_NONE",
              raw_syscall4(NR_pwrite64, fd, bad, 10, 500), fd);
    show_size("pwritev at 3000 good 5 + bad 10",
              vec2(NR_pwritev, fd, area, 5, bad, 10, 3000, 0), fd);
    show_size("pwritev2 at -1 good 5 + bad 10",
              vec2(NR_pwritev2, fd, area, 5, bad, 10, -1, 0), fd);
    show_size("write 5000 from A (4096 good)", k_write(fd, area, 5000), fd);
    printf("offset after writes: %ld\n", offset_of(fd));

    /* a count far beyond memory: the good page is written, nothing else */
    long low = k_mmap((void *)LOW_ADDR, PAGE, K_PROT_READ | K_PROT_WRITE,
                      K_MAP_PRIVATE | K_MAP_ANONYMOUS | K_MAP_FIXED_NOREPLACE, -1, 0);
    if (low == LOW_ADDR) {
        show_size("write huge count from one good page",
                  k_write(fd, (void *)LOW_ADDR, HUGE_COUNT), fd);
        show_size("write huge count from unmapped",
                  k_write(fd, (void *)(LOW_ADDR + PAGE), HUGE_COUNT), fd);
        show_size("pwrite huge count from one good page",
                  raw_syscall4(NR_pwrite64, fd, LOW_ADDR, HUGE_COUNT, 0), fd);
        raw_syscall2(NR_munmap, LOW_ADDR, PAGE);
    } else {
        printf("mmap low page: %s\n", fs_ret(low));
    }
    k_close(fd);
}

static void pipes(void)
{
    int p[2];
    raw_syscall2(NR_pipe2, p, K_O_NONBLOCK);
    memset(area, 'p', PAGE);
    show_pipe("pipe write 300 from edge", k_write(p[1], edge, 300), p[0]);
    show_pipe("pipe writev good 5 + bad 10",
              vec2(NR_writev, p[1], area, 5, bad, 10, 0, 0), p[0]);
    show_pipe("pipe write 5000 from A (4096 good)", k_write(p[1], area, 5000), p[0]);
    show_pipe("pipe read 10 into PROT_NONE", k_read(p[0], bad, 10), p[0]);
    show_pipe("pipe read 300 into edge", k_read(p[0], edge, 300), p[0]);
    show_pipe("pipe read 5000 into A (4096 good)", k_read(p[0], area, 5000), p[0]);
    show_pipe("pipe write 200", k_write(p[1], area, 200), p[0]);
    show_pipe("pipe read 300 into edge", k_read(p[0], edge, 300), p[0]);
    show_pipe("pipe read 300", k_read(p[0], area, 300), p[0]);
    show_pipe("pipe read empty into PROT_NONE", k_read(p[0], bad, 10), p[0]);
    show("pwrite on pipe from PROT_NONE", raw_syscall4(NR_pwrite64, p[1], bad, 10, 0));
    show("pread on pipe write end", k_pread(p[1], area, 10, 0));
    show("pwrite negative offset on pipe", raw_syscall4(NR_pwrite64, p[1], area, 10, -1));
    show("pwrite negative offset on bad fd", raw_syscall4(NR_pwrite64, 999, area, 10, -1));
    show("pwrite on bad fd", raw_syscall4(NR_pwrite64, 999, area, 10, 0));
    show("pipe write 0 from PROT_NONE", k_write(p[1], bad, 0));
    k_close(p[1]);
    show_pipe("pipe read at eof into PROT_NONE", k_read(p[0], bad, 10), p[0]);
    k_close(p[0]);
}

/* stdout is whatever the caller gave (a pipe under the tests): a pipe keeps whole
 * pages only, a terminal whole chunks, so neither takes the 5 good bytes */
static void to_stdout(void)
{
    memcpy(area, "hello", 5);
    long r = vec2(NR_writev, 1, area, 5, bad, 10, 0, 0);
    printf("\nstdout writev good 5 + bad 10: %s\n", fs_ret(r));
}

static void copies(void)
{
    long in = k_open("src", K_O_RDONLY, 0);
    long out = k_open("copy", K_O_RDWR | K_O_CREAT | K_O_TRUNC, 0644);
    long *off = (long *)ro;      /* read-only: the offset is read, the store faults */
    show_size("sendfile 10 with read-only offset",
              raw_syscall4(NR_sendfile, out, in, off, 10), out);
    printf("in offset: %ld\n", offset_of(in));
    show_size("sendfile 10 with PROT_NONE offset",
              raw_syscall4(NR_sendfile, out, in, bad, 10), out);
    show_size("copy_file_range 10 with read-only off_in",
              raw6(NR_copy_file_range, in, off, out, 0, 10, 0), out);
    printf("in offset: %ld, out offset: %ld\n", offset_of(in), offset_of(out));
    k_close(in);
    k_close(out);
}

static void dirents(void)
{
    raw_syscall2(NR_mkdir, "d", 0755);
    char name[32];
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "d/e_%02d", i);      /* every record 24 bytes */
        put_file(name, "", 0);
    }
    long fd = k_open("d", K_O_RDONLY | K_O_DIRECTORY, 0);
    char *b = area + PAGE - 200;          /* 200 good bytes, then PROT_NONE */
    show("getdents64 into PROT_NONE", raw_syscall3(NR_getdents64, fd, bad, 1000));
    show("getdents64 1000 into 200 good bytes", raw_syscall3(NR_getdents64, fd, b, 1000));
    long n, total = 0, names = 0;
    while ((n = raw_syscall3(NR_getdents64, fd, area, 2048)) > 0) {
        total += n;
        for (long pos = 0; pos < n;) {
            struct kdirent64 *d = (struct kdirent64 *)(area + pos);
            names++;
            pos += d->reclen;
        }
    }
    printf("getdents64 rest: %s, %ld bytes, %ld entries\n", fs_ret(n), total, names);
    show("getdents64 at end into PROT_NONE", raw_syscall3(NR_getdents64, fd, bad, 1000));
    k_close(fd);
}

int main(int argc, char **argv)
{
    fs_setup(argc, argv, "partial");
    long a = k_mmap(0, 3 * PAGE, K_PROT_READ | K_PROT_WRITE,
                    K_MAP_PRIVATE | K_MAP_ANONYMOUS, -1, 0);
    long r = k_mmap(0, PAGE, K_PROT_READ, K_MAP_PRIVATE | K_MAP_ANONYMOUS, -1, 0);
    if (is_err(a) || is_err(r)) {
        printf("FATAL: mmap\n");
        return 1;
    }
    area = (char *)a;
    edge = area + PAGE - 100;
    bad = area + PAGE;
    ro = (char *)r;
    raw_syscall3(NR_mprotect, bad, PAGE, K_PROT_NONE);
    raw_syscall2(NR_munmap, area + 2 * PAGE, PAGE);
    reads();
    writes();
    pipes();
    to_stdout();
    copies();
    dirents();
    return 0;
}
