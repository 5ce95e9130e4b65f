/*
 * guest.h - small helpers shared by the pyunik guest test programs.
 *
 * raw_syscallN() issue the x86-64 `syscall` instruction directly so that
 * neither glibc nor musl can intercept, retry, emulate (vDSO) or rewrite the
 * call.  They return the raw kernel result: a negative value is -errno.
 */
#ifndef PYUNIK_GUEST_H
#define PYUNIK_GUEST_H

static inline long raw_syscall6(long n, long a1, long a2, long a3,
                                long a4, long a5, long a6)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3),
                       "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define raw_syscall0(n) raw_syscall6((n), 0, 0, 0, 0, 0, 0)
#define raw_syscall1(n, a) raw_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define raw_syscall2(n, a, b) raw_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define raw_syscall3(n, a, b, c) \
    raw_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define raw_syscall4(n, a, b, c, d) \
    raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define raw_syscall5(n, a, b, c, d, e) \
    raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* Symbolic name for a (positive) errno value; NULL when not in the table. */
static inline const char *errno_name(long e)
{
    switch (e) {
    case 1: return "EPERM";
    case 2: return "ENOENT";
    case 3: return "ESRCH";
    case 4: return "EINTR";
    case 5: return "EIO";
    case 6: return "ENXIO";
    case 7: return "E2BIG";
    case 8: return "ENOEXEC";
    case 9: return "EBADF";
    case 10: return "ECHILD";
    case 11: return "EAGAIN";
    case 12: return "ENOMEM";
    case 13: return "EACCES";
    case 14: return "EFAULT";
    case 16: return "EBUSY";
    case 17: return "EEXIST";
    case 18: return "EXDEV";
    case 19: return "ENODEV";
    case 20: return "ENOTDIR";
    case 21: return "EISDIR";
    case 22: return "EINVAL";
    case 23: return "ENFILE";
    case 24: return "EMFILE";
    case 25: return "ENOTTY";
    case 27: return "EFBIG";
    case 28: return "ENOSPC";
    case 29: return "ESPIPE";
    case 30: return "EROFS";
    case 32: return "EPIPE";
    case 33: return "EDOM";
    case 34: return "ERANGE";
    case 36: return "ENAMETOOLONG";
    case 38: return "ENOSYS";
    case 39: return "ENOTEMPTY";
    case 40: return "ELOOP";
    case 75: return "EOVERFLOW";
    case 95: return "EOPNOTSUPP";
    case 110: return "ETIMEDOUT";
    default: return 0;
    }
}

/*
 * Format a raw syscall result deterministically: "-ENAME" for errors,
 * "-<n>" for errors missing from the table, or the decimal value itself.
 * Uses a static buffer, so consume the result before the next call.
 */
#include <stdio.h>
static inline const char *fmt_ret(long r)
{
    static char buf[32];
    if (r < 0 && r > -4096) {
        const char *n = errno_name(-r);
        if (n)
            snprintf(buf, sizeof buf, "-%s", n);
        else
            snprintf(buf, sizeof buf, "-%ld", -r);
    } else {
        snprintf(buf, sizeof buf, "%ld", r);
    }
    return buf;
}

/* Same, but for a libc-style (-1, errno) result. */
static inline const char *fmt_errno(int e)
{
    static char buf[32];
    const char *n = errno_name(e);
    if (n)
        snprintf(buf, sizeof buf, "%s", n);
    else
        snprintf(buf, sizeof buf, "errno%d", e);
    return buf;
}

#endif
