"""A robot-arm API in the shape of Eva's (``/api/v1/...``), guarded by tessera.

One :class:`tessera.Realm` holds the users, API tokens and sessions; the policy's
operations table (``policy.json`` beside this file) decides every request,
through the FastAPI integration (:class:`tessera.fastapi.Authorizer`, installed
on the whole app):

1. a public operation (``POST /api/v1/auth``) goes through without credentials;
   an operation that is not in the table is 404; a path with ``..`` or ``%2F``
   inside a segment is 400;
2. ``Authorization`` (a session token or an API token) is authenticated by the
   realm; any failure is 401 ``{"error": <token code>}`` with
   ``WWW-Authenticate`` (``unauthenticated`` without one);
3. the principal is authorized for ``METHOD /path``; a refusal is 403
   ``{"error": "forbidden", "reason": <reason>}``; the principal is in
   ``request.state.principal`` for the handlers.

Run it:  python server.py --bootstrap admin --store sqlite:realm.db   (see README.md)

The realm lives in a store (SPEC §7.1; SQLite by default): a request that
changes it is answered only after the change is committed, several server
processes can share one store, and starting a server is not a restart.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import socket
import sys
from pathlib import Path
from typing import Any, Mapping, Optional

import tessera
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from tessera.fastapi import Authorizer

HERE = Path(__file__).resolve().parent
KEY_ENV = "TESSERA_SESSION_KEY"

# Status codes for realm and argument refusals raised inside a handler.
STATUS_OF_CODE = {
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "invalid_transition": 409,
    "invalid_argument": 400,
    "invalid_credentials": 401,
    # The store could not commit (nothing changed) or cannot be read.
    "store_unavailable": 503,
    "store_conflict": 503,
}


def session_key_from_env() -> tuple[dict[str, str], bool]:
    """The HS256 session key: ``$TESSERA_SESSION_KEY`` (base64url, 32+ bytes) or a
    fresh random one. Returns ``(jwk, generated)``."""
    value = os.environ.get(KEY_ENV, "").strip()
    if value:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        if len(raw) < 32:
            raise SystemExit(f"{KEY_ENV} must hold at least 32 bytes (base64url)")
        generated = False
    else:
        raw = secrets.token_bytes(32)
        generated = True
    k = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"kty": "oct", "k": k}, generated


class Store:
    """The realm and where it is kept: ``sqlite:PATH`` (the default; the file is
    made 0600 if absent) or ``memory`` (nothing kept)."""

    def __init__(self, policy: Any, key: dict[str, str], store: str, max_lag: Optional[float] = None) -> None:
        self.realm: Any
        if store == "memory":
            self.realm = tessera.Realm(policy, key)
            return
        if store.startswith("sqlite:"):
            path = store[len("sqlite:") :]
            # The store holds password and token hashes: readable by us only.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        options: dict[str, Any] = {}
        if max_lag is not None and store.startswith(("postgresql://", "postgres://")):
            options["max_lag_seconds"] = max_lag
        # Opening is not a restart: sessions live on across server starts.
        self.realm = tessera.Realm.open(policy, key, store, **options)

    def bootstrap(self, username: str) -> Optional[dict[str, Any]]:
        """Create the first user (bootstrap role) and an API token for it, unless
        the realm already has users (then None). Race-free across processes: the
        store gives the bootstrap role to exactly one first user."""
        try:
            user = self.realm.create_user(None, username, None)
        except tessera.RealmError as e:
            if e.code == "forbidden":  # someone was first
                return None
            raise
        actor: tessera.Principal = {"id": user["id"], "roles": list(user["roles"])}
        made = self.realm.create_api_token(actor, user["id"])
        return {"user": user, "api_token": made["secret"], "api_token_id": made["record"]["id"]}


def _error(status: int, code: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, **extra}, status_code=status)


def _public_record(record: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in record.items() if k != "hash"}


def _grant(grant: Mapping[str, object]) -> dict[str, object]:
    return {
        "token": grant["token"],
        "expires_at": grant["expires_at"],
        "renewable_until": grant["renewable_until"],
    }


class BadBody(Exception):
    pass


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadBody() from None
    if not isinstance(body, dict):
        raise BadBody()
    return body


def create_app(store: Store) -> FastAPI:
    realm = store.realm
    app = FastAPI(title="tessera robot-arm example", docs_url=None, redoc_url=None, openapi_url=None)

    # The fake arm: six joints.
    arm: dict[str, Any] = {"joints": [0.0] * 6, "locked_by": None}

    # Every route is guarded (installed before the routes are declared). The
    # reading routes take HEAD too (FastAPI's @app.get would answer it 405);
    # the guard decides a HEAD as the GET operation.
    Authorizer(realm=realm).install(app)

    @app.exception_handler(HTTPException)
    async def refused(_request: Request, e: HTTPException) -> JSONResponse:
        # The guard's refusals carry {"error": code, ...} as their detail; the
        # router's own (no route for the path or method) are this API's 404.
        if isinstance(e.detail, dict):
            return JSONResponse(e.detail, status_code=e.status_code, headers=e.headers)
        if e.status_code in (404, 405):
            return _error(404, "not_found")
        return _error(e.status_code, str(e.detail))

    @app.exception_handler(tessera.TesseraError)
    async def tessera_error(_request: Request, e: tessera.TesseraError) -> JSONResponse:
        if isinstance(e, tessera.TokenError) and e.code != "invalid_transition":
            return _error(401, e.code)
        return _error(STATUS_OF_CODE.get(e.code, 500), e.code, message=e.message)

    @app.exception_handler(BadBody)
    async def bad_body(_request: Request, _e: BadBody) -> JSONResponse:
        return _error(400, "invalid_argument", message="the body must be a JSON object")

    def bearer(request: Request) -> str:
        return tessera.parse_authorization(request.headers.get("authorization", ""))

    # --- Eva's auth --------------------------------------------------------------

    @app.post("/api/v1/auth")
    async def open_session(request: Request) -> Any:
        body = await json_body(request)
        secret = body.get("token")
        if not isinstance(secret, str):
            return _error(400, "invalid_argument", message='expected {"token": <API token>}')
        return _grant(realm.open_session(secret))

    @app.post("/api/v1/auth/renew")
    def renew(request: Request) -> Any:
        return _grant(realm.renew(bearer(request)))

    @app.delete("/api/v1/auth")
    def close(request: Request) -> Response:
        realm.close(bearer(request))
        return Response(status_code=204)

    # --- the arm -----------------------------------------------------------------

    @app.api_route("/api/v1/data/snapshot", methods=["GET", "HEAD"])
    def snapshot() -> Any:
        return {"control": {"state": "ready", "locked_by": arm["locked_by"]}, "servos": arm["joints"]}

    @app.api_route("/api/v1/data/servos", methods=["GET", "HEAD"])
    def servos() -> Any:
        return {"joints": arm["joints"]}

    @app.post("/api/v1/controls/go_to")
    async def go_to(request: Request) -> Any:
        body = await json_body(request)
        joints = body.get("joints")
        if (
            not isinstance(joints, list)
            or len(joints) != 6
            or not all(isinstance(j, (int, float)) and not isinstance(j, bool) for j in joints)
        ):
            return _error(400, "invalid_argument", message='expected {"joints": [6 numbers]}')
        arm["joints"] = [float(j) for j in joints]
        return {"joints": arm["joints"]}

    @app.post("/api/v1/controls/home")
    def home() -> Any:
        arm["joints"] = [0.0] * 6
        return {"joints": arm["joints"]}

    @app.post("/api/v1/controls/lock")
    def lock(request: Request) -> Any:
        arm["locked_by"] = request.state.principal["id"]
        return {"locked_by": arm["locked_by"]}

    @app.delete("/api/v1/controls/lock")
    def unlock() -> Response:
        arm["locked_by"] = None
        return Response(status_code=204)

    # --- users and API tokens (the realm authorises each call itself) --------------

    @app.api_route("/api/v1/users", methods=["GET", "HEAD"])
    def list_users(request: Request) -> Any:
        return {"users": realm.list_users(request.state.principal)}

    @app.post("/api/v1/users", status_code=201)
    async def create_user(request: Request) -> Any:
        body = await json_body(request)
        username = body.get("username")
        if not isinstance(username, str):
            return _error(400, "invalid_argument", message='expected {"username": ...}')
        return realm.create_user(request.state.principal, username, None)

    @app.api_route("/api/v1/tokens", methods=["GET", "HEAD"])
    def list_tokens(request: Request) -> Any:
        records = realm.list_api_tokens(request.state.principal)
        return {"tokens": [_public_record(r) for r in records]}

    @app.post("/api/v1/tokens", status_code=201)
    async def create_token(request: Request) -> Any:
        principal = request.state.principal
        body = await json_body(request)
        owner = body.get("owner", principal["id"])
        options: tessera.ApiTokenOptions = {}
        if "lifespan_seconds" in body:
            options["lifespan_seconds"] = body["lifespan_seconds"]
        if "limits" in body:
            options["limits"] = body["limits"]
        made = realm.create_api_token(principal, owner, body.get("roles"), options)
        return {"secret": made["secret"], "record": _public_record(made["record"])}

    @app.post("/api/v1/tokens/{token_id}/suspend")
    def suspend_token(request: Request, token_id: str) -> Any:
        return _public_record(realm.suspend_api_token(request.state.principal, token_id))

    @app.post("/api/v1/tokens/{token_id}/resume")
    def resume_token(request: Request, token_id: str) -> Any:
        return _public_record(realm.resume_api_token(request.state.principal, token_id))

    @app.post("/api/v1/tokens/{token_id}/replace", status_code=201)
    def replace_token(request: Request, token_id: str) -> Any:
        made = realm.replace_api_token(request.state.principal, token_id)
        return {"secret": made["secret"], "record": _public_record(made["record"])}

    @app.delete("/api/v1/tokens/{token_id}")
    def revoke_token(request: Request, token_id: str) -> Any:
        return _public_record(realm.revoke_api_token(request.state.principal, token_id))

    return app


def main(argv: Optional[list[str]] = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--policy", type=Path, default=HERE / "policy.json")
    parser.add_argument(
        "--store",
        default="sqlite:realm.db",
        help="where the realm is kept: sqlite:PATH (default sqlite:realm.db), postgresql://... or memory",
    )
    parser.add_argument(
        "--max-lag",
        type=float,
        help="PostgreSQL: seconds this server may lag the others before it answers 503 (default 1)",
    )
    parser.add_argument(
        "--bootstrap",
        metavar="USERNAME",
        help="if the realm has no user yet, create USERNAME (admin) and an API token, and print its secret",
    )
    args = parser.parse_args(argv)

    key, generated = session_key_from_env()
    if generated:
        print(f"note: {KEY_ENV} not set; sessions are signed with a random key", file=sys.stderr)
    store = Store(args.policy, key, args.store, args.max_lag)
    if args.bootstrap:
        made = store.bootstrap(args.bootstrap)
        if made is None:
            print("note: the realm already has users; --bootstrap ignored", file=sys.stderr)
        else:
            print(json.dumps({"bootstrap": made}), flush=True)

    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    print(json.dumps({"listening": f"http://{host}:{port}"}), flush=True)
    config = uvicorn.Config(create_app(store), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
