"""What the framework test apps share: a policy with an operations table, a
realm holding two users and their credentials, a device store for the owners
hook, and the startup line the tests read (``{"port": ..., "tokens": ...}``).

The apps run in their own process (started, read and stopped by PID from
``test_web_*.py``), bound to 127.0.0.1 on a port the OS picks."""

from __future__ import annotations

import json
import sys
from typing import Any, Optional

import tessera

POLICY: dict[str, Any] = {
    "version": 1,
    "actions": ["read", "create", "update", "delete", "execute"],
    "subjects": ["device", "user", "token"],
    "roles": {
        "user": {"permissions": ["read_own_device", "update_own_device", "read_own_user", "admin_own_token"]},
        "admin": {"inherits": ["user"], "permissions": ["admin_device", "admin_user", "admin_token"]},
    },
    "groups": {"operators": ["admin"], "staff": ["user"]},
    "operations": {
        "GET /health": {"access": "public"},
        "GET /api/v1/devices": {"access": "authenticated"},
        "GET /api/v1/devices/{id}": {"permission": "read_device"},
        "DELETE /api/v1/devices/{id}": {"permission": "delete_device"},
        "GET /api/v1/jwt": {"credential": "jwt"},
    },
    "tokens": {
        "jwt": {
            "issuers": ["https://issuer.test"],
            "client_ids": ["client-1"],
            "token_use": ["access"],
            "algorithms": ["RS256"],
        },
        "session": {"ttl_seconds": 1800, "max_lifetime_seconds": 7200},
    },
    "realm": {"bootstrap_role": "admin", "default_role": "user"},
}

SESSION_KEY = {"kty": "oct", "k": "dGVzc2VyYS13ZWItdGVzdHMtc2Vzc2lvbi1rZXktMzItYnl0ZXM"}


def setup(mode: str, jwks_url: str) -> tuple[tessera.Engine, Optional[tessera.Realm], Any, dict[str, str], dict[str, str]]:
    """(engine, realm or None, keys or None, tokens, devices -> owner id). The
    provider's keys are a :class:`tessera.KeySet` fetched from ``jwks_url`` (the
    test serves it on 127.0.0.1) when a token first needs them."""
    keys = tessera.KeySet.from_url(jwks_url)
    realm = tessera.Realm(POLICY, SESSION_KEY, {"jwks": keys})
    alice = realm.create_user(None, "alice")  # first user: admin
    admin = {"id": alice["id"], "roles": alice["roles"]}
    bob = realm.create_user(admin, "bob")
    api = realm.create_api_token(admin, bob["id"])
    tokens = {
        "admin_session": realm.open_session(realm.create_api_token(admin, alice["id"])["secret"])["token"],
        "user_session": realm.open_session(api["secret"])["token"],
        "user_api": api["secret"],
    }
    devices = {"d-alice": alice["id"], "d-bob": bob["id"], "d-carol": "sub-carol"}
    if mode == "keys":
        return tessera.Engine(POLICY), None, keys, tokens, devices
    return realm.engine, realm, None, tokens, devices


def announce(port: int, tokens: dict[str, str]) -> None:
    sys.stdout.write(json.dumps({"port": port, "tokens": tokens}) + "\n")
    sys.stdout.flush()
