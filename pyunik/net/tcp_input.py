"""TCP's input path, a part of TcpConnection (net/tcp.py): RFC 9293 3.10.7's
SEGMENT ARRIVES for SYN-SENT and for the synchronized states, with RFC 5961's
defences.

In order: SYN-SENT's own rules (an ACK outside ISS..SND.NXT is answered with a RST;
a RST is taken only with an acceptable ACK: ECONNREFUSED; a SYN,ACK establishes, a
bare SYN is a simultaneous open: SYN-RECEIVED). Otherwise: (1) the acceptability
test against RCV.NXT and the window we advertised (an unacceptable segment is
answered with an ACK, a RST never; a zero window still takes ACKs and RSTs at
RCV.NXT); (2) RST: exactly at RCV.NXT resets the connection (ECONNRESET, EPIPE in
CLOSE-WAIT, as tcp_reset), elsewhere in the window earns a challenge ACK
(RFC 5961 3); (4) a SYN earns a challenge ACK (RFC 5961 4) -- except SYN-RECEIVED's
retransmitted SYN (the SYN,ACK is sent again) and, in a simultaneous open, the
peer's SYN,ACK acknowledging ours (taken as the ACK, as Linux); (5) the ACK:
SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT (RFC 5961 5) or a challenge ACK, new
data acknowledged (RTT sample, cwnd growth, NewReno recovery), duplicate ACKs
counted (three start a fast retransmit), the send window taken from the newest
segment (SND.WL1/WL2), the FIN's acknowledgment moving FIN-WAIT-1, CLOSING and
LAST-ACK on; (7) data: in order into the receive buffer, ahead of RCV.NXT into the
reassembly queue (answered at once with a duplicate ACK); data to a connection whose
reading side is shut in FIN-WAIT resets it (Linux's TCPAbortOnData); (8) the FIN,
once everything before it has come.

Layer: net, inside net/tcp.py's TcpConnection (a mixin: it uses the connection's
fields, described there). Calls net/tcp_segment.py and abi/.
"""

from __future__ import annotations

import errno

from ..abi.eventpoll import EPOLLRDHUP as POLLRDHUP
from ..abi.poll import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from ..abi.tcp import TCP_MIN_SND_MSS, TCP_MSS_DEFAULT
from .tcp_segment import (TH_ACK, TH_FIN, TH_RST, TH_SYN, TH_URG, TcpSegment, TcpState,
                          reset_for_unknown,
                          seq_add, seq_ge, seq_gt, seq_in, seq_le, seq_lt, seq_sub)
from .tcp_urgent import URG_NOTYET

_READ = POLLIN | POLLRDNORM
_WRITE = POLLOUT | POLLWRNORM
_ALL = _READ | _WRITE | POLLERR | POLLHUP | POLLRDHUP
_DATA_STATES = frozenset({TcpState.ESTABLISHED, TcpState.FIN_WAIT1, TcpState.FIN_WAIT2})


class TcpInput:
    """Segment processing of a TcpConnection."""

    def segment_arrives(self, seg: TcpSegment, now: int) -> bool:
        """Process one incoming segment; True if it belongs to a new connection
        (a SYN to TIME-WAIT, which has closed itself) and must be demultiplexed
        again."""
        self.counters["segments_in"] += 1
        state = self.state
        if state == TcpState.CLOSE:
            rst = reset_for_unknown(seg)
            if rst is not None:
                self._transmit(rst, now)
            return False
        if (state == TcpState.TIME_WAIT and seg.flags & (TH_SYN | TH_ACK | TH_RST) == TH_SYN
                and seq_gt(seg.seq, self.rcv_nxt)):
            self._trace("state", "TIME-WAIT taken over by a new SYN")
            self._enter_closed(0, now)
            return True
        if state == TcpState.SYN_SENT:
            self._syn_sent(seg, now)
        else:
            self._synchronized(seg, now)
        if self.state != TcpState.CLOSE:
            self._output(now)
            if self.ack_pending:
                self._send_ack(now)
        return False

    def _drop(self, why: str) -> None:
        self.counters["dropped"] += 1
        self._trace("drop", why)

    # ---- SYN-SENT -------------------------------------------------------------

    def _take_syn(self, seg: TcpSegment) -> None:
        """The peer's SYN: IRS, RCV.NXT, its MSS and window scale, its window."""
        self.irs = seg.seq
        self.rcv_nxt = seq_add(seg.seq, 1)
        self.rcv_adv = seq_add(self.rcv_nxt, min(self._free_window_unscaled(), 0xFFFF))
        peer_mss = seg.mss if seg.mss else TCP_MSS_DEFAULT
        self.snd_mss = max(TCP_MIN_SND_MSS, min(peer_mss, self.config.mss))
        if seg.wscale is not None and self.config.window_scaling:
            self.snd_wscale = seg.wscale
            self.wscale_ok = True
        else:
            self.snd_wscale = self.rcv_wscale = 0
            self.wscale_ok = False
        self.snd_wnd = self.max_snd_wnd = seg.window     # a SYN's window is unscaled
        self.snd_wl1, self.snd_wl2 = seg.seq, seg.ack

    def _syn_sent(self, seg: TcpSegment, now: int) -> None:
        f = seg.flags
        if f & TH_ACK and (seq_le(seg.ack, self.iss) or seq_gt(seg.ack, self.snd_max)):
            if not f & TH_RST:
                self._send_reset(seg.ack, now)
            self._drop("SYN-SENT: unacceptable ACK")
            return
        if f & TH_RST:
            if f & TH_ACK:
                self._trace("reset", "connection refused")
                self._enter_closed(errno.ECONNREFUSED, now)
            else:
                self._drop("SYN-SENT: RST without ACK")
            return
        if not f & TH_SYN:
            self._drop("SYN-SENT: neither SYN nor RST")
            return
        self._take_syn(seg)
        self.last_received = now
        if f & TH_ACK:
            self.snd_una = seg.ack
            self._rtt_sample(seg.ack, now)
            self.retransmits = 0
            self.rto.backoff = 0
            self.timers.clear("retransmit")
            self._established(now)
            self.ack_pending = True
            if seg.payload or f & TH_FIN:
                self._receive_text(seq_add(seg.seq, 1), seg.payload, f & TH_FIN, now)
        else:
            self._set_state(TcpState.SYN_RECV)     # simultaneous open
            self._send_syn(now)

    def _established(self, now: int) -> None:
        self._set_state(TcpState.ESTABLISHED)
        self.cwnd = self.config.initial_cwnd * self.snd_mss
        self._arm_keepalive(now)
        self._wake(_ALL)
        if self.fin_queued:                        # close() came in SYN-RECEIVED
            self.fin_queued = False
            self._queue_fin(now)

    def _rtt_sample(self, ack: int, now: int) -> None:
        if self.rtt.seq is not None and seq_ge(ack, self.rtt.seq):
            self.rto.sample(now - self.rtt.sent)
            self.rtt.clear()

    # ---- the synchronized states ----------------------------------------------

    def _acceptable(self, seq: int, seg_len: int, wnd: int) -> bool:
        """RFC 9293 3.10.7.4's table; with a zero window a segment at RCV.NXT is
        still taken for its ACK and RST (its data is then trimmed away)."""
        nxt = self.rcv_nxt
        if wnd == 0:
            return seq == nxt
        edge = seq_add(nxt, wnd)
        if seq_in(seq, nxt, edge):
            return True
        return seg_len > 0 and seq_in(seq_add(seq, seg_len - 1), nxt, edge)

    def _synchronized(self, seg: TcpSegment, now: int) -> None:
        f = seg.flags
        seq, payload = seg.seq, seg.payload
        fin = bool(f & TH_FIN)
        syn = bool(f & TH_SYN)
        if self.state == TcpState.SYN_RECV and syn and not f & TH_RST and seg.seq == self.irs:
            if not f & TH_ACK:
                self._trace("retransmit", "SYN came again: SYN,ACK again")
                self._send_syn(now)
                return
            if seg.ack == self.snd_max:            # simultaneous open: the peer's SYN,ACK
                seq, syn = seq_add(seq, 1), False
        seg_len = len(payload) + syn + fin
        wnd = max(0, seq_sub(self.rcv_adv, self.rcv_nxt))
        if not self._acceptable(seq, seg_len, wnd):
            if not f & TH_RST:
                if self.state == TcpState.TIME_WAIT and fin:
                    self.timers.set("time_wait", now + self.config.time_wait_ns)
                self.ack_pending = True
            self._drop("sequence %d outside RCV.NXT %d + %d" % (seq, self.rcv_nxt, wnd))
            return
        if f & TH_RST:
            if seq == self.rcv_nxt:
                self._reset_received(now)
            else:
                self._challenge_ack(now, "RST in the window")
            return
        if syn:
            self._challenge_ack(now, "SYN in a synchronized state")
            return
        if not f & TH_ACK:
            self._drop("no ACK")
            return
        self.last_received = now
        if self.state == TcpState.SYN_RECV:
            if not (seq_lt(self.snd_una, seg.ack) and seq_le(seg.ack, self.snd_max)):
                self._send_reset(seg.ack, now)
                self._drop("SYN-RECEIVED: unacceptable ACK")
                return
            self.snd_una = seg.ack
            self.snd_wnd = self.max_snd_wnd = seg.window << self.snd_wscale
            self.snd_wl1, self.snd_wl2 = seq, seg.ack
            self._rtt_sample(seg.ack, now)
            self.retransmits = 0
            self.rto.backoff = 0
            self.timers.clear("retransmit")
            self._established(now)
        elif not self._process_ack(seg, seq, now):
            return
        if self._fin_acknowledged():
            if self.state == TcpState.FIN_WAIT1:
                self._set_state(TcpState.FIN_WAIT2)
                self._wake(_ALL)
                if self.orphaned:
                    self.timers.set("fin_wait2", now + self.config.fin_timeout_ns)
            elif self.state == TcpState.CLOSING:
                self._enter_time_wait(now)
                return
            elif self.state == TcpState.LAST_ACK:
                self._enter_closed(0, now)
                return
        if (f & TH_URG or self.urg_state == URG_NOTYET) and self.state in _DATA_STATES:
            self.urgent_segment(bool(f & TH_URG), seg.seq, seg.urgent, payload)
        if self.state in _DATA_STATES and (payload or fin):
            if (payload and self.state != TcpState.ESTABLISHED
                    and self.rcv_shutdown and seq_gt(seq_add(seq, len(payload)),
                                                           self.rcv_nxt)):
                self._trace("reset", "data after the reading side was shut")
                self._send_reset(self.snd_max, now)
                self._enter_closed(errno.ECONNRESET, now)
                return
            self._receive_text(seq, payload, fin, now)

    def _fin_acknowledged(self) -> bool:
        return self.fin_queued and self.snd_una == self.snd_max and not self.sendq \
            and self.snd_max == seq_add(self.snd_base, 1)

    def _challenge_ack(self, now: int, why: str) -> None:
        """RFC 5961 7: at most challenge_ack_limit a second."""
        second = now // 1_000_000_000
        start, count = self.challenge_window
        if start != second:
            start, count = second, 0
        if count < self.config.challenge_ack_limit:
            count += 1
            self.counters["challenge_acks"] += 1
            self._trace("challenge-ack", why)
            self._send_ack(now)
        self.challenge_window = (start, count)

    def _reset_received(self, now: int) -> None:
        """tcp_reset's errors; a passive SYN-RECEIVED goes quietly (its listener
        forgets it), RFC 9293's 'return to LISTEN'."""
        state = self.state
        self._trace("reset", "received in %s" % state.name)
        if state == TcpState.SYN_RECV:
            err = 0 if self.listener is not None else errno.ECONNREFUSED
        elif state == TcpState.CLOSE_WAIT:
            err = errno.EPIPE
        elif state == TcpState.TIME_WAIT:
            err = 0
        else:
            err = errno.ECONNRESET
        self._enter_closed(err, now)

    # ---- acknowledgments ----------------------------------------------------------

    def _process_ack(self, seg: TcpSegment, seq: int, now: int) -> bool:
        """The fifth step in ESTABLISHED and after; False if the segment is dropped."""
        ack = seg.ack
        if seq_gt(ack, self.snd_max):
            self.ack_pending = True
            self._drop("ACK %d of data not sent (SND.NXT %d)" % (ack, self.snd_max))
            return False
        if seq_lt(ack, seq_add(self.snd_una, -self.max_snd_wnd)):
            self._challenge_ack(now, "ACK below SND.UNA - MAX.SND.WND")
            return False
        self.probes_out = 0
        if seq_lt(ack, self.snd_una):
            return True                            # an old ACK: nothing to learn
        new_wnd = seg.window << self.snd_wscale
        dup = False
        if seq_gt(ack, self.snd_una):
            self._ack_new_data(ack, now)
        else:
            dup = (not seg.payload and not seg.flags & (TH_SYN | TH_FIN)
                   and new_wnd == self.snd_wnd and self.snd_max != self.snd_una)
        if seq_lt(self.snd_wl1, seq) or (self.snd_wl1 == seq and seq_le(self.snd_wl2, ack)):
            if new_wnd:
                self.persist_backoff = 0           # the window is open: probing is over
            self.snd_wnd = new_wnd
            self.max_snd_wnd = max(self.max_snd_wnd, new_wnd)
            self.snd_wl1, self.snd_wl2 = seq, ack
        if dup:
            self._duplicate_ack(now)
        return True

    def _ack_new_data(self, ack: int, now: int) -> None:
        acked = seq_sub(ack, self.snd_una)
        done = self.sendq.acknowledge(self.sendq.start + max(0, seq_sub(ack, self.snd_base)))
        self.snd_base = seq_add(self.snd_base, done)
        self.snd_una = ack
        if self.snd_up is not None:
            self.urgent_acknowledged()
        if seq_lt(self.snd_nxt, ack):
            self.snd_nxt = ack
        self._rtt_sample(ack, now)
        self.rto.backoff = 0
        self.retransmits = 0
        mss = self.snd_mss
        if self.in_recovery:
            if seq_ge(ack, self.recover):          # RFC 6582 3.2 step 3: full ACK
                self.in_recovery = False
                self.cwnd = self.ssthresh
            else:                                  # partial ACK: the next hole
                self._retransmit_head(now)
                self.cwnd = max(self.cwnd - acked + mss, mss)
        elif self.cwnd < self.ssthresh:
            self.cwnd += min(acked, mss)           # slow start
        else:
            self.cwnd += max(1, mss * mss // self.cwnd)   # congestion avoidance
        self.cwnd = min(self.cwnd, 1 << 30)
        self.dupacks = 0
        self._arm_retransmit(now, restart=True)
        if done and self.writable():
            self._wake(_WRITE)

    def _duplicate_ack(self, now: int) -> None:
        self.dupacks += 1
        self.counters["dup_acks_in"] += 1
        mss = self.snd_mss
        if self.in_recovery:
            self.cwnd += mss                       # RFC 5681 3.2 step 4: inflate
        elif self.dupacks == 3:
            flight = seq_sub(self.snd_max, self.snd_una)
            self.ssthresh = max(flight // 2, 2 * mss)
            self.recover = self.snd_max
            self.in_recovery = True
            self.counters["fast_retransmits"] += 1
            self._trace("fast-retransmit", "3 duplicate ACKs of %d" % self.snd_una)
            self._retransmit_head(now)
            self.cwnd = self.ssthresh + 3 * mss

    # ---- data and FIN -------------------------------------------------------------

    def _receive_text(self, seq: int, payload: bytes, fin, now: int) -> None:
        """Steps seven and eight: trim to the window, deliver or queue, the FIN."""
        fin = bool(fin)
        skip = seq_sub(self.rcv_nxt, seq)
        if skip > 0:
            if skip > len(payload):
                payload, fin = b"", False          # all old, the FIN too
            else:
                payload = payload[skip:]
            seq = self.rcv_nxt
        room = max(0, seq_sub(self.rcv_adv, seq))
        trimmed = len(payload) > room
        if trimmed:
            payload, fin = payload[:room], False
        if seq != self.rcv_nxt:
            off = self.rcv_off + seq_sub(seq, self.rcv_nxt)
            self.counters["ooo_segments"] += 1
            if payload and not self.ooo.insert(off, payload):
                self._drop("reassembly queue full")
            elif fin:
                self.ooo_fin = off + len(payload)
            self.ack_pending = True                # a duplicate ACK at once
            return
        hole_filled = False
        if payload:
            self.last_data_received = now
            if len(payload) > self.rcv_mss:
                self.rcv_mss = min(len(payload), self.config.mss)
            self._deliver(payload)
            if self.ooo.runs:
                more = self.ooo.take(self.rcv_off)
                if more:
                    self._deliver(more)
                hole_filled = True
            # A TSO/GRO segment counts as the full segments it holds (Linux counts
            # bytes against rcv_mss): one of two MSS or more is ACKed at once.
            self.unacked_segments += max(1, len(payload) // self.rcv_mss)
            self.readers.wake_all(_READ)
        if fin or (self.ooo_fin is not None and self.ooo_fin == self.rcv_off):
            self._fin_arrives(now)
            return
        if payload or trimmed:
            self._schedule_ack(now, hole_filled or trimmed or self.unacked_segments >= 2)

    def _deliver(self, data: bytes) -> None:
        n = len(data)
        self.rcvq += data
        self.rcv_nxt = seq_add(self.rcv_nxt, n)
        self.rcv_off += n
        self.counters["bytes_in"] += n

    def _fin_arrives(self, now: int) -> None:
        self.rcv_nxt = seq_add(self.rcv_nxt, 1)
        self.ooo_fin = None
        self.ooo.clear()
        self.fin_received = True
        self.rcv_shutdown = True
        self._send_ack(now)
        state = self.state
        if state == TcpState.ESTABLISHED:
            self._set_state(TcpState.CLOSE_WAIT)
        elif state == TcpState.FIN_WAIT1:
            self._set_state(TcpState.CLOSING)
        elif state == TcpState.FIN_WAIT2:
            self._enter_time_wait(now)
        self._wake(_ALL)
