/*
 * leases.c - fcntl leases, dnotify and locks on pipes, as Linux answers them
 * (tests/test_leases.py).
 *
 *   F_SETLEASE / F_GETLEASE: who may take a read or a write lease, the lease's
 *   break by another open (the holder gets SIGIO or F_SETSIG's signal with
 *   si_code POLL_MSG; an O_NONBLOCK opener gets EWOULDBLOCK, a blocking one
 *   waits until the holder downgrades, unlocks or closes), the lease gone at
 *   the last close, and the owner set and cleared with it.
 *   F_NOTIFY: ENOTDIR on a file, DN_* events on a directory as signals (one
 *   queued real-time signal each), one-shot and DN_MULTISHOT.
 *   Record locks (F_SETLK, F_GETLK, OFD) and flock on a pipe.
 *
 * Usage: leases DIR   (works in DIR/leases).  Output is the same for any pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

#ifndef F_SETLEASE
#define F_SETLEASE 1024
#define F_GETLEASE 1025
#define F_NOTIFY 1026
#endif
#ifndef F_OFD_SETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#endif

static volatile int sigio_count;
static volatile int rt_count, rt_code, rt_fd;
static volatile long rt_band;
static char dir[512], file[600], other[600], moved[600];

static void on_sigio(int sig)
{
    (void)sig;
    sigio_count++;
}

static void on_rt(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    rt_count++;
    rt_code = si->si_code;
    rt_fd = si->si_fd;
    rt_band = si->si_band;
}

static long fc(long fd, long cmd, long arg)
{
    return raw_syscall3(SYS_fcntl, fd, cmd, arg);
}

static long op(const char *path, long flags)
{
    return raw_syscall4(SYS_openat, AT_FDCWD, path, flags, 0644);
}

static void show(const char *what, long r)
{
    printf("%-44s %s\n", what, fmt_ret(r));
}

static void state(const char *what, long fd)
{
    printf("%-44s lease %ld sigio %d\n", what, fc(fd, F_GETLEASE, 0), sigio_count);
}

static void rt_state(const char *what)
{
    printf("%-44s rt %d code %d fd-ok %d band %#lx\n", what, rt_count, rt_code,
           rt_fd >= 0, rt_band);
    rt_count = 0;
    rt_code = rt_fd = -1;
    rt_band = 0;
}

static void make_file(const char *path)
{
    long fd = op(path, O_WRONLY | O_CREAT | O_TRUNC);
    if (write(fd, "hello\n", 6) != 6)
        printf("write failed\n");
    close(fd);
}

static void leases(void)
{
    long fd, fd2, r;
    int pipefd[2];

    make_file(file);
    fd = op(file, O_RDONLY);
    state("fresh file", fd);
    show("setlease 5", fc(fd, F_SETLEASE, 5));
    show("setlease F_UNLCK without a lease", fc(fd, F_SETLEASE, F_UNLCK));
    show("setlease F_RDLCK", fc(fd, F_SETLEASE, F_RDLCK));
    state("read lease", fd);
    printf("%-44s %d\n", "owner is the caller", fc(fd, F_GETOWN, 0) == getpid());
    show("setlease F_WRLCK (the only open)", fc(fd, F_SETLEASE, F_WRLCK));
    state("write lease", fd);

    fd2 = op(file, O_RDONLY | O_NONBLOCK);
    show("open O_RDONLY|O_NONBLOCK", fd2);
    state("write lease breaking to read", fd);
    fd2 = op(file, O_RDONLY | O_NONBLOCK);
    show("open again while breaking", fd2);
    state("still breaking (no second signal)", fd);
    show("setlease F_WRLCK while breaking", fc(fd, F_SETLEASE, F_WRLCK));
    show("setlease F_RDLCK (downgrade)", fc(fd, F_SETLEASE, F_RDLCK));
    state("downgraded", fd);
    fd2 = op(file, O_RDONLY | O_NONBLOCK);
    show("open O_RDONLY|O_NONBLOCK", fd2 >= 0 ? 0 : fd2);
    state("a reader beside a read lease", fd);
    show("setlease F_WRLCK with a second reader", fc(fd, F_SETLEASE, F_WRLCK));
    close(fd2);

    fd2 = op(file, O_WRONLY | O_NONBLOCK);
    show("open O_WRONLY|O_NONBLOCK", fd2);
    state("read lease breaking to none", fd);
    show("setlease F_RDLCK while breaking", fc(fd, F_SETLEASE, F_RDLCK));
    show("setlease F_UNLCK", fc(fd, F_SETLEASE, F_UNLCK));
    state("unlocked", fd);
    printf("%-44s own %ld sig %ld\n", "owner and signal after unlock", fc(fd, F_GETOWN, 0),
           fc(fd, F_GETSIG, 0));
    show("truncate O_NONBLOCK-less, no lease", truncate(file, 6));

    show("F_SETSIG SIGRTMIN+1", fc(fd, F_SETSIG, SIGRTMIN + 1));
    show("setlease F_RDLCK", fc(fd, F_SETLEASE, F_RDLCK));
    fd2 = op(file, O_RDWR | O_NONBLOCK);
    show("open O_RDWR|O_NONBLOCK", fd2);
    rt_state("F_SETSIG's signal");
    printf("%-44s sig %ld\n", "signal kept while the lease is", fc(fd, F_GETSIG, 0));
    show("setlease F_UNLCK", fc(fd, F_SETLEASE, F_UNLCK));
    close(fd);

    fd = op(file, O_RDWR);
    show("setlease F_RDLCK on O_RDWR", fc(fd, F_SETLEASE, F_RDLCK));
    show("setlease F_WRLCK on O_RDWR", fc(fd, F_SETLEASE, F_WRLCK));
    /* The holder's own blocking open waits for itself: the signal it sends
     * itself ends the wait (no SA_RESTART). */
    show("own blocking open O_RDONLY", op(file, O_RDONLY));
    state("  the lease", fd);
    show("setlease F_UNLCK", fc(fd, F_SETLEASE, F_UNLCK));
    fd2 = op(file, O_RDONLY);
    show("setlease F_WRLCK beside a reader", fc(fd, F_SETLEASE, F_WRLCK));
    show("setlease F_RDLCK beside a writer", fc(fd2, F_SETLEASE, F_RDLCK));
    close(fd);
    show("setlease F_RDLCK, the writer gone", fc(fd2, F_SETLEASE, F_RDLCK));
    close(fd2);
    fd = op(file, O_WRONLY | O_NONBLOCK);
    show("open O_WRONLY after the lease's last close", fd >= 0 ? 0 : fd);
    close(fd);

    fd = op(dir, O_RDONLY | O_DIRECTORY);
    state("a directory", fd);
    show("setlease F_RDLCK on a directory", fc(fd, F_SETLEASE, F_RDLCK));
    close(fd);
    if (pipe(pipefd) != 0)
        printf("pipe failed\n");
    state("a pipe", pipefd[0]);
    show("setlease F_RDLCK on a pipe", fc(pipefd[0], F_SETLEASE, F_RDLCK));
    show("setlease F_UNLCK on a pipe", fc(pipefd[0], F_SETLEASE, F_UNLCK));
    close(pipefd[0]);
    close(pipefd[1]);

    /* A blocking open waits for the holder: a child opens, the parent gets the
     * signal, sees the child still waiting, and gives the lease up. */
    for (int how = 0; how < 3; how++) {
        int status;
        pid_t child;
        fd = op(file, O_RDONLY);
        sigio_count = 0;
        r = fc(fd, F_SETLEASE, F_WRLCK);
        child = fork();
        if (child == 0) {
            /* the lease stays while any copy of its open file is open: the
             * child's would keep it past the holder's close */
            close(fd);
            long c = op(file, how == 0 ? O_RDONLY : O_WRONLY);
            _exit(c >= 0 ? 0 : 1);
        }
        for (int i = 0; i < 5000 && sigio_count == 0; i++)
            usleep(1000);
        usleep(50000);
        printf("%-44s set %ld lease %ld waiting %d\n", how == 0 ? "reader opens: holder told" :
               how == 1 ? "writer opens: holder told" : "writer opens, holder closes",
               r, fc(fd, F_GETLEASE, 0), waitpid(child, &status, WNOHANG) == 0);
        if (how == 0)
            r = fc(fd, F_SETLEASE, F_RDLCK);
        else if (how == 1)
            r = fc(fd, F_SETLEASE, F_UNLCK);
        else
            r = close(fd);
        waitpid(child, &status, 0);
        printf("%-44s %ld, opener %s, sigio %d\n", "  given up", r,
               WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "opened" : "failed",
               sigio_count);
        if (how != 2)
            close(fd);
    }
}

static void dnotify(void)
{
    long dfd, fd, r;
    make_file(file);
    fd = op(file, O_RDONLY);
    show("F_NOTIFY DN_CREATE on a file", fc(fd, F_NOTIFY, DN_CREATE));
    show("F_NOTIFY 0 on a file", fc(fd, F_NOTIFY, 0));
    close(fd);

    dfd = op(dir, O_RDONLY | O_DIRECTORY);
    sigio_count = 0;
    show("F_NOTIFY DN_CREATE (SIGIO)", fc(dfd, F_NOTIFY, DN_CREATE));
    printf("%-44s %d\n", "owner is the caller", fc(dfd, F_GETOWN, 0) == getpid());
    make_file(other);
    printf("%-44s sigio %d\n", "create", sigio_count);
    unlink(other);
    make_file(other);
    printf("%-44s sigio %d\n", "create again (one-shot)", sigio_count);

    show("F_SETSIG SIGRTMIN+2", fc(dfd, F_SETSIG, SIGRTMIN + 2));
    rt_state("reset");
    show("F_NOTIFY DN_DELETE|DN_CREATE|DN_MULTISHOT",
         fc(dfd, F_NOTIFY, DN_DELETE | DN_CREATE | DN_MULTISHOT));
    unlink(other);
    rt_state("unlink");
    make_file(other);
    rt_state("create (O_CREAT, then a write)");
    r = rename(other, moved);
    rt_state(r ? "rename failed" : "rename in the directory");
    unlink(moved);
    rt_state("unlink");
    show("F_NOTIFY DN_MODIFY (added to the request)", fc(dfd, F_NOTIFY, DN_MODIFY));
    make_file(other);
    rt_state("create + write");
    unlink(other);
    rt_state("unlink");
    show("F_NOTIFY DN_RENAME|DN_MULTISHOT", fc(dfd, F_NOTIFY, DN_RENAME | DN_MULTISHOT));
    make_file(other);
    rt_state("create, only DN_RENAME asked");
    r = rename(other, moved);
    rt_state(r ? "rename failed" : "rename in the directory");
    show("F_NOTIFY DN_ATTRIB|DN_ACCESS|DN_MULTISHOT",
         fc(dfd, F_NOTIFY, DN_ATTRIB | DN_ACCESS | DN_MULTISHOT));
    chmod(moved, 0600);
    rt_state("chmod");
    fd = op(moved, O_RDONLY);
    {
        char b[8];
        r = read(fd, b, sizeof b);
    }
    close(fd);
    rt_state("read");
    chmod(dir, 0755);
    rt_state("chmod of the directory itself");
    show("F_NOTIFY 0", fc(dfd, F_NOTIFY, 0));
    chmod(moved, 0644);
    unlink(moved);
    rt_state("after F_NOTIFY 0");
    show("F_NOTIFY DN_DELETE|DN_MULTISHOT", fc(dfd, F_NOTIFY, DN_DELETE | DN_MULTISHOT));
    {
        long dup = raw_syscall1(SYS_dup, dfd);
        close(dfd);
        make_file(other);
        unlink(other);
        rt_state("unlink, the dnotify fd closed (dup open)");
        close(dup);
    }
    unlink(file);
}

static void pipe_locks(void)
{
    int p[2];
    struct flock fl;
    if (pipe(p) != 0)
        printf("pipe failed\n");
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    show("pipe F_SETLK F_WRLCK (write end)", fc(p[1], F_SETLK, (long)&fl));
    fl.l_type = F_RDLCK;
    show("pipe F_SETLK F_RDLCK (read end)", fc(p[0], F_SETLK, (long)&fl));
    fl.l_type = F_WRLCK;
    show("pipe F_SETLK F_WRLCK (read end)", fc(p[0], F_SETLK, (long)&fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_END;
    show("pipe F_SETLK SEEK_END", fc(p[1], F_SETLK, (long)&fl));
    fl.l_whence = SEEK_SET;
    fl.l_type = F_WRLCK;
    fl.l_pid = 0;
    show("pipe F_OFD_GETLK", fc(p[1], F_OFD_GETLK, (long)&fl));
    printf("%-44s type %d start %ld len %ld pid-ok %d\n", "  conflict", fl.l_type,
           (long)fl.l_start, (long)fl.l_len, fl.l_pid == getpid());
    fl.l_type = F_RDLCK;
    fl.l_pid = 0;
    show("pipe F_OFD_SETLK F_RDLCK (conflicts)", fc(p[0], F_OFD_SETLK, (long)&fl));
    fl.l_type = F_UNLCK;
    show("pipe F_SETLK F_UNLCK", fc(p[1], F_SETLK, (long)&fl));
    show("pipe F_OFD_SETLK F_RDLCK", fc(p[0], F_OFD_SETLK, (long)&fl));
    show("pipe flock LOCK_EX", raw_syscall2(SYS_flock, p[0], LOCK_EX));
    show("pipe flock LOCK_SH|LOCK_NB (other end)",
         raw_syscall2(SYS_flock, p[1], LOCK_SH | LOCK_NB));
    show("pipe flock LOCK_UN", raw_syscall2(SYS_flock, p[0], LOCK_UN));
    show("pipe flock LOCK_SH|LOCK_NB (other end)",
         raw_syscall2(SYS_flock, p[1], LOCK_SH | LOCK_NB));
    close(p[0]);
    close(p[1]);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    if (argc < 2) {
        fprintf(stderr, "usage: leases DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    snprintf(dir, sizeof dir, "%s/leases", argv[1]);
    snprintf(file, sizeof file, "%s/file", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    snprintf(moved, sizeof moved, "%s/moved", dir);
    mkdir(dir, 0755);
    umask(022);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigio;
    sigaction(SIGIO, &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    sigaction(SIGRTMIN + 2, &sa, NULL);

    leases();
    dnotify();
    pipe_locks();
    rmdir(dir);
    return 0;
}
