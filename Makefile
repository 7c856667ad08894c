# dlgrade - top-level Makefile.
#
#   make            build libnnref (float and double) and the dlgrade program
#   make demo       install missing packages, build, run the main job
#   make test       install missing packages, build, run every test: the
#                   float and double builds, once under ASan + UBSan, and
#                   the student-template tests once (test-integration);
#                   after the builds the four runs share the cores, as many
#                   at once as make has jobs, each one's output shown whole
#                   when it ends
#   make bench      timings (never asserted in tests)
#   make clean
#
# Debian packages, installed by scripts/ensure-deps (the deps target):
#   gcc make pkg-config check libyaml-dev zlib1g-dev libopenblas-dev
#   libjansson-dev libarchive-dev libseccomp-dev libexpat1-dev libelf-dev
#   bubblewrap valgrind
#   dataset-fashion-mnist (python3-torch only for make bench's comparison)
# Every library comes from pkg-config. Objects go to build/<variant>/, one
# variant per precision plus a sanitizer build; the sources are the same.

# Build on every core unless the caller chose (make -jN overrides this).
# Only the top make: the makes it starts share its jobs (make 4.3 does not
# show them -j here, and forcing one would give each its own set).
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
endif

CC      ?= cc
BUILD   ?= build
PKGS    := yaml-0.1 zlib openblas jansson libarchive libseccomp expat libelf
TESTPKG := check

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla \
            -Wundef -Wcast-align -Wno-format-truncation
# The grader's version in its reports: the commit it was built from.
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# Messages are cut to their buffers on purpose: -Wno-format-truncation.
# ISO C11 keeps floating-point contraction off (-ffp-contract=off), so
# results do not change with the compiler's mood; no -ffast-math anywhere.
# -fno-math-errno only stops sqrt() from setting errno, which lets loops
# calling it vectorise; the results are the same IEEE values.
BASE_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARNINGS) -MMD -MP -fno-math-errno \
               -DDLGRADE_VERSION='"$(VERSION)"' \
               -Ireference/include -Igrader/src $(shell pkg-config --cflags $(PKGS) $(TESTPKG) 2>/dev/null)
OPT_CFLAGS  ?= -O3 -march=native -g
# The test programs' own code (check_*.c, test_main.c, fixture.c) is
# compiled at -O1, as in the sanitizer build: they test the libraries
# built with OPT_CFLAGS, their loops are not what is timed, and -O1
# compiles them in half the time of -O3 (more than half of a clean build
# was the tests). Floating-point results do not depend on the level
# (contraction is off, no -ffast-math).
TEST_OPT_CFLAGS ?= -O1
LIBS        := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
TEST_LIBS   := $(shell pkg-config --libs $(TESTPKG) 2>/dev/null)

SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

CFLAGS_float  := $(BASE_CFLAGS) $(OPT_CFLAGS)
CFLAGS_double := $(BASE_CFLAGS) $(OPT_CFLAGS) -DNN_REAL_DOUBLE
CFLAGS_asan   := $(BASE_CFLAGS) -O1 -g -DNN_REAL_DOUBLE $(SANITIZE)
LDFLAGS_asan  := $(SANITIZE)

REF_SRC     := $(wildcard reference/src/*.c reference/src/network/*.c)
REF_TESTS   := $(wildcard reference/tests/check_*.c)
GRADER_SRC  := $(filter-out grader/src/main.c,$(wildcard grader/src/*.c))
# What the runner (the sandboxed program linked with a student unit) is
# built from, besides the unit and libnnref.
RUNNER_SUPPORT := grader/src/kernels.c grader/src/kernel_call.c grader/src/protocol.c \
                  grader/src/runner_serve.c
GRADER_MAIN := $(wildcard grader/src/main.c)
GRADER_TESTS:= $(wildcard grader/tests/check_*.c)
TEST_SUPPORT:= reference/tests/test_main.c reference/tests/fixture.c
VARIANTS    := float double asan

objects = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

# Reference-only code (grader/src/stub.h): files marked "dlgrade:
# reference only" (the fast convolution engine) hold answers outside any
# solution region. libnnref is compiled with -DNN_REFERENCE_ONLY, under
# which the units that use them (conv2d.c, conv_transpose2d.c) call them
# from their solution regions. The runner kit has none of it: its
# libnnref.a leaves those objects out and holds the users compiled again
# without the macro (their im2col + GEMM path, a student's), its headers
# leave the marked ones out, and lib/reference-only lists the functions,
# which the grader's inspection refuses by name.
REF_ONLY_MARK  := dlgrade: reference only
REF_ONLY_SRC   := $(shell grep -l '$(REF_ONLY_MARK)' $(REF_SRC) 2>/dev/null)
REF_ONLY_HDR   := $(shell grep -l '$(REF_ONLY_MARK)' reference/include/nn/*.h 2>/dev/null)
REF_ONLY_USERS := $(shell grep -l 'NN_REFERENCE_ONLY' $(filter-out $(REF_ONLY_SRC),$(REF_SRC)) 2>/dev/null)
KIT_REF_SRC    := $(filter-out $(REF_ONLY_SRC) $(REF_ONLY_USERS),$(REF_SRC))
kit_objects = $(call objects,$(1),$(KIT_REF_SRC)) $(patsubst %.c,$(BUILD)/$(1)/kit/%.o,$(REF_ONLY_USERS))

# The units with solutions, stubbed (each SOLUTION region becomes `return
# NN_ERR_NOT_IMPLEMENTED;`, a "(no stub)" region nothing, as in the student
# template): a runner links
# the reference only for the units its assignment provides, so no other
# solution reaches the sandbox (docs/SECURITY.md).
SOLUTION_SRC   := $(shell grep -l 'BEGIN SOLUTION' $(REF_SRC) 2>/dev/null)
SOLUTION_UNITS := $(notdir $(SOLUTION_SRC:.c=))
stubs = $(patsubst %,$(BUILD)/$(1)/stubs/%.o,$(SOLUTION_UNITS))

.SECONDARY: $(patsubst %,$(BUILD)/stubs/%.c,$(SOLUTION_UNITS))
$(BUILD)/stubs/%.c: reference/src/%.c
	@mkdir -p $(@D)
	@sed -e '/BEGIN SOLUTION (no stub)/,/END SOLUTION/d' \
	     -e '/BEGIN SOLUTION/,/END SOLUTION/c\    return NN_ERR_NOT_IMPLEMENTED;' $< > $@

.PHONY: all demo test test-unit test-float test-double test-asan test-integration bench clean deps student-template install
.DEFAULT_GOAL := all

all: $(BUILD)/float/libnnref.a $(BUILD)/double/libnnref.a \
     $(BUILD)/float/dlgrade $(BUILD)/double/dlgrade $(BUILD)/double/runner-kit/stamp $(BUILD)/float/runner-kit/stamp

deps:
	@scripts/ensure-deps

# One set of rules per variant, generated so that the three builds cannot
# drift apart.
define variant_rules
$(BUILD)/$(1)/%.o: %.c
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$(CC) $$(CFLAGS_$(1)) $$(REFERENCE_ONLY_FLAGS) $$(TEST_FLAGS) -I$(BUILD)/$(1) -c $$< -o $$@

$(BUILD)/$(1)/libnnref.a: $(call objects,$(1),$(REF_SRC))
	@rm -f $$@
	@echo "  AR $$@"
	@ar rcs $$@ $$^

# Only libnnref's own objects see the macro (never the tests, the stubs or
# the kit's copies below).
$(call objects,$(1),$(REF_SRC)): REFERENCE_ONLY_FLAGS := -DNN_REFERENCE_ONLY
$(call objects,$(1),$(TEST_SUPPORT) $(REF_TESTS) $(GRADER_TESTS)): TEST_FLAGS := $(TEST_OPT_CFLAGS)

$(BUILD)/$(1)/kit/%.o: %.c
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] kit $$<"
	@$$(CC) $$(CFLAGS_$(1)) -I$(BUILD)/$(1) -c $$< -o $$@

$(BUILD)/$(1)/kit/libnnref.a: $(call kit_objects,$(1))
	@rm -f $$@
	@echo "  AR $$@"
	@ar rcs $$@ $$^

$(BUILD)/$(1)/libdlgrade.a: $(call objects,$(1),$(GRADER_SRC))
	@rm -f $$@
	@echo "  AR $$@"
	@ar rcs $$@ $$^

$(BUILD)/$(1)/dlgrade: $(call objects,$(1),$(GRADER_MAIN)) $(BUILD)/$(1)/libdlgrade.a $(BUILD)/$(1)/libnnref.a
	@echo "  LD $$@"
	@$$(CC) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(LIBS)

# Stubs are generated code: warnings (unused parameters) are expected.
$(BUILD)/$(1)/stubs/%.o: $(BUILD)/stubs/%.c
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] stub $$*"
	@$$(CC) $$(CFLAGS_$(1)) -w -c $$< -o $$@

# The runner kit: everything the grader needs to build a runner for a
# student unit inside the sandbox, in one folder it can show read-only.
# No reference-only code: the recipe fails if the kit's library still
# needs or holds a function of it.
$(BUILD)/$(1)/runner-kit/stamp: $(call objects,$(1),grader/runner/runner.c $(RUNNER_SUPPORT)) \
                                $(BUILD)/$(1)/kit/libnnref.a $(wildcard reference/include/nn/*.h) \
                                $(call objects,$(1),$(REF_ONLY_SRC)) $(call stubs,$(1))
	@echo "  KIT $$(@D)"
	@rm -rf $$(@D) && mkdir -p $$(@D)/lib $$(@D)/include
	@cp $(BUILD)/$(1)/grader/runner/runner.o $(BUILD)/$(1)/kit/libnnref.a $$(@D)/lib/
	@ar rcs $$(@D)/lib/librunner.a $(call objects,$(1),$(RUNNER_SUPPORT))
	@ar rcs $$(@D)/lib/libnnstub.a $(call stubs,$(1))
	@echo "$(SOLUTION_UNITS)" > $$(@D)/lib/solution-units
	@nm -g --defined-only $(call objects,$(1),$(REF_ONLY_SRC)) /dev/null 2>/dev/null \
	    | awk 'NF == 3 { print $$$$3 }' | sort -u > $$(@D)/lib/reference-only
	@if nm $$(@D)/lib/*.a | awk 'NF >= 2 { print $$$$NF }' | grep -xFf $$(@D)/lib/reference-only; then \
	    echo "$$(@D): the kit's libraries name the reference-only functions above" >&2; exit 1; fi
	@cp -r reference/include/nn $$(@D)/include/
	@rm -f $(patsubst reference/include/%,$$(@D)/include/%,$(REF_ONLY_HDR))
	@echo "$$(CFLAGS_$(1))" | tr ' ' '\n' | grep -E '^-(D|std|O|march|fno-math|fsanitize|fno-omit|fno-sanitize)' | grep -v MMD | tr '\n' ' ' > $$(@D)/cflags
	@echo "$$(LDFLAGS_$(1)) $$(LIBS)" > $$(@D)/libs
	@touch $$@

# The test runner finds its suites by their `Suite *name_suite(void)`
# definitions, so adding a check_*.c file is all it takes to add tests.
$(BUILD)/$(1)/suites.def: $(REF_TESTS) $(GRADER_TESTS)
	@mkdir -p $$(@D)
	@sed -n 's/^Suite \*\([a-z0-9_]*_suite\)(void)$$$$/SUITE(\1)/p' $$^ > $$@.tmp
	@mv $$@.tmp $$@

$(BUILD)/$(1)/reference/tests/test_main.o: $(BUILD)/$(1)/suites.def

$(BUILD)/$(1)/check-all: $(call objects,$(1),$(TEST_SUPPORT) $(REF_TESTS) $(GRADER_TESTS)) \
                          $(BUILD)/$(1)/libdlgrade.a $(BUILD)/$(1)/libnnref.a
	@echo "  LD $$@"
	@$$(CC) $$(LDFLAGS_$(1)) -o $$@ $$^ $$(LIBS) $$(TEST_LIBS)
endef
$(foreach v,$(VARIANTS),$(eval $(call variant_rules,$(v))))

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo $(BUILD)

# Four test runs: test-integration, test-asan, test-double, test-float.
# `make test` builds the three builds first, on every core (see MAKEFLAGS
# above), then makes the runs in one make, as many at once as it has jobs,
# longest first: the integration tests and the sanitizer run, then the
# double and float runs as the first ones end.
# --output-sync prints each run whole when it ends; each run's last line
# is Check's summary of all its suites; CK_FORK=yes isolates crashes (and
# check-all runs each suite in a process of its own, test_main.c says why).
TEST_PROGRAMS := all $(BUILD)/float/check-all $(BUILD)/double/check-all \
                 $(BUILD)/asan/check-all $(BUILD)/asan/dlgrade

test: deps
	@$(MAKE) --no-print-directory $(TEST_PROGRAMS)
	@$(MAKE) --no-print-directory --output-sync=target \
	    test-integration test-asan test-double test-float

test-unit:
	@$(MAKE) --no-print-directory --output-sync=target test-double test-float

# The grading tests of every build run build/double/dlgrade and its runner
# kit (grader/tests/check_grade.c): `all` for each.
test-float: $(BUILD)/float/check-all all
	@echo "== unit tests, float build"
	CK_FORK=yes $(BUILD)/float/check-all

test-double: $(BUILD)/double/check-all all
	@echo "== unit tests, double build"
	CK_FORK=yes $(BUILD)/double/check-all

test-asan: $(BUILD)/asan/check-all $(BUILD)/asan/dlgrade all
	@echo "== unit tests, double build under AddressSanitizer + UBSan"
	CK_FORK=yes ASAN_OPTIONS=detect_leaks=1 $(BUILD)/asan/check-all

# The student-template tests (release_suite, grader/tests/check_release.c)
# build and run the templates with cc, make and dlgrade, one to two minutes:
# they run once, here, instead of in each of the three builds above, which
# skip them and say so.
test-integration: $(BUILD)/double/check-all all
	@echo "== integration tests: the student templates and make install, once"
	CK_FORK=yes DLGRADE_INTEGRATION=1 DLGRADE_BUILD=$(BUILD) $(BUILD)/double/check-all release_suite install_suite

# The committed student templates are generated: a test regenerates them
# and fails on any difference (grader/tests/check_release.c).
student-template: all
	@for config in assignments/*/assignment.yaml; do \
	    name=$$(basename $$(dirname $$config)); \
	    $(BUILD)/float/dlgrade release $$name -o student-template/$$name || exit 1; \
	done

# Benchmark programs, float build. conv_bench.c is compiled with the
# command in its own header (no -Werror): it is a timing harness that the
# convolution work edits, and a warning in it must not stop the benchmarks.
BENCH_TOOLS := $(BUILD)/float/kernels_bench $(BUILD)/float/conv_bench \
               $(BUILD)/float/sandbox_bench $(BUILD)/float/memory_peak

$(BUILD)/float/kernels_bench: $(BUILD)/float/bench/kernels_bench.o $(BUILD)/float/libnnref.a
	@echo "  LD $@"
	@$(CC) -o $@ $^ $(LIBS)

$(BUILD)/float/conv_bench: bench/conv_bench.c $(BUILD)/float/libnnref.a
	@echo "  CC+LD $@"
	@$(CC) -std=c11 -O2 -march=native -D_GNU_SOURCE -Ireference/include $^ $(LIBS) -o $@

$(BUILD)/float/sandbox_bench: $(BUILD)/float/bench/sandbox_bench.o $(BUILD)/float/libdlgrade.a \
                              $(BUILD)/float/libnnref.a
	@echo "  LD $@"
	@$(CC) -o $@ $^ $(LIBS)

$(BUILD)/float/memory_peak: $(BUILD)/float/bench/memory_peak.o
	@echo "  LD $@"
	@$(CC) -o $@ $^

# scripts/bench runs every benchmark (about 10 minutes) and writes
# BENCHMARKS.md; as root it installs python3-torch for the PyTorch columns.
bench: deps all
	@$(MAKE) --no-print-directory $(BENCH_TOOLS)
	@scripts/bench $(BUILD)

# Installs both builds and their runner kits under $(PREFIX)/lib/dlgrade,
# with $(PREFIX)/bin/dlgrade pointing at the float build (which hands
# grading to the double one next to it). `dlgrade release` reads the
# reference sources: set DLGRADE_ROOT to a checkout when running it from
# an installed copy.
PREFIX ?= /usr/local
install: all
	@for variant in float double; do \
	    mkdir -p $(DESTDIR)$(PREFIX)/lib/dlgrade/$$variant && \
	    cp $(BUILD)/$$variant/dlgrade $(DESTDIR)$(PREFIX)/lib/dlgrade/$$variant/ && \
	    rm -rf $(DESTDIR)$(PREFIX)/lib/dlgrade/$$variant/runner-kit && \
	    cp -r $(BUILD)/$$variant/runner-kit $(DESTDIR)$(PREFIX)/lib/dlgrade/$$variant/ || exit 1; \
	done
	@mkdir -p $(DESTDIR)$(PREFIX)/bin
	@ln -sf ../lib/dlgrade/float/dlgrade $(DESTDIR)$(PREFIX)/bin/dlgrade
	@echo "installed dlgrade into $(DESTDIR)$(PREFIX)"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
