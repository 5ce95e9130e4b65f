/*
 * accessids: access(2) and faccessat(2) check with the real uid and gid, the path
 * walk included; AT_EACCESS and stat(2) use the effective ones. As root: a
 * directory only root may search, then the real uid given to nobody while the
 * effective uid stays root, then each call on a file inside it. Prints errno names,
 * the same for any run; not root: one line saying so.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

static void show(const char *what, long r) { printf("%s: %s\n", what, fmt_ret(r)); }

int main(void)
{
    char dir[] = "/tmp/accessids.XXXXXX", file[64], stbuf[256];
    if (raw_syscall0(SYS_geteuid) != 0) {
        printf("not root: nothing to check\n");
        return 0;
    }
    if (!mkdtemp(dir))
        return 1;
    chmod(dir, 0700);
    snprintf(file, sizeof file, "%s/f", dir);
    close(open(file, O_CREAT | O_WRONLY, 0644));

    show("access as root", raw_syscall2(SYS_access, file, R_OK));
    show("setresuid(65534, 0, 0)", raw_syscall3(SYS_setresuid, 65534, 0, 0));
    show("access F_OK", raw_syscall2(SYS_access, file, F_OK));
    show("access R_OK", raw_syscall2(SYS_access, file, R_OK));
    show("access of the directory", raw_syscall2(SYS_access, dir, F_OK));
    show("access X_OK of the directory", raw_syscall2(SYS_access, dir, X_OK));
    show("faccessat F_OK", raw_syscall3(SYS_faccessat, AT_FDCWD, file, F_OK));
    show("faccessat2 F_OK", raw_syscall4(SYS_faccessat2, AT_FDCWD, file, F_OK, 0));
    show("faccessat2 AT_EACCESS", raw_syscall4(SYS_faccessat2, AT_FDCWD, file, R_OK, AT_EACCESS));
    show("stat (effective ids)", raw_syscall2(SYS_stat, file, stbuf));
    show("access F_OK again", raw_syscall2(SYS_access, file, F_OK));
    show("setresuid(0, 0, 0)", raw_syscall3(SYS_setresuid, 0, 0, 0));
    show("access F_OK as root again", raw_syscall2(SYS_access, file, F_OK));
    /* the filesystem uid alone given to nobody: walks and opens go by it, access by
     * the real uid (still root) */
    raw_syscall1(SYS_setfsuid, 65534);
    show("setfsuid(65534): stat", raw_syscall2(SYS_stat, file, stbuf));
    show("setfsuid(65534): open", raw_syscall2(SYS_open, file, O_RDONLY));
    show("setfsuid(65534): access F_OK", raw_syscall2(SYS_access, file, F_OK));
    show("setfsuid(65534): faccessat2 AT_EACCESS",
         raw_syscall4(SYS_faccessat2, AT_FDCWD, file, F_OK, AT_EACCESS));
    raw_syscall1(SYS_setfsuid, 0);
    show("setfsuid(0): stat", raw_syscall2(SYS_stat, file, stbuf));
    unlink(file);
    rmdir(dir);
    return 0;
}
