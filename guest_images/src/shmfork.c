/*
 * shmfork - shared memory, futexes and System V IPC between a parent and its
 * forked children.
 *
 * A MAP_SHARED anonymous page and a memfd mapping written by a child and read by
 * the parent; a shared futex the parent waits on, woken by the child (a private
 * wake from the child does not reach it); a process-shared pthread mutex both
 * processes count under; a SysV segment inherited across fork (attach counts in
 * both) and attached again by id in the child; a semaphore the parent blocks on
 * until the child posts; SEM_UNDO adjustments applied when the child exits; a
 * message queue the parent blocks on while the child sends. Prints no pids.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "ipcguest.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | 128)

struct shared {
    volatile int parked;
    volatile int word;
    int woken_private;
    int woken_shared;
    pthread_mutex_t lock;
    long counter;
    char text[64];
};

static long futex(volatile int *word, int op, int val)
{
    return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static int child_status(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int op1(int semid, int num, int op, int flg)
{
    struct sembuf sb = { (unsigned short)num, (short)op, (short)flg };
    return semop(semid, &sb, 1);
}

static void count_under_lock(struct shared *s)
{
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&s->lock);
        s->counter++;
        pthread_mutex_unlock(&s->lock);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct shared *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->lock, &ma);
    int fd = memfd_create("shmfork", 0);
    ftruncate(fd, 4096);
    char *file = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *private = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
    strcpy(private, "parent's");

    /* 1: writes of a child through shared anonymous memory and a memfd mapping */
    pid_t pid = fork();
    if (pid == 0) {
        strcpy(s->text, "written by the child");
        strcpy(file, "child's memfd write");
        strcpy(private, "child's private");
        _exit(0);
    }
    printf("child 1 exit: %d\n", child_status(pid));
    printf("anonymous shared: %s\n", s->text);
    printf("memfd shared: %s\n", file);
    printf("private stays: %s\n", private);

    /* 2: a shared futex: the parent waits, the child wakes it */
    pid = fork();
    if (pid == 0) {
        while (!s->parked)
            usleep(1000);
        usleep(50000);
        s->woken_private = futex(&s->word, FUTEX_WAKE_PRIVATE, 1);
        long n;
        while ((n = futex(&s->word, FUTEX_WAKE, 1)) == 0)
            usleep(1000);
        s->woken_shared = n;
        _exit(0);
    }
    s->parked = 1;
    long r = futex(&s->word, FUTEX_WAIT, 0);
    printf("parent's futex wait: %s\n", r == 0 ? "woken" : ename(errno));
    printf("child 2 exit: %d\n", child_status(pid));
    printf("child's private wake found %d, shared wake %d\n", s->woken_private,
           s->woken_shared);

    /* 3: a process-shared mutex */
    pid = fork();
    if (pid == 0) {
        count_under_lock(s);
        _exit(0);
    }
    count_under_lock(s);
    printf("child 3 exit: %d\n", child_status(pid));
    printf("counted under a shared mutex: %ld\n", s->counter);

    /* 4: a SysV segment inherited across fork */
    int shmid = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
    char *seg = shmat(shmid, NULL, 0);
    pid = fork();
    if (pid == 0) {
        struct shmid_ds ds;
        shmctl(shmid, IPC_STAT, &ds);
        printf("child sees nattch %lu\n", (unsigned long)ds.shm_nattch);
        strcpy(seg + 4096, "child wrote the segment");
        char *again = shmat(shmid, NULL, 0);
        printf("child's own attach reads: %s\n", again + 4096);
        shmctl(shmid, IPC_STAT, &ds);
        printf("child sees nattch %lu\n", (unsigned long)ds.shm_nattch);
        shmdt(again);
        SAY("child shmdt inherited", shmdt(seg));
        shmctl(shmid, IPC_STAT, &ds);
        printf("child sees nattch %lu\n", (unsigned long)ds.shm_nattch);
        _exit(0);
    }
    printf("child 4 exit: %d\n", child_status(pid));
    printf("parent reads the segment: %s\n", seg + 4096);
    struct shmid_ds ds;
    shmctl(shmid, IPC_STAT, &ds);
    printf("parent sees nattch %lu\n", (unsigned long)ds.shm_nattch);
    SAY("IPC_RMID", shmctl(shmid, IPC_RMID, NULL));
    pid = fork();
    if (pid == 0) {
        strcpy(seg, "removed but attached");
        _exit(shmdt(seg) == 0 ? 0 : 1);
    }
    printf("child 5 exit: %d\n", child_status(pid));
    printf("parent reads: %s\n", seg);
    SAY("parent shmdt", shmdt(seg));
    SAY("IPC_STAT after the last detach", shmctl(shmid, IPC_STAT, &ds));

    /* 5: semaphores: the parent blocks until the child posts */
    int semid = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 500 && semctl(semid, 0, GETNCNT) != 1; i++)
            usleep(10000);
        printf("child sees GETNCNT %d\n", semctl(semid, 0, GETNCNT));
        op1(semid, 0, 1, 0);
        _exit(0);
    }
    SAY("parent's blocking semop", op1(semid, 0, -1, 0));
    printf("child 6 exit: %d\n", child_status(pid));
    /* the parent's queued decrement was the last operation: its pid */
    YES("GETPID is the parent", semctl(semid, 0, GETPID) == getpid());

    /* SEM_UNDO: what a child took or gave comes back when it exits */
    union { int val; } u = { 1 };
    semctl(semid, 1, SETVAL, u);
    pid = fork();
    if (pid == 0) {
        op1(semid, 1, -1, SEM_UNDO);
        op1(semid, 0, 3, SEM_UNDO);
        op1(semid, 0, 1, 0);
        printf("child leaves %d and %d\n", semctl(semid, 0, GETVAL), semctl(semid, 1, GETVAL));
        _exit(0);
    }
    printf("child 7 exit: %d\n", child_status(pid));
    printf("after its exit: %d and %d\n", semctl(semid, 0, GETVAL), semctl(semid, 1, GETVAL));
    YES("GETPID after undo is the child", semctl(semid, 1, GETPID) == pid);
    /* a child blocked on a semaphore the parent's undo releases is not needed:
       SETVAL clears adjustments instead */
    pid = fork();
    if (pid == 0) {
        op1(semid, 1, 2, SEM_UNDO);
        semctl(semid, 1, SETVAL, u);
        _exit(0);
    }
    printf("child 8 exit: %d\n", child_status(pid));
    printf("SETVAL cleared the undo: %d\n", semctl(semid, 1, GETVAL));
    semctl(semid, 0, IPC_RMID);

    /* 6: a message queue: the parent receives while the child sends */
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    pid = fork();
    if (pid == 0) {
        struct { long mtype; char mtext[16]; } m = { 0, "" };
        for (int i = 1; i <= 3; i++) {
            usleep(20000);
            m.mtype = i;
            snprintf(m.mtext, sizeof m.mtext, "message %d", i);
            msgsnd(q, &m, strlen(m.mtext) + 1, 0);
        }
        _exit(0);
    }
    for (int i = 0; i < 3; i++) {
        struct { long mtype; char mtext[16]; } m;
        ssize_t n = msgrcv(q, &m, sizeof m.mtext, -3, 0);
        printf("parent received %zd bytes type %ld: %s\n", n, m.mtype, m.mtext);
    }
    printf("child 9 exit: %d\n", child_status(pid));
    msgctl(q, IPC_RMID, NULL);
    return 0;
}
