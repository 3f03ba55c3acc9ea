#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make demo: the deployment tempus is for, on loopback, without root, every
# daemon on a virtual clock (this machine's clock is never touched and
# stands for true time):
#   upstream tier   u1, u2 correct (stratum 1), u3 one second wrong
#   internal tier   i1, i2 follow u1-u3, start 0.15 s and 0.2 s wrong
#   client          c follows i1 and i2, starts 0.3 s wrong
#   refclock tier   gpsplay (tests/tools) plays gpsd -> g, stratum 1 on a
#                   SOCK refclock -> chronyd -Q
# It shows each daemon's view with tempusctl, kills the internal server the
# client follows to show it failing over to the other, lets chrony query
# the survivor, and stops everything.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build
work=$(mktemp -d /tmp/tempus-demo.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start NAME PORT OFFSET EXTRA-LINES: run tempusd NAME, record its pid.
start() {
    local name=$1 p=$2 off=$3 extra=$4
    # The demo polls every 1-4 s: allow that rate (the default limit, one
    # request per 8 s on average, suits real clients polling every 64 s+).
    printf 'port %s\nbindaddress 127.0.0.1\nallow 127.0.0.1\nclock virtual offset %s\n%s\ncontrolsocket %s/%s.sock\nratelimit interval -2 burst 16 kod\nloglevel notice\n' \
        "$p" "$off" "$extra" "$work" "$name" > "$work/$name.conf"
    "$bin/tempusd" -d -f "$work/$name.conf" 2>"$work/$name.log" &
    pids+=($!)
    eval "pid_$name=$!"
}

ctl() { "$bin/tempusctl" -s "$work/$1.sock" "${@:2}"; }

# Wait until daemon NAME is synchronised to one of the given sources.
wait_peer() {
    local name=$1 pattern=$2
    for _ in $(seq 120); do
        ctl "$name" --json tracking 2>/dev/null | grep -qE "\"synced\":1,.*\"ref_name\":\"($pattern)\"" && return 0
        sleep 0.5
    done
    echo "   $name did not synchronise in time"; return 1
}

pu1=$(port); pu2=$(port); pu3=$(port); pi1=$(port); pi2=$(port); pc=$(port)
echo "== upstream tier: u1 (port $pu1), u2 (port $pu2) correct; u3 (port $pu3) 1 s ahead"
start u1 "$pu1" 0 "local stratum 1"
start u2 "$pu2" 0 "local stratum 1"
start u3 "$pu3" 1.0 "local stratum 1"
ups="server 127.0.0.1 port $pu1 iburst minpoll 0 maxpoll 2
server 127.0.0.1 port $pu2 iburst minpoll 0 maxpoll 2
server 127.0.0.1 port $pu3 iburst minpoll 0 maxpoll 2
makestep 0.1 3"
echo "== internal tier: i1 (port $pi1) starts +0.15 s off, i2 (port $pi2) -0.2 s off"
start i1 "$pi1" 0.15 "$ups"
start i2 "$pi2" -0.2 "$ups"
echo "== client c (port $pc) follows i1 and i2, starts +0.3 s off"
start c "$pc" 0.3 "server 127.0.0.1 port $pi1 iburst minpoll 0 maxpoll 2
server 127.0.0.1 port $pi2 iburst minpoll 0 maxpoll 2
makestep 0.1 3"
sleep 0.5
for n in u1 u2 u3 i1 i2 c; do
    eval "p=\$pid_$n"
    kill -0 "$p" 2>/dev/null || { echo "tempusd $n failed to start:"; cat "$work/$n.log"; exit 1; }
done

echo
echo "== waiting for the hierarchy to converge (about 20 s)"
wait_peer i1 "127.0.0.1:($pu1|$pu2)" && wait_peer i2 "127.0.0.1:($pu1|$pu2)" &&
    wait_peer c "127.0.0.1:($pi1|$pi2)" || exit 1
sleep 6

for n in i1 i2 c; do
    echo
    echo "== $n: tempusctl tracking"
    ctl "$n" tracking | sed 's/^/   /'
    echo "== $n: tempusctl sources"
    ctl "$n" sources | sed 's/^/   /'
done
echo
echo "   u3 shows as x (falseticker) on both internal servers: its time was never used."
# Each daemon steps once, back from its own start-up error; a step towards
# u3 (1 s ahead) would be a second step, forwards.
for n in i1 i2 c; do
    j=$(ctl "$n" --json tracking)
    steps=$(printf '%s' "$j" | sed -n 's/.*"steps":\([0-9]*\).*/\1/p')
    last=$(printf '%s' "$j" | sed -n 's/.*"last_step":\([-0-9.e+]*\).*/\1/p')
    if [ "$steps" != 1 ] || ! python3 -c "import sys; sys.exit(float('$last') >= 0.5)"; then
        echo "   $n stepped $steps time(s), last by $last s: a step towards u3"; exit 1
    fi
done
echo "   i1, i2 and c each stepped once, back from their own start-up error; none towards u3."

echo
peer=$(ctl c --json tracking | sed -n 's/.*"ref_name":"127.0.0.1:\([0-9]*\)".*/\1/p')
if [ "$peer" = "$pi1" ]; then victim=i1 other=i2 vport=$pi1 oport=$pi2; else victim=i2 other=i1 vport=$pi2 oport=$pi1; fi
echo "== the client follows $victim; killing $victim: the client fails over to $other"
eval "kill \$pid_$victim; wait \$pid_$victim 2>/dev/null"
for _ in $(seq 120); do
    ctl c --json tracking | grep -q "\"ref_name\":\"127.0.0.1:$oport\"" && break
    sleep 0.5
done
ctl c tracking | grep -E "Reference ID|Stratum|Last offset" | sed 's/^/   /'
ctl c sources | sed 's/^/   /'
echo "   ($victim, port $vport, no longer answers: its reach register drains to 0)"
survivor=$other

echo
echo "== chronyd -Q (chrony as a client; it does not touch the clock) asks $survivor"
if command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ]; then
    PATH=$PATH:/usr/sbin timeout 20 chronyd -Q -t 10 "server 127.0.0.1 port $oport iburst maxsamples 4" 2>&1 |
        grep -E "wrong by|exiting" | sed 's/^/   /'
else
    echo "   chronyd is not installed (apt-get install chrony)"
fi

echo
echo "== $survivor serverstats and health check"
ctl "$survivor" serverstats | sed 's/^/   /'
ctl "$survivor" check | sed 's/^/   /'

echo
echo "== refclock tier: gpsplay plays gpsd for a GPS receiver (its true time is this machine's"
echo "   clock, 100 us of noise) -> tempusd g on a SOCK refclock, 0.25 s off at start -> chronyd -Q"
pg=$(port)
start g "$pg" 0.25 "refclock SOCK $work/gps.sock refid GPS poll 1
makestep 0.1 3"
sleep 0.3
"$bin/tests/tools/gpsplay" --sock "$work/gps.sock" --seconds 120 --noise 100e-6 >/dev/null 2>&1 &
pids+=($!)
wait_peer g "SOCK [^\"]*" || exit 1
sleep 4
ctl g tracking | grep -E "Reference ID|Stratum|Last offset" | sed 's/^/   /'
ctl g sources | sed 's/^/   /'
if command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ]; then
    PATH=$PATH:/usr/sbin timeout 20 chronyd -Q -t 10 "server 127.0.0.1 port $pg iburst maxsamples 4" 2>&1 |
        grep -E "wrong by" | sed 's/^/   chronyd -Q: /'
fi

echo
echo "== stopping every daemon"
