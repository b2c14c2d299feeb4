# Tokens (SPEC §6, docs/tokens.md). `make test-core` already runs every token test
# with the native backend (aws-lc-rs); this adds the backend WebAssembly uses.
#
#   make test-tokens          the token tests again, with RustCrypto natively (`rust-crypto` feature):
#                             Wycheproof, the token unit tests, and every conformance vector
#                             through the conformance crate's runner
#   make bench-tokens         RS256/ES256 verify (cold, cached), session verify/issue (criterion)
#   make mint-token-vectors   re-mint conformance/vectors/{jwt_,session_,api_token_}*.json and
#                             authorization.json with PyJWT + cryptography (keys in conformance/fixtures)
.PHONY: test-tokens bench-tokens mint-token-vectors

MINT_VENV ?= /tmp/mintvenv

test-tokens: setup-rust
	cargo test -p tessera --features rust-crypto --test token_wycheproof \
		--test token_jwt --test token_keyset --test token_sessions --test token_api --test token_ed25519_strict
	cargo test -p tessera-conformance --features rust-crypto --test vectors

bench-tokens: setup-rust
	cargo bench -p tessera --bench jwt

mint-token-vectors:
	@test -x $(MINT_VENV)/bin/python || python3 -m venv $(MINT_VENV)
	@$(MINT_VENV)/bin/python -c "import jwt, cryptography" 2>/dev/null || \
		$(MINT_VENV)/bin/pip install --quiet "cryptography>=44" "pyjwt>=2.8"
	$(MINT_VENV)/bin/python conformance/tools/mint_fixtures.py

TEST_TARGETS += test-tokens
BENCH_TARGETS += bench-tokens
