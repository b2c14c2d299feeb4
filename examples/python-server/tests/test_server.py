"""End-to-end tests: the example server runs as a subprocess on 127.0.0.1 (a free
port it picks itself) and is driven over real HTTP with the standard library."""

from __future__ import annotations

import base64
import glob
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

HERE = Path(__file__).resolve().parent
SERVER = HERE.parent / "server.py"
START_TIMEOUT = 30  # seconds
HTTP_TIMEOUT = 10


class Server:
    def __init__(self, *args: str, key: Optional[str] = None) -> None:
        env = dict(os.environ)
        env.pop("TESSERA_SESSION_KEY", None)
        if key is not None:
            env["TESSERA_SESSION_KEY"] = key
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", "0", *args],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None

        def read() -> None:
            for line in stdout:
                lines.put(line)

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        self.bootstrap: Optional[dict[str, Any]] = None
        while True:
            try:
                line = lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                self.stop()
                raise RuntimeError("the server did not start in time") from None
            msg = json.loads(line)
            if "bootstrap" in msg:
                self.bootstrap = msg["bootstrap"]
            if "listening" in msg:
                self.url = msg["listening"]
                break

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.reader.join(timeout=10)  # it ends at EOF, once the process has gone
        if self.proc.stdout and not self.reader.is_alive():
            self.proc.stdout.close()

    def call(
        self,
        method: str,
        path: str,
        token: Optional[str] = None,
        body: Any = None,
        header: Optional[str] = None,
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        if header is not None:
            req.add_header("Authorization", header)
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, (json.loads(raw) if raw else None)

    def session(self, secret: str) -> str:
        status, body = self.call("POST", "/api/v1/auth", body={"token": secret})
        assert status == 200, body
        token: str = body["token"]
        return token


def random_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server("--bootstrap", "admin", "--store", "memory", key=random_key())
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def admin_secret(server: Server) -> str:
    assert server.bootstrap is not None
    assert server.bootstrap["user"]["roles"] == ["admin"]
    secret: str = server.bootstrap["api_token"]
    return secret


@pytest.fixture()
def bob(server: Server, admin_secret: str) -> dict[str, Any]:
    """A fresh user (role `user`) with an API token made for it by the admin."""
    admin = server.session(admin_secret)
    status, user = server.call("POST", "/api/v1/users", admin, {"username": f"bob-{secrets.token_hex(4)}"})
    assert status == 201, user
    assert user["roles"] == ["user"]
    status, made = server.call("POST", "/api/v1/tokens", admin, {"owner": user["id"]})
    assert status == 201, made
    assert "hash" not in made["record"]
    return {"user": user, "secret": made["secret"], "token_id": made["record"]["id"], "admin": admin}


# --- 401 -------------------------------------------------------------------------


def test_no_credentials_is_401(server: Server) -> None:
    assert server.call("GET", "/api/v1/data/snapshot") == (401, {"error": "unauthenticated"})
    assert server.call("POST", "/api/v1/auth/renew") == (401, {"error": "unauthenticated"})
    assert server.call("DELETE", "/api/v1/auth") == (401, {"error": "unauthenticated"})


FORGED = (
    base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"tessera-session+jwt"}').rstrip(b"=").decode()
    + "."
    + base64.urlsafe_b64encode(b'{"sub":"x","roles":["admin"],"sid":"s","iat":1,"exp":9999999999,'
                               b'"auth_time":1,"epoch":0}').rstrip(b"=").decode()
    + "."
    + "A" * 43
)


@pytest.mark.parametrize(
    "header,code",
    [
        ("Bearer garbage", "malformed"),
        ("Basic dXNlcjpwYXNz", "malformed"),
        ("Bearer ", "malformed"),
        ("Bearer tsr_AAAAAAAAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "unknown_token"),
        (f"Bearer {FORGED}", "bad_signature"),
    ],
)
def test_garbage_credentials_are_401(server: Server, header: str, code: str) -> None:
    status, body = server.call("GET", "/api/v1/data/snapshot", header=header)
    assert status == 401
    assert body == {"error": code}


def test_auth_with_a_wrong_api_token_is_401(server: Server) -> None:
    assert server.call("POST", "/api/v1/auth", body={"token": "nope"})[0] == 401
    status, body = server.call(
        "POST", "/api/v1/auth", body={"token": "tsr_AAAAAAAAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"}
    )
    assert (status, body) == (401, {"error": "unknown_token"})
    assert server.call("POST", "/api/v1/auth", body={})[0] == 400
    assert server.call("POST", "/api/v1/auth", body=["x"])[0] == 400


def test_unknown_route_is_404(server: Server, admin_secret: str) -> None:
    assert server.call("GET", "/api/v1/nothing") == (404, {"error": "not_found"})
    assert server.call("GET", "/api/v1/nothing", admin_secret) == (404, {"error": "not_found"})


def test_the_guard_is_tessera_fastapi(server: Server, admin_secret: str) -> None:
    # 401 carries the challenge; HEAD is decided as GET; a bad path is 400 before routing.
    req = urllib.request.Request(server.url + "/api/v1/data/snapshot", headers={"Authorization": "Bearer garbage"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=HTTP_TIMEOUT)
    assert refused.value.code == 401
    challenge = refused.value.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge and 'error_description="malformed"' in challenge
    refused.value.close()
    assert server.call("HEAD", "/api/v1/data/snapshot") == (401, None)
    assert server.call("HEAD", "/api/v1/data/snapshot", admin_secret) == (200, None)
    status, body = server.call("GET", "/api/v1/data/..%2Fsnapshot", admin_secret)
    assert status == 400 and body["detail"]["error"] == "invalid_path"


# --- Eva's auth ------------------------------------------------------------------


def test_api_token_opens_a_session(server: Server, admin_secret: str) -> None:
    status, body = server.call("POST", "/api/v1/auth", body={"token": admin_secret})
    assert status == 200
    assert set(body) == {"token", "expires_at", "renewable_until"}
    status, snap = server.call("GET", "/api/v1/data/snapshot", body["token"])
    assert status == 200 and len(snap["servos"]) == 6
    # The API token itself is a credential too (authenticate accepts it).
    assert server.call("GET", "/api/v1/data/snapshot", admin_secret)[0] == 200
    assert server.call("GET", "/api/v1/data/snapshot", header=body["token"])[0] == 200  # bare token


def test_renew(server: Server, admin_secret: str) -> None:
    token = server.session(admin_secret)
    status, renewed = server.call("POST", "/api/v1/auth/renew", token)
    assert status == 200
    assert server.call("GET", "/api/v1/data/servos", renewed["token"])[0] == 200
    # Renewing needs a session, not an API token.
    assert server.call("POST", "/api/v1/auth/renew", admin_secret) == (
        403,
        {"error": "forbidden", "reason": "wrong_credential"},
    )


def test_close_ends_the_session(server: Server, admin_secret: str) -> None:
    token = server.session(admin_secret)
    _, renewed = server.call("POST", "/api/v1/auth/renew", token)
    assert server.call("DELETE", "/api/v1/auth", token) == (204, None)
    assert server.call("GET", "/api/v1/data/snapshot", token) == (401, {"error": "revoked"})
    # Every token of that session ends with it.
    assert server.call("GET", "/api/v1/data/snapshot", renewed["token"]) == (401, {"error": "revoked"})
    assert server.call("POST", "/api/v1/auth/renew", token) == (401, {"error": "revoked"})
    assert server.call("DELETE", "/api/v1/auth", token) == (401, {"error": "revoked"})
    # Other sessions of the same API token are untouched.
    assert server.call("GET", "/api/v1/data/snapshot", server.session(admin_secret))[0] == 200


# --- 403 and 200 by the policy ---------------------------------------------------


def test_user_on_admin_routes_is_403_with_the_reason(server: Server, bob: dict[str, Any]) -> None:
    token = server.session(bob["secret"])
    assert server.call("GET", "/api/v1/users", token) == (403, {"error": "forbidden", "reason": "missing_role"})
    assert server.call("POST", "/api/v1/users", token, {"username": "eve"}) == (
        403,
        {"error": "forbidden", "reason": "missing_role"},
    )
    assert server.call("POST", "/api/v1/controls/lock", token) == (403, {"error": "forbidden", "reason": "no_match"})


def test_user_on_allowed_routes_is_200(server: Server, bob: dict[str, Any]) -> None:
    token = server.session(bob["secret"])
    assert server.call("GET", "/api/v1/data/snapshot", token)[0] == 200
    joints = [0.1, -0.2, 0.3, 0.0, 1.0, 0.5]
    assert server.call("POST", "/api/v1/controls/go_to", token, {"joints": joints}) == (200, {"joints": joints})
    assert server.call("GET", "/api/v1/data/servos", token) == (200, {"joints": joints})
    assert server.call("POST", "/api/v1/controls/go_to", token, {"joints": [1]})[0] == 400
    assert server.call("POST", "/api/v1/controls/home", token) == (200, {"joints": [0.0] * 6})
    # Its own tokens: listed, and it may make more for itself but none for others.
    status, listed = server.call("GET", "/api/v1/tokens", token)
    assert status == 200 and [t["id"] for t in listed["tokens"]] == [bob["token_id"]]
    assert server.call("POST", "/api/v1/tokens", token, {})[0] == 201
    admin_id = server.call("GET", "/api/v1/users", bob["admin"])[1]["users"][0]["id"]
    assert server.call("POST", "/api/v1/tokens", token, {"owner": admin_id})[1]["error"] == "forbidden"


def test_admin_routes_are_200_for_the_admin(server: Server, bob: dict[str, Any]) -> None:
    status, body = server.call("GET", "/api/v1/users", bob["admin"])
    assert status == 200
    assert bob["user"]["id"] in [u["id"] for u in body["users"]]
    assert server.call("POST", "/api/v1/controls/lock", bob["admin"])[0] == 200
    assert server.call("DELETE", "/api/v1/controls/lock", bob["admin"]) == (204, None)
    status, _ = server.call("POST", "/api/v1/users", bob["admin"], {"username": bob["user"]["username"]})
    assert status == 409


# --- API token lifecycle ---------------------------------------------------------


def test_suspending_and_revoking_the_api_token_ends_its_sessions(server: Server, bob: dict[str, Any]) -> None:
    token = server.session(bob["secret"])
    tid = bob["token_id"]
    status, record = server.call("POST", f"/api/v1/tokens/{tid}/suspend", bob["admin"])
    assert status == 200 and record["state"] == "suspended"
    assert server.call("GET", "/api/v1/data/snapshot", token) == (401, {"error": "suspended"})
    assert server.call("POST", "/api/v1/auth", body={"token": bob["secret"]}) == (401, {"error": "suspended"})
    assert server.call("POST", f"/api/v1/tokens/{tid}/suspend", bob["admin"])[1]["error"] == "invalid_transition"

    status, record = server.call("POST", f"/api/v1/tokens/{tid}/resume", bob["admin"])
    assert status == 200 and record["state"] == "active"
    assert server.call("GET", "/api/v1/data/snapshot", token)[0] == 200

    status, record = server.call("DELETE", f"/api/v1/tokens/{tid}", bob["admin"])
    assert status == 200 and record["state"] == "revoked"
    assert server.call("GET", "/api/v1/data/snapshot", token) == (401, {"error": "revoked"})
    assert server.call("POST", "/api/v1/auth/renew", token) == (401, {"error": "revoked"})
    assert server.call("POST", "/api/v1/auth", body={"token": bob["secret"]}) == (401, {"error": "revoked"})
    assert server.call("GET", "/api/v1/data/snapshot", bob["secret"]) == (401, {"error": "revoked"})


def test_replacing_the_api_token_ends_the_old_one_and_its_sessions(server: Server, bob: dict[str, Any]) -> None:
    token = server.session(bob["secret"])
    status, made = server.call("POST", f"/api/v1/tokens/{bob['token_id']}/replace", bob["admin"])
    assert status == 201 and made["secret"].startswith("tsr_")
    assert made["record"]["id"] != bob["token_id"] and made["record"]["state"] == "active"
    assert "hash" not in made["record"]
    assert server.call("GET", "/api/v1/data/snapshot", token) == (401, {"error": "revoked"})
    assert server.call("POST", "/api/v1/auth", body={"token": bob["secret"]}) == (401, {"error": "revoked"})
    fresh = server.session(made["secret"])
    assert server.call("GET", "/api/v1/data/snapshot", fresh)[0] == 200
    status, again = server.call("POST", f"/api/v1/tokens/{bob['token_id']}/replace", bob["admin"])
    assert status == 409 and again["error"] == "invalid_transition"


def test_a_user_revokes_its_own_token(server: Server, bob: dict[str, Any]) -> None:
    token = server.session(bob["secret"])
    assert server.call("DELETE", f"/api/v1/tokens/{bob['token_id']}", token)[0] == 200
    assert server.call("GET", "/api/v1/data/snapshot", token) == (401, {"error": "revoked"})


# --- stores: restarts, several servers, crashes ------------------------------------


def test_starting_is_not_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "realm.db"
    key = random_key()
    first = Server("--bootstrap", "root", "--store", f"sqlite:{db}", key=key)
    try:
        assert first.bootstrap is not None
        secret = first.bootstrap["api_token"]
        token = first.session(secret)
        assert first.call("GET", "/api/v1/data/snapshot", token)[0] == 200
    finally:
        first.stop()
    assert db.stat().st_mode & 0o077 == 0

    second = Server("--bootstrap", "root", "--store", f"sqlite:{db}", key=key)
    try:
        assert second.bootstrap is None  # already bootstrapped
        assert second.call("GET", "/api/v1/data/snapshot", token)[0] == 200  # the session lives on
        assert second.call("GET", "/api/v1/users", token)[1]["users"][0]["username"] == "root"
    finally:
        second.stop()


def test_a_new_key_refuses_old_sessions_but_not_api_tokens(tmp_path: Path) -> None:
    db = tmp_path / "realm.db"
    first = Server("--bootstrap", "root", "--store", f"sqlite:{db}")
    try:
        secret = first.bootstrap["api_token"]  # type: ignore[index]
        token = first.session(secret)
    finally:
        first.stop()
    second = Server("--store", f"sqlite:{db}")
    try:
        status, body = second.call("GET", "/api/v1/data/snapshot", token)
        assert status == 401 and body["error"] == "bad_signature"
        assert second.call("GET", "/api/v1/data/snapshot", second.session(secret))[0] == 200
    finally:
        second.stop()


def test_three_servers_sharing_one_sqlite_file_honour_each_other(tmp_path: Path) -> None:
    db = tmp_path / "realm.db"
    key = random_key()
    a = Server("--bootstrap", "root", "--store", f"sqlite:{db}", key=key)
    b = Server("--bootstrap", "root", "--store", f"sqlite:{db}", key=key)
    c = Server("--store", f"sqlite:{db}", key=key)
    try:
        assert a.bootstrap is not None and b.bootstrap is None  # one first user
        root = b.session(a.bootstrap["api_token"])
        status, bob = c.call("POST", "/api/v1/users", root, {"username": "bob"})
        assert status == 201
        assert a.call("POST", "/api/v1/users", root, {"username": "BOB"})[0] == 409  # unique, everywhere
        status, made = a.call("POST", "/api/v1/tokens", root, {"owner": bob["id"]})
        assert status == 201
        bob_session = b.session(made["secret"])
        assert c.call("GET", "/api/v1/data/snapshot", bob_session)[0] == 200
        # Revoked through C: refused by A and B on their next request.
        assert c.call("DELETE", f"/api/v1/tokens/{made['record']['id']}", root)[0] == 200
        for s in (a, b):
            assert s.call("GET", "/api/v1/data/snapshot", bob_session) == (401, {"error": "revoked"})
            assert s.call("POST", "/api/v1/auth", body={"token": made["secret"]}) == (401, {"error": "revoked"})
        # A's next write does not bring it back.
        assert a.call("POST", "/api/v1/users", root, {"username": "carol"})[0] == 201
    finally:
        for s in (a, b, c):
            s.stop()
    d = Server("--store", f"sqlite:{db}", key=key)
    try:
        assert d.call("POST", "/api/v1/auth", body={"token": made["secret"]}) == (401, {"error": "revoked"})
        names = [u["username"] for u in d.call("GET", "/api/v1/users", d.session(a.bootstrap["api_token"]))[1]["users"]]
        assert names == ["root", "bob", "carol"]
    finally:
        d.stop()


@pytest.mark.skipif(not glob.glob("/usr/lib/postgresql/*/bin/initdb"), reason="PostgreSQL is not installed (make setup-postgres)")
def test_two_servers_sharing_one_postgresql_database(tmp_path: Path) -> None:
    sys.path.insert(0, str(HERE.parents[2] / "bindings-python" / "tests"))
    from pg_server import PgServer  # type: ignore[import-not-found]

    pg = PgServer()
    key = random_key()
    # --max-lag 0: each server reads the log before every request, so the test
    # needs no wait; the NOTIFY delay is measured in BENCHMARKS.md instead.
    a = Server("--bootstrap", "root", "--store", pg.url, "--max-lag", "0", key=key)
    b = Server("--bootstrap", "root", "--store", pg.url, "--max-lag", "0", key=key)
    try:
        assert a.bootstrap is not None and b.bootstrap is None
        root = b.session(a.bootstrap["api_token"])
        status, bob = b.call("POST", "/api/v1/users", root, {"username": "bob"})
        assert status == 201
        status, made = a.call("POST", "/api/v1/tokens", root, {"owner": bob["id"]})
        assert status == 201
        bob_session = b.session(made["secret"])
        assert a.call("GET", "/api/v1/data/snapshot", bob_session)[0] == 200
        assert b.call("DELETE", f"/api/v1/tokens/{made['record']['id']}", root)[0] == 200
        assert a.call("GET", "/api/v1/data/snapshot", bob_session) == (401, {"error": "revoked"})
        assert a.call("POST", "/api/v1/auth", body={"token": made["secret"]}) == (401, {"error": "revoked"})
    finally:
        a.stop()
        b.stop()
        pg.stop()


def test_kill_9_mid_burst_keeps_every_acknowledged_user(tmp_path: Path) -> None:
    db = tmp_path / "realm.db"
    key = random_key()
    first = Server("--bootstrap", "root", "--store", f"sqlite:{db}", key=key)
    assert first.bootstrap is not None
    secret = first.bootstrap["api_token"]
    first.stop()
    acknowledged: list[str] = []
    for run in range(20):
        server = Server("--store", f"sqlite:{db}", key=key)
        token = server.session(secret)
        acks: queue.Queue[str] = queue.Queue()
        stop = threading.Event()

        def burst(server: Server = server, token: str = token, run: int = run) -> None:
            i = 0
            while not stop.is_set():
                try:
                    status, _ = server.call("POST", "/api/v1/users", token, {"username": f"r{run}-{i}"})
                except Exception:  # noqa: BLE001  the server was killed mid-request
                    return
                if status == 201:
                    acks.put(f"r{run}-{i}")
                i += 1

        t = threading.Thread(target=burst)
        t.start()
        # Kill after a different number of acknowledged requests each run;
        # the next request is in flight when the signal lands.
        for _ in range(1 + (run * 5) % 11):
            acknowledged.append(acks.get(timeout=HTTP_TIMEOUT))
        server.proc.kill()
        server.proc.wait()
        stop.set()
        t.join()
        while not acks.empty():
            acknowledged.append(acks.get())
        server.stop()
    # The store always opens, and every acknowledged user is in it.
    last = Server("--store", f"sqlite:{db}", key=key)
    try:
        names = {u["username"] for u in last.call("GET", "/api/v1/users", last.session(secret))[1]["users"]}
        assert set(acknowledged) <= names
    finally:
        last.stop()
