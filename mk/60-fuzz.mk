# Fuzzing (fuzz/, its own crate outside the workspace; cargo-fuzz on nightly).
# See docs/fuzzing.md for the targets, the seed corpora and the results.
#
#   make setup-fuzz   cargo-fuzz (pinned) into .tools, when a nightly toolchain is installed
#   make fuzz         every target for FUZZ_SECONDS each (default 60), seeded from the vectors
#   make fuzz-runs    every target for FUZZ_RUNS executions each (default 10,000,000): the long run
#   make test-fuzz    every target for FUZZ_SMOKE_RUNS inputs each (default 60000, seed 1) when nightly is
#                     present (says so and skips otherwise); the regression inputs in
#                     fuzz/regressions/ run on stable through `cargo test -p tessera --test fuzz_regressions`
.PHONY: setup-fuzz fuzz fuzz-runs test-fuzz fuzz-corpus

CARGO_FUZZ_VERSION := 0.13.2
FUZZ_SECONDS ?= 60
# make test runs a fixed number of inputs from a fixed seed, not a time: the
# same corpus and binary then run the same inputs on every machine (no chance failure).
FUZZ_SMOKE_RUNS ?= 60000
FUZZ_DIR := $(ROOT)/fuzz
FUZZ_TARGETS = $(shell sed -n 's/^name = "\(fuzz_[a-z_]*\)"$$/\1/p' $(FUZZ_DIR)/Cargo.toml)
HAVE_NIGHTLY = $(shell rustup toolchain list 2>/dev/null | grep -q '^nightly' && echo yes)

setup-fuzz: setup-rust
	@if [ "$(HAVE_NIGHTLY)" != yes ]; then echo "setup-fuzz: no nightly toolchain (rustup toolchain list); skipped"; exit 0; fi; \
	if [ "$$($(ROOT)/.tools/bin/cargo-fuzz --version 2>/dev/null)" = "cargo-fuzz $(CARGO_FUZZ_VERSION)" ]; then \
	  echo "cargo-fuzz $(CARGO_FUZZ_VERSION) already in .tools"; \
	else \
	  nice -n 5 cargo install --root $(ROOT)/.tools cargo-fuzz --version "$(CARGO_FUZZ_VERSION)" --locked --force \
	  || nice -n 5 cargo install --root $(ROOT)/.tools cargo-fuzz --version "$(CARGO_FUZZ_VERSION)" --force; \
	fi

# Seed corpora, rebuilt from conformance/vectors/*.json (never committed).
fuzz-corpus:
	python3 $(FUZZ_DIR)/seed_corpus.py $(ROOT)/conformance/vectors $(ROOT)/target/fuzz-corpus

# One run per target, without a sanitizer (the code under test is safe Rust; the
# C of aws-lc is not what is fuzzed) and with debug assertions (overflow checks
# panic). libFuzzer stops at the first crash (saved under
# fuzz/artifacts/<target>/) and the make fails.
define run_fuzz
	@if [ "$(HAVE_NIGHTLY)" != yes ]; then echo "$(1): no nightly toolchain installed; fuzzing skipped"; exit 0; fi; \
	$(MAKE) --no-print-directory setup-fuzz fuzz-corpus; \
	cd $(FUZZ_DIR) && for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(ROOT)/target/fuzz-corpus/$$t; \
	  echo "== $$t: $(2)"; \
	  nice -n 5 cargo +nightly fuzz run -O -s none -a $$t $(ROOT)/target/fuzz-corpus/$$t -- \
	    $(2) -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 2>&1 \
	    | grep -E '^(stat::number_of_executed_units|stat::peak_rss|==[0-9]+== ERROR|SUMMARY|Done|artifact_prefix|Test unit written)' ; \
	  test $${PIPESTATUS[0]} -eq 0 || { echo "$$t: failure; input saved under fuzz/artifacts/$$t/" >&2; exit 1; }; \
	done
endef

fuzz:
	$(call run_fuzz,fuzz,-max_total_time=$(FUZZ_SECONDS))

# The long run of docs/fuzzing.md: each target for FUZZ_RUNS executions (default 10 M).
FUZZ_RUNS ?= 10000000
fuzz-runs:
	$(call run_fuzz,fuzz-runs,-runs=$(FUZZ_RUNS))

test-fuzz:
	$(call run_fuzz,test-fuzz,-runs=$(FUZZ_SMOKE_RUNS) -seed=1)

TEST_TARGETS += test-fuzz
