# Installable artifacts, into dist/ (gitignored), until the packages are published:
#
#   make dist         the abi3 wheel (from build-python), an sdist (maturin sdist) and the
#                     npm tarball (npm pack of bindings-wasm/pkg)
#   make test-dist    twine check --strict of the wheel and sdist, npm publish --dry-run of
#                     the tarball, and each installed into a scratch place and imported
#   make test-pip-checkout  `pip install ./bindings-python` from a copy of the tracked files
#                     (what a clone holds) into a scratch venv: it builds through
#                     build_backend/tessera_build.py and leaves no target/ in the copy
.PHONY: dist test-dist test-pip-checkout

DIST := $(ROOT)/dist

dist: build-python build-wasm
	rm -rf $(DIST) && mkdir -p $(DIST)
	cp $(PY_WHEELS)/tessera_policy-*-abi3-*.whl $(DIST)/
	cd $(PY_CRATE) && $(VENV)/bin/maturin sdist -o $(DIST)
	@# The sdist builds through the package's own backend: it must hold it beside pyproject.toml.
	tar -tzf $(DIST)/tessera_policy-*.tar.gz | grep -x 'tessera_policy-[^/]*/build_backend/tessera_build.py' >/dev/null \
	  || { echo "dist: the sdist lacks build_backend/tessera_build.py" >&2; exit 1; }
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

# The copy is made from `git ls-files` (tracked files only, as a clone has them).
# CARGO_TARGET_DIR is unset so that the backend picks its temporary folder; the
# dev profile (MATURIN_PEP517_ARGS) keeps the build short, and the backend
# does not depend on the profile.
PIP_CHECKOUT := $(ROOT)/target/pip-checkout
test-pip-checkout: setup-venv
	rm -rf $(PIP_CHECKOUT) && mkdir -p $(PIP_CHECKOUT)/src
	cd $(ROOT) && git ls-files -z | tar --null -T - -cf - | tar -xf - -C $(PIP_CHECKOUT)/src
	python3 -m venv $(PIP_CHECKOUT)/venv
	cd $(PIP_CHECKOUT)/src && env -u CARGO_TARGET_DIR MATURIN_PEP517_ARGS="--profile dev" \
	  $(PIP_CHECKOUT)/venv/bin/pip install --quiet --disable-pip-version-check --no-deps ./bindings-python
	@# Nothing may be added to the checkout (no target/, no build folders).
	cd $(PIP_CHECKOUT)/src && \
	  extra=$$(comm -23 <(find . -type f | sort) <(git -C $(ROOT) ls-files | sed 's|^|./|' | sort); find . -name target); \
	  if [ -n "$$extra" ]; then echo "pip install left in the checkout:"; echo "$$extra" | head -20; exit 1; fi >&2
	cd /tmp && $(PIP_CHECKOUT)/venv/bin/python -c "import tessera; print('pip install from a checkout:', tessera.__version__, repr(tessera.Engine({'version': 1})))"
	rm -rf $(PIP_CHECKOUT)

TEST_TARGETS += test-pip-checkout
