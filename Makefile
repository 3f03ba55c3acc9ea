# SPDX-License-Identifier: ISC
# tempus: plain GNU make. Every src/*.c except the programs' main files goes
# into build/libtempus.a; each tests/unit/test_*.c becomes one cmocka binary.

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
SAN     ?=

CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -iquote src
ALLCFLAGS = -std=c11 $(WARN) $(CPPFLAGS) $(CFLAGS)
LDLIBS   += -lssl -lcrypto -lseccomp -lpthread -lm

ifeq ($(SAN),1)
ALLCFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all
LDFLAGS   += -fsanitize=address,undefined
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

.PHONY: all check unit sim system asan analyze deps demo bench fuzz install clean
all: $(PROGS:%=$(BUILD)/%)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libtempus.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

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

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

deps:
	@scripts/deps.sh

# unit: run every cmocka binary; the runner prints one closing tally.
unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

sim: $(SIM_BIN)
	@if [ -n "$(SIM_BIN)" ]; then $(SIM_BIN); else echo "sim: no simulator built yet"; fi

SHIM_BIN = $(patsubst tests/shim/%.c,$(BUILD)/tests/%.so,$(wildcard tests/shim/*.c))

system: all $(BENCH_BIN) $(SHIM_BIN) $(TOOL_BIN)
	@tests/system/run

# The sanitizer build lives in its own tree so it never mixes objects; it
# runs the unit and simulator suites and the system tests against sanitized
# daemons (any sanitizer report fails the test that triggered it).
asan: $(SHIM_BIN) $(TOOL_BIN)
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit sim
	@TEMPUS_SANITIZED=1 TEMPUSD=$(CURDIR)/build/asan/tempusd tests/system/run

# Static analysis: cppcheck, then clang-tidy with the checks in .clang-tidy
# and the build's own flags, over every source; any finding fails.
analyze:
	@cppcheck --std=c11 --enable=warning,portability,performance --inline-suppr --quiet \
	    -D_GNU_SOURCE -I src --error-exitcode=1 src tests/unit tests/sim tests/shim tests/tools bench fuzz
	@echo "analyze: cppcheck clean"
	@scripts/tidy.sh -std=c11 $(WARN) $(CPPFLAGS)

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory sim
	@$(MAKE) --no-print-directory system
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory analyze
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-15} $(MAKE) --no-print-directory fuzz
	@echo "make check: all suites passed"

demo: deps all
	@scripts/demo.sh

bench: deps all $(BENCH_BIN)
	@bench/run

# libFuzzer targets in fuzz/, FUZZ_SECONDS each (default 60); see fuzz/README.md.
fuzz: deps
	@fuzz/run

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man5 \
	           $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(PROGS:%=$(BUILD)/%) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 doc/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 doc/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d)
