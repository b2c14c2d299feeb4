# Analysis (SPEC §9; docs/analysis.md): who_can, permissions, diff and suggest
# checked against brute force over a bounded universe of requests, on seeded
# random policies (conformance/src/analysis_check.rs). A release build: the
# brute force decides ~4,500 requests per policy.
#
#   make conformance-analysis        ANALYSIS_N random policies (default 10,000; SEED=1), part of `make test`
#   make conformance-analysis-deep   ANALYSIS_DEEP_N (default 1,000,000), part of `make conformance-deep`
.PHONY: conformance-analysis conformance-analysis-deep

ANALYSIS_N ?= 10000
ANALYSIS_DEEP_N ?= 1000000

conformance-analysis: setup-rust
	cargo build --release -p tessera-conformance --bin analysis_differential
	$(ROOT)/target/release/analysis_differential --n $(ANALYSIS_N) --seed $(SEED)

conformance-analysis-deep: setup-rust
	cargo build --release -p tessera-conformance --bin analysis_differential
	$(ROOT)/target/release/analysis_differential --n $(ANALYSIS_DEEP_N) --seed $(SEED)

conformance-deep: conformance-analysis-deep

TEST_TARGETS += conformance-analysis
