# Example servers (examples/python-server, examples/node-server): Eva's robot-arm API
# (`POST /api/v1/auth`, `/api/v1/auth/renew`, `DELETE /api/v1/auth`, device routes),
# guarded by a tessera Realm and the policy's operations table; each is driven
# end to end over real HTTP on 127.0.0.1 by its tests.
#
#   make test-examples-python   FastAPI + uvicorn (examples/python-server/requirements.txt,
#                               pinned, installed into .venv when that file changes),
#                               mypy --strict, pytest
#   make test-examples-node     Node's own http module over bindings-wasm/pkg, node --test
.PHONY: test-examples-python test-examples-node

EX_PY := $(ROOT)/examples/python-server
EX_PY_STAMP := $(VENV)/.tessera-examples-python
EX_NODE := $(ROOT)/examples/node-server

$(EX_PY_STAMP): $(EX_PY)/requirements.txt | $(VENV_PY)
	$(VENV_PY) -m pip install --quiet --disable-pip-version-check -r $(EX_PY)/requirements.txt
	@touch $@

test-examples-python: build-python $(EX_PY_STAMP)
	cd $(EX_PY) && $(VENV_PY) -m mypy --strict --cache-dir=$(ROOT)/target/mypy-examples server.py tests/test_server.py
	cd $(EX_PY) && $(VENV_PY) -m pytest -q -p no:cacheprovider tests

test-examples-node: build-wasm setup-postgres
	cd $(EX_NODE) && node --test --test-concurrency=1 test/server.test.mjs

TEST_TARGETS += test-examples-python test-examples-node
