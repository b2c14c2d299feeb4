# The framework integrations' overhead benchmark (BENCHMARKS.md, "Framework
# integration overhead"): a guarded route against the same route unguarded,
# beside casbin's middleware, in one run per language. Their tests run with
# the packages' own (test-python: tests/test_web*.py; test-wasm: test/web.test.mjs).
#
#   make bench-web    FastAPI (tessera.fastapi vs fastapi-authz), Express and Fastify
#                     (tessera-policy/express, /fastify vs casbin-express-authz)
.PHONY: bench-web

bench-web: build-python build-wasm
	$(VENV_PY) $(PY_CRATE)/bench/web.py --write $(ROOT)/BENCHMARKS.md
	cd $(WASM_CRATE) && node bench/web.mjs --write $(ROOT)/BENCHMARKS.md

BENCH_TARGETS += bench-web
