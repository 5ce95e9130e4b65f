/*
 * sysvmsg - System V message queues: msgget, msgsnd, msgrcv, msgctl.
 *
 * Messages by type (0, > 0, < 0, MSG_EXCEPT), MSG_NOERROR and E2BIG, IPC_NOWAIT
 * on an empty and a full queue, MSG_COPY, a receiver thread that blocks until a
 * message comes and a sender that blocks until there is room, a receiver woken
 * by IPC_RMID (EIDRM), IPC_STAT/IPC_SET with msg_qbytes, keys and the errno
 * cases; as root, the permission checks for another user too.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include "ipcguest.h"

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct message {
    long mtype;
    char mtext[64];
};

static int q;

static int send_text(int qid, long type, const char *text, int flags)
{
    struct message m = { type, "" };
    strcpy(m.mtext, text);
    return msgsnd(qid, &m, strlen(text) + 1, flags);
}

/* What a thread saw, printed by main after the join (a fixed order). */
static char seen[128];

static void receive_into(char *out, size_t len, const char *label, int qid, size_t size,
                         long type, int flags)
{
    struct message m;
    memset(&m, 0, sizeof m);
    ssize_t n = msgrcv(qid, &m, size, type, flags);
    if (n == -1)
        snprintf(out, len, "%s: %s\n", label, ename(errno));
    else
        snprintf(out, len, "%s: %zd bytes, type %ld, \"%.*s\"\n", label, n, m.mtype,
                 (int)n, m.mtext);
}

static void receive(const char *label, int qid, size_t size, long type, int flags)
{
    char line[128];
    receive_into(line, sizeof line, label, qid, size, type, flags);
    fputs(line, stdout);
}

static void stat_line(const char *label, int qid)
{
    struct msqid_ds ds;
    if (msgctl(qid, IPC_STAT, &ds) == -1) {
        printf("%s: %s\n", label, ename(errno));
        return;
    }
    printf("%s: qnum %lu cbytes %lu qbytes %lu mode %o lspid-is-me %d lrpid-is-me %d "
           "stime %s rtime %s\n", label, (unsigned long)ds.msg_qnum,
           (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes,
           ds.msg_perm.mode, ds.msg_lspid == getpid(), ds.msg_lrpid == getpid(),
           ds.msg_stime ? "set" : "0", ds.msg_rtime ? "set" : "0");
}

static void *receiver(void *arg)
{
    (void)arg;
    receive_into(seen, sizeof seen, "blocked receiver got", q, 64, 7, 0);
    return NULL;
}

static void *remove_waiter(void *arg)
{
    (void)arg;
    receive_into(seen, sizeof seen, "receiver of a removed queue", q, 64, 0, 0);
    return NULL;
}

static void *sender(void *arg)
{
    (void)arg;
    int r = send_text(q, 3, "late", 0);
    snprintf(seen, sizeof seen, "blocked sender: %s\n", r == -1 ? ename(errno) : "ok");
    return NULL;
}

static int queued(int qid)
{
    struct msqid_ds ds;
    msgctl(qid, IPC_STAT, &ds);
    return (int)ds.msg_qnum;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    YES("msgget private", q >= 0);
    stat_line("new", q);
    SAY("send 1", send_text(q, 1, "one", 0));
    SAY("send 2", send_text(q, 2, "two", 0));
    SAY("send 3", send_text(q, 3, "three", 0));
    SAY("send 1 again", send_text(q, 1, "uno", 0));
    stat_line("four queued", q);
    receive("type 2", q, 64, 2, 0);
    receive("lowest up to 3", q, 64, -3, 0);
    receive("not type 1", q, 64, 1, MSG_EXCEPT);
    receive("too small", q, 2, 0, 0);
    receive("MSG_COPY 0", q, 64, 0, MSG_COPY | IPC_NOWAIT);
    receive("MSG_COPY 5", q, 64, 5, MSG_COPY | IPC_NOWAIT);
    receive("MSG_COPY waiting", q, 64, 0, MSG_COPY);
    receive("MSG_NOERROR", q, 2, 0, MSG_NOERROR);
    receive("empty, IPC_NOWAIT", q, 64, 0, IPC_NOWAIT);
    stat_line("drained", q);

    SAY("send type 0", send_text(q, 0, "zero", 0));
    SAY("send negative size", msgsnd(q, &(struct message){ 1, "" }, (size_t)-1, 0));
    SAY("send too big", msgsnd(q, &(struct message){ 1, "" }, 9000, 0));
    SAY("send bad buffer", msgsnd(q, (void *)8, 4, 0));
    SAY("receive bad queue", msgrcv(-1, &(struct message){ 0, "" }, 4, 0, 0));
    SAY("MSG_COPY with MSG_EXCEPT", msgrcv(q, &(struct message){ 0, "" }, 4, 0,
                                           MSG_COPY | MSG_EXCEPT | IPC_NOWAIT));

    /* a receiver that waits for type 7 */
    pthread_t th;
    pthread_create(&th, NULL, receiver, NULL);
    usleep(50000);
    SAY("send type 5", send_text(q, 5, "five", 0));
    usleep(50000);
    SAY("send type 7", send_text(q, 7, "seven", 0));
    pthread_join(th, NULL);
    fputs(seen, stdout);
    receive("left over", q, 64, 0, IPC_NOWAIT);

    /* a full queue: IPC_SET msg_qbytes to 10 */
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    ds.msg_qbytes = 10;
    SAY("IPC_SET qbytes 10", msgctl(q, IPC_SET, &ds));
    SAY("send 6 bytes", send_text(q, 1, "abcde", 0));
    SAY("send 6 more, IPC_NOWAIT", send_text(q, 1, "fghij", IPC_NOWAIT));
    pthread_create(&th, NULL, sender, NULL);
    while (queued(q) != 1)
        usleep(10000);
    usleep(50000);
    receive("make room", q, 64, 0, 0);
    pthread_join(th, NULL);
    fputs(seen, stdout);
    receive("the blocked sender's", q, 64, 0, IPC_NOWAIT);
    stat_line("after", q);

    pthread_create(&th, NULL, remove_waiter, NULL);
    usleep(50000);
    SAY("IPC_RMID with a waiter", msgctl(q, IPC_RMID, NULL));
    pthread_join(th, NULL);
    fputs(seen, stdout);
    SAY("send to removed", send_text(q, 1, "x", 0));
    stat_line("removed", q);

    int key = run_key(3);
    SAY("msgget missing key", msgget(key, 0600));
    int kid = msgget(key, IPC_CREAT | 0600);
    YES("msgget IPC_CREAT", kid >= 0);
    SAY("msgget IPC_EXCL", msgget(key, IPC_CREAT | IPC_EXCL | 0600));
    YES("msgget same", msgget(key, 0) == kid);
    SAY("msgctl bad cmd", msgctl(kid, 1234, &ds));
    SAY("msgctl bad buffer", msgctl(kid, IPC_STAT, (struct msqid_ds *)8));
    struct msginfo mi;
    int top = msgctl(0, IPC_INFO, (struct msqid_ds *)&mi);
    YES("IPC_INFO", top >= 0 && mi.msgmax > 0);
    if (geteuid() == 0) {
        if (seteuid(65534) == 0) {
            SAY("other user send", send_text(kid, 1, "x", 0));
            SAY("other user receive", msgrcv(kid, &(struct message){ 0, "" }, 4, 0, IPC_NOWAIT));
            SAY("other user IPC_STAT", msgctl(kid, IPC_STAT, &ds));
            SAY("other user IPC_RMID", msgctl(kid, IPC_RMID, NULL));
            seteuid(0);
        }
    } else {
        printf("not root: permission cases skipped\n");
    }
    SAY("IPC_RMID keyed", msgctl(kid, IPC_RMID, NULL));
    return 0;
}
