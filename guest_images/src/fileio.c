/*
 * fileio: file descriptors and file contents - open/openat/creat and their
 * flags and errors, read/write and the positioned/vectored variants, lseek,
 * truncation, fallocate, syncing, dup*, fcntl, close_range, sendfile,
 * copy_file_range, splice/tee, memfd_create, pipe2, FIONREAD.
 *
 * Usage: fileio SCRATCH_DIR   (works only inside SCRATCH_DIR/fileio; also
 * reads /proc/self/fd/N links of its own descriptors).  All calls are raw
 * syscalls; one line per check; descriptor numbers are never printed.
 */
#include "fsguest.h"

static char buf[8192];

static long sz(long fd)
{
    struct kstat st;
    long r = k_fstat(fd, &st);
    return r ? r : st.size;
}

static long path_size(const char *p)
{
    struct kstat st;
    long r = k_stat(p, &st);
    return r ? r : st.size;
}

static void show_file(const char *what, const char *path)
{
    long n = get_file(path, buf, sizeof buf);
    if (n < 0)
        show(what, n);
    else
        print_bytes(what, buf, n);
}

static void show_read(const char *what, long fd, long n)
{
    long r = k_read(fd, buf, n);
    if (r < 0)
        show(what, r);
    else
        print_bytes(what, buf, r);
}

static void show_pread(const char *what, long fd, long n, long off)
{
    long r = k_pread(fd, buf, n, off);
    if (r < 0)
        show(what, r);
    else
        print_bytes(what, buf, r);
}

static int all_zero(const char *p, long n)
{
    for (long i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_open(void)
{
    long fd, r;

    /* O_CREAT|O_EXCL */
    fd = k_open("excl", K_O_RDWR | K_O_CREAT | K_O_EXCL, 0644);
    show_fd("open O_CREAT|O_EXCL new", fd);
    show("open O_CREAT|O_EXCL existing",
         k_open("excl", K_O_RDWR | K_O_CREAT | K_O_EXCL, 0644));
    show_fd("open O_CREAT existing (no EXCL)", r = k_open("excl", K_O_RDWR | K_O_CREAT, 0644));
    k_close(r);
    show("write 10 bytes", k_write(fd, "0123456789", 10));
    k_close(fd);
    show_fd("openat AT_FDCWD O_CREAT|O_EXCL",
            r = raw_syscall4(NR_openat, K_AT_FDCWD, "excl2", K_O_WRONLY | K_O_CREAT | K_O_EXCL, 0600));
    k_close(r);
    show("openat AT_FDCWD O_CREAT|O_EXCL existing",
         raw_syscall4(NR_openat, K_AT_FDCWD, "excl2", K_O_WRONLY | K_O_CREAT | K_O_EXCL, 0600));

    /* openat relative to a directory descriptor */
    show("mkdir sub", raw_syscall2(NR_mkdir, "sub", 0755));
    long dfd = k_open("sub", K_O_RDONLY | K_O_DIRECTORY, 0);
    show_fd("open sub O_DIRECTORY", dfd);
    r = raw_syscall4(NR_openat, dfd, "inner", K_O_WRONLY | K_O_CREAT | K_O_EXCL, 0644);
    show_fd("openat dirfd inner", r);
    show("write inner", k_write(r, "in", 2));
    k_close(r);
    show_file("read sub/inner by path", "sub/inner");
    show("openat dirfd name not in that dir",
         raw_syscall4(NR_openat, dfd, "excl", K_O_RDONLY, 0));
    show("openat file fd as dirfd",
         raw_syscall4(NR_openat, (fd = k_open("excl", K_O_RDONLY, 0)), "x", K_O_RDONLY, 0));
    k_close(fd);
    show("openat bad dirfd", raw_syscall4(NR_openat, 999, "x", K_O_RDONLY, 0));
    k_close(dfd);

    /* creat = O_CREAT|O_WRONLY|O_TRUNC */
    fd = raw_syscall2(NR_creat, "creat", 0644);
    show_fd("creat new", fd);
    show("creat write", k_write(fd, "hello", 5));
    show("creat fd read", k_read(fd, buf, 1));
    show("creat F_GETFL", k_fcntl(fd, K_F_GETFL, 0));
    k_close(fd);
    show("size before creat again", path_size("creat"));
    fd = raw_syscall2(NR_creat, "creat", 0644);
    show_fd("creat existing", fd);
    show("size after creat again", sz(fd));
    k_close(fd);

    /* O_TRUNC */
    put_file("trunc", "abcdefghij", 10);
    fd = k_open("trunc", K_O_RDONLY, 0);
    show("O_RDONLY open keeps size", sz(fd));
    k_close(fd);
    fd = k_open("trunc", K_O_WRONLY | K_O_TRUNC, 0);
    show("O_TRUNC size", sz(fd));
    k_close(fd);

    /* O_APPEND: writes land at the end even after lseek */
    put_file("app", "start", 5);
    fd = k_open("app", K_O_RDWR | K_O_APPEND, 0);
    show("append lseek 0", k_lseek(fd, 0, K_SEEK_SET));
    show("append write", k_write(fd, "XY", 2));
    show("append position after write", k_lseek(fd, 0, K_SEEK_CUR));
    show("append lseek 1", k_lseek(fd, 1, K_SEEK_SET));
    show("append read at 1", k_read(fd, buf, 3));
    print_bytes("append read data", buf, 3);
    show("append pwrite at 0 (appends on Linux)", raw_syscall4(NR_pwrite64, fd, "PW", 2, 0));
    show("append position after pwrite", k_lseek(fd, 0, K_SEEK_CUR));
    show("append F_GETFL", k_fcntl(fd, K_F_GETFL, 0));
    show("F_SETFL clear O_APPEND", k_fcntl(fd, K_F_SETFL, 0));
    show("F_GETFL after clear", k_fcntl(fd, K_F_GETFL, 0));
    show("lseek 0 after clear", k_lseek(fd, 0, K_SEEK_SET));
    show("write after clear", k_write(fd, "s", 1));
    k_close(fd);
    show_file("append file", "app");

    /* O_DIRECTORY, O_NOFOLLOW */
    show("O_DIRECTORY on file", k_open("app", K_O_RDONLY | K_O_DIRECTORY, 0));
    show_fd("O_DIRECTORY on dir", r = k_open("sub", K_O_RDONLY | K_O_DIRECTORY, 0));
    k_close(r);
    show("O_DIRECTORY|O_CREAT new", k_open("dnew", K_O_RDONLY | K_O_DIRECTORY | K_O_CREAT, 0644));
    show("symlink lnk -> app", raw_syscall2(NR_symlink, "app", "lnk"));
    show("O_NOFOLLOW on symlink", k_open("lnk", K_O_RDONLY | K_O_NOFOLLOW, 0));
    show_fd("O_NOFOLLOW on file", r = k_open("app", K_O_RDONLY | K_O_NOFOLLOW, 0));
    k_close(r);
    show_fd("open via symlink", r = k_open("lnk", K_O_RDONLY, 0));
    show("size via symlink", sz(r));
    k_close(r);

    /* O_PATH */
    struct kstat st;
    fd = k_open("app", K_O_PATH, 0);
    show_fd("O_PATH open", fd);
    show("O_PATH read", k_read(fd, buf, 1));
    show("O_PATH write", k_write(fd, "x", 1));
    r = k_fstat(fd, &st);
    printf("O_PATH fstat: %s type=%s size=%ld\n", fs_ret(r), type_name(st.mode), st.size);
    show("O_PATH F_GETFL", k_fcntl(fd, K_F_GETFL, 0));
    show("O_PATH fchmod", raw_syscall2(NR_fchmod, fd, 0644));
    show("O_PATH ioctl FIONREAD", raw_syscall3(NR_ioctl, fd, K_FIONREAD, buf));
    show("O_PATH as openat dirfd (file)", raw_syscall4(NR_openat, fd, "x", K_O_RDONLY, 0));
    k_close(fd);
    fd = k_open("lnk", K_O_PATH | K_O_NOFOLLOW, 0);
    show_fd("O_PATH|O_NOFOLLOW on symlink", fd);
    r = k_fstat(fd, &st);
    printf("O_PATH|O_NOFOLLOW fstat: %s type=%s size=%ld\n",
           fs_ret(r), type_name(st.mode), st.size);
    k_close(fd);
    fd = k_open("sub", K_O_PATH | K_O_DIRECTORY, 0);
    r = raw_syscall4(NR_openat, fd, "inner", K_O_RDONLY, 0);
    show_fd("O_PATH dir as openat dirfd", r);
    show_read("read sub/inner via O_PATH dirfd", r, 10);
    k_close(r);
    k_close(fd);

    /* O_TMPFILE, then give it a name through /proc/self/fd/N */
    show("O_TMPFILE without write access", k_open(".", K_O_TMPFILE | K_O_RDONLY, 0600));
    fd = k_open(".", K_O_TMPFILE | K_O_RDWR, 0600);
    show_fd("O_TMPFILE", fd);
    if (fd >= 0) {
        char p[64];
        show("O_TMPFILE write", k_write(fd, "tmpdata", 7));
        r = k_fstat(fd, &st);
        printf("O_TMPFILE fstat: %s type=%s mode=%04o size=%ld nlink=%lu\n", fs_ret(r),
               type_name(st.mode), st.mode & 07777, st.size, st.nlink);
        snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
        show("linkat /proc/self/fd/N AT_SYMLINK_FOLLOW",
             raw_syscall5(NR_linkat, K_AT_FDCWD, p, K_AT_FDCWD, "tmplinked", K_AT_SYMLINK_FOLLOW));
        show_file("tmplinked contents", "tmplinked");
        r = k_fstat(fd, &st);
        printf("O_TMPFILE nlink after linkat: %lu\n", st.nlink);
        k_close(fd);
    }
    fd = k_open(".", K_O_TMPFILE | K_O_RDWR | K_O_EXCL, 0600);
    show_fd("O_TMPFILE|O_EXCL", fd);
    if (fd >= 0) {
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
        show("linkat O_EXCL tmpfile",
             raw_syscall5(NR_linkat, K_AT_FDCWD, p, K_AT_FDCWD, "tmplinked2", K_AT_SYMLINK_FOLLOW));
        k_close(fd);
    }
    show("O_TMPFILE on file", k_open("app", K_O_TMPFILE | K_O_RDWR, 0600));

    /* O_CLOEXEC */
    fd = k_open("app", K_O_RDONLY | K_O_CLOEXEC, 0);
    show("O_CLOEXEC F_GETFD", k_fcntl(fd, K_F_GETFD, 0));
    show("O_CLOEXEC F_GETFL (not a status flag)", k_fcntl(fd, K_F_GETFL, 0));
    show("F_SETFD 0", k_fcntl(fd, K_F_SETFD, 0));
    show("F_GETFD after clear", k_fcntl(fd, K_F_GETFD, 0));
    k_close(fd);
    fd = k_open("app", K_O_RDONLY, 0);
    show("no O_CLOEXEC F_GETFD", k_fcntl(fd, K_F_GETFD, 0));
    show("F_SETFD FD_CLOEXEC", k_fcntl(fd, K_F_SETFD, K_FD_CLOEXEC));
    show("F_GETFD after set", k_fcntl(fd, K_F_GETFD, 0));
    k_close(fd);

    /* error cases */
    show("open dir O_WRONLY", k_open("sub", K_O_WRONLY, 0));
    show("open dir O_RDWR", k_open("sub", K_O_RDWR, 0));
    show("open dir O_CREAT", k_open("sub", K_O_RDONLY | K_O_CREAT, 0644));
    show("open dir O_RDONLY|O_TRUNC", k_open("sub", K_O_RDONLY | K_O_TRUNC, 0));
    show("open missing", k_open("missing", K_O_RDONLY, 0));
    show("open missing parent O_CREAT", k_open("nodir/x", K_O_RDWR | K_O_CREAT, 0644));
    show("open file as dir component", k_open("app/x", K_O_RDONLY, 0));
    show("open file/ trailing slash", k_open("app/", K_O_RDONLY, 0));
    show("open new/ O_CREAT trailing slash", k_open("newfile/", K_O_RDWR | K_O_CREAT, 0644));
    show("open empty path", k_open("", K_O_RDONLY, 0));
    show("open bad path pointer", k_open((const char *)8, K_O_RDONLY, 0));
    {
        static char longp[5001];
        memset(longp, 'a', 5000);
        for (int i = 100; i < 5000; i += 100)
            longp[i] = '/';
        longp[5000] = 0;
        show("open 5000-byte path", k_open(longp, K_O_RDONLY, 0));
        char comp[257];
        memset(comp, 'c', 256);
        comp[256] = 0;
        show("open 256-byte component", k_open(comp, K_O_RDONLY, 0));
        comp[255] = 0;
        show_fd("create 255-byte component", r = k_open(comp, K_O_RDWR | K_O_CREAT, 0644));
        k_close(r);
    }
    fd = k_open("app", K_O_RDONLY, 0);
    show("write on O_RDONLY", k_write(fd, "x", 1));
    k_close(fd);
    fd = k_open("app", K_O_WRONLY, 0);
    show("read on O_WRONLY", k_read(fd, buf, 1));
    k_close(fd);
    fd = k_open("sub", K_O_RDONLY, 0);
    show("read on directory", k_read(fd, buf, 1));
    k_close(fd);
    show("close fd 999", k_close(999));
    fd = k_open("app", K_O_RDONLY, 0);
    show("close", k_close(fd));
    show("close again", k_close(fd));
}

static void test_rw(void)
{
    long fd, r;
    struct kiovec iov[3];
    char a[4], b[6], c[8];

    fd = k_open("rw", K_O_RDWR | K_O_CREAT | K_O_TRUNC, 0644);
    show("write", k_write(fd, "Hello, world!\n", 14));
    show("lseek SEEK_CUR 0", k_lseek(fd, 0, K_SEEK_CUR));
    show("read at EOF", k_read(fd, buf, 10));
    show("lseek SEEK_SET 0", k_lseek(fd, 0, K_SEEK_SET));
    show_read("read 5", fd, 5);
    show("lseek SEEK_CUR +2", k_lseek(fd, 2, K_SEEK_CUR));
    show_read("read rest", fd, 100);
    show("lseek SEEK_END -6", k_lseek(fd, -6, K_SEEK_END));
    show_read("read after SEEK_END", fd, 3);
    show("lseek SEEK_SET -1", k_lseek(fd, -1, K_SEEK_SET));
    show("lseek SEEK_CUR -1000", k_lseek(fd, -1000, K_SEEK_CUR));
    show("lseek SEEK_END -1000", k_lseek(fd, -1000, K_SEEK_END));
    show("lseek whence 99", k_lseek(fd, 0, 99));
    show("position unchanged after errors", k_lseek(fd, 0, K_SEEK_CUR));
    show("lseek SEEK_SET 100 (past EOF)", k_lseek(fd, 100, K_SEEK_SET));
    show("read past EOF", k_read(fd, buf, 10));
    show("lseek SEEK_DATA 0", k_lseek(fd, 0, K_SEEK_DATA));
    show("lseek SEEK_HOLE 0", k_lseek(fd, 0, K_SEEK_HOLE));
    show("lseek SEEK_DATA 5", k_lseek(fd, 5, K_SEEK_DATA));
    show("lseek SEEK_HOLE 5", k_lseek(fd, 5, K_SEEK_HOLE));
    show("lseek SEEK_DATA at size", k_lseek(fd, 14, K_SEEK_DATA));
    show("lseek SEEK_HOLE at size", k_lseek(fd, 14, K_SEEK_HOLE));
    show("lseek SEEK_DATA past EOF", k_lseek(fd, 100, K_SEEK_DATA));
    show("lseek SEEK_HOLE past EOF", k_lseek(fd, 100, K_SEEK_HOLE));
    show("lseek SEEK_DATA negative", k_lseek(fd, -1, K_SEEK_DATA));

    /* pread/pwrite do not move the file position */
    k_lseek(fd, 3, K_SEEK_SET);
    show_pread("pread 5 at 7", fd, 5, 7);
    show("position after pread", k_lseek(fd, 0, K_SEEK_CUR));
    show("pwrite at 0", raw_syscall4(NR_pwrite64, fd, "J", 1, 0));
    show("position after pwrite", k_lseek(fd, 0, K_SEEK_CUR));
    show_pread("pread at 0", fd, 14, 0);
    show("pread at EOF", k_pread(fd, buf, 5, 14));
    show("pread negative offset", k_pread(fd, buf, 5, -1));
    show("pwrite negative offset", raw_syscall4(NR_pwrite64, fd, "x", 1, -1));
    show("pwrite at 20 (gap)", raw_syscall4(NR_pwrite64, fd, "Z", 1, 20));
    show("size after gap write", sz(fd));
    show_pread("pread gap", fd, 20, 10);

    /* readv / writev */
    k_lseek(fd, 0, K_SEEK_SET);
    r = raw_syscall2(NR_ftruncate, fd, 0);
    iov[0].base = "abc"; iov[0].len = 3;
    iov[1].base = ""; iov[1].len = 0;
    iov[2].base = "defgh"; iov[2].len = 5;
    show("writev 3 iovecs", raw_syscall3(NR_writev, fd, iov, 3));
    show("position after writev", k_lseek(fd, 0, K_SEEK_CUR));
    k_lseek(fd, 1, K_SEEK_SET);
    iov[0].base = a; iov[0].len = 2;
    iov[1].base = b; iov[1].len = 6;
    show("readv", r = raw_syscall3(NR_readv, fd, iov, 2));
    print_bytes("readv iov0", a, 2);
    print_bytes("readv iov1", b, r - 2);
    show("readv at EOF", raw_syscall3(NR_readv, fd, iov, 2));
    show("readv iovcnt -1", raw_syscall3(NR_readv, fd, iov, -1));
    show("readv iovcnt 1025", raw_syscall3(NR_readv, fd, iov, 1025));
    show("readv iovcnt 0", raw_syscall3(NR_readv, fd, iov, 0));
    iov[0].base = (void *)8; iov[0].len = 4;
    k_lseek(fd, 0, K_SEEK_SET);
    show("readv bad buffer", raw_syscall3(NR_readv, fd, iov, 1));
    show("readv bad iov pointer", raw_syscall3(NR_readv, fd, 8, 1));

    /* preadv / pwritev (offset split in low/high words) */
    k_lseek(fd, 2, K_SEEK_SET);
    iov[0].base = "PQ"; iov[0].len = 2;
    iov[1].base = "RS"; iov[1].len = 2;
    show("pwritev at 4", raw_syscall5(NR_pwritev, fd, iov, 2, 4, 0));
    show("position after pwritev", k_lseek(fd, 0, K_SEEK_CUR));
    iov[0].base = a; iov[0].len = 3;
    iov[1].base = c; iov[1].len = 8;
    show("preadv at 1", r = raw_syscall5(NR_preadv, fd, iov, 2, 1, 0));
    print_bytes("preadv iov0", a, 3);
    print_bytes("preadv iov1", c, r - 3);
    show("position after preadv", k_lseek(fd, 0, K_SEEK_CUR));
    show("preadv offset -1", raw_syscall5(NR_preadv, fd, iov, 2, -1, 0));

    /* preadv2 / pwritev2: offset -1 means "use and move the file position" */
    k_lseek(fd, 6, K_SEEK_SET);
    iov[0].base = "uv"; iov[0].len = 2;
    show("pwritev2 offset -1", raw6(NR_pwritev2, fd, iov, 1, -1, 0, 0));
    show("position after pwritev2 -1", k_lseek(fd, 0, K_SEEK_CUR));
    iov[0].base = "w"; iov[0].len = 1;
    show("pwritev2 offset 0", raw6(NR_pwritev2, fd, iov, 1, 0, 0, 0));
    show("position after pwritev2 0", k_lseek(fd, 0, K_SEEK_CUR));
    k_lseek(fd, 2, K_SEEK_SET);
    iov[0].base = c; iov[0].len = 4;
    show("preadv2 offset -1", r = raw6(NR_preadv2, fd, iov, 1, -1, 0, 0));
    print_bytes("preadv2 -1 data", c, r);
    show("position after preadv2 -1", k_lseek(fd, 0, K_SEEK_CUR));
    show("preadv2 offset 0", r = raw6(NR_preadv2, fd, iov, 1, 0, 0, 0));
    print_bytes("preadv2 0 data", c, r);
    show("position after preadv2 0", k_lseek(fd, 0, K_SEEK_CUR));
    show("preadv2 offset -2", raw6(NR_preadv2, fd, iov, 1, -2, 0, 0));
    show("preadv2 bad flags", raw6(NR_preadv2, fd, iov, 1, 0, 0, 0x40000000));
    show("pwritev2 bad flags", raw6(NR_pwritev2, fd, iov, 1, 0, 0, 0x40000000));
    show_pread("file after vectored writes", fd, 100, 0);
    k_close(fd);
}

static void test_truncate(void)
{
    long fd, r;
    fd = k_open("tr", K_O_RDWR | K_O_CREAT | K_O_TRUNC, 0644);
    k_write(fd, "0123456789", 10);
    show("ftruncate shrink to 4", raw_syscall2(NR_ftruncate, fd, 4));
    show("size", sz(fd));
    show("position kept", k_lseek(fd, 0, K_SEEK_CUR));
    show("ftruncate grow to 8", raw_syscall2(NR_ftruncate, fd, 8));
    show_pread("after grow", fd, 100, 0);
    show("write at position 10 (past EOF)", k_write(fd, "E", 1));
    show_pread("after write past EOF", fd, 100, 0);
    show("ftruncate negative", raw_syscall2(NR_ftruncate, fd, -1));
    show("truncate by path to 3", raw_syscall2(NR_truncate, "tr", 3));
    show_pread("after truncate", fd, 100, 0);
    show("truncate grow by path to 5000", raw_syscall2(NR_truncate, "tr", 5000));
    r = k_pread(fd, buf, sizeof buf, 0);
    printf("after grow: size=%ld tail zero=%d\n", r, all_zero(buf + 3, r - 3));
    show("truncate dir", raw_syscall2(NR_truncate, "sub", 0));
    show("truncate missing", raw_syscall2(NR_truncate, "missing", 0));
    show("truncate negative", raw_syscall2(NR_truncate, "tr", -5));
    show("truncate bad pointer", raw_syscall2(NR_truncate, 8, 0));
    k_close(fd);
    fd = k_open("tr", K_O_RDONLY, 0);
    show("ftruncate on O_RDONLY", raw_syscall2(NR_ftruncate, fd, 0));
    show("fallocate on O_RDONLY", raw_syscall4(NR_fallocate, fd, 0, 0, 10));
    k_close(fd);

    /* fallocate */
    fd = k_open("fa", K_O_RDWR | K_O_CREAT | K_O_TRUNC, 0644);
    k_write(fd, "abcdefghij", 10);
    show("fallocate mode 0 to 8192", raw_syscall4(NR_fallocate, fd, 0, 0, 8192));
    show("size after fallocate", sz(fd));
    r = k_pread(fd, buf, sizeof buf, 0);
    printf("fallocate contents: n=%ld head=%.10s rest zero=%d\n",
           r, buf, all_zero(buf + 10, r - 10));
    show("fallocate KEEP_SIZE to 16384",
         raw_syscall4(NR_fallocate, fd, K_FALLOC_FL_KEEP_SIZE, 0, 16384));
    show("size after KEEP_SIZE", sz(fd));
    show("fallocate inside file", raw_syscall4(NR_fallocate, fd, 0, 100, 100));
    show("size unchanged", sz(fd));
    memset(buf, 'x', 8192);
    k_lseek(fd, 0, K_SEEK_SET);
    k_write(fd, buf, 8192);
    show("fallocate PUNCH_HOLE|KEEP_SIZE 4096+4096",
         raw_syscall4(NR_fallocate, fd, K_FALLOC_FL_PUNCH_HOLE | K_FALLOC_FL_KEEP_SIZE, 4096, 4096));
    show("size after punch", sz(fd));
    r = k_pread(fd, buf, sizeof buf, 0);
    printf("after punch: first half x=%d second half zero=%d\n",
           buf[0] == 'x' && buf[4095] == 'x', all_zero(buf + 4096, 4096));
    show("fallocate PUNCH_HOLE without KEEP_SIZE",
         raw_syscall4(NR_fallocate, fd, K_FALLOC_FL_PUNCH_HOLE, 0, 10));
    show("fallocate len 0", raw_syscall4(NR_fallocate, fd, 0, 0, 0));
    show("fallocate negative offset", raw_syscall4(NR_fallocate, fd, 0, -1, 10));
    show("fallocate bad mode", raw_syscall4(NR_fallocate, fd, 0x1000, 0, 10));

    show("fsync", raw_syscall1(NR_fsync, fd));
    show("fdatasync", raw_syscall1(NR_fdatasync, fd));
    show("sync", raw_syscall0(NR_sync));
    show("syncfs", raw_syscall1(NR_syncfs, fd));
    show("fsync bad fd", raw_syscall1(NR_fsync, 999));
    k_close(fd);
    long p[2];
    int pi[2];
    raw_syscall2(NR_pipe2, pi, 0);
    p[0] = pi[0]; p[1] = pi[1];
    show("fsync on pipe", raw_syscall1(NR_fsync, p[1]));
    show("ftruncate on pipe", raw_syscall2(NR_ftruncate, p[1], 0));
    show("fallocate on pipe", raw_syscall4(NR_fallocate, p[1], 0, 0, 10));
    show("lseek on pipe", k_lseek(p[0], 0, K_SEEK_SET));
    show("pread on pipe", k_pread(p[0], buf, 1, 0));
    k_close(p[0]);
    k_close(p[1]);
}

static void test_dup_fcntl(void)
{
    long fd, d, r;
    put_file("dupf", "abcdefghij", 10);
    fd = k_open("dupf", K_O_RDWR, 0);
    d = raw_syscall1(NR_dup, fd);
    show_fd("dup", d);
    show("dup F_GETFD (cloexec not copied)", k_fcntl(d, K_F_GETFD, 0));
    k_read(fd, buf, 3);
    show("dup shares offset", k_lseek(d, 0, K_SEEK_CUR));
    k_lseek(d, 7, K_SEEK_SET);
    show_read("read original after seek on dup", fd, 10);
    show("dup2 to 50", raw_syscall2(NR_dup2, fd, 50));
    show("dup2 50 shares offset", k_lseek(50, 0, K_SEEK_CUR));
    show("dup2 same fd", raw_syscall2(NR_dup2, fd, fd) == fd);
    show("dup2 bad oldfd", raw_syscall2(NR_dup2, 999, 51));
    show("dup2 bad oldfd same", raw_syscall2(NR_dup2, 999, 999));
    show("dup2 newfd -1", raw_syscall2(NR_dup2, fd, -1));
    show("dup3 to 51 O_CLOEXEC", raw_syscall3(NR_dup3, fd, 51, K_O_CLOEXEC));
    show("dup3 F_GETFD", k_fcntl(51, K_F_GETFD, 0));
    show("dup3 onto open fd 51 (replaces)", raw_syscall3(NR_dup3, d, 51, 0));
    show("dup3 replaced F_GETFD", k_fcntl(51, K_F_GETFD, 0));
    show("dup3 same fd", raw_syscall3(NR_dup3, fd, fd, 0));
    show("dup3 bad flags", raw_syscall3(NR_dup3, fd, 52, K_O_NONBLOCK));
    show("dup3 bad oldfd", raw_syscall3(NR_dup3, 999, 52, 0));
    show("fcntl F_DUPFD min 100", k_fcntl(fd, K_F_DUPFD, 100));
    show("fcntl F_DUPFD min 100 again", k_fcntl(fd, K_F_DUPFD, 100));
    show("F_DUPFD F_GETFD", k_fcntl(101, K_F_GETFD, 0));
    show("fcntl F_DUPFD_CLOEXEC min 100", k_fcntl(fd, K_F_DUPFD_CLOEXEC, 100));
    show("F_DUPFD_CLOEXEC F_GETFD", k_fcntl(102, K_F_GETFD, 0));
    show("fcntl F_DUPFD min -1", k_fcntl(fd, K_F_DUPFD, -1));
    show("fcntl F_DUPFD min 1<<30", k_fcntl(fd, K_F_DUPFD, 1L << 30));
    show("fcntl bad cmd", k_fcntl(fd, 9999, 0));
    show("fcntl bad fd", k_fcntl(999, K_F_GETFL, 0));

    /* F_GETFL / F_SETFL */
    show("F_GETFL O_RDWR", k_fcntl(fd, K_F_GETFL, 0));
    r = k_open("dupf", K_O_WRONLY | K_O_APPEND | K_O_CREAT, 0644);
    show("F_GETFL O_WRONLY|O_APPEND (O_CREAT dropped)", k_fcntl(r, K_F_GETFL, 0));
    k_close(r);
    r = k_open("dupf", K_O_RDONLY | K_O_NONBLOCK, 0);
    show("F_GETFL O_RDONLY|O_NONBLOCK", k_fcntl(r, K_F_GETFL, 0));
    k_close(r);
    show("F_SETFL O_NONBLOCK", k_fcntl(fd, K_F_SETFL, K_O_NONBLOCK));
    show("F_GETFL after set", k_fcntl(fd, K_F_GETFL, 0));
    show("F_GETFL on dup (shared)", k_fcntl(d, K_F_GETFL, 0));
    show("F_SETFL O_WRONLY (access mode ignored)", k_fcntl(fd, K_F_SETFL, K_O_WRONLY | K_O_APPEND));
    show("F_GETFL after access-mode attempt", k_fcntl(fd, K_F_GETFL, 0));
    show("F_SETFL 0", k_fcntl(fd, K_F_SETFL, 0));
    show("F_GETFL after clear", k_fcntl(fd, K_F_GETFL, 0));

    /* close_range on 100..105 */
    raw_syscall2(NR_dup2, fd, 103);
    raw_syscall2(NR_dup2, fd, 104);
    raw_syscall2(NR_dup2, fd, 105);
    show("close_range 101..103", raw_syscall3(NR_close_range, 101, 103, 0));
    for (int i = 100; i <= 105; i++) {
        char w[48];
        snprintf(w, sizeof w, "F_GETFD %d after close_range", i);
        show(w, k_fcntl(i, K_F_GETFD, 0));
    }
    show("close_range CLOEXEC 104..105",
         raw_syscall3(NR_close_range, 104, 105, K_CLOSE_RANGE_CLOEXEC));
    show("F_GETFD 104", k_fcntl(104, K_F_GETFD, 0));
    show("F_GETFD 105", k_fcntl(105, K_F_GETFD, 0));
    show("close_range first>last", raw_syscall3(NR_close_range, 105, 104, 0));
    show("close_range bad flags", raw_syscall3(NR_close_range, 104, 105, 0x80));
    show("close_range 100..~0", raw_syscall3(NR_close_range, 100, ~0U, 0));
    show("F_GETFD 100 after", k_fcntl(100, K_F_GETFD, 0));
    show("F_GETFD 105 after", k_fcntl(105, K_F_GETFD, 0));
    show("close_range nothing open 200..300", raw_syscall3(NR_close_range, 200, 300, 0));
    k_close(50);
    k_close(51);
    k_close(d);
    k_close(fd);
}

static void test_transfer(void)
{
    long in, out, r;
    long off;
    int p[2], q[2];

    put_file("src", "0123456789abcdefghij", 20);
    in = k_open("src", K_O_RDONLY, 0);
    out = k_open("dst", K_O_RDWR | K_O_CREAT | K_O_TRUNC, 0644);

    /* sendfile */
    show("sendfile 5 (file position)", raw_syscall4(NR_sendfile, out, in, 0, 5));
    show("in position after", k_lseek(in, 0, K_SEEK_CUR));
    off = 10;
    show("sendfile 4 at offset 10", raw_syscall4(NR_sendfile, out, in, &off, 4));
    printf("offset updated to: %ld\n", off);
    show("in position unchanged", k_lseek(in, 0, K_SEEK_CUR));
    off = 18;
    show("sendfile past EOF (2 left)", raw_syscall4(NR_sendfile, out, in, &off, 10));
    off = 20;
    show("sendfile at EOF", raw_syscall4(NR_sendfile, out, in, &off, 10));
    show("sendfile count 0", raw_syscall4(NR_sendfile, out, in, 0, 0));
    show_pread("dst after sendfile", out, 100, 0);
    show("sendfile to O_RDONLY fd", raw_syscall4(NR_sendfile, in, out, 0, 1));
    off = -1;
    show("sendfile negative offset", raw_syscall4(NR_sendfile, out, in, &off, 1));
    show("sendfile bad fd", raw_syscall4(NR_sendfile, out, 999, 0, 1));

    raw_syscall2(NR_pipe2, p, 0);
    off = 0;
    show("sendfile to pipe", raw_syscall4(NR_sendfile, p[1], in, &off, 6));
    show_read("read pipe", p[0], 100);

    /* copy_file_range */
    long cin = k_open("src", K_O_RDONLY, 0);
    long cout = k_open("cfr", K_O_RDWR | K_O_CREAT | K_O_TRUNC, 0644);
    show("copy_file_range 4 (positions)",
         raw6(NR_copy_file_range, cin, 0, cout, 0, 4, 0));
    show("cfr in position", k_lseek(cin, 0, K_SEEK_CUR));
    show("cfr out position", k_lseek(cout, 0, K_SEEK_CUR));
    long oi = 10, oo = 8;
    show("copy_file_range 5 with offsets",
         raw6(NR_copy_file_range, cin, &oi, cout, &oo, 5, 0));
    printf("cfr offsets now: in=%ld out=%ld\n", oi, oo);
    show("cfr in position unchanged", k_lseek(cin, 0, K_SEEK_CUR));
    oi = 18;
    show("copy_file_range past EOF", raw6(NR_copy_file_range, cin, &oi, cout, 0, 100, 0));
    oi = 40;
    show("copy_file_range at/after EOF", raw6(NR_copy_file_range, cin, &oi, cout, 0, 10, 0));
    show_pread("cfr result", cout, 100, 0);
    show("copy_file_range flags", raw6(NR_copy_file_range, cin, 0, cout, 0, 1, 1));
    oi = 0; oo = 2;
    show("copy_file_range same file overlap",
         raw6(NR_copy_file_range, cout, &oi, cout, &oo, 4, 0));
    show("copy_file_range to O_RDONLY", raw6(NR_copy_file_range, cout, 0, cin, 0, 1, 0));
    show("copy_file_range from pipe", raw6(NR_copy_file_range, p[0], 0, cout, 0, 1, 0));
    long dfd = k_open("sub", K_O_RDONLY | K_O_DIRECTORY, 0);
    show("copy_file_range from dir", raw6(NR_copy_file_range, dfd, 0, cout, 0, 1, 0));
    k_close(dfd);
    k_close(cin);
    k_close(cout);

    /* splice / tee */
    raw_syscall2(NR_pipe2, q, 0);
    off = 2;
    show("splice file->pipe 6 at offset 2",
         raw6(NR_splice, in, &off, p[1], 0, 6, 0));
    printf("splice offset now: %ld\n", off);
    show("tee pipe->pipe 4", raw_syscall4(NR_tee, p[0], q[1], 4, 0));
    int n = -1;
    show("FIONREAD pipe p", raw_syscall3(NR_ioctl, p[0], K_FIONREAD, &n));
    printf("FIONREAD p value: %d\n", n);
    show("FIONREAD pipe q", raw_syscall3(NR_ioctl, q[0], K_FIONREAD, &n));
    printf("FIONREAD q value: %d\n", n);
    show_read("read q (tee copy)", q[0], 100);
    off = 0;
    long sp = k_open("spl", K_O_RDWR | K_O_CREAT | K_O_TRUNC, 0644);
    show("splice pipe->file 6 at offset 0", raw6(NR_splice, p[0], 0, sp, &off, 6, 0));
    show("spl position unchanged", k_lseek(sp, 0, K_SEEK_CUR));
    show_pread("spl contents", sp, 100, 0);
    k_write(p[1], "zz", 2);
    show("splice pipe->file (position)", raw6(NR_splice, p[0], 0, sp, 0, 10, 0));
    show("spl position", k_lseek(sp, 0, K_SEEK_CUR));
    show("splice file->file", raw6(NR_splice, in, 0, sp, 0, 1, 0));
    show("splice offset on pipe side", raw6(NR_splice, p[0], &off, sp, 0, 1, 0));
    show("tee with file", raw_syscall4(NR_tee, in, q[1], 1, 0));
    show("tee same pipe", raw_syscall4(NR_tee, p[0], p[1], 1, 0));
    show("splice empty pipe NONBLOCK",
         raw6(NR_splice, p[0], 0, sp, 0, 1, K_SPLICE_F_NONBLOCK));
    show("tee empty pipe NONBLOCK", raw_syscall4(NR_tee, p[0], q[1], 1, K_SPLICE_F_NONBLOCK));
    k_close(sp);
    k_close(q[0]);
    k_close(q[1]);
    k_close(p[0]);
    k_close(p[1]);
    k_close(in);
    k_close(out);

    /* FIONREAD on a regular file: bytes from the position to EOF */
    in = k_open("src", K_O_RDONLY, 0);
    k_lseek(in, 7, K_SEEK_SET);
    int iv = -1;
    show("FIONREAD file", r = raw_syscall3(NR_ioctl, in, K_FIONREAD, &iv));
    printf("FIONREAD file value: %d\n", iv);
    show("ioctl bad request on file", raw_syscall3(NR_ioctl, in, 0x12345678, &iv));
    k_close(in);
}

static void test_memfd_pipe(void)
{
    long fd, r;
    struct kstat st;
    char link[128];

    fd = raw_syscall2(NR_memfd_create, "pyunik-test", K_MFD_CLOEXEC);
    show_fd("memfd_create", fd);
    show("memfd F_GETFD", k_fcntl(fd, K_F_GETFD, 0));
    show("memfd F_GETFL", k_fcntl(fd, K_F_GETFL, 0));
    show("memfd write", k_write(fd, "memory file", 11));
    show_pread("memfd pread", fd, 100, 0);
    show("memfd ftruncate 4", raw_syscall2(NR_ftruncate, fd, 4));
    show("memfd ftruncate 8", raw_syscall2(NR_ftruncate, fd, 8));
    show_pread("memfd after truncates", fd, 100, 0);
    r = k_fstat(fd, &st);
    printf("memfd fstat: %s type=%s mode=%04o size=%ld nlink=%lu\n", fs_ret(r),
           type_name(st.mode), st.mode & 07777, st.size, st.nlink);
    snprintf(buf, 64, "/proc/self/fd/%ld", fd);
    r = raw_syscall3(NR_readlink, buf, link, sizeof link - 1);
    if (r >= 0)
        print_bytes("memfd /proc/self/fd link", link, r);
    else
        show("memfd /proc/self/fd link", r);
    show("memfd F_GET_SEALS (no ALLOW_SEALING)", k_fcntl(fd, K_F_GET_SEALS, 0));
    show("memfd F_ADD_SEALS (no ALLOW_SEALING)", k_fcntl(fd, K_F_ADD_SEALS, K_F_SEAL_WRITE));
    k_close(fd);
    fd = raw_syscall2(NR_memfd_create, "sealed", K_MFD_ALLOW_SEALING);
    k_write(fd, "abc", 3);
    show("sealable F_GET_SEALS", k_fcntl(fd, K_F_GET_SEALS, 0));
    show("F_ADD_SEALS SHRINK|GROW", k_fcntl(fd, K_F_ADD_SEALS, K_F_SEAL_SHRINK | K_F_SEAL_GROW));
    show("F_GET_SEALS", k_fcntl(fd, K_F_GET_SEALS, 0));
    show("sealed ftruncate shrink", raw_syscall2(NR_ftruncate, fd, 1));
    show("sealed ftruncate grow", raw_syscall2(NR_ftruncate, fd, 10));
    show("sealed overwrite in place", raw_syscall4(NR_pwrite64, fd, "X", 1, 0));
    show("sealed write grows", raw_syscall4(NR_pwrite64, fd, "X", 1, 3));
    show("F_ADD_SEALS WRITE|SEAL", k_fcntl(fd, K_F_ADD_SEALS, K_F_SEAL_WRITE | K_F_SEAL_SEAL));
    show("write after SEAL_WRITE", raw_syscall4(NR_pwrite64, fd, "Y", 1, 0));
    show("F_ADD_SEALS after SEAL_SEAL", k_fcntl(fd, K_F_ADD_SEALS, K_F_SEAL_GROW));
    show("F_GET_SEALS final", k_fcntl(fd, K_F_GET_SEALS, 0));
    k_close(fd);
    show("memfd_create bad flags", raw_syscall2(NR_memfd_create, "x", 0x100));
    memset(buf, 'n', 300);
    buf[300] = 0;
    show("memfd_create name too long", raw_syscall2(NR_memfd_create, buf, 0));

    /* pipe2 */
    int p[2];
    show("pipe2 O_NONBLOCK|O_CLOEXEC", raw_syscall2(NR_pipe2, p, K_O_NONBLOCK | K_O_CLOEXEC));
    show("pipe read end F_GETFL", k_fcntl(p[0], K_F_GETFL, 0));
    show("pipe write end F_GETFL", k_fcntl(p[1], K_F_GETFL, 0));
    show("pipe F_GETFD", k_fcntl(p[0], K_F_GETFD, 0));
    show("read empty nonblocking pipe", k_read(p[0], buf, 10));
    show("F_GETPIPE_SZ", k_fcntl(p[0], K_F_GETPIPE_SZ, 0));
    show("F_SETPIPE_SZ 4096", k_fcntl(p[0], K_F_SETPIPE_SZ, 4096));
    show("F_GETPIPE_SZ after", k_fcntl(p[1], K_F_GETPIPE_SZ, 0));
    show("F_SETPIPE_SZ 5000 (rounded up)", k_fcntl(p[0], K_F_SETPIPE_SZ, 5000));
    show("F_SETPIPE_SZ 65536", k_fcntl(p[0], K_F_SETPIPE_SZ, 65536));
    int n = -1;
    show("FIONREAD empty pipe", raw_syscall3(NR_ioctl, p[0], K_FIONREAD, &n));
    printf("FIONREAD empty value: %d\n", n);
    show("write pipe", k_write(p[1], "hello", 5));
    show("FIONREAD pipe", raw_syscall3(NR_ioctl, p[0], K_FIONREAD, &n));
    printf("FIONREAD value: %d\n", n);
    show_read("read pipe 3", p[0], 3);
    show("FIONREAD after read", raw_syscall3(NR_ioctl, p[0], K_FIONREAD, &n));
    printf("FIONREAD value after read: %d\n", n);
    show_read("drain pipe", p[0], 100);
    /* fill the (empty) pipe */
    memset(buf, 'f', sizeof buf);
    long tot = 0;
    while ((r = k_write(p[1], buf, sizeof buf)) > 0)
        tot += r;
    printf("filled nonblocking pipe: %ld then %s\n", tot, fs_ret(r));
    show("write on read end", k_write(p[0], "x", 1));
    show("read on write end", k_read(p[1], buf, 1));
    k_close(p[0]);
    show("F_GET_SEALS on pipe", k_fcntl(p[0], K_F_GET_SEALS, 0));
    show("F_GETPIPE_SZ on file", k_fcntl((r = k_open("src", K_O_RDONLY, 0)), K_F_GETPIPE_SZ, 0));
    k_close(r);
    k_close(p[1]);
    show("pipe2 bad flags", raw_syscall2(NR_pipe2, p, K_O_APPEND));
    show("pipe2 bad pointer", raw_syscall2(NR_pipe2, 8, 0));
    show("pipe (old)", raw_syscall1(NR_pipe, p));
    show("pipe (old) F_GETFL", k_fcntl(p[0], K_F_GETFL, 0));
    k_write(p[1], "q", 1);
    k_close(p[1]);
    show_read("read after writer closed", p[0], 10);
    show("read EOF", k_read(p[0], buf, 10));
    k_close(p[0]);
}

int main(int argc, char **argv)
{
    fs_setup(argc, argv, "fileio");
    test_open();
    test_rw();
    test_truncate();
    test_dup_fcntl();
    test_transfer();
    test_memfd_pipe();
    printf("fileio done\n");
    return 0;
}
