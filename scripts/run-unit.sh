#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Run each cmocka unit-test binary given as an argument, show its output and
# close with one tally line. Exit 1 if any binary failed or none ran.
set -u
pass=0 fail=0 skipped=0 bins=0
failed_bins=()
for bin in "$@"; do
    bins=$((bins + 1))
    out=$("$bin" 2>&1); rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skipped=$((skipped + ${s:-0}))
    # A sanitizer report fails the binary even where the runtime recovered
    # (GCC's float-cast-overflow check does, whatever -fno-sanitize-recover).
    if printf '%s\n' "$out" | grep -qE "runtime error:|ERROR: (Address|Undefined)Sanitizer"; then
        echo "unit: $bin: sanitizer report above"
        rc=1
    fi
    if [ "$rc" -ne 0 ]; then
        failed_bins+=("$bin")
        [ -z "$f" ] && fail=$((fail + 1))
    fi
done
if [ "$bins" -eq 0 ] || [ $((pass + fail + skipped)) -eq 0 ]; then
    echo "unit: NO TESTS RAN" >&2
    exit 1
fi
[ ${#failed_bins[@]} -gt 0 ] && echo "unit: failing binaries: ${failed_bins[*]}"
echo "unit: $pass passed, $fail failed, $skipped skipped (each says why above)"
[ "$fail" -eq 0 ] && [ ${#failed_bins[@]} -eq 0 ]
