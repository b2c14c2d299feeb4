# The built npm package through the bundlers users have (issue 14): esbuild
# (browser iife/esm, Node CJS/ESM), webpack 5, Rollup, Vite 7 and Vite 8, each
# bundle run in headless Chromium under a strict CSP or in Node.
#
#   make test-bundlers   npm ci in bindings-wasm/test/bundlers (once per lockfile), then its tests
.PHONY: test-bundlers

BUNDLERS_DIR := $(WASM_CRATE)/test/bundlers
BUNDLERS_STAMP := $(BUNDLERS_DIR)/node_modules/.tessera-npm-ci

$(BUNDLERS_STAMP): $(BUNDLERS_DIR)/package-lock.json $(BUNDLERS_DIR)/package.json
	cd $(BUNDLERS_DIR) && npm ci --no-audit --no-fund
	@touch $@

test-bundlers: build-wasm $(BUNDLERS_STAMP)
	cd $(BUNDLERS_DIR) && node --test --test-concurrency=1 bundlers.test.mjs

TEST_TARGETS += test-bundlers
