"""The Python API of SPEC §1–5: labels, policy sources, decisions, explain,
capabilities, operations, the fast path, and the result objects."""

from __future__ import annotations

import copy
import json
import pathlib
import pickle
from collections import OrderedDict
from types import MappingProxyType
from typing import Any, Dict, get_args

import pytest

import tessera
from conftest import POLICY_PATH

DEVICE_OF_ALICE: tessera.Resource = {"type": "device", "id": "d-1", "owner": "u-1"}
DEVICE_OF_BOB: tessera.Resource = {"type": "device", "id": "d-2", "owner": "u-2"}


# ---------------------------------------------------------------- package


def test_public_names_are_exported() -> None:
    for name in tessera.__all__:
        assert hasattr(tessera, name), name
    assert tessera.__version__ == "0.1.0"
    assert tessera.crypto_backend() == "aws-lc-rs"
    assert tessera.Decision.__module__ == "tessera"
    assert tessera.PreparedPrincipal.__module__ == "tessera"


def test_public_api_has_docstrings() -> None:
    objects = [getattr(tessera, n) for n in tessera.__all__ if n != "__version__"]
    for obj in objects:
        if callable(obj) and not getattr(obj, "__module__", "").startswith("typing"):
            assert obj.__doc__, obj
    for cls in (tessera.Engine, tessera.Realm, tessera.PreparedPrincipal, tessera.Decision, tessera.Explanation):
        for name, member in vars(cls).items():
            if not name.startswith("_") and callable(member) or isinstance(member, property):
                assert getattr(cls, name).__doc__, f"{cls.__name__}.{name}"
    for cls in (tessera.Engine, tessera.Realm):
        for name in dir(cls):
            if not name.startswith("_"):
                assert getattr(cls, name).__doc__, f"{cls.__name__}.{name}"


# ----------------------------------------------------------------- labels


def test_parse_label_shapes() -> None:
    assert tessera.parse_label("read_own_device") == {
        "effect": "allow",
        "action": "read",
        "own": True,
        "subject": "device",
        "instance": None,
    }
    assert tessera.parse_label("!admin") == {
        "effect": "deny",
        "action": "admin",
        "own": False,
        "subject": None,
        "instance": None,
    }
    assert tessera.parse_label("update_device:dev-42")["instance"] == "dev-42"


@pytest.mark.parametrize(
    "text",
    ["read_own_device", "!delete_token", "admin", "admin_own", "!admin_own", "update_device:dev-42", "push_stream"],
)
def test_format_label_round_trips(text: str) -> None:
    assert tessera.format_label(tessera.parse_label(text)) == text


@pytest.mark.parametrize(
    ("text", "code", "offset"),
    [
        ("read_", "syntax", 5),
        ("fly_device", "unknown_action", 0),
        ("read_robot", "unknown_subject", 5),
        ("read_own_device:d1", "own_with_instance", None),
        ("read_device:" + "x" * 300, "too_long", None),
        ("Read_device", "syntax", 0),
    ],
)
def test_parse_label_errors(text: str, code: str, offset: Any) -> None:
    with pytest.raises(tessera.LabelError) as info:
        tessera.parse_label(text)
    err = info.value
    assert err.code == code
    assert isinstance(err, ValueError) and isinstance(err, tessera.TesseraError)
    assert err.kind == "label"
    assert err.message and str(err) == err.message
    if offset is not None:
        assert err.offset == offset
    assert isinstance(err.offset, int)


def test_engine_parse_label_uses_the_policy_vocabulary(engine: tessera.Engine) -> None:
    assert engine.parse_label("admin_project")["subject"] == "project"
    with pytest.raises(tessera.LabelError) as info:
        tessera.parse_label("admin_project")
    assert info.value.code == "unknown_subject"


# --------------------------------------------------------- policy sources


def test_policy_from_dict_text_path_and_bytes(policy_doc: Dict[str, Any]) -> None:
    text = json.dumps(policy_doc)
    engines = [
        tessera.Engine(policy_doc),
        tessera.Engine(OrderedDict(policy_doc)),
        tessera.Engine(MappingProxyType(policy_doc)),
        tessera.Engine(text),
        tessera.Engine("  \n" + text),
        tessera.Engine(text.encode()),
        tessera.Engine(bytearray(text.encode())),
        tessera.Engine(POLICY_PATH),
        tessera.Engine(str(POLICY_PATH)),
        tessera.Engine.from_path(POLICY_PATH),
        tessera.Engine.from_path(str(POLICY_PATH)),
        tessera.Engine.from_json(text),
        tessera.Engine.from_json(text.encode()),
    ]
    for e in engines:
        assert isinstance(e, tessera.Engine)
        assert e.authorize({"id": "u-1", "roles": ["user"]}, "read", DEVICE_OF_ALICE).allowed


def test_a_str_is_json_only_when_it_starts_with_a_brace(tmp_path: pathlib.Path) -> None:
    # A file whose name does not start with "{" is read as a path...
    p = tmp_path / "p.json"
    p.write_text('{"version": 1, "roles": {"r": {"permissions": ["read_device"]}}}')
    assert tessera.Engine(str(p)).authorize({"roles": ["r"]}, "read", {"type": "device"})
    # ...and JSON text that is not an object is read as a path, which does not exist.
    with pytest.raises(tessera.PolicyError) as info:
        tessera.Engine("[1, 2]")
    assert info.value.problems[0].code == "unreadable"
    # from_json never reads a path.
    with pytest.raises(tessera.PolicyError) as info:
        tessera.Engine.from_json(str(p))
    assert info.value.problems[0].code == "invalid_json"
    # A path whose name starts with "{" needs pathlib or from_path.
    odd = tmp_path / "{odd}.json"
    odd.write_text(p.read_text())
    assert tessera.Engine(odd).authorize({"roles": ["r"]}, "read", {"type": "device"})
    assert tessera.Engine.from_path(str(odd)).authorize({"roles": ["r"]}, "read", {"type": "device"})


def test_policy_source_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(tessera.PolicyError) as info:
        tessera.Engine(tmp_path / "missing.json")
    assert info.value.code == "invalid_policy"
    assert info.value.problems[0].code == "unreadable"
    assert "missing.json" in info.value.problems[0].message
    assert isinstance(info.value.__cause__, FileNotFoundError)

    with pytest.raises(tessera.PolicyError) as info:
        tessera.Engine("{not json")
    assert info.value.problems[0].code == "invalid_json"

    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"version": 1, "roles": {"\xe9": {}}}')
    with pytest.raises(tessera.PolicyError) as info:
        tessera.Engine(bad)
    assert info.value.problems[0].code == "invalid_json"

    with pytest.raises(tessera.PolicyError):
        tessera.Engine(b"\xff\xfe")
    with pytest.raises(tessera.PolicyError):
        tessera.Engine(tmp_path)  # a directory
    for garbage in (None, 42, 1.5, ["version"], object(), "", "   "):
        with pytest.raises(tessera.ArgumentError):
            tessera.Engine(garbage)  # type: ignore[arg-type]
    with pytest.raises(tessera.ArgumentError):
        tessera.Engine.from_path(42)  # type: ignore[arg-type]
    with pytest.raises(tessera.ArgumentError):
        tessera.Engine.from_json(None)  # type: ignore[arg-type]


def test_policy_problems_are_all_reported() -> None:
    bad = {
        "version": 1,
        "roles": {
            "a": {"inherits": ["ghost"], "permissions": ["read_", "fly_device"]},
            "b": {"inherits": ["c"]},
            "c": {"inherits": ["b"]},
        },
        "groups": {"g": ["nobody"]},
        "unknown_key": True,
    }
    with pytest.raises(tessera.PolicyError) as info:
        tessera.Engine(bad)
    err = info.value
    assert err.code == "invalid_policy"
    assert isinstance(err, ValueError)
    codes = {p.code for p in err.problems}
    assert {"unknown_role", "syntax", "unknown_action"} <= codes
    assert len(err.problems) >= 5
    paths = {p.path for p in err.problems}
    assert "roles.a.inherits[0]" in paths
    assert "roles.a.permissions[0]" in paths
    first = err.problems[0]
    assert isinstance(first, tessera.Problem)
    assert first.to_dict() == {"code": first.code, "message": first.message, "path": first.path}
    assert err.to_dict()["problems"][0] == first.to_dict()


def test_load_is_atomic(engine: tessera.Engine, alice: tessera.Principal) -> None:
    assert engine.authorize(alice, "read", DEVICE_OF_ALICE)
    with pytest.raises(tessera.PolicyError):
        engine.load({"version": 1, "roles": {"a": {"inherits": ["ghost"]}}})
    assert engine.authorize(alice, "read", DEVICE_OF_ALICE)  # the old policy is in force
    engine.load('{"version": 1, "roles": {"user": {"permissions": ["!read_device"]}}}')
    d = engine.authorize(alice, "read", DEVICE_OF_ALICE)
    assert (d.allowed, d.reason, d.rule) == (False, "denied", "!read_device")
    engine.load(POLICY_PATH)
    assert engine.authorize(alice, "read", DEVICE_OF_ALICE)


# -------------------------------------------------------------- decisions


def test_authorize_allow_deny_no_match(engine: tessera.Engine, alice: tessera.Principal) -> None:
    d = engine.authorize(alice, "read", DEVICE_OF_ALICE)
    assert d.allowed is True and bool(d) is True
    assert (d.reason, d.rule, d.source, d.message) == ("allowed", "admin_own_device", "role:user", None)

    d = engine.authorize(alice, "read", DEVICE_OF_BOB)
    assert not d
    assert (d.reason, d.rule, d.source) == ("no_match", None, None)

    admin = {"id": "a-1", "roles": ["admin"]}
    d = engine.authorize(admin, "delete", {"type": "token", "id": "t-1", "owner": "a-1"})
    assert (d.allowed, d.reason, d.rule, d.source) == (False, "denied", "!delete_token", "role:admin")


def test_grants_groups_permissions_and_limits(engine: tessera.Engine) -> None:
    d = engine.authorize({"id": "u-7"}, "update", {"type": "device", "id": "dev-42"})
    assert (d.allowed, d.source, d.rule) == (True, "grant", "update_device:dev-42")
    assert not engine.authorize({"id": "u-7"}, "update", {"type": "device", "id": "dev-43"})

    d = engine.authorize({"groups": ["managers"]}, "read", {"type": "project"})
    assert (d.allowed, d.source) == (True, "role:manager")

    d = engine.authorize({"permissions": ["pull_stream"]}, "pull", {"type": "stream", "id": "s"})
    assert (d.allowed, d.source) == (True, "principal")

    limited = {"id": "u-1", "roles": ["admin"], "limits": ["read_device"]}
    assert engine.authorize(limited, "read", DEVICE_OF_BOB)
    d = engine.authorize(limited, "update", DEVICE_OF_BOB)
    assert (d.allowed, d.reason) == (False, "limited")

    owners = {"type": "device", "id": "d-9", "owners": ["u-2", "u-1"]}
    assert engine.authorize({"id": "u-1", "roles": ["user"]}, "update", owners)


def test_invalid_requests_deny_without_raising(engine: tessera.Engine, alice: tessera.Principal) -> None:
    d = engine.authorize(alice, "fly", DEVICE_OF_ALICE)
    assert (d.allowed, d.reason) == (False, "invalid_request")
    assert d.message and "fly" in d.message
    assert d.to_dict()["message"] == d.message
    d = engine.authorize(alice, "read", {"type": "spaceship"})
    assert d.reason == "invalid_request"
    prepared = engine.prepare(alice)
    assert prepared.authorize("fly", DEVICE_OF_ALICE).reason == "invalid_request"
    assert prepared.is_allowed("fly", "device") is False
    assert prepared.is_allowed("read", "spaceship") is False


def test_principal_with_a_bad_label_raises(engine: tessera.Engine) -> None:
    with pytest.raises(tessera.LabelError):
        engine.authorize({"permissions": ["read_"]}, "read", {"type": "device"})
    with pytest.raises(tessera.LabelError):
        engine.prepare({"permissions": ["fly_device"]})


def test_reasons_are_the_cores_table() -> None:
    # The core exports its reasons; the typing Literal must name the same ones.
    assert tessera.REASONS[:3] == ("allowed", "denied", "no_match")
    assert len(tessera.REASONS) == len(set(tessera.REASONS)) == 12
    assert set(get_args(tessera.Reason)) == set(tessera.REASONS)
    for reason in tessera.REASONS:
        assert tessera.Decision(False, reason).reason == reason


def test_decision_object() -> None:
    d = tessera.Decision(True, "allowed", "read_device", "role:viewer")
    assert repr(d) == "Decision(allowed=True, reason='allowed', rule='read_device', source='role:viewer')"
    assert d.to_dict() == {"allowed": True, "reason": "allowed", "rule": "read_device", "source": "role:viewer"}
    assert d == tessera.Decision(True, "allowed", "read_device", "role:viewer")
    assert d != tessera.Decision(False, "denied", "read_device", "role:viewer")
    assert d != "allowed"
    assert hash(d) == hash(tessera.Decision(True, "allowed", "read_device", "role:viewer"))
    assert len({d, tessera.Decision(True, "allowed", "read_device", "role:viewer")}) == 1
    assert pickle.loads(pickle.dumps(d)) == d
    assert copy.deepcopy(d) == d
    none = tessera.Decision(False, "no_match")
    assert repr(none) == "Decision(allowed=False, reason='no_match', rule=None, source=None)"
    assert not none
    bad = tessera.Decision(False, "invalid_request", message="unknown action `x`")
    assert "message='unknown action `x`'" in repr(bad)
    assert pickle.loads(pickle.dumps(bad)).message == "unknown action `x`"
    assert tessera.Decision.__match_args__ == ("allowed", "reason", "rule", "source")
    with pytest.raises(AttributeError):
        d.allowed = False  # type: ignore[misc]
    for args in [("yes", "allowed"), (True, "sure"), (True, "allowed", 1), (True, "allowed", None, "somewhere")]:
        with pytest.raises(tessera.ArgumentError):
            tessera.Decision(*args)  # type: ignore[arg-type]


def test_repr_escapes_quotes() -> None:
    d = tessera.Decision(False, "invalid_request", message="it's \\ odd")
    assert eval(repr(d).replace("Decision(", "dict(")) == {
        "allowed": False,
        "reason": "invalid_request",
        "rule": None,
        "source": None,
        "message": "it's \\ odd",
    }


# ----------------------------------------------------------------- explain


def test_explain(engine: tessera.Engine) -> None:
    who = {"id": "u-1", "roles": ["admin", "ghost"]}
    x = engine.explain(who, "delete", {"type": "token", "id": "t", "owner": "u-1"})
    assert isinstance(x, tessera.Explanation)
    assert not x and x.allowed is False
    assert (x.reason, x.rule, x.source) == ("denied", "!delete_token", "role:admin")
    assert x.effective_roles == ["admin", "user"]
    assert x.unknown_roles == ["ghost"]
    assert x.matched[0] == tessera.MatchedRule("!delete_token", "role:admin", "deny")
    assert ("admin_own_token", "role:user", "allow") in x.matched
    assert x.decision == engine.authorize(who, "delete", {"type": "token", "id": "t", "owner": "u-1"})
    d = x.to_dict()
    assert d["matched"][0] == {"rule": "!delete_token", "source": "role:admin", "effect": "deny"}
    assert set(d) == {"allowed", "reason", "rule", "source", "effective_roles", "unknown_roles", "matched", "suggestions"}
    assert tessera.Explanation.from_dict(d) == x
    assert "Explanation(Decision(allowed=False" in repr(x)
    page = x._repr_html_()
    assert "<table" in page and "!delete_token" in page and "decides" in page and "ghost" in page
    # SPEC §9: a denied request says what would allow it, the same as `suggest`.
    resource = {"type": "token", "id": "t", "owner": "u-1"}
    assert x.suggestions == engine.suggest(who, "delete", resource).suggestions
    assert x.suggestions[0]["edits"] == [{"change": "remove_label", "role": "admin", "label": "!delete_token"}]
    assert "What would allow it" in page and "remove_label" in page
    allowed = engine.explain(who, "read", {"type": "device"})
    assert allowed.allowed and allowed.suggestions == []
    x.suggestions[0]["edits"].clear()  # to_dict() gave a deep copy: d is unchanged
    assert tessera.Explanation.from_dict(d).suggestions[0]["edits"]


def test_explain_html_escapes(make_engine: Any) -> None:
    e = make_engine(grants=[{"principal": "<b>", "permissions": ["read_device"]}])
    x = e.explain({"id": "<b>", "roles": ["<script>"]}, "read", {"type": "device"})
    page = x._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert x.allowed
    nothing = e.explain({}, "read", {"type": "device"})
    assert "No rule matched" in nothing._repr_html_()


# ------------------------------------------------------------ capabilities


def test_capabilities(engine: tessera.Engine, alice: tessera.Principal) -> None:
    assert engine.capabilities(alice, DEVICE_OF_ALICE) == [
        "read",
        "create",
        "update",
        "delete",
        "push",
        "pull",
        "execute",
    ]
    assert engine.capabilities(alice, DEVICE_OF_BOB) == []
    assert engine.capabilities({"roles": ["viewer"]}, {"type": "program"}) == ["read"]


# -------------------------------------------------------------- operations


def test_authorize_operation(engine: tessera.Engine) -> None:
    assert engine.authorize_operation(None, "Auth.InitiateAuth").reason == "public"
    assert engine.authorize_operation(None, "Projects.ListProjects").reason == "unauthenticated"
    assert engine.authorize_operation({"id": "x"}, "Projects.ListProjects").allowed
    d = engine.authorize_operation({"id": "x", "groups": ["administrators"]}, "Cluster.UpdateSettings")
    assert (d.allowed, d.reason) == (False, "missing_group")
    d = engine.authorize_operation(
        {"id": "x", "groups": ["administrators", "sudoers"]}, "Cluster.UpdateSettings", None
    )
    assert d.allowed
    assert engine.authorize_operation({"id": "x"}, "Nope.Nothing").reason == "unknown_operation"
    assert engine.authorize_operation({"id": "x"}, "GET /tok/api/v1/devices").reason == "wrong_credential"
    alice = {"id": "u-1", "roles": ["user"]}
    d = engine.authorize_operation(alice, "DELETE /api/v1/devices/d-1", {"owner": "u-1"})
    assert d.allowed and d.rule == "admin_own_device"
    d = engine.authorize_operation(alice, "DELETE /api/v1/devices/d-1", {"owner": "u-2"})
    assert not d and d.reason == "no_match"
    d = engine.authorize_operation({"id": "r", "roles": ["user"]}, "Accounts.ListUsers")
    assert d.reason == "missing_role"
    with pytest.raises(tessera.ArgumentError):
        engine.authorize_operation(alice, "DELETE /api/v1/devices/d-1", {"owner": 7})  # type: ignore[dict-item]
    with pytest.raises(tessera.ArgumentError):
        engine.authorize_operation(alice, "DELETE /api/v1/devices/d-1", {"ownr": "u"})  # type: ignore[typeddict-unknown-key]


# -------------------------------------------------------------- fast path


def test_prepare_and_is_allowed(engine: tessera.Engine) -> None:
    bob = {"id": "u-2", "roles": ["manager"], "groups": ["robot-operators"]}
    fast = engine.prepare(bob)
    assert isinstance(fast, tessera.PreparedPrincipal)
    assert fast.effective_roles == ["manager", "operator", "user"]
    assert fast.principal["id"] == "u-2"
    assert "u-2" in repr(fast)
    assert fast.is_allowed("read", "device") is True
    assert fast.is_allowed("update", "device", "d-1", "u-1") is False
    assert fast.is_allowed("update", "device", "d-1", "u-2") is True
    assert fast.is_allowed("update", "device", id="d-1", owner="u-2") is True
    assert fast.is_allowed(action="execute", type="program") is True
    # is_allowed, authorize and the dict path agree everywhere.
    for action in ["read", "create", "update", "delete", "push", "pull", "execute"]:
        for kind in ["device", "user", "stream", "token", "client", "project", "cluster", "program"]:
            for id_, owner in [(None, None), ("x", "u-2"), ("x", "u-3"), ("x", None)]:
                r: Dict[str, Any] = {"type": kind}
                if id_:
                    r["id"] = id_
                if owner:
                    r["owner"] = owner
                slow = engine.authorize(bob, action, r)  # type: ignore[arg-type]
                assert fast.authorize(action, r) == slow  # type: ignore[arg-type]
                assert fast.is_allowed(action, kind, id_, owner) is slow.allowed


def test_prepared_follows_a_reloaded_policy(engine: tessera.Engine, alice: tessera.Principal) -> None:
    fast = engine.prepare(alice)
    assert fast.is_allowed("read", "device", "d-1", "u-1")
    engine.load({"version": 1, "roles": {"user": {"permissions": []}}})
    assert not fast.is_allowed("read", "device", "d-1", "u-1")
    assert fast.authorize("read", DEVICE_OF_ALICE).reason == "no_match"


def test_authorize_batch(engine: tessera.Engine, alice: tessera.Principal) -> None:
    fast = engine.prepare(alice)
    requests = [
        ("read", DEVICE_OF_ALICE),
        ("read", DEVICE_OF_BOB),
        ["update", {"type": "device", "owners": ["u-9", "u-1"], "id": "z"}],
        ("fly", DEVICE_OF_ALICE),
        ("read", {"type": "device", "id": None, "owner": None}),
    ]
    expected = [True, False, True, False, True]  # type-level: own_ rules match (listing)
    assert engine.authorize_batch(fast, requests) == expected  # type: ignore[arg-type]
    assert engine.authorize_batch(alice, requests) == expected  # type: ignore[arg-type]
    assert engine.authorize_batch(fast, iter(requests)) == expected  # type: ignore[arg-type]
    assert engine.authorize_batch(fast, []) == []
    for (action, r), want in zip(requests, expected):
        assert engine.authorize(alice, action, r).allowed is want  # type: ignore[arg-type]


def test_authorize_batch_errors(engine: tessera.Engine, alice: tessera.Principal) -> None:
    fast = engine.prepare(alice)
    cases: list[Any] = [
        None,
        42,
        [("read",)],
        [("read", DEVICE_OF_ALICE, "extra")],
        ["read"],
        [(1, DEVICE_OF_ALICE)],
        [("read", {"type": "device", "bogus": 1})],
        [("read", {"id": "x"})],
        [("read", "device")],
        [("read", {"type": "device", "owners": "u-1"})],
    ]
    for requests in cases:
        with pytest.raises(tessera.ArgumentError) as info:
            engine.authorize_batch(fast, requests)
        assert info.value.code == "invalid_argument"
    with pytest.raises(tessera.ArgumentError) as info:
        engine.authorize_batch(fast, [("read", DEVICE_OF_ALICE), ("read", {"type": 3})])
    assert "requests[1][1]" in info.value.message
    with pytest.raises(tessera.ArgumentError):
        engine.authorize_batch("alice", [])  # type: ignore[arg-type]


def test_resource_fast_and_strict_readings_agree(engine: tessera.Engine, alice: tessera.Principal) -> None:
    # Dict subclasses and other mappings take the strict path; answers are the same.
    class D(dict):  # type: ignore[type-arg]
        pass

    for r in [DEVICE_OF_ALICE, DEVICE_OF_BOB, {"type": "device"}]:
        expect = engine.authorize(alice, "update", r)
        assert engine.authorize(alice, "update", D(r)) == expect
        assert engine.authorize(alice, "update", MappingProxyType(r)) == expect  # type: ignore[arg-type]
        assert engine.prepare(alice).authorize("update", OrderedDict(r)) == expect  # type: ignore[arg-type]
