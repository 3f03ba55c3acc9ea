#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# make lab: the deployment of README's "Deploying" for real, on one machine,
# in network namespaces made here and deleted on exit (root; iproute2,
# nftables, chrony, ntpsec-ntpdig). Every daemon runs `clock virtual`:
# this machine's clock is never touched, and no packet leaves the lab.
#
#   router  rt: one veth per segment, forwards IPv4 and IPv6
#   upstream tier   up1 10.11.0.2 fd00:11::2    up2 10.12.0.2 fd00:12::2
#   retired upstream old 10.13.0.2 fd00:13::2
#   internal pair   int1 10.21.0.2 fd00:21::2 (follows up1, up2 over IPv4, and int2)
#                   int2 10.22.0.2 fd00:22::2 (follows up1, up2 over IPv6, and int1)
#   misconfigured   legacy 10.23.0.2 fd00:23::2 (follows old)
#   clients         prod 10.31.0.2 fd00:31::2, mgmt 10.32.0.2 fd00:32::2,
#                   guest 10.41.0.2 fd00:41::2 (must be denied)
#
# Each server's firewall is `tempusctl firewall` of its own config, loaded
# with nft in its namespace and checked with `firewall --check`. Then, with
# real clients: chronyd -Q (prod) and ntpdig (mgmt) synchronised through the
# pair on IPv4 and IPv6; the guest dropped on both families by the
# firewall (counted there, never seen by tempusd); `tempusctl audit` of the
# fleet flags legacy's upstream; int1 dies and prod still gets time from
# int2 while the audit flags int1 unreachable; `check` and metrics of each
# server. Exit 0 when every step held, 1 at the first that did not (with
# why), 2 when the lab cannot be built here (not root, no namespaces).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TEMPUSD=${TEMPUSD:-$ROOT/build/tempusd}
TEMPUSCTL=${TEMPUSCTL:-$ROOT/build/tempusctl}
W=${LAB_WORK:-$ROOT/build/lab}
P=tlab$$
NSS=()
PIDS=()

say() { echo "lab: $*"; }
fail() {
    echo "lab: FAIL: $*"
    exit 1
}
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    sleep 0.3
    for ns in "${NSS[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
    echo "lab: NOT RUN: network namespaces need root"
    exit 2
fi
for tool in ip nft chronyd ntpdig python3; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
        fail "missing $tool (scripts/deps.sh installs it)"
done
[ -x "$TEMPUSD" ] && [ -x "$TEMPUSCTL" ] || fail "build first: make all"
rm -rf "$W" && mkdir -p "$W"
rt=$P-rt
if ! ip netns add "$rt" 2>"$W/netns.err"; then
    echo "lab: NOT RUN: cannot create a network namespace: $(cat "$W/netns.err")"
    exit 2
fi
NSS+=("$rt")
nsx() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
ip -n "$rt" link set lo up
ip netns exec "$rt" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
    fail "no forwarding in the router namespace"

# host NAME SEG: namespace NAME on 10.SEG.0.0/24 and fd00:SEG::/64 behind rt
host() {
    local name=$1 seg=$2 ns=$P-$1
    ip netns add "$ns" || fail "ip netns add $ns"
    NSS+=("$ns")
    ip -n "$ns" link set lo up
    ip link add "r-$name" netns "$rt" type veth peer name eth0 netns "$ns" || fail "veth $name"
    ip -n "$rt" addr add "10.$seg.0.1/24" dev "r-$name"
    ip -n "$rt" addr add "fd00:$seg::1/64" dev "r-$name" nodad
    ip -n "$rt" link set "r-$name" up
    ip -n "$ns" addr add "10.$seg.0.2/24" dev eth0
    ip -n "$ns" addr add "fd00:$seg::2/64" dev eth0 nodad
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "10.$seg.0.1"
    ip -n "$ns" -6 route add default via "fd00:$seg::1"
}
for h in up1:11 up2:12 old:13 int1:21 int2:22 legacy:23 prod:31 mgmt:32 guest:41; do
    host "${h%%:*}" "${h#*:}"
done
say "topology: 9 namespaces behind a router, dual-stack"

# server NAME SEG LINES...: config, firewall from it (loaded, checked), daemon
server() {
    local name=$1 seg=$2
    shift 2
    {
        printf 'port 123\nbindaddress 10.%s.0.2\nbindaddress fd00:%s::2\nclock virtual\n' "$seg" "$seg"
        printf 'controlsocket %s/%s.sock\n' "$W" "$name"
        # sanitized daemons (make asan) cannot run under the syscall filter
        [ -n "${TEMPUS_SANITIZED:-}" ] && printf 'seccomp off\n'
        printf '%s\n' "$@"
    } > "$W/$name.conf"
    "$TEMPUSCTL" firewall "$W/$name.conf" > "$W/$name.nft" || fail "tempusctl firewall $name"
    nsx "$name" nft -f "$W/$name.nft" || fail "nft -f $name.nft"
    out=$(nsx "$name" "$TEMPUSCTL" firewall --check "$W/$name.conf") || fail "$name: $out"
    # not through nsx: $! must be the daemon (ip netns exec execs it)
    ip netns exec "$P-$name" "$TEMPUSD" -d -f "$W/$name.conf" > "$W/$name.log" 2>&1 &
    PIDS+=($!)
    printf -v "PID_$name" '%s' $!
}
internal_allow="allow 10.31.0.0/24
allow fd00:31::/64
allow 10.32.0.0/24
allow fd00:32::/64"
upstream() {
    server "$1" "$2" "local stratum 1" "ratelimit interval -1 burst 16" \
        "allow 10.21.0.2" "allow 10.22.0.2" "allow 10.23.0.2" \
        "allow fd00:21::2" "allow fd00:22::2" "allow fd00:23::2" "allow 10.32.0.0/24" "allow fd00:32::/64"
}
upstream up1 11
upstream up2 12
upstream old 13
poll="iburst minpoll 0 maxpoll 2"
server int1 21 "server 10.11.0.2 $poll" "server 10.12.0.2 $poll" "server 10.22.0.2 $poll" \
    "allow 10.22.0.2" "allow fd00:22::2" "$internal_allow" "ratelimit interval -1 burst 16"
server int2 22 "server fd00:11::2 $poll" "server fd00:12::2 $poll" "server fd00:21::2 $poll" \
    "allow 10.21.0.2" "allow fd00:21::2" "$internal_allow" "ratelimit interval -1 burst 16"
server legacy 23 "server 10.13.0.2 $poll" "$internal_allow" "ratelimit interval -1 burst 16"
grep -q "# IPv6: the most specific rule wins" "$W/int2.nft" || fail "int2's IPv6 clients not in its firewall"
say "6 servers started, each behind the firewall its config implies (firewall --check: OK)"

fleet="10.11.0.2 10.12.0.2 10.21.0.2 10.22.0.2 10.23.0.2"
expect="--expect-refid 10.11.0.2 --expect-refid 10.12.0.2 --expect-refid fd00:11::2 --expect-refid fd00:12::2 --expect-refid LOCL"
synced() {
    j=$(nsx mgmt "$TEMPUSCTL" --json audit --count 1 --interval 0.5 --timeout 0.5 10.21.0.2 10.22.0.2 10.23.0.2)
    [ "$(python3 -c 'import json,sys; print([s.get("stratum") for s in json.loads(sys.argv[1])["servers"]])' "$j")" = "[2, 2, 2]" ]
}
end=$((SECONDS + 40))
until synced; do
    [ $SECONDS -lt $end ] || fail "internal servers not at stratum 2 within 40 s: $j"
    sleep 1
done
say "int1, int2 and legacy synchronised (stratum 2)"

# chronyd -Q from prod, through the pair: offset against this machine's
# clock, which every virtual clock here starts from
off_of() { sed -n 's/.*System clock wrong by \(-\{0,1\}[0-9.]*\) seconds.*/\1/p'; }
small() { python3 -c 'import sys; sys.exit(0 if abs(float(sys.argv[1])) < 0.05 else 1)' "$1"; }
out=$(nsx prod timeout 30 chronyd -Q -t 20 "server 10.21.0.2 iburst maxsamples 4" \
    "server fd00:22::2 iburst maxsamples 4" 2>&1)
off=$(echo "$out" | off_of)
[ -n "$off" ] && small "$off" || fail "chronyd -Q in prod: $out"
say "prod: chronyd -Q through int1 (IPv4) and int2 (IPv6): clock wrong by $off s"
for a in 10.22.0.2 fd00:21::2; do
    out=$(nsx mgmt timeout 10 ntpdig -t 2 "$a" 2>&1) || fail "ntpdig $a from mgmt: $out"
    echo "$out" | grep -q " s2 " || fail "ntpdig $a: not stratum 2: $out"
done
say "mgmt: ntpdig answered at stratum 2 by int2 (IPv4) and int1 (IPv6)"

drops() { nsx int1 nft list chain inet tempus ntp_refuse | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'; }
before=$(drops)
for a in 10.21.0.2 fd00:21::2; do
    nsx guest timeout 10 ntpdig -t 1 "$a" >/dev/null 2>&1 && fail "guest got time from $a"
done
after=$(drops)
[ $((after - before)) -ge 2 ] || fail "int1's firewall dropped $((after - before)) guest packets, want >= 2"
nsx int1 nft list chain inet tempus ntp_refuse | grep -q 'log prefix "tempus-refused-v6: "' ||
    fail "no log rule for refused IPv6"
denied=$(nsx int1 "$TEMPUSCTL" -s "$W/int1.sock" metrics | awk '/^tempus_server_requests_denied_total/ {s += $2} END {print s + 0}')
[ "$denied" = 0 ] || fail "tempusd int1 saw $denied denied requests: the firewall let them through"
say "guest: denied on IPv4 and IPv6 by int1's firewall ($((after - before)) dropped and logged as" \
    "tempus-refused-v4/v6, rate limited; tempusd saw none)"
[ "$(sysctl -n net.netfilter.nf_log_all_netns 2>/dev/null)" = 1 ] ||
    say "  (the kernel prints namespaces' log lines only with net.netfilter.nf_log_all_netns=1," \
        "a host setting this lab leaves alone)"

out=$(nsx mgmt "$TEMPUSCTL" audit --count 2 --interval 0.5 --timeout 0.5 $expect $fleet); rc=$?
echo "$out" | sed 's/^/    /'
[ $rc = 1 ] || fail "audit of the fleet: exit $rc, want 1"
echo "$out" | grep -q "^10.23.0.2 .* 10.13.0.2 .*unexpected-refid" || fail "legacy not flagged"
say "audit: legacy flagged for following the retired upstream 10.13.0.2"

for s in up1 up2 int1 int2 legacy; do
    out=$("$TEMPUSCTL" -s "$W/$s.sock" check --min-sources 0); rc=$?
    # the upstream tier serves its own clock, which check calls a warning
    case $s:$rc in int*:0 | legacy:0 | up*:0 | up*:1) ;; *) fail "check $s: $out" ;; esac
    echo "    $s: $out"
done
nsx int1 "$TEMPUSCTL" -s "$W/int1.sock" metrics | grep -E '^tempus_(stratum|server_requests_answered_total)' | sed 's/^/    int1: /'
v6=$(nsx int1 "$TEMPUSCTL" -s "$W/int1.sock" metrics | sed -n 's/^tempus_server_requests_answered_total{family="ipv6"} //p')
[ "${v6:-0}" -ge 1 ] || fail "int1 answered no IPv6 request"
say "check: OK on the internal servers, the upstreams warn that they serve their own clock; int1's metrics count the IPv6 clients"

kill "$PID_int1"
wait "$PID_int1" 2>/dev/null
out=$(nsx prod timeout 30 chronyd -Q -t 20 "server 10.21.0.2 iburst maxsamples 4" \
    "server 10.22.0.2 iburst maxsamples 4" 2>&1)
off=$(echo "$out" | off_of)
[ -n "$off" ] && small "$off" || fail "prod after int1 died: $out"
say "failover: int1 stopped, prod still synchronised through int2 ($off s)"
out=$(nsx mgmt "$TEMPUSCTL" audit --count 2 --interval 0.5 --timeout 0.5 $expect $fleet); rc=$?
echo "$out" | sed 's/^/    /'
[ $rc = 2 ] && echo "$out" | grep -q "^10.21.0.2 .* unreachable$" || fail "audit after int1 died: exit $rc"
out=$("$TEMPUSCTL" -s "$W/int2.sock" check) || fail "int2 check after failover: $out"
say "audit: int1 unreachable (CRITICAL); int2: $out"
say "all steps held"
