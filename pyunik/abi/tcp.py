"""TCP: include/net/tcp_states.h (the state numbers /proc/net/tcp prints),
include/uapi/linux/tcp.h (struct tcphdr, the header's flag bits), include/net/tcp.h
(option kinds and lengths, the kernel's timing constants and sysctl defaults) and
RFC 9293 / RFC 7323. Linux facts only, no behaviour. (TCP's socket options are in
abi/inet.py with the other protocol levels.)
"""

import struct

# enum of include/net/tcp_states.h; /proc/net/tcp's `st` column is the number in hex.
TCP_ESTABLISHED = 1
TCP_SYN_SENT = 2
TCP_SYN_RECV = 3
TCP_FIN_WAIT1 = 4
TCP_FIN_WAIT2 = 5
TCP_TIME_WAIT = 6
TCP_CLOSE = 7
TCP_CLOSE_WAIT = 8
TCP_LAST_ACK = 9
TCP_LISTEN = 10
TCP_CLOSING = 11
TCP_NEW_SYN_RECV = 12

# The states' names in Linux (without TCP_), and in RFC 9293 for traces a reader
# compares with the RFC's diagram.
TCP_STATE_NAMES = {
    TCP_ESTABLISHED: "ESTABLISHED", TCP_SYN_SENT: "SYN_SENT", TCP_SYN_RECV: "SYN_RECV",
    TCP_FIN_WAIT1: "FIN_WAIT1", TCP_FIN_WAIT2: "FIN_WAIT2", TCP_TIME_WAIT: "TIME_WAIT",
    TCP_CLOSE: "CLOSE", TCP_CLOSE_WAIT: "CLOSE_WAIT", TCP_LAST_ACK: "LAST_ACK",
    TCP_LISTEN: "LISTEN", TCP_CLOSING: "CLOSING", TCP_NEW_SYN_RECV: "NEW_SYN_RECV",
}
TCP_RFC_NAMES = {
    TCP_ESTABLISHED: "ESTABLISHED", TCP_SYN_SENT: "SYN-SENT", TCP_SYN_RECV: "SYN-RECEIVED",
    TCP_FIN_WAIT1: "FIN-WAIT-1", TCP_FIN_WAIT2: "FIN-WAIT-2", TCP_TIME_WAIT: "TIME-WAIT",
    TCP_CLOSE: "CLOSED", TCP_CLOSE_WAIT: "CLOSE-WAIT", TCP_LAST_ACK: "LAST-ACK",
    TCP_LISTEN: "LISTEN", TCP_CLOSING: "CLOSING", TCP_NEW_SYN_RECV: "SYN-RECEIVED",
}

# struct tcphdr (RFC 9293 3.1): source port, destination port, sequence number,
# acknowledgment number, data offset (high 4 bits) and reserved bits, control bits,
# window, checksum, urgent pointer; network byte order.
TCPHDR = struct.Struct("!HHIIBBHHH")
TCPHDR_CHECK_OFFSET = 16
# The options pyunik writes, each padded as Linux's tcp_options_write pads them:
TCPOPT_MSS_LAYOUT = struct.Struct("!BBH")              # kind, length, MSS
TCPOPT_WINDOW_LAYOUT = struct.Struct("!BBBB")          # NOP, kind, length, shift
TCPOPT_SACK_PERM_LAYOUT = struct.Struct("!BBBB")       # NOP, NOP, kind, length
TCPOPT_TIMESTAMP_LAYOUT = struct.Struct("!BBBBII")     # NOP, NOP, kind, length, TSval, TSecr
TCPOPT_TIMESTAMP_VALUES = struct.Struct("!II")         # TSval, TSecr after kind and length

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
TCP_MIN_SND_MSS = 48        # net.ipv4.tcp_min_snd_mss: the smallest MSS a peer may force

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
# include/net/tcp.h: the largest TCP_KEEPIDLE, TCP_KEEPINTVL (seconds), TCP_KEEPCNT
MAX_TCP_KEEPIDLE = 32767
MAX_TCP_KEEPINTVL = 32767
MAX_TCP_KEEPCNT = 127
TCP_SYN_RETRIES = 6                        # net.ipv4.tcp_syn_retries
TCP_SYNACK_RETRIES = 5                     # net.ipv4.tcp_synack_retries
TCP_RETRIES2 = 15                          # net.ipv4.tcp_retries2
TCP_INIT_CWND = 10                         # TCP_INIT_CWND (RFC 6928), in segments

# /proc/net/tcp (net/ipv4/tcp_ipv4.c tcp4_seq_show): every line padded to TMPSZ - 1.
PROC_NET_TCP_WIDTH = 149
PROC_NET_TCP_HEADER = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
                       "retrnsmt   uid  timeout inode")
# get_tcp4_sock: sl, local addr:port, remote addr:port, state, tx:rx queue, timer:
# expiry, retransmits, uid, probes, inode, refcount, pointer, rto, ato,
# quick/pingpong, cwnd, ssthresh (-1 in initial slow start; a listener's fastopen qlen)
PROC_NET_TCP_LINE = ("%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5u %8d %d "
                     "%d %016X %d %d %d %d %d")
# get_openreq4 (a SYN-RECEIVED request) and get_timewait4_sock
PROC_NET_TCP_OPENREQ = "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5u %8d %d %d %016X"
PROC_NET_TCP_TIMEWAIT = "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %016X"

# struct tcp_info (include/uapi/linux/tcp.h) up to tcpi_total_retrans: the 104 bytes
# every kernel since 2.6 fills (later ones append pacing, byte and segment counts).
# state, ca_state, retransmits, probes, backoff, options, snd_wscale:4|rcv_wscale:4,
# flags; rto, ato, snd_mss, rcv_mss; unacked, sacked, lost, retrans, fackets;
# last_data_sent, last_ack_sent, last_data_recv, last_ack_recv (ms ago); pmtu,
# rcv_ssthresh, rtt, rttvar (us), snd_ssthresh, snd_cwnd, advmss, reordering;
# rcv_rtt, rcv_space; total_retrans.
TCP_INFO_LAYOUT = struct.Struct("<8B24I")
TCPI_OPT_TIMESTAMPS = 1
TCPI_OPT_SACK = 2
TCPI_OPT_WSCALE = 4
TCP_CA_Open = 0               # enum tcp_ca_state (include/uapi/linux/tcp.h)
TCP_CA_Disorder = 1
TCP_CA_CWR = 2
TCP_CA_Recovery = 3
TCP_CA_Loss = 4
TCP_INFINITE_SSTHRESH = 0x7FFFFFFF
TCP_REORDERING = 3            # net.ipv4.tcp_reordering
