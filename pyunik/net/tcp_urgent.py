"""TCP urgent data (RFC 9293 3.8.5, RFC 6093), as Linux gives it: send(MSG_OOB),
recv(MSG_OOB), SO_OOBINLINE, SIOCATMARK and POLLPRI. A mixin of TcpConnection.

Sending: send(..., MSG_OOB) makes the last byte queued so far urgent: SND.UP is the
sequence number after it (tcp_mark_urg), every segment sent before SND.UP carries URG
and the urgent pointer SND.UP - SEG.SEQ (0xFFFF when farther), Nagle does not hold
them back, and urgent mode ends when SND.UNA reaches SND.UP.

Receiving (tcp_check_urg, tcp_urg, tcp_recv_urg, with net.ipv4.tcp_stdurg 0): a new
urgent pointer names the byte before it (its sequence number, kept as a stream
offset, `urg_off`); it replaces an older one, except one already seen, read or not
newer. The byte is taken when it arrives (`urg_state` NOTYET, then VALID with the
byte). It stays in the receive queue, but an ordinary read stops before it (a read
that copied something returns there: SIOCATMARK is then true) and, without
SO_OOBINLINE, skips it; recv(MSG_OOB) returns it (once; MSG_PEEK leaves it), EINVAL
with SO_OOBINLINE or when there is none or it was read, EAGAIN while it has not
arrived (never waits), 0 after the peer's FIN. POLLPRI while it can be read; POLLIN
not for the urgent byte alone at the mark. Each new urgent pointer calls `on_urgent`,
with which the socket sends SIGURG to its F_SETOWN owner.

Layer: net. Part of net/tcp.py's TcpConnection; calls tcp_segment.py and errors.py.
"""

from __future__ import annotations

import errno

from ..abi.poll import POLLPRI
from ..errors import KernelError
from .tcp_segment import seq_add, seq_ge, seq_lt, seq_sub

URG_NOTYET = 1          # an urgent pointer came, its byte not yet (TCP_URG_NOTYET)
URG_VALID = 2           # the byte is here, unread as urgent data (TCP_URG_VALID)
URG_READ = 3            # recv(MSG_OOB) took it (TCP_URG_READ)


class TcpUrgent:
    """State (in TcpConnection): snd_up (None outside urgent mode); urg_state (0:
    none), urg_off (stream offset of the urgent byte), urg_byte."""

    snd_up: int | None = None
    urg_state = 0
    urg_off = 0
    urg_byte = 0
    on_urgent = None        # called when a new urgent pointer comes (the socket's SIGURG)

    # ---- sending ---------------------------------------------------------------------

    def mark_urgent(self) -> None:
        """tcp_mark_urg: the last byte queued is urgent (send with MSG_OOB)."""
        self.snd_up = seq_add(self.snd_base, len(self.sendq))

    def urgent_pointer(self, seq: int) -> int | None:
        """The urgent pointer of a segment sent from seq, or None for no URG."""
        if self.snd_up is None or not seq_lt(seq, self.snd_up):
            return None
        return min(seq_sub(self.snd_up, seq), 0xFFFF)

    def urgent_acknowledged(self) -> None:
        """SND.UNA moved: urgent mode ends once it reaches SND.UP."""
        if self.snd_up is not None and seq_ge(self.snd_una, self.snd_up):
            self.snd_up = None

    # ---- receiving -------------------------------------------------------------------

    def _copied_off(self) -> int:
        """Stream offset of the next byte a read returns (copied_seq)."""
        return self.rcv_off - len(self.rcvq)

    def urgent_segment(self, urg: bool, seq: int, pointer: int, payload) -> None:
        """tcp_urg, for a segment from seq that has URG set (urg) or may carry the
        urgent byte awaited."""
        if urg:
            self.urgent_arrives(seq, pointer, payload)
        else:
            self.urgent_data_check(seq, payload)

    def urgent_arrives(self, seq: int, pointer: int, payload) -> None:
        """tcp_check_urg: a new urgent pointer."""
        if pointer:
            pointer -= 1
        ptr = seq_add(seq, pointer)
        off = self.rcv_off + seq_sub(ptr, self.rcv_nxt)
        if off < self._copied_off() or seq_lt(ptr, self.rcv_nxt):
            return                                  # seen and read, or a replay
        if self.urg_state and off <= self.urg_off:
            return                                  # not newer
        if self.on_urgent is not None:
            self.on_urgent()                        # sk_send_sigurg
        self.urg_state, self.urg_off = URG_NOTYET, off
        self.urgent_data_check(seq, payload)

    def urgent_data_check(self, seq: int, payload) -> None:
        """The urgent byte has come in this segment's payload (from seq): take it."""
        if self.urg_state != URG_NOTYET:
            return
        at = self.urg_off - (self.rcv_off + seq_sub(seq, self.rcv_nxt))
        if 0 <= at < len(payload):
            self.urg_state, self.urg_byte = URG_VALID, payload[at]
            self.readers.wake_all(POLLPRI)

    def urgent_stop(self, n: int, inline: bool) -> tuple[int, int]:
        """Where an ordinary read of up to n bytes may go: (bytes to skip first,
        bytes to copy after them). At the mark the urgent byte is skipped unless
        inline; a read never crosses the mark."""
        if not self.urg_state:
            return 0, n
        u = self.urg_off - self._copied_off()
        if u < 0:
            self.urg_state = 0
            return 0, n
        if u == 0:
            skip = 0 if inline else 1
            return skip, n
        return 0, min(n, u)

    def urgent_passed(self) -> None:
        """A read moved: once it is past the urgent byte, the urgent data is gone."""
        if self.urg_state and self._copied_off() > self.urg_off:
            self.urg_state = 0

    def at_mark(self) -> bool:
        """SIOCATMARK: the next byte a read returns is the urgent byte."""
        return bool(self.urg_state) and self.urg_off == self._copied_off()

    def recv_urgent(self, peek: bool, inline: bool) -> int:
        """tcp_recv_urg: the urgent byte (KernelError EINVAL, ENOTCONN or EAGAIN), or
        -1 at end of stream (recv returns 0)."""
        if inline or not self.urg_state or self.urg_state == URG_READ:
            raise KernelError(errno.EINVAL)
        if self.state.name == "CLOSE" and not self.fin_received:
            raise KernelError(errno.ENOTCONN)
        if self.urg_state == URG_VALID:
            if not peek:
                self.urg_state = URG_READ
            return self.urg_byte
        if self.state.name == "CLOSE" or self.rcv_shutdown:
            return -1
        raise KernelError(errno.EAGAIN)

    def urgent_readable(self) -> bool:
        """POLLPRI: urgent data to read."""
        return self.urg_state == URG_VALID

    def urgent_only(self, inline: bool) -> bool:
        """All a read could return is the urgent byte it skips (tcp_poll's target
        + 1): no POLLIN for it."""
        return (not inline and self.urg_state != 0 and len(self.rcvq) == 1
                and self.at_mark())
