"""`tessera.Realm` (SPEC §7) from Python: users, logins, API tokens, sessions,
the policy's say over management, snapshots, threads, and garbage."""

from __future__ import annotations

import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import pytest

import tessera
from conftest import SESSION_KEY, Provider
from test_errors import garbage

FAST: tessera.RealmOptions = {"argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}}
POLICY: Dict[str, Any] = {
    "version": 1,
    "roles": {
        "user": {"permissions": ["read_own_user", "update_own_user", "admin_own_token", "read_own_device"]},
        "admin": {"inherits": ["user"], "permissions": ["admin_user", "admin_token", "admin_device"]},
    },
}
T0 = 1_700_000_000


@pytest.fixture()
def realm() -> tessera.Realm:
    return tessera.Realm(POLICY, SESSION_KEY, FAST)


def bearer(grant: tessera.SessionGrant) -> str:
    return f"Bearer {grant['token']}"


def test_bootstrap_login_and_management(realm: tessera.Realm) -> None:
    ann = realm.create_user(None, "ann", "pw-ann", {"id": "u-ann"}, T0)
    assert ann == {"id": "u-ann", "username": "ann", "roles": ["admin"], "has_password": True, "created_at": T0}
    admin = realm.authenticate(bearer(realm.login("ann", "pw-ann", T0)), T0 + 1)
    assert admin["id"] == "u-ann" and admin["credential"] == "session" and admin["roles"] == ["admin"]

    bob = realm.create_user(admin, "bob", "pw-bob", None, T0 + 2)
    assert bob["roles"] == ["user"]
    bob_p = realm.authenticate(realm.login("bob", "pw-bob", T0 + 3)["token"], T0 + 4)

    # The policy decides who manages what.
    with pytest.raises(tessera.RealmError) as info:
        realm.create_user(bob_p, "eve", "pw", None, T0)
    assert info.value.code == "forbidden" and info.value.kind == "realm"
    with pytest.raises(tessera.RealmError) as info:
        realm.create_user(None, "eve", "pw", None, T0)
    assert info.value.code == "forbidden"
    with pytest.raises(tessera.RealmError) as info:
        realm.set_roles(bob_p, bob["id"], ["admin"])  # update_own_user never changes one's own roles
    assert info.value.code == "forbidden"
    assert realm.get_user(bob_p, bob["id"])["username"] == "bob"
    with pytest.raises(tessera.RealmError) as info:
        realm.get_user(bob_p, "u-ann")
    assert info.value.code == "forbidden"
    with pytest.raises(tessera.RealmError) as info:
        realm.get_user(admin, "ghost")
    assert info.value.code == "not_found"
    with pytest.raises(tessera.RealmError) as info:
        realm.create_user(admin, "bob", "pw", None, T0)
    assert info.value.code == "conflict"
    assert [u["username"] for u in realm.list_users(admin)] == ["ann", "bob"]
    assert [u["username"] for u in realm.list_users(bob_p)] == ["bob"]

    assert realm.set_roles(admin, bob["id"], ["admin"])["roles"] == ["admin"]
    # authenticate returns the user's current roles.
    assert realm.authenticate(realm.login("bob", "pw-bob", T0 + 5)["token"], T0 + 6)["roles"] == ["admin"]

    realm.set_password(bob_p, bob["id"], "new-pw")
    with pytest.raises(tessera.RealmError) as info:
        realm.login("bob", "pw-bob", T0 + 7)
    assert info.value.code == "invalid_credentials"
    assert realm.login("bob", "new-pw", T0 + 7)["session_id"]
    realm.set_password(admin, bob["id"], None)
    assert realm.get_user(admin, bob["id"])["has_password"] is False


def test_sessions_end_when_they_should(realm: tessera.Realm) -> None:
    realm.create_user(None, "ann", "pw", {"id": "u-ann"}, T0)
    grant = realm.login("ann", "pw", T0)
    renewed = realm.renew(grant["token"], T0 + 100)
    assert renewed["session_id"] == grant["session_id"]
    realm.close(renewed["token"], T0 + 101)
    with pytest.raises(tessera.TokenError) as info:
        realm.authenticate(bearer(renewed), T0 + 102)
    assert info.value.code == "revoked"

    again = realm.login("ann", "pw", T0 + 200)
    realm.restart()
    with pytest.raises(tessera.TokenError) as info:
        realm.authenticate(again["token"], T0 + 201)
    assert info.value.code == "revoked"
    assert realm.snapshot()["epoch"] == 1


def test_api_tokens_and_their_sessions(realm: tessera.Realm) -> None:
    realm.create_user(None, "ann", "pw", {"id": "u-ann"}, T0)
    admin = realm.authenticate(realm.login("ann", "pw", T0)["token"], T0)
    bob = realm.create_user(admin, "bob", None, {"id": "u-bob"}, T0)
    assert bob["has_password"] is False

    made = realm.create_api_token(admin, "u-bob", None, {"limits": ["read_own_device"]}, T0)
    secret, record = made["secret"], made["record"]
    assert record["owner"] == "u-bob" and record["roles"] == ["user"] and record["state"] == "active"
    device = realm.authenticate(f"Bearer {secret}", T0 + 1)
    assert device["credential"] == "api_token" and device["limits"] == ["read_own_device"]
    assert realm.engine.authorize(device, "read", {"type": "device", "id": "d", "owner": "u-bob"})
    assert not realm.engine.authorize(device, "update", {"type": "device", "id": "d", "owner": "u-bob"})

    session = realm.open_session(secret, T0 + 2)
    assert realm.authenticate(bearer(session), T0 + 3)["api_token_id"] == record["id"]
    assert [r["id"] for r in realm.list_api_tokens(admin, "u-bob")] == [record["id"]]
    assert realm.suspend_api_token(admin, record["id"])["state"] == "suspended"
    with pytest.raises(tessera.TokenError) as info:
        realm.authenticate(secret, T0 + 4)
    assert info.value.code == "suspended"
    assert realm.resume_api_token(admin, record["id"])["state"] == "active"

    replaced = realm.replace_api_token(admin, record["id"], T0 + 5)
    assert replaced["record"]["id"] != record["id"]
    for dead in (secret, session["token"]):
        with pytest.raises(tessera.TokenError) as info:
            realm.authenticate(dead, T0 + 6)
        assert info.value.code == "revoked"
    assert realm.authenticate(replaced["secret"], T0 + 6)["id"] == "u-bob"
    assert realm.revoke_api_token(admin, replaced["record"]["id"])["state"] == "revoked"

    # Deleting a user revokes its tokens.
    again = realm.create_api_token(admin, "u-bob", ["user"], None, T0 + 7)
    realm.delete_user(admin, "u-bob")
    with pytest.raises(tessera.TokenError):
        realm.authenticate(again["secret"], T0 + 8)
    with pytest.raises(tessera.RealmError) as info:
        realm.get_user(admin, "u-bob")
    assert info.value.code == "not_found"


def test_snapshot_round_trip(realm: tessera.Realm) -> None:
    realm.create_user(None, "ann", "pw", {"id": "u-ann"}, T0)
    admin = realm.authenticate(realm.login("ann", "pw", T0)["token"], T0)
    realm.create_api_token(admin, "u-ann", None, None, T0)
    grant = realm.login("ann", "pw", T0 + 1)
    snap = realm.snapshot()
    assert set(snap) >= {"version", "bootstrapped", "epoch", "users", "api_tokens", "sessions"}
    for source in (snap, json.dumps(snap)):
        again = tessera.Realm.restore(POLICY, source, SESSION_KEY, FAST)
        assert isinstance(again, tessera.Realm)
        assert again.snapshot() == snap
        assert again.authenticate(grant["token"], T0 + 2)["id"] == "u-ann"
        assert again.login("ann", "pw", T0 + 3)
    assert pickle.loads(pickle.dumps(snap)) == snap
    with pytest.raises(tessera.ArgumentError):
        tessera.Realm.restore(POLICY, {"version": 1, "users": "nope"}, SESSION_KEY, FAST)


def test_realm_construction_errors() -> None:
    with pytest.raises(tessera.PolicyError):
        tessera.Realm({"version": 1, "roles": {"a": {"inherits": ["b"]}}}, SESSION_KEY, FAST)
    with pytest.raises(tessera.TokenError) as info:
        tessera.Realm(POLICY, {"kty": "oct", "k": "c2hvcnQ"}, FAST)
    assert info.value.code == "weak_key"
    with pytest.raises(tessera.ArgumentError):
        tessera.Realm(POLICY, SESSION_KEY, {"argon2": {"memory_kib": "lots"}})  # type: ignore[typeddict-item]
    with pytest.raises(tessera.ArgumentError):
        tessera.Realm(POLICY, SESSION_KEY, {"bogus": 1})  # type: ignore[typeddict-unknown-key]


def test_realm_engine_is_shared_and_reloadable(realm: tessera.Realm) -> None:
    ann = realm.create_user(None, "ann", "pw", {"id": "u-ann"}, T0)
    admin = realm.authenticate(realm.login("ann", "pw", T0)["token"], T0)
    engine = realm.engine
    assert isinstance(engine, tessera.Engine)
    assert engine.authorize(admin, "delete", {"type": "user", "id": "x"})
    fast = engine.prepare(admin)
    # Replacing the policy through the engine changes the realm's rules at once.
    realm.engine.load({"version": 1, "roles": {"admin": {"permissions": ["read_user"]}, "user": {}}})
    assert not fast.is_allowed("delete", "user", "x")
    with pytest.raises(tessera.RealmError) as info:
        realm.create_user(admin, "bob", "pw", None, T0)
    assert info.value.code == "forbidden"
    assert realm.get_user(admin, ann["id"])["id"] == "u-ann"


def test_realm_from_a_policy_path_and_jwts(provider: Provider) -> None:
    from conftest import NOW, POLICY_PATH

    realm = tessera.Realm(POLICY_PATH, json.dumps(SESSION_KEY), {**FAST, "jwks": provider.jwks})  # type: ignore[typeddict-item]
    who = realm.authenticate(f"Bearer {provider.token()}", NOW)
    assert who["credential"] == "jwt" and who["roles"] == ["manager"]
    plain = tessera.Realm(POLICY_PATH, SESSION_KEY, FAST)
    with pytest.raises(tessera.TokenError) as info:
        plain.authenticate(provider.token(), NOW)
    assert info.value.code == "wrong_token_use"


def test_realm_shared_across_threads(realm: tessera.Realm) -> None:
    realm.create_user(None, "ann", "pw", {"id": "u-ann"}, T0)
    admin = realm.authenticate(realm.login("ann", "pw", T0)["token"], T0)

    def job(i: int) -> str:
        user = realm.create_user(admin, f"user-{i}", f"pw-{i}", None, T0)
        grant = realm.login(f"user-{i}", f"pw-{i}", T0 + 1)
        assert realm.authenticate(grant["token"], T0 + 2)["id"] == user["id"]
        return user["id"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids: List[str] = list(pool.map(job, range(30)))
    assert len(set(ids)) == 30
    assert len(realm.list_users(admin)) == 31


def test_realm_garbage_raises_only_tessera_errors(realm: tessera.Realm) -> None:
    realm.create_user(None, "ann", "pw", {"id": "u-ann"}, T0)
    admin = realm.authenticate(realm.login("ann", "pw", T0)["token"], T0)
    made = realm.create_api_token(admin, "u-ann", None, None, T0)
    grant = realm.login("ann", "pw", T0)
    snap = realm.snapshot()
    calls: List[Any] = [
        (lambda *a: tessera.Realm(*a), [POLICY, SESSION_KEY, FAST]),
        (lambda *a: tessera.Realm.restore(*a), [POLICY, snap, SESSION_KEY, FAST]),
        (realm.create_user, [admin, "zed", "pw", {"id": "u-zed"}, T0]),
        (realm.get_user, [admin, "u-ann"]),
        (realm.list_users, [admin]),
        (realm.set_roles, [admin, "u-ann", ["admin"]]),
        (realm.set_password, [admin, "u-ann", "pw"]),
        (realm.login, ["ann", "pw", T0]),
        (realm.create_api_token, [admin, "u-ann", ["user"], {"lifespan_seconds": 60}, T0]),
        (realm.list_api_tokens, [admin, "u-ann"]),
        (realm.suspend_api_token, [admin, made["record"]["id"]]),
        (realm.resume_api_token, [admin, made["record"]["id"]]),
        (realm.open_session, [made["secret"], T0]),
        (realm.renew, [grant["token"], T0 + 1]),
        (realm.authenticate, [bearer(grant), T0 + 1]),
        (realm.close, [grant["token"], T0 + 2]),
        (realm.replace_api_token, [admin, made["record"]["id"], T0]),
        (realm.revoke_api_token, [admin, made["record"]["id"]]),
        (realm.delete_user, [admin, "u-zed"]),
    ]
    tried = 0
    for fn, args in calls:
        for position in range(len(args)):
            for junk in garbage():
                call = list(args)
                call[position] = junk
                try:
                    fn(*call)
                except tessera.TesseraError:
                    pass
                except BaseException as e:  # noqa: BLE001 - the point of the test
                    pytest.fail(f"{fn!r}(arg {position} = {junk!r:.60}) raised {type(e).__name__}: {e}")
                tried += 1
    assert tried > 1500
    assert realm.get_user(admin, "u-ann")["username"] == "ann"  # still consistent
