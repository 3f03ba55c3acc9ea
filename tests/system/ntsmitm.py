#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A man in the middle for NTS tests (loopback only).

proxy   relay NTP between a client and a server unchanged, and for every
        request also send the server altered copies of it from a socket of
        its own: one bit flipped anywhere, one bit flipped inside the
        cookie, and a truncation; every answer to an altered copy is
        checked: it must carry no time (an NTS NAK, stratum 0 and refid
        NTSN, or nothing at all). Prints one JSON line at the end.
replies relay NTP between a client and a server; pass every reply the
        server sends on unchanged (once: the genuine one) and, with each,
        tampered ones: one bit flipped anywhere, in the transmit
        timestamp, in the unique identifier, in the authenticator's tag,
        in its encrypted cookies; a truncation; an older reply replayed;
        the reply sent a second time. Even replies go out after their
        tampered copies and after a forged NTS NAK (stratum 0, NTSN,
        the request's unique identifier, no authenticator: what anyone
        on the path can make), odd ones before their tampered copies.
        After N replies prints one JSON line with the counts, then
        relays untouched until SIGTERM and prints how many more.
hold    open N TCP connections from a source address to a port and send
        nothing for S seconds (a slowloris on an NTS-KE port).
"""
import argparse, json, random, select, signal, socket, struct, sys, time

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


NTS_UID = 0x0104
NTS_AUTH = 0x0404


def reply_spans(pkt):
    """Spans (start, end) of a reply's parts: uid, tag and cookies (the
    ciphertext after the tag), or None for what is not there."""
    spans = {"uid": None, "tag": None, "cookies": None}
    off = 48
    while off + 4 <= len(pkt):
        typ, flen = struct.unpack("!HH", pkt[off:off + 4])
        if flen < 4 or off + flen > len(pkt):
            break
        if typ == NTS_UID:
            spans["uid"] = (off + 4, off + flen)
        elif typ == NTS_AUTH and flen >= 8:
            nlen, clen = struct.unpack("!HH", pkt[off + 4:off + 8])
            ct = off + 8 + (nlen + 3) // 4 * 4
            if ct + clen <= off + flen and clen > 16:
                spans["tag"] = (ct, ct + 16)
                spans["cookies"] = (ct + 16, ct + clen)
        off += flen
    return spans


def flip(pkt, rnd, span):
    b = bytearray(pkt)
    b[rnd.randrange(*span)] ^= 1 << rnd.randrange(8)
    return bytes(b)


def tampered(pkt, older, rnd):
    """The tampered copies of one genuine reply, as (kind, bytes)."""
    out = [("flip", flip(pkt, rnd, (0, len(pkt)))), ("xmt", flip(pkt, rnd, (40, 48)))]
    for kind, span in reply_spans(pkt).items():
        if span is None:
            raise SystemExit("replies: no %s in a reply from the server: %s" % (kind, pkt.hex()))
        out.append((kind, flip(pkt, rnd, span)))
    out.append(("truncate", pkt[:rnd.randrange(1, len(pkt))]))
    if older is not None:
        out.append(("replay", older))
    return out


def forged_nak(pkt):
    """An NTS NAK for the request that pkt answers: its header with
    stratum 0 and refid NTSN, and its unique identifier field."""
    span = reply_spans(pkt)["uid"]
    nak = bytearray(pkt[:48])
    nak[1] = 0
    nak[12:16] = b"NTSN"
    return bytes(nak) + pkt[span[0] - 4:span[1]]


def replies(a):
    rnd = random.Random(a.seed)
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind((a.listen_addr, a.listen))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.connect((a.server_addr, a.server))
    client = None
    st = {"requests": 0, "genuine": 0, "tampered": 0, "naks": 0, "kinds": {}}
    history = []
    end = time.time() + a.seconds
    print("replies: listening", flush=True)
    while time.time() < end and st["genuine"] < a.count:
        r, _, _ = select.select([front, back], [], [], 0.2)
        if front in r:
            data, client = front.recvfrom(2048)
            back.send(data)
            st["requests"] += 1
        if back not in r or client is None:
            continue
        data = back.recv(2048)
        older = history[-1] if history else None
        bad = tampered(data, older, rnd)
        bad_first = st["genuine"] % 2 == 0
        if bad_first:
            for _, pkt in bad:
                front.sendto(pkt, client)
            if a.naks:
                front.sendto(forged_nak(data), client)
                st["naks"] += 1
        front.sendto(data, client)
        if not bad_first:
            for _, pkt in bad:
                front.sendto(pkt, client)
        front.sendto(data, client)
        bad.append(("twice", data))
        st["genuine"] += 1
        for kind, _ in bad:
            st["tampered"] += 1
            st["kinds"][kind] = st["kinds"].get(kind, 0) + 1
        history.append(data)
    print(json.dumps(st), flush=True)
    # From here on every reply passes untouched, counted, until SIGTERM,
    # which prints {"after": N}: the client's totals are then exact.
    after = 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            r, _, _ = select.select([front, back], [], [], 0.2)
            if front in r:
                data, client = front.recvfrom(2048)
                back.send(data)
            if back in r:
                front.sendto(back.recv(2048), client)
                after += 1
    finally:
        print(json.dumps({"after": after}), flush=True)


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
    y = sub.add_parser("replies")
    y.add_argument("--listen-addr", default="127.0.0.2")
    y.add_argument("--listen", type=int, required=True)
    y.add_argument("--server-addr", default="127.0.0.1")
    y.add_argument("--server", type=int, required=True)
    y.add_argument("--count", type=int, default=40)
    y.add_argument("--seconds", type=float, default=30)
    y.add_argument("--naks", action="store_true", help="forged NAKs too")
    y.add_argument("--seed", type=int, default=8915)
    h = sub.add_parser("hold")
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--src", default="127.0.0.2")
    h.add_argument("--count", type=int, default=40)
    h.add_argument("--seconds", type=float, default=6)
    a = p.parse_args()
    {"proxy": proxy, "replies": replies, "hold": hold}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
