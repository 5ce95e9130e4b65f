/*
 * devproc: the device files and the /proc and /sys files that programs rely
 * on - /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom (reads,
 * writes, stat with device numbers), /proc/self/{exe,cwd,fd/N,cmdline,maps,
 * status,stat,comm}, /proc/self itself, /proc/meminfo, /proc/cpuinfo,
 * /proc/uptime, /sys/devices/system/cpu/online.
 *
 * Usage: devproc SCRATCH_DIR [ARGS...]   creates files only inside
 * SCRATCH_DIR/devproc; ARGS are echoed back from /proc/self/cmdline.
 * Prints only presence, equality and format facts: never a pid, address,
 * absolute path or random byte.
 */
#include "fsguest.h"

static char buf[1 << 16];

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int ends_with(const char *s, long n, const char *suf)
{
    long m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

static void dev_numbers(const char *path)
{
    struct kstat st;
    char what[64];
    long r = k_stat(path, &st);
    snprintf(what, sizeof what, "stat %s", path);
    if (r) {
        show(what, r);
        return;
    }
    unsigned long d = st.rdev;
    unsigned major = (unsigned)(((d >> 8) & 0xfff) | ((d >> 32) & ~0xfffUL));
    unsigned minor = (unsigned)((d & 0xff) | ((d >> 12) & ~0xffUL));
    printf("%s: type=%s mode=%04o major=%u minor=%u size=%ld\n", what, type_name(st.mode),
           st.mode & 07777, major, minor, st.size);
}

static int has_line_prefix(const char *text, const char *prefix)
{
    long n = strlen(prefix);
    for (const char *l = text; l && *l;) {
        if (strncmp(l, prefix, n) == 0)
            return 1;
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return 0;
}

/* Value after "Key:\t" in a /proc status-style text, or -1. */
static long status_value(const char *text, const char *key)
{
    long n = strlen(key);
    for (const char *l = text; l && *l;) {
        if (strncmp(l, key, n) == 0)
            return strtol(l + n, 0, 10);
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return -1;
}

static void test_dev(void)
{
    long fd, r;

    fd = k_open("/dev/null", K_O_RDWR, 0);
    show_fd("open /dev/null O_RDWR", fd);
    show("read /dev/null", k_read(fd, buf, 100));
    show("write /dev/null", k_write(fd, "discard", 7));
    show("lseek /dev/null 100", k_lseek(fd, 100, K_SEEK_SET));
    show("pread /dev/null", k_pread(fd, buf, 10, 0));
    int n = -1;
    show("FIONREAD /dev/null", raw_syscall3(NR_ioctl, fd, K_FIONREAD, &n));
    k_close(fd);
    dev_numbers("/dev/null");
    show("open /dev/null O_DIRECTORY", k_open("/dev/null", K_O_RDONLY | K_O_DIRECTORY, 0));
    show("open /dev/null/x", k_open("/dev/null/x", K_O_RDONLY, 0));

    fd = k_open("/dev/zero", K_O_RDWR, 0);
    memset(buf, 0x55, 4096);
    r = k_read(fd, buf, 4096);
    int z = 1;
    for (long i = 0; i < 4096; i++)
        if (buf[i])
            z = 0;
    printf("read /dev/zero: %ld all zero=%d\n", r, z);
    show("write /dev/zero", k_write(fd, "x", 1));
    show("lseek /dev/zero", k_lseek(fd, 12345, K_SEEK_SET));
    k_close(fd);
    dev_numbers("/dev/zero");

    fd = k_open("/dev/full", K_O_RDWR, 0);
    show_fd("open /dev/full", fd);
    show("write /dev/full", k_write(fd, "x", 1));
    show("write /dev/full 0 bytes", k_write(fd, "x", 0));
    memset(buf, 0x55, 16);
    r = k_read(fd, buf, 16);
    printf("read /dev/full: %ld zero=%d\n", r, buf[0] == 0 && buf[15] == 0);
    k_close(fd);
    dev_numbers("/dev/full");

    fd = k_open("/dev/urandom", K_O_RDONLY, 0);
    show("read /dev/urandom 16", k_read(fd, buf, 16));
    show("read /dev/urandom 4096", k_read(fd, buf, 4096));
    k_close(fd);
    dev_numbers("/dev/urandom");
    fd = k_open("/dev/random", K_O_RDONLY, 0);
    show("read /dev/random 16", k_read(fd, buf, 16));
    k_close(fd);
    dev_numbers("/dev/random");
}

static void test_proc_self(int argc, char **argv)
{
    char link[4096], cwd[4096];
    long r, fd;
    struct kstat st;

    /* /proc/self */
    r = raw_syscall3(NR_readlink, "/proc/self", link, sizeof link - 1);
    long pid = raw_syscall0(NR_getpid);
    long ppid = raw_syscall0(NR_getppid);
    if (r > 0) {
        link[r] = 0;
        printf("readlink /proc/self is our pid: %d\n", strtol(link, 0, 10) == pid);
    } else {
        show("readlink /proc/self", r);
    }
    r = k_stat("/proc/self", &st);
    printf("stat /proc/self: %s type=%s\n", fs_ret(r), type_name(st.mode));

    /* exe */
    r = raw_syscall3(NR_readlink, "/proc/self/exe", link, sizeof link - 1);
    if (r > 0) {
        link[r] = 0;
        printf("readlink /proc/self/exe basename: %s\n", base_name(link));
        printf("exe basename equals argv[0] basename: %d\n",
               strcmp(base_name(link), base_name(argv[0])) == 0);
        printf("exe link absolute: %d\n", link[0] == '/');
    } else {
        show("readlink /proc/self/exe", r);
    }
    r = k_lstat("/proc/self/exe", &st);
    printf("lstat /proc/self/exe: %s type=%s\n", fs_ret(r), type_name(st.mode));
    r = k_stat("/proc/self/exe", &st);
    printf("stat /proc/self/exe: %s type=%s\n", fs_ret(r), type_name(st.mode));
    fd = k_open("/proc/self/exe", K_O_RDONLY, 0);
    r = k_read(fd, buf, 4);
    printf("/proc/self/exe starts with ELF magic: %d\n", r == 4 && memcmp(buf, "\177ELF", 4) == 0);
    k_close(fd);

    /* cwd */
    r = raw_syscall3(NR_readlink, "/proc/self/cwd", link, sizeof link - 1);
    long c = raw_syscall2(NR_getcwd, cwd, sizeof cwd);
    if (r > 0 && c > 0) {
        link[r] = 0;
        printf("readlink /proc/self/cwd equals getcwd: same=%d\n", strcmp(link, cwd) == 0);
    } else {
        printf("readlink /proc/self/cwd: %s\n", fs_ret(r));
    }
    put_file("inproc", "found via /proc", 15);
    fd = k_open("/proc/self/cwd/inproc", K_O_RDONLY, 0);
    r = k_read(fd, buf, 100);
    print_bytes("read /proc/self/cwd/inproc", buf, r < 0 ? 0 : r);
    k_close(fd);

    /* fd/N */
    fd = k_open("procfile", K_O_RDWR | K_O_CREAT | K_O_TRUNC, 0644);
    k_write(fd, "through the fd link", 19);
    snprintf(buf, 64, "/proc/self/fd/%ld", fd);
    r = raw_syscall3(NR_readlink, buf, link, sizeof link - 1);
    if (r > 0) {
        link[r] = 0;
        printf("readlink /proc/self/fd/N ends with /devproc/procfile: %d\n",
               ends_with(link, r, "/devproc/procfile"));
        printf("fd link starts with getcwd: %d\n", strncmp(link, cwd, strlen(cwd)) == 0);
    } else {
        show("readlink /proc/self/fd/N", r);
    }
    r = k_lstat(buf, &st);
    printf("lstat /proc/self/fd/N: %s type=%s\n", fs_ret(r), type_name(st.mode));
    long fd2 = k_open(buf, K_O_RDONLY, 0);
    show_fd("open /proc/self/fd/N", fd2);
    r = k_read(fd2, link, 100);
    print_bytes("read via reopened fd (own offset)", link, r < 0 ? 0 : r);
    k_close(fd2);
    raw_syscall1(NR_unlink, "procfile");
    r = raw_syscall3(NR_readlink, buf, link, sizeof link - 1);
    if (r > 0)
        printf("fd link after unlink ends with \" (deleted)\": %d\n",
               ends_with(link, r, "/procfile (deleted)"));
    else
        show("readlink /proc/self/fd/N after unlink", r);
    k_close(fd);
    show("readlink /proc/self/fd/N after close", raw_syscall3(NR_readlink, buf, link, sizeof link));
    int p[2];
    raw_syscall2(NR_pipe2, p, 0);
    snprintf(buf, 64, "/proc/self/fd/%d", p[0]);
    r = raw_syscall3(NR_readlink, buf, link, sizeof link - 1);
    printf("pipe fd link starts with \"pipe:[\": %d\n", r > 6 && memcmp(link, "pipe:[", 6) == 0);
    k_close(p[0]);
    k_close(p[1]);
    fd = k_open("/proc/self/fd", K_O_RDONLY | K_O_DIRECTORY, 0);
    show_fd("open /proc/self/fd O_DIRECTORY", fd);
    int seen = 0;
    char dbuf[4096];
    while ((r = raw_syscall3(NR_getdents64, fd, dbuf, sizeof dbuf)) > 0)
        for (long pos = 0; pos < r;) {
            struct kdirent64 *d = (struct kdirent64 *)(dbuf + pos);
            if (d->type == 10 && strtol(d->name, 0, 10) == fd)
                seen = 1;
            pos += d->reclen;
        }
    printf("/proc/self/fd lists its own descriptor as a symlink: %d\n", seen);
    k_close(fd);

    /* cmdline */
    r = get_file("/proc/self/cmdline", buf, sizeof buf);
    int cnt = 0, same = 1;
    for (long i = 0; i < r;) {
        long l = strlen(buf + i);
        if (cnt >= argc || strcmp(buf + i, argv[cnt]) != 0)
            same = 0;
        if (cnt >= 2)
            printf("cmdline arg %d: \"%s\"\n", cnt, buf + i);
        cnt++;
        i += l + 1;
    }
    printf("cmdline count: %d equals argc: %d all equal argv: %d\n", cnt, cnt == argc, same);

    /* maps */
    r = get_file("/proc/self/maps", buf, sizeof buf);
    int lines = 0, parsed = 0, stack = 0;
    for (char *l = buf; r > 0 && l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = 0;
        unsigned long lo, hi;
        char perms[8];
        unsigned off;
        lines++;
        if (sscanf(l, "%lx-%lx %4s %8x", &lo, &hi, perms, &off) == 4 && lo < hi && strlen(perms) == 4)
            parsed++;
        if (ends_with(l, strlen(l), "[stack]"))
            stack = 1;
        l = nl ? nl + 1 : 0;
    }
    printf("/proc/self/maps: lines>0=%d all parse=%d has [stack]=%d\n",
           lines > 0, lines == parsed, stack);

    /* status, stat, comm */
    char comm[16];
    snprintf(comm, sizeof comm, "%s", base_name(argv[0]));
    r = get_file("/proc/self/status", buf, sizeof buf);
    printf("/proc/self/status: Name=%d Pid=%d PPid=%d Uid=%d\n", has_line_prefix(buf, "Name:"),
           has_line_prefix(buf, "Pid:"), has_line_prefix(buf, "PPid:"), has_line_prefix(buf, "Uid:"));
    printf("/proc/self/status values: Pid is getpid=%d PPid is getppid=%d\n",
           status_value(buf, "Pid:") == pid, status_value(buf, "PPid:") == ppid);
    {
        char want[40];
        snprintf(want, sizeof want, "Name:\t%s\n", comm);
        printf("/proc/self/status Name is exe basename (15 chars max): %d\n",
               strstr(buf, want) != 0);
    }
    r = get_file("/proc/self/stat", buf, sizeof buf);
    {
        long spid = -1, sppid = -1;
        char state = '?';
        char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
        spid = strtol(buf, 0, 10);
        if (rp)
            sscanf(rp + 1, " %c %ld", &state, &sppid);
        printf("/proc/self/stat: pid=%d comm=%d state=%c ppid=%d\n", spid == pid,
               lp && rp && (long)strlen(comm) == rp - lp - 1 && memcmp(lp + 1, comm, rp - lp - 1) == 0,
               state, sppid == ppid);
    }
    r = get_file("/proc/self/comm", buf, sizeof buf);
    printf("/proc/self/comm is exe basename + newline: %d\n",
           r == (long)strlen(comm) + 1 && memcmp(buf, comm, r - 1) == 0 && buf[r - 1] == '\n');
    show("open /proc/self/nonexistent", k_open("/proc/self/nonexistent", K_O_RDONLY, 0));
    show("write /proc/self/stat", k_write((fd = k_open("/proc/self/stat", K_O_RDONLY, 0)), "x", 1));
    k_close(fd);
}

static void test_system(void)
{
    long r = get_file("/proc/meminfo", buf, sizeof buf);
    printf("/proc/meminfo has MemTotal: %d\n", r > 0 && has_line_prefix(buf, "MemTotal:"));
    printf("/proc/meminfo MemTotal > 0 kB: %d\n", status_value(buf, "MemTotal:") > 0);
    r = get_file("/proc/cpuinfo", buf, sizeof buf);
    printf("/proc/cpuinfo has processor: %d\n", r > 0 && has_line_prefix(buf, "processor"));
    r = get_file("/proc/uptime", buf, sizeof buf);
    double up = -1, idle = -1;
    int k = r > 0 ? sscanf(buf, "%lf %lf", &up, &idle) : 0;
    printf("/proc/uptime parses two numbers: %d (uptime>0=%d idle>=0=%d newline=%d)\n",
           k == 2, up > 0,
           idle >= 0, r > 0 && buf[r - 1] == '\n');
    r = get_file("/sys/devices/system/cpu/online", buf, sizeof buf);
    printf("/sys/devices/system/cpu/online: starts with 0=%d ends with newline=%d\n",
           r > 0 && buf[0] == '0', r > 0 && buf[r - 1] == '\n');
}

int main(int argc, char **argv)
{
    fs_setup(argc, argv, "devproc");
    test_dev();
    test_proc_self(argc, argv);
    test_system();
    printf("devproc done\n");
    return 0;
}
