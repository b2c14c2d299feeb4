"""The integrations' pieces without a server: the Flask decorator, the Guard's
arguments, the owners hook's answers, and the throwing helpers."""

from __future__ import annotations

import base64
import pickle
from typing import Any

import pytest

import tessera
from tessera._web import Guard, Outcome, _context

flask = pytest.importorskip("flask")
from tessera.flask import Tessera  # noqa: E402

POLICY: dict[str, Any] = {
    "version": 1,
    "roles": {"user": {"permissions": ["read_own_device"]}},
    "operations": {
        "GET /open": {"access": "public"},
        "GET /devices/{id}": {"permission": "read_device"},
    },
}
USERS = {"tok-alice": {"id": "alice", "roles": ["user"]}}


def by_table(header: str) -> tessera.Principal:
    token = tessera.parse_authorization(header)
    if token not in USERS:
        raise tessera.TokenError("no such token", code="unknown_token")
    return USERS[token]  # type: ignore[return-value]


def test_flask_decorator_guards_only_what_it_wraps() -> None:
    app = flask.Flask(__name__)
    guard = Tessera(app, tessera.Engine(POLICY), authenticate=by_table, every_request=False,
                    owners=lambda r: {"d1": "alice", "d2": "bob"}.get((r.view_args or {}).get("id", "")))

    @app.get("/devices/<id>")
    @guard.required
    def device(id: str) -> Any:
        return {"id": id, "by": flask.g.principal["id"]}

    @app.get("/free")
    def free() -> Any:
        return {"free": True}

    client = app.test_client()
    assert client.get("/free").status_code == 200  # not in the table, not decorated
    r = client.get("/devices/d1", headers={"Authorization": "Bearer tok-alice"})
    assert r.status_code == 200 and r.get_json() == {"id": "d1", "by": "alice"}
    r = client.get("/devices/d2", headers={"Authorization": "tok-alice"})
    assert r.status_code == 403 and r.get_json() == {"error": "forbidden", "reason": "no_match"}
    r = client.get("/devices/d1", headers={"Authorization": "Bearer tok-bob"})
    assert r.status_code == 401 and r.get_json() == {"error": "unknown_token"}
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert app.extensions["tessera"] is guard and "every_request=False" in repr(guard)


def test_guard_takes_one_authenticator() -> None:
    engine = tessera.Engine(POLICY)
    with pytest.raises(tessera.ArgumentError, match="not keys and authenticate"):
        Guard(engine, keys={"keys": []}, authenticate=by_table)
    with pytest.raises(tessera.ArgumentError, match="engine"):
        Guard()
    with pytest.raises(tessera.ArgumentError, match="unknown"):
        Guard(engine, unknown="ignore")  # type: ignore[arg-type]


def test_owners_answers() -> None:
    assert _context(None) == {}
    assert _context("u1") == {"owner": "u1"}
    assert _context(["u1", "u2"]) == {"owners": ["u1", "u2"]}
    assert _context({"id": "d", "owner": "u"}) == {"id": "d", "owner": "u"}
    with pytest.raises(tessera.ArgumentError):
        _context(42)  # type: ignore[arg-type]


def test_guard_outcomes_without_a_server() -> None:
    guard = Guard(tessera.Engine(POLICY), authenticate=by_table)
    assert guard.anonymous("GET /open") is not None and guard.anonymous("GET /open").status == 200  # type: ignore[union-attr]
    assert guard.anonymous("GET /devices/d1") is None
    bad = guard.anonymous("GET /devices/%2F")
    assert bad is not None and (bad.status, bad.body) == (400, {"error": "invalid_path"})
    missing = guard.anonymous("GET /nothing")
    assert missing is not None and (missing.status, missing.code) == (404, "not_found")
    assert isinstance(guard.authenticate(["a, b"]), tessera._web.Outcome)
    refused = guard.decide({"id": "alice", "permissions": ["read_"]}, "GET /devices/d1")
    assert (refused.status, refused.reason) == (403, "syntax")  # never let through


def test_assert_allowed_and_operation() -> None:
    engine = tessera.Engine(POLICY)
    alice: tessera.Principal = {"id": "alice", "roles": ["user"]}
    ok = engine.assert_allowed(alice, "read", {"type": "device", "id": "d1", "owner": "alice"})
    assert ok.allowed and ok.rule == "read_own_device"
    with pytest.raises(tessera.ForbiddenError) as info:
        engine.assert_allowed(alice, "read", {"type": "device", "id": "d2", "owner": "bob"})
    err = info.value
    assert (err.code, err.reason, err.kind) == ("forbidden", "no_match", "forbidden")
    assert err.decision == engine.authorize(alice, "read", {"type": "device", "id": "d2", "owner": "bob"})
    assert err.to_dict()["reason"] == "no_match" and isinstance(err, tessera.TesseraError)
    assert pickle.loads(pickle.dumps(err)).reason == "no_match"
    assert engine.assert_operation(None, "GET /open").reason == "public"
    with pytest.raises(tessera.ForbiddenError, match="unauthenticated"):
        engine.assert_operation(None, "GET /devices/d1")
    with pytest.raises(tessera.ArgumentError) as bad:
        engine.assert_operation(alice, "GET /devices/..")
    assert bad.value.code == "invalid_path"


def test_a_verified_principal_is_decided_without_its_raw_claims() -> None:
    import jwt  # PyJWT, a dev requirement: the token minter

    secret = b"0123456789abcdef0123456789abcdef"
    iss = "https://issuer.test"
    policy: dict[str, Any] = {
        "version": 1,
        "roles": {"user": {"permissions": ["read_own_device"]}, "admin": {"permissions": ["admin_device"]}},
        "groups": {"staff": ["user"], "administrators": ["admin"]},
        "operations": {
            "GET /devices/{id}": {"permission": "read_device"},
            "GET /admin": {"access": {"groups_all": ["administrators"]}},
            "GET /scoped": {"access": {"scopes_any": ["devices:read"]}},
            "GET /jwt-only": {"credential": "jwt"},
            "GET /sessions-only": {"credential": "session"},
        },
        "tokens": {"jwt": {"issuers": [iss], "algorithms": ["HS256"], "client_ids": None, "token_use": None, "audiences": ["api"]}},
    }
    keys = tessera.KeySet({"keys": [{"kty": "oct", "k": base64.urlsafe_b64encode(secret).rstrip(b"=").decode()}]})
    guard = Guard(tessera.Engine(policy), keys=keys, now=lambda: 1_700_000_100)
    assert guard.verifies and not Guard(tessera.Engine(policy), authenticate=by_table).verifies
    principals = []
    for groups, scope in ((["staff"], "openid"), (["administrators"], "devices:read")):
        claims = {"iss": iss, "aud": "api", "sub": f"u-{len(principals)}", "iat": 1_700_000_000, "exp": 1_700_003_600, "cognito:groups": groups, "scope": scope}
        found = guard.authenticate([f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"])
        assert not isinstance(found, Outcome) and "claims" in found
        principals.append(found)
    asked = 0
    for p in principals:
        for op in ("GET /devices/d1", "GET /admin", "GET /scoped", "GET /jwt-only", "GET /sessions-only"):
            for owners in (None, p["id"], "someone-else"):
                plain = guard.decide(p, op, owners)
                verified = guard.decide(p, op, owners, verified=True)
                assert (verified.status, verified.code, verified.reason) == (plain.status, plain.code, plain.reason), (p["id"], op, owners)
                if verified.allowed:
                    assert verified.principal is p  # the request gets the whole principal
                asked += 1
    assert asked == 30
