/*
 * sysvsem - System V semaphores: semget, semop, semtimedop, semctl.
 *
 * Values through SETVAL/SETALL/GETVAL/GETALL/GETPID, atomic operation lists
 * (all or none), IPC_NOWAIT, a timeout, threads that block in semop and are
 * woken (decrement and wait-for-zero, with GETNCNT/GETZCNT counting them), a
 * ping-pong between two threads, a waiter woken by IPC_RMID (EIDRM) and one
 * interrupted by a signal (EINTR, never restarted), keys, IPC_STAT/IPC_SET and
 * the errno cases; as root, the permission checks for another user too.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include "ipcguest.h"

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static int id;

static int op1(int semid, int num, int op, int flg)
{
    struct sembuf sb = { (unsigned short)num, (short)op, (short)flg };
    return semop(semid, &sb, 1);
}

static void show_all(const char *label, int semid)
{
    unsigned short v[3];
    union semun u = { .array = v };
    if (semctl(semid, 0, GETALL, u) == -1)
        printf("%s: %s\n", label, ename(errno));
    else
        printf("%s: %u %u %u\n", label, v[0], v[1], v[2]);
}

/* Wait (up to 5 s) until cmd on semaphore num counts n waiters. */
static int waiters(int semid, int num, int cmd, int n)
{
    for (int i = 0; i < 500; i++) {
        if (semctl(semid, num, cmd) == n)
            return n;
        usleep(10000);
    }
    return semctl(semid, num, cmd);
}

static void *take0(void *arg)
{
    (void)arg;
    long r = op1(id, 0, -1, 0);
    return (void *)(r == -1 ? (long)errno : 0L);
}

static void *zero1(void *arg)
{
    (void)arg;
    long r = op1(id, 1, 0, 0);
    return (void *)(r == -1 ? (long)errno : 0L);
}

static int pp;
static long pp_count;

static void *ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < 500; i++) {
        op1(pp, 1, -1, 0);
        pp_count++;
        op1(pp, 0, 1, 0);
    }
    return NULL;
}

static void on_usr1(int sig)
{
    (void)sig;
}

static void join_say(const char *label, pthread_t th)
{
    void *ret;
    pthread_join(th, &ret);
    printf("%s: %s\n", label, ret ? ename((int)(long)ret) : "ok");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    union semun u;
    id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    YES("semget private", id >= 0);
    show_all("new", id);
    u.val = 5;
    SAY("SETVAL", semctl(id, 0, SETVAL, u));
    VAL("GETVAL", semctl(id, 0, GETVAL));
    YES("GETPID is me", semctl(id, 0, GETPID) == getpid());
    VAL("GETPID untouched", semctl(id, 2, GETPID));
    unsigned short init[3] = { 1, 2, 3 };
    u.array = init;
    SAY("SETALL", semctl(id, 0, SETALL, u));
    show_all("after SETALL", id);
    u.val = 40000;
    SAY("SETVAL too big", semctl(id, 0, SETVAL, u));
    u.val = -1;
    SAY("SETVAL negative", semctl(id, 0, SETVAL, u));

    struct sembuf two[2] = { { 0, -1, 0 }, { 1, -10, IPC_NOWAIT } };
    SAY("semop would block, IPC_NOWAIT", semop(id, two, 2));
    show_all("nothing applied", id);
    struct sembuf both[2] = { { 0, -1, 0 }, { 1, 2, 0 } };
    SAY("semop two", semop(id, both, 2));
    show_all("both applied", id);
    struct sembuf seq[2] = { { 2, 5, 0 }, { 2, -8, 0 } };
    SAY("semop sees its own earlier op", semop(id, seq, 2));
    show_all("after sequence", id);
    SAY("semop up to SEMVMX", op1(id, 2, 32767, 0));
    SAY("semop past SEMVMX", op1(id, 2, 1, 0));
    SAY("semop sem_num too big", op1(id, 3, 1, 0));
    SAY("semop no ops", semop(id, both, 0));
    struct sembuf *many = calloc(501, sizeof *many);
    SAY("semop 501 ops", semop(id, many, 501));
    free(many);
    struct timespec ts = { 0, 50000000 };
    struct sembuf w = { 0, -1, 0 };
    SAY("semtimedop times out", semtimedop(id, &w, 1, &ts));
    ts.tv_nsec = 2000000000;
    SAY("semtimedop bad timeout", semtimedop(id, &w, 1, &ts));

    struct semid_ds ds;
    u.buf = &ds;
    SAY("IPC_STAT", semctl(id, 0, IPC_STAT, u));
    printf("nsems %lu mode %o otime %s ctime %s\n", (unsigned long)ds.sem_nsems,
           ds.sem_perm.mode, ds.sem_otime ? "set" : "0", ds.sem_ctime ? "set" : "0");
    ds.sem_perm.mode = 0640;
    SAY("IPC_SET", semctl(id, 0, IPC_SET, u));
    semctl(id, 0, IPC_STAT, u);
    printf("mode after IPC_SET %o\n", ds.sem_perm.mode);

    /* a thread blocks on semaphore 0 (now 0) until main posts */
    pthread_t th;
    pthread_create(&th, NULL, take0, NULL);
    VAL("GETNCNT with a waiter", waiters(id, 0, GETNCNT, 1));
    VAL("GETZCNT of it", semctl(id, 0, GETZCNT));
    SAY("post", op1(id, 0, 1, 0));
    join_say("waiter took it", th);
    VAL("GETNCNT after", semctl(id, 0, GETNCNT));
    show_all("values", id);

    /* wait for zero */
    pthread_create(&th, NULL, zero1, NULL);
    VAL("GETZCNT with a waiter", waiters(id, 1, GETZCNT, 1));
    SAY("decrement to zero", op1(id, 1, -4, 0));
    join_say("zero waiter", th);

    /* ping-pong between two threads */
    pp = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    pthread_create(&th, NULL, ponger, NULL);
    for (int i = 0; i < 500; i++) {
        op1(pp, 1, 1, 0);
        op1(pp, 0, -1, 0);
    }
    pthread_join(th, NULL);
    printf("ping-pong rounds: %ld\n", pp_count);

    /* a waiter woken by a signal: EINTR even with SA_RESTART */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_create(&th, NULL, take0, NULL);
    waiters(id, 0, GETNCNT, 1);
    pthread_kill(th, SIGUSR1);
    join_say("signalled waiter", th);
    VAL("GETNCNT after signal", semctl(id, 0, GETNCNT));

    /* a waiter woken by IPC_RMID */
    pthread_create(&th, NULL, take0, NULL);
    waiters(id, 0, GETNCNT, 1);
    SAY("IPC_RMID with a waiter", semctl(id, 0, IPC_RMID));
    join_say("waiter of a removed set", th);
    SAY("GETVAL removed", semctl(id, 0, GETVAL));
    SAY("semop removed", op1(id, 0, 1, 0));
    SAY("IPC_RMID pp", semctl(pp, 0, IPC_RMID));

    /* keys and limits */
    int key = run_key(2);
    SAY("semget missing key", semget(key, 1, 0600));
    int kid = semget(key, 2, IPC_CREAT | 0600);
    YES("semget IPC_CREAT", kid >= 0);
    SAY("semget IPC_EXCL", semget(key, 2, IPC_CREAT | IPC_EXCL | 0600));
    YES("semget same, fewer", semget(key, 1, 0) == kid);
    YES("semget same, nsems 0", semget(key, 0, 0) == kid);
    SAY("semget more", semget(key, 3, 0));
    SAY("semget private, nsems 0", semget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
    SAY("semget too many", semget(IPC_PRIVATE, 40000, IPC_CREAT | 0600));
    SAY("semctl bad cmd", semctl(kid, 0, 1234));
    SAY("GETVAL bad semnum", semctl(kid, 2, GETVAL));
    SAY("semctl negative id", semctl(-1, 0, GETVAL));
    u.buf = (struct semid_ds *)8;
    SAY("IPC_STAT bad buffer", semctl(kid, 0, IPC_STAT, u));
    struct seminfo si;
    u.buf = (struct semid_ds *)&si;
    int top = semctl(0, 0, IPC_INFO, u);
    YES("IPC_INFO", top >= 0 && si.semvmx == 32767);
    if (geteuid() == 0) {
        if (seteuid(65534) == 0) {
            SAY("other user semop", op1(kid, 0, 1, 0));
            SAY("other user GETVAL", semctl(kid, 0, GETVAL));
            u.val = 1;
            SAY("other user SETVAL", semctl(kid, 0, SETVAL, u));
            SAY("other user IPC_RMID", semctl(kid, 0, IPC_RMID));
            SAY("other user semget", semget(key, 1, 0600));
            seteuid(0);
        }
    } else {
        printf("not root: permission cases skipped\n");
    }
    SAY("IPC_RMID keyed", semctl(kid, 0, IPC_RMID));
    return 0;
}
