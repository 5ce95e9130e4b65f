/*
 * dirs: the name space - mkdir/rmdir/unlink/rename (all *at and renameat2
 * variants), link/symlink/readlink, getdents/getdents64, chdir/fchdir/getcwd,
 * symlink resolution (loops, the 40-link limit, trailing slashes, dangling
 * links with O_CREAT, absolute links), mknod of fifos and regular files.
 *
 * Usage: dirs SCRATCH_DIR   (works only inside SCRATCH_DIR/dirs).  Raw
 * syscalls; getcwd results are printed relative to SCRATCH_DIR/dirs
 * ("<top>/..."); directory listings are sorted; inode numbers, directory
 * sizes and directory link counts are never printed.
 */
#include "fsguest.h"

static char top[4096];
static long toplen;
static char buf[8192];

static void show_cwd(const char *what)
{
    char cwd[4096];
    long r = raw_syscall2(NR_getcwd, cwd, sizeof cwd);
    if (r < 0) {
        show(what, r);
        return;
    }
    if (strncmp(cwd, top, toplen) == 0 && (cwd[toplen] == 0 || cwd[toplen] == '/'))
        printf("%s: <top>%s\n", what, cwd + toplen);
    else
        printf("%s: outside scratch dir\n", what);
}

static void show_link(const char *what, const char *path)
{
    char t[256];
    long r = raw_syscall3(NR_readlink, path, t, sizeof t);
    if (r < 0)
        show(what, r);
    else
        print_bytes(what, t, r);
}

static void show_file(const char *what, const char *path)
{
    long n = get_file(path, buf, sizeof buf);
    if (n < 0)
        show(what, n);
    else
        print_bytes(what, buf, n);
}

static void show_type(const char *what, const char *path, int follow)
{
    struct kstat st;
    long r = follow ? k_stat(path, &st) : k_lstat(path, &st);
    if (r)
        show(what, r);
    else
        printf("%s: %s\n", what, type_name(st.mode));
}

static long nlink_of(const char *path)
{
    struct kstat st;
    long r = k_lstat(path, &st);
    return r ? r : (long)st.nlink;
}

static int same_file(const char *a, const char *b)
{
    struct kstat sa, sb;
    if (k_stat(a, &sa) || k_stat(b, &sb))
        return -1;
    return sa.dev == sb.dev && sa.ino == sb.ino;
}

static char dtype_letter(unsigned t)
{
    switch (t) {
    case 0: return '?';
    case 1: return 'p';
    case 2: return 'c';
    case 4: return 'd';
    case 6: return 'b';
    case 8: return 'f';
    case 10: return 'l';
    case 12: return 's';
    default: return '!';
    }
}

struct ent {
    char name[64];
    char type;
};

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

/* List a directory with getdents64 (or old getdents), sorted by name. */
static void list_dir(const char *what, long fd, int old)
{
    static struct ent ents[256];
    int n = 0;
    long r;
    char dbuf[1024];
    while ((r = raw_syscall3(old ? NR_getdents : NR_getdents64, fd, dbuf, sizeof dbuf)) > 0) {
        for (long pos = 0; pos < r;) {
            unsigned short reclen;
            const char *name;
            unsigned char type;
            if (old) {
                /* struct linux_dirent: ino, off, reclen, name..., pad, type */
                reclen = *(unsigned short *)(dbuf + pos + 16);
                name = dbuf + pos + 18;
                type = (unsigned char)dbuf[pos + reclen - 1];
            } else {
                struct kdirent64 *d = (struct kdirent64 *)(dbuf + pos);
                reclen = d->reclen;
                name = d->name;
                type = d->type;
            }
            if (n < 256) {
                snprintf(ents[n].name, sizeof ents[n].name, "%s", name);
                ents[n].type = dtype_letter(type);
                n++;
            }
            pos += reclen;
        }
    }
    if (r < 0) {
        show(what, r);
        return;
    }
    qsort(ents, n, sizeof ents[0], ent_cmp);
    printf("%s: %d entries:", what, n);
    for (int i = 0; i < n; i++)
        printf(" %s:%c", ents[i].name, ents[i].type);
    printf("\n");
}

static void test_mkdir_rmdir(void)
{
    show("mkdir d", raw_syscall2(NR_mkdir, "d", 0755));
    show("mkdir d again", raw_syscall2(NR_mkdir, "d", 0755));
    show("mkdir missing/x", raw_syscall2(NR_mkdir, "missing/x", 0755));
    put_file("f", "file", 4);
    show("mkdir f (file exists)", raw_syscall2(NR_mkdir, "f", 0755));
    show("mkdir f/x (file component)", raw_syscall2(NR_mkdir, "f/x", 0755));
    show("mkdir d2/ (trailing slash)", raw_syscall2(NR_mkdir, "d2/", 0755));
    show_type("stat d2", "d2", 1);
    show("mkdir empty name", raw_syscall2(NR_mkdir, "", 0755));
    show("mkdir .", raw_syscall2(NR_mkdir, ".", 0755));
    show("mkdir bad pointer", raw_syscall2(NR_mkdir, 8, 0755));
    long dfd = k_open("d", K_O_RDONLY | K_O_DIRECTORY, 0);
    show("mkdirat dirfd sub", raw_syscall3(NR_mkdirat, dfd, "sub", 0755));
    show("mkdirat dirfd sub again", raw_syscall3(NR_mkdirat, dfd, "sub", 0755));
    show("mkdirat AT_FDCWD d/sub2", raw_syscall3(NR_mkdirat, K_AT_FDCWD, "d/sub2", 0755));
    long ffd = k_open("f", K_O_RDONLY, 0);
    show("mkdirat file fd", raw_syscall3(NR_mkdirat, ffd, "x", 0755));
    k_close(ffd);
    show_type("stat d/sub", "d/sub", 1);
    struct kstat st;
    k_stat("d/sub", &st);
    printf("d/sub mode: %04o\n", st.mode & 07777);
    show("mkdir with mode 01777", raw_syscall2(NR_mkdir, "sticky", 01777));
    k_stat("sticky", &st);
    printf("sticky mode (umask 022): %04o\n", st.mode & 07777);

    put_file("d/file", "x", 1);
    show("rmdir non-empty d", raw_syscall1(NR_rmdir, "d"));
    show("rmdir file", raw_syscall1(NR_rmdir, "f"));
    show("rmdir .", raw_syscall1(NR_rmdir, "."));
    show("rmdir d/.", raw_syscall1(NR_rmdir, "d/."));
    show("rmdir d/sub/..", raw_syscall1(NR_rmdir, "d/sub/.."));
    show("rmdir missing", raw_syscall1(NR_rmdir, "missing"));
    show("rmdir f/x", raw_syscall1(NR_rmdir, "f/x"));
    show("rmdir d2", raw_syscall1(NR_rmdir, "d2"));
    show("rmdir d2 again", raw_syscall1(NR_rmdir, "d2"));
    show("mkdir d3", raw_syscall2(NR_mkdir, "d3", 0755));
    show("rmdir d3/ (trailing slash)", raw_syscall1(NR_rmdir, "d3/"));
    show("symlink dl -> d", raw_syscall2(NR_symlink, "d", "dl"));
    show("rmdir symlink to dir", raw_syscall1(NR_rmdir, "dl"));
    show("rmdir symlink to dir with slash", raw_syscall1(NR_rmdir, "dl/"));

    show("unlink dir", raw_syscall1(NR_unlink, "d/sub"));
    show("unlink missing", raw_syscall1(NR_unlink, "missing"));
    show("unlink file/ (trailing slash)", raw_syscall1(NR_unlink, "d/file/"));
    show("unlinkat dirfd file", raw_syscall3(NR_unlinkat, dfd, "file", 0));
    show("unlinkat again", raw_syscall3(NR_unlinkat, dfd, "file", 0));
    show("unlinkat dir without AT_REMOVEDIR", raw_syscall3(NR_unlinkat, dfd, "sub", 0));
    show("unlinkat AT_REMOVEDIR dir", raw_syscall3(NR_unlinkat, dfd, "sub", K_AT_REMOVEDIR));
    put_file("d/file2", "y", 1);
    show("unlinkat AT_REMOVEDIR file", raw_syscall3(NR_unlinkat, dfd, "file2", K_AT_REMOVEDIR));
    show("unlinkat bad flags", raw_syscall3(NR_unlinkat, dfd, "file2", 0x1));
    show("unlink symlink (not target)", raw_syscall1(NR_unlink, "dl"));
    show_type("d still there", "d", 0);
    k_close(dfd);
}

static void test_rename(void)
{
    put_file("r1", "one", 3);
    put_file("r2", "two", 3);
    show("rename r1 -> r3", raw_syscall2(NR_rename, "r1", "r3"));
    show("r1 gone", k_open("r1", K_O_RDONLY, 0));
    show_file("r3 contents", "r3");
    show("rename r3 -> r2 (replace)", raw_syscall2(NR_rename, "r3", "r2"));
    show_file("r2 contents", "r2");
    show("rename missing", raw_syscall2(NR_rename, "nope", "x"));
    show("rename to same name", raw_syscall2(NR_rename, "r2", "r2"));
    show("link r2 -> r2hard", raw_syscall2(NR_link, "r2", "r2hard"));
    show("rename onto own hard link", raw_syscall2(NR_rename, "r2", "r2hard"));
    printf("both names remain: %d\n",
           k_lstat("r2", &(struct kstat){0}) == 0 && k_lstat("r2hard", &(struct kstat){0}) == 0);
    show("unlink r2hard", raw_syscall1(NR_unlink, "r2hard"));

    put_file("ra", "AAA", 3);
    put_file("rb", "BBB", 3);
    show("renameat2 NOREPLACE existing",
         raw_syscall5(NR_renameat2, K_AT_FDCWD, "ra", K_AT_FDCWD, "rb", K_RENAME_NOREPLACE));
    show("renameat2 NOREPLACE new",
         raw_syscall5(NR_renameat2, K_AT_FDCWD, "ra", K_AT_FDCWD, "rc", K_RENAME_NOREPLACE));
    show("renameat2 EXCHANGE",
         raw_syscall5(NR_renameat2, K_AT_FDCWD, "rb", K_AT_FDCWD, "rc", K_RENAME_EXCHANGE));
    show_file("rb after exchange", "rb");
    show_file("rc after exchange", "rc");
    show("renameat2 EXCHANGE missing target",
         raw_syscall5(NR_renameat2, K_AT_FDCWD, "rb", K_AT_FDCWD, "none", K_RENAME_EXCHANGE));
    show("renameat2 NOREPLACE|EXCHANGE",
         raw_syscall5(NR_renameat2, K_AT_FDCWD, "rb", K_AT_FDCWD, "rc",
                      K_RENAME_NOREPLACE | K_RENAME_EXCHANGE));
    show("renameat2 bad flags",
         raw_syscall5(NR_renameat2, K_AT_FDCWD, "rb", K_AT_FDCWD, "rc", 0x100));
    show("renameat2 flags 0", raw_syscall5(NR_renameat2, K_AT_FDCWD, "rb", K_AT_FDCWD, "rd", 0));
    show("renameat back", raw_syscall4(NR_renameat, K_AT_FDCWD, "rd", K_AT_FDCWD, "rb"));

    show("mkdir rdir", raw_syscall2(NR_mkdir, "rdir", 0755));
    show("mkdir rdir/inner", raw_syscall2(NR_mkdir, "rdir/inner", 0755));
    show("mkdir full", raw_syscall2(NR_mkdir, "full", 0755));
    put_file("full/x", "x", 1);
    show("mkdir empty", raw_syscall2(NR_mkdir, "empty", 0755));
    show("rename dir onto non-empty dir", raw_syscall2(NR_rename, "rdir", "full"));
    show("rename dir into own subdir", raw_syscall2(NR_rename, "rdir", "rdir/inner/x"));
    show("rename dir onto itself/sub", raw_syscall2(NR_rename, "rdir", "rdir/inner"));
    show("rename file onto dir", raw_syscall2(NR_rename, "rb", "empty"));
    show("rename dir onto file", raw_syscall2(NR_rename, "empty", "rb"));
    show("rename file to file/ (trailing slash)", raw_syscall2(NR_rename, "rb", "rz/"));
    show("rename dir to newname/ (trailing slash)", raw_syscall2(NR_rename, "empty", "empty2/"));
    show("rename dir onto empty dir", raw_syscall2(NR_rename, "empty2", "rdir/inner"));
    show_type("rdir/inner after", "rdir/inner", 0);
    show("rename .", raw_syscall2(NR_rename, ".", "dot"));
    show("rename onto ..", raw_syscall2(NR_rename, "rb", "rdir/.."));
    show("rename into missing dir", raw_syscall2(NR_rename, "rb", "nodir/rb"));
    long dfd = k_open("rdir", K_O_RDONLY | K_O_DIRECTORY, 0);
    show("renameat AT_FDCWD -> dirfd", raw_syscall4(NR_renameat, K_AT_FDCWD, "rb", dfd, "moved"));
    show_file("rdir/moved", "rdir/moved");
    show("renameat2 EXCHANGE file<->dir",
         raw_syscall5(NR_renameat2, dfd, "moved", dfd, "inner", K_RENAME_EXCHANGE));
    show_type("rdir/moved now", "rdir/moved", 0);
    show_type("rdir/inner now", "rdir/inner", 0);
    k_close(dfd);
    show("symlink rl -> rc", raw_syscall2(NR_symlink, "rc", "rl"));
    show("rename symlink", raw_syscall2(NR_rename, "rl", "rl2"));
    show_link("renamed symlink target", "rl2");
    show_file("through renamed symlink", "rl2");
}

static void test_links(void)
{
    put_file("lf", "linked", 6);
    show("nlink initial", nlink_of("lf"));
    show("link lf -> lf2", raw_syscall2(NR_link, "lf", "lf2"));
    show("nlink after link", nlink_of("lf"));
    show("linkat lf -> lf3", raw_syscall5(NR_linkat, K_AT_FDCWD, "lf", K_AT_FDCWD, "lf3", 0));
    show("nlink after linkat", nlink_of("lf2"));
    printf("lf and lf3 same file: %d\n", same_file("lf", "lf3"));
    show("link to existing name", raw_syscall2(NR_link, "lf", "lf2"));
    show("link missing", raw_syscall2(NR_link, "nope", "lf4"));
    show("mkdir ldir", raw_syscall2(NR_mkdir, "ldir", 0755));
    show("link a directory", raw_syscall2(NR_link, "ldir", "ldir2"));
    show("link into missing dir", raw_syscall2(NR_link, "lf", "nodir/x"));
    show("link with trailing slash", raw_syscall2(NR_link, "lf/", "lf5"));
    show("unlink lf", raw_syscall1(NR_unlink, "lf"));
    show("nlink after unlink", nlink_of("lf2"));
    show_file("lf3 contents", "lf3");

    show("symlink ls -> lf2", raw_syscall2(NR_symlink, "lf2", "ls"));
    show("linkat symlink no follow",
         raw_syscall5(NR_linkat, K_AT_FDCWD, "ls", K_AT_FDCWD, "lsh", 0));
    show_type("lsh type", "lsh", 0);
    show("nlink of symlink ls", nlink_of("ls"));
    show("linkat AT_SYMLINK_FOLLOW", raw_syscall5(NR_linkat, K_AT_FDCWD, "ls", K_AT_FDCWD, "lfh",
                                                  K_AT_SYMLINK_FOLLOW));
    show_type("lfh type", "lfh", 0);
    show("nlink of lf2 now", nlink_of("lf2"));
    show("linkat bad flags", raw_syscall5(NR_linkat, K_AT_FDCWD, "lf2", K_AT_FDCWD, "x", 0x1));
    long r, fd = k_open("lf2", K_O_RDONLY, 0);
    r = raw_syscall5(NR_linkat, fd, "", K_AT_FDCWD, "lfe", K_AT_EMPTY_PATH);
    printf("linkat AT_EMPTY_PATH is 0 or -ENOENT (privilege-dependent): %d\n", r == 0 || r == -2);
    raw_syscall1(NR_unlink, "lfe"); /* exists only if it succeeded */
    show("linkat '' without AT_EMPTY_PATH", raw_syscall5(NR_linkat, fd, "", K_AT_FDCWD, "lfe2", 0));
    k_close(fd);

    /* symlinks and readlink */
    show("symlink sym -> target", raw_syscall2(NR_symlink, "target", "sym"));
    show_link("readlink sym", "sym");
    show_type("lstat dangling sym", "sym", 0);
    show_type("stat dangling sym", "sym", 1);
    show("symlink existing name", raw_syscall2(NR_symlink, "x", "sym"));
    show("symlink empty target", raw_syscall2(NR_symlink, "", "emptysym"));
    show("symlink into missing dir", raw_syscall2(NR_symlink, "x", "nodir/s"));
    long dfd = k_open("ldir", K_O_RDONLY | K_O_DIRECTORY, 0);
    show("symlinkat dirfd up -> ../lf2", raw_syscall3(NR_symlinkat, "../lf2", dfd, "up"));
    show_file("read through ldir/up", "ldir/up");
    char t[64];
    r = raw_syscall4(NR_readlinkat, dfd, "up", t, sizeof t);
    if (r >= 0)
        print_bytes("readlinkat dirfd", t, r);
    else
        show("readlinkat dirfd", r);
    show("readlinkat dirfd on dir itself ''", raw_syscall4(NR_readlinkat, dfd, "", t, sizeof t));
    k_close(dfd);
    r = raw_syscall3(NR_readlink, "sym", t, 3);
    print_bytes("readlink bufsiz 3 (truncated)", t, r);
    show("readlink bufsiz 0", raw_syscall3(NR_readlink, "sym", t, 0));
    show("readlink bufsiz -1", raw_syscall3(NR_readlink, "sym", t, -1));
    show("readlink on regular file", raw_syscall3(NR_readlink, "lf2", t, sizeof t));
    show("readlink on dir", raw_syscall3(NR_readlink, "ldir", t, sizeof t));
    show("readlink missing", raw_syscall3(NR_readlink, "nope", t, sizeof t));
    show("readlink bad buffer", raw_syscall3(NR_readlink, "sym", 8, 10));
    struct kstat st;
    k_lstat("sym", &st);
    printf("lstat symlink: mode=%04o size=%ld\n", st.mode & 07777, st.size);
    fd = k_open("sym", K_O_PATH | K_O_NOFOLLOW, 0);
    r = raw_syscall4(NR_readlinkat, fd, "", t, sizeof t);
    if (r >= 0)
        print_bytes("readlinkat O_PATH fd ''", t, r);
    else
        show("readlinkat O_PATH fd ''", r);
    k_close(fd);

    /* symlink through a directory */
    show("symlink lds -> ldir", raw_syscall2(NR_symlink, "ldir", "lds"));
    show_file("read lds/up (dir symlink then file symlink)", "lds/up");
    show_type("lstat lds/ (trailing slash follows)", "lds/", 0);
    show_type("lstat lds", "lds", 0);

    /* absolute symlink into the scratch dir */
    char abs[4200];
    snprintf(abs, sizeof abs, "%s/lf2", top);
    show("symlink absolute", raw_syscall2(NR_symlink, abs, "absl"));
    show_file("read through absolute symlink", "absl");
    r = raw_syscall3(NR_readlink, "absl", buf, sizeof buf);
    printf("absolute readlink length matches: %d\n", r == (long)strlen(abs));
}

static void test_resolution(void)
{
    char name[16], target[16];
    struct kstat st;

    /* loops */
    show("symlink la -> lb", raw_syscall2(NR_symlink, "lb", "la"));
    show("symlink lb -> la", raw_syscall2(NR_symlink, "la", "lb"));
    show("open loop", k_open("la", K_O_RDONLY, 0));
    show("stat loop", k_stat("la", &st));
    show("lstat loop", k_lstat("la", &st));
    show("open loop/x", k_open("la/x", K_O_RDONLY, 0));
    show("symlink self -> self", raw_syscall2(NR_symlink, "self", "self"));
    show("stat self", k_stat("self", &st));
    show("open O_CREAT through loop", k_open("la", K_O_RDWR | K_O_CREAT, 0644));

    /* chain: c0 -> final, c1 -> c0, ..., c40 -> c39 */
    show("mkdir chain", raw_syscall2(NR_mkdir, "chain", 0755));
    put_file("chain/final", "end of chain", 12);
    for (int i = 0; i <= 41; i++) {
        snprintf(name, sizeof name, "chain/c%d", i);
        if (i == 0)
            snprintf(target, sizeof target, "final");
        else
            snprintf(target, sizeof target, "c%d", i - 1);
        long r = raw_syscall2(NR_symlink, target, name);
        if (r) {
            printf("FATAL: symlink %s: %s\n", name, fs_ret(r));
            exit(1);
        }
    }
    show_fd("open chain/c39 (40 links)", k_open("chain/c39", K_O_RDONLY, 0));
    show_file("read chain/c39", "chain/c39");
    show("open chain/c40 (41 links)", k_open("chain/c40", K_O_RDONLY, 0));
    show("stat chain/c39", k_stat("chain/c39", &st));
    show("stat chain/c40", k_stat("chain/c40", &st));
    show("lstat chain/c40", k_lstat("chain/c40", &st));
    show("readlink chain/c41", raw_syscall3(NR_readlink, "chain/c41", buf, 100));

    /* trailing slashes */
    put_file("tf", "t", 1);
    show("stat file/", k_stat("tf/", &st));
    show("lstat file/", k_lstat("tf/", &st));
    show("open file/", k_open("tf/", K_O_RDONLY, 0));
    show("open file/.", k_open("tf/.", K_O_RDONLY, 0));
    show("stat dir/", k_stat("chain/", &st));
    show("stat dir/.", k_stat("chain/.", &st));
    show("stat dir//final", k_stat("chain//final", &st));
    show("stat dir/./final", k_stat("chain/./final", &st));
    show("symlink ts -> tf", raw_syscall2(NR_symlink, "tf", "ts"));
    show("stat symlink-to-file/", k_stat("ts/", &st));
    show("symlink tds -> chain", raw_syscall2(NR_symlink, "chain", "tds"));
    show("stat symlink-to-dir/", k_stat("tds/", &st));

    /* .. */
    show("mkdir p", raw_syscall2(NR_mkdir, "p", 0755));
    show("mkdir p/q", raw_syscall2(NR_mkdir, "p/q", 0755));
    printf("p/q/.. is p: %d\n", same_file("p/q/..", "p"));
    printf("p/q/../.. is .: %d\n", same_file("p/q/../..", "."));
    printf("p/./q/. is p/q: %d\n", same_file("p/./q/.", "p/q"));
    show("stat missing/..", k_stat("missing/..", &st));
    show("stat tf/..", k_stat("tf/..", &st));
    show("symlink p/up -> ..", raw_syscall2(NR_symlink, "..", "p/up"));
    printf("p/up/tf is tf: %d\n", same_file("p/up/tf", "tf"));
    show("symlink qlink -> p/q", raw_syscall2(NR_symlink, "p/q", "qlink"));
    printf("qlink/.. is p (.. after a symlink is physical): %d\n", same_file("qlink/..", "p"));

    /* mknod */
    show("mknod fifo", raw_syscall3(NR_mknod, "fifo", K_S_IFIFO | 0644, 0));
    k_lstat("fifo", &st);
    printf("fifo: type=%s mode=%04o size=%ld\n", type_name(st.mode), st.mode & 07777, st.size);
    show("mknod fifo again", raw_syscall3(NR_mknod, "fifo", K_S_IFIFO | 0644, 0));
    show("mknodat regular", raw_syscall4(NR_mknodat, K_AT_FDCWD, "mreg", K_S_IFREG | 0600, 0));
    k_lstat("mreg", &st);
    printf("mreg: type=%s mode=%04o size=%ld\n", type_name(st.mode), st.mode & 07777, st.size);
    show("mknod type 0 (regular)", raw_syscall3(NR_mknod, "mzero", 0644, 0));
    show_type("mzero type", "mzero", 0);
    show("mknod S_IFDIR", raw_syscall3(NR_mknod, "mdir", K_S_IFDIR | 0755, 0));
    show("mknod bad type", raw_syscall3(NR_mknod, "mbad", 0170000 | 0644, 0));
    long fd = k_open("fifo", K_O_RDONLY | K_O_NONBLOCK, 0);
    show_fd("open fifo O_RDONLY|O_NONBLOCK", fd);
    show("read fifo (no writer)", k_read(fd, buf, 10));
    long wfd = k_open("fifo", K_O_WRONLY | K_O_NONBLOCK, 0);
    show_fd("open fifo O_WRONLY|O_NONBLOCK (reader exists)", wfd);
    k_close(wfd);
    k_close(fd);
    show("open fifo O_WRONLY|O_NONBLOCK (no reader)", k_open("fifo", K_O_WRONLY | K_O_NONBLOCK, 0));
    fd = k_open("fifo", K_O_RDWR, 0);
    show_fd("open fifo O_RDWR", fd);
    show("fifo write", k_write(fd, "pipe!", 5));
    long r = k_read(fd, buf, 10);
    print_bytes("fifo read", buf, r);
    show("lseek fifo", k_lseek(fd, 0, K_SEEK_SET));
    k_close(fd);

    /* O_CREAT through a dangling symlink creates the target */
    show("symlink dangle -> made", raw_syscall2(NR_symlink, "made", "dangle"));
    show("open O_CREAT|O_EXCL dangling", k_open("dangle", K_O_WRONLY | K_O_CREAT | K_O_EXCL, 0644));
    fd = k_open("dangle", K_O_WRONLY | K_O_CREAT, 0644);
    show_fd("open O_CREAT dangling", fd);
    k_write(fd, "made it", 7);
    k_close(fd);
    show_type("made type", "made", 0);
    show_file("made contents", "made");
    show("symlink dangle2 -> nodir/x", raw_syscall2(NR_symlink, "nodir/x", "dangle2"));
    show("open O_CREAT dangling into missing dir", k_open("dangle2", K_O_WRONLY | K_O_CREAT, 0644));
    show("open O_CREAT|O_NOFOLLOW dangling",
         k_open("dangle2", K_O_WRONLY | K_O_CREAT | K_O_NOFOLLOW, 0644));
}

static void test_cwd_getdents(void)
{
    long r;
    long topfd = k_open(".", K_O_RDONLY | K_O_DIRECTORY, 0);
    show_cwd("getcwd start");
    show("mkdir g", raw_syscall2(NR_mkdir, "g", 0755));
    show("mkdir g/h", raw_syscall2(NR_mkdir, "g/h", 0755));
    show("chdir g/h", raw_syscall1(NR_chdir, "g/h"));
    show_cwd("getcwd in g/h");
    show("chdir ..", raw_syscall1(NR_chdir, ".."));
    show_cwd("getcwd after ..");
    show("chdir missing", raw_syscall1(NR_chdir, "missing"));
    put_file("gf", "x", 1);
    show("chdir file", raw_syscall1(NR_chdir, "gf"));
    show_cwd("getcwd unchanged after errors");
    long gfd = k_open(".", K_O_RDONLY | K_O_DIRECTORY, 0);
    show("chdir h/../..", raw_syscall1(NR_chdir, "h/../.."));
    show_cwd("getcwd after h/../..");
    show("fchdir back", raw_syscall1(NR_fchdir, gfd));
    show_cwd("getcwd after fchdir");
    long ffd = k_open("gf", K_O_RDONLY, 0);
    show("fchdir file fd", raw_syscall1(NR_fchdir, ffd));
    k_close(ffd);
    show("fchdir bad fd", raw_syscall1(NR_fchdir, 999));
    long pfd = k_open("h", K_O_PATH | K_O_DIRECTORY, 0);
    show("fchdir O_PATH dir fd", raw_syscall1(NR_fchdir, pfd));
    show_cwd("getcwd after fchdir O_PATH");
    k_close(pfd);
    show("fchdir g", raw_syscall1(NR_fchdir, gfd));
    show("symlink hl -> h", raw_syscall2(NR_symlink, "h", "hl"));
    show("chdir via symlink", raw_syscall1(NR_chdir, "hl"));
    show_cwd("getcwd after chdir via symlink (resolved)");
    raw_syscall1(NR_fchdir, gfd);
    char small[4];
    show("getcwd size 1", raw_syscall2(NR_getcwd, small, 1));
    show("getcwd bad buffer", raw_syscall2(NR_getcwd, 8, 4096));
    r = raw_syscall2(NR_getcwd, buf, sizeof buf);
    printf("getcwd returns length+1: %d\n", r == (long)strlen(buf) + 1);

    /* cwd removed */
    show("mkdir gone", raw_syscall2(NR_mkdir, "gone", 0755));
    show("chdir gone", raw_syscall1(NR_chdir, "gone"));
    show("rmdir ../gone (our cwd)", raw_syscall1(NR_rmdir, "../gone"));
    show_cwd("getcwd in removed dir");
    r = k_open(".", K_O_RDONLY, 0);
    show_fd("open . in removed dir", r);
    k_close(r);
    show("create in removed dir", k_open("x", K_O_RDWR | K_O_CREAT, 0644));
    show("fchdir back", raw_syscall1(NR_fchdir, gfd));
    show_cwd("getcwd restored");

    /* getdents64 */
    show("mkdir ls", raw_syscall2(NR_mkdir, "ls", 0755));
    put_file("ls/file", "1234", 4);
    raw_syscall2(NR_mkdir, "ls/sub", 0755);
    raw_syscall2(NR_symlink, "file", "ls/link");
    raw_syscall3(NR_mknod, "ls/fifo", K_S_IFIFO | 0644, 0);
    raw_syscall2(NR_link, "ls/file", "ls/hard");
    long dfd = k_open("ls", K_O_RDONLY | K_O_DIRECTORY, 0);
    list_dir("getdents64 ls", dfd, 0);
    show("getdents64 at end", raw_syscall3(NR_getdents64, dfd, buf, sizeof buf));
    show("lseek dir 0", k_lseek(dfd, 0, K_SEEK_SET));
    list_dir("getdents64 ls after rewind", dfd, 0);
    k_lseek(dfd, 0, K_SEEK_SET);
    list_dir("getdents (old) ls", dfd, 1);
    k_lseek(dfd, 0, K_SEEK_SET);
    show("getdents64 buffer too small", raw_syscall3(NR_getdents64, dfd, buf, 8));
    show("getdents64 bad buffer", raw_syscall3(NR_getdents64, dfd, 8, 4096));
    raw_syscall1(NR_unlink, "ls/hard");
    raw_syscall2(NR_rename, "ls/fifo", "ls/fifo2");
    k_lseek(dfd, 0, K_SEEK_SET);
    list_dir("getdents64 after unlink+rename", dfd, 0);
    k_close(dfd);
    long f = k_open("ls/file", K_O_RDONLY, 0);
    show("getdents64 on file", raw_syscall3(NR_getdents64, f, buf, sizeof buf));
    k_close(f);
    show("getdents64 bad fd", raw_syscall3(NR_getdents64, 999, buf, sizeof buf));
    f = k_open("ls", K_O_PATH | K_O_DIRECTORY, 0);
    show("getdents64 on O_PATH dir", raw_syscall3(NR_getdents64, f, buf, sizeof buf));
    k_close(f);
    show("mkdir emptydir", raw_syscall2(NR_mkdir, "emptydir", 0755));
    dfd = k_open("emptydir", K_O_RDONLY | K_O_DIRECTORY, 0);
    list_dir("getdents64 emptydir", dfd, 0);
    raw_syscall1(NR_rmdir, "emptydir");
    k_lseek(dfd, 0, K_SEEK_SET);
    list_dir("getdents64 removed dir", dfd, 0);
    k_close(dfd);
    k_close(gfd);
    show("fchdir top", raw_syscall1(NR_fchdir, topfd));
    show_cwd("getcwd at the end");
    list_dir("getdents64 top", topfd, 0);
    k_close(topfd);
}

int main(int argc, char **argv)
{
    fs_setup(argc, argv, "dirs");
    toplen = raw_syscall2(NR_getcwd, top, sizeof top);
    if (toplen <= 0) {
        printf("FATAL: getcwd: %s\n", fs_ret(toplen));
        return 1;
    }
    toplen = strlen(top);
    test_mkdir_rmdir();
    test_rename();
    test_links();
    test_resolution();
    test_cwd_getdents();
    printf("dirs done\n");
    return 0;
}
