"""A DNS responder's answers (RFC 1035): the user-mode network's server at 10.0.2.3
answers A queries from a table of names (the guest's /etc/hosts and --dns NAME=IP
entries), NOERROR with no answer for other types of a known name, NXDOMAIN for
names it does not know (it forwards nothing to the host's resolvers).

Layer: net. Calls abi/nameser.py only; sans-IO (a query in, an answer out).
"""

from __future__ import annotations

import ipaddress

from ..abi import nameser as N


def parse_hosts(text: str) -> dict[str, bytes]:
    """An /etc/hosts file's IPv4 names: name (lower case) -> address."""
    table: dict[str, bytes] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        try:
            addr = ipaddress.IPv4Address(fields[0]).packed
        except ValueError:
            continue                              # IPv6 lines and junk
        for name in fields[1:]:
            table.setdefault(name.lower().rstrip("."), addr)
    return table


def _question(query: bytes):
    """(name, qtype, qclass, end offset) of the first question, or None."""
    pos, labels = N.DNS_HEADER.size, []
    while True:
        if pos >= len(query):
            return None
        n = query[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0 or pos + 1 + n > len(query):
            return None                           # no compression in a question
        labels.append(query[pos + 1:pos + 1 + n])
        pos += 1 + n
        if pos > N.NS_MAXDNAME:
            return None
    if pos + N.DNS_QUESTION_TAIL.size > len(query):
        return None
    qtype, qclass = N.DNS_QUESTION_TAIL.unpack_from(query, pos)
    try:
        name = b".".join(labels).decode("ascii").lower()
    except UnicodeDecodeError:
        return None
    return name, qtype, qclass, pos + N.DNS_QUESTION_TAIL.size


def answer(query: bytes, table: dict[str, bytes], ttl: int = 60) -> bytes | None:
    """The response to one query message, or None for something not worth one (too
    short, or itself a response)."""
    if len(query) < N.DNS_HEADER.size:
        return None
    ident, flags, qdcount, _, _, _ = N.DNS_HEADER.unpack_from(query)
    if flags & N.DNS_QR:
        return None
    reply_flags = N.DNS_QR | N.DNS_AA | N.DNS_RA | (flags & (N.DNS_OPCODE_MASK | N.DNS_RD))
    question = _question(query) if qdcount == 1 else None
    if question is None:
        return N.DNS_HEADER.pack(ident, reply_flags | N.NS_R_FORMERR, 0, 0, 0, 0)
    name, qtype, qclass, end = question
    if flags & N.DNS_OPCODE_MASK or qclass != N.NS_C_IN:
        return N.DNS_HEADER.pack(ident, reply_flags | N.NS_R_NOTIMP, 1, 0, 0, 0) \
            + query[N.DNS_HEADER.size:end]
    addr = table.get(name.rstrip("."))
    asked = query[N.DNS_HEADER.size:end]
    if addr is None:
        return N.DNS_HEADER.pack(ident, reply_flags | N.NS_R_NXDOMAIN, 1, 0, 0, 0) + asked
    if qtype != N.NS_T_A:
        return N.DNS_HEADER.pack(ident, reply_flags | N.NS_R_NOERROR, 1, 0, 0, 0) + asked
    record = N.DNS_ANSWER_A.pack(N.DNS_NAME_POINTER | N.DNS_HEADER.size, N.NS_T_A, N.NS_C_IN,
                                 ttl, 4, addr)
    return N.DNS_HEADER.pack(ident, reply_flags | N.NS_R_NOERROR, 1, 1, 0, 0) + asked + record
