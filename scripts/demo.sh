#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make demo: start tempusd on a loopback high port serving a local reference
# from a virtual clock (0.125 s ahead of the kernel clock, so the client has
# something to see), query it with real clients, show its counters, stop.
# Needs no root and touches no clock.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/tempus-demo.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/tempus.conf" <<CONF
# demo: an internal time server on loopback
port $port
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 10
clock virtual offset 0.125
ratelimit interval 1 burst 8 kod
abuselog 0
CONF

echo "== tempusd config"
sed 's/^/   /' "$work/tempus.conf"
"$top/build/tempusd" -d -f "$work/tempus.conf" >"$work/tempusd.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q "serving on port" "$work/tempusd.log" && break; sleep 0.1; done
grep -q "serving on port" "$work/tempusd.log" || { cat "$work/tempusd.log"; exit 1; }
sed 's/^/   /' "$work/tempusd.log"

echo
echo "== chronyd -Q (chrony as a client, does not touch the clock) asks tempusd"
if command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ]; then
    PATH=$PATH:/usr/sbin timeout 20 chronyd -Q -t 10 "server 127.0.0.1 port $port iburst maxsamples 4" 2>&1 | sed 's/^/   /'
    echo "   (the virtual clock serves time 0.125 s ahead, so chrony reports the system clock wrong by about +0.125 s)"
else
    echo "   chronyd is not installed (apt-get install chrony); skipping this client"
fi

echo
echo "== one request from tempus's test client"
python3 "$top/tests/system/ntpclient.py" query --port "$port" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
print("   stratum %d, refid %s, leap %d, precision 2^%d s, offset %+.6f s, delay %.6f s"
      % (d["stratum"], d["refid_ascii"], d["leap"], d["precision"], d["offset"], d["delay"]))'

echo
echo "== a denied client and a mode 7 (monlist) query get nothing"
python3 "$top/tests/system/ntpclient.py" query --port "$port" --src 127.0.0.2 --timeout 0.3 | sed 's/^/   from 127.0.0.2: /'
python3 "$top/tests/system/ntpclient.py" query --port "$port" --mode 7 --version 2 --timeout 0.3 | sed 's/^/   mode 7: /'

echo
echo "== tempusd counters"
kill -USR1 "${pids[0]}"
sleep 0.3
grep "stats:" "$work/tempusd.log" | tail -1 | sed 's/.*stats: //' | tr ' ' '\n' | grep -v '=0$' | sed 's/^/   /'
echo
echo "== stopping"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null
pids=()
echo "   done"
