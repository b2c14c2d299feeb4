"""Tokens (SPEC §6) from Python: provider JWTs signed by PyJWT, sessions, API
tokens, Authorization headers; every failure a `TokenError` with its code."""

from __future__ import annotations

import base64
import json
from typing import Any, Dict

import pytest

import tessera
from conftest import CLIENT_ID, ISSUER, NOW, SESSION_KEY, Provider

# ------------------------------------------------------------ provider JWTs


def test_verify_jwt_returns_a_principal(engine: tessera.Engine, provider: Provider) -> None:
    token = provider.token()
    p = engine.verify_jwt(token, provider.jwks, NOW)
    assert p["id"] == "u-9"
    assert p["credential"] == "jwt"
    assert p["groups"] == ["managers"]
    assert p["roles"] == ["manager"]
    assert p["scopes"] == ["streams/push", "openid"]
    assert p["expires_at"] == NOW + 3600
    assert p["claims"]["client_id"] == CLIENT_ID
    assert p["claims"]["cognito:groups"] == ["managers"]
    # The principal goes straight into a decision.
    assert engine.authorize(p, "read", {"type": "project"}).source == "role:manager"
    # JWKS as JSON text, the clock instead of `now`, and the cache.
    assert engine.verify_jwt(token, json.dumps(provider.jwks), NOW)["id"] == "u-9"
    assert engine.token_cache_len() >= 1
    engine.clear_token_cache()
    assert engine.token_cache_len() == 0
    fresh = provider.token(iat=None, exp=4_000_000_000)
    assert engine.verify_jwt(fresh, provider.jwks)["id"] == "u-9"


def _tamper(token: str) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "admin"
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{body}.{sig}"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: p.token(exp=NOW - 1), "expired"),
        (lambda p: p.token(exp=NOW), "expired"),
        (lambda p: p.token(nbf=NOW + 100), "not_yet_valid"),
        (lambda p: p.token(iat=NOW + 100), "not_yet_valid"),
        (lambda p: p.token(iss="https://evil.example"), "wrong_issuer"),
        (lambda p: p.token(client_id="someone-else"), "wrong_client"),
        (lambda p: p.token(token_use="refresh"), "wrong_token_use"),
        (lambda p: p.token(exp="soon"), "missing_claim"),
        (lambda p: p.token(sub=None), "missing_claim"),
        (lambda p: p.token(headers={"kid": "other"}), "unknown_key"),
        (lambda p: p.token(headers={"crit": ["b64"]}), "unsupported_crit"),
        (lambda p: _tamper(p.token()), "bad_signature"),
        (lambda p: "not.a.jwt", "malformed"),
        (lambda p: "", "malformed"),
        (lambda p: "a" * 20_000, "too_large"),
        (lambda p: Provider(kid=p.kid).token(), "bad_signature"),
    ],
)
def test_verify_jwt_refusals(engine: tessera.Engine, provider: Provider, make: Any, code: str) -> None:
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(make(provider), provider.jwks, NOW)
    err = info.value
    assert err.code == code, err
    assert err.kind == "token"
    assert isinstance(err, tessera.TesseraError) and not isinstance(err, ValueError)


def test_verify_jwt_alg_none_and_hs256_confusion(engine: tessera.Engine, provider: Provider) -> None:
    import jwt

    none = jwt.encode(provider.claims(), None, algorithm="none", headers={"kid": provider.kid})
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(none, provider.jwks, NOW)
    assert info.value.code in {"unsupported_alg", "malformed"}
    # HS256 signed with the RSA public key's bytes: the classic confusion attack.
    hs = jwt.encode(provider.claims(), "x" * 64, algorithm="HS256", headers={"kid": provider.kid})
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(hs, provider.jwks, NOW)
    assert info.value.code == "unsupported_alg"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_weak_rsa_keys_are_refused(engine: tessera.Engine) -> None:
    weak = Provider(kid="w", bits=1024)
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(weak.token(), weak.jwks, NOW)
    assert info.value.code == "weak_key"


def test_bad_jwks_shapes_are_argument_errors(engine: tessera.Engine, provider: Provider) -> None:
    for jwks in ({"keys": "x"}, {"nokeys": []}, [1], "[]", "{"):
        with pytest.raises(tessera.TesseraError) as info:
            engine.verify_jwt(provider.token(), jwks, NOW)  # type: ignore[arg-type]
        assert isinstance(info.value, (tessera.ArgumentError, tessera.TokenError))


# -------------------------------------------------------------- sessions


def test_session_lifecycle(engine: tessera.Engine) -> None:
    alice: tessera.Principal = {"id": "alice", "roles": ["user"], "groups": ["managers"]}
    grant = engine.issue_session(alice, SESSION_KEY, NOW, {"session_id": "s-1"})
    assert grant["session_id"] == "s-1"
    assert grant["expires_at"] == NOW + 1800
    assert grant["renewable_until"] == NOW + 172800
    # Deterministic: the same inputs give the same token, byte for byte.
    assert engine.issue_session(alice, SESSION_KEY, NOW, {"session_id": "s-1"}) == grant
    assert engine.issue_session(alice, json.dumps(SESSION_KEY), NOW, {"session_id": "s-1"}) == grant

    p = engine.verify_session(grant["token"], SESSION_KEY, NOW + 10)
    assert (p["id"], p["credential"], p["session_id"]) == ("alice", "session", "s-1")
    assert p["roles"] == ["user", "manager"]
    assert engine.authorize(p, "read", {"type": "project"})

    renewed = engine.renew_session(grant["token"], SESSION_KEY, NOW + 1000)
    assert renewed["session_id"] == "s-1"
    assert renewed["expires_at"] == NOW + 1000 + 1800

    for now, revocations, code in [
        (NOW + 1800, None, "expired"),
        (NOW + 10, {"sessions": ["s-1"]}, "revoked"),
        (NOW + 10, {"subjects": ["alice"]}, "revoked"),
        (NOW + 10, {"epoch": 1}, "revoked"),
        (NOW - 100, None, "not_yet_valid"),
    ]:
        with pytest.raises(tessera.TokenError) as info:
            engine.verify_session(grant["token"], SESSION_KEY, now, revocations)  # type: ignore[arg-type]
        assert info.value.code == code
    with pytest.raises(tessera.TokenError) as info:
        engine.renew_session(grant["token"], SESSION_KEY, NOW + 172800)
    assert info.value.code == "session_ended"
    random = engine.issue_session(alice, SESSION_KEY)
    assert len(random["session_id"]) == 22


def test_session_key_and_token_confusion(engine: tessera.Engine, provider: Provider) -> None:
    with pytest.raises(tessera.TokenError) as info:
        engine.issue_session({"id": "a"}, {"kty": "oct", "k": "c2hvcnQ"}, NOW)
    assert info.value.code == "weak_key"
    with pytest.raises(tessera.ArgumentError):
        engine.issue_session({"roles": ["user"]}, SESSION_KEY, NOW)  # no id
    grant = engine.issue_session({"id": "a"}, SESSION_KEY, NOW)
    # A session token is never a provider JWT, and the reverse.
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(grant["token"], {"keys": [SESSION_KEY]}, NOW)
    assert info.value.code == "wrong_token_use"
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_session(provider.token(), SESSION_KEY, NOW)
    assert info.value.code == "wrong_token_use"
    other = {"kty": "oct", "k": base64.urlsafe_b64encode(b"another-secret-another-secret-32").rstrip(b"=").decode()}
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_session(grant["token"], other, NOW)
    assert info.value.code == "bad_signature"


# ------------------------------------------------------------- API tokens


def test_api_token_lifecycle(engine: tessera.Engine) -> None:
    made = engine.create_api_token("dev-1", ["user"], NOW, {"lifespan_seconds": 3600, "limits": ["pull_stream"]})
    secret, record = made["secret"], made["record"]
    assert secret.startswith("tsr_")
    assert record["state"] == "active" and record["expires_at"] == NOW + 3600
    assert record["limits"] == ["pull_stream"]
    assert len(record["hash"]) == 64 and secret not in json.dumps(record)

    p = engine.verify_api_token(secret, [record], NOW + 1)
    assert (p["id"], p["credential"], p["api_token_id"]) == ("dev-1", "api_token", record["id"])
    assert engine.authorize(p, "pull", {"type": "stream", "id": "s", "owner": "dev-1"})
    assert engine.authorize(p, "push", {"type": "stream", "id": "s", "owner": "dev-1"}).reason == "limited"
    # A session opened with the token keeps its limits.
    session = engine.issue_session(p, SESSION_KEY, NOW + 1)
    sp = engine.verify_session(session["token"], SESSION_KEY, NOW + 2)
    assert sp["limits"] == ["pull_stream"] and sp["api_token_id"] == record["id"]

    suspended = tessera.suspend_api_token(record)
    assert suspended["state"] == "suspended" and record["state"] == "active"
    resumed = tessera.resume_api_token(suspended)
    revoked = tessera.revoke_api_token(resumed)
    for records, code in [
        ([suspended], "suspended"),
        ([revoked], "revoked"),
        ([], "unknown_token"),
    ]:
        with pytest.raises(tessera.TokenError) as info:
            engine.verify_api_token(secret, records, NOW + 1)
        assert info.value.code == code
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_api_token(secret, [record], NOW + 3600)
    assert info.value.code == "expired"
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_api_token("tsr_nope", [record], NOW)
    assert info.value.code == "malformed"
    for bad in (tessera.resume_api_token, tessera.suspend_api_token, tessera.revoke_api_token):
        with pytest.raises(tessera.TokenError) as info:
            bad(revoked)
        assert info.value.code == "invalid_transition"

    new, old = engine.replace_api_token(record, NOW + 10)
    assert old["state"] == "revoked" and old["id"] == record["id"]
    assert new["record"]["id"] != record["id"] and new["record"]["expires_at"] == NOW + 10 + 3600
    assert engine.verify_api_token(new["secret"], [old, new["record"]], NOW + 11)["id"] == "dev-1"


def test_api_token_argument_errors(engine: tessera.Engine) -> None:
    for call in (
        lambda: engine.create_api_token("", []),
        lambda: engine.create_api_token("u", [], NOW, {"lifespan_seconds": 0}),
        lambda: engine.create_api_token("u", [], NOW, {"limits": ["fly_device"]}),
        lambda: engine.create_api_token("u", [1]),  # type: ignore[list-item]
        lambda: engine.verify_api_token("tsr_x", [{"id": "x"}]),  # type: ignore[typeddict-item]
        lambda: tessera.suspend_api_token({"id": "x"}),  # type: ignore[typeddict-item]
    ):
        with pytest.raises(tessera.ArgumentError):
            call()


# ------------------------------------------------------- Authorization


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer   tok", "tok"), ("tsr_abc_def", "tsr_abc_def"), ("  Bearer x ", "x")],
)
def test_parse_authorization(header: str, token: str) -> None:
    assert tessera.parse_authorization(header) == token


@pytest.mark.parametrize("header", ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer a b", "tok en", "Bearer \x01"])
def test_parse_authorization_refusals(header: str) -> None:
    with pytest.raises(tessera.TokenError) as info:
        tessera.parse_authorization(header)
    assert info.value.code == "malformed"


def test_end_to_end_request(engine: tessera.Engine, provider: Provider) -> None:
    """Header → principal → operation decision, as a web service would."""
    headers: Dict[str, str] = {"Authorization": f"Bearer {provider.token()}"}
    token = tessera.parse_authorization(headers["Authorization"])
    who = engine.verify_jwt(token, provider.jwks, NOW)
    assert engine.authorize_operation(who, "Projects.CreateProject").allowed
    assert not engine.authorize_operation(who, "Cluster.UpdateSettings").allowed
    assert ISSUER in who["claims"]["iss"]
