#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A man in the middle for NTS tests (loopback only).

proxy   relay NTP between a client and a server unchanged, and for every
        request also send the server altered copies of it from a socket of
        its own: one bit flipped anywhere, one bit flipped inside the
        cookie, and a truncation; every answer to an altered copy is
        checked: it must carry no time (an NTS NAK, stratum 0 and refid
        NTSN, or nothing at all). Prints one JSON line at the end.
hold    open N TCP connections from a source address to a port and send
        nothing for S seconds (a slowloris on an NTS-KE port).
"""
import argparse, json, random, select, socket, struct, sys, time

NTS_COOKIE = 0x0204


def cookie_span(pkt):
    """(start, end) of the cookie's body, or None."""
    off = 48
    while off + 4 <= len(pkt):
        typ, flen = struct.unpack("!HH", pkt[off:off + 4])
        if flen < 16 or off + flen > len(pkt):
            return None
        if typ == NTS_COOKIE:
            return off + 4, off + flen
        off += flen
    return None


def altered(pkt, rnd):
    out = []
    b = bytearray(pkt)
    i = rnd.randrange(len(b))
    b[i] ^= 1 << rnd.randrange(8)
    out.append(("flip", bytes(b)))
    span = cookie_span(pkt)
    if span:
        b = bytearray(pkt)
        b[rnd.randrange(*span)] ^= 1 << rnd.randrange(8)
        out.append(("cookie", bytes(b)))
    cut = rnd.randrange(1, len(pkt))
    out.append(("truncate", pkt[:cut]))
    return out


def time_in(reply):
    """True if a reply carries time: anything but a kiss (stratum 0)."""
    return len(reply) >= 48 and reply[1] != 0


def proxy(a):
    rnd = random.Random(a.seed)
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", a.listen))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.connect(("127.0.0.1", a.server))
    evil = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    evil.connect(("127.0.0.1", a.server))
    client = None
    st = {"relayed": 0, "altered": 0, "answered_with_time": 0, "naks": 0, "silent": 0,
          "kinds": {}}
    end = time.time() + a.seconds
    print("proxy: listening", flush=True)
    while time.time() < end:
        r, _, _ = select.select([front, back], [], [], 0.2)
        if back in r:
            data = back.recv(2048)
            if client:
                front.sendto(data, client)
        if front not in r:
            continue
        data, client = front.recvfrom(2048)
        back.send(data)
        st["relayed"] += 1
        for kind, bad in altered(data, rnd):
            st["altered"] += 1
            st["kinds"][kind] = st["kinds"].get(kind, 0) + 1
            evil.send(bad)
            ready, _, _ = select.select([evil], [], [], 0.3)
            if not ready:
                st["silent"] += 1
                continue
            reply = evil.recv(2048)
            if time_in(reply):
                st["answered_with_time"] += 1
                print("proxy: TIME for an altered request (%s): %s" % (kind, bad.hex()),
                      flush=True)
            elif reply[12:16] == b"NTSN":
                st["naks"] += 1
    print(json.dumps(st), flush=True)


def hold(a):
    socks = []
    for _ in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((a.src, 0))
        try:
            s.connect(("127.0.0.1", a.port))
        except OSError:
            pass
        socks.append(s)
    print("hold: %d connections open" % len(socks), flush=True)
    time.sleep(a.seconds)
    for s in socks:
        s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("proxy")
    x.add_argument("--listen", type=int, required=True)
    x.add_argument("--server", type=int, required=True)
    x.add_argument("--seconds", type=float, default=10)
    x.add_argument("--seed", type=int, default=8915)
    h = sub.add_parser("hold")
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--src", default="127.0.0.2")
    h.add_argument("--count", type=int, default=40)
    h.add_argument("--seconds", type=float, default=6)
    a = p.parse_args()
    proxy(a) if a.cmd == "proxy" else hold(a)


if __name__ == "__main__":
    sys.exit(main())
