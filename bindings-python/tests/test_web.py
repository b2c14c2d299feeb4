"""The FastAPI and Flask integrations over real HTTP: each test app runs in its
own process on 127.0.0.1 (uvicorn, werkzeug), is asked with ``http.client``
(raw paths and repeated headers go out as written) and is stopped by PID."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

jwt = pytest.importorskip("jwt")
pytest.importorskip("fastapi")
pytest.importorskip("flask")
pytest.importorskip("uvicorn")
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from jwt.algorithms import RSAAlgorithm  # noqa: E402

WEB = Path(__file__).resolve().parent / "web"
ISSUER, CLIENT = "https://issuer.test", "client-1"


class App:
    def __init__(self, proc: subprocess.Popen[str], port: int, tokens: dict[str, str]) -> None:
        self.proc, self.port, self.tokens = proc, port, tokens

    def ask(
        self, method: str, path: str, headers: Optional[list[tuple[str, str]]] = None
    ) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers or []:
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            raw = resp.read()
            body: Any = json.loads(raw) if raw and resp.getheader("content-type", "").startswith("application/json") else raw
            if isinstance(body, dict) and isinstance(body.get("detail"), dict):
                body = body["detail"]  # FastAPI's HTTPException shape
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()

    def bearer(self, token: str) -> list[tuple[str, str]]:
        return [("Authorization", f"Bearer {token}")]


@pytest.fixture(scope="module")
def signing() -> Iterator[tuple[Any, str]]:
    """The provider's signing key, and the URL (127.0.0.1) its JWKS is served at,
    which the apps' KeySet.from_url fetches."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": "k1", "alg": "RS256", "use": "sig"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield key, f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()
    thread.join()


def mint(key: Any, *, sub: str = "sub-carol", groups: Optional[list[str]] = None, exp_in: int = 3600) -> str:
    now = int(time.time())
    claims = {"sub": sub, "iss": ISSUER, "client_id": CLIENT, "token_use": "access", "iat": now - 5, "exp": now + exp_in}
    if groups is not None:
        claims["cognito:groups"] = groups
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def start(framework: str, mode: str, jwks: str, unknown: str = "not_found") -> App:
    env = dict(os.environ, PYTHONPATH=str(WEB), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, str(WEB / f"{framework}_app.py"), mode, jwks, unknown],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(WEB),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(f"{framework} app did not start: {proc.stderr.read() if proc.stderr else ''}")
    info = json.loads(line)
    app = App(proc, info["port"], info["tokens"])
    for _ in range(200):  # the socket is bound before the line is printed; wait for accept()
        try:
            if app.ask("GET", "/health")[0] == 200:
                return app
        except OSError:
            time.sleep(0.05)
    raise AssertionError("app never answered /health")


def stop(app: App) -> str:
    app.proc.terminate()
    try:
        _, err = app.proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        app.proc.kill()
        _, err = app.proc.communicate()
    return err


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def realm_app(request: pytest.FixtureRequest, signing: tuple[Any, str]) -> Iterator[App]:
    app = start(request.param, "realm", signing[1])
    yield app
    err = stop(app)
    # The server kept serving through every bad request, and logged no error.
    assert "Traceback" not in err and "ERROR" not in err, err


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def keys_app(request: pytest.FixtureRequest, signing: tuple[Any, str]) -> Iterator[App]:
    app = start(request.param, "keys", signing[1])
    yield app
    err = stop(app)
    assert "Traceback" not in err and "ERROR" not in err, err


def test_public_needs_no_credential(realm_app: App) -> None:
    status, _, body = realm_app.ask("GET", "/health")
    assert (status, body) == (200, {"ok": True})


def test_missing_credential_is_401_with_challenge(realm_app: App) -> None:
    status, headers, body = realm_app.ask("GET", "/api/v1/devices")
    assert status == 401 and body == {"error": "unauthenticated"}
    assert headers["www-authenticate"] == 'Bearer realm="tessera"'


@pytest.mark.parametrize(
    "value, code",
    [
        ("Bearer two words", "malformed"),
        ("Basic dXNlcjpwYXNz", "malformed"),
        ("Bearer " + "a" * (16 * 1024 + 1), "too_large"),
        ("Bearer tsr_nope_nope", "malformed"),
    ],
)
def test_refused_header_is_401_invalid_token(realm_app: App, value: str, code: str) -> None:
    status, headers, body = realm_app.ask("GET", "/api/v1/devices", [("Authorization", value)])
    assert status == 401, body
    assert body["error"] == code
    assert 'error="invalid_token"' in headers["www-authenticate"]
    assert f'error_description="{body["error"]}"' in headers["www-authenticate"]


def test_oversize_and_repeated_headers(realm_app: App) -> None:
    status, _, body = realm_app.ask("GET", "/api/v1/devices", [("Authorization", "Bearer " + "a" * 17000)])
    assert (status, body) == (401, {"error": "too_large"})
    token = realm_app.tokens["user_session"]
    twice = [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    status, headers, body = realm_app.ask("GET", "/api/v1/devices", twice)
    assert (status, body) == (401, {"error": "malformed"})
    assert 'error="invalid_token"' in headers["www-authenticate"]


@pytest.mark.parametrize(
    "path", ["/api/v1/devices/..", "/api/v1/../v1/devices", "/api/v1/devices/a%2Fb", "/api/v1/devices/%2e%2e", "/api/v1/devices/%zz"]
)
def test_refused_paths_are_400(realm_app: App, path: str) -> None:
    status, _, body = realm_app.ask("GET", path, realm_app.bearer(realm_app.tokens["admin_session"]))
    assert (status, body) == (400, {"error": "invalid_path"})


def test_owner_hook_and_permission(realm_app: App) -> None:
    user = realm_app.bearer(realm_app.tokens["user_session"])
    status, _, body = realm_app.ask("GET", "/api/v1/devices/d-bob", user)
    assert status == 200 and body["id"] == "d-bob"
    status, _, body = realm_app.ask("GET", "/api/v1/devices/d-alice", user)
    assert (status, body) == (403, {"error": "forbidden", "reason": "no_match"})
    status, _, body = realm_app.ask("DELETE", "/api/v1/devices/d-bob", user)
    assert (status, body) == (403, {"error": "forbidden", "reason": "no_match"})
    admin = realm_app.bearer(realm_app.tokens["admin_session"])
    status, _, body = realm_app.ask("DELETE", "/api/v1/devices/d-bob", admin)
    assert status == 200 and body["deleted"] == "d-bob"


def test_head_is_get_and_escapes_are_decoded(realm_app: App) -> None:
    user = realm_app.bearer(realm_app.tokens["user_session"])
    status, _, body = realm_app.ask("HEAD", "/api/v1/devices/d-bob", user)
    assert status == 200 and body == b""
    assert realm_app.ask("HEAD", "/api/v1/devices/d-alice", user)[0] == 403
    status, _, body = realm_app.ask("GET", "/api/v1/devices/d%2Dbob", user)
    assert status == 200 and body["id"] == "d-bob"  # the handler and the engine see one id


def test_api_token_bare_and_bearer(realm_app: App) -> None:
    secret = realm_app.tokens["user_api"]
    for value in (secret, f"Bearer {secret}", f"bearer   {secret}"):
        status, _, body = realm_app.ask("GET", "/api/v1/devices", [("Authorization", value)])
        assert status == 200, (value, body)


def test_provider_jwt_through_the_realm(realm_app: App, signing: tuple[Any, str]) -> None:
    token = mint(signing[0], groups=["staff"])
    status, _, body = realm_app.ask("GET", "/api/v1/jwt", realm_app.bearer(token))
    assert status == 200 and body == {"by": "sub-carol", "credential": "jwt"}
    status, _, body = realm_app.ask("GET", "/api/v1/jwt", realm_app.bearer(realm_app.tokens["user_session"]))
    assert (status, body) == (403, {"error": "forbidden", "reason": "wrong_credential"})
    status, _, body = realm_app.ask("GET", "/api/v1/jwt", realm_app.bearer(mint(signing[0], exp_in=-60)))
    assert (status, body) == (401, {"error": "expired"})


def test_unknown_operation_is_404(realm_app: App) -> None:
    status, _, body = realm_app.ask("GET", "/unlisted", realm_app.bearer(realm_app.tokens["admin_session"]))
    assert (status, body) == (404, {"error": "not_found"})


def test_keys_mode_accepts_provider_jwts_only(keys_app: App, signing: tuple[Any, str]) -> None:
    token = mint(signing[0], groups=["operators"])
    status, _, body = keys_app.ask("DELETE", "/api/v1/devices/d-bob", keys_app.bearer(token))
    assert status == 200 and body == {"deleted": "d-bob", "by": "sub-carol"}
    status, _, body = keys_app.ask("GET", "/api/v1/devices/d-carol", keys_app.bearer(mint(signing[0], groups=["staff"])))
    assert status == 200
    status, _, body = keys_app.ask("GET", "/api/v1/devices/d-bob", keys_app.bearer(mint(signing[0], groups=["staff"])))
    assert (status, body) == (403, {"error": "forbidden", "reason": "no_match"})
    status, headers, body = keys_app.ask("GET", "/api/v1/devices", keys_app.bearer(keys_app.tokens["user_session"]))
    assert status == 401 and 'error="invalid_token"' in headers["www-authenticate"]


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_unknown_pass_through(framework: str, signing: tuple[Any, str]) -> None:
    app = start(framework, "realm", signing[1], unknown="pass")
    try:
        status, _, body = app.ask("GET", "/unlisted")
        assert (status, body) == (200, {"unlisted": True, "principal": None})
        assert app.ask("GET", "/api/v1/devices")[0] == 401  # the table still governs what it lists
    finally:
        err = stop(app)
    assert "Traceback" not in err and "ERROR" not in err, err
