# Core crate: formatting, lints, unit + doc tests, the demo.
.PHONY: setup-rust test-core demo bench-core

setup-rust:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust via rustup first" >&2; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

test-core: setup-rust
	cargo fmt --all --check
	cargo clippy -p tessera --all-targets -- -D warnings
	cargo test -p tessera

demo: setup-rust
	cargo run -q -p tessera --example demo -- examples/policy.json

bench-core: setup-rust
	cargo bench -p tessera --bench decide

SETUP_TARGETS += setup-rust
TEST_TARGETS += test-core
BENCH_TARGETS += bench-core

# Side by side with cedar-policy and casbin (own crate, outside the workspace).
.PHONY: bench-peers
bench-peers: setup-rust
	cd bench/native-peers && cargo bench --bench peers -- --warm-up-time 1 --measurement-time 2

BENCH_TARGETS += bench-peers

# Every load and decision path doubles n and costs at most ~2.5× per doubling
# (actions, roles, unknown roles, grants, instance grants, JWKS keys), into BENCHMARKS.md.
.PHONY: bench-scaling
bench-scaling: setup-rust
	cargo bench -p tessera --bench scaling -- --write $(ROOT)/BENCHMARKS.md

BENCH_TARGETS += bench-scaling

# The same rows as instruction counts (valgrind's callgrind; load-independent).
.PHONY: bench-scaling-instructions
bench-scaling-instructions: setup-rust
	cargo bench -p tessera --bench scaling --no-run
	bench/scaling/instructions.sh "$$(ls -t $(ROOT)/target/release/deps/scaling-* | grep -v '\.d$$' | head -1)"
