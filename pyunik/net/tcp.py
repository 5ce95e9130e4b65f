"""A TCP connection (RFC 9293), sans-IO: the state machine of one connection and
the face the socket layer uses.

Nothing here reads a clock or touches a device. A `TcpConnection` is given
  - incoming segments: `segment_arrives(seg, now)` (seg a decoded TcpSegment whose
    checksum the stack has checked, see net/tcp_segment.py); it returns True when the
    segment was not for it and must be demultiplexed again (a new SYN to a
    connection in TIME-WAIT, RFC 6191: the connection has closed itself and a
    listener should get the SYN);
  - the time: every call takes `now`, monotonic ns; `next_deadline()` is the
    earliest time its timers want `timer(now)` called (None: no timer), and may change
    after any call;
  - the user's calls (below);
and gives back
  - segments, through `emit(src_addr, dst_addr, seg)`: the stack encodes them
    (`seg.encode(src_addr, dst_addr)`) and sends them in IPv4 protocol 6;
  - `on_closed(conn)`, once, when the connection reaches CLOSED (after TIME-WAIT,
    a reset, a timeout, an abort): the stack drops its 4-tuple then;
  - `trace(conn, event, detail)`, if given: "state" (RFC 9293's names,
    "SYN-SENT -> ESTABLISHED"), "retransmit", "fast-retransmit", "rto", "probe",
    "keepalive", "reset", "challenge-ack", "drop" (why), for `--trace tcp`.

Connections are usually made by a stack's TcpTable (net/tcp_table.py:
`table.connection(local, remote)`, or accepted from `table.listen(...)`), which
registers them for demultiplexing and timers. A connection object is opened once:
a socket that connects again after a failure gets a new one.

The socket layer's interface (errors are KernelError with Linux's errno):
  connect(now)                 active open: SYN-SENT. Done when state leaves SYN_SENT;
                               then `take_error()` says ECONNREFUSED/ETIMEDOUT or 0.
  send(data, now) -> int       bytes taken into the send buffer (>= 1); EAGAIN when
                               it is full or the connection is not yet open, EPIPE
                               after shutdown(SHUT_WR) or once closed, a pending
                               error (ECONNRESET, ETIMEDOUT) first.
  recv(n, now, peek=False)     up to n bytes; b"" at end of stream; EAGAIN when
                               nothing is there yet; ECONNRESET once after a reset;
                               ENOTCONN if never connected. Reading opens the
                               receive window (a window update goes out).
  shutdown(how, now)           SHUT_RD / SHUT_WR / SHUT_RDWR (0, 1, 2) as tcp_shutdown.
  close(now)                   the socket's last close: FIN after the data (RST if
                               unread data is left, as Linux); the connection lives on
                               (FIN-WAIT, TIME-WAIT) until on_closed.
  abort(now)                   SO_LINGER with a zero timeout, or tcp_disconnect:
                               RST, CLOSED at once. A lingering close is the socket
                               layer's: close(), wait on `writers` until
                               `all_acknowledged()` or the linger time, then abort().
  poll_events() -> int         POLLIN/POLLOUT/POLLERR/POLLHUP/POLLRDHUP as tcp_poll.
  readers, writers             WaitQueues woken (with the poll bits) when data or a
                               FIN arrives, when send room frees, on every state
                               change a waiter cares about (connected, reset, closed).
  set_nodelay(on, now), set_keepalive(on, now), set_buffer_sizes(rcvbuf, sndbuf);
  keepalive_idle/interval/probes (ns, ns, count) are plain attributes: setsockopt.
  readable_bytes(), unsent_bytes() FIONREAD/SIOCINQ and SIOCOUTQ.
  take_error() -> int          SO_ERROR: the pending error, cleared.
  icmp_error(seq, err, now)    the stack's ICMP destination-unreachable, as tcp_v4_err.
  info() -> dict               /proc/net/tcp's facts and the counters.
  tcp_info(now) -> bytes       getsockopt(TCP_INFO): struct tcp_info's first 104 bytes.

Choices (RFC 9293 leaves them open or Linux differs): RTO floor 200 ms (Linux, see
net/tcp_rto.py); delayed ACKs of at most 40 ms, every second full segment ACKed at
once; Reno congestion control with NewReno recovery (RFC 5681, 6582), initial window
10 segments (RFC 6928); RFC 5961's challenge ACKs for in-window RSTs, SYNs in
synchronized states and ACKs out of range, at most `challenge_ack_limit` a second;
zero-window probes as Linux's (a zero-length segment at SND.UNA - 1), keepalive
probes likewise; urgent data as Linux's (net/tcp_urgent.py); no SACK or
timestamps are sent (received ones are read and ignored). The ISN is RFC 6528's
(a 4 us clock plus a keyed hash of the 4-tuple).

The input path is net/tcp_input.py, the output path and timers net/tcp_output.py;
a listener (SYN and accept queues, SYN cookies) is net/tcp_listen.py.

Layer: net, under the socket layer and the IPv4 stack. Calls net/tcp_segment.py,
net/tcp_rto.py, net/tcp_buffers.py, wait.py, errors.py.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
from typing import Callable

from ..abi import tcp as T
from ..abi.eventpoll import EPOLLRDHUP as POLLRDHUP
from ..abi.poll import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from ..abi.tcp import TCP_RFC_NAMES as RFC_NAMES
from ..errors import KernelError
from ..wait import WaitQueue
from .tcp_buffers import ReassemblyQueue, SendQueue
from .tcp_input import TcpInput
from .tcp_output import TcpOutput
from .tcp_rto import RtoEstimator, RttSample, Timers
from .tcp_segment import TcpSegment, TcpState, reset_for_unknown, seq_add, seq_sub
from .tcp_urgent import TcpUrgent

__all__ = ["TcpConfig", "TcpConnection", "initial_sequence", "reset_for_unknown"]

_READ = POLLIN | POLLRDNORM
_WRITE = POLLOUT | POLLWRNORM
_ALL = _READ | _WRITE | POLLERR | POLLHUP | POLLRDHUP

# The states in which the connection is synchronized (RFC 9293 3.5) and has a peer.
SYNCHRONIZED = frozenset({TcpState.SYN_RECV, TcpState.ESTABLISHED, TcpState.FIN_WAIT1,
                          TcpState.FIN_WAIT2, TcpState.CLOSE_WAIT, TcpState.CLOSING,
                          TcpState.LAST_ACK, TcpState.TIME_WAIT})


@dataclasses.dataclass
class TcpConfig:
    """What Linux keeps in sysctls and socket defaults; one per stack, copied
    (dataclasses.replace) where a socket changes it. Times in ns."""
    mss: int = 1460                    # our MSS: the interface's MTU - 40
    sndbuf: int = 262144               # send buffer bytes (SO_SNDBUF)
    rcvbuf: int = 262144               # receive buffer bytes (SO_RCVBUF)
    rcvbuf_max: int = 6291456          # tcp_rmem[2]: sizes the window scale we offer
    window_scaling: bool = True        # net.ipv4.tcp_window_scaling
    nodelay: bool = False
    keepalive: bool = False
    keepalive_idle_ns: int = T.TCP_KEEPALIVE_TIME_NS
    keepalive_interval_ns: int = T.TCP_KEEPALIVE_INTVL_NS
    keepalive_probes: int = T.TCP_KEEPALIVE_PROBES
    rto_min_ns: int = T.TCP_RTO_MIN_NS
    rto_max_ns: int = T.TCP_RTO_MAX_NS
    rto_initial_ns: int = T.TCP_TIMEOUT_INIT_NS
    syn_retries: int = T.TCP_SYN_RETRIES
    synack_retries: int = T.TCP_SYNACK_RETRIES
    retries2: int = T.TCP_RETRIES2
    time_wait_ns: int = T.TCP_TIMEWAIT_LEN_NS      # 2*MSL; tests shorten it
    fin_timeout_ns: int = T.TCP_FIN_TIMEOUT_NS     # an orphan's FIN-WAIT-2
    delayed_ack_ns: int = T.TCP_DELACK_MIN_NS      # 0: ACK every segment at once
    initial_cwnd: int = T.TCP_INIT_CWND
    gso_max: int = 0                   # TSO: the most payload of one segment handed to a
                                       # link that cuts it (sk_gso_max_size); 0: one MSS
    ooo_max_runs: int = 64             # out-of-order runs kept (bytes: the window)
    syn_backlog: int = 256             # SYN queue of a listener (tcp_max_syn_backlog)
    syncookies: bool = True            # net.ipv4.tcp_syncookies=1: when the queue is full
    challenge_ack_limit: int = 1000    # per second and connection (RFC 5961 7)
    secret: bytes = dataclasses.field(default_factory=lambda: os.urandom(16))
    isn: Callable | None = None        # isn(local, remote, now): replaces RFC 6528's


def _endpoint_bytes(ep) -> bytes:
    return bytes(ep[0]) + ep[1].to_bytes(2, "big")


def initial_sequence(config: TcpConfig, local, remote, now: int) -> int:
    """RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock."""
    if config.isn is not None:
        return config.isn(local, remote, now) & 0xFFFFFFFF
    h = hashlib.blake2s(_endpoint_bytes(local) + _endpoint_bytes(remote),
                        key=config.secret[:32], digest_size=4).digest()
    return (now // 4000 + int.from_bytes(h, "big")) & 0xFFFFFFFF


def _wscale_for(space: int) -> int:
    """tcp_select_initial_window: the smallest shift that lets the window cover space."""
    shift = 0
    while shift < T.TCP_MAX_WSCALE and (0xFFFF << shift) < space:
        shift += 1
    return shift


class TcpConnection(TcpInput, TcpOutput, TcpUrgent):
    """One connection: its TCB (RFC 9293 3.3.1), buffers, timers and wait queues."""

    def __init__(self, local: tuple[bytes, int], remote: tuple[bytes, int],
                 emit: Callable, config: TcpConfig | None = None,
                 trace: Callable | None = None, on_closed: Callable | None = None):
        cfg = config if config is not None else TcpConfig()
        self.config = cfg
        self.local = (bytes(local[0]), local[1])
        self.remote = (bytes(remote[0]), remote[1])
        self.emit = emit
        self.trace = trace
        self.on_closed = on_closed
        self.state = TcpState.CLOSE
        self.opened = False                # connect() or a passive open happened
        self.listener = None               # the TcpListener of a passive open
        self.error = 0                     # sk_err: pending, cleared by take_error
        self.soft_error = 0                # sk_err_soft: an ICMP error, told on timeout
        self.rcv_shutdown = False          # sk_shutdown's RCV_SHUTDOWN: no more to read
        self.send_shutdown = False         # and SEND_SHUTDOWN: no more to send
        self.fin_received = False          # SOCK_DONE: the peer's FIN was taken in order
        self.orphaned = False              # the user closed the socket
        self.readers = WaitQueue("a TCP connection's data")
        self.writers = WaitQueue("room in a TCP connection's send buffer")
        # Per-socket settings (setsockopt)
        self.nodelay = cfg.nodelay
        self.keepalive = cfg.keepalive
        self.keepalive_idle = cfg.keepalive_idle_ns
        self.keepalive_interval = cfg.keepalive_interval_ns
        self.keepalive_probes = cfg.keepalive_probes
        self.rcvbuf = cfg.rcvbuf
        # Send sequence space (RFC 9293 3.3.1). snd_max is the highest sequence
        # sent (snd_nxt goes back to snd_una after a timeout and climbs again).
        self.iss = 0
        self.snd_una = self.snd_nxt = self.snd_max = 0
        self.snd_wnd = 0                   # scaled, in bytes
        self.max_snd_wnd = 0
        self.snd_wl1 = self.snd_wl2 = 0
        self.snd_wscale = 0                # the peer's shift (applied to its windows)
        self.rcv_wscale = 0                # ours
        self.wscale_ok = False             # both SYNs carried the option (RFC 7323)
        self.snd_mss = T.TCP_MSS_DEFAULT   # segment size we send: min(peer's, ours)
        self.sendq = SendQueue(cfg.sndbuf)
        self.snd_base = 0                  # sequence number of sendq's first byte
        self.fin_queued = False            # a FIN follows the send queue's last byte
        # Congestion control (RFC 5681) and loss recovery (RFC 6582)
        self.cwnd = 0
        self.ssthresh = 1 << 30
        self.dupacks = 0
        self.in_recovery = False
        self.recover = 0
        self.rto = RtoEstimator(cfg.rto_min_ns, cfg.rto_max_ns, cfg.rto_initial_ns)
        self.rtt = RttSample()
        self.retransmits = 0               # consecutive timeouts without progress
        self.probes_out = 0                # zero-window or keepalive probes unanswered
        self.persist_backoff = 0           # doublings of the probe interval (icsk_backoff)
        # Receive sequence space
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_adv = 0                   # right edge of the window we advertised
        self.rcv_off = 0                   # stream offset of rcv_nxt
        self.rcvq = bytearray()            # in order, not yet read
        self.ooo = ReassemblyQueue(cfg.rcvbuf, cfg.ooo_max_runs)
        self.ooo_fin: int | None = None    # stream offset of a FIN that came early
        self.unacked_segments = 0          # full segments received since our last ACK
        self.ack_pending = False           # an ACK must go out before the call returns
        self.last_received = 0             # when the last segment came (keepalive)
        self.last_data_received = self.last_data_sent = 0    # for TCP_INFO
        self.rcv_mss = T.TCP_MSS_DEFAULT   # the largest segment seen (icsk_ack.rcv_mss)
        self.challenge_window = (0, 0)     # (second, challenge ACKs sent in it)
        self.timers = Timers()
        self.counters = dict.fromkeys((
            "segments_in", "segments_out", "bytes_in", "bytes_out", "retransmitted",
            "fast_retransmits", "timeouts", "dup_acks_in", "ooo_segments",
            "challenge_acks", "zero_window_probes", "keepalive_probes", "dropped"), 0)

    # ---- naming and tracing -------------------------------------------------

    def __repr__(self) -> str:
        return "TcpConnection(%s -> %s, %s)" % (endpoint_name(self.local),
                                                endpoint_name(self.remote),
                                                RFC_NAMES[self.state])

    def _trace(self, event: str, detail: str) -> None:
        if self.trace is not None:
            self.trace(self, event, detail)

    def _set_state(self, state: TcpState) -> None:
        if state != self.state:
            self._trace("state", "%s -> %s" % (RFC_NAMES[self.state], RFC_NAMES[state]))
            self.state = state

    # ---- opening --------------------------------------------------------------

    def _init_send(self, iss: int) -> None:
        self.iss = iss
        self.snd_una = self.snd_nxt = self.snd_max = iss
        self.snd_base = seq_add(iss, 1)
        self.rcv_wscale = (_wscale_for(max(self.rcvbuf, self.config.rcvbuf_max))
                           if self.config.window_scaling else 0)
        self.opened = True

    def connect(self, now: int) -> None:
        """Active OPEN (RFC 9293 3.10.1): send SYN, enter SYN-SENT."""
        if self.opened:
            raise KernelError(errno.EISCONN)
        self._init_send(initial_sequence(self.config, self.local, self.remote, now))
        self._set_state(TcpState.SYN_SENT)
        self._send_syn(now)

    def passive_open(self, syn: TcpSegment, iss: int, now: int) -> None:
        """LISTEN got SYN (3.10.7.2): take the peer's options, send SYN,ACK, enter
        SYN-RECEIVED. Called by the listener on a new connection object."""
        self._init_send(iss)
        self._take_syn(syn)               # no scaling unless both SYNs offer it
        self.last_received = now
        self._set_state(TcpState.SYN_RECV)
        self._send_syn(now)

    def cookie_open(self, ack: TcpSegment, iss: int, mss: int, now: int) -> None:
        """The ACK returning a valid SYN cookie: ESTABLISHED without a SYN queue
        entry (no window scaling: a cookie cannot remember it, as Linux's without
        timestamps)."""
        self._init_send(iss)
        self.rcv_wscale = self.snd_wscale = 0
        self.irs = seq_add(ack.seq, -1)
        self.rcv_nxt = ack.seq
        self.rcv_adv = seq_add(ack.seq, min(self.rcvbuf, 0xFFFF))   # the SYN,ACK's
        self.snd_una = self.snd_nxt = self.snd_max = ack.ack
        self.snd_wnd = self.max_snd_wnd = ack.window
        self.snd_wl1, self.snd_wl2 = ack.seq, ack.ack
        self.snd_mss = max(1, min(mss, self.config.mss))
        self.cwnd = self.config.initial_cwnd * self.snd_mss
        self.last_received = now
        self._set_state(TcpState.ESTABLISHED)

    # ---- the user's calls -----------------------------------------------------

    def icmp_error(self, seq: int, err: int, now: int) -> None:
        """tcp_v4_err: an ICMP destination unreachable (err is its errno, as
        icmp_err_convert gives it) about a segment we sent with sequence number
        seq. Ignored unless SND.UNA <= seq <= SND.NXT (RFC 5927 4.1); an opening
        connection fails with err; an open one keeps trying and reports err instead
        of ETIMEDOUT if it times out."""
        if not self.opened or not (seq_sub(seq, self.snd_una) >= 0
                                   and seq_sub(self.snd_max, seq) >= 0):
            return
        if self.state in (TcpState.SYN_SENT, TcpState.SYN_RECV):
            self._trace("reset", "ICMP error %d while opening" % err)
            self._enter_closed(err, now)
        elif self.state != TcpState.CLOSE:
            self.soft_error = err

    def take_error(self) -> int:
        err, self.error = self.error, 0
        return err

    def _raise_error(self) -> None:
        raise KernelError(self.take_error())

    def send(self, data, now: int, urgent: bool = False) -> int:
        """tcp_sendmsg: queue data; returns how many bytes were taken. urgent
        (MSG_OOB): the last byte taken is urgent data (net/tcp_urgent.py)."""
        if self.error:
            self._raise_error()
        if self.send_shutdown:
            raise KernelError(errno.EPIPE)
        if self.state in (TcpState.SYN_SENT, TcpState.SYN_RECV):
            raise KernelError(errno.EAGAIN)
        if self.state not in (TcpState.ESTABLISHED, TcpState.CLOSE_WAIT):
            raise KernelError(errno.EPIPE)
        if not len(data):
            return 0
        n = self.sendq.append(data)
        if not n:
            raise KernelError(errno.EAGAIN)
        if urgent:
            self.mark_urgent()
        self._output(now)
        return n

    def recv(self, n: int, now: int, peek: bool = False, inline: bool = False) -> bytes:
        """tcp_recvmsg: data first, then end of stream, a pending error, a shutdown
        read side, ENOTCONN, EAGAIN, in Linux's order. Data stops at the urgent mark
        and skips the urgent byte unless inline (SO_OOBINLINE)."""
        if self.rcvq:
            skip = 0
            if self.urg_state:
                skip, n = self.urgent_stop(n, inline)
            if skip < len(self.rcvq):
                out = bytes(self.rcvq[skip:skip + n])
                if not peek:
                    del self.rcvq[:skip + n]
                    self._window_update(now)
                    if self.urg_state:
                        self.urgent_passed()
                return out
            if not peek:                   # the urgent byte alone, skipped
                del self.rcvq[:skip]
                self._window_update(now)
                self.urgent_passed()
        if self.fin_received:
            return b""
        if self.error:
            self._raise_error()
        if self.rcv_shutdown:
            return b""
        if self.state == TcpState.CLOSE:
            raise KernelError(errno.ENOTCONN)
        raise KernelError(errno.EAGAIN)

    def set_nodelay(self, on: bool, now: int) -> None:
        """TCP_NODELAY: turning it on sends what Nagle held back (tcp_push)."""
        self.nodelay = on
        if on:
            self._output(now)

    def set_buffer_sizes(self, rcvbuf: int | None = None, sndbuf: int | None = None) -> None:
        """SO_RCVBUF / SO_SNDBUF (the socket layer doubles and clamps as Linux).
        The window scale offered in the SYN stays what it was, as in Linux."""
        if rcvbuf is not None:
            self.rcvbuf = rcvbuf
            self.ooo.max_bytes = rcvbuf
        if sndbuf is not None:
            self.sendq.capacity = sndbuf

    def readable_bytes(self, inline: bool = False) -> int:
        """FIONREAD / SIOCINQ (tcp_inq): up to the urgent mark while the urgent byte
        is ahead and not inline."""
        if self.urg_state and not inline:
            before = self.urg_off - self._copied_off()
            if 0 <= before < len(self.rcvq):
                return before
        return len(self.rcvq)

    def unsent_bytes(self) -> int:
        """SIOCOUTQ: bytes in the send queue, sent or not, not yet acknowledged."""
        return len(self.sendq)

    def all_acknowledged(self) -> bool:
        """Everything queued, FIN included if one was, has been acknowledged."""
        return self.state == TcpState.CLOSE or (
            not self.sendq and self.snd_una == self.snd_max and self.state not in (
                TcpState.SYN_SENT, TcpState.SYN_RECV))

    def shutdown(self, how: int, now: int) -> None:
        """inet_shutdown + tcp_shutdown: how is SHUT_RD (0), SHUT_WR (1) or
        SHUT_RDWR (2)."""
        if how not in (0, 1, 2):
            raise KernelError(errno.EINVAL)
        reading, writing = how != 1, how != 0
        self.rcv_shutdown |= reading
        self.send_shutdown |= writing
        if self.state == TcpState.SYN_SENT:
            self._disconnect(now)
        elif self.state == TcpState.CLOSE:
            raise KernelError(errno.ENOTCONN)
        elif writing:
            self._queue_fin(now)
        self._wake(_ALL)

    def close(self, now: int) -> None:
        """tcp_close: the socket is gone; FIN (or RST if data was left unread)."""
        self.orphaned = True
        self.rcv_shutdown = self.send_shutdown = True
        if self.state == TcpState.CLOSE:
            self._finish(now)
            return
        if self.state == TcpState.SYN_SENT:
            self._disconnect(now)
            return
        if self.rcvq:
            self.counters["dropped"] += len(self.rcvq)
            self.abort(now)             # RFC 2525 2.17, Linux's TCPAbortOnClose
            return
        self._queue_fin(now)
        if self.state == TcpState.FIN_WAIT2:
            self.timers.set("fin_wait2", now + self.config.fin_timeout_ns)

    def abort(self, now: int) -> None:
        """ABORT (3.10.5): RST to a synchronized peer, CLOSED, queues flushed."""
        if self.state in SYNCHRONIZED and self.state != TcpState.TIME_WAIT:
            self._send_reset(self.snd_max, now)
        self._disconnect(now)

    def _disconnect(self, now: int) -> None:
        self._enter_closed(0, now)

    def _queue_fin(self, now: int) -> None:
        """tcp_close_state + tcp_send_fin: ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT ->
        LAST-ACK; in SYN-RECEIVED the FIN waits for ESTABLISHED (RFC 9293 3.10.4)."""
        if self.fin_queued:
            return
        if self.state == TcpState.SYN_RECV:
            self.fin_queued = True
            return
        if self.state == TcpState.ESTABLISHED:
            self._set_state(TcpState.FIN_WAIT1)
        elif self.state == TcpState.CLOSE_WAIT:
            self._set_state(TcpState.LAST_ACK)
        else:
            return
        self.fin_queued = True
        self._output(now)

    # ---- closing ----------------------------------------------------------------

    def _enter_closed(self, err: int, now: int) -> None:
        """tcp_done: CLOSED, queues and timers dropped, waiters told, the stack
        told (on_closed). A reset's or timeout's error stays for the socket."""
        if err == errno.ETIMEDOUT and self.soft_error:
            err = self.soft_error              # tcp_write_err: the ICMP error, if any
        if err:
            self.error = err
        self.rcv_shutdown = self.send_shutdown = True
        self.sendq.acknowledge(self.sendq.end)
        self.ooo.clear()
        self.timers.clear_all()
        if self.state != TcpState.CLOSE:
            self._set_state(TcpState.CLOSE)
        self._wake(_ALL)
        self._finish(now)

    def _finish(self, now: int) -> None:
        if self.on_closed is not None:
            hook, self.on_closed = self.on_closed, None
            hook(self)

    def _enter_time_wait(self, now: int) -> None:
        self._set_state(TcpState.TIME_WAIT)
        self.timers.clear_all()
        self.timers.set("time_wait", now + self.config.time_wait_ns)
        self.sendq.acknowledge(self.sendq.end)
        self._wake(_ALL)

    def _wake(self, events: int) -> None:
        if events & (_READ | POLLERR | POLLHUP | POLLRDHUP):
            self.readers.wake_all(events)
        if events & (_WRITE | POLLERR | POLLHUP):
            self.writers.wake_all(events)

    # ---- readiness and facts ----------------------------------------------------

    def writable(self) -> bool:
        """sk_stream_is_writeable: free room at least half what is queued."""
        room = self.sendq.room()
        return room > 0 and room >= len(self.sendq) // 2

    def poll_events(self) -> int:
        """tcp_poll."""
        mask = 0
        state = self.state
        if (self.rcv_shutdown and self.send_shutdown) or state == TcpState.CLOSE:
            mask |= POLLHUP
        if self.rcv_shutdown:
            mask |= _READ | POLLRDHUP
        if state not in (TcpState.SYN_SENT, TcpState.SYN_RECV):
            if self.rcvq:
                mask |= _READ
            if self.send_shutdown or self.writable():
                mask |= _WRITE
        if self.error:
            mask |= POLLERR
        return mask

    def next_deadline(self) -> int | None:
        nxt = self.timers.next()
        return None if nxt is None else nxt[0]

    def tcp_info(self, now: int) -> bytes:
        """tcp_get_info: struct tcp_info up to tcpi_total_retrans (abi/tcp.py's
        TCP_INFO_LAYOUT); a getsockopt asking more gets these 104 bytes, as from a
        kernel of that age. No SACK, timestamps or RTT of the receiver: those are 0."""
        mss = max(1, self.snd_mss)
        ca = (T.TCP_CA_Recovery if self.in_recovery else
              T.TCP_CA_Loss if self.retransmits and self.state != TcpState.SYN_SENT
              else T.TCP_CA_Open)
        infinite = self.ssthresh >= 1 << 30
        ms = 1_000_000

        def ago(t: int) -> int:
            return max(0, now - t) // ms if t else 0
        return T.TCP_INFO_LAYOUT.pack(
            int(self.state), ca, self.retransmits, self.probes_out, self.rto.backoff,
            T.TCPI_OPT_WSCALE if self.wscale_ok else 0,
            self.snd_wscale | self.rcv_wscale << 4, 0,
            self.rto.rto // 1000,
            self.config.delayed_ack_ns // 1000 if self.counters["bytes_in"] else 0,
            self.snd_mss, self.rcv_mss,
            -(-seq_sub(self.snd_max, self.snd_una) // mss) if self.opened else 0,
            0, 0, 0, 0,
            ago(self.last_data_sent), 0, ago(self.last_data_received), ago(self.last_received),
            self.config.mss + 40, max(0, seq_sub(self.rcv_adv, self.rcv_nxt)),
            (self.rto.srtt or 0) // 1000, self.rto.rttvar // 1000,
            T.TCP_INFINITE_SSTHRESH if infinite else self.ssthresh // mss,
            self.cwnd // mss if self.cwnd else self.config.initial_cwnd,
            self.config.mss, T.TCP_REORDERING, 0, self.rcvbuf,
            self.counters["retransmitted"] & 0xFFFFFFFF)

    def info(self) -> dict:
        """What /proc/net/tcp and TCP_INFO show. timer_active is /proc/net/tcp's
        `tr` (0 none, 1 retransmit, 2 keepalive, 3 TIME-WAIT, 4 zero-window probe)."""
        nxt = self.timers.next()
        kind, expires = 0, None
        if nxt is not None:
            expires, name = nxt
            kind = {"retransmit": 1, "keepalive": 2, "time_wait": 3, "persist": 4,
                    "fin_wait2": 2}.get(name, 0)
        return dict(
            state=self.state, local=self.local, remote=self.remote,
            tx_queue=len(self.sendq),     # write_seq - snd_una: sent or not
            rx_queue=len(self.rcvq), timer_active=kind, timer_expires=expires,
            retransmits=self.retransmits, probes=self.probes_out, rto=self.rto.rto,
            srtt=self.rto.srtt or 0, rttvar=self.rto.rttvar, snd_cwnd=self.cwnd,
            snd_ssthresh=self.ssthresh, snd_mss=self.snd_mss, rcv_mss=self.config.mss,
            snd_wscale=self.snd_wscale, rcv_wscale=self.rcv_wscale,
            snd_wnd=self.snd_wnd, rcv_wnd=max(0, seq_sub(self.rcv_adv, self.rcv_nxt)),
            **self.counters)


def endpoint_name(ep) -> str:
    """(addr, port) as 10.0.2.15:80."""
    return "%s:%d" % (".".join(str(b) for b in ep[0]), ep[1])
