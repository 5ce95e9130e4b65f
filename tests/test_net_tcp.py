"""pyunik/net/tcp.py's state machine, connection by connection, over the simulated
link of tests/tcp_link.py: RFC 9293's transitions (active, passive and simultaneous
open and close), RST in every state and RFC 5961's challenge ACKs, TIME-WAIT,
retransmission timing on the fake clock, half-close, abort, poll bits and wait
queues. Segments always go through encode and decode."""

import errno

import pytest
from tcp_link import A_ADDR, B_ADDR, MS, SECOND, Link, Pump, establish

from pyunik.abi.eventpoll import EPOLLRDHUP
from pyunik.abi.poll import POLLERR, POLLHUP, POLLIN, POLLOUT
from pyunik.abi.tcp import TH_ACK, TH_FIN, TH_RST, TH_SYN
from pyunik.errors import KernelError
from pyunik.net.tcp import TcpConfig
from pyunik.net.tcp_segment import TcpSegment, TcpState, seq_add

S = TcpState


def _cfg(**kw):
    kw.setdefault("secret", b"k" * 16)
    kw.setdefault("time_wait_ns", 2 * SECOND)
    return TcpConfig(**kw)


def _states(link, conn):
    return [d for (_, o, e, d) in link.traces if o is conn and e == "state"]


def _flags(link, src):
    return [seg.flags for (_, s, seg) in link.log if s == src]


def _raises(errno_value, fn, *args):
    with pytest.raises(KernelError) as exc:
        fn(*args)
    assert exc.value.errno == errno_value


def test_three_way_handshake_and_options():
    link = Link(trace=True, config_a=_cfg(mss=1400), config_b=_cfg(rcvbuf=1 << 20))
    client, server, _ = establish(link)
    syn, synack, ack = [seg for (_, _, seg) in link.log[:3]]
    assert syn.flags == TH_SYN and syn.mss == 1400 and syn.wscale == 7
    assert synack.flags == TH_SYN | TH_ACK and synack.ack == seq_add(syn.seq, 1)
    assert synack.mss == 1460 and synack.wscale == 7
    assert ack.flags == TH_ACK and ack.seq == seq_add(syn.seq, 1)
    assert ack.ack == seq_add(synack.seq, 1)
    assert client.snd_mss == server.snd_mss == 1400
    assert client.snd_wscale == server.rcv_wscale == 7
    assert _states(link, client) == ["CLOSED -> SYN-SENT", "SYN-SENT -> ESTABLISHED"]
    assert _states(link, server) == ["CLOSED -> SYN-RECEIVED",
                                     "SYN-RECEIVED -> ESTABLISHED"]


def test_no_window_scaling_unless_both_offer_it():
    link = Link(config_a=_cfg(), config_b=_cfg(window_scaling=False))
    client, server, _ = establish(link)
    assert link.log[1][2].wscale is None
    assert (client.snd_wscale, client.rcv_wscale) == (0, 0)
    assert (server.snd_wscale, server.rcv_wscale) == (0, 0)
    assert link.log[0][2].mss == 1460 and client.info()["rcv_wnd"] <= 0xFFFF


def test_simultaneous_open():
    link = Link(trace=True, delay=10 * MS)
    a = link.a.connection((A_ADDR, 5000), (B_ADDR, 6000))
    b = link.b.connection((B_ADDR, 6000), (A_ADDR, 5000))
    a.connect(link.now)
    b.connect(link.now)
    assert link.run(lambda: a.state == b.state == S.ESTABLISHED, limit=SECOND)
    assert link.now < 100 * MS                    # no retransmission was needed
    for c in (a, b):
        assert _states(link, c) == ["CLOSED -> SYN-SENT", "SYN-SENT -> SYN-RECEIVED",
                                    "SYN-RECEIVED -> ESTABLISHED"]
    pump = Pump(link, a, b, b"x" * 10000)
    assert link.run(pump)


def test_active_and_passive_close():
    link = Link(trace=True, config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    client.close(link.now)
    assert link.run(lambda: server.state == S.CLOSE_WAIT)
    assert server.recv(100, link.now) == b""
    assert server.poll_events() & (POLLIN | EPOLLRDHUP) == POLLIN | EPOLLRDHUP
    server.close(link.now)
    link.advance(100 * MS)
    assert server.state == S.CLOSE and client.state == S.TIME_WAIT
    assert _states(link, client)[2:] == ["ESTABLISHED -> FIN-WAIT-1",
                                         "FIN-WAIT-1 -> FIN-WAIT-2",
                                         "FIN-WAIT-2 -> TIME-WAIT"]
    assert _states(link, server)[2:] == ["ESTABLISHED -> CLOSE-WAIT",
                                         "CLOSE-WAIT -> LAST-ACK", "LAST-ACK -> CLOSED"]
    entered = link.now
    link.run(lambda: client.state == S.CLOSE)
    assert 2 * SECOND - 100 * MS <= link.now - entered <= 2 * SECOND
    assert not link.a.connections and not link.b.connections


def test_simultaneous_close_goes_through_closing():
    link = Link(trace=True, config_a=_cfg(), config_b=_cfg(), delay=10 * MS)
    client, server, _ = establish(link)
    client.close(link.now)
    server.close(link.now)
    link.advance(100 * MS)
    for c in (client, server):
        assert _states(link, c)[2:] == ["ESTABLISHED -> FIN-WAIT-1",
                                        "FIN-WAIT-1 -> CLOSING", "CLOSING -> TIME-WAIT"]
    link.advance(3 * SECOND)
    assert client.state == server.state == S.CLOSE


def test_fin_wait_1_to_time_wait_on_a_fin_that_acknowledges_ours():
    link = Link(trace=True, config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    link.filter = lambda src, seg: not (src == B_ADDR and seg.flags == TH_ACK)
    client.close(link.now)
    link.run(lambda: server.state == S.CLOSE_WAIT)
    assert client.state == S.FIN_WAIT1            # the bare ACK of its FIN was lost
    server.close(link.now)                         # FIN,ACK: acknowledges the FIN too
    link.run(lambda: client.state == S.TIME_WAIT, limit=10 * MS)
    moves = [(t, d) for (t, o, e, d) in link.traces if o is client and e == "state"]
    assert [d for (_, d) in moves[-2:]] == ["FIN-WAIT-1 -> FIN-WAIT-2",
                                            "FIN-WAIT-2 -> TIME-WAIT"]
    assert moves[-1][0] == moves[-2][0]            # one segment did both


def test_time_wait_acks_a_retransmitted_fin_and_restarts():
    link = Link(config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    client.close(link.now)
    link.run(lambda: server.state == S.CLOSE_WAIT)
    drop_acks = {"on": True}
    link.filter = lambda src, seg: not (drop_acks["on"] and src == A_ADDR
                                        and seg.flags == TH_ACK)
    server.close(link.now)
    link.run(lambda: client.state == S.TIME_WAIT)
    entered = link.now
    # The server's FIN is retransmitted after its RTO; TIME-WAIT answers each time.
    link.advance(SECOND + 500 * MS)
    assert client.state == S.TIME_WAIT and server.state == S.LAST_ACK
    assert server.counters["retransmitted"] >= 1
    drop_acks["on"] = False
    link.run(lambda: server.state == S.CLOSE)
    restarted = link.now
    assert restarted > entered + 200 * MS
    link.run(lambda: client.state == S.CLOSE)
    assert link.now - restarted >= 2 * SECOND - 50 * MS


def test_a_new_syn_takes_over_time_wait():
    link = Link(config_a=_cfg(time_wait_ns=60 * SECOND), config_b=_cfg())
    listener = link.b.listen((B_ADDR, 80), 4)
    client = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    client.connect(link.now)
    link.run(lambda: listener.accept_queue)
    server = listener.accept()
    server.close(link.now)                       # the server closes first: its TIME-WAIT
    link.run(lambda: client.state == S.CLOSE_WAIT)
    client.close(link.now)
    link.run(lambda: server.state == S.TIME_WAIT and client.state == S.CLOSE)
    # Same 4-tuple, a higher ISN: the listener gets it (RFC 6191).
    client2 = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    client2.config = _cfg(isn=lambda *a: seq_add(server.rcv_nxt, 100000))
    client2.connect(link.now)
    assert link.run(lambda: client2.state == S.ESTABLISHED and listener.accept_queue,
                    limit=SECOND)
    assert server.state == S.CLOSE and listener.accept() is not server


def test_connect_to_a_closed_port_is_refused():
    link = Link()
    client = link.a.connection((A_ADDR, 40000), (B_ADDR, 81))
    client.connect(link.now)
    link.run(lambda: client.state == S.CLOSE)
    assert client.take_error() == errno.ECONNREFUSED
    assert link.b.counters["resets_sent"] == 1
    assert client.recv(10, link.now) == b""          # tcp_done shut both sides


def _rst_into(link, conn, offset=0, ack=None):
    flags = TH_RST | (TH_ACK if ack is not None else 0)
    seg = TcpSegment(conn.remote[1], conn.local[1], seq_add(conn.rcv_nxt, offset),
                     ack or 0, flags)
    before = len(link.log)
    conn.segment_arrives(seg, link.now)
    return link.log[before:]


def _connection_in(state):
    """(link, connection in state) by dropping what keeps it there."""
    link = Link(config_a=_cfg(), config_b=_cfg())
    if state == S.SYN_SENT:
        link.filter = lambda src, seg: src != A_ADDR
        c = link.a.connection((A_ADDR, 1), (B_ADDR, 2))
        c.connect(0)
        return link, c
    client, server, _ = establish(link)
    if state == S.ESTABLISHED:
        return link, client
    if state in (S.FIN_WAIT1, S.CLOSING):
        if state == S.CLOSING:
            link.filter = lambda src, seg: not (seg.flags == TH_ACK)
            server.close(link.now)
        else:
            link.filter = lambda src, seg: src != A_ADDR
        client.close(link.now)
        link.advance(10 * MS)
        return link, client
    client.close(link.now)
    link.run(lambda: server.state == S.CLOSE_WAIT and client.state == S.FIN_WAIT2)
    if state == S.FIN_WAIT2:
        return link, client
    if state == S.CLOSE_WAIT:
        return link, server
    if state == S.LAST_ACK:
        link.filter = lambda src, seg: src != A_ADDR
        server.close(link.now)
        link.advance(10 * MS)
        return link, server
    server.close(link.now)
    link.run(lambda: client.state == S.TIME_WAIT)
    return link, client


@pytest.mark.parametrize("state,err", [
    (S.ESTABLISHED, errno.ECONNRESET), (S.FIN_WAIT1, errno.ECONNRESET),
    (S.FIN_WAIT2, errno.ECONNRESET), (S.CLOSE_WAIT, errno.EPIPE),
    (S.CLOSING, errno.ECONNRESET), (S.LAST_ACK, errno.ECONNRESET), (S.TIME_WAIT, 0)],
    ids=lambda v: getattr(v, "name", str(v)))
def test_rst_in_each_synchronized_state(state, err):
    link, conn = _connection_in(state)
    assert conn.state == state
    wnd = conn.info()["rcv_wnd"]
    # Out of the window: dropped without a word.
    if wnd:
        assert _rst_into(link, conn, offset=wnd + 10) == [] and conn.state == state
        # In the window but not at RCV.NXT: a challenge ACK (RFC 5961 3.2).
        sent = _rst_into(link, conn, offset=1)
        assert [s.flags for (_, _, s) in sent] == [TH_ACK] and conn.state == state
        assert conn.counters["challenge_acks"] == 1
    assert _rst_into(link, conn) == []
    assert conn.state == S.CLOSE and conn.take_error() == err
    assert conn.poll_events() & POLLHUP


def test_rst_in_syn_sent_needs_an_acceptable_ack():
    link, conn = _connection_in(S.SYN_SENT)
    conn.segment_arrives(TcpSegment(2, 1, 0, 0, TH_RST), link.now)
    assert conn.state == S.SYN_SENT              # no ACK: ignored
    sent = _rst_into(link, conn, ack=seq_add(conn.iss, 5))
    assert conn.state == S.SYN_SENT and sent == []
    conn.segment_arrives(TcpSegment(2, 1, 0, seq_add(conn.iss, 1), TH_RST | TH_ACK),
                         link.now)
    assert conn.state == S.CLOSE and conn.take_error() == errno.ECONNREFUSED


def test_syn_sent_answers_a_bad_ack_with_a_reset():
    link, conn = _connection_in(S.SYN_SENT)
    link.filter = None
    before = len(link.log)
    conn.segment_arrives(TcpSegment(2, 1, 500, seq_add(conn.iss, 9), TH_SYN | TH_ACK),
                         link.now)
    (_, _, rst), = link.log[before:]
    assert rst.flags == TH_RST and rst.seq == seq_add(conn.iss, 9)
    assert conn.state == S.SYN_SENT


def test_rst_to_a_half_open_connection_returns_the_listener_to_listen():
    link = Link(config_a=_cfg(), config_b=_cfg())
    listener = link.b.listen((B_ADDR, 80), 4)
    link.filter = lambda src, seg: src != B_ADDR      # the SYN,ACK never arrives
    client = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    client.connect(link.now)
    link.advance(10 * MS)
    (child,) = listener.syn_queue.values()
    assert child.state == S.SYN_RECV
    rst = TcpSegment(40000, 80, child.rcv_nxt, 0, TH_RST)
    link.b.segment_arrives(rst, A_ADDR, B_ADDR, link.now)
    assert child.state == S.CLOSE and not listener.syn_queue
    assert child.take_error() == 0 and listener.state == S.LISTEN


def test_syn_and_bad_acks_in_established_earn_challenge_acks():
    link = Link(config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    before = len(link.log)
    server.segment_arrives(TcpSegment(40000, 80, server.rcv_nxt, 0, TH_SYN), link.now)
    server.segment_arrives(TcpSegment(40000, 80, seq_add(server.rcv_nxt, 7), 0, TH_SYN),
                           link.now)
    # An ACK of data never sent is answered with an ACK and dropped.
    server.segment_arrives(TcpSegment(40000, 80, server.rcv_nxt,
                                      seq_add(server.snd_max, 10), TH_ACK, 100, b"zz"),
                           link.now)
    assert [s.flags for (_, _, s) in link.log[before:]] == [TH_ACK] * 3
    assert server.state == S.ESTABLISHED and server.counters["challenge_acks"] == 2
    assert server.readable_bytes() == 0
    link.run()
    assert client.state == server.state == S.ESTABLISHED


def test_challenge_acks_are_rate_limited():
    link = Link(config_a=_cfg(), config_b=_cfg(challenge_ack_limit=5))
    _, server, _ = establish(link)
    for _ in range(50):
        server.segment_arrives(TcpSegment(40000, 80, server.rcv_nxt, 0, TH_SYN), link.now)
    assert server.counters["challenge_acks"] == 5


def test_syn_retransmission_timing_and_timeout():
    link = Link(config_a=_cfg(), trace=True)
    link.filter = lambda src, seg: src != A_ADDR
    client = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    client.connect(link.now)
    link.run(lambda: client.state == S.CLOSE, limit=300 * SECOND)
    sent = [t for (t, src, seg) in link.log if seg.flags == TH_SYN]
    assert sent == [s * SECOND for s in (0, 1, 3, 7, 15, 31, 63)]
    assert link.now == 127 * SECOND               # Linux: tcp_syn_retries=6
    assert client.take_error() == errno.ETIMEDOUT


def test_data_retransmission_follows_the_rto():
    link = Link(config_a=_cfg(), config_b=_cfg(), delay=50 * MS, trace=True)
    client, server, _ = establish(link)
    pump = Pump(link, client, server, b"a" * 20000)
    link.run(pump)
    link.run()                                   # the last ACKs arrive: nothing in flight
    rto = client.rto.rto
    assert 100 * MS <= client.rto.srtt <= 140 * MS      # the path, or a delayed ACK
    assert rto == client.rto.srtt + 4 * client.rto.rttvar and 200 * MS < rto < 500 * MS
    link.filter = lambda src, seg: src != A_ADDR             # the path dies
    t0 = link.now
    client.send(b"b" * 100, link.now)
    link.advance(60 * SECOND)
    sent = [t - t0 for (t, src, seg) in link.log if src == A_ADDR and t >= t0]
    assert sent[:5] == [0, rto, 3 * rto, 7 * rto, 15 * rto]
    assert client.counters["timeouts"] >= 4
    assert any(e == "rto" for (_, _, e, _) in link.traces)
    link.filter = None
    pump2 = Pump(link, client, server, b"b" * 100)
    assert link.run(pump2, limit=200 * SECOND)


def test_fast_retransmit_on_three_duplicate_acks():
    link = Link(config_a=_cfg(), config_b=_cfg(), delay=50 * MS, trace=True)
    client, server, _ = establish(link)
    warm = Pump(link, client, server, b"w" * 50000)
    link.run(warm)
    lost = {"seq": seq_add(client.snd_nxt, 1460 * 2), "done": False}

    def drop_once(src, seg):
        if src == A_ADDR and seg.seq == lost["seq"] and seg.payload and not lost["done"]:
            lost["done"] = True
            return False
        return True
    link.filter = drop_once
    data = bytes(range(256)) * 100
    t0 = link.now
    pump = Pump(link, client, server, data)
    assert link.run(pump)
    assert lost["done"] and bytes(pump.got) == data
    assert client.counters["fast_retransmits"] == 1 and client.counters["timeouts"] == 0
    assert link.now - t0 < client.rto.rto + 200 * MS
    assert any(e == "fast-retransmit" for (_, _, e, _) in link.traces)


def test_half_close_keeps_the_other_direction():
    link = Link(config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    client.send(b"request", link.now)
    client.shutdown(1, link.now)                 # SHUT_WR
    _raises(errno.EPIPE, client.send, b"more", link.now)
    link.run(lambda: server.state == S.CLOSE_WAIT)
    assert server.recv(100, link.now) == b"request"
    assert server.recv(100, link.now) == b""
    reply = b"r" * 300000
    pump = Pump(link, server, client, reply)
    assert link.run(pump) and bytes(pump.got) == reply
    assert client.state == S.FIN_WAIT2
    server.close(link.now)
    link.run(lambda: client.state == S.TIME_WAIT)
    assert client.recv(10, link.now) == b""


def test_abort_resets_the_peer():
    link = Link(config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    server.send(b"unread", link.now)
    link.run()
    client.abort(link.now)
    assert client.state == S.CLOSE and client.take_error() == 0
    link.run()
    assert server.state == S.CLOSE
    _raises(errno.ECONNRESET, server.send, b"x", link.now)
    _raises(errno.EPIPE, server.send, b"x", link.now)


def test_close_with_unread_data_sends_a_reset():
    link = Link(config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    server.send(b"you will not read this", link.now)
    link.run(lambda: client.readable_bytes())
    client.close(link.now)
    assert client.state == S.CLOSE and _flags(link, A_ADDR)[-1] == TH_RST
    link.run()
    assert server.state == S.CLOSE and server.take_error() == errno.ECONNRESET


def test_recv_after_a_reset_gives_the_data_then_the_error_then_eof():
    link = Link(config_a=_cfg(), config_b=_cfg())
    client, server, _ = establish(link)
    server.send(b"last words", link.now)
    link.run()
    server.abort(link.now)
    link.run()
    assert client.recv(100, link.now) == b"last words"
    _raises(errno.ECONNRESET, client.recv, 100, link.now)
    assert client.recv(100, link.now) == b""


def test_poll_events_through_a_connection_life():
    link = Link(config_a=_cfg(), config_b=_cfg())
    listener = link.b.listen((B_ADDR, 80), 4)
    client = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    assert client.poll_events() == POLLOUT | 0x100 | POLLHUP    # never connected
    client.connect(link.now)
    assert client.poll_events() == 0
    assert listener.poll_events() == 0
    link.run(lambda: listener.accept_queue)
    assert listener.poll_events() & POLLIN
    server = listener.accept()
    link.run()
    assert client.poll_events() & (POLLIN | POLLOUT) == POLLOUT
    server.send(b"hi", link.now)
    link.run()
    assert client.poll_events() & POLLIN
    server.abort(link.now)
    link.run()
    assert client.poll_events() & (POLLERR | POLLHUP | POLLIN) == POLLERR | POLLHUP | POLLIN


class _Waiter:
    def __init__(self):
        self.woken = 0

    def wake(self):
        self.woken += 1


def test_wait_queues_wake_readers_writers_and_acceptors():
    link = Link(config_a=_cfg(sndbuf=4096), config_b=_cfg())
    listener = link.b.listen((B_ADDR, 80), 4)
    acceptor = _Waiter()
    listener.acceptors.add(acceptor)
    client = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    connector = _Waiter()
    client.writers.add(connector)
    client.connect(link.now)
    link.run()
    assert acceptor.woken == 1 and connector.woken == 1
    server = listener.accept()
    reader = _Waiter()
    server.readers.add(reader)
    assert client.send(b"z" * 10000, link.now) == 4096
    _raises(errno.EAGAIN, client.send, b"z", link.now)
    writer = _Waiter()
    client.writers.add(writer)
    link.run()
    assert reader.woken == 1 and writer.woken == 1


def test_keepalive_probes_an_idle_peer_and_gives_up():
    cfg = _cfg(keepalive=True, keepalive_idle_ns=10 * SECOND,
               keepalive_interval_ns=SECOND, keepalive_probes=3)
    link = Link(config_a=cfg, config_b=_cfg(), trace=True)
    client, server, _ = establish(link)
    link.advance(35 * SECOND)
    assert client.state == S.ESTABLISHED
    assert client.counters["keepalive_probes"] == 3      # one each 10 s, answered
    link.filter = lambda src, seg: src != B_ADDR          # the peer vanishes
    t0 = link.now
    link.run(lambda: client.state == S.CLOSE, limit=60 * SECOND)
    assert client.take_error() == errno.ETIMEDOUT
    assert link.now - t0 <= 10 * SECOND + 3 * SECOND + 10 * MS
    assert _flags(link, A_ADDR)[-1] == TH_RST


def test_nagle_holds_small_segments_and_nodelay_does_not():
    for nodelay, expect in ((False, 2), (True, 10)):
        link = Link(config_a=_cfg(nodelay=nodelay), config_b=_cfg(), delay=50 * MS)
        client, server, _ = establish(link)
        before = len(link.log)
        for _ in range(10):
            client.send(b"tiny", link.now)                # all at one instant
        link.run()
        sent = [s for (_, src, s) in link.log[before:] if src == A_ADDR and s.payload]
        assert len(sent) == expect, nodelay
        assert b"".join(s.payload for s in sent) == b"tiny" * 10


def test_trace_names_states_and_retransmissions():
    link = Link(config_a=_cfg(), config_b=_cfg(), trace=True, drop=0.2, seed=4)
    client, server, _ = establish(link)
    pump = Pump(link, client, server, b"t" * 100000)
    assert link.run(pump)
    events = {e for (_, _, e, _) in link.traces}
    assert {"state", "retransmit"} <= events
    assert client.info()["retransmitted"] == client.counters["retransmitted"] > 0


def test_fin_wait_2_of_an_orphan_times_out():
    link = Link(config_a=_cfg(fin_timeout_ns=5 * SECOND), config_b=_cfg())
    client, server, _ = establish(link)
    client.close(link.now)
    link.run(lambda: client.state == S.FIN_WAIT2)
    t0 = link.now
    link.run(lambda: client.state == S.CLOSE, limit=10 * SECOND)
    assert link.now - t0 == 5 * SECOND and server.state == S.CLOSE_WAIT


def test_info_for_proc_net_tcp():
    link = Link(config_a=_cfg(), config_b=_cfg())
    client, server, listener = establish(link)
    client.send(b"q" * 5000, link.now)
    info = client.info()
    assert info["state"] == S.ESTABLISHED and info["tx_queue"] == 5000
    assert info["timer_active"] == 1 and info["timer_expires"] > link.now
    rows = link.b.entries()
    assert rows[0]["state"] == S.LISTEN and rows[0]["backlog"] == 8
    assert rows[1]["local"] == (B_ADDR, 80) and rows[1]["remote"] == (A_ADDR, 40000)


def test_proc_net_tcp_has_linux_layout():
    link = Link(config_a=_cfg(time_wait_ns=60 * SECOND), config_b=_cfg())
    client, server, listener = establish(link, port=0x1F90, cport=0xA000)
    server.send(b"s" * 300, link.now)
    link.run()
    text = link.b.proc_net_tcp(link.now, owner=lambda obj: (1000, 4242))
    lines = text.split("\n")
    assert lines[-1] == "" and all(len(line) == 149 for line in lines[:-1])
    with open("/proc/net/tcp") as f:                   # the host's, same header
        assert lines[0] == f.readline().rstrip("\n")
    listen, est = lines[1].split(), lines[2].split()
    assert listen[:5] == ["0:", "0200000A:1F90", "00000000:0000", "0A", "00000000:00000000"]
    assert listen[7:10] == ["1000", "0", "4242"]
    assert est[:5] == ["1:", "0200000A:1F90", "0100000A:A000", "01", "00000000:00000000"]
    assert est[5] == "00:00000000" and est[15] == "10" and est[16] == "-1"
    assert client.recv(1000, link.now) == b"s" * 300
    client.close(link.now)
    link.run(lambda: server.state == S.CLOSE_WAIT)
    server.close(link.now)
    link.run(lambda: server.state == S.CLOSE and client.state == S.TIME_WAIT)
    tw = link.a.proc_net_tcp(link.now).split("\n")[1].split()
    assert tw[3] == "06" and tw[5][:3] == "03:" and int(tw[5][3:], 16) in (5999, 6000)


def test_turning_nodelay_on_sends_what_nagle_held():
    link = Link(config_a=_cfg(), config_b=_cfg(), delay=50 * MS)
    client, server, _ = establish(link)
    client.send(b"a" * 100, link.now)
    client.send(b"b" * 100, link.now)              # held: the first is in flight
    held = [s for (_, src, s) in link.log if src == A_ADDR and s.payload]
    assert len(held) == 1
    client.set_nodelay(True, link.now)
    sent = [s for (_, src, s) in link.log if src == A_ADDR and s.payload]
    assert len(sent) == 2 and sent[1].payload == b"b" * 100


def test_buffer_sizes_bound_what_send_takes_and_the_window():
    link = Link(config_a=_cfg(), config_b=_cfg())
    listener = link.b.listen((B_ADDR, 80), 4)
    client = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    client.set_buffer_sizes(rcvbuf=8192, sndbuf=5000)
    client.connect(link.now)
    link.run(lambda: listener.accept_queue)
    server = listener.accept()
    assert client.send(bytes(20000), link.now) == 5000
    server.send(bytes(100000), link.now)
    link.run()
    assert 8192 - 128 < client.readable_bytes() <= 8192 and client.info()["rcv_wnd"] < 128


def test_icmp_errors_fail_an_opening_connection_and_follow_an_open_one():
    link = Link(config_a=_cfg(retries2=3), config_b=_cfg())
    link.filter = lambda src, seg: src != A_ADDR
    opening = link.a.connection((A_ADDR, 40001), (B_ADDR, 80))
    opening.connect(link.now)
    link.a.icmp_error((A_ADDR, 40001), (B_ADDR, 80), seq_add(opening.iss, 5),
                      errno.EHOSTUNREACH, link.now)
    assert opening.state == S.SYN_SENT           # not a sequence number we sent
    link.a.icmp_error((A_ADDR, 40001), (B_ADDR, 80), opening.iss, errno.EHOSTUNREACH,
                      link.now)
    assert opening.state == S.CLOSE and opening.take_error() == errno.EHOSTUNREACH
    link.filter = None
    client, server, _ = establish(link, cport=40002)
    link.filter = lambda src, seg: src != A_ADDR
    client.send(b"lost", link.now)
    link.a.icmp_error(client.local, client.remote, client.snd_una, errno.ENETUNREACH,
                      link.now)
    assert client.state == S.ESTABLISHED and client.take_error() == 0
    link.run(lambda: client.state == S.CLOSE, limit=60 * SECOND)
    assert client.take_error() == errno.ENETUNREACH    # instead of ETIMEDOUT


def test_close_in_syn_sent_and_in_syn_received():
    link = Link(trace=True, config_a=_cfg(), config_b=_cfg(), delay=10 * MS)
    link.filter = lambda src, seg: src != B_ADDR
    c = link.a.connection((A_ADDR, 40000), (B_ADDR, 80))
    c.connect(link.now)
    before = len(link.log)
    c.close(link.now)                               # SYN-SENT -> CLOSED, nothing sent
    assert c.state == S.CLOSE and len(link.log) == before and not link.a.connections
    # A simultaneous open closed in SYN-RECEIVED: the FIN waits for ESTABLISHED.
    link = Link(trace=True, config_a=_cfg(), config_b=_cfg(), delay=10 * MS)
    a = link.a.connection((A_ADDR, 5000), (B_ADDR, 6000))
    b = link.b.connection((B_ADDR, 6000), (A_ADDR, 5000))
    a.connect(link.now)
    b.connect(link.now)
    link.run(lambda: a.state == S.SYN_RECV)
    a.close(link.now)
    assert a.state == S.SYN_RECV and not any(s.flags & TH_FIN for (_, _, s) in link.log)
    link.run(lambda: b.state == S.CLOSE_WAIT, limit=SECOND)
    assert _states(link, a)[-2:] == ["SYN-RECEIVED -> ESTABLISHED",
                                     "ESTABLISHED -> FIN-WAIT-1"]


def test_trace_lines_for_trace_tcp():
    link = Link(config_a=_cfg(), config_b=_cfg())
    lines = []
    link.b.set_trace(lines.append)
    client, server, listener = establish(link)
    assert lines[:2] == ["tcp 10.0.0.2:80 > 10.0.0.1:40000 state CLOSED -> SYN-RECEIVED",
                         "tcp 10.0.0.2:80 > 10.0.0.1:40000 state SYN-RECEIVED -> ESTABLISHED"]
    link.b.set_trace(None)
    assert listener.trace is None and server.trace is None
    link.b.segment_arrives(TcpSegment(40000, 80, 0, 0, TH_ACK), A_ADDR, B_ADDR, link.now)
    assert len(lines) == 2
    link.b.set_trace(lines.append)                  # existing connections hear it too
    link.b.segment_arrives(TcpSegment(40000, 80, 0, 0, TH_ACK), A_ADDR, B_ADDR, link.now)
    assert lines[-1].startswith("tcp 10.0.0.2:80 > 10.0.0.1:40000 drop sequence 0 outside")


def test_tcp_info_reads_like_linux():
    """struct tcp_info's first 104 bytes, laid out and filled as the host's Linux
    fills them for a fresh loopback connection and a listener."""
    import socket

    from pyunik.abi.tcp import TCP_INFO_LAYOUT, TCPI_OPT_WSCALE
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        with socket.create_connection(srv.getsockname()) as c:
            host = TCP_INFO_LAYOUT.unpack_from(c.getsockopt(socket.IPPROTO_TCP,
                                                            socket.TCP_INFO, 512))
            srv.accept()[0].close()
        host_listen = TCP_INFO_LAYOUT.unpack_from(srv.getsockopt(socket.IPPROTO_TCP,
                                                                 socket.TCP_INFO, 512))
    link = Link(config_a=_cfg(mss=65495), config_b=_cfg(mss=65495))
    client, server, listener = establish(link, backlog=1)
    ours = TCP_INFO_LAYOUT.unpack(client.tcp_info(link.now))
    ours_listen = TCP_INFO_LAYOUT.unpack(listener.tcp_info(link.now))
    for info in (host, ours):
        assert info[0] == 1 and info[1] == 0 and info[5] & TCPI_OPT_WSCALE
        assert info[6] & 0xF and info[6] >> 4            # both scales
        assert 200_000 <= info[8] <= 1_000_000            # rto, us
        assert info[12] == 0 and info[21] == 65535       # nothing unacked; pmtu of lo
        assert info[25:27] == (0x7FFFFFFF, 10) and info[28] == 3   # ssthresh, cwnd, reordering
    assert ours[27] == 65495 and 65400 < host[27] <= 65495      # advmss (host: timestamps)
    for info in (host_listen, ours_listen):
        assert info[0] == 10 and info[12] == 0 and info[13] == 1   # queue length, backlog
        assert info[26] == 10 and info[28] == 3
