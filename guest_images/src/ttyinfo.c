/*
 * ttyinfo: how a program names the terminal its stdio is. For fds 0, 1 and 2:
 * isatty, ttyname (libc: readlink of /proc/self/fd/N, then a stat of that name
 * compared with fstat of the fd), the /proc/self/fd/N link itself, and whether
 * stat of the name and fstat of the fd agree on device, inode and rdev. Then
 * /dev/tty: can it be opened, and is it a terminal. Run it with stdio on a
 * pseudo-terminal, natively and under pyunik, on the same pty: the output is the
 * same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *err_name(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case ENOTTY: return "ENOTTY";
    case ERANGE: return "ERANGE";
    default: return "other";
    }
}

static void describe(int fd, FILE *out)
{
    char proc[64], link[256], name[256];
    struct stat by_name, by_fd;
    ssize_t n;
    int r;

    fprintf(out, "fd %d: isatty=%d", fd, isatty(fd));
    r = ttyname_r(fd, name, sizeof name);
    if (r != 0) {
        fprintf(out, " ttyname=%s\n", err_name(r));
        return;
    }
    fprintf(out, " ttyname=%s", name);
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    n = readlink(proc, link, sizeof link - 1);
    link[n < 0 ? 0 : n] = 0;
    fprintf(out, " link=%s", n < 0 ? err_name(errno) : link);
    if (stat(name, &by_name) != 0 || fstat(fd, &by_fd) != 0) {
        fprintf(out, " stat=%s\n", err_name(errno));
        return;
    }
    fprintf(out, " chr=%d same_dev_ino=%d same_rdev=%d\n", S_ISCHR(by_name.st_mode),
            by_name.st_dev == by_fd.st_dev && by_name.st_ino == by_fd.st_ino,
            by_name.st_rdev == by_fd.st_rdev);
}

int main(void)
{
    /* Write everything through fd 1 only after the queries, in one piece. */
    char buf[4096];
    FILE *out = fmemopen(buf, sizeof buf, "w");
    int fd;

    for (int i = 0; i < 3; i++)
        describe(i, out);
    fd = open("/dev/tty", O_RDWR);
    fprintf(out, "open /dev/tty: %s", fd < 0 ? err_name(errno) : "ok");
    if (fd >= 0) {
        char name[256];
        fprintf(out, " isatty=%d ttyname=%s", isatty(fd),
                ttyname_r(fd, name, sizeof name) == 0 ? name : "(none)");
        close(fd);
    }
    fprintf(out, "\n");
    fclose(out);
    fputs(buf, stdout);
    return 0;
}
