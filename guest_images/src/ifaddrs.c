/*
 * ifaddrs.c - the interfaces as libc sees them through netlink: getifaddrs (lo's
 * AF_PACKET and AF_INET entries), if_nameindex and if_nametoindex, and raw
 * NETLINK_ROUTE requests: a link dump, one link by index, an unknown request,
 * an acknowledged one, the port id autobind gives, and netlink's errnos.
 *
 * Only lo is printed: the host's other interfaces differ from pyunik's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest.h"

/* include/uapi/linux/netlink.h and rtnetlink.h, spelled out (musl has no linux/ headers) */
#define NETLINK_ROUTE 0
#define NLM_F_REQUEST 1
#define NLM_F_MULTI 2
#define NLM_F_ACK 4
#define NLM_F_DUMP 0x300
#define NLMSG_NOOP 1
#define NLMSG_ERROR 2
#define NLMSG_DONE 3
#define RTM_NEWLINK 16
#define RTM_GETLINK 18
#define RTM_NEWROUTE 24
#define IFLA_IFNAME 3
struct sockaddr_nl { unsigned short nl_family, nl_pad; unsigned nl_pid, nl_groups; };
struct nlmsghdr { unsigned nlmsg_len; unsigned short nlmsg_type, nlmsg_flags;
                  unsigned nlmsg_seq, nlmsg_pid; };
struct nlmsgerr { int error; struct nlmsghdr msg; };
struct ifinfomsg { unsigned char ifi_family, pad; unsigned short ifi_type; int ifi_index;
                   unsigned ifi_flags, ifi_change; };
struct rtattr { unsigned short rta_len, rta_type; };
#define ALIGN4(n) (((n) + 3) & ~3)
#define NLMSG_DATA(h) ((void *)((char *)(h) + ALIGN4(sizeof(struct nlmsghdr))))
#define NLMSG_OK(h, n) ((n) >= (long)sizeof(struct nlmsghdr) && \
                        (h)->nlmsg_len >= sizeof(struct nlmsghdr) && (h)->nlmsg_len <= (n))
#define NLMSG_NEXT(h, n) ((n) -= ALIGN4((h)->nlmsg_len), \
                          (struct nlmsghdr *)((char *)(h) + ALIGN4((h)->nlmsg_len)))
#define IFLA_RTA(i) ((struct rtattr *)((char *)(i) + ALIGN4(sizeof(struct ifinfomsg))))
#define IFLA_PAYLOAD(h) ((int)(h)->nlmsg_len - ALIGN4(sizeof(struct nlmsghdr)) - \
                         ALIGN4(sizeof(struct ifinfomsg)))
#define RTA_OK(a, len) ((len) >= (int)sizeof(struct rtattr) && (a)->rta_len >= \
                        sizeof(struct rtattr) && (a)->rta_len <= (len))
#define RTA_NEXT(a, len) ((len) -= ALIGN4((a)->rta_len), \
                          (struct rtattr *)((char *)(a) + ALIGN4((a)->rta_len)))
#define RTA_DATA(a) ((char *)(a) + ALIGN4(sizeof(struct rtattr)))

static void show(const char *what, long r)
{
    if (r < 0) {
        const char *n = errno == 93 ? "EPROTONOSUPPORT" : errno == 94 ? "ESOCKTNOSUPPORT"
                      : errno == 98 ? "EADDRINUSE" : errno == 111 ? "ECONNREFUSED"
                      : errno_name(errno);
        printf("%s: -%s\n", what, n ? n : "?");
    } else {
        printf("%s: %ld\n", what, r);
    }
}

static void print_ifaddrs(void)
{
    struct ifaddrs *list, *i;
    if (getifaddrs(&list) < 0) {
        printf("getifaddrs: -%s\n", errno_name(errno));
        return;
    }
    int lo_packet = 0, lo_inet = 0;
    for (i = list; i; i = i->ifa_next) {
        if (strcmp(i->ifa_name, "lo") != 0 || !i->ifa_addr)
            continue;
        int family = i->ifa_addr->sa_family;
        if (family == AF_PACKET) {
            lo_packet++;
            printf("lo AF_PACKET flags %#x\n", i->ifa_flags);
        } else if (family == AF_INET) {
            lo_inet++;
            char a[32], m[32];
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof(a));
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_netmask)->sin_addr, m, sizeof(m));
            printf("lo AF_INET %s netmask %s flags %#x\n", a, m, i->ifa_flags);
        }
    }
    printf("lo entries: packet %d inet %d\n", lo_packet, lo_inet);
    freeifaddrs(list);
}

static int nl_request(int fd, int type, int flags, int seq, int index)
{
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
    } req;
    memset(&req, 0, sizeof(req));
    req.h.nlmsg_len = sizeof(req);
    req.h.nlmsg_type = type;
    req.h.nlmsg_flags = flags;
    req.h.nlmsg_seq = seq;
    req.i.ifi_index = index;
    struct sockaddr_nl k = {AF_NETLINK, 0, 0, 0};
    return sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&k, sizeof(k));
}

/* Read replies to seq until NLMSG_DONE, an error, or a single answer. */
static void nl_replies(int fd, int seq, const char *what)
{
    static char buf[32768];
    int done = 0, links = 0;
    while (!done) {
        struct sockaddr_nl from;
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr m;
        memset(&m, 0, sizeof(m));
        m.msg_name = &from;
        m.msg_namelen = sizeof(from);
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        long n = recvmsg(fd, &m, 0);
        if (n <= 0) {
            show(what, n);
            return;
        }
        if (from.nl_pid != 0 || (m.msg_flags & MSG_TRUNC))
            printf("%s: from pid %u flags %#x\n", what, from.nl_pid, m.msg_flags);
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
             h = NLMSG_NEXT(h, n)) {
            if ((int)h->nlmsg_seq != seq) {
                printf("%s: wrong seq %u\n", what, h->nlmsg_seq);
                continue;
            }
            if (h->nlmsg_type == NLMSG_DONE) {
                printf("%s: done after %d lo link(s)\n", what, links);
                done = 1;
            } else if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                printf("%s: NLMSG_ERROR %s len %u flags %#x\n", what,
                       e->error ? errno_name(-e->error) ? errno_name(-e->error) : "?" : "0",
                       h->nlmsg_len, h->nlmsg_flags);
                done = 1;
            } else if (h->nlmsg_type == RTM_NEWLINK) {
                struct ifinfomsg *ifi = NLMSG_DATA(h);
                int len = IFLA_PAYLOAD(h);
                for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                    if (a->rta_type == IFLA_IFNAME && strcmp(RTA_DATA(a), "lo") == 0) {
                        links++;
                        printf("%s: RTM_NEWLINK lo index %d type %d flags %#x multi %d\n", what,
                               ifi->ifi_index, ifi->ifi_type, ifi->ifi_flags,
                               !!(h->nlmsg_flags & NLM_F_MULTI));
                    }
                }
                if (!(h->nlmsg_flags & NLM_F_MULTI))
                    done = 1;
            }
        }
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    print_ifaddrs();
    struct if_nameindex *ni = if_nameindex();
    printf("if_nameindex first: %u %s\n", ni ? ni[0].if_index : 0, ni ? ni[0].if_name : "-");
    if (ni)
        if_freenameindex(ni);
    printf("if_nametoindex lo: %u, nosuch: %u\n", if_nametoindex("lo"),
           if_nametoindex("nosuch0"));
    char name[IF_NAMESIZE];
    printf("if_indextoname 1: %s\n", if_indextoname(1, name) ? name : "-");

    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    show("socket NETLINK_ROUTE", fd < 0 ? -1 : 0);
    struct sockaddr_nl me = {AF_NETLINK, 0, 0, 0};
    socklen_t len = sizeof(me);
    getsockname(fd, (struct sockaddr *)&me, &len);
    printf("unbound nl_pid %u len %u\n", me.nl_pid, len);
    show("bind nl_pid 0", bind(fd, (struct sockaddr *)&me, sizeof(me)));
    len = sizeof(me);
    getsockname(fd, (struct sockaddr *)&me, &len);
    printf("bound nl_pid is getpid(): %d\n", (int)me.nl_pid == getpid());
    show("bind again", bind(fd, (struct sockaddr *)&me, sizeof(me)));
    int fd2 = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
    show("bind a taken nl_pid", bind(fd2, (struct sockaddr *)&me, sizeof(me)));
    struct sockaddr_nl zero = {AF_NETLINK, 0, 0, 0};
    bind(fd2, (struct sockaddr *)&zero, sizeof(zero));
    len = sizeof(me);
    struct sockaddr_nl me2;
    getsockname(fd2, (struct sockaddr *)&me2, &len);
    printf("second socket's nl_pid is negative: %d\n", (int)me2.nl_pid < 0);
    close(fd2);

    nl_request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0);
    nl_replies(fd, 1, "RTM_GETLINK dump");
    nl_request(fd, RTM_GETLINK, NLM_F_REQUEST, 2, 1);
    nl_replies(fd, 2, "RTM_GETLINK index 1");
    nl_request(fd, RTM_GETLINK, NLM_F_REQUEST, 3, 9999);
    nl_replies(fd, 3, "RTM_GETLINK index 9999");
    nl_request(fd, RTM_NEWROUTE + 40, NLM_F_REQUEST, 4, 0);
    nl_replies(fd, 4, "unknown type");
    nl_request(fd, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 5, 0);
    nl_replies(fd, 5, "NLMSG_NOOP with NLM_F_ACK");
    struct sockaddr_nl other = {AF_NETLINK, 0, 12345, 0};
    show("sendto another port", sendto(fd, "x", 1, 0, (struct sockaddr *)&other,
                                       sizeof(other)));
    close(fd);
    show("socket NETLINK_ROUTE SOCK_STREAM", socket(AF_NETLINK, SOCK_STREAM, 0));
    show("socket netlink protocol 40", socket(AF_NETLINK, SOCK_RAW, 40));
    printf("done\n");
    return 0;
}
