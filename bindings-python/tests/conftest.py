"""Shared fixtures: the example policy, principals, and an RSA identity provider."""

from __future__ import annotations

import base64
import json
import pathlib
from typing import Any, Callable, Dict

import pytest

import tessera

ROOT = pathlib.Path(__file__).resolve().parents[2]
POLICY_PATH = ROOT / "examples" / "policy.json"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
CLIENT_ID = "5g3qt5mitfa4q1jlrlibeviedn"
NOW = 1_700_000_000
# 32 bytes, base64url: an HS256 session key.
SESSION_KEY = {"kty": "oct", "k": base64.urlsafe_b64encode(b"session-secret-session-secret-32").rstrip(b"=").decode()}


@pytest.fixture(scope="session")
def policy_doc() -> Dict[str, Any]:
    return json.loads(POLICY_PATH.read_text())


@pytest.fixture()
def engine(policy_doc: Dict[str, Any]) -> tessera.Engine:
    return tessera.Engine(policy_doc)


@pytest.fixture()
def alice() -> tessera.Principal:
    return {"id": "u-1", "roles": ["user"]}


def b64u(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Provider:
    """An RSA identity provider: a JWKS and a signer (PyJWT)."""

    def __init__(self, kid: str = "k1", bits: int = 2048) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        pub = self.key.public_key().public_numbers()
        self.jwk = {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64u(pub.n), "e": b64u(pub.e)}
        self.jwks = {"keys": [self.jwk]}

    def claims(self, **over: Any) -> Dict[str, Any]:
        c: Dict[str, Any] = {
            "sub": "u-9",
            "iss": ISSUER,
            "token_use": "access",
            "client_id": CLIENT_ID,
            "iat": NOW - 10,
            "exp": NOW + 3600,
            "cognito:groups": ["managers"],
            "scope": "streams/push openid",
        }
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def token(self, headers: Dict[str, Any] | None = None, **over: Any) -> str:
        import jwt

        h = {"kid": self.kid}
        h.update(headers or {})
        return jwt.encode(self.claims(**over), self.key, algorithm="RS256", headers=h)


@pytest.fixture(scope="session")
def provider() -> Provider:
    return Provider()


@pytest.fixture()
def make_engine() -> Callable[..., tessera.Engine]:
    def make(**extra: Any) -> tessera.Engine:
        doc: Dict[str, Any] = {"version": 1, "roles": {"user": {"permissions": ["read_own_device"]}}}
        doc.update(extra)
        return tessera.Engine(doc)

    return make


import sys  # noqa: E402

collect_ignore = ["test_pattern_matching.py"] if sys.version_info < (3, 10) else []
