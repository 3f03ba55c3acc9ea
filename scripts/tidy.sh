#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# clang-tidy over every C file, with the checks in .clang-tidy (and
# tests/unit/.clang-tidy) and the compiler flags the Makefile passes as
# arguments. Files run in parallel, one clang-tidy each; any finding (every
# check is an error) or compile error fails. Prints the findings, or one line.
#
#   scripts/tidy.sh -std=c11 -D_GNU_SOURCE -iquote src ...   (make analyze)
#   TIDY_FILES="src/acl.c src/addr.c" scripts/tidy.sh ...    just those
set -u
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$self")/.." || exit 1

TIDY=${CLANG_TIDY:-clang-tidy}

# One file: its log in $TIDY_OUT, its status as clang-tidy's.
if [ "${1:-}" = --one ]; then
    f=$2
    shift 2
    extra=()
    case $f in
    tests/sim/*) extra=(-iquote tests/sim) ;;
    # Lets the analyzer see that a failed cmocka assertion ends the test.
    tests/unit/*) extra=(-include tests/unit/tidy_cmocka.h) ;;
    esac
    exec "$TIDY" --quiet "$f" -- "$@" "${extra[@]}" >"$TIDY_OUT/${f//\//_}.log" 2>&1
fi

if ! command -v "$TIDY" >/dev/null 2>&1; then
    echo "analyze: $TIDY not found (Debian package clang-tidy; scripts/deps.sh installs it)" >&2
    exit 1
fi

# shellcheck disable=SC2206 # a list of paths, no spaces
files=(${TIDY_FILES:-src/*.c tests/unit/*.c tests/sim/*.c tests/shim/*.c tests/tools/*.c bench/*.c fuzz/*.c})
# Logs in a directory of this run's own: runs may overlap.
TIDY_OUT=$(mktemp -d "${TMPDIR:-/tmp}/tempus-tidy.XXXXXX") || exit 1
export TIDY_OUT
trap 'rm -rf "$TIDY_OUT"' EXIT
printf '%s\n' "${files[@]}" |
    xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} "$self" --one {} "$@"
status=$?

# Findings in a header come once per file that includes it: print each once.
findings=$(cat "$TIDY_OUT"/*.log | grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): ' | sort -u)
if [ "$status" -ne 0 ] || [ -n "$findings" ]; then
    for log in "$TIDY_OUT"/*.log; do
        grep -vE '^[0-9]+ (warning|error)s? (generated|treated as errors)|^Error while processing' \
            "$log"
    done | awk '/^[^ ].*:[0-9]+:[0-9]+: (warning|error): / { skip = seen[$0]++ } !skip'
    n=$(printf '%s' "$findings" | grep -c .)
    echo "analyze: clang-tidy: $n finding(s) in ${#files[@]} files" >&2
    exit 1
fi
echo "analyze: clang-tidy clean (${#files[@]} files)"
