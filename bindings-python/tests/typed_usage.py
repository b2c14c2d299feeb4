"""A typed tour of the public API, checked with `mypy --strict` and pyright in
strict mode (test_typing.py).

Not collected by pytest as tests; it is also run once as a script to make sure
that what type-checks also works.
"""

from __future__ import annotations

import pathlib
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Tuple

import tessera
from tessera import (
    ApiTokenRecord,
    BatchRequest,
    Decision,
    Engine,
    Explanation,
    Label,
    NewApiToken,
    PreparedPrincipal,
    Principal,
    Resource,
    SessionGrant,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_engines() -> List[Engine]:
    doc = {"version": 1, "roles": {"viewer": {"permissions": ["read_device"]}}}
    return [
        Engine(doc),
        Engine('{"version": 1}'),
        Engine(ROOT / "examples" / "policy.json"),
        Engine.from_path(str(ROOT / "examples" / "policy.json")),
        Engine.from_json(b'{"version": 1}'),
    ]


def decide(engine: Engine) -> Tuple[bool, str, Optional[str], Optional[str]]:
    alice: Principal = {"id": "u-1", "roles": ["user"]}
    device: Resource = {"type": "device", "id": "d-1", "owner": "u-1"}
    d: Decision = engine.authorize(alice, "read", device)
    allowed: bool = d.allowed
    reason: tessera.Reason = d.reason
    if d:
        pass
    as_dict: tessera.DecisionDict = d.to_dict()
    assert as_dict["allowed"] == allowed
    x: Explanation = engine.explain(alice, "delete", {"type": "token"})
    roles: List[str] = x.effective_roles
    first: Optional[tessera.MatchedRule] = x.matched[0] if x.matched else None
    if first is not None:
        effect: str = first.effect
        assert effect in ("allow", "deny")
    assert isinstance(x._repr_html_(), str) and isinstance(roles, list)  # pyright: ignore[reportPrivateUsage]
    assert d._repr_html_().startswith("<table") and "Engine:" in repr(engine)  # pyright: ignore[reportPrivateUsage]
    caps: List[str] = engine.capabilities(alice, device)
    op: Decision = engine.authorize_operation(None, "Auth.InitiateAuth")
    op2: Decision = engine.authorize_operation(alice, "DELETE /api/v1/devices/d-1", {"owner": "u-1"})
    assert isinstance(caps, list) and op.reason in ("public", "unknown_operation") and isinstance(op2.allowed, bool)
    return allowed, reason, d.rule, d.source


def fast_path(engine: Engine) -> List[bool]:
    fast: PreparedPrincipal = engine.prepare({"id": "u-1", "roles": ["user"]})
    ok: bool = fast.is_allowed("read", "device", "d-1", "u-1")
    ok2: bool = fast.is_allowed("read", "device", id=None, owner=None)
    d: Decision = fast.authorize("update", {"type": "device"})
    requests: List[BatchRequest] = [("read", {"type": "device"}), ("update", {"type": "device", "owners": ["u-1"]})]
    answers: List[bool] = engine.authorize_batch(fast, requests)
    who: Principal = fast.principal
    assert isinstance(who, dict) and isinstance(fast.effective_roles, list)
    def one(r: BatchRequest) -> bool:
        return fast.is_allowed(r[0], r[1]["type"])

    with ThreadPoolExecutor(2) as pool:
        answers += list(pool.map(one, requests))
    return [ok, ok2, bool(d)] + answers


def labels() -> str:
    label: Label = tessera.parse_label("read_own_device")
    subject: Optional[str] = label["subject"]
    assert subject == "device"
    return tessera.format_label(label)


def tokens(engine: Engine) -> None:
    key = {"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}
    grant: SessionGrant = engine.issue_session({"id": "u-1"}, key, 1000, {"session_id": "s-1"})
    renewed: SessionGrant = engine.renew_session(grant["token"], key, 1001, {"sessions": []})
    # A verification returns a VerifiedPrincipal: "id" is a required key (pyright strict).
    who: tessera.VerifiedPrincipal = engine.verify_session(renewed["token"], key, now=1002)
    made: NewApiToken = engine.create_api_token("dev-1", ["user"], 1000, {"lifespan_seconds": 60})
    record: ApiTokenRecord = tessera.suspend_api_token(made["record"])
    record = tessera.resume_api_token(record)
    device: tessera.VerifiedPrincipal = engine.verify_api_token(made["secret"], [record], 1001)
    assert engine.authorize(device, "read", {"type": "device"}).reason
    new, old = engine.replace_api_token(record, 1002)
    assert new["record"]["state"] == "active" and old["state"] == "revoked"
    assert tessera.revoke_api_token(new["record"])["state"] == "revoked"
    assert who["id"] == "u-1" and device.get("credential") == "api_token"
    token: str = tessera.parse_authorization("Bearer abc")
    try:
        subject: str = engine.verify_jwt(token, {"keys": []}, 1000)["id"]  # "id" is required (issue 14)
        assert subject
    except tessera.TokenError as e:
        code: str = e.code
        assert code
    engine.clear_token_cache()
    assert engine.token_cache_len() == 0


def realm() -> List[tessera.User]:
    options: tessera.RealmOptions = {"argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}}
    key = {"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}
    r = tessera.Realm({"version": 1, "roles": {"user": {}, "admin": {"permissions": ["admin_user"]}}}, key, options)
    first: tessera.User = r.create_user(None, "ann", "pw", {"id": "u-ann"}, 0)
    grant: SessionGrant = r.login("ann", "pw", 1)
    admin: tessera.VerifiedPrincipal = r.authenticate(f"Bearer {grant['token']}", 2)
    r.create_user(admin, "bob", None)
    snapshot: tessera.RealmSnapshot = r.snapshot()
    again: tessera.Realm = tessera.Realm.restore({"version": 1}, snapshot, key, options)
    engine: Engine = again.engine
    assert isinstance(engine.authorize(admin, "read", {"type": "user"}).allowed, bool)
    try:
        r.get_user(None, first["id"])
    except tessera.RealmError as e:
        assert e.code == "forbidden"
    return r.list_users(admin)


def outside_a_route(engine: Engine) -> str:
    alice: Principal = {"id": "u-1", "roles": ["user"]}
    ok: Decision = engine.assert_allowed(alice, "read", {"type": "device", "owner": "u-1"})
    try:
        engine.assert_operation(None, "DELETE /api/v1/devices/d-1")
    except tessera.ForbiddenError as e:
        refused: Decision = e.decision
        return f"{ok.reason}/{e.reason}/{refused.allowed}"
    return "not refused"


def web(engine: Engine) -> List[str]:
    from fastapi import FastAPI, Request
    from flask import Flask

    from tessera.fastapi import Authorizer
    from tessera.flask import Tessera

    def owners(request: Request) -> Optional[str]:
        return request.path_params.get("id")

    def by_header(header: str) -> Principal:
        return {"id": tessera.parse_authorization(header)}

    auth = Authorizer(engine, authenticate=by_header, owners=owners, unknown="pass")
    app = FastAPI()
    auth.install(app)
    router = auth.router(prefix="/api")
    ext = Tessera(Flask(__name__), engine, keys=tessera.KeySet({"keys": []}), every_request=False)

    @ext.required
    def view() -> str:
        return "ok"

    return [repr(auth), repr(ext), str(router.prefix), view.__name__]


def errors() -> List[str]:
    codes: List[str] = []
    try:
        Engine({"version": 1, "roles": {"a": {"inherits": ["ghost"]}}})
    except tessera.PolicyError as e:
        codes += [p.code for p in e.problems] + [p.path for p in e.problems]
    try:
        tessera.parse_label("read_")
    except tessera.LabelError as e:
        offset: Optional[int] = e.offset
        codes.append(f"{e.code}@{offset}")
    try:
        Engine({"version": 1}).authorize({"roles": "admin"}, "read", {"type": "device"})  # type: ignore[typeddict-item]
    except tessera.ArgumentError as e:
        codes.append(e.code)
    except tessera.TesseraError as e:
        codes.append(e.kind)
    return codes


if __name__ == "__main__":
    engine = Engine(ROOT / "examples" / "policy.json")
    assert len(load_engines()) == 5
    print(decide(engine), fast_path(engine), labels(), errors())
    tokens(engine)
    assert outside_a_route(engine) == "allowed/unauthenticated/False", outside_a_route(engine)
    assert len(web(engine)) == 4
    assert [u["username"] for u in realm()] == ["ann", "bob"]
    print("typed_usage: ok")
