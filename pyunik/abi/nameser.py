"""DNS messages (RFC 1035): glibc's include/arpa/nameser.h and nameser_compat.h, what
the guest's resolver sends to the DNS address. Linux facts only (libc's)."""

import struct

NS_DEFAULTPORT = 53
NS_MAXDNAME = 1025
# HEADER {id; qr:1 opcode:4 aa:1 tc:1 rd:1 ra:1 z:3 rcode:4; qdcount; ancount;
#   nscount; arcount;}
DNS_HEADER = struct.Struct("!HHHHHH")
DNS_QUESTION_TAIL = struct.Struct("!HH")           # qtype, qclass after the name
DNS_ANSWER_A = struct.Struct("!HHHIH4s")           # name pointer, type, class, ttl, rdlength, rdata
NS_T_A = 1
NS_T_AAAA = 28
NS_C_IN = 1
NS_R_NOERROR = 0
NS_R_FORMERR = 1
NS_R_NXDOMAIN = 3
NS_R_NOTIMP = 4
DNS_QR = 0x8000                       # a response
DNS_OPCODE_MASK = 0x7800
DNS_AA = 0x0400                       # authoritative answer
DNS_RD = 0x0100                       # recursion desired (copied back)
DNS_RA = 0x0080                       # recursion available
DNS_NAME_POINTER = 0xC000             # a compressed name: offset follows
