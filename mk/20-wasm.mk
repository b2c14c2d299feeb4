# WebAssembly / npm package `tessera-policy` (bindings-wasm/), built into
# bindings-wasm/pkg/ (gitignored), which the conformance runners import.
#
#   make setup-wasm   rustup target, wasm-bindgen-cli (= the Cargo.lock version) into .tools,
#                     npm ci (committed package-lock.json), Debian chromium
#   make build-wasm   cargo ×3 (server: profile wasm-server, opt-level 3; browser, core: wasm-release,
#                     opt-level "z") → wasm-bindgen → wasm-opt → pkg/, size budgets
#   make test-wasm    fmt + clippy (wasm32), node --test (KeySet against a local JWKS server and moto's
#                     Cognito emulation from .venv), tsc over a typed usage file,
#                     npm pack → scratch install (ESM, CJS, Vite build in Chromium), browser demo
#   make bench-wasm   Node: tessera vs @casl/ability vs casbin (mitata), into BENCHMARKS.md
#   make bench-chromium-jwt  headless Chromium: RS256/ES256 verifyJwt vs jose in one page, into BENCHMARKS.md
.PHONY: setup-wasm build-wasm test-wasm bench-wasm bench-chromium-jwt wasm-lint

WASM_CRATE := $(ROOT)/bindings-wasm
WASM_TARGET_DIR := $(ROOT)/target
WASM_OUT := $(WASM_TARGET_DIR)/wasm-bindgen
WASM_CORE_OUT := $(WASM_TARGET_DIR)/wasm-bindgen-core
WASM_BROWSER_OUT := $(WASM_TARGET_DIR)/wasm-bindgen-browser
WASM_RAW := $(WASM_TARGET_DIR)/wasm32-unknown-unknown/wasm-release/tessera_wasm.wasm
# The server module's own profile (opt-level 3: speed, Cargo.toml).
WASM_RAW_SERVER := $(WASM_TARGET_DIR)/wasm32-unknown-unknown/wasm-server/tessera_wasm.wasm
# The version of the wasm-bindgen crate in Cargo.lock (pinned with `=` in the crate).
WASM_BINDGEN_VERSION = $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' $(ROOT)/Cargo.lock)
WASM_NPM_STAMP := $(WASM_CRATE)/node_modules/.tessera-npm-ci

setup-wasm: setup-rust $(WASM_NPM_STAMP)
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@test -f $(ROOT)/Cargo.lock || cargo generate-lockfile
	@v="$(WASM_BINDGEN_VERSION)"; test -n "$$v" || { echo "wasm-bindgen not found in Cargo.lock" >&2; exit 1; }; \
	if [ "$$($(ROOT)/.tools/bin/wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $$v" ]; then \
	  echo "wasm-bindgen-cli $$v already in .tools"; \
	else \
	  cargo install --root $(ROOT)/.tools wasm-bindgen-cli --version "$$v" --locked --force \
	  || cargo install --root $(ROOT)/.tools wasm-bindgen-cli --version "$$v" --force; \
	fi
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# npm ci only when package-lock.json changed since the last install. (package.json
# pins rollup with `overrides` to a release whose platform packages are all on
# the registry: npm ci refuses a lock file missing any of them.)
$(WASM_NPM_STAMP): $(WASM_CRATE)/package-lock.json $(WASM_CRATE)/package.json
	cd $(WASM_CRATE) && npm ci --no-audit --no-fund
	@touch $@

# Three modules from one crate (SPEC §6.1.1; none holds RSA/ECDSA/Ed25519 code):
# the server one (default features: provider JWTs, sessions, API tokens, Realm;
# Node), the browser one (--features tokens → tessera_browser.wasm: provider
# JWTs) and the decisions-only one (--no-default-features → tessera_core.wasm,
# entry `tessera-policy/core`). The page modules' builds write the same cargo
# artefact, so each is run through wasm-bindgen before the next build.
build-wasm: setup-wasm
	cargo build -p tessera-wasm --target wasm32-unknown-unknown --profile wasm-server
	wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir $(WASM_OUT) $(WASM_RAW_SERVER)
	cargo build -p tessera-wasm --target wasm32-unknown-unknown --profile wasm-release --no-default-features --features tokens
	wasm-bindgen --target web --remove-name-section --remove-producers-section --out-name tessera_browser \
	  --out-dir $(WASM_BROWSER_OUT) $(WASM_RAW)
	cargo build -p tessera-wasm --target wasm32-unknown-unknown --profile wasm-release --no-default-features
	wasm-bindgen --target web --remove-name-section --remove-producers-section --out-name tessera_core \
	  --out-dir $(WASM_CORE_OUT) $(WASM_RAW)
	node $(WASM_CRATE)/scripts/assemble.mjs $(WASM_OUT) $(WASM_CORE_OUT) $(WASM_BROWSER_OUT)

wasm-lint: setup-wasm
	cargo fmt -p tessera-wasm --check
	cargo clippy -p tessera-wasm --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p tessera-wasm --target wasm32-unknown-unknown --no-default-features --features tokens -- -D warnings
	cargo clippy -p tessera-wasm --target wasm32-unknown-unknown --no-default-features -- -D warnings

# The test files are named: node --test would also run every file under test/.
WASM_TESTS := test/web.test.mjs test/api.test.mjs test/answers.test.mjs test/errors.test.mjs test/realm.test.mjs test/store.test.mjs test/core.test.mjs test/cjs.test.cjs test/trap.test.mjs \
	test/wycheproof.test.mjs test/jwt.test.mjs test/hostile.test.mjs test/heap.test.mjs test/pack.test.mjs test/demo.test.mjs \
	test/keyset.test.mjs test/cognito-moto.test.mjs test/flat.test.mjs

# build-python: tessera in .venv, for the tests that share a snapshot or a store file with Python.
# setup-venv: moto_server (moto[server], a Python dev requirement) for test/cognito-moto.test.mjs,
# which starts it from $(VENV)/bin (or $$MOTO_SERVER) on a free 127.0.0.1 port.
test-wasm: build-wasm wasm-lint setup-venv build-python
	cd $(WASM_CRATE) && node_modules/.bin/tsc -p test/types --noEmit
	@echo "tsc: test/types/usage.ts type-checks against npm/index.d.ts"
	cd $(WASM_CRATE) && node_modules/.bin/tsc -p test/types/json --noEmit
	@echo "tsc: test/types/json/usage.ts (a JSON policy, using, the integrations) type-checks"
	cd $(WASM_CRATE) && MOTO_SERVER=$${MOTO_SERVER:-$(VENV)/bin/moto_server} node --test --test-concurrency=1 $(WASM_TESTS)

bench-wasm: build-wasm
	cd $(WASM_CRATE) && node bench/bench.mjs --write $(ROOT)/BENCHMARKS.md
	cd $(WASM_CRATE) && node bench/jwt.mjs --write $(ROOT)/BENCHMARKS.md
	cd $(WASM_CRATE) && node bench/startup.mjs --write $(ROOT)/BENCHMARKS.md

# Not part of make test (a benchmark, not a timed test); BENCH_TARGETS runs it.
bench-chromium-jwt: setup-wasm build-wasm
	cd $(WASM_CRATE) && node bench/chromium-jwt.mjs --write $(ROOT)/BENCHMARKS.md

# A 15 MB policy and a 21 MB JWKS in Python and in Node, same run (issue 17).
.PHONY: bench-large
bench-large: build-wasm build-python
	$(VENV_PY) bench/large-documents/run.py --write $(ROOT)/BENCHMARKS.md

BENCH_TARGETS += bench-large

SETUP_TARGETS += setup-wasm
TEST_TARGETS += test-wasm
BENCH_TARGETS += bench-wasm bench-chromium-jwt
