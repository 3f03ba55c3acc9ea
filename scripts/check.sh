#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The body of `make check`: every suite, arranged so that the waiting and
# the computing overlap on a small machine. The system tests spend most of
# their time asleep (waiting for daemons to poll and answer), so the plain
# and the sanitized passes run as one pool (tests/system/run --sanitized)
# in the background, while the CPU-bound suites (unit, unit32, sim, their
# sanitized runs, static analysis, fuzzing) run one after another at the
# lowest CPU priority beside them, so that the daemons under test are never
# the ones kept waiting. Every suite runs even when an earlier one failed;
# each one's whole output is printed when all are done, then one line per
# suite and the wall time.
#
#   scripts/check.sh          (make check; deps are installed by then)
#   SYSTEM_JOBS=4 FUZZ_SECONDS=15 are the defaults.
set -u
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
ncpu=$(nproc 2>/dev/null || echo 2)
jobs=${SYSTEM_JOBS:-4}
logs=$(mktemp -d /tmp/tempus-check.XXXXXX) || exit 1
trap 'rm -rf "$logs"' EXIT
start=$(date +%s)
order=()

# stage NAME CMD...: run CMD with its output in NAME's log, then record
# its status and seconds.
stage() {
    local name=$1 t0=$SECONDS rc
    shift
    "$@" > "$logs/$name.log" 2>&1
    rc=$?
    echo "$rc $((SECONDS - t0))" > "$logs/$name.res"
    return $rc
}
mk() { $MAKE --no-print-directory "$@"; }
asan() { mk BUILD=build/asan SAN=1 "$@"; }
# The CPU-bound suites yield to the system tests' daemons.
low() { (renice -n 19 -p "$BASHPID" > /dev/null && "$@"); }

echo "check: building the plain and the sanitized trees ($ncpu jobs)"
order+=(build)
stage build sh -c "$MAKE --no-print-directory -j$ncpu all system-deps &&
    $MAKE --no-print-directory -j$ncpu BUILD=build/asan SAN=1 all unit-bins sim-bin"
if [ "$(cut -d' ' -f1 "$logs/build.res")" != 0 ]; then
    cat "$logs/build.log"
    echo "make check: FAILED: the build (after $(($(date +%s) - start))s wall time)"
    exit 1
fi

echo "check: system tests, plain and sanitized, $jobs at a time, in the background"
order+=(system)
stage system tests/system/run -j "$jobs" --sanitized build/asan &
system_pid=$!

for s in unit unit32 sim asan-unit asan-sim analyze fuzz; do
    order+=("$s")
    echo "check: $s"
    case $s in
    asan-unit) stage "$s" low asan unit ;;
    asan-sim) stage "$s" low asan sim ;;
    fuzz) stage "$s" low env FUZZ_SECONDS="${FUZZ_SECONDS:-15}" fuzz/run ;;
    *) stage "$s" low mk "$s" ;;
    esac
done
echo "check: waiting for the system tests"
wait "$system_pid"

failed=()
for s in "${order[@]}"; do
    echo "======== $s ========"
    cat "$logs/$s.log"
done
echo "======== summary ========"
for s in "${order[@]}"; do
    read -r rc secs < "$logs/$s.res"
    if [ "$rc" = 0 ]; then
        printf 'check: %-10s passed  %4ss\n' "$s" "$secs"
    else
        printf 'check: %-10s FAILED  %4ss (exit %s; its output is above)\n' "$s" "$secs" "$rc"
        failed+=("$s")
    fi
done
secs=$(($(date +%s) - start))
if [ ${#failed[@]} -eq 0 ]; then
    echo "make check: all suites passed in ${secs}s wall time"
else
    echo "make check: FAILED: ${failed[*]} (after ${secs}s wall time)"
    exit 1
fi
