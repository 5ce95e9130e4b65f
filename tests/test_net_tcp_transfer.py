"""pyunik/net/tcp*.py moving data and taking connections: several MB over a link
that drops, reorders, duplicates and corrupts segments (seeded), sequence numbers
wrapping past 2**32, window scaling, zero windows and their probes, out-of-order
reassembly, a listener's backlog, a SYN flood against bounded memory with SYN
cookies, and hostile segments thrown at an open connection."""

import random
import tracemalloc

import pytest
from tcp_link import A_ADDR, B_ADDR, MS, SECOND, Link, Pump, establish

from pyunik.abi.tcp import TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN
from pyunik.net.tcp import TcpConfig
from pyunik.net.tcp_segment import TcpSegment, TcpState, seq_add

S = TcpState


def _cfg(**kw):
    kw.setdefault("secret", b"t" * 16)
    kw.setdefault("time_wait_ns", SECOND)
    return TcpConfig(**kw)


def _both_ways(link, client, server, size_a, size_b, seed=5):
    rng = random.Random(seed)
    up, down = rng.randbytes(size_a), rng.randbytes(size_b)
    p1 = Pump(link, client, server, up)
    p2 = Pump(link, server, client, down)
    assert link.run(lambda: p1() & p2(), limit=3600 * SECOND)
    assert bytes(p1.got) == up and bytes(p2.got) == down


@pytest.mark.parametrize("seed", [3, 8])
def test_megabytes_survive_drops_reordering_and_duplicates(seed):
    link = Link(seed=seed, drop=0.05, reorder=0.05, duplicate=0.02, delay=5 * MS,
                config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    _both_ways(link, client, server, 3_000_000, 2_000_000, seed)
    assert client.counters["retransmitted"] > 0 and server.counters["ooo_segments"] > 0
    assert client.counters["fast_retransmits"] > 0
    client.close(link.now)
    server.close(link.now)
    assert link.run(lambda: client.state == server.state == S.CLOSE, limit=600 * SECOND)


def test_corrupted_segments_are_caught_by_the_checksum():
    link = Link(seed=2, corrupt=0.03, delay=2 * MS, config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    _both_ways(link, client, server, 500_000, 200_000)
    assert link.malformed > 0


def test_sequence_numbers_wrap_past_2_32():
    top = (1 << 32) - 3000
    link = Link(seed=6, drop=0.03, reorder=0.03, delay=3 * MS,
                config_a=_cfg(isn=lambda *a: top), config_b=_cfg(isn=lambda *a: top - 7))
    client, server, _ = establish(link)
    assert client.iss == top and server.iss == top - 7
    _both_ways(link, client, server, 400_000, 300_000)
    assert client.snd_una < 1_000_000 and server.snd_una < 1_000_000     # wrapped
    client.close(link.now)
    server.close(link.now)
    assert link.run(lambda: client.state == server.state == S.CLOSE, limit=600 * SECOND)


def test_out_of_order_segments_are_reassembled():
    link = Link(seed=9, reorder=0.3, delay=5 * MS, config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    _both_ways(link, client, server, 1_000_000, 10)
    assert server.counters["ooo_segments"] > 50
    assert server.ooo.bytes == 0 and not server.ooo.runs


def test_window_scaling_lets_more_than_64k_be_in_flight():
    link = Link(delay=50 * MS, config_a=_cfg(sndbuf=4 << 20), config_b=_cfg(rcvbuf=2 << 20))
    client, server, _ = establish(link)
    most = {"flight": 0}

    def watch():
        most["flight"] = max(most["flight"], client.snd_max - client.snd_una)
        return pump()
    pump = Pump(link, client, server, bytes(3_000_000))
    assert link.run(watch)
    assert client.snd_wscale == 7 and most["flight"] > 4 * 65535


def test_zero_window_probes_until_the_reader_reads():
    link = Link(delay=5 * MS, config_a=_cfg(), config_b=_cfg(rcvbuf=16384), trace=True)
    client, server, _ = establish(link)
    data = random.Random(1).randbytes(200_000)
    pump = Pump(link, client, server, data, read=False)
    pump()
    link.advance(60 * SECOND)
    assert client.snd_wnd == 0
    assert 16384 - 128 < server.readable_bytes() <= 16384   # whole units of 2**7
    probes = [t for (t, o, e, d) in link.traces if o is client and e == "probe"]
    assert len(probes) >= 4 and client.counters["zero_window_probes"] == len(probes)
    gaps = [b - a for a, b in zip(probes, probes[1:])]
    assert all(b >= a for a, b in zip(gaps, gaps[1:]))       # backing off
    assert client.state == S.ESTABLISHED
    # The reader drains but its window updates are lost: a probe finds the window.
    link.filter = lambda src, seg: not (src == B_ADDR and not seg.payload
                                        and seg.window > 0)
    pump.read = True
    pump()
    link.advance(200 * MS)
    link.filter = None
    assert link.run(pump, limit=600 * SECOND) and bytes(pump.got) == data


def test_listen_backlog_overflow_drops_syns_until_accept():
    link = Link(config_a=_cfg(), config_b=_cfg())
    listener = link.b.listen((B_ADDR, 80), 1)
    clients = [link.a.connection((A_ADDR, 41000 + i), (B_ADDR, 80)) for i in range(5)]
    for c in clients:
        c.connect(link.now)
    link.advance(500 * MS)
    assert len(listener.accept_queue) == 2            # backlog + 1, as Linux
    assert listener.counters["listen_overflows"] >= 3
    accepted = []
    while True:
        while listener.accept_queue:
            accepted.append(listener.accept())
        if len(accepted) == 5:
            break
        assert link.run(lambda: listener.accept_queue, limit=60 * SECOND)
    assert sorted(c.remote[1] for c in accepted) == [41000 + i for i in range(5)]
    assert all(c.state == S.ESTABLISHED for c in clients)


def test_syn_flood_keeps_memory_bounded_and_real_clients_get_in():
    link = Link(config_a=_cfg(), config_b=_cfg(syn_backlog=128))
    listener = link.b.listen((B_ADDR, 80), 16)
    rng = random.Random(4)
    sent_back = []
    link.filter = lambda src, seg: sent_back.append(seg) or src != B_ADDR
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    for i in range(10_000):
        src = bytes([172, 16, rng.randrange(256), rng.randrange(1, 255)])
        syn = TcpSegment(rng.randrange(1024, 65536), 80, rng.randrange(1 << 32), 0, TH_SYN,
                         65535, mss=1460, wscale=7)
        link.b.segment_arrives(syn, src, B_ADDR, link.now)
        link.now += 10_000
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert len(listener.syn_queue) == 128
    assert listener.counters["syncookies_sent"] == 10_000 - 128
    assert grown < 4 << 20, grown                      # 128 half-open connections, no more
    assert len(sent_back) == 10_000                    # every SYN got a SYN,ACK
    link.filter = None
    client = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    client.connect(link.now)
    assert link.run(lambda: listener.accept_queue, limit=10 * SECOND)
    server = listener.accept()
    assert listener.counters["syncookies_ok"] == 1 and server.state == S.ESTABLISHED
    pump = Pump(link, client, server, b"through a cookie" * 10000)
    assert link.run(pump)
    # The half-open entries die after their SYN,ACK retries (1+2+4+8+16+32 s).
    link.advance(70 * SECOND)
    assert not listener.syn_queue


def test_a_forged_cookie_ack_gets_a_reset():
    link = Link(config_a=_cfg(), config_b=_cfg(syn_backlog=0))
    listener = link.b.listen((B_ADDR, 80), 4)
    before = len(link.log)
    link.b.segment_arrives(TcpSegment(5555, 80, 1000, 123456789, TH_ACK, 100), A_ADDR,
                           B_ADDR, link.now)
    (_, _, rst), = link.log[before:]
    assert rst.flags == TH_RST and rst.seq == 123456789
    assert listener.counters["syncookies_failed"] == 1 and not listener.accept_queue


def test_closing_a_listener_resets_connections_never_accepted():
    link = Link(config_a=_cfg(), config_b=_cfg())
    listener = link.b.listen((B_ADDR, 80), 4)
    client = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    client.connect(link.now)
    link.run(lambda: listener.accept_queue)
    link.b.unlisten(listener, link.now)
    link.run()
    assert client.state == S.CLOSE and client.take_error() != 0
    assert not link.b.connections and not link.b.listeners


def test_hostile_segments_leave_a_connection_working():
    link = Link(seed=12, delay=2 * MS, config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    rng = random.Random(12)
    flags = [TH_ACK, TH_ACK | TH_PSH, TH_SYN, TH_FIN | TH_ACK, TH_RST, TH_RST | TH_ACK,
             TH_SYN | TH_ACK, 0, 0xFF]
    for _ in range(3000):
        near = rng.random() < 0.5
        seq = seq_add(server.rcv_nxt, rng.randrange(-70000, 70000)) if near \
            else rng.randrange(1 << 32)
        ack = seq_add(server.snd_una, rng.randrange(-70000, 70000)) if near \
            else rng.randrange(1 << 32)
        f = rng.choice(flags)
        if f & TH_RST and seq == server.rcv_nxt:
            continue                                  # a reset at RCV.NXT is not hostile
        seg = TcpSegment(40000, 80, seq, ack, f, rng.randrange(65536),
                         rng.randbytes(rng.choice([0, 1, 100])),
                         mss=rng.choice([None, 1]), wscale=rng.choice([None, 14]))
        raw = seg.encode(A_ADDR, B_ADDR)
        link.inject(A_ADDR, B_ADDR, raw)
    assert server.state in (S.ESTABLISHED, S.CLOSE_WAIT)
    assert len(server.ooo) <= server.config.ooo_max_runs
    assert server.ooo.bytes <= server.rcvbuf


def test_many_tiny_out_of_order_pieces_stay_bounded():
    link = Link(config_a=_cfg(), config_b=_cfg(ooo_max_runs=32))
    client, server, _ = establish(link)
    for i in range(5000):
        seg = TcpSegment(40000, 80, seq_add(server.rcv_nxt, 2 + 2 * i),
                         server.snd_max, TH_ACK, 1000, b"x")
        server.segment_arrives(seg, link.now)
    assert len(server.ooo) == 32 and server.ooo.bytes == 32


def test_timers_of_many_connections_come_from_a_heap():
    """next_deadline() of a table with hundreds of connections does not ask each."""
    link = Link(config_a=_cfg(), config_b=_cfg(syn_backlog=512))
    listener = link.b.listen((B_ADDR, 80), 600)
    link.filter = lambda src, seg: src != A_ADDR or seg.flags == TH_SYN   # no final ACK
    clients = [link.a.connection((A_ADDR, 20000 + i), (B_ADDR, 80)) for i in range(300)]
    for c in clients:
        c.connect(link.now)
    link.advance(10 * MS)
    assert len(listener.syn_queue) == 300
    asked = {"n": 0}
    for child in listener.syn_queue.values():
        real = child.next_deadline

        def counting(real=real):
            asked["n"] += 1
            return real()
        child.next_deadline = counting
    assert link.b.next_deadline() == listener.next_deadline() == SECOND + MS
    assert asked["n"] <= 4
    link.run(lambda: link.now > 64 * SECOND, limit=70 * SECOND)
    assert not listener.syn_queue                      # all timed out through the heap
