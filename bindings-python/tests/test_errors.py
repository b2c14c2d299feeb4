"""Every error path: each exception class and its attributes, and garbage of
every type into every argument of every function, which must either work or
raise a `TesseraError` subclass — never another exception, never a panic."""

from __future__ import annotations

import pickle
from typing import Any, Callable, Dict, Iterator, List, Mapping, Tuple

import pytest

import tessera
from conftest import NOW, POLICY_PATH, SESSION_KEY, Provider


# ------------------------------------------------------------ the classes


def test_exception_hierarchy() -> None:
    T = tessera
    assert issubclass(T.TesseraError, Exception)
    assert issubclass(T.LabelError, (T.TesseraError, ValueError))
    assert issubclass(T.PolicyError, T.TesseraError) and issubclass(T.PolicyError, ValueError)
    assert issubclass(T.TokenError, T.TesseraError)
    assert not issubclass(T.TokenError, (ValueError, PermissionError, OSError))
    assert issubclass(T.ArgumentError, T.TesseraError)
    assert issubclass(T.ArgumentError, TypeError) and issubclass(T.ArgumentError, ValueError)
    assert issubclass(T.RealmError, T.TesseraError)
    assert issubclass(T.InternalError, T.TesseraError)
    kinds = {c.kind for c in (T.LabelError, T.PolicyError, T.TokenError, T.ArgumentError, T.RealmError, T.InternalError)}
    assert kinds == {"label", "policy", "token", "argument", "realm", "internal"}


def test_exceptions_pickle_and_describe_themselves() -> None:
    try:
        tessera.Engine({"version": 1, "roles": {"a": {"inherits": ["ghost"]}}})
    except tessera.PolicyError as e:
        err = e
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is tessera.PolicyError
    assert (again.code, again.message, again.problems) == (err.code, err.message, err.problems)
    assert again.to_dict() == err.to_dict()
    assert err.to_dict()["kind"] == "policy"
    assert repr(err).startswith("PolicyError(code='invalid_policy'")

    try:
        tessera.parse_label("read_")
    except tessera.LabelError as e:
        lerr = e
    assert lerr.to_dict() == {"kind": "label", "code": "syntax", "message": lerr.message, "offset": 5}
    assert pickle.loads(pickle.dumps(lerr)).offset == 5

    made = tessera.TokenError("nope", code="expired")
    assert (made.code, made.message, made.path, made.offset, made.problems) == ("expired", "nope", None, None, [])
    p = tessera.PolicyError("x", code="invalid_policy", problems=[("a", "b", "c"), {"code": "d", "message": "e"}])
    assert p.problems == [tessera.Problem("a", "b", "c"), tessera.Problem("d", "e", "")]


def test_a_rust_panic_becomes_internal_error() -> None:
    with pytest.raises(tessera.InternalError) as info:
        tessera._native._panic_for_test()
    assert info.value.code == "internal"
    assert "deliberate panic" in info.value.message
    # The interpreter and the module are fine afterwards.
    assert tessera.parse_label("read_device")["action"] == "read"


def test_argument_errors_name_the_argument(engine: tessera.Engine) -> None:
    cases: List[Tuple[Callable[[], Any], str]] = [
        (lambda: engine.authorize({"roles": "admin"}, "read", {"type": "device"}), "principal"),
        (lambda: engine.authorize({}, 3, {"type": "device"}), "action"),
        (lambda: engine.authorize({}, "read", {"type": "device", "x": 1}), "resource"),
        (lambda: engine.authorize({"roles": [1]}, "read", {"type": "device"}), "expected a string"),
        (lambda: engine.authorize({"claims": {"a": float("nan")}}, "read", {"type": "device"}), "principal.claims.a"),
        (lambda: engine.authorize({1: 2}, "read", {"type": "device"}), "principal"),
        (lambda: engine.verify_jwt("t", {"keys": []}, now=1.5), "now"),
        (lambda: engine.verify_jwt("t", {"keys": []}, now=True), "now"),
        (lambda: engine.verify_jwt("t", {"keys": []}, now=2**80), "now"),
        (lambda: engine.verify_jwt("t", "{not json"), "jwks"),
        (lambda: engine.create_api_token("u", "admin"), "roles"),
        (lambda: engine.issue_session({"id": "u"}, SESSION_KEY, NOW, {"ttl": 5}), "options"),
        (lambda: tessera.parse_label("read_\ud800"), "text"),
    ]
    for call, where in cases:
        with pytest.raises(tessera.ArgumentError) as info:
            call()
        assert info.value.code == "invalid_argument"
        assert where in info.value.message, (where, info.value.message)


def test_deep_and_cyclic_inputs_are_refused(engine: tessera.Engine) -> None:
    deep: Any = "x"
    for _ in range(10_000):
        deep = [deep]
    cyclic: Dict[str, Any] = {}
    cyclic["claims"] = cyclic
    for principal in ({"claims": {"a": deep}}, cyclic):
        with pytest.raises(tessera.ArgumentError) as info:
            engine.authorize(principal, "read", {"type": "device"})  # type: ignore[arg-type]
        assert "nested more than 128" in info.value.message
    with pytest.raises(tessera.ArgumentError):
        tessera.Engine({"version": 1, "x": deep})


# ----------------------------------------------------------- garbage fuzz


class Unlistable(Mapping[str, Any]):
    """A mapping whose every read fails."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("no")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("no")

    def __len__(self) -> int:
        raise RuntimeError("no")


class BadStr(str):
    pass


def garbage() -> List[Any]:
    deep: Any = 0
    for _ in range(500):
        deep = {"a": deep}
    cyclic: List[Any] = []
    cyclic.append(cyclic)
    return [
        None,
        True,
        0,
        -1,
        2**70,
        1.5,
        float("nan"),
        float("inf"),
        "",
        " ",
        "x" * 70_000,
        "\ud800",
        "a\x00b",
        "{",
        "null",
        BadStr("read"),
        b"bytes",
        bytearray(b"\xff"),
        [],
        [1, "a", None],
        (),
        {},
        {"type": 1},
        {1: 2},
        {"roles": "admin"},
        {"id": 5},
        {"keys": "nope"},
        {"kty": "oct", "k": ""},
        {"kty": "RSA", "n": "AA", "e": "AQAB"},
        set(),
        frozenset({"a"}),
        object(),
        lambda: 1,
        Unlistable(),
        deep,
        cyclic,
        Exception("boom"),
        type,
        range(3),
        iter([1, 2]),
    ]


def fuzz_targets(engine: tessera.Engine, provider: Provider) -> List[Tuple[str, Callable[..., Any], List[Any]]]:
    alice: Dict[str, Any] = {"id": "u-1", "roles": ["user"]}
    device = {"type": "device", "id": "d-1", "owner": "u-1"}
    prepared = engine.prepare(alice)
    created = engine.create_api_token("u-1", ["user"], NOW)
    grant = engine.issue_session(alice, SESSION_KEY, NOW)
    token = provider.token()
    explanation = engine.explain(alice, "read", device).to_dict()  # type: ignore[arg-type]
    return [
        ("Engine", tessera.Engine, [{"version": 1, "roles": {}}]),
        ("Engine.from_path", tessera.Engine.from_path, ["/nonexistent/policy.json"]),
        ("Engine.from_json", tessera.Engine.from_json, ['{"version": 1}']),
        ("load", engine.load, [POLICY_PATH]),
        ("parse_label (engine)", engine.parse_label, ["read_device"]),
        ("authorize", engine.authorize, [alice, "read", device]),
        ("explain", engine.explain, [alice, "read", device]),
        ("capabilities", engine.capabilities, [alice, device]),
        ("authorize_operation", engine.authorize_operation, [alice, "Projects.ListProjects", {"owner": "u-1"}]),
        ("prepare", engine.prepare, [alice]),
        ("authorize_batch", engine.authorize_batch, [prepared, [("read", device)]]),
        ("is_allowed", prepared.is_allowed, ["read", "device", "d-1", "u-1"]),
        ("prepared.authorize", prepared.authorize, ["read", device]),
        ("verify_jwt", engine.verify_jwt, [token, provider.jwks, NOW]),
        ("issue_session", engine.issue_session, [alice, SESSION_KEY, NOW, {"session_id": "s"}]),
        ("renew_session", engine.renew_session, [grant["token"], SESSION_KEY, NOW + 10, {"sessions": []}]),
        ("verify_session", engine.verify_session, [grant["token"], SESSION_KEY, NOW + 10, {"epoch": 0}]),
        ("create_api_token", engine.create_api_token, ["u-1", ["user"], NOW, {"lifespan_seconds": 60}]),
        ("verify_api_token", engine.verify_api_token, [created["secret"], [created["record"]], NOW]),
        ("replace_api_token", engine.replace_api_token, [created["record"], NOW]),
        ("parse_label", tessera.parse_label, ["read_device"]),
        ("format_label", tessera.format_label, [tessera.parse_label("read_device")]),
        ("parse_authorization", tessera.parse_authorization, ["Bearer abc"]),
        ("suspend_api_token", tessera.suspend_api_token, [created["record"]]),
        ("resume_api_token", tessera.resume_api_token, [tessera.suspend_api_token(created["record"])]),
        ("revoke_api_token", tessera.revoke_api_token, [created["record"]]),
        ("Decision", tessera.Decision, [True, "allowed", "read_device", "role:user", None]),
        ("Explanation.from_dict", tessera.Explanation.from_dict, [explanation]),
    ]


def test_every_function_works_with_its_baseline_arguments(engine: tessera.Engine, provider: Provider) -> None:
    for name, fn, args in fuzz_targets(engine, provider):
        if name == "Engine.from_path":
            with pytest.raises(tessera.PolicyError):
                fn(*args)
            continue
        fn(*args)


def test_garbage_into_every_argument_raises_only_tessera_errors(engine: tessera.Engine, provider: Provider) -> None:
    tried = 0
    for name, fn, args in fuzz_targets(engine, provider):
        for position in range(len(args)):
            for junk in garbage():
                call = list(args)
                call[position] = junk
                try:
                    fn(*call)
                except tessera.TesseraError:
                    pass
                except BaseException as e:  # noqa: BLE001 - the point of the test
                    pytest.fail(f"{name}(arg {position} = {junk!r:.60}) raised {type(e).__name__}: {e}")
                tried += 1
    assert tried > 2_000


def test_garbage_inside_valid_shapes(engine: tessera.Engine) -> None:
    """Garbage one level down: in each field of a principal and a resource."""
    fields = ["id", "roles", "groups", "permissions", "scopes", "limits", "credential", "expires_at", "claims"]
    for field in fields:
        for junk in garbage():
            for call in (
                lambda p: engine.authorize(p, "read", {"type": "device"}),
                lambda p: engine.prepare(p),
                lambda p: engine.authorize_operation(p, "GET /api/v1/devices"),
            ):
                try:
                    call({field: junk})
                except tessera.TesseraError:
                    pass
    for field in ["type", "id", "owner", "owners"]:
        for junk in garbage():
            r = {"type": "device", field: junk}
            try:
                engine.authorize({}, "read", r)  # type: ignore[arg-type]
            except tessera.TesseraError:
                pass
            try:
                engine.prepare({}).authorize("read", r)  # type: ignore[arg-type]
            except tessera.TesseraError:
                pass


def test_engine_is_unharmed_by_garbage(engine: tessera.Engine, provider: Provider) -> None:
    test_garbage_into_every_argument_raises_only_tessera_errors(engine, provider)
    assert engine.authorize({"id": "u-1", "roles": ["user"]}, "read", {"type": "device", "owner": "u-1", "id": "d"})
