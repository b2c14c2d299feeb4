"""Hostile input (issue 17): arrays never read as objects, lone surrogates
refused everywhere, one policy per batch, a raising __fspath__, and
messages for people (a path, no Rust type names, no positions inside our
own serialisation)."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import pytest

import tessera
from conftest import SESSION_KEY

POLICY = {
    "version": 1,
    "roles": {
        "user": {"permissions": ["read_own_device", "delete_own_device"]},
        "admin": {"inherits": ["user"], "permissions": ["admin_device"]},
    },
}

RUST_NAMES = re.compile(r"struct |enum |tessera::|Vec<|Option<|at line \d+ column")


def check(err: tessera.TesseraError, path: str) -> None:
    assert err.code == "invalid_argument"
    assert err.path == path, (err.path, str(err))
    assert str(err).startswith(f"{path}: "), str(err)
    assert not RUST_NAMES.search(str(err)), str(err)
    assert "(at )" not in str(err)


def test_arrays_are_never_principals_or_resources() -> None:
    engine = tessera.Engine(POLICY)
    with pytest.raises(tessera.ArgumentError) as e:
        engine.authorize(["mallory", ["admin"]], "delete", {"type": "device", "id": "d2", "owner": "bob"})
    check(e.value, "principal")
    assert str(e.value) == "principal: expected an object, found an array"
    with pytest.raises(tessera.ArgumentError) as e:
        engine.authorize({"id": "mallory", "roles": ["user"]}, "delete", ["device", "d2", "bob"])
    check(e.value, "resource")
    with pytest.raises(tessera.ArgumentError) as e:
        engine.authorize_operation(["mallory", ["admin"]], "X")
    check(e.value, "principal")
    p = engine.prepare({"id": "u"})
    with pytest.raises(tessera.ArgumentError) as e:
        engine.authorize_batch(p, [("read", {"type": "device"}), ("read", ("device", "d1"))])
    check(e.value, "requests[1][1]")


def test_an_array_is_not_a_realm_snapshot() -> None:
    with pytest.raises(tessera.ArgumentError) as e:
        tessera.Realm.restore(POLICY, [1, False, 0, [], [], []], SESSION_KEY)
    check(e.value, "snapshot")


def test_field_errors_name_the_field() -> None:
    engine = tessera.Engine(POLICY)
    with pytest.raises(tessera.ArgumentError) as e:
        engine.authorize({"id": "u", "roles": ["user", 3]}, "read", {"type": "device"})
    check(e.value, "principal.roles[1]")
    assert str(e.value) == "principal.roles[1]: expected a string, found the number 3"
    with pytest.raises(tessera.ArgumentError) as e:
        engine.authorize({"id": "u"}, "read", {"id": "d1"})
    check(e.value, "resource")
    assert str(e.value) == "resource: `type` is required"
    with pytest.raises(tessera.ArgumentError) as e:
        engine.authorize({"id": "u", "credential": "password"}, "read", {"type": "device"})
    check(e.value, "principal.credential")


def test_lone_surrogates_are_refused_everywhere() -> None:
    engine = tessera.Engine(POLICY)
    with pytest.raises(tessera.ArgumentError) as e:
        engine.authorize({"id": "u", "roles": ["user"]}, "delete", {"type": "device", "id": "d", "owner": "\ud800"})
    assert e.value.code == "invalid_argument"
    p = engine.prepare({"id": "\ufffd", "roles": ["user"]})
    with pytest.raises(tessera.ArgumentError):
        p.is_allowed("delete", "device", "d", "\ud800")
    with pytest.raises(tessera.ArgumentError):
        engine.authorize_batch(p, [("delete", {"type": "device", "id": "d", "owner": "\ud800"})])
    # A text policy: the raw character, and the JSON escape of one.
    with pytest.raises(tessera.ArgumentError) as e:
        tessera.Engine('{"version": 1, "roles": {"\ud800": {}}}')
    assert e.value.code == "invalid_argument"
    with pytest.raises(tessera.ArgumentError) as e:
        tessera.Engine('{"version": 1, "roles": {"\\ud800": {}}}')
    check(e.value, "policy")
    with pytest.raises(tessera.ArgumentError):
        tessera.Engine.from_json('{"version": 1, "roles": {"a": {"permissions": ["read_device:\\udc00"]}}}')


def test_a_raising_fspath_is_a_tessera_error() -> None:
    class Hostile(os.PathLike):  # type: ignore[type-arg]
        def __fspath__(self) -> str:
            raise RuntimeError("no path for you")

    with pytest.raises(tessera.ArgumentError) as e:
        tessera.Engine(Hostile())
    check(e.value, "policy")
    assert "RuntimeError" in str(e.value)
    with pytest.raises(tessera.ArgumentError):
        tessera.Engine.from_path(Hostile())


def test_a_batch_is_answered_from_one_policy() -> None:
    allow: dict[str, Any] = {"version": 1, "roles": {"r": {"permissions": ["read_device"]}}}
    deny: dict[str, Any] = {"version": 1, "roles": {"r": {"permissions": ["update_device"]}}}
    engine = tessera.Engine(allow)
    prepared = engine.prepare({"id": "u", "roles": ["r"]})
    requests = [("read", {"type": "device", "id": f"d{i}"}) for i in range(2000)]
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            engine.load(deny)
            engine.load(allow)

    t = threading.Thread(target=flip)
    t.start()
    try:
        for _ in range(200):
            answers = engine.authorize_batch(prepared, requests)
            assert len(set(answers)) == 1, "a batch mixed two policies"
    finally:
        stop.set()
        t.join()


def _refused(f: Any, path: str) -> None:
    with pytest.raises(tessera.ArgumentError) as e:
        f()
    check(e.value, path)


def test_key_material_errors_name_the_key_and_member() -> None:
    import json
    import pathlib

    vectors = json.loads(
        (pathlib.Path(__file__).parents[2] / "conformance" / "vectors" / "jwt_structure.json").read_text()
    )
    by_name = {c["name"]: c for c in vectors["cases"]}
    token = by_name["JWKS with a duplicate kid"]["token"]
    rsa = by_name["JWKS with a duplicate kid"]["keys"]["keys"][0]
    jwt_engine = tessera.Engine(vectors["policy"])
    now = 1_700_000_000
    _refused(lambda: jwt_engine.verify_jwt(token, {"keys": [rsa, dict(rsa)]}, now=now), "jwks.keys[1].kid")
    _refused(lambda: jwt_engine.verify_jwt(token, {"keys": [rsa, {"kty": "oct", "k": "AAAA"}]}, now=now), "jwks.keys[1].kty")
    _refused(lambda: jwt_engine.verify_jwt(token, {"keys": [rsa, "rsa-2"]}, now=now), "jwks.keys[1]")
    _refused(lambda: jwt_engine.verify_jwt(token, {"keys": [dict(rsa, use=1)]}, now=now), "jwks.keys[0].use")
    _refused(lambda: jwt_engine.verify_jwt(token, {"keys": {}}, now=now), "jwks.keys")
    engine = tessera.Engine(POLICY)
    alice = {"id": "alice", "roles": ["user"]}
    okp = {"kty": "OKP", "crv": "Ed25519"}
    _refused(lambda: engine.issue_session(alice, dict(okp, d="AAAA"), now=now), "key.d")
    _refused(lambda: engine.issue_session(alice, dict(okp, d="not base64!"), now=now), "key.d")
    _refused(lambda: engine.issue_session(alice, {"crv": "Ed25519", "d": "AAAA"}, now=now), "key.kty")
    _refused(
        lambda: engine.issue_session(alice, dict(okp, x="hFd-5-W5Kt9XtPC_BDej_Z_Mk50qsycuNTJkH7OIKOE"), now=now), "key.d"
    )
    _refused(lambda: engine.issue_session(alice, okp, now=now), "key")


def test_null_id_and_owner_are_absent_as_in_javascript() -> None:
    engine = tessera.Engine(POLICY)
    alice = {"id": "alice", "roles": ["user"]}
    nobody = {"id": None, "roles": ["user"]}
    # A None principal id owns nothing, not even what a None owner "owns".
    assert not engine.authorize(nobody, "delete", {"type": "device", "id": "d", "owner": None}).allowed
    assert engine.authorize(alice, "read", {"type": "device", "id": None, "owner": "alice"}).allowed
    assert engine.authorize(alice, "read", {"type": "device", "id": None, "owner": None}).allowed
    _refused(lambda: engine.authorize(alice, "read", {"type": "device", "id": 0}), "resource.id")
