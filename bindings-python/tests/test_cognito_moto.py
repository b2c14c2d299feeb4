"""A real Cognito flow against moto's emulation (``moto[server]``, a dev
requirement): the test starts ``moto_server`` on a free 127.0.0.1 port,
creates pools, an app client, a user and a group with boto3, signs in with
USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH, and verifies the AccessToken and
IdToken through ``KeySet.from_url`` on moto's ``/<pool>/.well-known/jwks.json``.
The server is stopped by its PID.

moto signs every pool with one static key (``kid: "dummy"``), so a token of
another pool verifies cryptographically: the issuer check is what refuses it.
Times are injected: ``now`` is the token's own ``iat`` plus a second.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any, Dict, Iterator, Tuple

import pytest

import tessera

boto3 = pytest.importorskip("boto3")
MOTO = os.path.join(os.path.dirname(sys.executable), "moto_server")
REGION = "us-east-1"
PASSWORD = "Correct-horse-9"


def claims_of(token: str) -> Dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    if not os.path.exists(MOTO):
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [MOTO, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("moto_server exited at start")
                time.sleep(0.05)
        else:
            pytest.fail("moto_server did not start")
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(10)


def make_pool(client: Any, name: str) -> Tuple[str, str]:
    pool = client.create_user_pool(PoolName=name)["UserPool"]["Id"]
    app = client.create_user_pool_client(
        UserPoolId=pool,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    client.create_group(UserPoolId=pool, GroupName="administrators")
    client.create_group(UserPoolId=pool, GroupName="managers")
    for user, groups in [("alice", ["administrators", "managers"]), ("bob", [])]:
        client.admin_create_user(UserPoolId=pool, Username=user)
        client.admin_set_user_password(UserPoolId=pool, Username=user, Password=PASSWORD, Permanent=True)
        for g in groups:
            client.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=g)
    return pool, app


@pytest.fixture(scope="module")
def cognito(moto: str) -> Dict[str, Any]:
    client = boto3.client(
        "cognito-idp", endpoint_url=moto, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    pool, app = make_pool(client, "main")
    other_pool, other_app = make_pool(client, "other")
    return {"client": client, "url": moto, "pool": pool, "app": app, "other_pool": other_pool, "other_app": other_app}


def sign_in(c: Dict[str, Any], user: str, pool_key: str = "pool", app_key: str = "app") -> Dict[str, str]:
    result: Dict[str, str] = c["client"].initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH", ClientId=c[app_key],
        AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return result


def engine_for(c: Dict[str, Any]) -> tessera.Engine:
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{c['pool']}"
    return tessera.Engine({
        "version": 1,
        "roles": {"user": {"permissions": ["read_device"]}, "admin": {"inherits": ["user"]}},
        "groups": {"administrators": ["admin"], "managers": ["user"]},
        "tokens": {"jwt": {
            "issuers": [issuer], "client_ids": [c["app"]], "audiences": [c["app"]],
            "token_use": ["access", "id"], "algorithms": ["RS256"],
        }},
    })


def test_access_and_id_tokens_verify(cognito: Dict[str, Any]) -> None:
    keys = tessera.KeySet.from_url(f"{cognito['url']}/{cognito['pool']}/.well-known/jwks.json")
    engine = engine_for(cognito)
    tokens = sign_in(cognito, "alice")
    access = tokens["AccessToken"]
    now = claims_of(access)["iat"] + 1
    p = engine.verify_jwt(access, keys, now)
    assert p["credential"] == "jwt"
    assert p["id"] == claims_of(access)["sub"]
    # moto lists a user's groups in no fixed order; roles follow that order.
    assert sorted(p["groups"]) == ["administrators", "managers"]
    assert sorted(p["roles"]) == ["admin", "user"]
    assert p["claims"]["token_use"] == "access"
    assert engine.authorize(p, "read", {"type": "device", "id": "d1"}).allowed
    idp = engine.verify_jwt(tokens["IdToken"], keys, now)
    assert idp["claims"]["token_use"] == "id" and idp["claims"]["aud"] == cognito["app"]
    # One fetch served both, and a second verification of each.
    engine.verify_jwt(access, keys, now)
    assert keys.attempts == 1 and len(keys) == 1
    bob = engine.verify_jwt(sign_in(cognito, "bob")["AccessToken"], keys, now)
    assert bob["groups"] == [] and bob["roles"] == []


def test_refresh_token_auth(cognito: Dict[str, Any]) -> None:
    keys = tessera.KeySet.from_url(f"{cognito['url']}/{cognito['pool']}/.well-known/jwks.json")
    engine = engine_for(cognito)
    first = sign_in(cognito, "alice")
    renewed = cognito["client"].initiate_auth(
        AuthFlow="REFRESH_TOKEN_AUTH", ClientId=cognito["app"],
        AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]},
    )["AuthenticationResult"]
    now = claims_of(renewed["AccessToken"])["iat"] + 1
    assert sorted(engine.verify_jwt(renewed["AccessToken"], keys, now)["groups"]) == ["administrators", "managers"]
    assert engine.verify_jwt(renewed["IdToken"], keys, now)["claims"]["token_use"] == "id"
    # The refresh token itself is not a JWT this engine accepts.
    with pytest.raises(tessera.TokenError):
        engine.verify_jwt(first["RefreshToken"], keys, now)


def test_pools_are_told_apart_by_issuer(cognito: Dict[str, Any]) -> None:
    # moto's pools share one signing key: the signature of the other pool's
    # token is valid, and only the issuer check refuses it.
    keys = tessera.KeySet.from_url(f"{cognito['url']}/{cognito['pool']}/.well-known/jwks.json")
    engine = engine_for(cognito)
    other = sign_in(cognito, "alice", "other_pool", "other_app")["AccessToken"]
    now = claims_of(other)["iat"] + 1
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(other, keys, now)
    assert info.value.code == "wrong_issuer"
    assert "tokens.jwt.issuers" in info.value.message


def test_time_and_client_checks(cognito: Dict[str, Any]) -> None:
    keys = tessera.KeySet.from_url(f"{cognito['url']}/{cognito['pool']}/.well-known/jwks.json")
    engine = engine_for(cognito)
    access = sign_in(cognito, "alice")["AccessToken"]
    c = claims_of(access)
    with pytest.raises(tessera.TokenError) as info:
        engine.verify_jwt(access, keys, c["exp"])
    assert info.value.code == "expired"
    strict = tessera.Engine({"version": 1, "roles": {}, "tokens": {"jwt": {
        "issuers": [c["iss"]], "client_ids": ["another-app"]}}})
    with pytest.raises(tessera.TokenError) as info:
        strict.verify_jwt(access, keys, c["iat"] + 1)
    assert info.value.code == "wrong_client"
    assert "tokens.jwt.client_ids" in info.value.message
