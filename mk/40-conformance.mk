# Conformance suite (conformance/, see conformance/README.md): one set of
# vectors for every runtime, a reference model, and a random differential.
#
#   make test-conformance-rust    every conformance/vectors/*.json through the core (cargo test),
#                                 prints "rust: N passed, M failed"
#   make test-conformance-model   the reference model (Python) against every SPEC §1-5 vector (pytest)
#   make conformance-random       N random cases (default 10,000; SEED=1), reference model vs core
#   make conformance-deep         DEEP_N random cases (default 1,000,000) against a release build
#
# A disagreement found by the differential is shrunk, printed, and saved into
# conformance/vectors/regressions.json (review it, then fix the core or the model).
.PHONY: setup-conformance test-conformance-rust test-conformance-model conformance-random conformance-deep

CONFORMANCE := $(ROOT)/conformance
CONFORMANCE_VENV := $(ROOT)/.venv
CONFORMANCE_PY := $(CONFORMANCE_VENV)/bin/python
N ?= 10000
SEED ?= 1
DEEP_N ?= 1000000

# The repo venv (.venv), created here unless another area already did; the
# model and the differential need only the standard library and pytest.
setup-conformance:
	@test -x $(CONFORMANCE_PY) || python3 -m venv $(CONFORMANCE_VENV)
	@$(CONFORMANCE_PY) -c "import pytest" 2>/dev/null || $(CONFORMANCE_PY) -m pip install --quiet pytest

test-conformance-rust: setup-rust
	cargo fmt -p tessera-conformance --check
	cargo clippy -p tessera-conformance --no-deps --all-targets -- -D warnings
	cargo test -p tessera-conformance -- --nocapture

test-conformance-model: setup-conformance
	cd $(CONFORMANCE) && $(CONFORMANCE_PY) -m pytest -q -p no:cacheprovider model random

conformance-random: setup-rust setup-conformance
	cargo build -p tessera-conformance --bin differential
	$(CONFORMANCE_PY) $(CONFORMANCE)/random/differential.py \
	  --core $(ROOT)/target/debug/differential --n $(N) --seed $(SEED)

conformance-deep: setup-rust setup-conformance
	cargo build --release -p tessera-conformance --bin differential
	$(CONFORMANCE_PY) $(CONFORMANCE)/random/differential.py \
	  --core $(ROOT)/target/release/differential --n $(DEEP_N) --seed $(SEED)

SETUP_TARGETS += setup-conformance
TEST_TARGETS += test-conformance-rust test-conformance-model conformance-random
