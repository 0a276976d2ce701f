# SPDX-License-Identifier: GPL-2.0-only
# lkvm: a userspace KVM VMM for RISC-V.
#
#   make                        ./lkvm for the build host
#   make deps                   build the riscv64 libraries and uapi headers
#                               a cross build links against into the cache
#                               (tests/e2e/build-deps.sh); CROSS_COMPILE as
#                               below, riscv64-linux-gnu- by default
#   make CROSS_COMPILE=riscv64-linux-gnu- STATIC=1
#                               a static riscv64 ./lkvm (against what make
#                               deps built, or DEPS=PREFIX)
#   make check                  unit tests, fuzz smoke runs, the scripts' host
#                               tests, e2e tests
#   make unit | unit-tsan | unit-uapi61 | fuzz | scripts | e2e [T=case]
#   make install PREFIX=/usr/local DESTDIR=
#   V=1 shows commands, WERROR=0 keeps warnings non-fatal.

ifeq ($(V),1)
Q :=
else
Q := @
endif

CROSS_COMPILE ?=
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
HOSTCC ?= gcc
FUZZCC ?= clang
PREFIX ?= /usr/local
DESTDIR ?=
WERROR ?= 1
STATIC ?=
FUZZ_TIME ?= 5
OUT ?= lkvm

ARCH := $(shell $(CC) -dumpmachine 2>/dev/null | cut -d- -f1)
ifeq ($(ARCH),)
$(error cannot run the compiler '$(CC)')
endif
BUILD := .build/$(ARCH)$(if $(STATIC),-static)

# Goals that build no lkvm, and so need neither its dependencies nor
# feature detection.
NO_BUILD_GOALS := clean deps scripts e2e demo
BUILDS := $(filter-out $(NO_BUILD_GOALS),$(or $(MAKECMDGOALS),all))

# A cross build links against riscv64 libraries and 6.12 uapi headers that
# `make deps` builds from Debian sources into the cache. Reading this file
# builds nothing: it only looks for them, by the hash of their inputs.
DEPS_CROSS := $(or $(CROSS_COMPILE),riscv64-linux-gnu-)
ifneq ($(CROSS_COMPILE),)
ifeq ($(DEPS),)
ifneq ($(BUILDS),)
DEPS := $(shell tests/e2e/build-deps.sh --find $(CROSS_COMPILE) 2>/dev/null)
ifeq ($(DEPS),)
$(error riscv64 dependencies for $(CROSS_COMPILE)gcc not built: run 'make deps CROSS_COMPILE=$(CROSS_COMPILE)' first (or give DEPS=PREFIX))
endif
endif
endif
endif

LKVM_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wold-style-definition -Wpointer-arith -Wundef \
	-Wvla -Wcast-align -Wwrite-strings -Wno-missing-field-initializers
ifneq ($(WERROR),0)
WARNINGS += -Werror
endif

CFLAGS ?= -O2 -g
BASE_CPPFLAGS := -Iinclude -I. -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
ifneq ($(DEPS),)
BASE_CPPFLAGS += -isystem $(DEPS)/include
LDFLAGS += -L$(DEPS)/lib
endif
ifneq ($(STATIC),)
LDFLAGS += -static
endif

try-link = $(shell echo 'int main(void){return 0;}' | $(2) $(BASE_CPPFLAGS) \
	-include $(1) -x c - -o /dev/null $(LDFLAGS) $(3) 2>/dev/null && echo y)

# Feature detection.
ifneq ($(BUILDS),)
HAVE_FDT := $(call try-link,libfdt.h,$(CC),-lfdt)
ifneq ($(HAVE_FDT),y)
$(error libfdt not found: install libfdt-dev (native) or run 'make deps' (cross))
endif
HAVE_AIO := $(call try-link,libaio.h,$(CC),-laio)
HAVE_SECCOMP := $(call try-link,seccomp.h,$(CC),-lseccomp)
HAVE_ZLIB := $(call try-link,zlib.h,$(CC),-lz)
ifneq ($(HAVE_ZLIB),y)
$(info lkvm: zlib not found: building without it (qcow2 images with compressed clusters are refused))
endif
ifneq ($(HAVE_AIO),y)
$(info lkvm: libaio not found: building without it (disk I/O uses worker threads))
endif
ifneq ($(HAVE_SECCOMP),y)
$(info lkvm: libseccomp not found: building without the syscall filter (lkvm run warns))
endif
endif

FEATURES := $(if $(HAVE_AIO),-DHAVE_LIBAIO) $(if $(HAVE_SECCOMP),-DHAVE_SECCOMP) \
	$(if $(HAVE_ZLIB),-DHAVE_ZLIB)
LIBS := -lfdt $(if $(HAVE_AIO),-laio) $(if $(HAVE_SECCOMP),-lseccomp) \
	$(if $(HAVE_ZLIB),-lz) -lpthread

# Files named kvm-*.c talk to KVM through the riscv64 uapi and build only for
# riscv64 hosts; *-foreign.c stand in for them on other hosts. Everything
# else except main.c and builtin-*.c is portable and is what the unit tests
# and fuzz targets link against.
ALL_SRCS := $(sort $(wildcard *.c util/*.c riscv/*.c virtio/*.c hw/*.c disk/*.c net/*.c))
KVM_SRCS := $(foreach f,$(ALL_SRCS),$(if $(filter kvm-%,$(notdir $(f))),$(f)))
FOREIGN_SRCS := $(filter %-foreign.c,$(ALL_SRCS))
CMD_SRCS := main.c
CORE_SRCS := $(filter-out $(KVM_SRCS) $(FOREIGN_SRCS) $(CMD_SRCS),$(ALL_SRCS))
ifeq ($(ARCH),riscv64)
LKVM_SRCS := $(CMD_SRCS) $(CORE_SRCS) $(filter-out $(FOREIGN_SRCS),$(KVM_SRCS))
else
LKVM_SRCS := $(CMD_SRCS) $(CORE_SRCS) $(FOREIGN_SRCS)
endif
LKVM_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LKVM_SRCS))

UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
TEST_CORE_SRCS := $(CORE_SRCS) $(FOREIGN_SRCS)
# The shared test library (fake guest RAM, rings, a virtio driver, a fake
# disk): built into the unit tests and linked into every fuzz target.
TESTLIB_SRCS := $(sort $(wildcard tests/lib/*.c))
TESTLIB_HDRS := $(wildcard tests/lib/*.h)
# UNIT_DIR and UAPI_INC let unit-uapi61 build the same tests elsewhere
# against other uapi headers.
UNIT_DIR ?= .build/unit
UAPI_INC ?=
UNIT_UAPI := $(if $(UAPI_INC),-isystem $(UAPI_INC) \
	-isystem $(UAPI_INC)/$(shell $(HOSTCC) -print-multiarch))
UNIT_OBJS := $(patsubst %.c,$(UNIT_DIR)/%.o,$(TEST_CORE_SRCS) $(TESTLIB_SRCS) \
	$(UNIT_SRCS))
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_FEATURES := $(if $(call try-link,libaio.h,$(HOSTCC),-laio),-DHAVE_LIBAIO) \
	$(if $(call try-link,seccomp.h,$(HOSTCC),-lseccomp),-DHAVE_SECCOMP) \
	$(if $(call try-link,zlib.h,$(HOSTCC),-lz),-DHAVE_ZLIB)
HOST_LIBS := -lfdt $(if $(findstring LIBAIO,$(HOST_FEATURES)),-laio) \
	$(if $(findstring SECCOMP,$(HOST_FEATURES)),-lseccomp) \
	$(if $(findstring ZLIB,$(HOST_FEATURES)),-lz) -lpthread

# The same unit tests under ThreadSanitizer: the concurrency tests are in
# them (the stress tests of tests/unit/test-virtio-race.c and friends).
TSAN_OBJS := $(patsubst %.c,.build/tsan/%.o,$(TEST_CORE_SRCS) $(TESTLIB_SRCS) \
	$(UNIT_SRCS))
# (-Wno-tsan: the fences in virtio/queue.c order accesses to guest memory,
# which the guest, not a host thread, shares; TSan does not model them)
TSAN := -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan

FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,.build/fuzz/%,$(FUZZ_SRCS))
FUZZ_CORE_OBJS := $(patsubst %.c,.build/fuzz/obj/%.o,$(TEST_CORE_SRCS))
FUZZ_LIB_OBJS := $(patsubst %.c,.build/fuzz/obj/%.o,$(TESTLIB_SRCS))
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all

.PHONY: all clean deps install check unit unit-tsan unit-uapi61 fuzz fuzz-build e2e \
	scripts \
	demo FORCE
all: $(OUT)

$(OUT): $(LKVM_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS)

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(BASE_CPPFLAGS) $(FEATURES) -DLKVM_HOST_ARCH='"$(ARCH)"' \
		$(WARNINGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/main.o: BASE_CPPFLAGS += -DLKVM_VERSION='"$(LKVM_VERSION)"'
$(BUILD)/main.o: FORCE

# Rebuild everything when the compiler or flags change.
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(BASE_CPPFLAGS) $(FEATURES) $(WARNINGS) $(CFLAGS) $(LDFLAGS)' > $@.new
	@cmp -s $@ $@.new && rm -f $@.new || mv $@.new $@

unit: $(UNIT_DIR)/run-tests
	@echo "  UNIT    tests/unit$(if $(UAPI_INC), (uapi $(UAPI_INC)))"
	$(Q)ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		$(UNIT_DIR)/run-tests

# The unit tests built against Debian 12's stock 6.1 uapi headers, which
# tests/unit/uapi61.sh fetches into the cache once.
unit-uapi61:
	$(Q)inc=$$(tests/unit/uapi61.sh) && \
		$(MAKE) --no-print-directory unit UNIT_DIR=.build/unit-uapi61 \
		UAPI_INC="$$inc"

$(UNIT_DIR)/run-tests: $(UNIT_OBJS)
	@echo "  LINK    $@"
	$(Q)$(HOSTCC) $(SAN) -o $@ $^ $(HOST_LIBS)

# Rebuild the unit objects when the uapi headers they use change.
$(UNIT_DIR)/.flags: FORCE
	@mkdir -p $(UNIT_DIR)
	@echo '$(HOSTCC) $(UNIT_UAPI) $(HOST_FEATURES)' > $@.new
	@cmp -s $@ $@.new && rm -f $@.new || mv $@.new $@

# Every UNIT_SUITE(name, ...) in tests/unit registers itself here.
$(UNIT_DIR)/suites.h: $(UNIT_SRCS)
	@mkdir -p $(dir $@)
	$(Q)sed -n 's/^UNIT_SUITE(\([a-z0-9_]*\),.*/\1/p' $(UNIT_SRCS) | sort | \
		awk '{ d = d "extern const struct unit_suite " $$1 "_suite;\n"; \
		       l = l "&" $$1 "_suite, " } \
		     END { printf "%s#define UNIT_SUITES %s\n", d, l }' > $@

$(UNIT_DIR)/tests/unit/main.o: $(UNIT_DIR)/suites.h

$(UNIT_DIR)/%.o: %.c $(UNIT_DIR)/.flags
	@mkdir -p $(dir $@)
	@echo "  CC      $< (unit)"
	$(Q)$(HOSTCC) $(UNIT_UAPI) $(BASE_CPPFLAGS) $(HOST_FEATURES) -Itests/unit \
		-Itests/lib -I$(UNIT_DIR) $(WARNINGS) -g -O1 $(SAN) -MMD -MP -c -o $@ $<

unit-tsan: .build/tsan/run-tests
	@echo "  UNIT    tests/unit (ThreadSanitizer)"
	$(Q)TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		.build/tsan/run-tests

.build/tsan/run-tests: $(TSAN_OBJS)
	@echo "  LINK    $@"
	$(Q)$(HOSTCC) $(TSAN) -o $@ $^ $(HOST_LIBS)

.build/tsan/tests/unit/main.o: .build/unit/suites.h

.build/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (tsan)"
	$(Q)$(HOSTCC) $(BASE_CPPFLAGS) $(HOST_FEATURES) -Itests/unit -Itests/lib \
		-I.build/unit $(WARNINGS) \
		-g -O1 $(TSAN) -MMD -MP -c -o $@ $<

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_BINS)

.build/fuzz/%: tests/fuzz/%.c $(FUZZ_CORE_OBJS) $(FUZZ_LIB_OBJS) \
		$(TESTLIB_HDRS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZCC) $(BASE_CPPFLAGS) $(HOST_FEATURES) -Itests/lib $(FUZZ_FLAGS) \
		-fsanitize=fuzzer -o $@ $< $(FUZZ_CORE_OBJS) $(FUZZ_LIB_OBJS) \
		$(HOST_LIBS)

.build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZCC) $(BASE_CPPFLAGS) $(HOST_FEATURES) -Itests/lib $(FUZZ_FLAGS) \
		-MMD -MP -c -o $@ $<

deps:
	$(Q)d=$$(tests/e2e/build-deps.sh $(DEPS_CROSS)) && echo "  DEPS    $$d"

# The build, provisioning and demo scripts on this host (dry runs, and the
# native demo's guest fetched as a riscv64 host would).
scripts:
	$(Q)tests/scripts/run.sh

e2e:
	$(Q)tests/e2e/run.sh $(T)

demo:
	$(Q)tests/e2e/demo.sh

check: unit unit-tsan unit-uapi61 fuzz scripts e2e

install: $(OUT)
	install -D -m 0755 $(OUT) $(DESTDIR)$(PREFIX)/bin/lkvm

clean:
	rm -rf .build lkvm

FORCE:

.SECONDARY: $(FUZZ_CORE_OBJS) $(FUZZ_LIB_OBJS) $(UNIT_OBJS) $(TSAN_OBJS)

-include $(LKVM_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(TSAN_OBJS:.o=.d) \
	$(FUZZ_CORE_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d)
