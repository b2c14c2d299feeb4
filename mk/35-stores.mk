# Realm stores (SPEC §7.1, docs/realm.md): the PostgreSQL server the Python store
# tests start themselves (initdb + pg_ctl as the `postgres` user, on a unix socket in
# a temporary folder, stopped by PID), and the store benchmark.
#
#   make setup-postgres       apt-get install postgresql, unless an initdb is there
#   make test-stores-node     the npm package's PostgreSQL store on a server the test starts
#                             (bindings-wasm/test/store-postgres.test.mjs: two and three Node
#                             processes, Python and Node on one database, kill -9 × 20)
#   make bench-realm-store    SQLite-backed realm at 10k users / 100k tokens / 100k
#                             sessions, PostgreSQL writes and propagation, Python and
#                             Node (bindings-wasm/bench/realm-store.mjs, realm-store-pg.mjs)
#                             (not a test)
.PHONY: setup-postgres bench-realm-store test-stores-node

setup-postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing postgresql (Debian)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@ls /usr/lib/postgresql/*/bin/initdb

bench-realm-store: build-python build-wasm setup-postgres
	$(VENV_PY) $(PY_CRATE)/bench/realm_store.py --json $(ROOT)/target/realm-store-bench.json
	cd $(WASM_CRATE) && node bench/realm-store.mjs --json $(ROOT)/target/realm-store-node.json
	cd $(WASM_CRATE) && node bench/realm-store-pg.mjs --json $(ROOT)/target/realm-store-pg-node.json

# After build-python: the Python-and-Node case runs against the venv's package.
test-stores-node: build-wasm build-python setup-postgres
	cd $(WASM_CRATE) && node --test --test-concurrency=1 test/store-postgres.test.mjs

SETUP_TARGETS += setup-postgres
TEST_TARGETS += test-stores-node
