"""tessera vs cedarpy and pycasbin (decisions) and PyJWT (RS256), in one run.

    make bench-python
    # = pytest bindings-python/bench --benchmark-json=... ; then report.py writes BENCHMARKS.md

The scenario is the same in every engine, and every engine is first checked to
give the same answers: role `user` may do anything on the devices it owns,
role `admin` on every device; user `u-1` reads device `d-1` (owned by `u-1`:
allowed) and device `d-2` (owned by `u-2`: denied).
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from typing import Any, Dict, Iterator, List

import pytest

import tessera

N_BATCH = 1000
NOW = 1_700_000_000
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
CLIENT_ID = "5g3qt5mitfa4q1jlrlibeviedn"

POLICY = {
    "version": 1,
    "roles": {
        "user": {"permissions": ["admin_own_device"]},
        "admin": {"inherits": ["user"], "permissions": ["admin_device"]},
    },
    "tokens": {
        "jwt": {
            "issuers": [ISSUER],
            "client_ids": [CLIENT_ID],
            "token_use": ["access"],
            "algorithms": ["RS256"],
        }
    },
}
ALICE: tessera.Principal = {"id": "u-1", "roles": ["user"]}
MINE: tessera.Resource = {"type": "device", "id": "d-1", "owner": "u-1"}
THEIRS: tessera.Resource = {"type": "device", "id": "d-2", "owner": "u-2"}

CEDAR_POLICIES = """
permit(principal in Role::"user", action, resource is Device) when { resource.owner == principal };
permit(principal in Role::"admin", action, resource is Device);
"""
CEDAR_ENTITIES: List[Dict[str, Any]] = [
    {"uid": {"__entity": {"type": "Role", "id": "user"}}, "attrs": {}, "parents": []},
    {"uid": {"__entity": {"type": "Role", "id": "admin"}}, "attrs": {}, "parents": []},
    {
        "uid": {"__entity": {"type": "User", "id": "u-1"}},
        "attrs": {},
        "parents": [{"__entity": {"type": "Role", "id": "user"}}],
    },
    {"uid": {"__entity": {"type": "User", "id": "u-2"}}, "attrs": {}, "parents": []},
    {"uid": {"__entity": {"type": "Device", "id": "d-1"}}, "attrs": {"owner": {"__entity": {"type": "User", "id": "u-1"}}}, "parents": []},
    {"uid": {"__entity": {"type": "Device", "id": "d-2"}}, "attrs": {"owner": {"__entity": {"type": "User", "id": "u-2"}}}, "parents": []},
]


def cedar_request(device: str) -> Dict[str, Any]:
    return {"principal": 'User::"u-1"', "action": 'Action::"read"', "resource": f'Device::"{device}"', "context": {}}


CASBIN_MODEL = """
[request_definition]
r = sub, obj, act, owner

[policy_definition]
p = sub, obj, act, scope

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && (p.act == "*" || r.act == p.act) && (p.scope == "any" || r.owner == r.sub)
"""


@pytest.fixture(scope="module")
def engine() -> tessera.Engine:
    return tessera.Engine(POLICY)


@pytest.fixture(scope="module")
def cedar() -> Any:
    cedarpy = pytest.importorskip("cedarpy")
    policies = cedarpy.PolicySet.from_str(CEDAR_POLICIES)
    entities = cedarpy.Entities.from_json_str(json.dumps(CEDAR_ENTITIES))
    assert cedarpy.is_authorized(cedar_request("d-1"), CEDAR_POLICIES, CEDAR_ENTITIES).allowed
    assert not cedarpy.is_authorized(cedar_request("d-2"), CEDAR_POLICIES, CEDAR_ENTITIES).allowed
    assert cedarpy.is_authorized(cedar_request("d-1"), policies, entities).allowed
    assert not cedarpy.is_authorized(cedar_request("d-2"), policies, entities).allowed
    return cedarpy, policies, entities


@pytest.fixture(scope="module")
def enforcer() -> Any:
    casbin = pytest.importorskip("casbin")
    model = casbin.model.Model()
    model.load_model_from_text(CASBIN_MODEL)
    e = casbin.Enforcer(model)
    e.add_policy("user", "device", "*", "own")
    e.add_policy("admin", "device", "*", "any")
    e.add_grouping_policy("u-1", "user")
    assert e.enforce("u-1", "device", "read", "u-1")
    assert not e.enforce("u-1", "device", "read", "u-2")
    return e


def test_same_answers_everywhere(engine: tessera.Engine, cedar: Any, enforcer: Any) -> None:
    fast = engine.prepare(ALICE)
    assert engine.authorize(ALICE, "read", MINE) and not engine.authorize(ALICE, "read", THEIRS)
    assert fast.is_allowed("read", "device", "d-1", "u-1") and not fast.is_allowed("read", "device", "d-2", "u-2")
    assert engine.authorize_batch(fast, [("read", MINE), ("read", THEIRS)]) == [True, False]


# --------------------------------------------------------------- decisions


@pytest.mark.benchmark(group="decision")
def test_tessera_is_allowed(benchmark: Any, engine: tessera.Engine) -> None:
    fast = engine.prepare(ALICE)
    benchmark.extra_info["per_call"] = 2
    benchmark.extra_info["label"] = "tessera `prepared.is_allowed(action, type, id, owner)`"

    def two() -> None:
        fast.is_allowed("read", "device", "d-1", "u-1")
        fast.is_allowed("read", "device", "d-2", "u-2")

    benchmark(two)


@pytest.mark.benchmark(group="decision")
def test_tessera_batch(benchmark: Any, engine: tessera.Engine) -> None:
    fast = engine.prepare(ALICE)
    requests = [("read", MINE if i % 2 else THEIRS) for i in range(N_BATCH)]
    benchmark.extra_info["per_call"] = N_BATCH
    benchmark.extra_info["label"] = f"tessera `authorize_batch(prepared, {N_BATCH} requests)`"
    result = benchmark(engine.authorize_batch, fast, requests)
    assert sum(result) == N_BATCH // 2


@pytest.mark.benchmark(group="decision")
def test_tessera_prepared_authorize(benchmark: Any, engine: tessera.Engine) -> None:
    fast = engine.prepare(ALICE)
    benchmark.extra_info["per_call"] = 2
    benchmark.extra_info["label"] = "tessera `prepared.authorize(action, resource_dict)` → Decision"

    def two() -> None:
        fast.authorize("read", MINE)
        fast.authorize("read", THEIRS)

    benchmark(two)


@pytest.mark.benchmark(group="decision")
def test_tessera_authorize(benchmark: Any, engine: tessera.Engine) -> None:
    benchmark.extra_info["per_call"] = 2
    benchmark.extra_info["label"] = "tessera `authorize(principal_dict, action, resource_dict)` → Decision"

    def two() -> None:
        engine.authorize(ALICE, "read", MINE)
        engine.authorize(ALICE, "read", THEIRS)

    benchmark(two)


@pytest.mark.benchmark(group="decision")
def test_cedarpy_strings(benchmark: Any, cedar: Any) -> None:
    cedarpy, _, _ = cedar
    mine, theirs = cedar_request("d-1"), cedar_request("d-2")
    benchmark.extra_info["per_call"] = 2
    benchmark.extra_info["label"] = "cedarpy `is_authorized(request, policy_text, entity_list)`"

    def two() -> None:
        cedarpy.is_authorized(mine, CEDAR_POLICIES, CEDAR_ENTITIES)
        cedarpy.is_authorized(theirs, CEDAR_POLICIES, CEDAR_ENTITIES)

    benchmark(two)


@pytest.mark.benchmark(group="decision")
def test_cedarpy_handles(benchmark: Any, cedar: Any) -> None:
    cedarpy, policies, entities = cedar
    mine, theirs = cedar_request("d-1"), cedar_request("d-2")
    benchmark.extra_info["per_call"] = 2
    benchmark.extra_info["label"] = "cedarpy `is_authorized(request, PolicySet, Entities)` (parsed once)"

    def two() -> None:
        cedarpy.is_authorized(mine, policies, entities)
        cedarpy.is_authorized(theirs, policies, entities)

    benchmark(two)


@pytest.mark.benchmark(group="decision")
def test_cedarpy_batch(benchmark: Any, cedar: Any) -> None:
    cedarpy, policies, entities = cedar
    requests = [cedar_request("d-1" if i % 2 else "d-2") for i in range(N_BATCH)]
    benchmark.extra_info["per_call"] = N_BATCH
    benchmark.extra_info["label"] = f"cedarpy `is_authorized_batch({N_BATCH} requests, PolicySet, Entities)`"
    result = benchmark(cedarpy.is_authorized_batch, requests, policies, entities)
    assert sum(r.allowed for r in result) == N_BATCH // 2


@pytest.mark.benchmark(group="decision")
def test_casbin_enforce(benchmark: Any, enforcer: Any) -> None:
    benchmark.extra_info["per_call"] = 2
    benchmark.extra_info["label"] = "pycasbin `enforcer.enforce(sub, obj, act, owner)`"

    def two() -> None:
        enforcer.enforce("u-1", "device", "read", "u-1")
        enforcer.enforce("u-1", "device", "read", "u-2")

    benchmark(two)


# ------------------------------------------------------------------- RS256


def b64u(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def idp() -> Any:
    jwt = pytest.importorskip("jwt")
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": b64u(pub.n), "e": b64u(pub.e)}

    # Valid now: PyJWT reads the clock, so tessera reads it too (`now=None`).
    issued = int(time.time())

    def token(i: int) -> str:
        claims = {
            "sub": "u-1",
            "iss": ISSUER,
            "client_id": CLIENT_ID,
            "token_use": "access",
            "iat": issued - 10,
            "exp": issued + 86400,
            "jti": str(i),
            "cognito:groups": ["admins"],
        }
        return str(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"}))

    # More distinct tokens than the engine's signature cache holds (4096), so
    # that cycling through them never hits the cache.
    fresh = [token(i) for i in range(4500)]
    return jwt, jwk, fresh


def pyjwt_verify(jwt: Any, key: Any, token: str) -> Dict[str, Any]:
    """What a PyJWT user writes for a Cognito access token: the signature,
    exp/iat/iss through PyJWT, then client_id and token_use by hand."""
    claims: Dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        issuer=ISSUER,
        options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
        leeway=0,
    )
    if claims.get("client_id") != CLIENT_ID or claims.get("token_use") != "access":
        raise ValueError("wrong client or token use")
    return claims


@pytest.mark.benchmark(group="rs256")
def test_pyjwt_rs256(benchmark: Any, idp: Any) -> None:
    jwt, jwk, fresh = idp
    key = jwt.PyJWK(jwk).key  # the key object built once, as PyJWKClient caches it
    it = iter(range(10**12))
    benchmark.extra_info["per_call"] = 1
    benchmark.extra_info["label"] = "PyJWT `jwt.decode(token, key, RS256, issuer=…)` + client_id/token_use check"
    assert pyjwt_verify(jwt, key, fresh[0])["sub"] == "u-1"
    benchmark(lambda: pyjwt_verify(jwt, key, fresh[next(it) % len(fresh)]))


@pytest.mark.benchmark(group="rs256")
def test_tessera_rs256_fresh(benchmark: Any, engine: tessera.Engine, idp: Any) -> None:
    _, jwk, fresh = idp
    jwks = {"keys": [jwk]}
    engine.clear_token_cache()
    it = iter(range(10**12))
    benchmark.extra_info["per_call"] = 1
    benchmark.extra_info["label"] = "tessera `verify_jwt(token, jwks)`, every token new (RS256 verified; the JWK's checks cached)"
    assert engine.verify_jwt(fresh[0], jwks)["id"] == "u-1"
    benchmark(lambda: engine.verify_jwt(fresh[next(it) % len(fresh)], jwks))


@pytest.mark.benchmark(group="rs256")
def test_tessera_rs256_repeat(benchmark: Any, engine: tessera.Engine, idp: Any) -> None:
    _, jwk, fresh = idp
    jwks = {"keys": [jwk]}
    benchmark.extra_info["per_call"] = 1
    benchmark.extra_info["label"] = "tessera `verify_jwt` of a token seen before (signature cache hit; claims rechecked)"
    engine.verify_jwt(fresh[0], jwks)
    benchmark(engine.verify_jwt, fresh[0], jwks)


@pytest.mark.benchmark(group="rs256")
def test_cryptography_rs256_bare(benchmark: Any, idp: Any) -> None:
    """The floor: one `cryptography` RSA verify of the signing input, nothing else."""
    jwt, jwk, fresh = idp
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    public = jwt.PyJWK(jwk).key
    parts = []
    for t in fresh:
        signing_input, sig = t.rsplit(".", 1)
        parts.append((signing_input.encode(), base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))))
    it = iter(range(10**12))
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    benchmark.extra_info["per_call"] = 1
    benchmark.extra_info["label"] = "`cryptography` `public_key.verify(sig, signing_input, PKCS1v15(), SHA256())` alone (no parsing, no claims)"

    def verify() -> None:
        message, sig = parts[next(it) % len(parts)]
        public.verify(sig, message, pkcs1, sha256)

    benchmark(verify)


@pytest.mark.benchmark(group="rs256")
def test_tessera_keyset_fresh(benchmark: Any, engine: tessera.Engine, idp: Any) -> None:
    _, jwk, fresh = idp
    keys = tessera.KeySet({"keys": [jwk]})
    it = iter(range(10**12))
    benchmark.extra_info["per_call"] = 1
    benchmark.extra_info["label"] = "tessera `verify_jwt(token, key_set)`, every token new (a `KeySet`, as `KeySet.cognito` holds after its fetch)"
    assert engine.verify_jwt(fresh[0], keys)["id"] == "u-1"
    benchmark(lambda: engine.verify_jwt(fresh[next(it) % len(fresh)], keys))


@pytest.mark.benchmark(group="rs256")
def test_tessera_keyset_seen(benchmark: Any, engine: tessera.Engine, idp: Any) -> None:
    _, jwk, fresh = idp
    keys = tessera.KeySet({"keys": [jwk]})
    benchmark.extra_info["per_call"] = 1
    benchmark.extra_info["label"] = "tessera `verify_jwt(token, key_set)` of a token seen before (claims and time rechecked)"
    engine.verify_jwt(fresh[0], keys)
    benchmark(engine.verify_jwt, fresh[0], keys)


@pytest.fixture(scope="module")
def served_jwks(idp: Any) -> Iterator[Dict[str, Any]]:
    """The idp's JWKS from a local http.server on 127.0.0.1, counting requests."""
    _, jwk, _ = idp
    body = json.dumps({"keys": [jwk]}).encode()
    state: Dict[str, Any] = {"requests": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state["requests"] += 1
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("cache-control", "max-age=3600")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.benchmark(group="rs256")
def test_tessera_keyset_fetched(benchmark: Any, engine: tessera.Engine, idp: Any, served_jwks: Dict[str, Any]) -> None:
    _, _, fresh = idp
    keys = tessera.KeySet.from_url(served_jwks["url"])
    keys.refresh()
    assert served_jwks["requests"] == 1
    it = iter(range(10**12))
    benchmark.extra_info["per_call"] = 1
    benchmark.extra_info["label"] = (
        "tessera `verify_jwt(token, key_set)`, every token new, the set fetched by `KeySet.from_url` "
        "from a local server (once, before timing)"
    )
    assert engine.verify_jwt(fresh[0], keys)["id"] == "u-1"
    benchmark(lambda: engine.verify_jwt(fresh[next(it) % len(fresh)], keys))
    # The set's cache time (max-age=3600) covers the whole run: no fetch while timed.
    benchmark.extra_info["timed_fetches"] = served_jwks["requests"] - 1
    assert served_jwks["requests"] == 1
