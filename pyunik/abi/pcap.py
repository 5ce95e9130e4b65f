"""The libpcap capture file: libpcap's pcap/pcap.h and pcap/dlt.h (pcap-savefile(5)),
the format tcpdump, Wireshark and dpkt read. Not a Linux header: these are libpcap's
facts, kept here because every binary layout pyunik writes lives in abi/.
"""

import struct

PCAP_MAGIC = 0xA1B2C3D4               # microsecond timestamps, written in our byte order
PCAP_VERSION_MAJOR = 2
PCAP_VERSION_MINOR = 4
LINKTYPE_ETHERNET = 1                 # IEEE 802.3 Ethernet (DLT_EN10MB)
# struct pcap_file_header {u32 magic; u16 version_major; u16 version_minor;
#   i32 thiszone; u32 sigfigs; u32 snaplen; u32 linktype;}
PCAP_FILE_HEADER = struct.Struct("<IHHiIII")
# struct pcap_sf_pkthdr {u32 ts_sec; u32 ts_usec; u32 caplen; u32 len;}
PCAP_RECORD_HEADER = struct.Struct("<IIII")
