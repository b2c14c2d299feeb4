"""The reference model must meet every SPEC §1-5 vector (conformance/vectors)."""

import pytest

import harness
import run_model

# The model covers SPEC §1-5. A `load_policy` case in a token file (jwt_*.json)
# checks the §6.1 `tokens.jwt` rules, which the model does not implement.
CASES = [
    c for c in harness.cases()
    if c[1]["op"] in run_model.HANDLERS and not (c[1]["op"] == "load_policy" and c[0].startswith("jwt_"))
]


def test_there_are_decision_vectors():
    assert len(CASES) >= 300


@pytest.mark.parametrize("case,policy", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_vector(case, policy):
    problem = harness.compare(case["expect"], run_model.run(case, policy))
    assert problem is None, problem
