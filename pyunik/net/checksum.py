"""The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
complement sum of 16-bit big-endian words, as IPv4, ICMP, UDP and TCP carry it.

`internet_checksum(data)` is what goes in the header field (computed with the field
zero); over data that already holds a correct checksum it gives 0. `partial_sum`
and `fold` let TCP and UDP add their pseudo-header to a payload's sum without
copying the payload. A checksum left partial for a card to finish (Linux's
CHECKSUM_PARTIAL, virtio's NEEDS_CSUM: the field holds the pseudo-header's folded
sum, not complemented) is finished by `complete_checksum(frame, start, offset)`.
Bulk sums run in numpy: a 64 KB segment costs microseconds, not a Python loop over
32,768 words.

Layer: net (bottom of it). Calls numpy only.
"""

from __future__ import annotations

import numpy as np

_BE16 = np.dtype(">u2")
SHORT = 1024          # bytes under which a big integer sums faster than numpy


def partial_sum(data, initial: int = 0) -> int:
    """The unfolded sum of data's 16-bit big-endian words plus initial (an odd
    trailing byte is padded with a zero byte, as RFC 1071 says).

    Short data (headers) is summed as one big integer: 2**16 is 1 modulo 0xffff, so
    the number data spells is congruent to the sum of its words, and its remainder is
    that sum folded (0xffff standing for a non-zero multiple of 0xffff, as the end-
    around carry gives). numpy's fixed cost only pays off on longer data."""
    n = len(data)
    if n < SHORT:
        value = int.from_bytes(data, "big") << (8 if n & 1 else 0)
        rest = value % 0xFFFF
        return initial + (rest or (0xFFFF if value else 0))
    total = initial
    if n >= 2:
        words = np.frombuffer(data, dtype=_BE16, count=n // 2)
        total += int(words.sum(dtype=np.uint64))
    if n & 1:
        total += data[n - 1] << 8
    return total


def fold(total: int) -> int:
    """Fold carries back into 16 bits and take the one's complement."""
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def internet_checksum(data, initial: int = 0) -> int:
    """The checksum field for data (with its checksum field zero)."""
    return fold(partial_sum(data, initial))


def pseudo_header_sum(src: bytes, dst: bytes, protocol: int, length: int) -> int:
    """The IPv4 pseudo-header's unfolded sum (RFC 9293 3.1, RFC 768): source and
    destination address (4 bytes each), zero, protocol, and the TCP/UDP length."""
    return partial_sum(src + dst) + protocol + length


def partial_field(total: int) -> int:
    """What a partial checksum's field holds: the folded sum, not complemented."""
    return ~fold(total) & 0xFFFF


def complete_checksum(frame, start: int, offset: int) -> bytes:
    """frame with its partial checksum finished, as a card does for NEEDS_CSUM: the
    sum from start to the end (the field at start+offset holding the pseudo-header's
    sum) folded and complemented into that field. ValueError if the field is not
    inside the frame."""
    at = start + offset
    if start < 0 or offset < 0 or at + 2 > len(frame):
        raise ValueError("checksum field at %d+%d outside %d bytes" % (start, offset, len(frame)))
    check = fold(partial_sum(memoryview(frame)[start:]))
    return bytes(frame[:at]) + check.to_bytes(2, "big") + bytes(frame[at + 2:])
