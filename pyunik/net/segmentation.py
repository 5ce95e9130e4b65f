"""TCP segmentation offload done in software (Linux's GSO, skb_segment for TCPv4): a
frame holding one IPv4 TCP segment larger than the MSS, as a stack hands it to a
card with TSO (virtio's VIRTIO_NET_HDR_GSO_TCPV4, gso_size = the MSS), cut into the
frames a wire carries.

    segment_tcp4(frame, mss) -> [frame, ...]

Each piece gets the Ethernet header, the IPv4 header with its total length, an
identifier one more than the last and its checksum, and the TCP header with the
sequence number moved on, FIN and PSH only on the last piece, CWR only on the first,
and a whole checksum (the big frame's may be partial: it is not read). ValueError for
a frame that is not Ethernet + IPv4 + TCP.

Layer: net (bottom of it). Calls net/checksum.py and abi/.
"""

from __future__ import annotations

from ..abi.if_ether import ETH_HLEN, ETH_P_IP, ETH_ZLEN, ETHHDR
from ..abi.inet import IPPROTO_TCP
from ..abi.ip import IPHDR
from ..abi.tcp import TCPHDR, TH_CWR, TH_FIN, TH_PSH
from .checksum import fold, internet_checksum, partial_sum, pseudo_header_sum


def segment_tcp4(frame, mss: int) -> list[bytes]:
    frame = bytes(frame)
    if len(frame) < ETH_HLEN + IPHDR.size + TCPHDR.size \
            or ETHHDR.unpack_from(frame)[2] != ETH_P_IP:
        raise ValueError("not an IPv4 frame")
    vihl, tos, total, ident, frag, ttl, proto, _, src, dst = IPHDR.unpack_from(frame, ETH_HLEN)
    ihl = (vihl & 0xF) * 4
    tcp = ETH_HLEN + ihl
    if vihl >> 4 != 4 or ihl < IPHDR.size or proto != IPPROTO_TCP \
            or len(frame) < tcp + TCPHDR.size:
        raise ValueError("not a TCP segment in IPv4")
    sport, dport, seq, ack, off_byte, flags, window, _, urgent = TCPHDR.unpack_from(frame, tcp)
    thl = (off_byte >> 4) * 4
    end = ETH_HLEN + total
    if thl < TCPHDR.size or tcp + thl > end or end > len(frame) or mss <= 0:
        raise ValueError("bad lengths in a TSO frame")
    ip_options = frame[ETH_HLEN + IPHDR.size:tcp]
    tcp_options = frame[tcp + TCPHDR.size:tcp + thl]
    payload = memoryview(frame)[tcp + thl:end]
    out = []
    for k, off in enumerate(range(0, max(len(payload), 1), mss)):
        piece = bytes(payload[off:off + mss])
        last = off + mss >= len(payload)
        fields = [vihl, tos, ihl + thl + len(piece), (ident + k) & 0xFFFF, frag, ttl, proto,
                  0, src, dst]
        fields[7] = internet_checksum(IPHDR.pack(*fields) + ip_options)
        ip = IPHDR.pack(*fields) + ip_options
        bits = flags & ~((0 if last else TH_FIN | TH_PSH) | (TH_CWR if k else 0))
        th = [sport, dport, (seq + off) & 0xFFFFFFFF, ack, off_byte, bits, window, 0, urgent]
        total_sum = pseudo_header_sum(src, dst, IPPROTO_TCP, thl + len(piece))
        total_sum = partial_sum(TCPHDR.pack(*th) + tcp_options, total_sum)
        th[7] = fold(partial_sum(piece, total_sum))
        wire = frame[:ETH_HLEN] + ip + TCPHDR.pack(*th) + tcp_options + piece
        out.append(wire + bytes(ETH_ZLEN - len(wire)) if len(wire) < ETH_ZLEN else wire)
    return out
