# Installable artifacts, into dist/ (gitignored), until the packages are published:
#
#   make dist         the abi3 wheel (from build-python), an sdist (maturin sdist) and the
#                     npm tarball (npm pack of bindings-wasm/pkg)
#   make test-dist    twine check --strict of the wheel and sdist, npm publish --dry-run of
#                     the tarball, and each installed into a scratch place and imported
.PHONY: dist test-dist

DIST := $(ROOT)/dist

dist: build-python build-wasm
	rm -rf $(DIST) && mkdir -p $(DIST)
	cp $(PY_WHEELS)/tessera_policy-*-abi3-*.whl $(DIST)/
	cd $(PY_CRATE) && $(VENV)/bin/maturin sdist -o $(DIST)
	cd $(WASM_CRATE)/pkg && npm pack --silent --pack-destination $(DIST) >/dev/null
	@ls -l $(DIST)

test-dist: dist
	$(VENV)/bin/twine check --strict $(DIST)/*.whl $(DIST)/*.tar.gz
	cd $(DIST) && npm publish --dry-run $(DIST)/tessera-policy-*.tgz 2>&1 | tail -n 4
	@# The wheel installs into a fresh venv with no build tools, and imports.
	rm -rf $(ROOT)/target/dist-check && python3 -m venv $(ROOT)/target/dist-check
	$(ROOT)/target/dist-check/bin/pip install --quiet --disable-pip-version-check --no-deps $(DIST)/tessera_policy-*.whl
	cd /tmp && $(ROOT)/target/dist-check/bin/python -c "import tessera; e = tessera.Engine({'version': 1}); print('dist wheel:', tessera.__version__, repr(e))"
	@# The tarball installs into a scratch project and both entries load.
	rm -rf $(ROOT)/target/dist-npm && mkdir -p $(ROOT)/target/dist-npm && cd $(ROOT)/target/dist-npm && \
	  echo '{"name":"dist-check","private":true,"type":"module"}' > package.json && \
	  npm install --silent --no-audit --no-fund $(DIST)/tessera-policy-*.tgz && \
	  node -e "import('tessera-policy').then(m => import('tessera-policy/express').then(x => console.log('dist tarball:', typeof m.Engine, typeof x.tessera)))"

TEST_TARGETS += test-dist
