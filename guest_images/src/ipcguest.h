/*
 * ipcguest.h - helpers shared by the System V IPC and shared memory guest
 * programs (sysvshm, sysvsem, sysvmsg, shmmap, shmfork): errno names, result
 * lines, /proc/self/maps lines.
 */
#ifndef PYUNIK_IPCGUEST_H
#define PYUNIK_IPCGUEST_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "guest.h"

static inline const char *ename(int e)
{
    switch (e) {
    case 42: return "ENOMSG";
    case 43: return "EIDRM";
    }
    return fmt_errno(e);
}

/* "label: ok" when r is not -1, else "label: ENAME" (a libc-style result). */
#define SAY(label, expr) do { \
        long r_ = (long)(expr); \
        printf("%s: %s\n", (label), r_ == -1 ? ename(errno) : "ok"); \
    } while (0)

/* "label: value" or "label: ENAME". */
#define VAL(label, expr) do { \
        long r_ = (long)(expr); \
        if (r_ == -1) printf("%s: %s\n", (label), ename(errno)); \
        else printf("%s: %ld\n", (label), r_); \
    } while (0)

#define YES(label, cond) printf("%s: %s\n", (label), (cond) ? "yes" : "no")

/* A key of this run's own, so a native run never meets another run's objects. */
static inline int run_key(int n)
{
    return 0x50590000 | ((getpid() & 0xfff) << 4) | n;
}

/* The /proc/self/maps line of the mapping at addr: perms, offset, device, name
   (the inode number differs from run to run). */
static inline void maps_line(const char *label, void *addr)
{
    char want[32], line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    snprintf(want, sizeof want, "%lx-", (unsigned long)addr);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, want, strlen(want)) == 0) {
            char perms[8], off[20], dev[16], name[256] = "";
            sscanf(line, "%*s %7s %19s %15s %*u %255[^\n]", perms, off, dev, name);
            printf("%s: %s %s %s %s\n", label, perms, off, dev, name);
        }
    }
    if (f)
        fclose(f);
}

#endif
