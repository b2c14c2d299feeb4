"""Python runner: every conformance/vectors/*.json case through the installed
`tessera` package (.venv), one test per case (id `file::case name`).

    .venv/bin/python -m pytest conformance/python      (make test-conformance-python)

conftest.py prints `python: N passed, M failed`. A case this runner cannot
run (unknown op, missing input) fails; nothing is skipped.
"""

import os
import pathlib

import pytest

import harness
import runner

# CONFORMANCE_VECTORS=dir runs another directory of vector files (e.g. a copy
# with one expectation corrupted, to see the runner fail).
VECTORS = pathlib.Path(os.environ.get("CONFORMANCE_VECTORS") or harness.VECTORS)
CASES = harness.cases(VECTORS)
_RUNNER = runner.Runner()


def test_there_are_vectors():
    assert len(harness.load_files(VECTORS)) > 0, f"no vector files in {VECTORS}"
    assert CASES


@pytest.mark.parametrize("case,policy", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_vector(case, policy):
    assert "expect" in case, "case has no `expect`"
    try:
        outcome = _RUNNER.run(case, policy)
    except runner.Fault as fault:
        outcome = fault
    if isinstance(outcome, runner.Fault):
        pytest.fail(f"fault: {outcome}", pytrace=False)
    problem = harness.compare(case["expect"], outcome)
    assert problem is None, problem
