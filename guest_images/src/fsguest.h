/*
 * fsguest.h - helpers shared by the file-system guest programs (fileio, dirs,
 * meta, mmapfile, devproc).  Builds on guest.h (raw syscalls, errno names).
 *
 * Everything here talks to the kernel directly: x86-64 syscall numbers,
 * flag values and structure layouts are spelled out so that neither the libc
 * headers (musl 1.2.3 lacks several) nor the libc wrappers (which emulate,
 * retry or translate some calls) can change what is tested.
 *
 * Conventions of the programs:
 *   - argv[1] is a scratch directory; fs_setup() chdirs into it, creates a
 *     subdirectory named after the program, chdirs there and works only below
 *     it (all paths relative), so several programs can share one scratch dir;
 *   - umask is set to 022 first so created modes do not depend on the caller;
 *   - one line per check, "what: result", results through fs_ret() (a number
 *     or -ENAME), never an inode/device number, time, uid or directory size;
 *   - stdout is line buffered so a crash under an emulator still shows every
 *     line printed before it.
 */
#ifndef PYUNIK_FSGUEST_H
#define PYUNIK_FSGUEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

/* ---- x86-64 system call numbers ---------------------------------------- */
#define NR_read 0
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_stat 4
#define NR_fstat 5
#define NR_lstat 6
#define NR_lseek 8
#define NR_mmap 9
#define NR_mprotect 10
#define NR_munmap 11
#define NR_ioctl 16
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_access 21
#define NR_pipe 22
#define NR_msync 26
#define NR_madvise 28
#define NR_dup 32
#define NR_dup2 33
#define NR_getpid 39
#define NR_sendfile 40
#define NR_fcntl 72
#define NR_flock 73
#define NR_fsync 74
#define NR_fdatasync 75
#define NR_truncate 76
#define NR_ftruncate 77
#define NR_getdents 78
#define NR_getcwd 79
#define NR_chdir 80
#define NR_fchdir 81
#define NR_rename 82
#define NR_mkdir 83
#define NR_rmdir 84
#define NR_creat 85
#define NR_link 86
#define NR_unlink 87
#define NR_symlink 88
#define NR_readlink 89
#define NR_chmod 90
#define NR_fchmod 91
#define NR_chown 92
#define NR_fchown 93
#define NR_lchown 94
#define NR_umask 95
#define NR_getuid 102
#define NR_getgid 104
#define NR_getppid 110
#define NR_utime 132
#define NR_mknod 133
#define NR_statfs 137
#define NR_fstatfs 138
#define NR_sync 162
#define NR_getxattr 191
#define NR_lgetxattr 192
#define NR_fgetxattr 193
#define NR_getdents64 217
#define NR_clock_gettime 228
#define NR_utimes 235
#define NR_openat 257
#define NR_mkdirat 258
#define NR_mknodat 259
#define NR_fchownat 260
#define NR_futimesat 261
#define NR_newfstatat 262
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_linkat 265
#define NR_symlinkat 266
#define NR_readlinkat 267
#define NR_fchmodat 268
#define NR_faccessat 269
#define NR_splice 275
#define NR_tee 276
#define NR_utimensat 280
#define NR_fallocate 285
#define NR_dup3 292
#define NR_pipe2 293
#define NR_preadv 295
#define NR_pwritev 296
#define NR_syncfs 306
#define NR_renameat2 316
#define NR_memfd_create 319
#define NR_copy_file_range 326
#define NR_preadv2 327
#define NR_pwritev2 328
#define NR_statx 332
#define NR_close_range 436
#define NR_faccessat2 439
#define NR_fchmodat2 452

/* ---- flag values (Linux x86-64 generic ABI) ----------------------------- */
#define K_O_RDONLY 00
#define K_O_WRONLY 01
#define K_O_RDWR 02
#define K_O_CREAT 0100
#define K_O_EXCL 0200
#define K_O_NOCTTY 0400
#define K_O_TRUNC 01000
#define K_O_APPEND 02000
#define K_O_NONBLOCK 04000
#define K_O_LARGEFILE 0100000
#define K_O_DIRECTORY 0200000
#define K_O_NOFOLLOW 0400000
#define K_O_CLOEXEC 02000000
#define K_O_PATH 010000000
#define K_O_TMPFILE (020000000 | K_O_DIRECTORY)

#define K_AT_FDCWD (-100)
#define K_AT_SYMLINK_NOFOLLOW 0x100
#define K_AT_REMOVEDIR 0x200
#define K_AT_EACCESS 0x200
#define K_AT_SYMLINK_FOLLOW 0x400
#define K_AT_EMPTY_PATH 0x1000

#define K_SEEK_SET 0
#define K_SEEK_CUR 1
#define K_SEEK_END 2
#define K_SEEK_DATA 3
#define K_SEEK_HOLE 4

#define K_F_DUPFD 0
#define K_F_GETFD 1
#define K_F_SETFD 2
#define K_F_GETFL 3
#define K_F_SETFL 4
#define K_F_GETLK 5
#define K_F_SETLK 6
#define K_F_SETLKW 7
#define K_F_OFD_GETLK 36
#define K_F_OFD_SETLK 37
#define K_F_DUPFD_CLOEXEC 1030
#define K_F_SETPIPE_SZ 1031
#define K_F_GETPIPE_SZ 1032
#define K_F_ADD_SEALS 1033
#define K_F_GET_SEALS 1034
#define K_F_SEAL_SEAL 1
#define K_F_SEAL_SHRINK 2
#define K_F_SEAL_GROW 4
#define K_F_SEAL_WRITE 8
#define K_FD_CLOEXEC 1
#define K_F_RDLCK 0
#define K_F_WRLCK 1
#define K_F_UNLCK 2

#define K_LOCK_SH 1
#define K_LOCK_EX 2
#define K_LOCK_NB 4
#define K_LOCK_UN 8

#define K_S_IFMT 0170000
#define K_S_IFSOCK 0140000
#define K_S_IFLNK 0120000
#define K_S_IFREG 0100000
#define K_S_IFBLK 0060000
#define K_S_IFDIR 0040000
#define K_S_IFCHR 0020000
#define K_S_IFIFO 0010000

#define K_F_OK 0
#define K_X_OK 1
#define K_W_OK 2
#define K_R_OK 4

#define K_PROT_READ 1
#define K_PROT_WRITE 2
#define K_MAP_SHARED 1
#define K_MAP_PRIVATE 2
#define K_MAP_ANONYMOUS 0x20
#define K_MS_ASYNC 1
#define K_MS_INVALIDATE 2
#define K_MS_SYNC 4
#define K_MADV_DONTNEED 4

#define K_RENAME_NOREPLACE 1
#define K_RENAME_EXCHANGE 2

#define K_FALLOC_FL_KEEP_SIZE 1
#define K_FALLOC_FL_PUNCH_HOLE 2

#define K_MFD_CLOEXEC 1
#define K_MFD_ALLOW_SEALING 2

#define K_CLOSE_RANGE_CLOEXEC 4

#define K_SPLICE_F_NONBLOCK 2

#define K_FIONREAD 0x541b

#define K_UTIME_NOW ((1L << 30) - 1)
#define K_UTIME_OMIT ((1L << 30) - 2)

#define K_STATX_TYPE 0x1U
#define K_STATX_MODE 0x2U
#define K_STATX_NLINK 0x4U
#define K_STATX_UID 0x8U
#define K_STATX_GID 0x10U
#define K_STATX_ATIME 0x20U
#define K_STATX_MTIME 0x40U
#define K_STATX_CTIME 0x80U
#define K_STATX_INO 0x100U
#define K_STATX_SIZE 0x200U
#define K_STATX_BLOCKS 0x400U
#define K_STATX_BASIC_STATS 0x7ffU
#define K_STATX__RESERVED 0x80000000U

/* ---- kernel structure layouts (x86-64) --------------------------------- */
struct kstat {
    unsigned long dev, ino, nlink;
    unsigned int mode, uid, gid, pad0;
    unsigned long rdev;
    long size, blksize, blocks;
    unsigned long atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
    long unused[3];
};

struct kstatx_ts {
    long long sec;
    unsigned int nsec;
    int pad;
};

struct kstatx {
    unsigned int mask, blksize;
    unsigned long long attributes;
    unsigned int nlink, uid, gid;
    unsigned short mode, pad1;
    unsigned long long ino, size, blocks, attributes_mask;
    struct kstatx_ts atime, btime, ctime, mtime;
    unsigned int rdev_major, rdev_minor, dev_major, dev_minor;
    unsigned long long spare[14];
};

struct kflock {
    short type, whence;
    long start, len;
    int pid;
    int pad;
};

struct kiovec {
    void *base;
    unsigned long len;
};

struct kts {
    long sec, nsec;
};

struct ktv {
    long sec, usec;
};

struct kdirent64 {
    unsigned long long ino;
    long long off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

/* raw_syscall6 with every argument cast to long (pointers welcome) */
#define raw6(n, a, b, c, d, e, f)                                            \
    raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), \
                 (long)(f))

/* ---- output ------------------------------------------------------------- */

/* Like fmt_ret() but knows a few more errno names used by file systems. */
static inline const char *fs_ret(long r)
{
    static char buf[32];
    const char *n = 0;
    if (r < 0 && r > -4096) {
        switch (-r) {
        case 15: n = "ENOTBLK"; break;
        case 26: n = "ETXTBSY"; break;
        case 31: n = "EMLINK"; break;
        case 35: n = "EDEADLK"; break;
        case 37: n = "ENOLCK"; break;
        case 61: n = "ENODATA"; break;
        case 88: n = "ENOTSOCK"; break;
        case 116: n = "ESTALE"; break;
        case 122: n = "EDQUOT"; break;
        default: return fmt_ret(r);
        }
        snprintf(buf, sizeof buf, "-%s", n);
        return buf;
    }
    return fmt_ret(r);
}

static inline int is_err(long r) { return r < 0 && r > -4096; }

/* "what: <result>" */
static inline void show(const char *what, long r)
{
    printf("%s: %s\n", what, fs_ret(r));
}

/* For calls returning a new fd: "ok" instead of the (environment-dependent)
 * descriptor number. */
static inline void show_fd(const char *what, long r)
{
    if (r >= 0)
        printf("%s: ok\n", what);
    else
        printf("%s: %s\n", what, fs_ret(r));
}

/* Print a byte buffer with non-printables escaped as \xNN. */
static inline void print_bytes(const char *what, const void *p, long n)
{
    const unsigned char *b = p;
    printf("%s: %ld \"", what, n);
    for (long i = 0; i < n; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\')
            putchar(b[i]);
        else
            printf("\\x%02x", b[i]);
    }
    printf("\"\n");
}

static inline const char *type_name(unsigned mode)
{
    switch (mode & K_S_IFMT) {
    case K_S_IFREG: return "reg";
    case K_S_IFDIR: return "dir";
    case K_S_IFLNK: return "lnk";
    case K_S_IFIFO: return "fifo";
    case K_S_IFCHR: return "chr";
    case K_S_IFBLK: return "blk";
    case K_S_IFSOCK: return "sock";
    default: return "?";
    }
}

/* ---- raw wrappers used everywhere ------------------------------------- */
static inline long k_open(const char *p, long flags, long mode)
{
    return raw_syscall3(NR_open, p, flags, mode);
}
static inline long k_close(long fd) { return raw_syscall1(NR_close, fd); }
static inline long k_read(long fd, void *b, long n)
{
    return raw_syscall3(NR_read, fd, b, n);
}
static inline long k_write(long fd, const void *b, long n)
{
    return raw_syscall3(NR_write, fd, b, n);
}
static inline long k_pread(long fd, void *b, long n, long off)
{
    return raw_syscall4(NR_pread64, fd, b, n, off);
}
static inline long k_lseek(long fd, long off, long whence)
{
    return raw_syscall3(NR_lseek, fd, off, whence);
}
static inline long k_stat(const char *p, struct kstat *st)
{
    return raw_syscall2(NR_stat, p, st);
}
static inline long k_lstat(const char *p, struct kstat *st)
{
    return raw_syscall2(NR_lstat, p, st);
}
static inline long k_fstat(long fd, struct kstat *st)
{
    return raw_syscall2(NR_fstat, fd, st);
}
static inline long k_fcntl(long fd, long cmd, long arg)
{
    return raw_syscall3(NR_fcntl, fd, cmd, arg);
}

/* Create (or truncate) a file with the given contents; exits on failure. */
static inline void put_file(const char *path, const char *data, long len)
{
    long fd = k_open(path, K_O_WRONLY | K_O_CREAT | K_O_TRUNC, 0644);
    if (fd < 0) {
        printf("FATAL: create %s: %s\n", path, fs_ret(fd));
        exit(1);
    }
    if (len && k_write(fd, data, len) != len) {
        printf("FATAL: write %s\n", path);
        exit(1);
    }
    k_close(fd);
}

/* Read a whole small file into buf (NUL-terminated); returns bytes or -errno. */
static inline long get_file(const char *path, char *buf, long cap)
{
    long fd = k_open(path, K_O_RDONLY, 0);
    if (fd < 0)
        return fd;
    long tot = 0, n;
    while (tot < cap - 1 && (n = k_read(fd, buf + tot, cap - 1 - tot)) > 0)
        tot += n;
    k_close(fd);
    buf[tot] = 0;
    return n < 0 ? n : tot;
}

/* Scratch setup: see the comment at the top.  Returns argv[1]. */
static inline const char *fs_setup(int argc, char **argv, const char *name)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", name);
        exit(2);
    }
    raw_syscall1(NR_umask, 022);
    long r = raw_syscall1(NR_chdir, argv[1]);
    if (r) {
        printf("FATAL: chdir scratch dir: %s\n", fs_ret(r));
        exit(1);
    }
    r = raw_syscall2(NR_mkdir, name, 0755);
    if (r) {
        printf("FATAL: mkdir %s in scratch dir: %s\n", name, fs_ret(r));
        exit(1);
    }
    r = raw_syscall1(NR_chdir, name);
    if (r) {
        printf("FATAL: chdir %s: %s\n", name, fs_ret(r));
        exit(1);
    }
    return argv[1];
}

#endif
