/*
 * inotify: inotify_init/inotify_init1, inotify_add_watch, inotify_rm_watch and the
 * events the kernel queues for what this program itself does: creating, opening,
 * reading, writing, truncating, closing, changing metadata of, linking, renaming and
 * removing files and directories inside watched directories; watches on files;
 * IN_ONESHOT, IN_MASK_ADD, IN_MASK_CREATE, IN_EXCL_UNLINK, IN_ONLYDIR,
 * IN_DONT_FOLLOW; IN_IGNORED; coalescing of identical consecutive events; queue
 * overflow (IN_Q_OVERFLOW at max_queued_events, assumed to be the default 16384);
 * reads with a too-small buffer (EINVAL), partial reads, FIONREAD, poll, O_NONBLOCK.
 *
 * Usage: inotify SCRATCH_DIR         (works only inside SCRATCH_DIR/inotify)
 *        inotify SCRATCH_DIR block   (reads an empty blocking inotify fd: waits
 *                                     forever on Linux; only for emulators that
 *                                     report such a wait)
 *
 * Raw syscalls. Events are printed decoded, one per line:
 *   "<label>: wd=1 IN_CREATE name=a(16)"
 * with the name's padded length in parentheses and rename cookies shown as c1, c2...
 * in order of first appearance (never their values); a wd is printed as the number
 * the kernel gave (wds are allocated 1, 2, 3... per instance). Only the line
 * "watch on 0000 file (root=N)" depends on who runs the program.
 */
#include "fsguest.h"

#define NR_poll 7
#define NR_inotify_init 253
#define NR_inotify_add_watch 254
#define NR_inotify_rm_watch 255
#define NR_inotify_init1 294
#define NR_fallocate 285

/* include/uapi/linux/inotify.h */
#define IN_ACCESS 0x00000001
#define IN_MODIFY 0x00000002
#define IN_ATTRIB 0x00000004
#define IN_CLOSE_WRITE 0x00000008
#define IN_CLOSE_NOWRITE 0x00000010
#define IN_OPEN 0x00000020
#define IN_MOVED_FROM 0x00000040
#define IN_MOVED_TO 0x00000080
#define IN_CREATE 0x00000100
#define IN_DELETE 0x00000200
#define IN_DELETE_SELF 0x00000400
#define IN_MOVE_SELF 0x00000800
#define IN_UNMOUNT 0x00002000
#define IN_Q_OVERFLOW 0x00004000
#define IN_IGNORED 0x00008000
#define IN_ONLYDIR 0x01000000
#define IN_DONT_FOLLOW 0x02000000
#define IN_EXCL_UNLINK 0x04000000
#define IN_MASK_CREATE 0x10000000
#define IN_MASK_ADD 0x20000000
#define IN_ISDIR 0x40000000
#define IN_ONESHOT 0x80000000U
#define IN_CLOSE (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)
#define IN_ALL_EVENTS 0x00000fff
#define IN_CLOEXEC K_O_CLOEXEC
#define IN_NONBLOCK K_O_NONBLOCK
#define INOTIFY_IOC_SETNEXTWD 0x40044900

#define K_POLLIN 0x1
#define K_POLLOUT 0x4
#define K_POLLRDNORM 0x40

struct kpollfd {
    int fd;
    short events, revents;
};

/* struct inotify_event: int wd; uint32 mask, cookie, len; char name[len] */
struct kevent {
    int wd;
    unsigned mask, cookie, len;
    char name[];
};

static char evbuf[300000];
static unsigned cookies[64];
static int ncookies;

static long in_init1(long flags) { return raw_syscall1(NR_inotify_init1, flags); }
static long add(long fd, const char *path, unsigned long mask)
{
    return raw_syscall3(NR_inotify_add_watch, fd, path, mask);
}
static long rm(long fd, long wd) { return raw_syscall2(NR_inotify_rm_watch, fd, wd); }

static const char *mask_text(unsigned mask)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        {IN_ACCESS, "IN_ACCESS"}, {IN_MODIFY, "IN_MODIFY"}, {IN_ATTRIB, "IN_ATTRIB"},
        {IN_CLOSE_WRITE, "IN_CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "IN_CLOSE_NOWRITE"},
        {IN_OPEN, "IN_OPEN"}, {IN_MOVED_FROM, "IN_MOVED_FROM"},
        {IN_MOVED_TO, "IN_MOVED_TO"}, {IN_CREATE, "IN_CREATE"}, {IN_DELETE, "IN_DELETE"},
        {IN_DELETE_SELF, "IN_DELETE_SELF"}, {IN_MOVE_SELF, "IN_MOVE_SELF"},
        {IN_UNMOUNT, "IN_UNMOUNT"}, {IN_Q_OVERFLOW, "IN_Q_OVERFLOW"},
        {IN_IGNORED, "IN_IGNORED"}, {IN_ISDIR, "IN_ISDIR"},
    };
    static char out[256];
    out[0] = 0;
    unsigned rest = mask;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (mask & names[i].bit) {
            if (out[0])
                strcat(out, "|");
            strcat(out, names[i].name);
            rest &= ~names[i].bit;
        }
    }
    if (rest || !out[0]) {
        char hex[16];
        snprintf(hex, sizeof hex, "%s%#x", out[0] ? "|" : "", rest);
        strcat(out, hex);
    }
    return out;
}

static int cookie_id(unsigned c)
{
    for (int i = 0; i < ncookies; i++)
        if (cookies[i] == c)
            return i + 1;
    if (ncookies < 64)
        cookies[ncookies++] = c;
    return ncookies;
}

/* Print the events in buf[0..n) as "<label>: wd=.. MASK [name=..(len)] [cookie=cN]". */
static void print_events(const char *label, const char *buf, long n)
{
    long off = 0;
    while (off + (long)sizeof(struct kevent) <= n) {
        const struct kevent *e = (const void *)(buf + off);
        printf("%s: wd=%d %s", label, e->wd, mask_text(e->mask));
        if (e->len) {
            unsigned used = strnlen(e->name, e->len);
            int padded_ok = used < e->len;
            for (unsigned i = used; i < e->len; i++)
                if (e->name[i])
                    padded_ok = 0;
            printf(" name=%.*s(%u%s)", (int)used, e->name, e->len,
                   padded_ok ? "" : " bad padding");
        }
        if (e->cookie)
            printf(" cookie=c%d", cookie_id(e->cookie));
        printf("\n");
        off += sizeof(struct kevent) + e->len;
    }
    if (off != n)
        printf("%s: %ld stray bytes\n", label, n - off);
}

/* Read and print every queued event ("(none)" when the queue is empty). */
static void drain(long fd, const char *label)
{
    int avail = -1;
    long r = raw_syscall3(NR_ioctl, fd, K_FIONREAD, &avail);
    if (r) {
        printf("%s: FIONREAD %s\n", label, fs_ret(r));
        return;
    }
    if (avail == 0) {
        printf("%s: (none)\n", label);
        return;
    }
    r = k_read(fd, evbuf, sizeof evbuf);
    if (r < 0) {
        printf("%s: read %s\n", label, fs_ret(r));
        return;
    }
    if (r != avail)
        printf("%s: read %ld of %d bytes\n", label, r, avail);
    print_events(label, evbuf, r);
}

/* a wd, or -ENAME */
static void show_wd(const char *what, long r) { show(what, r); }

static long fchmod_(long fd, long mode) { return raw_syscall2(NR_fchmod, fd, mode); }

/* ---- the instance itself --------------------------------------------------------- */

static void test_init(void)
{
    struct kstat st;
    char link[64], target[128];

    long fd = raw_syscall0(NR_inotify_init);
    show_fd("inotify_init", fd);
    show("inotify_init F_GETFL", k_fcntl(fd, K_F_GETFL, 0));
    show("inotify_init F_GETFD", k_fcntl(fd, K_F_GETFD, 0));
    long r = k_fstat(fd, &st);
    printf("fstat: %s mode=%06o nlink=%lu size=%ld\n", fs_ret(r), st.mode, st.nlink, st.size);
    snprintf(link, sizeof link, "/proc/self/fd/%ld", fd);
    r = raw_syscall3(NR_readlink, link, target, sizeof target - 1);
    if (r >= 0)
        print_bytes("readlink /proc/self/fd/N", target, r);
    else
        show("readlink /proc/self/fd/N", r);
    show("write", k_write(fd, "x", 1));
    show("pread", k_pread(fd, evbuf, 64, 0));
    show("lseek", k_lseek(fd, 0, K_SEEK_SET));
    show("ioctl unknown", raw_syscall3(NR_ioctl, fd, 0x5401, evbuf));
    k_close(fd);

    fd = in_init1(0);
    show_fd("inotify_init1 0", fd);
    show("inotify_init1 0 F_GETFL", k_fcntl(fd, K_F_GETFL, 0));
    k_close(fd);
    fd = in_init1(IN_NONBLOCK);
    show_fd("inotify_init1 IN_NONBLOCK", fd);
    show("IN_NONBLOCK F_GETFL", k_fcntl(fd, K_F_GETFL, 0));
    show("IN_NONBLOCK F_GETFD", k_fcntl(fd, K_F_GETFD, 0));
    show("IN_NONBLOCK read empty", k_read(fd, evbuf, sizeof evbuf));
    show("IN_NONBLOCK read 0 bytes empty", k_read(fd, evbuf, 0));
    k_close(fd);
    fd = in_init1(IN_CLOEXEC);
    show_fd("inotify_init1 IN_CLOEXEC", fd);
    show("IN_CLOEXEC F_GETFD", k_fcntl(fd, K_F_GETFD, 0));
    show("IN_CLOEXEC F_GETFL", k_fcntl(fd, K_F_GETFL, 0));
    k_close(fd);
    fd = in_init1(IN_CLOEXEC | IN_NONBLOCK);
    show_fd("inotify_init1 IN_CLOEXEC|IN_NONBLOCK", fd);
    show("both F_GETFL", k_fcntl(fd, K_F_GETFL, 0));
    show("both F_GETFD", k_fcntl(fd, K_F_GETFD, 0));
    k_close(fd);
    show("inotify_init1 O_RDWR", in_init1(K_O_RDWR));
    show("inotify_init1 O_APPEND", in_init1(K_O_APPEND));
    show("inotify_init1 1", in_init1(1));
    show("inotify_init1 0x80000000", in_init1(0x80000000L));
    show("inotify_init1 -1", in_init1(-1));

    /* blocking fd made non-blocking later */
    fd = in_init1(0);
    show("F_SETFL O_NONBLOCK", k_fcntl(fd, K_F_SETFL, K_O_NONBLOCK));
    show("read empty after F_SETFL", k_read(fd, evbuf, 64));
    k_close(fd);
}

static void test_add_watch_errors(void)
{
    long fd = in_init1(IN_NONBLOCK);
    long pfd[2] = {0, 0};
    int p[2];

    put_file("plain", "p", 1);
    raw_syscall1(NR_mkdir, "adir");
    raw_syscall2(NR_symlink, "adir", "dirlink");
    raw_syscall2(NR_symlink, "plain", "filelink");
    raw_syscall2(NR_symlink, "nowhere", "dangling");

    show("add_watch fd -1", add(-1, "plain", IN_MODIFY));
    show("add_watch fd 999", add(999, "plain", IN_MODIFY));
    show("add_watch mask 0", add(fd, "plain", 0));
    show("add_watch mask 0 fd -1", add(-1, "plain", 0));
    show("add_watch mask 0x1000 (FS_OPEN_EXEC)", add(fd, "plain", IN_MODIFY | 0x1000));
    show("add_watch mask 0x10000", add(fd, "plain", IN_MODIFY | 0x10000));
    show("add_watch mask 0x08000000", add(fd, "plain", IN_MODIFY | 0x08000000));
    show("add_watch invalid bits fd -1", add(-1, "plain", 0x10000));
    show("add_watch MASK_ADD|MASK_CREATE", add(fd, "plain",
                                                IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
    show("add_watch MASK_ADD|MASK_CREATE fd -1", add(-1, "plain",
                                                      IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
    show("pipe", raw_syscall1(NR_pipe, p));
    pfd[0] = p[0];
    pfd[1] = p[1];
    show("add_watch on a pipe fd", add(pfd[0], "plain", IN_MODIFY));
    long ffd = k_open("plain", K_O_RDONLY, 0);
    show("add_watch on a file fd", add(ffd, "plain", IN_MODIFY));
    show("add_watch on a file fd, bad path", add(ffd, "nonexistent", IN_MODIFY));
    k_close(ffd);
    show("rm_watch on a pipe fd", rm(pfd[0], 1));
    show("rm_watch fd -1", rm(-1, 1));
    k_close(pfd[0]);
    k_close(pfd[1]);

    show("add_watch nonexistent", add(fd, "nonexistent", IN_MODIFY));
    show("add_watch empty path", add(fd, "", IN_MODIFY));
    show("add_watch NULL path", add(fd, NULL, IN_MODIFY));
    show("add_watch NULL path fd -1", add(-1, NULL, IN_MODIFY));
    show("add_watch NULL path mask 0", add(fd, NULL, 0));
    show("add_watch through a file", add(fd, "plain/x", IN_MODIFY));
    show("add_watch trailing slash on file", add(fd, "plain/", IN_MODIFY));
    show("add_watch dangling symlink", add(fd, "dangling", IN_MODIFY));
    char longname[300];
    memset(longname, 'n', 299);
    longname[299] = 0;
    show("add_watch 299-byte name", add(fd, longname, IN_MODIFY));
    show("add_watch IN_ONLYDIR on file", add(fd, "plain", IN_MODIFY | IN_ONLYDIR));
    show("add_watch IN_ONLYDIR on symlink to file", add(fd, "filelink", IN_MODIFY | IN_ONLYDIR));
    show("add_watch IN_ONLYDIR|IN_DONT_FOLLOW on symlink to dir",
         add(fd, "dirlink", IN_MODIFY | IN_ONLYDIR | IN_DONT_FOLLOW));
    show("add_watch IN_DONT_FOLLOW dangling symlink", add(fd, "dangling",
                                                          IN_MODIFY | IN_DONT_FOLLOW));

    /* wds: the same inode gives the same wd, however it is reached */
    show_wd("add_watch plain", add(fd, "plain", IN_MODIFY));
    show_wd("add_watch plain again", add(fd, "plain", IN_ATTRIB));
    show_wd("add_watch ./plain", add(fd, "./plain", IN_ATTRIB));
    show_wd("add_watch via symlink", add(fd, "filelink", IN_ATTRIB));
    show_wd("add_watch symlink itself (IN_DONT_FOLLOW)", add(fd, "filelink",
                                                              IN_ATTRIB | IN_DONT_FOLLOW));
    raw_syscall2(NR_link, "plain", "plainlink");
    show_wd("add_watch hard link", add(fd, "plainlink", IN_ATTRIB));
    show_wd("add_watch IN_ONLYDIR on dir", add(fd, "adir", IN_CREATE | IN_ONLYDIR));
    show_wd("add_watch IN_ONLYDIR via symlink to dir", add(fd, "dirlink", IN_CREATE | IN_ONLYDIR));
    show_wd("add_watch dir trailing slash", add(fd, "adir/", IN_CREATE));
    show_wd("add_watch .", add(fd, ".", IN_CREATE));
    show_wd("add_watch only IN_ISDIR", add(fd, "adir/..", IN_ISDIR));
    show_wd("add_watch only IN_ONESHOT on new", add(fd, "..", IN_ONESHOT));
    show_wd("add_watch IN_MASK_CREATE existing", add(fd, "plain", IN_MODIFY | IN_MASK_CREATE));
    put_file("fresh", "", 0);
    show_wd("add_watch IN_MASK_CREATE new", add(fd, "fresh", IN_MODIFY | IN_MASK_CREATE));
    show_wd("add_watch IN_MASK_CREATE again", add(fd, "fresh", IN_MODIFY | IN_MASK_CREATE));

    put_file("noperm", "", 0);
    raw_syscall2(NR_chmod, "noperm", 0);
    long root = raw_syscall0(NR_getuid) == 0;
    long r = add(fd, "noperm", IN_MODIFY);
    printf("watch on 0000 file (root=%ld): %s\n", root, r > 0 ? "ok" : fs_ret(r));
    drain(fd, "after add_watch calls");

    show("rm_watch 0", rm(fd, 0));
    show("rm_watch -1", rm(fd, -1));
    show("rm_watch 1000", rm(fd, 1000));
    show("rm_watch 1", rm(fd, 1));
    drain(fd, "rm_watch 1");
    show("rm_watch 1 again", rm(fd, 1));
    k_close(fd);
}

/* ---- events in a watched directory ----------------------------------------------- */

static void test_directory_events(void)
{
    raw_syscall2(NR_mkdir, "d", 0755);
    long in = in_init1(0);
    long wd = add(in, "d", IN_ALL_EVENTS);
    show_wd("watch d", wd);
    drain(in, "nothing yet");

    long fd = k_open("d/a", K_O_WRONLY | K_O_CREAT | K_O_EXCL, 0644);
    drain(in, "create a");
    k_write(fd, "hello", 5);
    k_write(fd, "world", 5);
    drain(in, "two writes (merged)");
    struct kiovec iov[2] = {{"ab", 2}, {"cd", 2}};
    raw_syscall3(NR_writev, fd, iov, 2);
    raw_syscall4(NR_pwrite64, fd, "P", 1, 0);
    show("write 0 bytes", k_write(fd, "", 0));
    drain(in, "writev, pwrite, empty write");
    show("ftruncate", raw_syscall2(NR_ftruncate, fd, 8));
    show("fallocate", raw_syscall4(NR_fallocate, fd, 0, 0, 64));
    show("fchmod", fchmod_(fd, 0600));
    drain(in, "ftruncate, fallocate, fchmod");
    k_close(fd);
    drain(in, "close after writing");

    fd = k_open("d/a", K_O_RDONLY, 0);
    char buf[16];
    k_read(fd, buf, 4);
    k_read(fd, buf, 4);
    drain(in, "open, two reads");
    k_lseek(fd, 0, K_SEEK_END);
    show("read at EOF", k_read(fd, buf, 4));
    k_pread(fd, buf, 2, 0);
    struct kiovec riov[1] = {{buf, 3}};
    raw_syscall3(NR_readv, fd, riov, 1);
    drain(in, "read at EOF, pread, readv");
    k_close(fd);
    drain(in, "close read-only");

    fd = k_open("d/a", K_O_RDWR, 0);
    k_close(fd);
    drain(in, "open O_RDWR, close");
    fd = k_open("d/a", K_O_WRONLY | K_O_TRUNC, 0);
    k_close(fd);
    drain(in, "open O_TRUNC existing, close");
    fd = k_open("d/a", K_O_WRONLY | K_O_TRUNC, 0);
    k_close(fd);
    drain(in, "open O_TRUNC empty, close");
    fd = k_open("d/a", K_O_WRONLY | K_O_CREAT | K_O_TRUNC, 0644);
    k_close(fd);
    drain(in, "open O_CREAT|O_TRUNC existing, close");
    fd = k_open("d/a", K_O_PATH, 0);
    k_close(fd);
    drain(in, "open O_PATH, close");

    show("chmod", raw_syscall2(NR_chmod, "d/a", 0640));
    show("chown to self", raw_syscall3(NR_chown, "d/a", raw_syscall0(NR_getuid),
                                      raw_syscall0(NR_getgid)));
    drain(in, "chmod, chown");
    show("chown -1 -1", raw_syscall3(NR_chown, "d/a", -1, -1));
    drain(in, "chown -1 -1");
    show("truncate", raw_syscall2(NR_truncate, "d/a", 3));
    drain(in, "truncate");
    show("utimensat NULL", raw6(NR_utimensat, K_AT_FDCWD, "d/a", NULL, 0, 0, 0));
    drain(in, "utimensat now");
    struct kts ts[2] = {{0, K_UTIME_OMIT}, {0, K_UTIME_NOW}};
    show("utimensat mtime only", raw6(NR_utimensat, K_AT_FDCWD, "d/a", ts, 0, 0, 0));
    drain(in, "utimensat mtime only");
    ts[0].nsec = K_UTIME_NOW;
    ts[1].nsec = K_UTIME_OMIT;
    show("utimensat atime only", raw6(NR_utimensat, K_AT_FDCWD, "d/a", ts, 0, 0, 0));
    drain(in, "utimensat atime only");
    ts[0].nsec = K_UTIME_OMIT;
    show("utimensat both omitted", raw6(NR_utimensat, K_AT_FDCWD, "d/a", ts, 0, 0, 0));
    drain(in, "utimensat both omitted");

    show("mkdir d/sub", raw_syscall2(NR_mkdir, "d/sub", 0755));
    drain(in, "mkdir");
    fd = k_open("d/sub", K_O_RDONLY | K_O_DIRECTORY, 0);
    raw_syscall3(NR_getdents64, fd, evbuf, 4096);
    raw_syscall3(NR_getdents64, fd, evbuf, 4096);
    drain(in, "open subdir, getdents64 twice");
    k_close(fd);
    drain(in, "close subdir");
    fd = k_open("d", K_O_RDONLY | K_O_DIRECTORY, 0);
    raw_syscall3(NR_getdents64, fd, evbuf + 8192, 4096);
    k_close(fd);
    drain(in, "list the watched dir itself");
    show("chmod subdir", raw_syscall2(NR_chmod, "d/sub", 0700));
    drain(in, "chmod subdir");
    show("stat", k_stat("d/a", (struct kstat *)evbuf));
    show("access", raw_syscall2(NR_access, "d/a", K_R_OK));
    drain(in, "stat, access");

    show("symlink", raw_syscall2(NR_symlink, "a", "d/s"));
    show("link", raw_syscall2(NR_link, "d/a", "d/h"));
    show("mknod fifo", raw_syscall3(NR_mknod, "d/p", K_S_IFIFO | 0644, 0));
    show("creat", k_close(raw_syscall2(NR_creat, "d/c", 0644)));
    drain(in, "symlink, link, mknod, creat");
    show("lchown symlink", raw_syscall3(NR_lchown, "d/s", raw_syscall0(NR_getuid), -1));
    drain(in, "lchown symlink");
    fd = k_open("d/s", K_O_RDONLY, 0);
    k_close(fd);
    drain(in, "open through symlink");

    show("rename a -> b", raw_syscall2(NR_rename, "d/a", "d/b"));
    drain(in, "rename in dir");
    show("rename b -> c (over c)", raw_syscall2(NR_rename, "d/b", "d/c"));
    drain(in, "rename over existing");
    show("rename h -> c (same inode)", raw_syscall2(NR_rename, "d/h", "d/c"));
    drain(in, "rename onto the same inode");
    show("rename c -> sub/c", raw_syscall2(NR_rename, "d/c", "d/sub/c"));
    drain(in, "rename to unwatched subdir");
    show("rename sub/c -> c", raw_syscall2(NR_rename, "d/sub/c", "d/c"));
    drain(in, "rename from unwatched subdir");
    show("rename c -> ../outside", raw_syscall2(NR_rename, "d/c", "outside"));
    drain(in, "rename out");
    show("rename ../outside -> c", raw_syscall2(NR_rename, "outside", "d/c"));
    drain(in, "rename in");
    show("renameat2 EXCHANGE c <-> sub", raw6(NR_renameat2, K_AT_FDCWD, "d/c", K_AT_FDCWD,
                                                 "d/sub", K_RENAME_EXCHANGE, 0));
    drain(in, "exchange");
    show("renameat2 EXCHANGE back", raw6(NR_renameat2, K_AT_FDCWD, "d/c", K_AT_FDCWD,
                                            "d/sub", K_RENAME_EXCHANGE, 0));
    drain(in, "exchange back");
    show("rename sub -> sub2", raw_syscall2(NR_rename, "d/sub", "d/sub2"));
    drain(in, "rename subdir");
    show("rename failing (ENOENT)", raw_syscall2(NR_rename, "d/nothing", "d/x"));
    drain(in, "failed rename");

    show("unlink c", raw_syscall1(NR_unlink, "d/c"));
    show("unlink s", raw_syscall1(NR_unlink, "d/s"));
    show("unlinkat p", raw_syscall3(NR_unlinkat, K_AT_FDCWD, "d/p", 0));
    drain(in, "unlinks");
    show("rmdir sub2", raw_syscall1(NR_rmdir, "d/sub2"));
    drain(in, "rmdir");
    show("unlink missing", raw_syscall1(NR_unlink, "d/missing"));
    show("mkdir existing", raw_syscall2(NR_mkdir, "d", 0755));
    drain(in, "failed calls");

    /* a file opened before the watch was added */
    fd = k_open("d/early", K_O_WRONLY | K_O_CREAT, 0644);
    long in2 = in_init1(0);
    show_wd("second instance watch d", add(in2, "d", IN_CLOSE | IN_MODIFY));
    k_write(fd, "e", 1);
    k_close(fd);
    drain(in, "first instance");
    drain(in2, "second instance (file opened before its watch)");
    k_close(in2);

    /* descriptors: the event comes with the last close of the open file description */
    fd = k_open("d/early", K_O_RDONLY, 0);
    long fd2 = raw_syscall1(NR_dup, fd);
    k_close(fd);
    drain(in, "close one of two dups");
    k_close(fd2);
    drain(in, "close the other");
    fd = k_open("d/early", K_O_RDONLY, 0);
    fd2 = k_open("d/early", K_O_WRONLY, 0);
    show("dup2 over an open file", raw_syscall2(NR_dup2, fd2, fd) == fd);
    drain(in, "dup2 closes the old file");
    long tmp = raw_syscall1(NR_dup, 0);
    show("dup3 over an open file", raw_syscall3(NR_dup3, tmp, fd, 0) == fd);
    k_close(tmp);
    drain(in, "dup3 closes the old file");
    k_close(fd);
    k_close(fd2);
    drain(in, "close the rest");
    fd = k_open("d/early", K_O_RDONLY, 0);
    show("close_range", raw_syscall3(NR_close_range, fd, fd, 0));
    drain(in, "close_range");
    fd = k_open("d/early", K_O_RDONLY, 0);
    show("close_range CLOEXEC", raw_syscall3(NR_close_range, fd, fd, K_CLOSE_RANGE_CLOEXEC));
    drain(in, "close_range CLOEXEC (nothing closed)");
    k_close(fd);
    drain(in, "close");

    /* copying between files */
    long src = k_open("d/early", K_O_RDONLY, 0);
    long dst = k_open("d/copy", K_O_WRONLY | K_O_CREAT, 0644);
    drain(in, "open src, create dst");
    show("sendfile", raw_syscall4(NR_sendfile, dst, src, NULL, 16));
    drain(in, "sendfile");
    show("copy_file_range", raw6(NR_copy_file_range, src, NULL, dst, NULL, 16, 0));
    long off = 0;
    show("copy_file_range from 0", raw6(NR_copy_file_range, src, &off, dst, NULL, 16, 0));
    drain(in, "copy_file_range");
    k_close(src);
    k_close(dst);
    drain(in, "close both");

    show("rm_watch", rm(in, wd));
    drain(in, "rm_watch");
    show("create after rm_watch", k_close(k_open("d/late", K_O_WRONLY | K_O_CREAT, 0644)));
    drain(in, "after rm_watch");
    k_close(in);
}

/* ---- a watch on a file, and on the directory holding it -------------------------------- */

static void test_file_watch(void)
{
    raw_syscall2(NR_mkdir, "f", 0755);
    put_file("f/x", "", 0);
    long in = in_init1(0);
    long wdd = add(in, "f", IN_ALL_EVENTS);
    long wdf = add(in, "f/x", IN_ALL_EVENTS);
    show_wd("watch dir f", wdd);
    show_wd("watch f/x", wdf);

    long fd = k_open("f/x", K_O_RDWR, 0);
    k_write(fd, "1", 1);
    k_close(fd);
    drain(in, "open, write, close (dir and file)");
    raw_syscall2(NR_chmod, "f/x", 0600);
    drain(in, "chmod");
    raw_syscall2(NR_link, "f/x", "f/y");
    drain(in, "link");
    raw_syscall1(NR_unlink, "f/y");
    drain(in, "unlink one link");
    raw_syscall2(NR_rename, "f/x", "f/z");
    drain(in, "rename the file");
    raw_syscall2(NR_rename, "f/z", "moved");
    drain(in, "rename the file out of the dir");
    fd = k_open("moved", K_O_RDONLY, 0);
    k_close(fd);
    drain(in, "open it outside the dir");
    raw_syscall2(NR_rename, "moved", "f/x");
    raw_syscall1(NR_unlink, "f/x");
    drain(in, "move back, unlink last link");
    show("rm_watch after delete", rm(in, wdf));

    /* unlinked while open: DELETE_SELF waits for the last close */
    put_file("f/o", "", 0);
    long wdo = add(in, "f/o", IN_ALL_EVENTS);
    show_wd("watch f/o", wdo);
    fd = k_open("f/o", K_O_RDWR, 0);
    drain(in, "open f/o");
    raw_syscall1(NR_unlink, "f/o");
    drain(in, "unlink while open");
    k_write(fd, "w", 1);
    raw_syscall2(NR_ftruncate, fd, 0);
    fchmod_(fd, 0644);
    drain(in, "write, ftruncate, fchmod after unlink");
    k_close(fd);
    drain(in, "last close of the unlinked file");

    /* renamed while open: later events name the new name */
    put_file("f/r1", "", 0);
    fd = k_open("f/r1", K_O_WRONLY, 0);
    raw_syscall2(NR_rename, "f/r1", "f/r2");
    k_write(fd, "w", 1);
    fchmod_(fd, 0600);
    raw6(NR_utimensat, fd, NULL, NULL, 0, 0, 0);
    char self_fd[64];
    snprintf(self_fd, sizeof self_fd, "/proc/self/fd/%ld", fd);
    k_close(k_open(self_fd, K_O_RDONLY, 0));
    k_close(fd);
    drain(in, "renamed while open");

    /* renamed over while open */
    put_file("f/v1", "", 0);
    put_file("f/v2", "", 0);
    long wdv = add(in, "f/v2", IN_ALL_EVENTS);
    show_wd("watch f/v2", wdv);
    fd = k_open("f/v2", K_O_WRONLY, 0);
    raw_syscall2(NR_rename, "f/v1", "f/v2");
    drain(in, "rename over an open watched file");
    k_write(fd, "w", 1);
    k_close(fd);
    drain(in, "write and close the replaced file");

    /* renamed over while not open: deleted at once */
    put_file("f/w1", "", 0);
    put_file("f/w2", "", 0);
    long wdw = add(in, "f/w2", IN_ALL_EVENTS);
    show_wd("watch f/w2", wdw);
    raw_syscall2(NR_rename, "f/w1", "f/w2");
    drain(in, "rename over a watched file");

    /* a directory renamed over a watched empty one */
    raw_syscall2(NR_mkdir, "f/e1", 0755);
    raw_syscall2(NR_mkdir, "f/e2", 0755);
    show_wd("watch f/e2", add(in, "f/e2", IN_ALL_EVENTS));
    show("rename f/e1 -> f/e2", raw_syscall2(NR_rename, "f/e1", "f/e2"));
    drain(in, "rename over a watched directory");

    /* a watch on a symlink itself */
    raw_syscall2(NR_symlink, "nowhere", "f/sl");
    show_wd("watch f/sl (IN_DONT_FOLLOW)", add(in, "f/sl", IN_ALL_EVENTS | IN_DONT_FOLLOW));
    show("lchown f/sl", raw_syscall3(NR_lchown, "f/sl", -1, raw_syscall0(NR_getgid)));
    show("unlink f/sl", raw_syscall1(NR_unlink, "f/sl"));
    drain(in, "symlink watched, changed, removed");

    /* a watched directory removed while open */
    raw_syscall2(NR_mkdir, "f/held", 0755);
    long wdh = add(in, "f/held", IN_ALL_EVENTS);
    show_wd("watch f/held", wdh);
    fd = k_open("f/held", K_O_RDONLY | K_O_DIRECTORY, 0);
    show("rmdir f/held while open", raw_syscall1(NR_rmdir, "f/held"));
    show("getdents64 in removed dir", raw_syscall3(NR_getdents64, fd, evbuf, 4096));
    drain(in, "rmdir while open");
    k_close(fd);
    drain(in, "close the removed dir");

    /* the watched directory itself */
    raw_syscall2(NR_mkdir, "f/inner", 0755);
    long wdi = add(in, "f/inner", IN_ALL_EVENTS);
    show_wd("watch f/inner", wdi);
    raw_syscall2(NR_rename, "f/inner", "f/inner2");
    drain(in, "rename the watched subdir");
    fd = k_open("f/inner2", K_O_RDONLY | K_O_DIRECTORY, 0);
    k_close(fd);
    drain(in, "open and close the watched subdir");
    raw_syscall1(NR_rmdir, "f/inner2");
    drain(in, "rmdir the watched subdir");
    k_close(in);
}

/* ---- watch flags --------------------------------------------------------------------- */

static void test_flags(void)
{
    raw_syscall2(NR_mkdir, "g", 0755);
    long in = in_init1(IN_NONBLOCK);

    long wd = add(in, "g", IN_CREATE | IN_ONESHOT);
    show_wd("IN_ONESHOT watch", wd);
    put_file("g/one", "", 0);
    put_file("g/two", "", 0);
    drain(in, "IN_ONESHOT");
    show("rm_watch of fired IN_ONESHOT", rm(in, wd));
    wd = add(in, "g", IN_CREATE | IN_ONESHOT);
    show_wd("IN_ONESHOT watch again (new wd)", wd);
    put_file("g/one", "x", 1);
    drain(in, "IN_ONESHOT: uninteresting event");
    show("IN_ONESHOT then plain (same wd)", add(in, "g", IN_CREATE));
    put_file("g/three", "", 0);
    put_file("g/four", "", 0);
    drain(in, "oneshot flag replaced");
    show("rm_watch", rm(in, wd));
    drain(in, "rm_watch");

    wd = add(in, "g/one", IN_MODIFY);
    show_wd("IN_MODIFY watch", wd);
    show_wd("IN_MASK_ADD IN_ATTRIB", add(in, "g/one", IN_ATTRIB | IN_MASK_ADD));
    long fd = k_open("g/one", K_O_WRONLY, 0);
    k_write(fd, "m", 1);
    fchmod_(fd, 0600);
    drain(in, "IN_MODIFY|IN_ATTRIB");
    show_wd("replace with IN_ATTRIB", add(in, "g/one", IN_ATTRIB));
    k_write(fd, "m", 1);
    fchmod_(fd, 0644);
    drain(in, "IN_ATTRIB only");
    show_wd("IN_MASK_ADD IN_ONESHOT", add(in, "g/one", IN_MODIFY | IN_MASK_ADD | IN_ONESHOT));
    k_write(fd, "m", 1);
    fchmod_(fd, 0600);
    drain(in, "oneshot added");
    k_close(fd);

    wd = add(in, "g", IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE | IN_EXCL_UNLINK);
    show_wd("IN_EXCL_UNLINK dir watch", wd);
    long in2 = in_init1(IN_NONBLOCK);
    show_wd("IN_EXCL_UNLINK file watch", add(in2, "g/two", IN_ALL_EVENTS | IN_EXCL_UNLINK));
    fd = k_open("g/two", K_O_RDWR, 0);
    k_write(fd, "a", 1);
    raw_syscall1(NR_unlink, "g/two");
    k_write(fd, "b", 1);
    fchmod_(fd, 0600);
    k_write(fd, "b", 1);
    raw_syscall2(NR_ftruncate, fd, 0);
    k_pread(fd, evbuf, 1, 0);
    k_close(fd);
    drain(in, "IN_EXCL_UNLINK dir watch");
    drain(in2, "IN_EXCL_UNLINK file watch");
    k_close(in2);
    show("rm_watch", rm(in, wd));
    drain(in, "rm_watch");

    /* wds are not reused after removal */
    wd = add(in, "g", IN_CREATE);
    show_wd("watch after removals", wd);
    show("INOTIFY_IOC_SETNEXTWD 0", raw_syscall3(NR_ioctl, in, INOTIFY_IOC_SETNEXTWD, 0));
    show("INOTIFY_IOC_SETNEXTWD 50", raw_syscall3(NR_ioctl, in, INOTIFY_IOC_SETNEXTWD, 50));
    show_wd("watch after SETNEXTWD 50", add(in, "g/one", IN_CREATE));
    show_wd("next watch", add(in, "g/three", IN_CREATE));
    k_close(in);

    in = in_init1(0);
    show_wd("new instance starts at wd 1", add(in, "g", IN_CREATE));
    k_close(in);
}

/* ---- reading the queue ------------------------------------------------------------------ */

static void test_reading(void)
{
    raw_syscall2(NR_mkdir, "h", 0755);
    long in = in_init1(IN_NONBLOCK);
    add(in, "h", IN_CREATE | IN_DELETE);
    int avail = -1;
    show("FIONREAD empty", raw_syscall3(NR_ioctl, in, K_FIONREAD, &avail));
    printf("FIONREAD empty value: %d\n", avail);
    struct kpollfd pfd = {(int)in, K_POLLIN | K_POLLOUT, 0};
    show("poll empty", raw_syscall3(NR_poll, &pfd, 1, 0));
    printf("poll empty revents: %#x\n", pfd.revents);

    put_file("h/fifteen-chars..", "", 0);   /* 15 bytes and a NUL: len 16 */
    put_file("h/sixteen-chars...", "", 0);  /* 16 bytes and a NUL: len 32 */
    put_file("h/q", "", 0);
    raw_syscall3(NR_ioctl, in, K_FIONREAD, &avail);
    printf("FIONREAD three events: %d\n", avail);
    pfd.revents = 0;
    show("poll with events", raw_syscall3(NR_poll, &pfd, 1, 0));
    printf("poll revents: %#x\n", pfd.revents);
    pfd.events = K_POLLOUT;
    pfd.revents = 0;
    show("poll POLLOUT only", raw_syscall3(NR_poll, &pfd, 1, 0));
    printf("poll POLLOUT revents: %#x\n", pfd.revents);

    show("read 0 bytes", k_read(in, evbuf, 0));
    show("read 16 bytes", k_read(in, evbuf, 16));
    show("read 31 bytes", k_read(in, evbuf, 31));
    long r = k_read(in, evbuf, 32);
    show("read 32 bytes", r);
    print_events("read 32", evbuf, r);
    r = k_read(in, evbuf, 16 + 32 + 30);
    show("read 78 bytes (one event and a half)", r);
    print_events("read 78", evbuf, r);
    r = k_read(in, evbuf, 4096);
    show("read the rest", r);
    print_events("read rest", evbuf, r);
    show("read empty", k_read(in, evbuf, 4096));
    show("readv empty", raw_syscall3(NR_readv, in, (&(struct kiovec){evbuf, 64}), 1));
    put_file("h/r", "", 0);
    struct kiovec iov[2] = {{evbuf, 8}, {evbuf + 100, 100}};
    r = raw_syscall3(NR_readv, in, iov, 2);
    show("readv 8+100 (Linux reads each iovec alone)", r);
    k_read(in, evbuf, sizeof evbuf);
    put_file("h/s", "", 0);
    show("FIONREAD bad pointer", raw_syscall3(NR_ioctl, in, K_FIONREAD, 8));
    show("read bad buffer, event waiting", k_read(in, (void *)8, 64));
    raw_syscall3(NR_ioctl, in, K_FIONREAD, &avail);
    printf("FIONREAD after bad read (Linux drops the event): %d\n", avail);
    k_read(in, evbuf, sizeof evbuf);

    /* coalescing: identical consecutive events merge, others do not */
    long wdf = add(in, "h/q", IN_MODIFY | IN_ATTRIB);
    long fd = k_open("h/q", K_O_WRONLY, 0);
    for (int i = 0; i < 3; i++)
        k_write(fd, "x", 1);
    fchmod_(fd, 0600);
    k_write(fd, "x", 1);
    k_write(fd, "x", 1);
    drain(in, "coalescing");
    k_write(fd, "x", 1);
    drain(in, "not merged with an event already read");

    /* overflow: 16384 events queue, then one IN_Q_OVERFLOW */
    for (int i = 0; i < 8200; i++) {
        k_write(fd, "x", 1);
        fchmod_(fd, i & 1 ? 0600 : 0644);
    }
    raw_syscall3(NR_ioctl, in, K_FIONREAD, &avail);
    printf("FIONREAD full queue: %d\n", avail);
    r = k_read(in, evbuf, sizeof evbuf);
    show("read full queue", r);
    if (r > 0) {
        long n = r / 16, modify = 0, attrib = 0, other = 0;
        for (long i = 0; i < n; i++) {
            struct kevent *e = (void *)(evbuf + 16 * i);
            if (e->mask == IN_MODIFY && e->wd == wdf)
                modify++;
            else if (e->mask == IN_ATTRIB && e->wd == wdf)
                attrib++;
            else
                other++;
        }
        printf("full queue: %ld events, %ld IN_MODIFY, %ld IN_ATTRIB, %ld other\n",
               n, modify, attrib, other);
        print_events("full queue last", evbuf + r - 16, 16);
    }
    k_write(fd, "x", 1);
    drain(in, "after the overflow was read");
    k_close(fd);
    k_close(in);

    /* a blocking fd with events reads them */
    in = in_init1(0);
    add(in, "h", IN_CREATE);
    put_file("h/b", "", 0);
    r = k_read(in, evbuf, sizeof evbuf);
    show("blocking read with an event", r);
    print_events("blocking read", evbuf, r);
    k_close(in);
}

/* ---- several instances, and closing one ------------------------------------------------- */

static void test_instances(void)
{
    raw_syscall2(NR_mkdir, "k", 0755);
    long a = in_init1(IN_NONBLOCK), b = in_init1(IN_NONBLOCK);
    show_wd("a watches k", add(a, "k", IN_CREATE));
    show_wd("b watches k", add(b, "k", IN_CREATE | IN_DELETE));
    show_wd("b watches .", add(b, ".", IN_CREATE));
    put_file("k/one", "", 0);
    raw_syscall1(NR_unlink, "k/one");
    drain(a, "instance a");
    drain(b, "instance b");
    k_close(a);
    put_file("k/two", "", 0);
    drain(b, "b after a was closed");
    long c = raw_syscall1(NR_dup, b);
    k_close(b);
    put_file("k/three", "", 0);
    drain(c, "b through a dup after closing the original fd");
    k_close(c);
    put_file("k/four", "", 0);
    printf("instances done\n");
}

static void block_forever(void)
{
    long in = in_init1(0);
    add(in, ".", IN_CREATE);
    printf("reading an empty blocking inotify fd\n");
    long r = k_read(in, evbuf, sizeof evbuf);
    printf("read returned %s\n", fs_ret(r));
}

int main(int argc, char **argv)
{
    fs_setup(argc, argv, argc > 2 ? "inotify-block" : "inotify");
    if (argc > 2 && strcmp(argv[2], "block") == 0) {
        block_forever();
        return 0;
    }
    test_init();
    test_add_watch_errors();
    test_directory_events();
    test_file_watch();
    test_flags();
    test_reading();
    test_instances();
    printf("inotify done\n");
    return 0;
}
