"""KeySet (SPEC §6.1.2) against a real HTTP server on 127.0.0.1 (port 0).

The server is Python's ``http.server`` in a thread of the test, stopped by
the test. It can rotate keys, answer slowly, return garbage or 10 MB,
redirect, or go down; it counts requests, and every assertion is about those
counts and about answers at injected ``now`` values — never about elapsed
time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import jwt  # PyJWT, a dev requirement: the token minter
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import tessera

NOW = 1_700_000_000
ISS = "https://idp.example.com/"


def b64u(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Idp:
    """RSA keys and tokens, as a provider would issue them."""

    def __init__(self) -> None:
        self.keys = {kid: rsa.generate_private_key(65537, 2048) for kid in ("k1", "k2")}

    def jwk(self, kid: str) -> Dict[str, Any]:
        n = self.keys[kid].public_key().public_numbers()
        return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64u(n.n), "e": b64u(n.e)}

    def jwks(self, *kids: str) -> bytes:
        return json.dumps({"keys": [self.jwk(k) for k in kids]}).encode()

    def token(self, kid: str, iss: str = ISS, **claims: Any) -> str:
        body = {"iss": iss, "sub": "user-1", "aud": "api", "iat": NOW, "exp": NOW + 3600, **claims}
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def idp() -> Idp:
    return Idp()


class Server:
    """A JWKS server whose answer the test sets: ``respond`` returns
    ``(status, headers, body)`` for a path."""

    def __init__(self) -> None:
        self.requests: List[str] = []
        self.lock = threading.Lock()
        self.respond: Callable[[str], Tuple[int, Dict[str, str], bytes]] = lambda p: (404, {}, b"")
        self.gate: Optional[threading.Event] = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with outer.lock:
                    outer.requests.append(self.path)
                if outer.gate is not None:
                    outer.gate.wait(10)
                status, headers, body = outer.respond(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/jwks.json") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, body: bytes, headers: Optional[Dict[str, str]] = None) -> None:
        self.respond = lambda p: (200, {"Content-Type": "application/json", **(headers or {})}, body)

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def down(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server() -> Iterator[Server]:
    s = Server()
    yield s
    if s.gate is not None:
        s.gate.set()
    try:
        s.down()
    except OSError:
        pass


@pytest.fixture()
def engine() -> tessera.Engine:
    return tessera.Engine({
        "version": 1, "roles": {},
        "tokens": {"jwt": {"issuers": [ISS], "token_use": None, "client_ids": None, "audiences": ["api"]}},
    })


def code_of(f: Callable[[], Any]) -> str:
    with pytest.raises(tessera.TesseraError) as info:
        f()
    return info.value.code


def test_first_use_fetches_then_the_cache_answers(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    server.serve(idp.jwks("k1"))
    keys = tessera.KeySet.from_url(server.url())
    t = idp.token("k1")
    assert engine.verify_jwt(t, keys, NOW)["id"] == "user-1"
    for i in range(5):
        assert engine.verify_jwt(t, keys, NOW + i)["id"] == "user-1"
    assert server.count() == 1
    assert len(keys) == 1 and keys.attempts == 1


def test_rotation_and_cooldown(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    server.serve(idp.jwks("k1"))
    keys = tessera.KeySet.from_url(server.url(), cooldown_seconds=30)
    assert engine.verify_jwt(idp.token("k1"), keys, NOW)
    server.serve(idp.jwks("k1", "k2"))  # the provider rotates
    rotated = idp.token("k2")
    # Inside the cooldown of the first fetch: no request, unknown_key.
    for dt in (1, 10, 29):
        assert code_of(lambda: engine.verify_jwt(rotated, keys, NOW + dt)) == "unknown_key"
    assert server.count() == 1
    assert engine.verify_jwt(rotated, keys, NOW + 30)["id"] == "user-1"
    assert server.count() == 2
    # A kid that is still unknown waits for the next cooldown.
    stranger = jwt.encode({"iss": ISS, "sub": "x", "aud": "api", "exp": NOW + 99}, idp.keys["k2"], "RS256",
                          headers={"kid": "k9"})
    for dt in (31, 45, 59):
        assert code_of(lambda: engine.verify_jwt(stranger, keys, NOW + dt)) == "unknown_key"
    assert server.count() == 2
    assert code_of(lambda: engine.verify_jwt(stranger, keys, NOW + 60)) == "unknown_key"
    assert server.count() == 3


def test_max_age_sets_the_cache_time(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    server.serve(idp.jwks("k1"), {"Cache-Control": "public, max-age=120"})
    keys = tessera.KeySet.from_url(server.url())
    t = idp.token("k1")
    engine.verify_jwt(t, keys, NOW)
    engine.verify_jwt(t, keys, NOW + 119)
    assert server.count() == 1
    engine.verify_jwt(t, keys, NOW + 120)
    assert server.count() == 2


def test_concurrent_verifications_share_one_fetch(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    server.serve(idp.jwks("k1"))
    server.gate = threading.Event()  # the server holds every answer until released
    keys = tessera.KeySet.from_url(server.url())
    t = idp.token("k1")
    results: List[Any] = []

    def verify() -> None:
        try:
            results.append(engine.verify_jwt(t, keys, NOW)["id"])
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            results.append(e)

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for th in threads:
        th.start()
    # Wait (without a time-based assertion) until the fetch reached the server.
    for _ in range(1000):
        if server.count() >= 1:
            break
        time.sleep(0.005)
    server.gate.set()
    for th in threads:
        th.join(20)
    assert results == ["user-1"] * 8
    assert server.count() == 1


def test_asyncio_form_never_blocks_and_shares_the_fetch(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    server.serve(idp.jwks("k1"))
    server.gate = threading.Event()
    keys = tessera.KeySet.from_url(server.url())
    t = idp.token("k1")

    async def main() -> List[str]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while not server.gate.is_set():  # type: ignore[union-attr]
                ticks += 1
                if server.count() >= 1 and ticks > 3:
                    server.gate.set()  # type: ignore[union-attr]
                await asyncio.sleep(0.001)

        tick = asyncio.create_task(ticker())
        out = await asyncio.gather(*[engine.verify_jwt_async(t, keys, NOW) for _ in range(5)])
        await tick
        # The loop kept running while the fetch was held by the server.
        assert ticks > 3
        return [p["id"] for p in out]

    assert asyncio.run(main()) == ["user-1"] * 5
    assert server.count() == 1


def test_last_good_set_while_the_server_is_down(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    server.serve(idp.jwks("k1"))
    keys = tessera.KeySet.from_url(server.url(), cache_seconds=600)
    t = idp.token("k1")
    engine.verify_jwt(t, keys, NOW)
    server.down()
    # An unknown kid tries a refetch, which fails; known keys still work.
    assert code_of(lambda: engine.verify_jwt(idp.token("k2"), keys, NOW + 100)) == "unknown_key"
    assert engine.verify_jwt(t, keys, NOW + 101)["id"] == "user-1"
    # Past its cache time the set is not used any more.
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(t, keys, NOW + 600)
    assert info.value.code == "jwks_unavailable"
    assert "cannot connect" in info.value.message


@pytest.mark.parametrize(
    "respond, why",
    [
        (lambda p: (200, {}, b"<html>not json</html>"), "not JSON"),
        (lambda p: (200, {}, b'{"keys": "no"}'), "not a JWKS"),
        (lambda p: (200, {}, b'{"keys": []}'), "no key"),
        (lambda p: (500, {}, b"oops"), "HTTP 500"),
        (lambda p: (200, {}, b" " * (10 * 1024 * 1024)), "10 MB"),
    ],
)
def test_bad_answers_are_jwks_unavailable(
    server: Server, engine: tessera.Engine, idp: Idp, respond: Any, why: str
) -> None:
    server.respond = respond
    keys = tessera.KeySet.from_url(server.url())
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(idp.token("k1"), keys, NOW)
    assert info.value.code == "jwks_unavailable", why
    assert server.count() == 1
    # The failure started a cooldown: no second request at once.
    assert code_of(lambda: engine.verify_jwt(idp.token("k1"), keys, NOW + 1)) == "jwks_unavailable"
    assert server.count() == 1


def test_a_slow_server_times_out(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    server.serve(idp.jwks("k1"))
    server.gate = threading.Event()  # never released during the call
    keys = tessera.KeySet.from_url(server.url(), timeout_seconds=0.2)
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(idp.token("k1"), keys, NOW)
    assert info.value.code == "jwks_unavailable"
    assert "timed out" in info.value.message or "TimeoutError" in info.value.message


def test_redirects_stay_on_the_host(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    good = idp.jwks("k1")
    server.respond = lambda p: (
        (302, {"Location": "/real.json"}, b"") if p == "/jwks.json" else (200, {}, good)
    )
    keys = tessera.KeySet.from_url(server.url())
    assert engine.verify_jwt(idp.token("k1"), keys, NOW)["id"] == "user-1"
    server.respond = lambda p: (302, {"Location": f"http://localhost:{server.port}/real.json"}, b"")
    other = tessera.KeySet.from_url(server.url())
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(idp.token("k1"), other, NOW)
    assert info.value.code == "jwks_unavailable"
    assert "redirect" in info.value.message


def test_urls_must_be_https_or_loopback() -> None:
    for url in ["http://example.com/jwks", "ftp://example.com/x", "example.com", "https://u:p@example.com/"]:
        with pytest.raises(tessera.ArgumentError):
            tessera.KeySet.from_url(url)
    assert tessera.KeySet.from_url("https://example.com/jwks").url == "https://example.com/jwks"
    with pytest.raises(tessera.ArgumentError):
        tessera.KeySet.cognito("us-east-1", "eu-west-1_Abc")


def test_oidc_discovery(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    issuer = server.url("/realms/demo")
    jwks = idp.jwks("k1")

    def respond(path: str) -> Tuple[int, Dict[str, str], bytes]:
        if path == "/realms/demo/.well-known/openid-configuration":
            doc = {"issuer": issuer, "jwks_uri": server.url("/realms/demo/certs")}
            return 200, {}, json.dumps(doc).encode()
        if path == "/realms/demo/certs":
            return 200, {}, jwks
        return 404, {}, b""

    server.respond = respond
    keys = tessera.KeySet.oidc(issuer)
    assert keys.issuer == issuer and keys.url == server.url("/realms/demo/certs")
    e = tessera.Engine({"version": 1, "roles": {}, "tokens": {"jwt": {
        "issuers": [issuer], "token_use": None, "client_ids": None, "audiences": ["api"]}}})
    assert e.verify_jwt(idp.token("k1", iss=issuer), keys, NOW)["id"] == "user-1"
    assert asyncio.run(tessera.KeySet.oidc_async(issuer)).url == keys.url
    with pytest.raises(tessera.TokenError) as info:
        tessera.KeySet.oidc(issuer + "/")  # the document names another issuer
    assert info.value.code == "jwks_unavailable"


def test_a_given_jwks_as_bytes_or_text(engine: tessera.Engine, idp: Idp) -> None:
    t = idp.token("k1")
    raw = idp.jwks("k1")
    for source in (raw, bytearray(raw), raw.decode(), json.loads(raw)):
        assert engine.verify_jwt(t, tessera.KeySet(source), NOW)["id"] == "user-1"
        assert engine.verify_jwt(t, source, NOW)["id"] == "user-1"
    with pytest.raises(tessera.ArgumentError):
        tessera.KeySet(b"not json")


def test_raw_session_secrets() -> None:
    e = tessera.Engine({"version": 1, "roles": {"user": {}}})
    secret = b"session-secret-session-secret-32"
    jwk = {"kty": "oct", "k": base64.urlsafe_b64encode(secret).rstrip(b"=").decode()}
    p = {"id": "u", "roles": ["user"]}
    a = e.issue_session(p, secret, NOW, {"session_id": "s"})
    b = e.issue_session(p, jwk, NOW, {"session_id": "s"})
    assert a == b
    assert e.verify_session(a["token"], bytearray(secret), NOW)["id"] == "u"
    assert code_of(lambda: e.issue_session(p, secret[:31], NOW)) == "weak_key"


def test_host_mistakes_have_hints(engine: tessera.Engine, idp: Idp) -> None:
    keys = tessera.KeySet(idp.jwks("k1"))
    t = idp.token("k1")
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt("Bearer " + t, keys, NOW)
    assert info.value.code == "malformed" and "parse_authorization" in info.value.message
    with pytest.raises(tessera.ArgumentError) as arg:
        engine.verify_jwt(t, keys, NOW * 1000)
    assert "milliseconds" in arg.value.message


def test_realm_takes_a_key_set(server: Server, idp: Idp) -> None:
    server.serve(idp.jwks("k1"))
    keys = tessera.KeySet.from_url(server.url())
    policy = {"version": 1, "roles": {"user": {}, "admin": {}},
              "tokens": {"jwt": {"issuers": [ISS], "token_use": None, "client_ids": None, "audiences": ["api"]}}}
    realm = tessera.Realm(policy, b"session-secret-session-secret-32",
                          {"jwks": keys, "argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}})
    assert realm.authenticate("Bearer " + idp.token("k1"), NOW)["credential"] == "jwt"
    server.serve(idp.jwks("k1", "k2"))
    assert realm.authenticate("Bearer " + idp.token("k2"), NOW + 30)["id"] == "user-1"
    assert server.count() == 2


def test_every_recipe_in_the_docs_loads() -> None:
    import pathlib
    import re

    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "tokens.md").read_text()
    recipes = doc[doc.index("## Recipes") : doc.index("## Sessions")]
    blocks = re.findall(r"```json\n(.*?)```", recipes, re.S)
    assert len(blocks) >= 7
    for block in blocks:
        tessera.Engine({"version": 1, "roles": {}, "tokens": {"jwt": json.loads(block)}})


def test_guard_answers_without_a_coroutine_unless_a_fetch_is_due(server: Server, engine: tessera.Engine, idp: Idp) -> None:
    from tessera._web import WAIT, Guard, Outcome

    server.serve(idp.jwks("k1"))
    clock = [NOW]
    keys = tessera.KeySet.from_url(server.url(), cooldown_seconds=30)
    guard = Guard(engine, keys=keys, now=lambda: clock[0])
    bearer = ["Bearer " + idp.token("k1")]
    # First use: a fetch is due, so the synchronous form says to wait, and asks nothing.
    assert guard.authenticate_now(bearer) is WAIT
    assert server.count() == 0
    first = asyncio.run(guard.authenticate_async(bearer))
    assert not isinstance(first, Outcome) and first["id"] == "user-1"
    assert server.count() == 1
    # Keys held: answered at once, with no request; a bad token is its 401.
    now = guard.authenticate_now(bearer)
    assert not isinstance(now, Outcome) and now is not WAIT and now["id"] == "user-1"
    bad = guard.authenticate_now(["Bearer not-a-jwt"])
    assert isinstance(bad, Outcome) and (bad.status, bad.code) == (401, "malformed")
    # A rotation: an unknown kid past the cooldown waits, and the asynchronous form refetches.
    server.serve(idp.jwks("k1", "k2"))
    clock[0] = NOW + 30
    rotated = ["Bearer " + idp.token("k2")]
    assert guard.authenticate_now(rotated) is WAIT
    again = asyncio.run(guard.authenticate_async(rotated))
    assert not isinstance(again, Outcome) and again["id"] == "user-1"
    assert server.count() == 2
    assert guard.authenticate_now(rotated) is not WAIT
