# SPDX-License-Identifier: ISC
# tempus: plain GNU make. Every src/*.c except the programs' main files goes
# into build/libtempus.a; each tests/unit/test_*.c becomes one cmocka binary.

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR       ?= $(PREFIX)/lib/systemd/system
BUILD   ?= build
SAN     ?=
# System tests run this many at a time (tests/system/run -j); each has its
# own ports, and those marked "# serial:" run alone.
SYSTEM_JOBS ?= 2
# make check runs the plain and the sanitized system passes as one pool of
# this many at a time, beside the CPU-bound suites.
CHECK_JOBS ?= 4

CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 -iquote src
ALLCFLAGS = -std=c11 $(WARN) $(CPPFLAGS) $(CFLAGS)
LDLIBS   += -lssl -lcrypto -lseccomp -lpthread -lm

ifeq ($(SAN),1)
ALLCFLAGS += -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
             -fno-sanitize-recover=all
LDFLAGS   += -fsanitize=address,undefined,float-cast-overflow
endif

PROGS    = tempusd tempusctl
PROG_SRC = $(foreach p,$(PROGS),src/$(p)_main.c)
LIB_SRC  = $(filter-out $(PROG_SRC),$(wildcard src/*.c))
LIB_OBJ  = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
SIM_SRC  = $(wildcard tests/sim/*.c)
SIM_BIN  = $(if $(SIM_SRC),$(BUILD)/tests/sim)
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
BENCH_SRC = $(wildcard bench/*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all check unit unit32 sim system asan analyze deps demo lab bench fuzz install clean \
        system-deps unit-bins sim-bin
all: $(PROGS:%=$(BUILD)/%)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libtempus.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# The main objects are kept: as intermediates make would delete them after
# the first link, and relink the programs on the next run (under system
# tests that are running them: 145-install runs make install).
.SECONDARY: $(PROG_SRC:src/%.c=$(BUILD)/obj/%.o)
$(BUILD)/%: $(BUILD)/obj/%_main.o $(BUILD)/libtempus.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtempus.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libtempus.a -lcmocka $(LDLIBS)

$(BUILD)/tests/sim: $(SIM_SRC) $(BUILD)/libtempus.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -iquote tests/sim -o $@ $(SIM_SRC) $(BUILD)/libtempus.a $(LDLIBS)

# Helper programs of the system tests, linked with the library.
$(BUILD)/tests/tools/%: tests/tools/%.c $(BUILD)/libtempus.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libtempus.a $(LDLIBS)

# LD_PRELOAD shims that system tests use to stand in for other kernels.
$(BUILD)/tests/%.so: tests/shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fPIC -shared -o $@ $< -ldl

$(BUILD)/bench/%: bench/%.c bench/seqcode.h
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# The NTS benchmark's key exchange and requests use the NTS modules.
$(BUILD)/bench/ntsprep: bench/ntsprep.c bench/seqcode.h $(BUILD)/libtempus.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libtempus.a $(LDLIBS)

deps:
	@scripts/deps.sh

# unit: run every cmocka binary; the runner prints one closing tally.
unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

# The unit tests built for i386 (gcc -m32, 64-bit time_t, SSE2 doubles as
# on x86_64): long is 32 bits there. Not test_sandbox: the seccomp
# allow-list names x86_64's system calls (said, not skipped silently).
UNIT32_BIN = $(filter-out %/test_sandbox,$(UNIT_SRC:tests/unit/%.c=build/m32/tests/%))
unit32:
	@if [ "$$(uname -m)" != x86_64 ]; then echo "unit32: not an x86_64 host: no -m32 build"; exit 1; fi
	@echo "unit32: NOT RUN test_sandbox: the seccomp allow-list names x86_64 system calls only"
	@$(MAKE) --no-print-directory BUILD=build/m32 CFLAGS="-O2 -g -m32 -msse2 -mfpmath=sse" \
	    LDFLAGS=-m32 UNIT_BIN="$(UNIT32_BIN)" unit

sim: $(SIM_BIN)
	@if [ -n "$(SIM_BIN)" ]; then $(SIM_BIN); else echo "sim: no simulator built yet"; fi

SHIM_BIN = $(patsubst tests/shim/%.c,$(BUILD)/tests/%.so,$(wildcard tests/shim/*.c))

system: system-deps
	@tests/system/run -j $(SYSTEM_JOBS)

# The sanitizer build lives in its own tree so it never mixes objects; it
# runs the unit and simulator suites and the system tests against sanitized
# daemons (any sanitizer report fails the test that triggered it).
asan: $(SHIM_BIN) $(TOOL_BIN)
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit sim
	@TEMPUS_SANITIZED=1 TEMPUSD=$(CURDIR)/build/asan/tempusd tests/system/run -j $(SYSTEM_JOBS)

# Static analysis: cppcheck, then clang-tidy with the checks in .clang-tidy
# and the build's own flags, over every source; any finding fails.
analyze:
	@cppcheck --std=c11 --enable=warning,portability,performance --inline-suppr --quiet \
	    -D_GNU_SOURCE -I src --error-exitcode=1 src tests/unit tests/sim tests/shim tests/tools bench fuzz
	@echo "analyze: cppcheck clean"
	@! grep -nE '\<(strtok|localtime|gmtime|ctime|asctime)[[:space:]]*\(' src/*.c || \
	    { echo "analyze: calls with static state in a threaded daemon: use the _r forms"; exit 1; }
	@! grep -n 'time(NULL)' tests/unit/*.c || \
	    { echo "analyze: unit tests seed from a fixed, printed TEMPUS_SEED default, not the clock"; exit 1; }
	@scripts/tidy.sh -std=c11 $(WARN) $(CPPFLAGS)

# Every suite: the system tests (plain and sanitized, one pool) wait in the
# background while the CPU-bound suites run; see scripts/check.sh. Every
# suite runs even after a failure; the wall time is printed at the end.
check: deps
	@SYSTEM_JOBS=$(CHECK_JOBS) scripts/check.sh

# What the system tests need besides the programs, and the test binaries
# without running them (check builds both trees first).
system-deps: all $(BENCH_BIN) $(SHIM_BIN) $(TOOL_BIN)
unit-bins: $(UNIT_BIN)
sim-bin: $(SIM_BIN)

demo: deps all $(BUILD)/tests/tools/gpsplay
	@scripts/demo.sh

# The deployment in network namespaces (root): see scripts/lab.sh.
lab: deps all
	@scripts/lab.sh

bench: deps all $(BENCH_BIN)
	@bench/run

# libFuzzer targets in fuzz/, FUZZ_SECONDS each (default 60); see fuzz/README.md.
fuzz: deps
	@fuzz/run

# install: programs, man pages, the systemd units written for PREFIX, the
# alert rules, a commented sample config (as the config only where there
# is none yet: an existing one is never overwritten) and the state
# directory. DESTDIR stages it all for a package.
UNITS = tempusd.service tempus-wait-sync.service
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man5 \
	           $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(UNITDIR) \
	           $(DESTDIR)$(PREFIX)/share/tempus $(DESTDIR)$(SYSCONFDIR)/tempus
	install -d -m 0755 $(DESTDIR)$(LOCALSTATEDIR)/lib/tempus
	install -m 0755 $(PROGS:%=$(BUILD)/%) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 doc/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 doc/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	for u in $(UNITS); do \
	    sed -e 's#@SBINDIR@#$(PREFIX)/sbin#g' -e 's#@SYSCONFDIR@#$(SYSCONFDIR)#g' \
	        contrib/systemd/$$u.in > $(DESTDIR)$(UNITDIR)/$$u && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 contrib/prometheus/tempus.rules.yml $(DESTDIR)$(PREFIX)/share/tempus/
	install -m 0644 contrib/tempus.conf.sample $(DESTDIR)$(PREFIX)/share/tempus/
	[ -e $(DESTDIR)$(SYSCONFDIR)/tempus/tempus.conf ] || \
	    install -m 0644 contrib/tempus.conf.sample $(DESTDIR)$(SYSCONFDIR)/tempus/tempus.conf

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(PROGS:%=$(BUILD)/obj/%_main.d)
