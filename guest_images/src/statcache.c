/*
 * statcache: stat, lstat, newfstatat and access of the same paths again and again,
 * around every change that must alter their answer: a file's size (write, truncate,
 * O_TRUNC), mode, link count, times, a rename or unlink of the file or of a
 * directory above it, a symlink given a new target, the cwd, a trailing slash, a
 * long path, a directory's search permission for another user, and chroot. Each
 * check stats twice, so the second call meets whatever the first left behind.
 *
 * Usage: statcache SCRATCH_DIR   (works only inside SCRATCH_DIR/statcache). Raw
 * syscalls. Lines that need root to mean anything carry "(root=1)"; no inode
 * number, time or uid is printed, only comparisons of them.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "fsguest.h"

#define NR_setresuid 117
#define NR_chroot 161

static struct kstat st;

static long fstatat_(long dirfd, const char *path, long flags)
{
    return raw6(NR_newfstatat, dirfd, path, &st, flags, 0, 0);
}

/* the answer of one stat call: result, type, mode, size and link count */
static void line(const char *what, long r)
{
    if (r) {
        show(what, r);
        return;
    }
    printf("%s: 0 type=%s mode=%04o", what, type_name(st.mode), st.mode & 07777);
    if ((st.mode & K_S_IFMT) != K_S_IFDIR)
        printf(" size=%ld nlink=%lu", st.size, st.nlink);
    printf("\n");
}

/* each way of asking, twice: newfstatat (flags 0, then AT_SYMLINK_NOFOLLOW), stat,
 * lstat */
static void all(const char *what, const char *path)
{
    char label[160];
    for (int i = 0; i < 2; i++) {
        snprintf(label, sizeof label, "%s newfstatat #%d", what, i + 1);
        line(label, fstatat_(K_AT_FDCWD, path, 0));
        snprintf(label, sizeof label, "%s nofollow #%d", what, i + 1);
        line(label, fstatat_(K_AT_FDCWD, path, K_AT_SYMLINK_NOFOLLOW));
        snprintf(label, sizeof label, "%s stat #%d", what, i + 1);
        line(label, k_stat(path, &st));
        snprintf(label, sizeof label, "%s lstat #%d", what, i + 1);
        line(label, k_lstat(path, &st));
        printf("%s access #%d:", what, i + 1);
        for (int mode = 0; mode < 8; mode++)
            printf(" %d=%s", mode, fs_ret(raw_syscall2(NR_access, path, mode)));
        printf("\n%s faccessat #%d: R=%s", what, i + 1,
               fs_ret(raw_syscall3(NR_faccessat, K_AT_FDCWD, path, 4)));
        printf(" X=%s", fs_ret(raw_syscall3(NR_faccessat, K_AT_FDCWD, path, 1)));
        printf(" faccessat2 W=%s\n",
               fs_ret(raw6(NR_faccessat2, K_AT_FDCWD, path, 2, 0, 0, 0)));
    }
}

static void append(const char *path, const char *data)
{
    long fd = k_open(path, K_O_WRONLY | K_O_APPEND, 0);
    k_write(fd, data, strlen(data));
    k_close(fd);
}

static void times(void)
{
    struct kts ts[2] = {{1000000000, 123}, {1100000000, 456}};
    put_file("t", "x", 1);
    fstatat_(K_AT_FDCWD, "t", 0);
    long r = raw6(NR_utimensat, K_AT_FDCWD, "t", ts, 0, 0, 0);
    show("utimensat", r);
    for (int i = 0; i < 2; i++) {
        r = fstatat_(K_AT_FDCWD, "t", 0);
        printf("times set #%d: %ld atime=%lu.%lu mtime=%lu.%lu\n", i + 1, r, st.atime,
               st.atime_ns, st.mtime, st.mtime_ns);
    }
    unsigned long ctime = st.ctime, ctime_ns = st.ctime_ns;
    append("t", "more");
    for (int i = 0; i < 2; i++) {
        r = fstatat_(K_AT_FDCWD, "t", 0);
        printf("after write #%d: %ld size=%ld mtime_moved=%d ctime_moved=%d\n", i + 1, r,
               st.size, st.mtime != 1100000000 || st.mtime_ns != 456,
               st.ctime != ctime || st.ctime_ns != ctime_ns);
    }
}

static void inode_numbers(void)
{
    put_file("i1", "a", 1);
    put_file("i2", "bb", 2);
    fstatat_(K_AT_FDCWD, "i1", 0);
    unsigned long ino1 = st.ino;
    fstatat_(K_AT_FDCWD, "i2", 0);
    unsigned long ino2 = st.ino;
    show("rename i2 over i1", raw_syscall2(NR_rename, "i2", "i1"));
    for (int i = 0; i < 2; i++) {
        long r = fstatat_(K_AT_FDCWD, "i1", 0);
        printf("i1 after rename #%d: %ld is_old_i1=%d is_old_i2=%d size=%ld\n", i + 1, r,
               st.ino == ino1, st.ino == ino2, st.size);
    }
    show("link i1 i3", raw_syscall2(NR_link, "i1", "i3"));
    for (int i = 0; i < 2; i++) {
        long r = fstatat_(K_AT_FDCWD, "i3", 0);
        printf("i3 #%d: %ld same_as_i1=%d nlink=%lu\n", i + 1, r, st.ino == ino2, st.nlink);
    }
}

/* another user meets a directory without search permission (root only) */
static void other_user(void)
{
    raw_syscall2(NR_mkdir, "locked", 0700);
    put_file("locked/f", "secret", 6);
    all("locked/f as owner", "locked/f");
    pid_t pid = fork();
    if (pid == 0) {
        long r = raw_syscall3(NR_setresuid, 65534, 65534, 65534);
        if (r) {
            printf("setresuid nobody (root=0): %s\n", fs_ret(r));
            _exit(0);
        }
        printf("setresuid nobody (root=1): 0\n");
        all("locked/f as nobody (root=1)", "locked/f");
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    all("locked/f as owner again", "locked/f");
    show("chmod locked 0755", raw_syscall2(NR_chmod, "locked", 0755));
    pid = fork();
    if (pid == 0) {
        if (raw_syscall3(NR_setresuid, 65534, 65534, 65534) == 0)
            all("locked/f opened as nobody (root=1)", "locked/f");
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

/* chroot into a directory: "/f" names another file there (root only) */
static void jail(void)
{
    raw_syscall2(NR_mkdir, "jail", 0755);
    put_file("jail/f", "in the jail", 11);
    put_file("f", "outside", 7);
    char top[4096];
    long n = raw_syscall2(NR_getcwd, top, sizeof top);
    if (n < 0)
        return;
    char path[4200];
    snprintf(path, sizeof path, "%s/f", top);
    all("absolute f before chroot", path);
    pid_t pid = fork();
    if (pid == 0) {
        long r = raw_syscall1(NR_chroot, "jail");
        if (r) {
            printf("chroot (root=0): %s\n", fs_ret(r));
            _exit(0);
        }
        printf("chroot (root=1): 0\n");
        all("/f in the jail (root=1)", "/f");
        all("same absolute path in the jail (root=1)", path);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    all("absolute f after the jail", path);
}

int main(int argc, char **argv)
{
    fs_setup(argc, argv, "statcache");

    put_file("a", "12345", 5);
    all("a", "a");
    append("a", "678");
    all("a after append", "a");
    long fd = k_open("a", K_O_WRONLY | K_O_TRUNC, 0);
    k_close(fd);
    all("a after O_TRUNC", "a");
    raw_syscall2(NR_truncate, "a", 4096);
    all("a after truncate", "a");
    raw_syscall2(NR_chmod, "a", 0600);
    all("a after chmod", "a");
    raw_syscall2(NR_link, "a", "b");
    all("a after link", "a");
    raw_syscall1(NR_unlink, "b");
    all("a after unlink b", "a");
    all("a/ (trailing slash)", "a/");
    all("./a", "./a");

    raw_syscall2(NR_mkdir, "d", 0755);
    put_file("d/x", "in d", 4);
    all("d/x", "d/x");
    all("d", "d");
    raw_syscall2(NR_rename, "d", "e");
    all("d/x after rename d e", "d/x");
    all("e/x", "e/x");
    raw_syscall2(NR_mkdir, "d", 0755);
    put_file("d/x", "new d's x", 9);
    all("d/x again", "d/x");
    raw_syscall1(NR_unlink, "d/x");
    all("d/x after unlink", "d/x");

    raw_syscall2(NR_symlink, "e/x", "l");
    all("l -> e/x", "l");
    raw_syscall1(NR_unlink, "l");
    raw_syscall2(NR_symlink, "a", "l");
    all("l -> a", "l");
    raw_syscall1(NR_unlink, "l");
    raw_syscall2(NR_symlink, "nowhere", "l");
    all("l -> nowhere", "l");
    raw_syscall2(NR_mkdir, "ldir", 0755);
    raw_syscall2(NR_symlink, "e", "ldir/link");
    all("ldir/link/x", "ldir/link/x");
    raw_syscall1(NR_unlink, "ldir/link");
    raw_syscall2(NR_symlink, "d", "ldir/link");
    all("ldir/link/x after retarget", "ldir/link/x");

    /* the same relative path from two working directories */
    put_file("e/y", "e's y", 5);
    put_file("d/y", "d's y, longer", 13);
    raw_syscall1(NR_chdir, "e");
    all("y in e", "y");
    all("../a from e", "../a");
    raw_syscall1(NR_chdir, "../d");
    all("y in d", "y");
    all("../a from d", "../a");
    raw_syscall1(NR_chdir, "..");
    all("y in top", "y");

    /* relative to a directory fd, then that directory renamed */
    long dfd = k_open("e", K_O_RDONLY | K_O_DIRECTORY, 0);
    for (int i = 0; i < 2; i++) {
        line("dirfd e y", fstatat_(dfd, "y", 0));
        show("dirfd e y faccessat R", raw_syscall3(NR_faccessat, dfd, "y", 4));
    }
    raw_syscall2(NR_rename, "e", "f2");
    for (int i = 0; i < 2; i++) {
        line("dirfd e y after rename", fstatat_(dfd, "y", 0));
        show("dirfd e y after rename faccessat R", raw_syscall3(NR_faccessat, dfd, "y", 4));
    }
    k_close(dfd);

    /* a path longer than the first read of it */
    char longdir[201], longpath[320];
    memset(longdir, 'n', 200);
    longdir[200] = 0;
    raw_syscall2(NR_mkdir, longdir, 0755);
    snprintf(longpath, sizeof longpath, "%s/%s", longdir,
             "a-file-name-that-carries-the-path-past-two-hundred-and-fifty-six-bytes");
    put_file(longpath, "long", 4);
    all("long path", longpath);
    append(longpath, "er");
    all("long path after append", longpath);

    times();
    inode_numbers();
    other_user();
    jail();
    return 0;
}
