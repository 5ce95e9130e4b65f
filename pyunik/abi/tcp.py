"""TCP: include/net/tcp_states.h (the state numbers /proc/net/tcp prints),
include/uapi/linux/tcp.h (socket options, the header's flag bits), include/net/tcp.h
(option kinds, the kernel's timing constants) and RFC 9293 / RFC 7323. Linux facts
only, no behaviour.
"""

import enum


class TcpState(enum.IntEnum):
    """enum of include/net/tcp_states.h; /proc/net/tcp's `st` column is the number in
    hex. The names are Linux's (SYN_RECV, FIN_WAIT1, CLOSE); RFC 9293's names are
    given by `RFC_NAMES`."""
    ESTABLISHED = 1
    SYN_SENT = 2
    SYN_RECV = 3
    FIN_WAIT1 = 4
    FIN_WAIT2 = 5
    TIME_WAIT = 6
    CLOSE = 7
    CLOSE_WAIT = 8
    LAST_ACK = 9
    LISTEN = 10
    CLOSING = 11
    NEW_SYN_RECV = 12


# RFC 9293's names of the states, for traces a reader compares with the RFC's diagram.
RFC_NAMES = {
    TcpState.ESTABLISHED: "ESTABLISHED", TcpState.SYN_SENT: "SYN-SENT",
    TcpState.SYN_RECV: "SYN-RECEIVED", TcpState.FIN_WAIT1: "FIN-WAIT-1",
    TcpState.FIN_WAIT2: "FIN-WAIT-2", TcpState.TIME_WAIT: "TIME-WAIT",
    TcpState.CLOSE: "CLOSED", TcpState.CLOSE_WAIT: "CLOSE-WAIT",
    TcpState.LAST_ACK: "LAST-ACK", TcpState.LISTEN: "LISTEN",
    TcpState.CLOSING: "CLOSING", TcpState.NEW_SYN_RECV: "SYN-RECEIVED",
}

# The header's control bits (RFC 9293 3.1, RFC 3168 for ECE/CWR).
TH_FIN = 0x01
TH_SYN = 0x02
TH_RST = 0x04
TH_PSH = 0x08
TH_ACK = 0x10
TH_URG = 0x20
TH_ECE = 0x40
TH_CWR = 0x80

# Option kinds (IANA; include/net/tcp.h TCPOPT_*) and their lengths.
TCPOPT_EOL = 0
TCPOPT_NOP = 1
TCPOPT_MSS = 2              # length 4, SYN only (RFC 9293 3.7.1)
TCPOPT_WINDOW = 3           # length 3, SYN only (RFC 7323 2)
TCPOPT_SACK_PERM = 4        # length 2
TCPOPT_SACK = 5
TCPOPT_TIMESTAMP = 8        # length 10 (RFC 7323 3)
TCPOLEN_MSS = 4
TCPOLEN_WINDOW = 3
TCPOLEN_SACK_PERM = 2
TCPOLEN_TIMESTAMP = 10
TCP_MAX_WSCALE = 14         # RFC 7323 2.3: a larger shift is used as 14

TCP_HEADER_LEN = 20         # struct tcphdr without options
TCP_MSS_DEFAULT = 536       # RFC 9293 3.7.1: the MSS assumed when the option is absent

# sk_shutdown's bits (include/net/sock.h)
RCV_SHUTDOWN = 1
SEND_SHUTDOWN = 2

# Socket options at level SOL_TCP (include/uapi/linux/tcp.h).
SOL_TCP = 6
TCP_NODELAY = 1
TCP_MAXSEG = 2
TCP_CORK = 3
TCP_KEEPIDLE = 4
TCP_KEEPINTVL = 5
TCP_KEEPCNT = 6
TCP_SYNCNT = 7
TCP_LINGER2 = 8
TCP_DEFER_ACCEPT = 9
TCP_WINDOW_CLAMP = 10
TCP_INFO = 11
TCP_QUICKACK = 12
TCP_USER_TIMEOUT = 18

# Timing constants of include/net/tcp.h, in nanoseconds.
TCP_RTO_MIN_NS = 200_000_000           # TCP_RTO_MIN: HZ/5
TCP_RTO_MAX_NS = 120_000_000_000       # TCP_RTO_MAX: 120 s
TCP_TIMEOUT_INIT_NS = 1_000_000_000    # TCP_TIMEOUT_INIT: 1 s (RFC 6298 2.1)
TCP_DELACK_MIN_NS = 40_000_000         # TCP_DELACK_MIN: HZ/25
TCP_TIMEWAIT_LEN_NS = 60_000_000_000   # TCP_TIMEWAIT_LEN: 60 s, Linux's 2*MSL
TCP_FIN_TIMEOUT_NS = 60_000_000_000    # TCP_FIN_TIMEOUT (net.ipv4.tcp_fin_timeout)
TCP_KEEPALIVE_TIME_NS = 7200_000_000_000   # net.ipv4.tcp_keepalive_time
TCP_KEEPALIVE_INTVL_NS = 75_000_000_000    # net.ipv4.tcp_keepalive_intvl
TCP_KEEPALIVE_PROBES = 9                   # net.ipv4.tcp_keepalive_probes
TCP_SYN_RETRIES = 6                        # net.ipv4.tcp_syn_retries
TCP_SYNACK_RETRIES = 5                     # net.ipv4.tcp_synack_retries
TCP_RETRIES2 = 15                          # net.ipv4.tcp_retries2
TCP_INIT_CWND = 10                         # TCP_INIT_CWND (RFC 6928), in segments
