/*
 * execer - execve(2) and execveat(2) from a running process.
 *
 *   execer show ARGS...   print what an exec'd image sees: argv, the EX_* environment,
 *                         AT_EXECFN, comm, pid == tid, the threads, fds 3-5 and their
 *                         close-on-exec bits, SIGUSR1/SIGUSR2 dispositions, the mask,
 *                         pending signals, the alternate signal stack
 *   execer state DIR      set all of that up (an fd with and one without O_CLOEXEC,
 *                         SIGUSR1 ignored, SIGUSR2 caught, SIGTERM blocked and
 *                         pending, an altstack) and exec "show"
 *   execer errors DIR     every errno case, each printed as "name: -ERRNO"
 *   execer thread DIR     a second thread execs "show" while the first waits
 *   execer fexec DIR [script|cloexec|memfd]
 *                         execveat(fd, "", AT_EMPTY_PATH) of an O_PATH fd; of a
 *                         script through a close-on-exec fd and a plain one; of an
 *                         O_CLOEXEC fd (fexecve); of a memfd open for writing
 *   execer chain DIR N    a chain of N #! scripts ending in this program
 *   execer loop DIR N     exec itself N times over, then print "done"
 *   execer run DIR PROG ARGS...   execv(PROG, [PROG, ARGS...]) (a program the
 *                         automatic image has to learn)
 *
 * The program finds itself through /proc/self/exe. DIR is a scratch directory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

extern char **environ;
static char self[4096];
static const char *dir;

static void find_self(void)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        perror("readlink");
        exit(2);
    }
    self[n] = 0;
}

static void handler(int sig) { (void)sig; }

static int show(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "EX_", 3) == 0)
            printf("env %s\n", *e);
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    const char *slash = execfn ? strrchr(execfn, '/') : NULL;
    printf("execfn ends %s\n", slash ? slash + 1 : execfn ? execfn : "(none)");
    char comm[32] = "";
    int fd = open("/proc/self/comm", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, comm, sizeof comm - 1);
        comm[n > 0 ? n : 0] = 0;
        close(fd);
    }
    printf("comm %s", comm);
    printf("pid == tid: %d\n", getpid() == (pid_t)syscall(SYS_gettid));
    int threads = 0;
    DIR *d = opendir("/proc/self/task");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            threads += de->d_name[0] != '.';
        closedir(d);
    }
    printf("threads %d\n", threads);
    for (int i = 3; i <= 5; i++) {
        int flags = fcntl(i, F_GETFD);
        printf("fd %d: %s\n", i, flags < 0 ? "closed" : flags & FD_CLOEXEC ? "cloexec" : "open");
    }
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    printf("SIGUSR1 %s\n", sa.sa_handler == SIG_IGN ? "ignored" :
           sa.sa_handler == SIG_DFL ? "default" : "caught");
    sigaction(SIGUSR2, NULL, &sa);
    printf("SIGUSR2 %s flags %#lx\n", sa.sa_handler == SIG_IGN ? "ignored" :
           sa.sa_handler == SIG_DFL ? "default" : "caught", (unsigned long)sa.sa_flags);
    sigset_t set;
    sigprocmask(SIG_BLOCK, NULL, &set);
    printf("SIGTERM blocked %d\n", sigismember(&set, SIGTERM));
    sigpending(&set);
    printf("SIGTERM pending %d\n", sigismember(&set, SIGTERM));
    stack_t ss;
    sigaltstack(NULL, &ss);
    printf("altstack %s\n", ss.ss_flags & SS_DISABLE ? "disabled" : "set");
    return 0;
}

static void exec_show(const char *how)
{
    char *argv[] = {"execer", "show", (char *)how, "two words", "", NULL};
    char *envp[] = {"EX_A=1", "EX_B=x=y", "OTHER=no", NULL};
    execve(self, argv, envp);
    perror("execve");
    exit(1);
}

static int state(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/keep", dir);
    int a = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    int b = open(path, O_RDONLY | O_CLOEXEC);
    if (a != 3 || b != 4) {
        printf("fds %d %d\n", a, b);
        return 1;
    }
    signal(SIGUSR1, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGTERM);
    static char alt[65536];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
    sigaltstack(&ss, NULL);
    exec_show("state");
    return 1;
}

static void check(const char *name, long ret)
{
    if (ret < 0 && errno_name(-ret))
        printf("%s: -%s\n", name, errno_name(-ret));
    else if (ret == -ETXTBSY)
        printf("%s: -ETXTBSY\n", name);
    else if (ret < 0)
        printf("%s: errno %ld\n", name, -ret);
    else
        printf("%s: %ld (exec returned)\n", name, ret);
}

static void write_file(const char *path, const char *text, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (write(fd, text, strlen(text)) < 0)
        perror("write");
    close(fd);
    chmod(path, mode);
}

static int errors(void)
{
    char *argv[] = {"x", NULL};
    char *envp[] = {NULL};
    char path[4200];
    check("missing", raw_syscall3(SYS_execve, "/no/such/program", argv, envp));
    check("empty path", raw_syscall3(SYS_execve, "", argv, envp));
    check("dir", raw_syscall3(SYS_execve, dir, argv, envp));
    check("not a dir", raw_syscall3(SYS_execve, "/proc/self/exe/x", argv, envp));
    snprintf(path, sizeof path, "%s/nox", dir);
    write_file(path, "#!/bin/sh\n", 0644);
    check("no x bit", raw_syscall3(SYS_execve, path, argv, envp));
    snprintf(path, sizeof path, "%s/garbage", dir);
    write_file(path, "this is not a program\n", 0755);
    check("garbage", raw_syscall3(SYS_execve, path, argv, envp));
    snprintf(path, sizeof path, "%s/badelf", dir);
    write_file(path, "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\2\0\76\0", 0755);
    check("short elf", raw_syscall3(SYS_execve, path, argv, envp));
    snprintf(path, sizeof path, "%s/emptyfile", dir);
    write_file(path, "", 0755);
    check("empty file", raw_syscall3(SYS_execve, path, argv, envp));
    snprintf(path, sizeof path, "%s/badinterp", dir);
    write_file(path, "#!/no/such/interpreter\n", 0755);
    check("missing interpreter", raw_syscall3(SYS_execve, path, argv, envp));
    snprintf(path, sizeof path, "%s/emptyline", dir);
    write_file(path, "#!\n", 0755);
    check("empty #!", raw_syscall3(SYS_execve, path, argv, envp));

    /* ETXTBSY: a file open for writing cannot run; a running program cannot be written */
    snprintf(path, sizeof path, "%s/busy", dir);
    int in = open(self, O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n)
            return 1;
    close(in);
    check("open for writing", raw_syscall3(SYS_execve, path, argv, envp));
    close(out);
    check("write running", raw_syscall3(SYS_open, self, O_WRONLY, 0));
    check("read running", raw_syscall3(SYS_open, self, O_RDONLY | O_CLOEXEC, 0) >= 0 ? 0 : -1);
    /* an O_TMPFILE file given a name is still open for writing (in /tmp: not
       every filesystem has O_TMPFILE) */
    int tmp = open("/tmp", O_TMPFILE | O_RDWR, 0755);
    if (tmp >= 0) {
        char fdpath[64];
        snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", tmp);
        snprintf(path, sizeof path, "/tmp/execer-linked-%d", (int)getpid());
        if (write(tmp, "#!/bin/sh\n", 10) != 10 ||
            linkat(AT_FDCWD, fdpath, AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0)
            printf("O_TMPFILE link failed\n");
        check("tmpfile open for writing", raw_syscall3(SYS_execve, path, argv, envp));
        close(tmp);
        unlink(path);
    } else {
        printf("O_TMPFILE: %s\n", strerror(errno));
    }

    /* EFAULT */
    check("bad path", raw_syscall3(SYS_execve, 8, argv, envp));
    check("bad argv", raw_syscall3(SYS_execve, self, 8, envp));
    check("bad envp", raw_syscall3(SYS_execve, self, argv, 8));
    char *badstr[] = {"x", (char *)8, NULL};
    check("bad string", raw_syscall3(SYS_execve, self, badstr, envp));
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    memset(page, 'a', 4096);
    char *unterminated[] = {page, NULL};
    check("unterminated", raw_syscall3(SYS_execve, self, unterminated, envp));
    char **array_end = (char **)(page + 4096 - sizeof(char *));
    array_end[0] = "x";          /* no NULL before the unmapped page */
    check("array runs off", raw_syscall3(SYS_execve, self, array_end, envp));

    /* E2BIG */
    size_t big = 32 * 4096;
    char *huge = malloc(big + 1);
    memset(huge, 'b', big);
    huge[big] = 0;
    char *one_huge[] = {"x", huge, NULL};
    check("string of 32 pages", raw_syscall3(SYS_execve, self, one_huge, envp));
    huge[big - 1] = 0;
    char *many[200];
    for (int i = 0; i < 199; i++)
        many[i] = huge;       /* 199 strings of 128 KiB: past any stack limit */
    many[199] = NULL;
    check("total too big", raw_syscall3(SYS_execve, self, many, envp));
    check("too big and missing", raw_syscall3(SYS_execve, "/no/such", many, envp));
    /* the limit is a quarter of RLIMIT_STACK: 1 MiB allows 256 KiB, not three strings
       of 100 KiB (which 8 MiB allows) */
    struct rlimit old, small = {1 << 20, 1 << 20};
    getrlimit(RLIMIT_STACK, &old);
    small.rlim_max = old.rlim_max;
    setrlimit(RLIMIT_STACK, &small);
    huge[100 * 1024] = 0;
    char *three[] = {"x", huge, huge, huge, NULL};
    check("past a small RLIMIT_STACK", raw_syscall3(SYS_execve, "/no/such", three, envp));
    check("past it, this program", raw_syscall3(SYS_execve, self, three, envp));
    setrlimit(RLIMIT_STACK, &old);

    /* execveat */
    check("bad flags", raw_syscall5(SYS_execveat, AT_FDCWD, self, argv, envp, 1));
    check("bad fd", raw_syscall5(SYS_execveat, 99, "x", argv, envp, 0));
    check("empty no flag", raw_syscall5(SYS_execveat, AT_FDCWD, "", argv, envp, 0));
    snprintf(path, sizeof path, "%s/link", dir);
    symlink(self, path);
    check("nofollow", raw_syscall5(SYS_execveat, AT_FDCWD, path, argv, envp,
                                   AT_SYMLINK_NOFOLLOW));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    check("dirfd relative missing", raw_syscall5(SYS_execveat, dfd, "nothing", argv, envp, 0));
    check("dirfd relative nox", raw_syscall5(SYS_execveat, dfd, "nox", argv, envp, 0));
    check("dirfd itself", raw_syscall5(SYS_execveat, dfd, "", argv, envp, AT_EMPTY_PATH));
    int p[2];
    if (pipe(p) == 0)
        check("pipe fd", raw_syscall5(SYS_execveat, p[0], "", argv, envp, AT_EMPTY_PATH));
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    check("file as dirfd", raw_syscall5(SYS_execveat, open(self, O_RDONLY), "x", argv, envp, 0));
    close(fd);
    printf("still here\n");
    return 0;
}

static void *exec_from_thread(void *arg)
{
    (void)arg;
    exec_show("thread");
    return NULL;
}

static int thread(void)
{
    pthread_t th;
    pthread_create(&th, NULL, exec_from_thread, NULL);
    for (;;)
        pause();
    return 1;
}

static int fexec(int argc, char **argv)
{
    char *args[] = {"execer", "show", "fexec", NULL};
    char *envp[] = {"EX_FD=1", NULL};
    const char *which = argc > 3 ? argv[3] : "rdonly";
    int fd;
    if (strcmp(which, "rdonly") == 0) {
        fd = open(self, O_RDONLY);
        args[2] = "path-fd";
        syscall(SYS_execveat, open(self, O_PATH), "", args, envp, AT_EMPTY_PATH);
        perror("execveat O_PATH");
        (void)fd;
        return 1;
    }
    if (strcmp(which, "memfd") == 0) {
        /* a copy in a memfd still open for writing runs (no ETXTBSY for memfds) */
        int in = open(self, O_RDONLY), m = memfd_create("prog", MFD_CLOEXEC);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write(m, buf, n) != n)
                return 1;
        close(in);
        args[2] = "memfd";
        syscall(SYS_execveat, m, "", args, envp, AT_EMPTY_PATH);
        perror("execveat memfd");
        return 1;
    }
    if (strcmp(which, "script") == 0) {
        char path[4200], text[4300];
        snprintf(path, sizeof path, "%s/script", dir);
        snprintf(text, sizeof text, "#!%s show\n", self);
        write_file(path, text, 0755);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        check("cloexec script fd", raw_syscall5(SYS_execveat, fd, "", args, envp,
                                                AT_EMPTY_PATH));
        fd = open(path, O_RDONLY);
        fexecve(fd, args, envp);
        perror("fexecve");
        return 1;
    }
    fd = open(self, O_RDONLY | O_CLOEXEC);
    fexecve(fd, args, envp);
    perror("fexecve");
    return 1;
}

static int chain(int n)
{
    char prev[4200], path[4200], text[4300];
    snprintf(prev, sizeof prev, "%s", self);
    for (int i = 1; i <= n; i++) {
        snprintf(path, sizeof path, "%s/s%d", dir, i);
        snprintf(text, sizeof text, "#!%s%s\n", prev, i == 1 ? " show" : "");
        write_file(path, text, 0755);
        snprintf(prev, sizeof prev, "%s", path);
    }
    char *argv[] = {"chain", "last", NULL};
    char *envp[] = {NULL};
    check("chain", raw_syscall3(SYS_execve, path, argv, envp));
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    find_self();
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "show") == 0)
        return show(argc, argv);
    if (argc < 3)
        return 2;
    dir = argv[2];
    if (strcmp(argv[1], "state") == 0)
        return state();
    if (strcmp(argv[1], "errors") == 0)
        return errors();
    if (strcmp(argv[1], "thread") == 0)
        return thread();
    if (strcmp(argv[1], "fexec") == 0)
        return fexec(argc, argv);
    if (strcmp(argv[1], "chain") == 0)
        return chain(argc > 3 ? atoi(argv[3]) : 1);
    if (strcmp(argv[1], "loop") == 0) {
        int n = argc > 3 ? atoi(argv[3]) : 0;
        if (n <= 0) {
            printf("done\n");
            return 0;
        }
        char count[16];
        snprintf(count, sizeof count, "%d", n - 1);
        char *args[] = {"execer", "loop", (char *)dir, count, NULL};
        execv(self, args);
        perror("execv");
        return 1;
    }
    if (strcmp(argv[1], "run") == 0 && argc > 3) {
        execv(argv[3], argv + 3);
        printf("execv %s: %s\n", argv[3], strerror(errno));
        return 127;
    }
    return 2;
}
