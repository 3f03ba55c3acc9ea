#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Test-side NTP tool for tempus system tests (loopback only).

query  send client requests, print each reply's fields as JSON lines
abuse  send every mode 0-7 x version 0-7, lengths 0..1500, random bytes and
       lying extension fields; check that no reply is larger than its
       request and that only valid client requests are answered
spray  send one request from each of N distinct 127.x.y.z source addresses
flood  send requests from one source as fast as allowed for a bounded time
"""
import argparse, ipaddress, json, os, random, select, socket, struct, sys, time

NTP_DELTA = 2208988800


def ntp_now():
    t = time.time() + NTP_DELTA
    return int(t) << 32 | int((t % 1) * 2**32)


def ts_to_float(ts):
    return (ts >> 32) + (ts & 0xffffffff) / 2**32


def build(version=4, mode=3, tx=None, poll=6, extra=b""):
    tx = ntp_now() if tx is None else tx
    first = (0 << 6) | ((version & 7) << 3) | (mode & 7)
    head = struct.pack("!BBbbIII", first, 0, poll, -20, 0, 0, 0)
    return head + b"\0" * 24 + struct.pack("!Q", tx) + extra


def decode(data):
    if len(data) < 48:
        return {"len": len(data)}
    f = struct.unpack("!BBbbIIIQQQQ", data[:48])
    refid = f[6]
    return {
        "len": len(data), "leap": f[0] >> 6, "version": (f[0] >> 3) & 7, "mode": f[0] & 7,
        "stratum": f[1], "poll": f[2], "precision": f[3],
        "root_delay": f[4] / 65536.0, "root_disp": f[5] / 65536.0,
        "refid": refid, "refid_ascii": struct.pack("!I", refid).decode("latin1"),
        "ref": f[7], "org": f[8], "rx": f[9], "tx": f[10],
    }


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def make_sock(server, src, port):
    """A socket connected to server:port: the kernel then drops every
    datagram from any other address or port, so a stray reply (another
    daemon's, another test's) is never taken for the server's."""
    s = socket.socket(family_of(server), socket.SOCK_DGRAM)
    if src:
        s.bind((src, 0))
    s.connect((server, port))
    return s


def tx_of(pkt):
    """The transmit timestamp a request carries (its reply's origin), or
    None for a datagram too short to have one."""
    return struct.unpack("!Q", pkt[40:48])[0] if len(pkt) >= 48 else None


def recv_all(s, timeout, stamps=None):
    """Every datagram that arrives within timeout; arrival times to stamps."""
    out, end = [], time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return out
        try:
            out.append(s.recv(65535))
        except ConnectionRefusedError:  # ICMP port unreachable: nobody there
            continue
        if stamps is not None:
            stamps.append(time.time())


def drain(s):
    """Every datagram already waiting, without blocking."""
    out = []
    while select.select([s], [], [], 0)[0]:
        try:
            out.append(s.recv(65535))
        except ConnectionRefusedError:
            continue
    return out


def recv_reply(s, tx, timeout):
    """The reply to the request whose transmit timestamp is tx, as soon as
    it arrives: (data, arrival time), or (None, None) after timeout. Any
    other datagram (a late reply to an earlier request, a forged or stray
    one) is ignored; for a request without a timestamp, the first datagram
    is the reply."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None, None
        try:
            data = s.recv(65535)
        except ConnectionRefusedError:  # ICMP port unreachable: nobody there
            continue
        if tx is None or decode(data).get("org") == tx:
            return data, time.time()


def cmd_query(a):
    s = make_sock(a.server, a.src, a.port)
    rc = 1
    for _ in range(a.count):
        tx = random.getrandbits(64)
        t1 = time.time()
        pkt = bytes.fromhex(a.raw) if a.raw else build(a.version, a.mode, tx, extra=b"\0" * a.pad)
        tx = tx_of(pkt)
        s.send(pkt)
        if a.all:
            stamps = []
            replies = recv_all(s, a.timeout, stamps)
        else:
            r, t4 = recv_reply(s, tx, a.timeout)
            replies, stamps = ([r], [t4]) if r is not None else ([], [])
        if not replies:
            print(json.dumps({"timeout": True}), flush=True)
            time.sleep(a.interval)
            continue
        for r, t4 in zip(replies, stamps):
            d = decode(r)
            d["req_len"] = len(pkt)
            if d.get("org") == tx and d["tx"] and d["rx"]:
                t2, t3 = ts_to_float(d["rx"]) - NTP_DELTA, ts_to_float(d["tx"]) - NTP_DELTA
                d["offset"] = ((t2 - t1) + (t3 - t4)) / 2
                d["delay"] = (t4 - t1) - (t3 - t2)
            d["org_match"] = d.get("org") == tx
            print(json.dumps(d), flush=True)
            rc = 0
        time.sleep(a.interval)
    return rc


def abuse_cases(rng, n_random):
    for mode in range(8):
        for version in range(8):
            for length in (0, 1, 47, 48, 49, 52, 68, 72, 100, 480, 1500):
                base = build(version, mode, rng.getrandbits(64))
                pkt = (base + bytes(rng.getrandbits(8) for _ in range(max(0, length - 48))))[:length]
                yield mode, version, pkt
    for _ in range(n_random):
        length = rng.randrange(0, 1501)
        yield None, None, bytes(rng.getrandbits(8) for _ in range(length))
    for lie in (0, 4, 12, 16, 17, 0x7ffc, 0xfffc, 0xffff):
        for version in (3, 4):
            ext = struct.pack("!HH", 0x0104, lie) + b"\xaa" * 12
            yield 3, version, build(version, 3, rng.getrandbits(64), extra=ext)
            yield 3, version, build(version, 3, rng.getrandbits(64), extra=ext + ext + b"\0" * 20)


def expect_answer(mode, version, pkt):
    """A request we must answer: client mode, v1-4, well-formed, no MAC."""
    if mode != 3 or version is None or not 1 <= version <= 4:
        return False
    return len(pkt) == 48


def abuse_check(pkt, mode, version, r):
    """Violations of one reply r to request pkt (mode/version None: random)."""
    out, d = [], decode(r)
    if len(r) > len(pkt):
        out.append(f"AMPLIFICATION: request {len(pkt)} bytes got {len(r)} bytes: {pkt[:8].hex()}")
    if d.get("mode") != 4 or d.get("version") != (pkt[0] >> 3) & 7:
        out.append(f"BAD REPLY mode/version to {pkt[:8].hex()}: {d}")
    if mode is not None and mode != 3:
        out.append(f"REPLY TO MODE {mode} v{version} len {len(pkt)}")
    return out


def cmd_abuse(a):
    """Every case is sent in bursts without waiting for replies; each reply
    is matched to its request by the origin timestamp (every request that
    can be answered carries a distinct transmit timestamp), so the run
    takes as long as the daemon needs, not a fixed wait per datagram. A
    reply that matches no request is a violation; after the last request,
    replies are awaited until every expected one came, plus a short grace
    for any that should not come at all."""
    seed = a.seed
    print(f"abuse: seed {seed} (--seed or TEMPUS_SEED to change)", flush=True)
    rng = random.Random(seed)
    s = make_sock(a.server, None, a.port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    cases = list(abuse_cases(rng, a.random))
    by_tx, expected, bad = {}, set(), []
    for i, (mode, version, pkt) in enumerate(cases):
        tx = tx_of(pkt)
        if tx is not None:
            by_tx.setdefault(tx, i)
        if expect_answer(mode, version, pkt):
            expected.add(i)
    got = {}

    def take(r):
        i = by_tx.get(decode(r).get("org"))
        if i is None:
            bad.append(f"REPLY MATCHING NO REQUEST: {r[:16].hex()} ({len(r)} bytes)")
            return
        got[i] = got.get(i, 0) + 1
        bad.extend(abuse_check(cases[i][2], cases[i][0], cases[i][1], r))

    for start in range(0, len(cases), a.burst):
        for _, _, pkt in cases[start:start + a.burst]:
            s.send(pkt)
        for r in drain(s):
            take(r)
        time.sleep(a.wait)
    end = time.monotonic() + a.timeout
    while time.monotonic() < end and not expected <= got.keys():
        for r in recv_all(s, 0.05):
            take(r)
    for r in recv_all(s, a.grace):
        take(r)
    for i in sorted(expected - got.keys()):
        mode, version, pkt = cases[i]
        bad.append(f"MISSING REPLY to valid v{version} client request of {len(pkt)} bytes")
    for i, n in got.items():
        if n > 1:
            bad.append(f"{n} REPLIES to one request: {cases[i][2][:8].hex()}")
    for line in bad[:50]:
        print(line)
    print(f"abuse: sent {len(cases)} answered {sum(got.values())} violations {len(bad)}")
    return 1 if bad or not cases else 0


def cmd_spray(a):
    base = int(ipaddress.IPv4Address("127.1.0.0"))
    sent = 0
    deadline = time.monotonic() + a.seconds
    for i in range(a.sources):
        if time.monotonic() > deadline:
            break
        src = str(ipaddress.IPv4Address(base + i))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((src, 0))
            s.sendto(build(), (a.server, a.port))
            sent += 1
    print(f"spray: sent {sent} requests from distinct sources")
    return 0 if sent else 1


def cmd_flood(a):
    s = make_sock(a.server, a.src, a.port)
    s.setblocking(False)
    sent = got = kod = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end and sent < a.max:
        try:
            s.send(build())
            sent += 1
        except BlockingIOError:
            pass
        while True:
            try:
                r = s.recv(2048)
            except (BlockingIOError, ConnectionRefusedError):
                break
            got += 1
            d = decode(r)
            if d.get("stratum") == 0 and d.get("refid_ascii") == "RATE":
                kod += 1
        time.sleep(a.gap)
    time.sleep(0.2)
    for r in recv_all(s, 0.2):
        got += 1
        d = decode(r)
        kod += d.get("stratum") == 0 and d.get("refid_ascii") == "RATE"
    print(json.dumps({"sent": sent, "replies": got, "kod": kod}))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("query", "abuse", "spray", "flood"):
        sp = sub.add_parser(name)
        sp.add_argument("--server", default="127.0.0.1")
        sp.add_argument("--port", type=int, required=True)
        sp.add_argument("--src")
    q = sub.choices["query"]
    q.add_argument("--count", type=int, default=1)
    q.add_argument("--version", type=int, default=4)
    q.add_argument("--mode", type=int, default=3)
    q.add_argument("--pad", type=int, default=0)
    q.add_argument("--raw")
    q.add_argument("--all", action="store_true", help="collect every reply within the timeout")
    q.add_argument("--timeout", type=float, default=1.0)
    q.add_argument("--interval", type=float, default=0.0)
    ab = sub.choices["abuse"]
    ab.add_argument("--seed", type=int, default=int(os.environ.get("TEMPUS_SEED", "20240601")))
    ab.add_argument("--random", type=int, default=2000)
    ab.add_argument("--burst", type=int, default=32, help="datagrams sent between reads")
    ab.add_argument("--wait", type=float, default=0.001, help="pause after each burst (s)")
    ab.add_argument("--timeout", type=float, default=5.0, help="wait for expected replies (s)")
    ab.add_argument("--grace", type=float, default=0.3, help="then wait for stray ones (s)")
    sp = sub.choices["spray"]
    sp.add_argument("--sources", type=int, default=1000)
    sp.add_argument("--seconds", type=float, default=60)
    fl = sub.choices["flood"]
    fl.add_argument("--seconds", type=float, default=2)
    fl.add_argument("--max", type=int, default=20000)
    fl.add_argument("--gap", type=float, default=0.0005)
    a = p.parse_args()
    return {"query": cmd_query, "abuse": cmd_abuse, "spray": cmd_spray, "flood": cmd_flood}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
