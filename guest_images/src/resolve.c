/*
 * resolve SCRATCH_DIR: openat2(2)'s RESOLVE_* rules and argument checks, then
 * chroot(2) (as root: the root moves and ".." stops at it; otherwise EPERM),
 * also for a cwd that stays where it was: the same relative path names another
 * file once the root moved. One line per check; chroot comes last since it
 * cannot be undone.
 */
#include "fsguest.h"

#define NR_openat2 437
#define NR_chroot 161
#define AT_FDCWD_ (-100)
#define R_NO_XDEV 0x01
#define R_NO_MAGICLINKS 0x02
#define R_NO_SYMLINKS 0x04
#define R_BENEATH 0x08
#define R_IN_ROOT 0x10
#define R_CACHED 0x20

struct open_how {
    unsigned long long flags, mode, resolve;
};

static long oa2(long dfd, const char *path, unsigned long long flags,
                unsigned long long mode, unsigned long long resolve)
{
    struct open_how how = {flags, mode, resolve};
    return raw_syscall4(NR_openat2, dfd, path, &how, sizeof how);
}

static void try(const char *what, long dfd, const char *path, unsigned long long resolve)
{
    long fd = oa2(dfd, path, K_O_RDONLY, 0, resolve);
    show(what, fd < 0 ? fd : 0);
    if (fd >= 0)
        k_close(fd);
}

int main(int argc, char **argv)
{
    fs_setup(argc, argv, "resolve");
    raw_syscall2(NR_mkdir, "root", 0755);
    raw_syscall2(NR_mkdir, "root/sub", 0755);
    put_file("root/file", "in root\n", 8);
    put_file("outside", "outside\n", 8);
    put_file("root/x", "inside", 6);
    put_file("x", "outside", 7);
    raw_syscall2(NR_symlink, "file", "root/rel");
    raw_syscall2(NR_symlink, "../outside", "root/up");
    raw_syscall2(NR_symlink, "/outside", "root/abs");

    long d = k_open("root", K_O_RDONLY | K_O_DIRECTORY, 0);
    try("plain file", d, "file", 0);
    try("BENEATH file", d, "file", R_BENEATH);
    try("BENEATH sub/../file", d, "sub/../file", R_BENEATH);
    try("BENEATH ../outside", d, "../outside", R_BENEATH);
    try("BENEATH absolute", d, "/etc", R_BENEATH);
    try("BENEATH rel symlink", d, "rel", R_BENEATH);
    try("BENEATH symlink up", d, "up", R_BENEATH);
    try("BENEATH absolute symlink", d, "abs", R_BENEATH);
    try("NO_SYMLINKS rel symlink", d, "rel", R_NO_SYMLINKS);
    try("NO_SYMLINKS plain", d, "file", R_NO_SYMLINKS);
    try("IN_ROOT ../file", d, "../file", R_IN_ROOT);
    try("BENEATH|IN_ROOT", d, "file", R_BENEATH | R_IN_ROOT);
    try("unknown resolve bit", d, "file", 0x1000);

    struct open_how how = {K_O_RDONLY, 0, 0};
    show("size too small", raw_syscall4(NR_openat2, d, "file", &how, 16));
    struct { struct open_how h; unsigned long long extra; } big = {{K_O_RDONLY, 0, 0}, 1};
    show("nonzero trailing field", raw_syscall4(NR_openat2, d, "file", &big, sizeof big));
    big.extra = 0;
    long fd = raw_syscall4(NR_openat2, d, "file", &big, sizeof big);
    show("zero trailing field", fd < 0 ? fd : 0);
    if (fd >= 0)
        k_close(fd);
    show("mode without O_CREAT", oa2(d, "file", K_O_RDONLY, 0644, 0));
    show("unknown open flag", oa2(d, "file", K_O_RDONLY | (1ULL << 40), 0, 0));
    fd = oa2(d, "made", K_O_WRONLY | K_O_CREAT, 0600, R_BENEATH);
    show("O_CREAT beneath", fd < 0 ? fd : 0);
    if (fd >= 0)
        k_close(fd);
    k_close(d);

    /* From root/sub, "../../x" is ./x; after chroot("..") the same cwd and the
       same path give root/x, since ".." stops at the new root. */
    char buf[64];
    raw_syscall1(NR_chdir, "root/sub");
    long n = get_file("../../x", buf, sizeof buf);
    printf("read ../../x before chroot: %s\n", n < 0 ? fs_ret(n) : buf);
    long root = raw_syscall0(NR_getuid) == 0;
    long r = raw_syscall1(NR_chroot, "..");
    printf("chroot (root=%ld): %s\n", root, fs_ret(r));
    n = get_file("../../x", buf, sizeof buf);
    printf("read ../../x after chroot (root=%ld): %s\n", root, n < 0 ? fs_ret(n) : buf);
    if (r == 0) {
        raw_syscall1(NR_chdir, "/");
        n = get_file("/file", buf, sizeof buf);
        printf("read /file after chroot: %ld\n", n);
        n = get_file("/../../file", buf, sizeof buf);
        printf("read /../../file after chroot: %ld\n", n);
        fd = k_open("/outside", K_O_RDONLY, 0);
        show("open /outside after chroot", fd < 0 ? fd : 0);
    }
    return 0;
}
