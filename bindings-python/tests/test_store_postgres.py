"""SPEC §7.1 on PostgreSQL: realms sharing one database through the
`realm_changes` log, writers serialized per realm, read-your-writes with
`min_seq`, and failing closed when the database is gone.

The server is a real PostgreSQL started by the test (tests/pg_server.py).
Realms here use `max_lag_seconds=0` (read the log before every call), so no
assertion waits on the NOTIFY doorbell; its delay is measured by the
benchmark instead (BENCHMARKS.md)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any, Iterator, List

import pytest

import tessera

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from pg_server import PgServer, bin_dir  # noqa: E402
from store_worker import ADMIN, FAST, KEY, POLICY  # noqa: E402

pytestmark = pytest.mark.skipif(bin_dir() is None, reason="PostgreSQL is not installed (make setup-postgres)")


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    server = PgServer()
    try:
        yield server
    finally:
        server.stop()


_names = iter(range(1_000_000))


def open_pg(url: str, realm: str, **kw: Any) -> tessera.StoredRealm:
    kw.setdefault("max_lag_seconds", 0)
    return tessera.Realm.open(POLICY, KEY, url, FAST, realm=realm, **kw)


def test_realms_sharing_a_database_honour_each_others_changes(pg: PgServer) -> None:
    name = f"r{next(_names)}"
    a, b = open_pg(pg.url, name), open_pg(pg.url, name)
    try:
        a.create_user(None, "root", "pw", {"id": "u-root"}, 100)
        admin = b.authenticate(f"Bearer {a.login('root', 'pw', 100)['token']}", 101)
        ann = b.create_user(admin, "ann", None, {"id": "u-ann"}, 102)
        assert a.get_user(admin, "u-ann") == ann
        token = a.create_api_token(admin, "u-ann", None, None, 103)
        assert b.authenticate(token["secret"], 104)["id"] == "u-ann"
        session = b.open_session(token["secret"], 105)
        b.revoke_api_token(admin, token["record"]["id"])
        for cred in (token["secret"], session["token"]):
            with pytest.raises(tessera.TokenError) as info:
                a.authenticate(cred, 106)
            assert info.value.code == "revoked"
        a.create_user(admin, "bob", None, None, 107)  # A's write does not revive it
        c = open_pg(pg.url, name)
        try:
            with pytest.raises(tessera.TokenError):
                c.authenticate(token["secret"], 108)
            assert c.snapshot() == a.snapshot() == b.snapshot()
        finally:
            c.close_store()
        # Another realm in the same database is another realm.
        other = open_pg(pg.url, name + "-other")
        try:
            assert other.seq() == 0
        finally:
            other.close_store()
    finally:
        a.close_store()
        b.close_store()


def test_writes_return_their_seq_for_read_your_writes(pg: PgServer) -> None:
    name = f"r{next(_names)}"
    # B polls slowly (its doorbell may be late); min_seq makes it read first.
    a, b = open_pg(pg.url, name), open_pg(pg.url, name, max_lag_seconds=3600)
    try:
        a.create_user(None, "root", None, {"id": "u-root"}, 100)
        t = a.create_api_token(ADMIN, "u-root", None, None, 101)
        assert a.written_seq == 2
        assert b.authenticate(t["secret"], 102, min_seq=a.written_seq)["id"] == "u-root"
        with pytest.raises(tessera.StoreError) as info:
            b.authenticate(t["secret"], 102, min_seq=a.written_seq + 5)
        assert info.value.code == "store_unavailable"
    finally:
        a.close_store()
        b.close_store()


def test_concurrent_writers_make_one_bootstrap_admin_and_unique_usernames(pg: PgServer) -> None:
    name = f"r{next(_names)}"
    realms = [open_pg(pg.url, name) for _ in range(4)]
    try:
        go = threading.Barrier(len(realms))
        answers: List[str] = []

        def first(r: tessera.StoredRealm, i: int) -> None:
            go.wait()
            try:
                answers.append(",".join(r.create_user(None, f"first-{i}", None, None, 100)["roles"]))
            except tessera.RealmError as e:
                answers.append(e.code)

        threads = [threading.Thread(target=first, args=(r, i)) for i, r in enumerate(realms)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(answers) == ["admin", "forbidden", "forbidden", "forbidden"]
        admin_id = [u for u in realms[0].snapshot()["users"]][0]["id"]
        admin = {"id": admin_id, "roles": ["admin"]}
        answers.clear()
        go.reset()

        def same(r: tessera.StoredRealm, i: int) -> None:
            go.wait()
            try:
                r.create_user(admin, ["dup", "DUP", "Dup", "dUp"][i], None, None, 101)
                answers.append("ok")
            except tessera.RealmError as e:
                answers.append(e.code)

        threads = [threading.Thread(target=same, args=(r, i)) for i, r in enumerate(realms)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(answers) == ["conflict", "conflict", "conflict", "ok"]
        assert len({r.sync() for r in realms}) == 1
    finally:
        for r in realms:
            r.close_store()


def test_a_database_gone_fails_closed_and_changes_nothing() -> None:
    server = PgServer()
    try:
        r = open_pg(server.url, "gone")
        r.create_user(None, "root", None, {"id": "u-root"}, 100)
        t = r.create_api_token(ADMIN, "u-root", None, None, 101)
        before, seq = r.realm.snapshot(), r.seq()
    finally:
        server.stop()
    with pytest.raises(tessera.StoreError) as info:
        r.authenticate(t["secret"], 102)  # past max_lag_seconds (0): refuse, never guess
    assert info.value.code == "store_unavailable"
    with pytest.raises(tessera.StoreError) as info:
        r.create_user(ADMIN, "ann", None, None, 103)
    assert info.value.code == "store_unavailable"
    assert r.realm.snapshot() == before and r.realm.seq() == seq
    r.close_store()


def test_unreachable_database_is_store_unavailable() -> None:
    with pytest.raises(tessera.StoreError) as info:
        tessera.Realm.open(POLICY, KEY, "postgresql://postgres@/postgres?host=/nonexistent&connect_timeout=1", FAST, connect_timeout_seconds=1)
    assert info.value.code == "store_unavailable"
