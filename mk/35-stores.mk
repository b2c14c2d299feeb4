# Realm stores (SPEC §7.1, docs/realm.md): the PostgreSQL server the Python store
# tests start themselves (initdb + pg_ctl as the `postgres` user, on a unix socket in
# a temporary folder, stopped by PID), and the store benchmark.
#
#   make setup-postgres       apt-get install postgresql, unless an initdb is there
#   make bench-realm-store    SQLite-backed realm at 10k users / 100k tokens / 100k
#                             sessions, PostgreSQL writes and propagation (not a test)
.PHONY: setup-postgres bench-realm-store

setup-postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing postgresql (Debian)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@ls /usr/lib/postgresql/*/bin/initdb

bench-realm-store: build-python setup-postgres
	$(VENV_PY) $(PY_CRATE)/bench/realm_store.py --json $(ROOT)/target/realm-store-bench.json

SETUP_TARGETS += setup-postgres
