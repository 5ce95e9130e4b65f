"""Ethernet II framing (IEEE 802.3 with an EtherType): parse a received frame, build
one to send, and print MAC addresses.

Layer: net. Calls abi/if_ether.py only.
"""

from __future__ import annotations

from ..abi.if_ether import ETH_ALEN, ETH_HLEN, ETH_ZLEN, ETHHDR

BROADCAST_MAC = b"\xff" * ETH_ALEN


def parse_frame(frame: bytes):
    """(destination, source, EtherType, payload), or None for a frame too short to
    have a header. The payload may carry padding up to the 60-byte minimum: the
    layer above trims it by its own length field."""
    if len(frame) < ETH_HLEN:
        return None
    dst, src, ethertype = ETHHDR.unpack_from(frame)
    return dst, src, ethertype, memoryview(frame)[ETH_HLEN:]


def build_frame(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> bytes:
    """A frame padded with zeros to the minimum length, as a card sends it."""
    frame = ETHHDR.pack(dst, src, ethertype) + bytes(payload)
    if len(frame) < ETH_ZLEN:
        frame += bytes(ETH_ZLEN - len(frame))
    return frame


def mac_text(mac: bytes) -> str:
    return ":".join("%02x" % b for b in mac)


def parse_mac(text: str) -> bytes:
    """52:54:00:12:34:56 -> 6 bytes; ValueError otherwise."""
    parts = text.split(":")
    if len(parts) != ETH_ALEN or not all(len(p) == 2 for p in parts):
        raise ValueError("not a MAC address: %r" % text)
    return bytes(int(p, 16) for p in parts)
