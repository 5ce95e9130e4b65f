"""pyunik/net/pcap.py: the frames through a card, written as a libpcap file and read
back with a reader written here from pcap-savefile(5), every IPv4 header, UDP and
ICMP checksum right."""

import io
import struct

import pytest

from pyunik.net.backend import PcapTap, Wire
from pyunik.net.checksum import fold, internet_checksum, partial_sum, pseudo_header_sum
from pyunik.net.datagram import DatagramQueue
from pyunik.net.icmp import build_icmp
from pyunik.net.pcap import PcapWriter
from pyunik.net.stack import Stack, ip
from pyunik.net.virtio.device import VirtioNetDevice
from pyunik.net.virtio.driver import VirtioNetDriver
from pyunik.net.virtio.memory import BufferMemory


def read_pcap(data: bytes):
    magic, major, minor, zone, sigfigs, snaplen, linktype = struct.unpack_from("<IHHiIII", data)
    assert (magic, major, minor, zone, sigfigs) == (0xA1B2C3D4, 2, 4, 0, 0)
    records, pos = [], 24
    while pos < len(data):
        sec, usec, caplen, length = struct.unpack_from("<IIII", data, pos)
        assert usec < 1_000_000 and caplen <= length and caplen <= snaplen
        records.append((sec, usec, data[pos + 16:pos + 16 + caplen]))
        pos += 16 + caplen
    assert pos == len(data)
    return linktype, records


def test_a_capture_reads_back_with_every_checksum_right():
    clock = iter(range(1_700_000_000_000_000_000, 1 << 62, 1_500_000)).__next__
    out = io.BytesIO()
    writer = PcapWriter(out)
    wire = Wire()
    memory = BufferMemory(2 << 20, 0x40000)
    device = VirtioNetDevice(memory, bytes.fromhex("525400123456"),
                             PcapTap(wire.a, writer, clock))
    driver = VirtioNetDriver(device, memory, 0x40000, 2 << 20, 64)
    guest = Stack.guest(driver, driver.probe())
    host = Stack("host")
    host.add_interface("eth0", "10.0.2.2", 24, 1500, wire.b, bytes.fromhex("525400000202"))
    q = DatagramQueue()
    host.udp_bind(ip("10.0.2.2"), 53, q)
    guest.udp_send(ip("10.0.2.15"), 999, ip("10.0.2.2"), 53, b"q" * 3000, 0)
    guest.udp_send(ip("10.0.2.15"), 999, ip("10.0.2.2"), 54, b"nobody", 0)
    guest.send_ip(ip("10.0.2.15"), ip("10.0.2.2"), 1, build_icmp(8, 0, 1, 1, b"ping"), 0)
    for _ in range(4):
        guest.poll(0)
        host.poll(0)
    assert len(q.items) == 1
    linktype, records = read_pcap(out.getvalue())
    assert linktype == 1 and len(records) == writer.frames
    kinds = {"arp": 0, "udp": 0, "icmp": 0, "fragment": 0}
    for sec, usec, frame in records:
        assert sec >= 1_700_000_000
        ethertype = struct.unpack("!H", frame[12:14])[0]
        if ethertype == 0x0806:
            kinds["arp"] += 1
            continue
        assert ethertype == 0x0800
        packet = frame[14:]
        ihl = (packet[0] & 15) * 4
        assert internet_checksum(packet[:ihl]) == 0
        total = struct.unpack("!H", packet[2:4])[0]
        body = packet[ihl:total]
        if struct.unpack("!H", packet[6:8])[0] & 0x3FFF:
            kinds["fragment"] += 1
            if struct.unpack("!H", packet[6:8])[0] & 0x1FFF:
                continue
        if packet[9] == 17 and not struct.unpack("!H", packet[6:8])[0] & 0x2000:
            kinds["udp"] += 1
            assert fold(partial_sum(body, pseudo_header_sum(packet[12:16], packet[16:20], 17,
                                                            len(body)))) == 0
        elif packet[9] == 1:
            kinds["icmp"] += 1
            assert internet_checksum(body) == 0
    # ARP both ways, the fragments of the big datagram, the small one, the ping and
    # its reply, and the port unreachable.
    assert kinds["arp"] == 2 and kinds["fragment"] == 3
    assert kinds["udp"] == 1 and kinds["icmp"] == 3
    stamps = [(s, u) for s, u, _ in records]
    assert stamps == sorted(stamps)


def test_snaplen_cuts_frames_but_keeps_their_length():
    out = io.BytesIO()
    writer = PcapWriter(out, snaplen=64)
    writer.write(bytes(1000), 1_999_999_999_456_789_123)
    _, records = read_pcap(out.getvalue())
    assert records == [(1_999_999_999, 456_789, bytes(64))]
    assert struct.unpack_from("<I", out.getvalue(), 24 + 12)[0] == 1000


def _tcp_capture(path) -> None:
    """A TCP exchange through a forward (50,000 bytes from a host client to a guest
    listener), captured by --pcap's writer into path."""
    import socket
    import time

    from pyunik.errors import KernelError
    from pyunik.net.network import Network

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with open(path, "wb") as out:
        net = Network.configure("user,hostfwd=tcp:127.0.0.1:%d-:80" % port, pcap=out,
                                realtime=time.time_ns)
        listener = net.stack.tcp.listen((b"\0\0\0\0", 80), 4)
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.sendall(b"x" * 50000)
        client.shutdown(socket.SHUT_WR)
        got, conn, end = 0, None, time.monotonic() + 10
        while got < 50000 and time.monotonic() < end:
            net.poll(time.monotonic_ns())
            try:
                conn = conn or listener.accept()
                got += len(conn.recv(1 << 20, time.monotonic_ns()))
            except KernelError:
                pass
        assert got == 50000
        client.close()
        net.close()


def test_dpkt_reads_a_tcp_capture_with_every_checksum_right(tmp_path):
    """A TCP exchange through a forward, captured by --pcap's writer, read by dpkt:
    Ethernet link type, every IPv4 header and TCP checksum right, no frame over the
    MTU (the card's offloads are undone in the capture)."""
    dpkt = pytest.importorskip("dpkt")
    path = tmp_path / "eth0.pcap"
    _tcp_capture(path)
    with open(path, "rb") as f:
        reader = dpkt.pcap.Reader(f)
        assert reader.datalink() == dpkt.pcap.DLT_EN10MB
        tcp_segments = 0
        for _, buf in reader:
            eth = dpkt.ethernet.Ethernet(buf)
            if not isinstance(eth.data, dpkt.ip.IP):
                continue
            packet = eth.data
            raw = bytes(buf[14:14 + packet.len])
            assert internet_checksum(raw[:packet.hl * 4]) == 0
            assert len(buf) <= 14 + 1500          # TSO packets are recorded as the wire's
            if isinstance(packet.data, dpkt.tcp.TCP):
                tcp_segments += 1
                segment = raw[packet.hl * 4:]
                assert dpkt.in_cksum(struct.pack(">4s4sxBH", packet.src, packet.dst, 6,
                                                 len(segment)) + segment) == 0
    assert tcp_segments > 30


def test_tshark_reads_a_tcp_capture_without_warnings(tmp_path):
    """The same capture read by tshark (Wireshark's dissectors), checksums checked:
    no expert warning or error, nothing on stderr but tshark's note about root."""
    import shutil
    import subprocess

    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark is not installed (Debian's tshark package)")
    path = tmp_path / "eth0.pcap"
    _tcp_capture(path)
    checks = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
              "-o", "udp.check_checksum:TRUE"]
    run = subprocess.run([tshark, "-n", "-r", str(path), *checks, "-q", "-z", "expert,warn"],
                         capture_output=True, text=True, timeout=120)
    stderr = [line for line in run.stderr.splitlines()
              if line and not line.startswith("Running as user")]
    assert (run.returncode, stderr) == (0, [])
    assert "Errors" not in run.stdout and "Warns" not in run.stdout, run.stdout
    listed = subprocess.run([tshark, "-n", "-r", str(path), *checks, "-T", "fields",
                             "-e", "tcp.len"], capture_output=True, text=True, timeout=120)
    lengths = [int(x) for x in listed.stdout.split() if x]
    assert sum(lengths) == 50000 and len(lengths) > 30
