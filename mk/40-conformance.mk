# Conformance suite (conformance/, see conformance/README.md): one set of
# vectors for every runtime, a reference model, and a random differential.
#
#   make test-conformance-rust    every conformance/vectors/*.json through the core (cargo test),
#                                 prints "rust (BACKEND): N passed, M failed"
#   make test-conformance-model   the reference model (Python) against every SPEC §1-5 vector (pytest)
#   make conformance-random       N random cases (default 10,000; SEED=1), reference model vs core
#   make conformance-deep         DEEP_N random cases (default 1,000,000) against a release build
#   make test-conformance-node    every vector through the npm package in Node (node --test,
#                                 conformance/node/run.test.mjs), prints "node: N passed, M failed"
#   make test-conformance-browser every vector through the web build in headless Chromium
#                                 (conformance/browser/run.test.mjs), prints "browser: N passed, M failed"
#   make test-conformance-python  every vector through the Python package in .venv (pytest,
#                                 conformance/python/), prints "python: N passed, M failed"
#   make conformance-random-python  N random cases (SEED=), reference model vs the Python package
#                                 (conformance/python/differential_driver.py as the core driver)
#   make conformance-random-node  N random cases (SEED=), reference model vs the npm package in Node
#                                 (conformance/node/differential_driver.mjs; checks the fast path's cache too)
#
# Node and browser share one dispatcher, conformance/js/dispatch.mjs. CONFORMANCE_VECTORS=DIR
# makes the three runners read another directory of vector files.
#
# A disagreement found by the differential is shrunk, printed, and saved into
# conformance/vectors/regressions.json (review it, then fix the core or the model).
.PHONY: setup-conformance test-conformance-rust test-conformance-model conformance-random conformance-deep \
	test-conformance-node test-conformance-browser test-conformance-python conformance-random-python \
	conformance-random-node

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

# build-wasm / build-python / setup-wasm come from mk/20-wasm.mk and mk/30-python.mk.
test-conformance-node: build-wasm
	node --test --test-reporter=spec $(CONFORMANCE)/node/run.test.mjs

test-conformance-browser: setup-wasm build-wasm
	node --test --test-reporter=spec $(CONFORMANCE)/browser/run.test.mjs

test-conformance-python: build-python setup-conformance
	cd $(CONFORMANCE) && $(CONFORMANCE_PY) -m pytest -q -p no:cacheprovider python

conformance-random-python: build-python setup-conformance
	$(CONFORMANCE_PY) $(CONFORMANCE)/random/differential.py \
	  --core "$(CONFORMANCE_PY) $(CONFORMANCE)/python/differential_driver.py" --n $(N) --seed $(SEED)

conformance-random-node: build-wasm setup-conformance
	$(CONFORMANCE_PY) $(CONFORMANCE)/random/differential.py \
	  --core "node $(CONFORMANCE)/node/differential_driver.mjs" --n $(N) --seed $(SEED)

SETUP_TARGETS += setup-conformance
TEST_TARGETS += test-conformance-rust test-conformance-model conformance-random \
	test-conformance-node test-conformance-browser test-conformance-python conformance-random-python \
	conformance-random-node
