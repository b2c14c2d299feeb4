# Python package `tessera-policy` (import `tessera`; bindings-python/), built with
# maturin into one abi3 wheel and installed into the repo's venv, $(ROOT)/.venv,
# which the conformance runner shares.
#
#   make setup-venv     python3 -m venv .venv (once) + bindings-python/requirements-dev.txt
#                       (pinned; reinstalled only when that file changes)
#   make build-python   maturin build --release → abi3 wheel in target/python-wheels → .venv
#   make test-python    fmt + clippy, pytest (API, every error path, threads, stubtest + mypy
#                       --strict over a typed usage file, the example notebook headless),
#                       and `pip wheel ./bindings-python` (PEP 517) produces the abi3 wheel
#   make bench-python   tessera vs cedarpy, pycasbin and PyJWT in one pytest-benchmark run,
#                       written into BENCHMARKS.md
.PHONY: setup-venv build-python python-lint test-python bench-python

VENV := $(ROOT)/.venv
VENV_PY := $(VENV)/bin/python
PY_CRATE := $(ROOT)/bindings-python
PY_WHEELS := $(ROOT)/target/python-wheels
PY_REQUIREMENTS := $(PY_CRATE)/requirements-dev.txt
PY_STAMP := $(VENV)/.tessera-requirements-dev

setup-venv: $(PY_STAMP)

# Recreated when the interpreter is missing (a fresh clone, or a venv moved or broken).
$(VENV_PY):
	python3 -m venv --clear $(VENV)
	$(VENV_PY) -m pip install --quiet --upgrade pip

$(PY_STAMP): $(PY_REQUIREMENTS) | $(VENV_PY)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check -r $(PY_REQUIREMENTS)
	@touch $@

build-python: setup-rust setup-venv
	@rm -f $(PY_WHEELS)/tessera_policy-*.whl
	cd $(PY_CRATE) && $(VENV)/bin/maturin build --release --quiet -o $(PY_WHEELS)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $(PY_WHEELS)/tessera_policy-*-abi3-*.whl
	@cd /tmp && $(VENV_PY) -c "import tessera; print('tessera', tessera.__version__, 'installed in .venv from', tessera.__file__)"

python-lint: setup-rust
	cargo fmt -p tessera-python --check
	cargo clippy -p tessera-python --no-deps --all-targets -- -D warnings

test-python: build-python python-lint setup-postgres
	cd $(PY_CRATE) && $(VENV_PY) -m pytest -q tests
	@# PEP 517: pip builds the same abi3 wheel from the source tree (the venv's maturin),
	@# through the package's backend; CARGO_TARGET_DIR keeps it on the workspace's warm
	@# build (test-pip-checkout, mk/60-dist.mk, checks the default: a temporary folder).
	@rm -rf $(ROOT)/target/python-pep517 && mkdir -p $(ROOT)/target/python-pep517
	CARGO_TARGET_DIR=$(ROOT)/target PATH=$(VENV)/bin:$$PATH $(VENV_PY) -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation \
	  -w $(ROOT)/target/python-pep517 $(PY_CRATE)
	@ls $(ROOT)/target/python-pep517/tessera_policy-*-cp39-abi3-*.whl

bench-python: build-python
	cd $(PY_CRATE) && $(VENV_PY) -m pytest -q -p no:cacheprovider bench \
	  --benchmark-json=$(ROOT)/target/python-bench.json --benchmark-max-time=1 --benchmark-min-rounds=20
	$(VENV_PY) $(PY_CRATE)/bench/report.py $(ROOT)/target/python-bench.json $(ROOT)/BENCHMARKS.md

SETUP_TARGETS += setup-venv
TEST_TARGETS += test-python
BENCH_TARGETS += bench-python
