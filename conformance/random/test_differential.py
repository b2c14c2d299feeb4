"""Checks of the differential's own machinery: comparison, generation, shrinking."""

import copy

import differential
import generate
import harness
import run_model

DECISION = {"allowed": False, "reason": "no_match", "rule": None, "source": None}


def test_compare_accepts_equal_and_rejects_each_difference():
    assert harness.compare(DECISION, ("ok", dict(DECISION))) is None
    assert harness.compare(DECISION, ("ok", dict(DECISION, reason="denied"))) is not None
    assert harness.compare(DECISION, ("ok", dict(DECISION, message="x"))) is not None  # extra key
    assert harness.compare(DECISION, ("ok", {k: v for k, v in DECISION.items() if k != "rule"})) is not None
    assert harness.compare(DECISION, ("error", {"code": "invalid_argument"})) is not None
    assert harness.compare([1], ("ok", [True])) is not None  # true is not 1
    assert harness.compare(["read", "update"], ("ok", ["update", "read"])) is not None  # order counts


def test_compare_message_wildcard():
    expect = dict(DECISION, reason="invalid_request", message="*")
    assert harness.compare(expect, ("ok", dict(expect, message="unknown action `fly`"))) is None
    assert harness.compare(expect, ("ok", dict(expect, message=""))) is not None
    assert harness.compare(expect, ("ok", dict(DECISION, reason="invalid_request"))) is not None
    assert harness.compare(dict(DECISION, rule="*"), ("ok", dict(DECISION, rule="a"))) is None
    assert harness.compare(dict(DECISION, rule="*"), ("ok", DECISION)) is not None  # null is not a string


def test_compare_errors():
    assert harness.compare({"error": "syntax", "offset": 5}, ("error", {"code": "syntax", "offset": 5})) is None
    assert harness.compare({"error": "syntax", "offset": 5}, ("error", {"code": "syntax", "offset": 4})) is not None
    assert harness.compare({"error": "syntax"}, ("error", {"code": "too_long", "offset": 4})) is not None
    assert harness.compare({"error": "syntax"}, ("ok", DECISION)) is not None


def test_compare_problems_as_multiset():
    got = ("error", {"code": "invalid_policy", "problems": [{"code": "cycle", "path": "roles.a"},
                                                             {"code": "unknown_role", "path": "groups.g[0]"}]})
    both = [{"code": "unknown_role", "path": "groups.g[0]"}, {"code": "cycle"}]
    assert harness.compare({"error": "invalid_policy", "problems": both}, got) is None
    assert harness.compare({"error": "invalid_policy", "problems": both[:1]}, got) is not None  # one missing
    wrong_path = [{"code": "unknown_role", "path": "groups.g[1]"}, {"code": "cycle"}]
    assert harness.compare({"error": "invalid_policy", "problems": wrong_path}, got) is not None
    twice = [{"code": "cycle"}, {"code": "cycle"}]
    assert harness.compare({"error": "invalid_policy", "problems": twice}, got) is not None


def test_generator_is_seeded():
    assert generate.cases(5, 200) == generate.cases(5, 200)
    assert generate.cases(5, 200) != generate.cases(6, 200)


def test_generator_covers_every_reason():
    reasons = set()
    for case in generate.cases(11, 5000):
        kind, value = run_model.run(case, case["policy"])
        reasons.add(differential.kind_of((kind, value)))
    for reason in ("allowed", "denied", "no_match", "limited", "invalid_request", "public", "unauthenticated",
                   "missing_group", "missing_role", "missing_scope", "wrong_credential", "unknown_operation"):
        assert reason in reasons


def test_generated_policies_load_and_broken_ones_do_not():
    ops = set()
    for case in generate.cases(3, 4000, per_policy=10):
        ops.add(case["op"])
        loaded = run_model.run({"op": "load_policy", "policy": case["policy"]}, None)
        if case["op"] != "load_policy":
            assert loaded == ("ok", {"ok": True})
    assert ops == {"authorize", "explain", "capabilities", "authorize_operation", "load_policy"}


class FakeCore:
    """A 'core' that is the model except that it ignores deny labels on streams."""

    def run(self, cases):
        out = []
        for case in cases:
            altered = copy.deepcopy(case)
            for role in altered["policy"].get("roles", {}).values():
                role["permissions"] = [p for p in role.get("permissions", []) if not p.endswith("_stream")
                                       or not p.startswith("!")]
            out.append(run_model.run(altered, altered["policy"]))
        return out


def test_disagreement_is_found_and_shrunk():
    policy = {"version": 1,
              "roles": {"a": {"inherits": ["b"], "permissions": ["read_device", "pull_stream"]},
                        "b": {"permissions": ["!pull_stream", "push_stream", "read_user"]},
                        "c": {"permissions": ["admin"]}},
              "groups": {"g": ["c"]},
              "grants": [{"principal": "u1", "permissions": ["read_token"]}]}
    case = {"op": "authorize", "policy": policy, "action": "pull",
            "principal": {"id": "u1", "roles": ["a", "c"], "groups": ["g"], "scopes": ["s1"]},
            "resource": {"type": "stream", "id": "i1", "owner": "u2"}}
    core = FakeCore()
    assert differential.disagreement(case, core.run([case])[0]) is not None
    small = differential.shrink(case, core)
    assert differential.disagreement(small, core.run([small])[0]) is not None
    # Greedy shrinking ends where no single step keeps the disagreement...
    options = differential.candidates(small)
    assert all(differential.disagreement(o, r) is None for o, r in zip(options, core.run(options)))
    # ...which here leaves only the one deny label that matters.
    labels = [p for role in small["policy"]["roles"].values() for p in role.get("permissions", [])]
    assert labels == ["!pull_stream"]
    assert set(small["policy"]) == {"version", "roles"}
    assert small["resource"] == {"type": "stream"}
    assert set(small["principal"]) == {"roles"}


def test_agreement_is_not_a_disagreement():
    case = generate.cases(2, 1)[0]
    assert differential.disagreement(case, run_model.run(case, case["policy"])) is None


def test_regression_is_saved_once_and_reads_back(tmp_path, monkeypatch):
    target = tmp_path / "regressions.json"
    monkeypatch.setattr(differential, "REGRESSIONS", target)
    case = {"op": "authorize", "policy": {"version": 1}, "principal": {}, "action": "read", "resource": {"type": "device"}}
    expect = {"allowed": False, "reason": "no_match", "rule": None, "source": None}
    assert differential.save_regression(case, expect, "core said otherwise", "seed 1 case 2")
    assert not differential.save_regression(case, expect, "core said otherwise", "seed 1 case 9")
    other = dict(case, action="update")
    assert differential.save_regression(other, expect, "core said otherwise", "seed 1 case 3")
    files = harness.load_files(tmp_path)
    assert [name for name, _ in files] == ["regressions.json"]
    saved = files[0][1]["cases"]
    assert [c["action"] for c in saved] == ["read", "update"]
    assert len({c["name"] for c in saved}) == 2
    assert all(harness.compare(c["expect"], run_model.run(c, c["policy"])) is None for c in saved)
