/*
 * sysvshm - System V shared memory: shmget, shmat, shmdt, shmctl.
 *
 * One segment attached twice (writes through one attach are read through the
 * other, also from a second thread), a shared futex waited on through one attach
 * and woken through the other, SHM_RDONLY, attaching at a chosen address
 * (SHM_RND, SHM_REMAP), attach counts, IPC_RMID while attached, keys with
 * IPC_CREAT/IPC_EXCL, IPC_STAT/IPC_SET, the /proc/self/maps line, and the errno
 * cases; as root, the permission checks for another user too. Prints no ids,
 * times or pids, so a native run and an emulated one print the same.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include "ipcguest.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)

static char *a, *b;

static long futex(volatile int *word, int op, int val)
{
    return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static void *writer(void *arg)
{
    (void)arg;
    strcpy(a + 100, "from a thread");
    return NULL;
}

static volatile int *flag;

static void *waiter(void *arg)
{
    volatile int *word = (volatile int *)(a + 512);
    (void)arg;
    *flag = 1;
    /* shared futex: keyed by the segment, so a wake through b reaches it */
    while (*word == 0)
        futex(word, FUTEX_WAIT, 0);
    return NULL;
}

static void stat_line(const char *label, int id)
{
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == -1) {
        printf("%s: %s\n", label, ename(errno));
        return;
    }
    printf("%s: segsz %zu nattch %lu mode %o key %s cpid-is-me %d lpid-is-me %d "
           "uid-is-me %d atime %s dtime %s\n", label, ds.shm_segsz,
           (unsigned long)ds.shm_nattch, ds.shm_perm.mode,
           ds.shm_perm.__key ? "set" : "0",
           ds.shm_cpid == getpid(), ds.shm_lpid == getpid(),
           ds.shm_perm.uid == geteuid(), ds.shm_atime ? "set" : "0",
           ds.shm_dtime ? "set" : "0");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    YES("shmget private", id >= 0);
    stat_line("stat new", id);

    a = shmat(id, NULL, 0);
    b = shmat(id, NULL, 0);
    YES("two attaches", a != (char *)-1 && b != (char *)-1 && a != b);
    strcpy(a, "hello");
    printf("read through b: %s\n", b);
    strcpy(b + 8192, "third page");
    printf("read through a: %s\n", a + 8192);
    stat_line("stat attached", id);
    maps_line("maps", a);

    pthread_t th;
    pthread_create(&th, NULL, writer, NULL);
    pthread_join(th, NULL);
    printf("thread wrote: %s\n", b + 100);

    int local = 0;
    flag = &local;
    pthread_create(&th, NULL, waiter, NULL);
    while (!local)
        sched_yield();
    usleep(50000);
    VAL("private wake through b", futex((int *)(b + 512), FUTEX_WAKE_PRIVATE, 1));
    *(volatile int *)(b + 512) = 1;
    VAL("shared wake through b", futex((int *)(b + 512), FUTEX_WAKE, 1));
    pthread_join(th, NULL);
    printf("waiter joined\n");

    char *ro = shmat(id, NULL, SHM_RDONLY);
    printf("read-only attach reads: %s\n", ro);
    SAY("mprotect read-only attach writable", mprotect(ro, 4096, PROT_READ | PROT_WRITE));
    SAY("shmdt read-only", shmdt(ro));

    /* a chosen address */
    char *spot = mmap(NULL, 8 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(spot, 8 << 20);
    char *at = spot + (1 << 20);
    YES("shmat at address", shmat(id, at, 0) == at);
    printf("at address reads: %s\n", at);
    SAY("shmat over it", shmat(id, at, 0));
    SAY("shmat unaligned", shmat(id, at + 1, 0));
    YES("shmat over it with SHM_REMAP", shmat(id, at, SHM_REMAP) == at);
    YES("shmat SHM_RND", shmat(id, at + (4 << 20) + 1, SHM_RND) == at + (4 << 20));
    SAY("shmat SHM_REMAP without address", shmat(id, NULL, SHM_REMAP));
    stat_line("stat five attached", id);
    SAY("shmdt at", shmdt(at));
    SAY("shmdt rnd", shmdt(at + (4 << 20)));
    SAY("shmdt again", shmdt(at));
    SAY("shmdt inside", shmdt(b + 4096));
    SAY("shmdt unaligned", shmdt(b + 1));

    /* removal while attached: still usable, key gone, destroyed at last detach */
    SAY("IPC_RMID attached", shmctl(id, IPC_RMID, NULL));
    stat_line("stat removed", id);
    printf("still shared: %s\n", b);
    char *late = shmat(id, NULL, 0);
    YES("attach after IPC_RMID", late != (char *)-1);
    SAY("shmdt late", shmdt(late));
    SAY("shmdt a", shmdt(a));
    stat_line("stat one left", id);
    SAY("shmdt b", shmdt(b));
    stat_line("stat after last detach", id);
    SAY("shmat after destroy", shmat(id, NULL, 0));

    /* keys */
    int key = run_key(1);
    SAY("shmget missing key", shmget(key, 4096, 0600));
    int kid = shmget(key, 4096, IPC_CREAT | 0600);
    YES("shmget IPC_CREAT", kid >= 0);
    SAY("shmget IPC_EXCL", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600));
    YES("shmget again same id", shmget(key, 100, 0) == kid);
    SAY("shmget larger", shmget(key, 8192, 0));
    SAY("shmget size 0", shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
    stat_line("stat keyed", kid);
    struct shmid_ds ds;
    shmctl(kid, IPC_STAT, &ds);
    YES("key in IPC_STAT", ds.shm_perm.__key == key);
    ds.shm_perm.mode = 0640;
    SAY("IPC_SET", shmctl(kid, IPC_SET, &ds));
    stat_line("stat after IPC_SET", kid);
    SAY("shmctl bad cmd", shmctl(kid, 1234, &ds));
    SAY("shmctl negative id", shmctl(-1, IPC_STAT, &ds));
    SAY("shmctl bad buffer", shmctl(kid, IPC_STAT, (struct shmid_ds *)8));
    SAY("shmat negative id", shmat(-1, NULL, 0));
    SAY("shmat stale id", shmat(id, NULL, 0));
    struct shminfo info;
    int top = shmctl(0, IPC_INFO, (struct shmid_ds *)&info);
    YES("IPC_INFO", top >= 0 && info.shmmin == 1);
    struct shm_info sinfo;
    top = shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo);
    YES("SHM_INFO", top >= 0 && sinfo.used_ids >= 1);

    if (geteuid() == 0) {
        shmctl(kid, IPC_STAT, &ds);
        ds.shm_perm.mode = 0600;
        shmctl(kid, IPC_SET, &ds);
        if (seteuid(65534) == 0) {
            SAY("other user shmat", shmat(kid, NULL, 0));
            SAY("other user IPC_STAT", shmctl(kid, IPC_STAT, &ds));
            SAY("other user shmget", shmget(key, 0, 0600));
            SAY("other user IPC_RMID", shmctl(kid, IPC_RMID, NULL));
            seteuid(0);
        }
    } else {
        printf("not root: permission cases skipped\n");
    }
    SAY("IPC_RMID keyed", shmctl(kid, IPC_RMID, NULL));
    SAY("shmget after IPC_RMID", shmget(key, 4096, 0600));
    return 0;
}
