"""pyunik/net/checksum.py against RFC 1071's worked example and a plain-Python sum."""

import random

from pyunik.net.checksum import fold, internet_checksum, partial_sum, pseudo_header_sum


def _reference(data: bytes) -> int:
    if len(data) & 1:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def test_rfc1071_example():
    # RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert internet_checksum(data) == ~0xDDF2 & 0xFFFF


def test_known_ipv4_header():
    # A captured IPv4 header whose checksum field is b861.
    header = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert internet_checksum(header) == 0xB861
    filled = header[:10] + b"\xb8\x61" + header[12:]
    assert internet_checksum(filled) == 0


def test_matches_reference_for_odd_and_even_lengths():
    rng = random.Random(7)
    for n in (0, 1, 2, 3, 19, 20, 1499, 1500, 65535):
        data = rng.randbytes(n)
        assert internet_checksum(data) == _reference(data), n


def test_pseudo_header_and_payload_add_up():
    src, dst = bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2])
    payload = b"\x12\x34\x00\x50" + b"hello, world!"
    whole = src + dst + bytes([0, 6]) + len(payload).to_bytes(2, "big") + payload
    assert fold(partial_sum(payload, pseudo_header_sum(src, dst, 6, len(payload)))) == \
        _reference(whole)


def test_both_summing_paths_agree_on_the_edges():
    """Short data is summed as a big integer, long data with numpy: both give the
    reference on all-zero data, on data whose words add to a multiple of 0xffff
    (where a remainder of 0 must read as 0xffff), and with its checksum filled in."""
    from pyunik.net.checksum import SHORT
    rng = random.Random(11)
    for n in (2, 4, 6, SHORT - 2, SHORT - 1, SHORT, SHORT + 1, 3000):
        for data in (bytes(n), b"\xff" * n, (b"\x00\x01\xff\xfe" * n)[:n], rng.randbytes(n)):
            assert internet_checksum(data) == _reference(data), (n, data[:4])
            if n >= 4 and n % 2 == 0:
                filled = internet_checksum(bytes(2) + data[2:])
                whole = filled.to_bytes(2, "big") + data[2:]
                assert internet_checksum(whole) == 0 == _reference(whole), n
