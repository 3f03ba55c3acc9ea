#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Check for the Debian packages tempus builds and tests with. As root, install
# the missing ones (saying which); otherwise print the apt-get line and fail.
# chrony is a test peer only: its packaged service must never start, so a
# policy-rc.d that refuses service starts is in place while apt runs.
set -u

# package:file-or-command that proves it is installed
NEED="
gcc:cc
make:make
libcmocka-dev:/usr/include/cmocka.h
libssl-dev:/usr/include/openssl/evp.h
libseccomp-dev:/usr/include/seccomp.h
clang:clang
libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
chrony:chronyd
ntpsec-ntpdig:ntpdig
sntp:sntp
nmap:nmap
iproute2:ip
nftables:nft
procps:pgrep
systemd:systemd-analyze
prometheus:promtool
cppcheck:cppcheck
clang-tidy:clang-tidy
python3:python3
"

have() {
    case "$1" in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] ;;
    esac
}

missing=()
for item in $NEED; do
    pkg=${item%%:*} probe=${item#*:}
    have "$probe" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run as root:  apt-get update && $line" >&2
    exit 1
fi
echo "deps: installing missing Debian packages: ${missing[*]}"
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# tempus deps.sh: no service starts during install\nexit 101\n' \
        > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/tmp/tempus-deps.log 2>&1
rc=$?
[ "$created_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
if [ $rc -ne 0 ]; then
    tail -20 /tmp/tempus-deps.log >&2
    echo "deps: apt-get failed (rc=$rc); see /tmp/tempus-deps.log" >&2
    exit 1
fi
# Belt and braces: whatever the package's scripts did, no packaged chronyd
# may keep running on this machine (it would discipline the real clock).
if pgrep -x chronyd >/dev/null 2>&1; then
    for pid in $(pgrep -x chronyd); do
        if ! tr '\0' ' ' </proc/"$pid"/cmdline | grep -qE -- ' -(x|Q)( |$)'; then
            echo "deps: stopping packaged chronyd (pid $pid)"
            kill "$pid"
        fi
    done
fi
echo "deps: installed ${missing[*]}"
