"""TCP's output path and timers, a part of TcpConnection (net/tcp.py).

What leaves a connection: SYN and SYN,ACK with the MSS and window-scale options;
data segments cut from the send queue within min(SND.WND, cwnd), holding back
small segments under Nagle's rule (RFC 9293 3.7.4) and sender silly-window
avoidance (3.8.6.2.1) unless TCP_NODELAY or nothing is in flight; a FIN after the
last byte; ACKs, delayed by up to `delayed_ack_ns` (every second full segment at
once); window updates once reading has opened the window by an MSS or half the
buffer (receiver SWS avoidance, 3.8.6.2.2; the right edge never moves left).

Timers (names in `Timers`): "retransmit" (RFC 6298 5: the oldest unacknowledged
segment is sent again, the RTO doubles, cwnd falls to one segment and sending goes
back to SND.UNA), "persist" (zero-window probes while the peer's window is closed),
"delack", "keepalive", "time_wait" (2*MSL, then CLOSED), "fin_wait2" (an orphan's
FIN-WAIT-2 timeout). `timer(now)` runs those due.

Layer: net, inside net/tcp.py's TcpConnection (a mixin: it uses the connection's
fields, described there). Calls net/tcp_segment.py and abi/.
"""

from __future__ import annotations

import errno

from .tcp_segment import (TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN, TH_URG, TcpSegment, TcpState,
                          seq_add, seq_gt, seq_lt, seq_sub)

# States in which data (and a FIN) may be sent or sent again.
_SENDING = frozenset({TcpState.ESTABLISHED, TcpState.CLOSE_WAIT, TcpState.FIN_WAIT1,
                      TcpState.CLOSING, TcpState.LAST_ACK})
# States in which the peer may still send us data (window updates matter).
_RECEIVING = frozenset({TcpState.ESTABLISHED, TcpState.FIN_WAIT1, TcpState.FIN_WAIT2})
_KEEPALIVE = frozenset({TcpState.ESTABLISHED, TcpState.CLOSE_WAIT, TcpState.FIN_WAIT1,
                        TcpState.FIN_WAIT2, TcpState.CLOSING, TcpState.LAST_ACK})


class TcpOutput:
    """Sending and timers of a TcpConnection."""

    # ---- the receive window we advertise -----------------------------------------

    def _free_window(self) -> int:
        """The window the buffer allows now, in whole units of our scale."""
        free = max(0, self.rcvbuf - len(self.rcvq))
        free = min(free, 0xFFFF << self.rcv_wscale)
        return free & ~((1 << self.rcv_wscale) - 1)

    def _window_threshold(self) -> int:
        return max(1, min(self.rcvbuf // 2, self.config.mss))

    def _advertise(self) -> int:
        """The window field of a segment we send now; moves RCV.ADV right by at least
        the SWS threshold, never left."""
        cur = max(0, seq_sub(self.rcv_adv, self.rcv_nxt))
        new = self._free_window()
        if new - cur >= self._window_threshold():
            self.rcv_adv = seq_add(self.rcv_nxt, new)
            cur = new
        return min(cur >> self.rcv_wscale, 0xFFFF)

    def _window_update(self, now: int) -> None:
        """After the user read: tell the peer if the window opened enough, by the SWS
        threshold and to at least twice what it has now (tcp_cleanup_rbuf's rule:
        a reader keeping up with the data sends no ACKs of its own)."""
        if self.state in _RECEIVING:
            cur = max(0, seq_sub(self.rcv_adv, self.rcv_nxt))
            new = self._free_window()
            if new - cur >= self._window_threshold() and new >= 2 * cur:
                self._send_ack(now)

    # ---- segments ---------------------------------------------------------------

    def _transmit(self, seg: TcpSegment, now: int) -> None:
        self.counters["segments_out"] += 1
        if seg.flags & TH_ACK:
            self.unacked_segments = 0
            self.ack_pending = False
            self.timers.clear("delack")
        self.emit(self.local[0], self.remote[0], seg)

    def _segment(self, seq: int, flags: int, payload=b"") -> TcpSegment:
        seg = TcpSegment(self.local[1], self.remote[1], seq, 0, flags, 0, payload)
        if flags & TH_ACK:
            seg.ack = self.rcv_nxt
            seg.window = self._advertise()
        return seg

    def _send_ack(self, now: int) -> None:
        """A bare ACK carries SND.MAX, the next new sequence number: while going
        back after a timeout SND.NXT is below what the peer has seen, and an ACK
        sent there would be out of its window (BSD's tcp_output does the same)."""
        self._transmit(self._segment(self.snd_max, TH_ACK), now)

    def _send_reset(self, seq: int, now: int) -> None:
        self._trace("reset", "sent, seq %d" % seq)
        self._transmit(TcpSegment(self.local[1], self.remote[1], seq, 0, TH_RST), now)

    def _send_syn(self, now: int) -> None:
        """SYN (SYN-SENT) or SYN,ACK (SYN-RECEIVED) at ISS, first or again."""
        seg = TcpSegment(self.local[1], self.remote[1], self.iss, 0, TH_SYN,
                         min(self._free_window_unscaled(), 0xFFFF), mss=self.config.mss)
        if self.config.window_scaling and (self.state == TcpState.SYN_SENT
                                           or self.wscale_ok):
            seg.wscale = self.rcv_wscale
        if self.state == TcpState.SYN_RECV:
            seg.flags |= TH_ACK
            seg.ack = self.rcv_nxt
            self.rcv_adv = seq_add(self.rcv_nxt, seg.window)
        end = seq_add(self.iss, 1)
        if self.snd_max == self.iss:
            self.rtt.start(end, now)
        else:
            self.rtt.clear()                       # Karn: a SYN sent again
        self.snd_nxt = self.snd_max = end
        self._transmit(seg, now)
        self._arm_retransmit(now)

    def _free_window_unscaled(self) -> int:
        return max(0, self.rcvbuf - len(self.rcvq))

    def _send_from(self, seq: int, limit: int, now: int):
        """Send one segment of at most limit bytes of the send queue from seq (and
        the FIN if it reaches the end). Returns the sequence number after it, or None
        if there is nothing at seq."""
        off = self.sendq.start + seq_sub(seq, self.snd_base)
        avail = self.sendq.end - off
        if avail < 0:
            return None                            # the FIN is already acknowledged
        n = max(0, min(limit, avail))
        fin = self.fin_queued and n == avail
        if not n and not fin:
            return None
        flags = TH_ACK | (TH_PSH if n and n == avail else 0) | (TH_FIN if fin else 0)
        seg = self._segment(seq, flags, self.sendq.peek(off, n))
        if self.snd_up is not None:                # urgent mode (net/tcp_urgent.py)
            pointer = self.urgent_pointer(seq)
            if pointer is not None:
                seg.flags |= TH_URG
                seg.urgent = pointer
        if n > self.snd_mss:
            seg.gso_size = self.snd_mss            # a TSO segment: the link cuts it
        end = seq_add(seq, n + fin)
        if seq_lt(seq, self.snd_max):
            self.counters["retransmitted"] += 1
            self.rtt.clear()                       # Karn: nothing sent again is timed
            self._trace("retransmit", "seq %d len %d rto %d ms"
                        % (seq, n, self.rto.rto // 1_000_000))
        else:
            self.rtt.start(end, now)
            self.counters["bytes_out"] += n
        if n:
            self.last_data_sent = now
        if seq_gt(end, self.snd_max):
            self.snd_max = end
        self._transmit(seg, now)
        return end

    def _output(self, now: int) -> None:
        """tcp_write_xmit: send what the windows, Nagle and SWS avoidance allow."""
        if self.state not in _SENDING:
            return
        mss = self.snd_mss
        # With TSO a segment holds as many whole MSS as the link takes (tcp_tso_segs);
        # in urgent mode one MSS, as Linux's MSG_OOB sends without GSO.
        limit = mss if self.snd_up is not None else max(mss, self.config.gso_max // mss * mss)
        while True:
            off = self.sendq.start + seq_sub(self.snd_nxt, self.snd_base)
            avail = self.sendq.end - off
            if avail < 0 or (avail == 0 and not self.fin_queued):
                break
            usable = seq_sub(seq_add(self.snd_una, min(self.snd_wnd, self.cwnd)),
                             self.snd_nxt)
            n = max(0, min(avail, limit, usable))
            if mss < n < avail:
                n -= n % mss                       # whole segments, the rest waits
            if n < avail:
                # Not the last piece: a whole segment, or (window-limited) at least
                # half the largest window the peer offered.
                if n < mss and (n == 0 or n < self.max_snd_wnd // 2):
                    break
            elif n < mss and not (self.fin_queued or self.nodelay
                                  or self.snd_nxt == self.snd_una
                                  or self.snd_up is not None):
                break                              # Nagle: a small segment waits
            end = self._send_from(self.snd_nxt, n, now)
            if end is None:
                break
            self.snd_nxt = end
            self._arm_retransmit(now)
        self._arm_persist(now)

    # ---- timers -----------------------------------------------------------------

    def _arm_retransmit(self, now: int, restart: bool = False) -> None:
        """RFC 6298 5.1-5.3: running while anything is outstanding."""
        if self.snd_una == self.snd_max:
            self.timers.clear("retransmit")
        elif restart or self.timers.get("retransmit") is None:
            self.timers.set("retransmit", now + self.rto.rto)
            self.timers.clear("persist")

    def _arm_persist(self, now: int) -> None:
        """Data waits, nothing is in flight: probe the peer's window later."""
        if self.state not in _SENDING or self.snd_una != self.snd_max:
            self.timers.clear("persist")
            return
        off = self.sendq.start + seq_sub(self.snd_nxt, self.snd_base)
        if self.sendq.end - off <= 0:
            self.timers.clear("persist")
        elif self.timers.get("persist") is None:
            when = min(self.rto.base << self.persist_backoff, self.rto.rto_max)
            self.timers.set("persist", now + when)

    def _schedule_ack(self, now: int, immediate: bool) -> None:
        if immediate or not self.config.delayed_ack_ns:
            self.ack_pending = True
        elif self.timers.get("delack") is None:
            self.timers.set("delack", now + self.config.delayed_ack_ns)

    def _arm_keepalive(self, now: int) -> None:
        if self.keepalive and self.state in _KEEPALIVE:
            if self.timers.get("keepalive") is None:
                self.timers.set("keepalive", self.last_received + self.keepalive_idle)
        else:
            self.timers.clear("keepalive")

    def set_keepalive(self, on: bool, now: int) -> None:
        """SO_KEEPALIVE (and TCP_KEEPIDLE after it: the timer is re-armed)."""
        self.keepalive = on
        self.timers.clear("keepalive")
        self._arm_keepalive(now)

    def timer(self, now: int) -> None:
        """Run the timers due at now."""
        for name in self.timers.due(now):
            when = self.timers.get(name)
            if when is None or when > now:
                continue                           # cleared or moved by one before
            self.timers.clear(name)
            getattr(self, "_on_" + name)(now)

    def _on_retransmit(self, now: int) -> None:
        """RFC 6298 5.4-5.7 and RFC 5681 3.1's loss response."""
        state = self.state
        limit = (self.config.syn_retries if state == TcpState.SYN_SENT else
                 self.config.synack_retries if state == TcpState.SYN_RECV else
                 self.config.retries2)
        if self.retransmits >= limit:
            self._trace("rto", "gave up after %d retransmissions" % self.retransmits)
            self._enter_closed(errno.ETIMEDOUT, now)
            return
        self.retransmits += 1
        self.counters["timeouts"] += 1
        self.rto.expired()
        self._trace("rto", "expired %d time(s), rto now %d ms"
                    % (self.retransmits, self.rto.rto // 1_000_000))
        if state in (TcpState.SYN_SENT, TcpState.SYN_RECV):
            self.counters["retransmitted"] += 1
            self._send_syn(now)
            return
        flight = seq_sub(self.snd_max, self.snd_una)
        self.ssthresh = max(flight // 2, 2 * self.snd_mss)
        self.cwnd = self.snd_mss
        self.in_recovery = False
        self.dupacks = 0
        self.recover = self.snd_max
        self.snd_nxt = self.snd_una                # go back: resend from SND.UNA
        end = self._send_from(self.snd_una, self.snd_mss, now)
        if end is not None:
            self.snd_nxt = end
        self._arm_retransmit(now, restart=True)

    def _retransmit_head(self, now: int) -> None:
        """Fast retransmit (RFC 5681 3.2) and NewReno's partial ACKs: the first
        unacknowledged segment again, SND.NXT left where it is."""
        end = self._send_from(self.snd_una, self.snd_mss, now)
        if end is not None and seq_gt(end, self.snd_nxt):
            self.snd_nxt = end

    def _on_persist(self, now: int) -> None:
        """tcp_probe_timer / tcp_write_wakeup: send what an opened window allows, or
        a zero-length probe below SND.UNA that the peer must answer with its window."""
        if self.state not in _SENDING:
            return
        if self.probes_out >= self.config.retries2:
            self._trace("probe", "gave up after %d probes" % self.probes_out)
            self._enter_closed(errno.ETIMEDOUT, now)
            return
        self.probes_out += 1
        if self.rto.base << self.persist_backoff < self.rto.rto_max:
            self.persist_backoff += 1
        usable = seq_sub(seq_add(self.snd_una, self.snd_wnd), self.snd_nxt)
        end = self._send_from(self.snd_nxt, min(usable, self.snd_mss), now) \
            if usable > 0 else None
        if end is not None:
            self.snd_nxt = end
            self._arm_retransmit(now)
        else:
            self.counters["zero_window_probes"] += 1
            self._trace("probe", "zero window, probe %d" % self.probes_out)
            self._transmit(self._segment(seq_add(self.snd_una, -1), TH_ACK), now)
        self._arm_persist(now)

    def _on_delack(self, now: int) -> None:
        if self.state in _RECEIVING or self.state in _SENDING:
            self._send_ack(now)

    def _on_keepalive(self, now: int) -> None:
        """tcp_keepalive_timer: probe an idle peer; give up after the probes."""
        if not self.keepalive or self.state not in _KEEPALIVE:
            return
        if self.snd_una != self.snd_max or self.sendq.end > self.sendq.start + seq_sub(
                self.snd_nxt, self.snd_base):
            self.timers.set("keepalive", now + self.keepalive_idle)
            return                                 # data in flight: not idle
        elapsed = now - self.last_received
        if elapsed < self.keepalive_idle:
            self.timers.set("keepalive", self.last_received + self.keepalive_idle)
            return
        if self.probes_out >= self.keepalive_probes:
            self._trace("keepalive", "no answer to %d probes" % self.probes_out)
            self._send_reset(self.snd_max, now)
            self._enter_closed(errno.ETIMEDOUT, now)
            return
        self.probes_out += 1
        self.counters["keepalive_probes"] += 1
        self._trace("keepalive", "probe %d" % self.probes_out)
        self._transmit(self._segment(seq_add(self.snd_una, -1), TH_ACK), now)
        self.timers.set("keepalive", now + self.keepalive_interval)

    def _on_time_wait(self, now: int) -> None:
        self._enter_closed(0, now)

    def _on_fin_wait2(self, now: int) -> None:
        if self.state == TcpState.FIN_WAIT2:
            self._enter_closed(0, now)
