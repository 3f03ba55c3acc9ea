#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Check for the Debian packages tempus builds and tests with. As root, install
# the missing ones (saying which); otherwise print the apt-get line and fail.
# chrony is a test peer only: its packaged service must never start, so a
# policy-rc.d that refuses service starts is in place while apt runs. A
# chronyd that was running before is never touched (it may be this machine's
# time service); only one that appeared while this script installed chrony
# itself (a policy-rc.d of the machine's own let the package start it) is
# stopped again.
#
# For tests only (tests/system/005-deps): TEMPUS_DEPS_NEED replaces the list
# below, TEMPUS_DEPS_APT the apt-get command, TEMPUS_DEPS_POLICY the path of
# policy-rc.d.
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
tzdata:/usr/share/zoneinfo/leap-seconds.list
"
# The 32-bit build of the unit tests (make unit32) on x86_64 hosts: gcc -m32
# and the i386 libraries (Debian multiarch; NAME@i386 is NAME:i386).
if [ "$(uname -m)" = x86_64 ]; then
    NEED="$NEED
gcc-multilib:/usr/lib/gcc/x86_64-linux-gnu/12/32/libgcc.a
libcmocka-dev@i386:/usr/lib/i386-linux-gnu/libcmocka.so
libssl-dev@i386:/usr/lib/i386-linux-gnu/libssl.so
libseccomp-dev@i386:/usr/lib/i386-linux-gnu/libseccomp.so
"
fi
# The right/ zones (leapsectz and its tests): in tzdata up to Debian 12, in
# tzdata-legacy from Debian 13 (and Ubuntu 24.04) on.
if apt-cache show tzdata-legacy >/dev/null 2>&1; then
    NEED="$NEED
tzdata-legacy:/usr/share/zoneinfo/right/UTC"
else
    NEED="$NEED
tzdata:/usr/share/zoneinfo/right/UTC"
fi
NEED=${TEMPUS_DEPS_NEED:-$NEED}
APT=${TEMPUS_DEPS_APT:-apt-get}
POLICY=${TEMPUS_DEPS_POLICY:-/usr/sbin/policy-rc.d}

have() {
    case "$1" in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] ;;
    esac
}

missing=()
for item in $NEED; do
    pkg=${item%%:*} probe=${item#*:}
    have "$probe" || missing+=("${pkg/@/:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run as root:  apt-get update && $line" >&2
    exit 1
fi
echo "deps: installing missing Debian packages: ${missing[*]}"
# chronyd processes before the install: never ours to stop.
before=" $(pgrep -x chronyd 2>/dev/null | tr '\n' ' ') "
created_policy=0
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# tempus deps.sh: no service starts during install\nexit 101\n' > "$POLICY"
    chmod 755 "$POLICY"
    created_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
case " ${missing[*]}" in
*:i386*) dpkg --print-foreign-architectures | grep -qx i386 || dpkg --add-architecture i386 ;;
esac
$APT update -qq && $APT install -y -qq "${missing[@]}" >/tmp/tempus-deps.log 2>&1
rc=$?
[ "$created_policy" -eq 1 ] && rm -f "$POLICY"
if [ $rc -ne 0 ]; then
    tail -20 /tmp/tempus-deps.log >&2
    echo "deps: apt-get failed (rc=$rc); see /tmp/tempus-deps.log" >&2
    exit 1
fi
# A chronyd that this install started (the package's scripts, when a
# policy-rc.d of the machine's own allowed it) would discipline the real
# clock: stop it. Only when chrony was installed here, only processes that
# did not exist before, and never a test peer (-x or -Q).
case " ${missing[*]} " in *" chrony "*) ;; *) before=all ;; esac
if [ "$before" != all ]; then
    for pid in $(pgrep -x chronyd 2>/dev/null); do
        case $before in *" $pid "*) continue ;; esac
        if ! tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -qE -- ' -(x|Q)( |$)'; then
            echo "deps: stopping the chronyd the chrony package just started (pid $pid)"
            kill "$pid"
        fi
    done
fi
echo "deps: installed ${missing[*]}"
