"""A robot-arm API in the shape of Eva's (``/api/v1/...``), guarded by tessera.

One :class:`tessera.Realm` holds the users, API tokens and sessions; the policy's
operations table (``policy.json`` beside this file) decides every request:

1. ``engine.authorize_operation(None, "METHOD /path")``: a public operation
   (``POST /api/v1/auth``) goes through without credentials; an operation that is
   not in the table is 404.
2. ``realm.authenticate(Authorization header)``: a session token or an API token;
   any failure is 401 ``{"error": <token code>}`` (``unauthenticated`` without one).
3. ``engine.authorize_operation(principal, "METHOD /path")``: a refusal is 403
   ``{"error": "forbidden", "reason": <reason>}``.

Run it:  python server.py --bootstrap admin --state state.json   (see README.md)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import socket
import sys
import threading
from pathlib import Path
from typing import Any, Mapping, Optional

import tessera
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

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
    """The realm plus where its snapshot is kept (optional)."""

    def __init__(self, policy: Any, key: dict[str, str], state: Optional[Path]) -> None:
        self.state = state
        self.lock = threading.Lock()
        if state is not None and state.exists():
            self.realm = tessera.Realm.restore(policy, state.read_text(), key)
            # A start is a power cycle: users and API tokens stay, sessions end.
            self.realm.restart()
        else:
            self.realm = tessera.Realm(policy, key)
        self.save()

    def save(self) -> None:
        if self.state is None:
            return
        with self.lock:
            text = json.dumps(self.realm.snapshot())
            tmp = self.state.with_name(self.state.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, self.state)

    def bootstrap(self, username: str) -> Optional[dict[str, Any]]:
        """Create the first user (bootstrap role) and an API token for it, unless
        the realm already has users. Returns ``{user, api_token}`` (the secret)."""
        if self.realm.snapshot()["bootstrapped"]:
            return None
        user = self.realm.create_user(None, username, None)
        actor: tessera.Principal = {"id": user["id"], "roles": list(user["roles"])}
        made = self.realm.create_api_token(actor, user["id"])
        self.save()
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
    engine = realm.engine
    app = FastAPI(title="tessera robot-arm example", docs_url=None, redoc_url=None, openapi_url=None)

    # The fake arm: six joints.
    arm: dict[str, Any] = {"joints": [0.0] * 6, "locked_by": None}

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        operation = f"{request.method} {request.url.path}"
        request.state.principal = None
        anonymous = engine.authorize_operation(None, operation)
        if anonymous.reason == "unknown_operation":
            return _error(404, "not_found")
        if not anonymous.allowed:
            header = request.headers.get("authorization")
            if header is None:
                return _error(401, "unauthenticated")
            try:
                principal = realm.authenticate(header)
            except tessera.TesseraError as e:
                return _error(401, e.code)
            decision = engine.authorize_operation(principal, operation)
            if not decision.allowed:
                return _error(403, "forbidden", reason=decision.reason)
            request.state.principal = principal
        try:
            response: Response = await call_next(request)
        except BadBody:
            return _error(400, "invalid_argument", message="the body must be a JSON object")
        if request.method != "GET" and response.status_code < 400:
            store.save()
        return response

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

    @app.get("/api/v1/data/snapshot")
    def snapshot() -> Any:
        return {"control": {"state": "ready", "locked_by": arm["locked_by"]}, "servos": arm["joints"]}

    @app.get("/api/v1/data/servos")
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

    @app.get("/api/v1/users")
    def list_users(request: Request) -> Any:
        return {"users": realm.list_users(request.state.principal)}

    @app.post("/api/v1/users", status_code=201)
    async def create_user(request: Request) -> Any:
        body = await json_body(request)
        username = body.get("username")
        if not isinstance(username, str):
            return _error(400, "invalid_argument", message='expected {"username": ...}')
        return realm.create_user(request.state.principal, username, None)

    @app.get("/api/v1/tokens")
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
    parser.add_argument("--state", type=Path, help="keep the realm's snapshot in this file (0600)")
    parser.add_argument(
        "--bootstrap",
        metavar="USERNAME",
        help="if the realm has no user yet, create USERNAME (admin) and an API token, and print its secret",
    )
    args = parser.parse_args(argv)

    key, generated = session_key_from_env()
    if generated:
        print(f"note: {KEY_ENV} not set; sessions are signed with a random key", file=sys.stderr)
    store = Store(args.policy, key, args.state)
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
