# SPDX-License-Identifier: ISC
# Shared helpers for tempus system tests. Every test sources this, works in
# its own directory under $T_WORK, and everything it starts is stopped by the
# EXIT trap. Traffic stays on loopback or inside namespaces made here.

set -u
T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEMPUSD=${TEMPUSD:-$T_ROOT/build/tempusd}
NTPCLIENT="python3 $T_ROOT/tests/system/ntpclient.py"
T_NAME=$(basename "$0")
T_WORK=${T_WORK:-$T_ROOT/build/system/$T_NAME}
T_PIDS=()
T_NETNS=()
rm -rf "$T_WORK" && mkdir -p "$T_WORK"

t_cleanup() {
    for pid in "${T_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${T_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    for ns in "${T_NETNS[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
        rm -rf "/etc/netns/$ns"
    done
}
trap t_cleanup EXIT

fail() {
    echo "FAIL: $T_NAME: $*"
    exit 1
}

ok() {
    echo "  ok: $*"
}

# A free port on 127.0.0.1 and ::1 (UDP, and TCP for metrics). Under
# tests/system/run, T_PORT_BLOCK gives this test a block of 400 ports of its
# own, below the kernel's ephemeral range, handed out in turn: tests that
# run at the same time never get the same port. Run alone, the kernel picks.
free_port() {
    local next=$T_WORK/.next_port
    if [ -n "${T_PORT_BLOCK:-}" ]; then
        [ -f "$next" ] || echo "$T_PORT_BLOCK" > "$next"
    fi
    python3 - "${T_PORT_BLOCK:-0}" "$next" <<'PY'
import socket, sys
block, path = int(sys.argv[1]), sys.argv[2]
def free(p):
    try:
        for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(fam, kind) as s:
                    s.bind((host, p))
        return True
    except OSError:
        return False
if block:
    p = int(open(path).read())
    while p < block + 400 and not free(p):
        p += 1
    if p >= block + 400:
        sys.exit("free_port: port block %d used up" % block)
    open(path, "w").write(str(p + 1))
    print(p)
    sys.exit(0)
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]; s.close()
    if free(p):
        print(p)
        break
PY
}

# conf_tail NAME FILE: the lines start_tempusd adds to a test's config (a
# test that rewrites a config for reload appends them again): a control
# socket of its own unless FILE names one, and `seccomp off` for sanitized
# daemons, which cannot run under the filter (the sanitizer runtime makes
# system calls it rightly kills; the normal pass tests the filter).
conf_tail() {
    grep -q '^controlsocket' "$2" 2>/dev/null || echo "controlsocket $T_WORK/$1.sock"
    if [ -n "${TEMPUS_SANITIZED:-}" ] && ! grep -q '^seccomp' "$2" 2>/dev/null; then
        echo "seccomp off"
    fi
}

# start_tempusd NAME CONF_TEXT [NETNS]: write NAME.conf, start tempusd in the
# foreground (logging to NAME.log), wait until it listens. Sets $PID_<NAME>.
start_tempusd() {
    local name=$1 text=$2 ns=${3:-}
    printf '%s\n' "$text" > "$T_WORK/$name.conf"
    conf_tail "$name" "$T_WORK/$name.conf" >> "$T_WORK/$name.conf"
    local pre=()
    [ -n "$ns" ] && pre=(ip netns exec "$ns")
    local envs=(${NOTIFY_SOCKET:+NOTIFY_SOCKET=$NOTIFY_SOCKET})
    # T_ENV: VAR=VALUE words for this daemon (e.g. TEMPUS_SECCOMP_TRAP=1).
    [ -n "${T_ENV:-}" ] && envs+=(${T_ENV})
    # T_PRELOAD: a shim from tests/shim for this daemon (a sanitizer's
    # runtime then no longer comes first, which is harmless here).
    [ -n "${T_PRELOAD:-}" ] && envs+=("LD_PRELOAD=$T_PRELOAD"
        "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
    "${pre[@]}" env "${envs[@]}" "$TEMPUSD" -d -f "$T_WORK/$name.conf" >"$T_WORK/$name.log" 2>&1 &
    local pid=$!
    T_PIDS+=("$pid")
    printf -v "PID_$name" '%s' "$pid"
    for _ in $(seq 100); do
        grep -q "serving on port" "$T_WORK/$name.log" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$T_WORK/$name.log"; fail "tempusd $name exited at start"; }
        sleep 0.05
    done
    cat "$T_WORK/$name.log"
    fail "tempusd $name did not start"
}

# stop_pid PID: SIGTERM and wait; returns the exit status.
stop_pid() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# stats NAME: ask tempusd NAME to log its counters and print the stats line.
stats() {
    local name=$1 pidvar="PID_$1" n
    n=$(grep -c "tempusd: info: stats:" "$T_WORK/$name.log")
    kill -USR1 "${!pidvar}"
    for _ in $(seq 50); do
        [ "$(grep -c "tempusd: info: stats:" "$T_WORK/$name.log")" -gt "$n" ] && break
        sleep 0.05
    done
    grep "tempusd: info: stats:" "$T_WORK/$name.log" | tail -1
}

# counter NAME KEY: one counter from the stats line (e.g. answered_v4).
counter() {
    stats "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

need() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] ||
        fail "required tool '$1' is missing (make deps installs it)"
}

# make_netns NAME: a namespace with only loopback up, removed on exit.
make_netns() {
    ip netns add "$1" || fail "cannot create network namespace $1 (needs root)"
    T_NETNS+=("$1")
    ip netns exec "$1" ip link set lo up
}

# wait_log NAME REGEX SECONDS: wait until NAME.log matches, or fail.
wait_log() {
    local end=$((SECONDS + $3))
    while [ $SECONDS -lt $end ]; do
        grep -qE "$2" "$T_WORK/$1.log" && return 0
        sleep 0.2
    done
    echo "--- $1.log:"; tail -30 "$T_WORK/$1.log"
    fail "$1: no log line matching '$2' within $3 s"
}

# until_ok SECONDS CMD...: retry CMD every half second until it succeeds;
# returns 1 if it never did.
until_ok() {
    local end=$((SECONDS + $1))
    shift
    while [ $SECONDS -lt $end ]; do
        "$@" 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}

# served_at ADDR PORT FIELD: one field of the reply of the server on ADDR:PORT.
served_at() {
    $NTPCLIENT query --server "$1" --port "$2" |
        python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$3'])"
}

# served PORT FIELD: one field of tempusd's reply on 127.0.0.1:PORT
# (offset = served time - this machine's clock, which stands for true time).
served() {
    $NTPCLIENT query --port "$1" | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['$2'])"
}

# offset_at PORT [ADDR]: the offset of the least delayed of 5 queries to
# ADDR:PORT (default 127.0.0.1), so that a query held up on a busy machine
# is not taken for the server's error.
offset_at() {
    $NTPCLIENT query --server "${2:-127.0.0.1}" --port "$1" --count 5 --interval 0.05 |
        python3 -c '
import json, sys
r = [d for d in map(json.loads, sys.stdin) if "offset" in d]
print(min(r, key=lambda d: d["delay"])["offset"] if r else "nan")'
}

# within VALUE BOUND: |VALUE| <= BOUND
within() {
    python3 -c "import sys; sys.exit(0 if abs(float('$1')) <= float('$2') else 1)"
}

SHIMS=${SHIMS:-$T_ROOT/build/tests}
TEMPUSCTL=${TEMPUSCTL:-$(dirname "$TEMPUSD")/tempusctl}

# ctl NAME ARGS...: tempusctl against daemon NAME's control socket.
ctl() {
    local name=$1
    shift
    "$TEMPUSCTL" -s "$T_WORK/$name.sock" "$@"
}

# jq-like field access with python: json_get JSON EXPR (EXPR uses d)
json_get() {
    python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"
}
