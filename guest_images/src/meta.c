/*
 * meta: inode metadata - stat/lstat/fstat/newfstatat/statx, chmod family
 * (including fchmodat2), chown family, access/faccessat/faccessat2, umask,
 * utimensat/utimes/futimesat/utime, timestamp updates, statfs/fstatfs,
 * getxattr family, flock, POSIX record locks and OFD locks.
 *
 * Usage: meta SCRATCH_DIR   (works only inside SCRATCH_DIR/meta).  Raw
 * syscalls.  Lines whose answer depends on running as root carry
 * "(root=0)" or "(root=1)" in their label; times are printed only when the
 * program set them itself, otherwise compared ("recent=1", "advanced=1").
 */
#include "fsguest.h"

static long uid, gid;
static int root;
static char buf[4096];

static long now_sec(void)
{
    struct kts t;
    raw_syscall2(NR_clock_gettime, 0 /* CLOCK_REALTIME */, &t);
    return t.sec;
}

static int recent(long sec)
{
    long d = sec - now_sec();
    return d >= -5 && d <= 5;
}

static void print_st(const char *what, long r, const struct kstat *st)
{
    if (r) {
        show(what, r);
        return;
    }
    printf("%s: 0 type=%s mode=%04o", what, type_name(st->mode), st->mode & 07777);
    if ((st->mode & K_S_IFMT) != K_S_IFDIR)
        printf(" nlink=%lu", st->nlink);
    if ((st->mode & K_S_IFMT) == K_S_IFREG || (st->mode & K_S_IFMT) == K_S_IFLNK)
        printf(" size=%ld", st->size);
    printf(" uid_is_me=%d gid_is_me=%d\n", st->uid == (unsigned)uid, st->gid == (unsigned)gid);
}

/* stx_mask may hold more than was requested (statx(2)), so only check that
 * every requested bit is there. */
static void print_stx(const char *what, long r, const struct kstatx *sx, unsigned want)
{
    if (r) {
        show(what, r);
        return;
    }
    printf("%s: 0 mask_has_requested=%d type=%s mode=%04o", what, (sx->mask & want) == want,
           type_name(sx->mode), sx->mode & 07777);
    if ((sx->mode & K_S_IFMT) != K_S_IFDIR)
        printf(" nlink=%u", sx->nlink);
    if ((sx->mode & K_S_IFMT) == K_S_IFREG || (sx->mode & K_S_IFMT) == K_S_IFLNK)
        printf(" size=%llu", sx->size);
    printf("\n");
}

static long stx(long dfd, const char *path, long flags, unsigned mask, struct kstatx *sx)
{
    return raw_syscall5(NR_statx, dfd, path, flags, mask, sx);
}

static unsigned mode_of(const char *p)
{
    struct kstat st;
    if (k_lstat(p, &st))
        return 0xffff;
    return st.mode & 07777;
}

static void show_mode(const char *what, const char *p)
{
    unsigned m = mode_of(p);
    if (m == 0xffff)
        printf("%s: stat failed\n", what);
    else
        printf("%s: %04o\n", what, m);
}

static void show_times(const char *what, const char *p, int follow)
{
    struct kstat st;
    long r = follow ? k_stat(p, &st) : k_lstat(p, &st);
    if (r) {
        show(what, r);
        return;
    }
    printf("%s: atime=%lu.%09lu mtime=%lu.%09lu\n", what, st.atime, st.atime_ns, st.mtime,
           st.mtime_ns);
}

static void test_stat(void)
{
    struct kstat st, st2;
    struct kstatx sx;
    long fd;

    put_file("mf", "12345", 5);
    raw_syscall2(NR_symlink, "mf", "ml");
    raw_syscall2(NR_mkdir, "md", 0755);

    print_st("stat file", k_stat("mf", &st), &st);
    print_st("lstat file", k_lstat("mf", &st), &st);
    print_st("stat symlink", k_stat("ml", &st), &st);
    print_st("lstat symlink", k_lstat("ml", &st), &st);
    print_st("stat dir", k_stat("md", &st), &st);
    fd = k_open("mf", K_O_RDONLY, 0);
    print_st("fstat file", k_fstat(fd, &st), &st);
    print_st("newfstatat AT_FDCWD file",
             raw_syscall4(NR_newfstatat, K_AT_FDCWD, "mf", &st, 0), &st);
    print_st("newfstatat symlink (follow)",
             raw_syscall4(NR_newfstatat, K_AT_FDCWD, "ml", &st, 0), &st);
    print_st("newfstatat AT_SYMLINK_NOFOLLOW",
             raw_syscall4(NR_newfstatat, K_AT_FDCWD, "ml", &st, K_AT_SYMLINK_NOFOLLOW), &st);
    print_st("newfstatat AT_EMPTY_PATH fd",
             raw_syscall4(NR_newfstatat, fd, "", &st, K_AT_EMPTY_PATH), &st);
    show("newfstatat '' without AT_EMPTY_PATH", raw_syscall4(NR_newfstatat, fd, "", &st, 0));
    show("newfstatat bad flags", raw_syscall4(NR_newfstatat, K_AT_FDCWD, "mf", &st, 0x1));
    long dfd = k_open(".", K_O_RDONLY | K_O_DIRECTORY, 0);
    print_st("newfstatat dirfd name", raw_syscall4(NR_newfstatat, dfd, "mf", &st, 0), &st);
    show("newfstatat file fd as dirfd", raw_syscall4(NR_newfstatat, fd, "x", &st, 0));
    show("stat missing", k_stat("missing", &st));
    show("stat bad path", k_stat((const char *)8, &st));
    show("stat bad buffer", k_stat("mf", (struct kstat *)8));
    show("fstat bad fd", k_fstat(999, &st));
    long pfd = k_open("ml", K_O_PATH | K_O_NOFOLLOW, 0);
    print_st("fstat O_PATH|O_NOFOLLOW symlink", k_fstat(pfd, &st), &st);
    k_close(pfd);

    memset(&sx, 0, sizeof sx);
    print_stx("statx file",
              stx(K_AT_FDCWD, "mf", 0, K_STATX_BASIC_STATS, &sx), &sx, K_STATX_BASIC_STATS);
    k_stat("mf", &st);
    unsigned long sdev = (sx.dev_minor & 0xff) | ((unsigned long)sx.dev_major << 8) |
                         ((unsigned long)(sx.dev_minor & ~0xffU) << 12);
    printf("statx agrees with stat (ino dev mode size nlink uid gid times): %d\n",
           sx.ino == st.ino && sdev == st.dev && sx.mode == st.mode &&
               sx.size == (unsigned long long)st.size && sx.nlink == st.nlink &&
               sx.uid == st.uid && sx.gid == st.gid &&
               sx.mtime.sec == (long long)st.mtime && sx.mtime.nsec == st.mtime_ns &&
               sx.atime.sec == (long long)st.atime && sx.ctime.nsec == st.ctime_ns);
    print_stx("statx symlink follow",
              stx(K_AT_FDCWD, "ml", 0, K_STATX_BASIC_STATS, &sx), &sx, K_STATX_BASIC_STATS);
    print_stx("statx symlink NOFOLLOW",
              stx(K_AT_FDCWD, "ml", K_AT_SYMLINK_NOFOLLOW, K_STATX_BASIC_STATS, &sx), &sx, K_STATX_BASIC_STATS);
    print_stx("statx dir",
              stx(K_AT_FDCWD, "md", 0, K_STATX_BASIC_STATS, &sx), &sx, K_STATX_BASIC_STATS);
    print_stx("statx AT_EMPTY_PATH fd",
              stx(fd, "", K_AT_EMPTY_PATH, K_STATX_BASIC_STATS, &sx), &sx, K_STATX_BASIC_STATS);
    print_stx("statx mask TYPE|SIZE only",
              raw_syscall5(NR_statx, K_AT_FDCWD, "mf", 0, K_STATX_TYPE | K_STATX_SIZE, &sx), &sx,
              K_STATX_TYPE | K_STATX_SIZE);
    show("statx '' without AT_EMPTY_PATH",
         raw_syscall5(NR_statx, fd, "", 0, K_STATX_BASIC_STATS, &sx));
    show("statx STATX__RESERVED",
         raw_syscall5(NR_statx, K_AT_FDCWD, "mf", 0, K_STATX__RESERVED, &sx));
    show("statx bad flags",
         raw_syscall5(NR_statx, K_AT_FDCWD, "mf", 0x1, K_STATX_BASIC_STATS, &sx));
    show("statx FORCE_SYNC|DONT_SYNC",
         raw_syscall5(NR_statx, K_AT_FDCWD, "mf", 0x6000, K_STATX_BASIC_STATS, &sx));
    show("statx missing",
         raw_syscall5(NR_statx, K_AT_FDCWD, "missing", 0, K_STATX_BASIC_STATS, &sx));
    show("statx bad buffer", raw_syscall5(NR_statx, K_AT_FDCWD, "mf", 0, K_STATX_BASIC_STATS, 8));
    k_close(fd);
    k_close(dfd);

    /* hard link count and size track changes */
    raw_syscall2(NR_link, "mf", "mf2");
    k_stat("mf", &st);
    put_file("mf3", "", 0);
    k_stat("mf3", &st2);
    printf("after link: nlink=%lu; empty file size=%ld\n", st.nlink, st2.size);
    raw_syscall1(NR_unlink, "mf2");
}

static void test_chmod_chown(void)
{
    long fd, r;
    put_file("cm", "x", 1);
    show("chmod 0600", raw_syscall2(NR_chmod, "cm", 0600));
    show_mode("mode", "cm");
    fd = k_open("cm", K_O_RDONLY, 0);
    show("fchmod 0640", raw_syscall2(NR_fchmod, fd, 0640));
    show_mode("mode", "cm");
    show("fchmodat 0604", raw_syscall3(NR_fchmodat, K_AT_FDCWD, "cm", 0604));
    show_mode("mode", "cm");
    show("chmod 04755", raw_syscall2(NR_chmod, "cm", 04755));
    show_mode("mode", "cm");
    show("chmod 0", raw_syscall2(NR_chmod, "cm", 0));
    show_mode("mode", "cm");
    show("chmod 0177777 (type bits ignored)", raw_syscall2(NR_chmod, "cm", 0177777));
    show_mode("mode", "cm");
    printf("still a regular file: %d\n", (mode_of("cm") != 0xffff));
    show("chmod missing", raw_syscall2(NR_chmod, "missing", 0644));
    show("fchmod bad fd", raw_syscall2(NR_fchmod, 999, 0644));
    show("chmod 0644", raw_syscall2(NR_chmod, "cm", 0644));

    raw_syscall2(NR_symlink, "cm", "cl");
    show("chmod via symlink 0600", raw_syscall2(NR_chmod, "cl", 0600));
    show_mode("target mode", "cm");
    show_mode("symlink mode", "cl");
    show("fchmodat ignores its 4th arg (AT_SYMLINK_NOFOLLOW) 0640",
         raw_syscall4(NR_fchmodat, K_AT_FDCWD, "cl", 0640, K_AT_SYMLINK_NOFOLLOW));
    show_mode("target mode", "cm");
    show("fchmodat2 symlink AT_SYMLINK_NOFOLLOW",
         raw_syscall4(NR_fchmodat2, K_AT_FDCWD, "cl", 0600, K_AT_SYMLINK_NOFOLLOW));
    show_mode("symlink mode", "cl");
    show("fchmodat2 file AT_SYMLINK_NOFOLLOW 0620",
         raw_syscall4(NR_fchmodat2, K_AT_FDCWD, "cm", 0620, K_AT_SYMLINK_NOFOLLOW));
    show_mode("target mode", "cm");
    show("fchmodat2 AT_EMPTY_PATH fd 0644",
         raw_syscall4(NR_fchmodat2, fd, "", 0644, K_AT_EMPTY_PATH));
    show_mode("mode", "cm");
    show("fchmodat2 bad flags", raw_syscall4(NR_fchmodat2, K_AT_FDCWD, "cm", 0644, 0x1));
    long pfd = k_open("cm", K_O_PATH, 0);
    show("fchmod on O_PATH fd", raw_syscall2(NR_fchmod, pfd, 0644));
    k_close(pfd);

    /* chown to ourselves */
    show("chown self", raw_syscall3(NR_chown, "cm", uid, gid));
    show("chown -1 -1", raw_syscall3(NR_chown, "cm", -1, -1));
    show("fchown self", raw_syscall3(NR_fchown, fd, uid, gid));
    show("lchown symlink self", raw_syscall3(NR_lchown, "cl", uid, gid));
    show("fchownat AT_SYMLINK_NOFOLLOW",
         raw_syscall5(NR_fchownat, K_AT_FDCWD, "cl", uid, gid, K_AT_SYMLINK_NOFOLLOW));
    show("fchownat AT_EMPTY_PATH", raw_syscall5(NR_fchownat, fd, "", -1, gid, K_AT_EMPTY_PATH));
    show("fchownat bad flags", raw_syscall5(NR_fchownat, K_AT_FDCWD, "cm", uid, gid, 0x1));
    show("chown missing", raw_syscall3(NR_chown, "missing", uid, gid));
    show("fchown bad fd", raw_syscall3(NR_fchown, 999, uid, gid));
    show("chmod 06755", raw_syscall2(NR_chmod, "cm", 06755));
    show("fchown -1 -1 (clears set-id bits)", raw_syscall3(NR_fchown, fd, -1, -1));
    show_mode("mode after chown", "cm");
    show("chmod 02750", raw_syscall2(NR_chmod, "cm", 02750));
    show("chown self (group-exec setgid cleared)", raw_syscall3(NR_chown, "cm", uid, gid));
    show_mode("mode after chown", "cm");
    show("mkdir setgiddir 02755", raw_syscall2(NR_mkdir, "sgd", 0755));
    raw_syscall2(NR_chmod, "sgd", 02755);
    show("chown dir self (dir keeps setgid)", raw_syscall3(NR_chown, "sgd", uid, gid));
    show_mode("dir mode after chown", "sgd");
    put_file("other", "o", 1);
    r = raw_syscall3(NR_chown, "other", uid + 1, -1);
    printf("chown to another uid (root=%d): %s\n", root, fs_ret(r));
    k_close(fd);
}

static void test_access(void)
{
    static const unsigned modes[] = {0, 0400, 0700, 0111};
    static const struct { int m; const char *n; } what[] = {
        {K_F_OK, "F_OK"}, {K_R_OK, "R_OK"}, {K_W_OK, "W_OK"}, {K_X_OK, "X_OK"}};
    char name[32], label[96];

    for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        snprintf(name, sizeof name, "a%04o", modes[i]);
        put_file(name, "a", 1);
        raw_syscall2(NR_chmod, name, modes[i]);
        for (unsigned j = 0; j < 4; j++) {
            snprintf(label, sizeof label, "access %04o %s (root=%d)", modes[i], what[j].n, root);
            show(label, raw_syscall2(NR_access, name, what[j].m));
            snprintf(label, sizeof label, "faccessat %04o %s (root=%d)", modes[i], what[j].n, root);
            show(label, raw_syscall3(NR_faccessat, K_AT_FDCWD, name, what[j].m));
            snprintf(label, sizeof label, "faccessat2 AT_EACCESS %04o %s (root=%d)", modes[i],
                     what[j].n, root);
            show(label, raw_syscall4(NR_faccessat2, K_AT_FDCWD, name, what[j].m, K_AT_EACCESS));
        }
    }
    snprintf(label, sizeof label, "access 0400 R_OK|W_OK (root=%d)", root);
    show(label, raw_syscall2(NR_access, "a0400", K_R_OK | K_W_OK));
    show("access bad mode 8", raw_syscall2(NR_access, "a0400", 8));
    show("access missing", raw_syscall2(NR_access, "missing", K_F_OK));
    show("access file/x", raw_syscall2(NR_access, "a0400/x", K_F_OK));
    show("faccessat2 bad flags", raw_syscall4(NR_faccessat2, K_AT_FDCWD, "a0400", K_F_OK, 0x1));
    raw_syscall2(NR_symlink, "nowhere", "adangle");
    show("access dangling symlink", raw_syscall2(NR_access, "adangle", K_F_OK));
    show("faccessat2 AT_SYMLINK_NOFOLLOW dangling",
         raw_syscall4(NR_faccessat2, K_AT_FDCWD, "adangle", K_F_OK, K_AT_SYMLINK_NOFOLLOW));
    long fd = k_open("a0700", K_O_PATH, 0);
    show("faccessat2 AT_EMPTY_PATH fd X_OK",
         raw_syscall4(NR_faccessat2, fd, "", K_X_OK, K_AT_EMPTY_PATH));
    k_close(fd);
    raw_syscall2(NR_mkdir, "d0000", 0755);
    put_file("d0000/inside", "i", 1);
    raw_syscall2(NR_chmod, "d0000", 0);
    snprintf(label, sizeof label, "access dir 0000 X_OK (root=%d)", root);
    show(label, raw_syscall2(NR_access, "d0000", K_X_OK));
    snprintf(label, sizeof label, "access dir 0000 R_OK (root=%d)", root);
    show(label, raw_syscall2(NR_access, "d0000", K_R_OK));
    struct kstat st;
    snprintf(label, sizeof label, "stat through dir 0000 (root=%d)", root);
    show(label, k_stat("d0000/inside", &st));
    snprintf(label, sizeof label, "open dir 0000 (root=%d)", root);
    long r = k_open("d0000", K_O_RDONLY | K_O_DIRECTORY, 0);
    show_fd(label, r);
    if (r >= 0)
        k_close(r);
    raw_syscall2(NR_chmod, "d0000", 0755);
    snprintf(label, sizeof label, "open 0000 file O_RDONLY (root=%d)", root);
    r = k_open("a0000", K_O_RDONLY, 0);
    show_fd(label, r);
    if (r >= 0)
        k_close(r);
    snprintf(label, sizeof label, "open 0400 file O_WRONLY (root=%d)", root);
    r = k_open("a0400", K_O_WRONLY, 0);
    show_fd(label, r);
    if (r >= 0)
        k_close(r);
    raw_syscall2(NR_chmod, "d0000", 0555);
    snprintf(label, sizeof label, "create in dir 0555 (root=%d)", root);
    r = k_open("d0000/new", K_O_WRONLY | K_O_CREAT, 0644);
    show_fd(label, r);
    if (r >= 0)
        k_close(r);
    snprintf(label, sizeof label, "unlink in dir 0555 (root=%d)", root);
    show(label, raw_syscall1(NR_unlink, "d0000/inside"));
    raw_syscall2(NR_chmod, "d0000", 0755);
}

static void test_umask(void)
{
    printf("umask(077) returns: %04lo\n", raw_syscall1(NR_umask, 077));
    long fd = k_open("um_file", K_O_RDWR | K_O_CREAT, 0666);
    k_close(fd);
    show_mode("file 0666 under 077", "um_file");
    raw_syscall2(NR_mkdir, "um_dir", 0777);
    show_mode("dir 0777 under 077", "um_dir");
    raw_syscall3(NR_mknod, "um_fifo", K_S_IFIFO | 0666, 0);
    show_mode("fifo 0666 under 077", "um_fifo");
    raw_syscall2(NR_symlink, "um_file", "um_link");
    show_mode("symlink under 077", "um_link");
    fd = raw_syscall2(NR_creat, "um_creat", 0755);
    k_close(fd);
    show_mode("creat 0755 under 077", "um_creat");
    fd = k_open("um_file", K_O_RDWR | K_O_CREAT, 0777);
    show_fd("open O_CREAT existing", fd);
    k_close(fd);
    show_mode("existing file keeps its mode", "um_file");
    printf("umask(01777) returns: %04lo\n", raw_syscall1(NR_umask, 01777));
    printf("umask(022) returns (01777 was masked to 0777): %04lo\n", raw_syscall1(NR_umask, 022));
    fd = k_open("um_022", K_O_RDWR | K_O_CREAT, 0666);
    k_close(fd);
    show_mode("file 0666 under 022", "um_022");
    show("chmod not affected by umask", raw_syscall2(NR_chmod, "um_022", 0777));
    show_mode("mode", "um_022");
}

static void test_times(void)
{
    struct kts ts[2];
    struct ktv tv[2];
    struct kstat st, st0;
    long fd;

    put_file("tm", "time", 4);
    raw_syscall2(NR_symlink, "tm", "tml");
    ts[0].sec = 1000000000; ts[0].nsec = 123456789;
    ts[1].sec = 1234567890; ts[1].nsec = 987654321;
    show("utimensat explicit", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0));
    show_times("times", "tm", 0);
    k_stat("tm", &st);
    printf("ctime recent after utimensat: %d\n", recent(st.ctime));
    ts[0].sec = 1500000000; ts[0].nsec = K_UTIME_OMIT;
    ts[1].sec = 1600000000; ts[1].nsec = 5;
    show("utimensat atime OMIT", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0));
    show_times("times", "tm", 0);
    ts[0].nsec = 0; ts[1].nsec = K_UTIME_OMIT;
    show("utimensat mtime OMIT", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0));
    show_times("times", "tm", 0);
    ts[0].nsec = K_UTIME_NOW; ts[1].nsec = K_UTIME_OMIT;
    show("utimensat atime NOW", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0));
    k_stat("tm", &st);
    printf("atime recent=%d mtime kept=%d\n",
           recent(st.atime), st.mtime == 1600000000 && st.mtime_ns == 5);
    show("utimensat NULL (both now)", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", 0, 0));
    k_stat("tm", &st);
    printf("atime recent=%d mtime recent=%d\n", recent(st.atime), recent(st.mtime));
    ts[0].sec = 4102444800; ts[0].nsec = 0; /* 2100-01-01 */
    ts[1].sec = 2000000000; ts[1].nsec = 999999999;
    show("utimensat year 2100", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0));
    show_times("times", "tm", 0);
    ts[0].sec = 1; ts[0].nsec = 1000000000;
    show("utimensat nsec 1e9", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0));
    ts[0].nsec = -1;
    show("utimensat nsec -1", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0));
    ts[0].nsec = 0;
    show("utimensat bad flags", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0x1));
    show("utimensat missing", raw_syscall4(NR_utimensat, K_AT_FDCWD, "missing", ts, 0));
    show("utimensat bad times pointer", raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", 8, 0));

    /* symlink itself vs its target */
    k_stat("tm", &st0);
    ts[0].sec = 1100000000; ts[0].nsec = 1;
    ts[1].sec = 1100000000; ts[1].nsec = 2;
    show("utimensat symlink AT_SYMLINK_NOFOLLOW",
         raw_syscall4(NR_utimensat, K_AT_FDCWD, "tml", ts, K_AT_SYMLINK_NOFOLLOW));
    show_times("symlink times", "tml", 0);
    k_stat("tm", &st);
    printf("target unchanged: %d\n", st.mtime == st0.mtime && st.mtime_ns == st0.mtime_ns);

    /* through an fd */
    fd = k_open("tm", K_O_RDONLY, 0);
    ts[0].sec = 1300000000; ts[0].nsec = 300;
    ts[1].sec = 1300000001; ts[1].nsec = 301;
    show("utimensat fd NULL path (futimens)", raw_syscall4(NR_utimensat, fd, 0, ts, 0));
    show_times("times", "tm", 0);
    ts[1].nsec = 302;
    show("utimensat fd '' AT_EMPTY_PATH", raw_syscall4(NR_utimensat, fd, "", ts, K_AT_EMPTY_PATH));
    show_times("times", "tm", 0);
    show("utimensat fd '' without AT_EMPTY_PATH", raw_syscall4(NR_utimensat, fd, "", ts, 0));
    show("utimensat bad fd NULL path", raw_syscall4(NR_utimensat, 999, 0, ts, 0));
    k_close(fd);

    /* microsecond and second interfaces */
    tv[0].sec = 1100000000; tv[0].usec = 250000;
    tv[1].sec = 1100000001; tv[1].usec = 500000;
    show("utimes", raw_syscall2(NR_utimes, "tm", tv));
    show_times("times", "tm", 0);
    tv[1].usec = 1000000;
    show("utimes usec 1e6", raw_syscall2(NR_utimes, "tm", tv));
    tv[1].usec = 7;
    long dfd = k_open(".", K_O_RDONLY | K_O_DIRECTORY, 0);
    show("futimesat dirfd", raw_syscall3(NR_futimesat, dfd, "tm", tv));
    show_times("times", "tm", 0);
    show("futimesat AT_FDCWD NULL", raw_syscall3(NR_futimesat, K_AT_FDCWD, "tm", 0));
    k_stat("tm", &st);
    printf("after futimesat NULL: atime recent=%d mtime recent=%d\n",
           recent(st.atime), recent(st.mtime));
    k_close(dfd);
    long ub[2] = {1200000000, 1200000009};
    show("utime", raw_syscall2(NR_utime, "tm", ub));
    show_times("times", "tm", 0);
    show("utime NULL", raw_syscall2(NR_utime, "tm", 0));
    k_stat("tm", &st);
    printf("after utime NULL: mtime recent=%d\n", recent(st.mtime));

    /* content changes move mtime/ctime; reads do not move mtime */
    ts[0].sec = 1000000000; ts[0].nsec = 0;
    ts[1].sec = 1000000000; ts[1].nsec = 0;
    raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0);
    fd = k_open("tm", K_O_RDWR, 0);
    k_read(fd, buf, 10);
    k_fstat(fd, &st);
    printf("read keeps mtime: %d\n", st.mtime == 1000000000 && st.mtime_ns == 0);
    k_write(fd, "more", 4);
    k_fstat(fd, &st);
    printf("write advanced mtime: %d recent=%d\n", st.mtime > 1000000000, recent(st.mtime));
    raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0);
    raw_syscall2(NR_ftruncate, fd, 2);
    k_fstat(fd, &st);
    printf("ftruncate advanced mtime: %d\n", st.mtime > 1000000000);
    raw_syscall4(NR_utimensat, K_AT_FDCWD, "tm", ts, 0);
    raw_syscall2(NR_ftruncate, fd, 2);
    k_fstat(fd, &st);
    printf("ftruncate to same size advanced mtime: %d\n", st.mtime > 1000000000);
    k_fstat(fd, &st0);
    raw_syscall2(NR_fchmod, fd, 0600);
    k_fstat(fd, &st);
    printf("fchmod: ctime advanced or equal=%d mtime unchanged=%d\n",
           st.ctime > st0.ctime || (st.ctime == st0.ctime && st.ctime_ns >= st0.ctime_ns),
           st.mtime == st0.mtime && st.mtime_ns == st0.mtime_ns);
    k_close(fd);
    raw_syscall2(NR_mkdir, "tdir", 0755);
    raw_syscall4(NR_utimensat, K_AT_FDCWD, "tdir", ts, 0);
    put_file("tdir/new", "n", 1);
    k_stat("tdir", &st);
    printf("creating an entry advanced dir mtime: %d\n", st.mtime > 1000000000);
    raw_syscall4(NR_utimensat, K_AT_FDCWD, "tdir", ts, 0);
    raw_syscall1(NR_unlink, "tdir/new");
    k_stat("tdir", &st);
    printf("removing an entry advanced dir mtime: %d\n", st.mtime > 1000000000);
}

static void test_statfs_xattr(void)
{
    long sfs[15];
    long fd = k_open("mf", K_O_RDONLY, 0);
    show("statfs", raw_syscall2(NR_statfs, "mf", sfs));
    show("fstatfs", raw_syscall2(NR_fstatfs, fd, sfs));
    show("statfs missing", raw_syscall2(NR_statfs, "missing", sfs));
    show("fstatfs bad fd", raw_syscall2(NR_fstatfs, 999, sfs));
    show("statfs bad buffer", raw_syscall2(NR_statfs, "mf", 8));
    /* struct statfs is 120 bytes on x86-64: f_spare[4] is written (zeros), no more */
    unsigned char raw[136];
    memset(raw, 0xAA, sizeof raw);
    raw_syscall2(NR_statfs, "mf", raw);
    int written = sizeof raw;
    while (written > 0 && raw[written - 1] == 0xAA)
        written--;
    printf("statfs bytes written: %d\n", written);

    show("getxattr user.pyunik (fs-dependent)",
         raw_syscall4(NR_getxattr, "mf", "user.pyunik", buf, sizeof buf));
    show("fgetxattr user.pyunik (fs-dependent)",
         raw_syscall4(NR_fgetxattr, fd, "user.pyunik", buf, sizeof buf));
    show("lgetxattr symlink user.pyunik",
         raw_syscall4(NR_lgetxattr, "ml", "user.pyunik", buf, sizeof buf));
    show("getxattr empty name", raw_syscall4(NR_getxattr, "mf", "", buf, sizeof buf));
    show("getxattr name without namespace",
         raw_syscall4(NR_getxattr, "mf", "pyunik", buf, sizeof buf));
    memset(buf, 'x', 300);
    memcpy(buf, "user.", 5);
    buf[300] = 0;
    show("getxattr name too long", raw_syscall4(NR_getxattr, "mf", buf, buf + 512, 64));
    show("getxattr missing file", raw_syscall4(NR_getxattr, "missing", "user.pyunik", buf, 64));
    show("fgetxattr bad fd", raw_syscall4(NR_fgetxattr, 999, "user.pyunik", buf, 64));
    k_close(fd);
}

static void show_lk(const char *what, long r, const struct kflock *l)
{
    static const char *tn[] = {"F_RDLCK", "F_WRLCK", "F_UNLCK"};
    long pid = raw_syscall0(NR_getpid);
    if (r) {
        show(what, r);
        return;
    }
    if (l->type == K_F_UNLCK)
        printf("%s: 0 type=F_UNLCK\n", what);
    else
        printf("%s: 0 type=%s whence=%d start=%ld len=%ld pid=%s\n", what,
               l->type >= 0 && l->type <= 2 ? tn[l->type] : "?", l->whence, l->start, l->len,
               l->pid == -1 ? "-1" : l->pid == pid ? "self" : "other");
}

static struct kflock lk(int type, long start, long len)
{
    struct kflock l;
    memset(&l, 0, sizeof l);
    l.type = (short)type;
    l.whence = 0;
    l.start = start;
    l.len = len;
    return l;
}

static void test_locks(void)
{
    struct kflock l;
    put_file("lk", "0123456789abcdefghij", 20);
    long a = k_open("lk", K_O_RDWR, 0);
    long b = k_open("lk", K_O_RDWR, 0);
    long ad = raw_syscall1(NR_dup, a);

    /* flock: owned by the open file description */
    show("flock a LOCK_EX|LOCK_NB", raw_syscall2(NR_flock, a, K_LOCK_EX | K_LOCK_NB));
    show("flock b LOCK_EX|LOCK_NB", raw_syscall2(NR_flock, b, K_LOCK_EX | K_LOCK_NB));
    show("flock b LOCK_SH|LOCK_NB", raw_syscall2(NR_flock, b, K_LOCK_SH | K_LOCK_NB));
    show("flock a again (same open)", raw_syscall2(NR_flock, a, K_LOCK_EX | K_LOCK_NB));
    show("flock dup of a", raw_syscall2(NR_flock, ad, K_LOCK_EX | K_LOCK_NB));
    show("flock a downgrade LOCK_SH", raw_syscall2(NR_flock, a, K_LOCK_SH | K_LOCK_NB));
    show("flock b LOCK_SH|LOCK_NB while a shared",
         raw_syscall2(NR_flock, b, K_LOCK_SH | K_LOCK_NB));
    show("flock a upgrade LOCK_EX while b shared",
         raw_syscall2(NR_flock, a, K_LOCK_EX | K_LOCK_NB));
    show("flock b LOCK_UN", raw_syscall2(NR_flock, b, K_LOCK_UN));
    show("flock a LOCK_UN", raw_syscall2(NR_flock, a, K_LOCK_UN));
    show("flock b LOCK_EX|LOCK_NB after unlock", raw_syscall2(NR_flock, b, K_LOCK_EX | K_LOCK_NB));
    show("flock bad op", raw_syscall2(NR_flock, a, 0));
    show("flock bad op 3", raw_syscall2(NR_flock, a, 3 | K_LOCK_NB));
    show("flock bad fd", raw_syscall2(NR_flock, 999, K_LOCK_EX));
    long c = k_open("lk", K_O_RDONLY, 0);
    show("flock LOCK_EX on O_RDONLY fd while b holds",
         raw_syscall2(NR_flock, c, K_LOCK_EX | K_LOCK_NB));
    k_close(b); /* releases b's flock */
    show("flock O_RDONLY fd LOCK_EX after close of holder",
         raw_syscall2(NR_flock, c, K_LOCK_EX | K_LOCK_NB));
    k_close(c);
    b = k_open("lk", K_O_RDWR, 0);

    /* POSIX record locks: owned by the process, so never conflict with ourselves */
    l = lk(K_F_WRLCK, 0, 10);
    show("F_SETLK a WRLCK 0+10", k_fcntl(a, K_F_SETLK, (long)&l));
    l = lk(K_F_WRLCK, 0, 10);
    show_lk("F_GETLK a WRLCK 0+10 (own lock)", k_fcntl(a, K_F_GETLK, (long)&l), &l);
    l = lk(K_F_WRLCK, 5, 10);
    show("F_SETLK b WRLCK 5+10 (same process)", k_fcntl(b, K_F_SETLK, (long)&l));
    l = lk(K_F_RDLCK, 0, 0);
    show_lk("F_GETLK b RDLCK whole (same process)", k_fcntl(b, K_F_GETLK, (long)&l), &l);
    show("flock while POSIX lock held", raw_syscall2(NR_flock, b, K_LOCK_EX | K_LOCK_NB));
    raw_syscall2(NR_flock, b, K_LOCK_UN);
    /* an OFD lock is a different owner: it sees the POSIX lock */
    l = lk(K_F_WRLCK, 0, 1);
    show_lk("F_OFD_GETLK b sees POSIX lock", k_fcntl(b, K_F_OFD_GETLK, (long)&l), &l);
    l = lk(K_F_RDLCK, 2, 1);
    show("F_OFD_SETLK b RDLCK over POSIX lock", k_fcntl(b, K_F_OFD_SETLK, (long)&l));
    /* closing ANY descriptor of the file drops all the process's POSIX locks on it */
    c = k_open("lk", K_O_RDONLY, 0);
    k_close(c);
    l = lk(K_F_WRLCK, 0, 20);
    show_lk("F_OFD_GETLK b after closing another fd", k_fcntl(b, K_F_OFD_GETLK, (long)&l), &l);
    l = lk(K_F_UNLCK, 0, 0);
    show("F_SETLK a UNLCK", k_fcntl(a, K_F_SETLK, (long)&l));
    c = k_open("lk", K_O_RDONLY, 0);
    l = lk(K_F_WRLCK, 0, 1);
    show("F_SETLK WRLCK on O_RDONLY fd", k_fcntl(c, K_F_SETLK, (long)&l));
    l = lk(K_F_RDLCK, 0, 1);
    show("F_SETLK RDLCK on O_RDONLY fd", k_fcntl(c, K_F_SETLK, (long)&l));
    l = lk(K_F_UNLCK, 0, 0);
    k_fcntl(c, K_F_SETLK, (long)&l);
    k_close(c);
    c = k_open("lk", K_O_WRONLY, 0);
    l = lk(K_F_RDLCK, 0, 1);
    show("F_SETLK RDLCK on O_WRONLY fd", k_fcntl(c, K_F_SETLK, (long)&l));
    k_close(c);
    l = lk(7, 0, 1);
    show("F_SETLK bad type", k_fcntl(a, K_F_SETLK, (long)&l));
    show("F_GETLK bad type", k_fcntl(a, K_F_GETLK, (long)&l));
    l = lk(K_F_WRLCK, -5, 1);
    show("F_SETLK negative start", k_fcntl(a, K_F_SETLK, (long)&l));
    l = lk(K_F_WRLCK, 0, 1);
    l.whence = 9;
    show("F_SETLK bad whence", k_fcntl(a, K_F_SETLK, (long)&l));
    l = lk(K_F_WRLCK, 5, -3);
    show("F_SETLK negative len (covers 2..4)", k_fcntl(a, K_F_SETLK, (long)&l));
    l = lk(K_F_WRLCK, 0, 0);
    show_lk("F_OFD_GETLK b sees 2..4", k_fcntl(b, K_F_OFD_GETLK, (long)&l), &l);
    l = lk(K_F_UNLCK, 0, 0);
    k_fcntl(a, K_F_SETLK, (long)&l);
    show("F_SETLK bad pointer", k_fcntl(a, K_F_SETLK, 8));
    l = lk(K_F_UNLCK, 0, 0);
    k_fcntl(b, K_F_OFD_SETLK, (long)&l);

    /* OFD locks: owned by the open file description */
    l = lk(K_F_WRLCK, 0, 10);
    show("F_OFD_SETLK a WRLCK 0+10", k_fcntl(a, K_F_OFD_SETLK, (long)&l));
    l = lk(K_F_WRLCK, 0, 10);
    show("F_OFD_SETLK b WRLCK 0+10", k_fcntl(b, K_F_OFD_SETLK, (long)&l));
    l = lk(K_F_RDLCK, 5, 1);
    show("F_OFD_SETLK b RDLCK 5+1", k_fcntl(b, K_F_OFD_SETLK, (long)&l));
    l = lk(K_F_RDLCK, 10, 10);
    show("F_OFD_SETLK b RDLCK 10+10 (no overlap)", k_fcntl(b, K_F_OFD_SETLK, (long)&l));
    l = lk(K_F_WRLCK, 0, 5);
    show_lk("F_OFD_GETLK b WRLCK 0+5", k_fcntl(b, K_F_OFD_GETLK, (long)&l), &l);
    l = lk(K_F_WRLCK, 0, 0);
    show_lk("F_GETLK (POSIX) b whole file", k_fcntl(b, K_F_GETLK, (long)&l), &l);
    l = lk(K_F_WRLCK, 0, 1);
    show("F_SETLK (POSIX) a over a's OFD lock", k_fcntl(a, K_F_SETLK, (long)&l));
    l = lk(K_F_WRLCK, 0, 10);
    show("F_OFD_SETLK on dup of a (same OFD)", k_fcntl(ad, K_F_OFD_SETLK, (long)&l));
    l = lk(K_F_WRLCK, 0, 10);
    l.pid = 1;
    show("F_OFD_SETLK with l_pid != 0", k_fcntl(a, K_F_OFD_SETLK, (long)&l));
    show("F_OFD_GETLK with l_pid != 0", k_fcntl(a, K_F_OFD_GETLK, (long)&l));
    k_close(ad); /* a's lock survives: the description is still open */
    l = lk(K_F_WRLCK, 0, 1);
    show("F_OFD_SETLK b after closing dup of a", k_fcntl(b, K_F_OFD_SETLK, (long)&l));
    k_close(a); /* last reference: the lock goes */
    l = lk(K_F_WRLCK, 0, 1);
    show("F_OFD_SETLK b after closing a", k_fcntl(b, K_F_OFD_SETLK, (long)&l));
    l = lk(K_F_WRLCK, 0, 0);
    show_lk("F_OFD_GETLK b own locks", k_fcntl(b, K_F_OFD_GETLK, (long)&l), &l);
    k_close(b);
}

int main(int argc, char **argv)
{
    fs_setup(argc, argv, "meta");
    uid = raw_syscall0(NR_getuid);
    gid = raw_syscall0(NR_getgid);
    root = uid == 0;
    printf("running as root: %d\n", root);
    test_stat();
    test_chmod_chown();
    test_access();
    test_umask();
    test_times();
    test_statfs_xattr();
    test_locks();
    printf("meta done\n");
    return 0;
}
