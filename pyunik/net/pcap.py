"""The libpcap capture file writer (pcap-savefile(5)): a file header saying
LINKTYPE_ETHERNET, then one record per frame with its time and length, the format
tcpdump, Wireshark and dpkt read.

Layer: net. Calls abi/pcap.py and the file object it is given (any object with
write and flush).
"""

from __future__ import annotations

from ..abi import pcap as P


class PcapWriter:
    def __init__(self, file, snaplen: int = 65535, linktype: int = P.LINKTYPE_ETHERNET):
        self.file = file
        self.snaplen = snaplen
        self.frames = 0
        file.write(P.PCAP_FILE_HEADER.pack(P.PCAP_MAGIC, P.PCAP_VERSION_MAJOR,
                                           P.PCAP_VERSION_MINOR, 0, 0, snaplen, linktype))

    def write(self, frame: bytes, when_ns: int) -> None:
        """One frame seen at when_ns (ns since the epoch), cut to snaplen."""
        seconds, ns = divmod(when_ns, 1_000_000_000)
        kept = bytes(frame[:self.snaplen])
        self.file.write(P.PCAP_RECORD_HEADER.pack(seconds & 0xFFFFFFFF, ns // 1000, len(kept),
                                                  len(frame)) + kept)
        self.frames += 1

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()
