"""Per-request overhead of tessera.fastapi: the same FastAPI route with no guard,
with the tessera Authorizer deciding a provider JWT (RS256, through a KeySet, a
token seen before) against the operations table with an owners hook,
and with casbin's fastapi-authz on the same rule, in one run.

    .venv/bin/python bindings-python/bench/web.py [--write BENCHMARKS.md]

Requests are driven straight into the ASGI app (no socket), rounds of each
configuration interleaved, the median round kept. Every configuration must answer
200 (and a stranger 403) before it is timed.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

import casbin
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI, Request
from fastapi_authz import CasbinMiddleware
from jwt.algorithms import RSAAlgorithm
from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware.authentication import AuthenticationMiddleware

import tessera
from tessera.fastapi import Authorizer

POLICY = {
    "version": 1,
    "roles": {"user": {"permissions": ["read_own_device"]}},
    "groups": {"staff": ["user"]},
    "operations": {"GET /api/v1/devices/{id}": {"permission": "read_device"}},
    "tokens": {"jwt": {"issuers": ["https://issuer.test"], "client_ids": ["client-1"],
                       "token_use": ["access"], "algorithms": ["RS256"]}},
}
OWNERS = {"d-1": "alice", "d-2": "bob"}
MODEL = """
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && r.act == p.act
"""


class HeaderUser(AuthenticationBackend):
    """The user name from a header, with no token check (casbin has none)."""

    async def authenticate(self, conn: Any) -> Any:
        name = conn.headers.get("x-user")
        return (AuthCredentials(["authenticated"]), SimpleUser(name)) if name else None


def make_app(kind: str, jwks: Any) -> FastAPI:
    app = FastAPI()
    if kind == "tessera":
        Authorizer(tessera.Engine(POLICY), keys=tessera.KeySet(jwks), owners=lambda r: OWNERS.get(r.path_params.get("id", ""))).install(app)
    elif kind == "empty dependency":
        # FastAPI's own price of one async dependency taking the Request (what
        # the guard is), to tell the framework's share from tessera's.
        async def nothing(request: Request) -> None:
            return None

        app.router.dependencies.append(Depends(nothing))
    elif kind == "fastapi-authz":
        with tempfile.TemporaryDirectory() as d:
            model, rules = os.path.join(d, "model.conf"), os.path.join(d, "policy.csv")
            open(model, "w").write(MODEL)
            open(rules, "w").write("p, user, /api/v1/devices/:id, GET\ng, alice, user\n")
            enforcer = casbin.Enforcer(model, rules)
        app.add_middleware(CasbinMiddleware, enforcer=enforcer)
        app.add_middleware(AuthenticationMiddleware, backend=HeaderUser())

    @app.get("/api/v1/devices/{id}")
    async def device(id: str) -> dict[str, str]:
        return {"id": id}

    return app


def scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}


async def call(app: Any, s: dict[str, Any]) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(s), receive, send)
    return status


async def main() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": "k1", "alg": "RS256", "use": "sig"})
    jwks = {"keys": [jwk]}
    now = int(time.time())
    token = jwt.encode({"sub": "alice", "iss": "https://issuer.test", "client_id": "client-1", "token_use": "access",
                        "iat": now - 5, "exp": now + 86400, "cognito:groups": ["staff"]}, key, algorithm="RS256",
                       headers={"kid": "k1"})
    bearer = [(b"authorization", f"Bearer {token}".encode())]
    configs: list[tuple[str, Any, Callable[[str], dict[str, Any]]]] = []
    for kind in ("none", "empty dependency", "tessera", "fastapi-authz"):
        hdrs = [(b"x-user", b"alice")] if kind == "fastapi-authz" else bearer
        configs.append((kind, make_app(kind, jwks), lambda p, h=hdrs: scope(p, h)))
    for kind, app, mk in configs:
        assert await call(app, mk("/api/v1/devices/d-1")) == 200, kind
        if kind not in ("none", "empty dependency"):
            other = mk("/api/v1/devices/d-2") if kind == "tessera" else scope("/api/v1/devices/d-2", [(b"x-user", b"mallory")])
            assert await call(app, other) == 403, kind
    rounds, per_round = 11, 1000
    samples: dict[str, list[float]] = {k: [] for k, _, _ in configs}
    for _ in range(rounds):
        for kind, app, mk in configs:
            s = mk("/api/v1/devices/d-1")
            t0 = time.perf_counter_ns()
            for _ in range(per_round):
                await call(app, s)
            samples[kind].append((time.perf_counter_ns() - t0) / per_round / 1000)
    med = {k: statistics.median(v) for k, v in samples.items()}
    # Where tessera's share goes: its two native calls, timed alone in the same run.
    engine = tessera.Engine(POLICY)
    key_set = tessera.KeySet(jwks)
    principal = engine.verify_jwt(token, key_set)

    def alone(f: Callable[[], Any], n: int = 5000) -> float:
        f()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            f()
        return (time.perf_counter_ns() - t0) / n / 1000

    parts = {
        "engine.verify_jwt (KeySet, token seen before)": alone(lambda: engine.verify_jwt(token, key_set)),
        "engine.verify_jwt (JWKS dict, token seen before)": alone(lambda: engine.verify_jwt(token, jwks)),
        "engine.authorize_operation (the principal, owner)": alone(
            lambda: engine.authorize_operation(principal, "GET /api/v1/devices/d-1", {"owner": "alice"})),
        "engine.authorize_operation (anonymous lookup)": alone(
            lambda: engine.authorize_operation(None, "GET /api/v1/devices/d-1")),
    }
    rows = []
    for kind, us in med.items():
        over = us - med["none"]
        verdict = "" if kind != "tessera" else (" (≤ 30 µs: met)" if over <= 30 else " (≤ 30 µs: NOT met)")
        rows.append(f"| FastAPI {__import__('fastapi').__version__} | {kind} | {us:.1f} | "
                    + ("—" if kind == "none" else f"{over:+.1f}{verdict}") + " |")
    load = os.getloadavg()[0]
    section = f"""## Framework integration overhead (Python)

Command: `make bench-web` (`.venv/bin/python bindings-python/bench/web.py --write BENCHMARKS.md`),
Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.1f} at the end, {rounds} interleaved
rounds of {per_round} requests per configuration driven straight into the ASGI app, median round.

One route, `GET /api/v1/devices/{{id}}`; `tessera` (`Authorizer.install`) authenticates a
provider JWT (RS256, `keys`: a `tessera.KeySet`; a token seen before, so the signature comes
from the cache while claims and time are checked on every call), calls an owners hook and
decides `read_device` on the operations table. `fastapi-authz` (casbin {casbin.__version__ if hasattr(casbin, '__version__') else ''})
decides the same rule (RBAC, keyMatch2) for a user name that Starlette's
AuthenticationMiddleware reads from a header, **with no token verification** (casbin has
none): the cost of the decision alone.

| framework | guard | µs per request (median of rounds) | overhead vs no guard |
| --- | --- | ---: | --- |
""" + "\n".join(rows) + "\n\nThe native calls inside tessera's share, timed alone in the same run: " + "; ".join(
        f"{name} {us:.1f} µs" for name, us in parts.items()) + ". The rest is the guard's Python and FastAPI's dependency machinery (the `empty dependency` row).\n"
    print(section)
    if "--write" in sys.argv:
        path = sys.argv[sys.argv.index("--write") + 1]
        text = open(path, encoding="utf-8").read()
        head = "## Framework integration overhead (Python)"
        start = text.find(head)
        if start < 0:
            out = text.rstrip() + "\n\n" + section
        else:
            nxt = text.find("\n## ", start + 3)
            out = text[:start] + section + ("" if nxt < 0 else text[nxt + 1:])
        open(path, "w", encoding="utf-8").write(out)


if __name__ == "__main__":
    asyncio.run(main())
