# tessera — every command sets up what it needs on a fresh machine.
#
#   make demo   runs the example policy and prints a decision table
#   make test   runs every test: Rust, WebAssembly (Node + browser), Python, conformance
#   make bench  runs the benchmarks (not part of `make test`)
#
# Each area keeps its rules in mk/NN-area.mk and appends its entry points to
# SETUP_TARGETS / TEST_TARGETS / BENCH_TARGETS; the order of the files is the order they run.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath .)
export PATH := $(ROOT)/.tools/bin:$(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR ?= never

SETUP_TARGETS :=
TEST_TARGETS :=
BENCH_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: setup test demo bench
setup: $(SETUP_TARGETS)
test: $(TEST_TARGETS)
	@echo "make test: all suites passed"
bench: $(BENCH_TARGETS)
