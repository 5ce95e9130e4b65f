/*
 * contain WORK [RO [OTHER]]: try to leave the mounts a guest was given, and to write
 * where it may not, and print what happened: one line per attempt, the bytes read
 * (first line of the file) or the result as a number or -ENAME.
 *
 * WORK is a writable directory prepared by the caller with
 *   abs_link -> <absolute path of a file "secret.txt" outside WORK>
 *   rel_link -> ../outside/secret.txt
 *   dir_link -> <absolute path of the directory holding secret.txt>
 *   abs_victim -> <absolute path of a file "victim.txt" outside WORK>
 *   rel_victim -> ../outside/victim.txt
 *   f.txt (any contents)
 * RO is a read-only mount holding f.txt; OTHER is another writable mount (for EXDEV).
 * Run natively, the escapes succeed (the links point outside WORK); under pyunik with
 * WORK mounted with -v, none may.
 */
#include "fsguest.h"

static void try_read(const char *what, const char *path)
{
    char buf[64];
    long r = get_file(path, buf, sizeof buf);
    if (r < 0) {
        printf("read %s: %s\n", what, fs_ret(r));
        return;
    }
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
    printf("read %s: \"%s\"\n", what, buf);
}

static void try_write(const char *what, const char *path)
{
    long fd = k_open(path, K_O_WRONLY | K_O_CREAT | K_O_TRUNC, 0644);
    if (fd >= 0) {
        k_write(fd, "pwned\n", 6);
        k_close(fd);
    }
    show_fd(what, fd);
}

static void escapes(const char *work)
{
    char path[4200];
    try_read("abs_link", "abs_link");
    try_read("rel_link", "rel_link");
    try_read("dir_link/secret.txt", "dir_link/secret.txt");
    try_read("../outside/secret.txt", "../outside/secret.txt");
    snprintf(path, sizeof path, "%s/../outside/secret.txt", work);
    try_read("WORK/../outside/secret.txt", path);
    snprintf(path, sizeof path, "/proc/self/root%s/../outside/secret.txt", work);
    try_read("/proc/self/root/WORK/../outside/secret.txt", path);
    try_read("/proc/self/cwd/../outside/secret.txt", "/proc/self/cwd/../outside/secret.txt");

    /* a symlink made by the guest itself, pointing up and out */
    show("symlink made_link -> ../outside/secret.txt",
         raw_syscall2(NR_symlink, "../outside/secret.txt", "made_link"));
    try_read("made_link", "made_link");

    try_write("write through abs_victim", "abs_victim");
    try_write("write through rel_victim", "rel_victim");
    try_write("create ../outside/new.txt", "../outside/new.txt");

    /* ".." from the top of the mount and from the root stays inside */
    for (int i = 0; i < 8; i++)
        raw_syscall1(NR_chdir, "..");
    char cwd[256];
    long r = raw_syscall2(NR_getcwd, cwd, sizeof cwd);
    printf("cwd after 8 x chdir(\"..\"): %s\n", r > 0 ? cwd : fs_ret(r));
    show("chdir back to WORK", raw_syscall1(NR_chdir, work));
}

static void read_only(const char *ro)
{
    char p[4200], q[4200];
#define AT(buf, name) (snprintf(buf, sizeof buf, "%s/%s", ro, name), buf)
    try_read("RO/f.txt", AT(p, "f.txt"));
    show_fd("open RO/f.txt O_RDONLY", k_open(AT(p, "f.txt"), K_O_RDONLY, 0));
    show_fd("open RO/f.txt O_WRONLY", k_open(AT(p, "f.txt"), K_O_WRONLY, 0));
    show_fd("open RO/f.txt O_RDWR|O_TRUNC", k_open(AT(p, "f.txt"), K_O_RDWR | K_O_TRUNC, 0));
    show_fd("create RO/new", k_open(AT(p, "new"), K_O_WRONLY | K_O_CREAT, 0644));
    show("mkdir RO/d", raw_syscall2(NR_mkdir, AT(p, "d"), 0755));
    show("unlink RO/f.txt", raw_syscall1(NR_unlink, AT(p, "f.txt")));
    show("rename RO/f.txt RO/g.txt", raw_syscall2(NR_rename, AT(p, "f.txt"), AT(q, "g.txt")));
    show("link RO/f.txt RO/h.txt", raw_syscall2(NR_link, AT(p, "f.txt"), AT(q, "h.txt")));
    show("symlink RO/s", raw_syscall2(NR_symlink, "f.txt", AT(p, "s")));
    show("chmod RO/f.txt 0600", raw_syscall2(NR_chmod, AT(p, "f.txt"), 0600));
    show("truncate RO/f.txt", raw_syscall2(NR_truncate, AT(p, "f.txt"), 0));
    show("utimensat RO/f.txt now",
         raw_syscall4(NR_utimensat, K_AT_FDCWD, AT(p, "f.txt"), 0, 0));
    show("rename WORK/f.txt RO/f2.txt", raw_syscall2(NR_rename, "f.txt", AT(q, "f2.txt")));
    try_read("RO/f.txt after", AT(p, "f.txt"));
#undef AT
}

static void across(const char *other)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/moved.txt", other);
    show("rename WORK/f.txt OTHER/moved.txt", raw_syscall2(NR_rename, "f.txt", p));
    show("link WORK/f.txt OTHER/moved.txt", raw_syscall2(NR_link, "f.txt", p));
    show("renameat2 EXCHANGE WORK/f.txt OTHER/moved.txt",
         raw_syscall5(NR_renameat2, K_AT_FDCWD, "f.txt", K_AT_FDCWD, p, K_RENAME_EXCHANGE));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: contain WORK [RO [OTHER]]\n");
        return 2;
    }
    raw_syscall1(NR_umask, 022);
    long r = raw_syscall1(NR_chdir, argv[1]);
    if (r) {
        printf("FATAL: chdir WORK: %s\n", fs_ret(r));
        return 1;
    }
    escapes(argv[1]);
    if (argc > 2)
        read_only(argv[2]);
    if (argc > 3)
        across(argv[3]);
    return 0;
}
