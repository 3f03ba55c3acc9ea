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


def make_sock(server, src):
    s = socket.socket(family_of(server), socket.SOCK_DGRAM)
    if src:
        s.bind((src, 0))
    return s


def recv_all(s, timeout, stamps=None):
    """Every datagram that arrives within timeout; arrival times to stamps."""
    out, end = [], time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return out
        out.append(s.recv(65535))
        if stamps is not None:
            stamps.append(time.time())


def cmd_query(a):
    s = make_sock(a.server, a.src)
    rc = 1
    for _ in range(a.count):
        tx = random.getrandbits(64)
        t1 = time.time()
        pkt = bytes.fromhex(a.raw) if a.raw else build(a.version, a.mode, tx, extra=b"\0" * a.pad)
        s.sendto(pkt, (a.server, a.port))
        stamps = []
        replies = recv_all(s, a.timeout if a.all else 0, stamps) if a.all else []
        if not a.all and select.select([s], [], [], a.timeout)[0]:
            replies, stamps = [s.recv(65535)], [time.time()]
        if not replies:
            print(json.dumps({"timeout": True}))
            continue
        for r, t4 in zip(replies, stamps):
            d = decode(r)
            d["req_len"] = len(pkt)
            if d.get("org") == tx and d["tx"] and d["rx"]:
                t2, t3 = ts_to_float(d["rx"]) - NTP_DELTA, ts_to_float(d["tx"]) - NTP_DELTA
                d["offset"] = ((t2 - t1) + (t3 - t4)) / 2
                d["delay"] = (t4 - t1) - (t3 - t2)
            d["org_match"] = d.get("org") == tx
            print(json.dumps(d))
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


def cmd_abuse(a):
    seed = a.seed if a.seed is not None else random.randrange(2**32)
    print(f"abuse: seed {seed}", flush=True)
    rng = random.Random(seed)
    s = make_sock(a.server, None)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sent = answered = bad = 0
    for mode, version, pkt in abuse_cases(rng, a.random):
        s.sendto(pkt, (a.server, a.port))
        sent += 1
        replies = recv_all(s, a.wait)
        for r in replies:
            answered += 1
            d = decode(r)
            if len(r) > len(pkt):
                print(f"AMPLIFICATION: request {len(pkt)} bytes got {len(r)} bytes: {pkt[:8].hex()}")
                bad += 1
            if d.get("mode") != 4 or d.get("version") != (pkt[0] >> 3) & 7:
                print(f"BAD REPLY mode/version to {pkt[:8].hex()}: {d}")
                bad += 1
        if expect_answer(mode, version, pkt) and len(replies) != 1:
            print(f"MISSING REPLY to valid v{version} client request of {len(pkt)} bytes")
            bad += 1
        if mode is not None and mode != 3 and replies:
            print(f"REPLY TO MODE {mode} v{version} len {len(pkt)}")
            bad += 1
    print(f"abuse: sent {sent} answered {answered} violations {bad}")
    return 1 if bad or sent == 0 else 0


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
    s = make_sock(a.server, a.src)
    s.setblocking(False)
    sent = got = kod = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end and sent < a.max:
        try:
            s.sendto(build(), (a.server, a.port))
            sent += 1
        except BlockingIOError:
            pass
        while True:
            try:
                r = s.recv(2048)
            except BlockingIOError:
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
    ab.add_argument("--seed", type=int, default=None)
    ab.add_argument("--random", type=int, default=2000)
    ab.add_argument("--wait", type=float, default=0.02)
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
