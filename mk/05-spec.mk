# The contract: docs/SPEC.md is a byte-for-byte copy of the upstream
# ../shared/SPEC.md. CI has shared/ beside the clone, so the copy cannot drift;
# a clone without it has nothing to compare against and says so.
.PHONY: test-spec
SHARED_SPEC := $(abspath $(ROOT)/../shared/SPEC.md)

test-spec:
	@if [ -f "$(SHARED_SPEC)" ]; then \
	  cmp -s "$(SHARED_SPEC)" docs/SPEC.md || { \
	    echo "docs/SPEC.md differs from $(SHARED_SPEC): cp $(SHARED_SPEC) docs/SPEC.md" >&2; exit 1; }; \
	  echo "spec: docs/SPEC.md equals ../shared/SPEC.md"; \
	else \
	  echo "spec: no ../shared/SPEC.md beside the clone; docs/SPEC.md not compared"; \
	fi

TEST_TARGETS += test-spec
