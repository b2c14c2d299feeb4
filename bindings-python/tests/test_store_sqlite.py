"""SPEC §7.1 from Python: change records, `Realm.open` on SQLite, several
realms (and processes) on one file, failed commits, bad store files, and a
kill -9 crash test. Nothing here depends on timing: processes are started,
told to go through stdin, and their answers read."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, List

import pytest

import tessera

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from store_worker import ADMIN, FAST, KEY, POLICY  # noqa: E402


def open_realm(path: Path, **kw: Any) -> tessera.StoredRealm:
    return tessera.Realm.open(POLICY, KEY, f"sqlite:{path}", FAST, **kw)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "realm.db"


# ----- the core's records, from Python -------------------------------------


def test_records_seq_changes_apply_and_journal() -> None:
    realm = tessera.Realm(POLICY, KEY, FAST)
    kept: List[List[str]] = []
    realm.set_journal(kept.append)
    realm.create_user(None, "root", None, {"id": "u-root"}, 100)
    realm.restart()
    assert realm.seq() == 2
    assert realm.changes() == [
        '{"seq":1,"kind":"user_put","user":{"id":"u-root","username":"root","roles":["admin"],"password_hash":null,"created_at":100}}',
        '{"seq":2,"kind":"epoch_raised","epoch":1}',
    ]
    assert kept == [[realm.changes()[0]], [realm.changes()[1]]]
    follower = tessera.Realm(POLICY, KEY, FAST)
    assert follower.apply(realm.changes()) == 2
    assert follower.apply([json.loads(t) for t in realm.changes()]) == 2  # dicts too; idempotent
    assert follower.snapshot() == realm.snapshot()
    with pytest.raises(tessera.RealmError) as info:
        follower.apply(['{"seq":4,"kind":"epoch_raised","epoch":2}'])
    assert info.value.code == "seq_gap"
    with pytest.raises(tessera.RealmError) as info:
        follower.apply([{"seq": 3, "kind": "nope"}])
    assert info.value.code == "invalid_change"
    with pytest.raises(tessera.ArgumentError):
        follower.apply(5)  # type: ignore[arg-type]
    with pytest.raises(tessera.ArgumentError):
        realm.changes(-1)
    with pytest.raises(tessera.ArgumentError):
        realm.set_journal("not callable")  # type: ignore[arg-type]


def test_a_failing_journal_fails_the_call_and_changes_nothing() -> None:
    realm = tessera.Realm(POLICY, KEY, FAST)
    realm.create_user(None, "root", None, {"id": "u-root"}, 100)
    before = realm.snapshot()

    def broken(records: List[str]) -> None:
        raise OSError("disk on fire")

    def conflicted(records: List[str]) -> None:
        raise tessera.StoreError("taken", code="store_conflict")

    realm.set_journal(broken)
    with pytest.raises(tessera.RealmError) as info:
        realm.create_user(ADMIN, "ann", None, None, 110)
    assert info.value.code == "store_unavailable" and "disk on fire" in info.value.message
    with pytest.raises(tessera.RealmError) as info:
        realm.restart()
    assert info.value.code == "store_unavailable"
    realm.set_journal(conflicted)
    with pytest.raises(tessera.RealmError) as info:
        realm.set_roles(ADMIN, "u-root", ["user"])
    assert info.value.code == "store_conflict"
    assert realm.snapshot() == before and realm.seq() == 1
    realm.set_journal(None)
    realm.create_user(ADMIN, "ann", None, None, 110)
    assert realm.seq() == 2


# ----- one file, many realms ------------------------------------------------


def test_reopening_keeps_everything_and_is_not_a_restart(db: Path) -> None:
    with open_realm(db) as a:
        a.create_user(None, "root", "pw", {"id": "u-root"}, 100)
        grant = a.login("root", "pw", 100)
        token = a.create_api_token(ADMIN, "u-root", None, None, 100)
        snap = a.snapshot()
    with open_realm(db) as b:
        assert b.snapshot() == snap
        assert b.authenticate(f"Bearer {grant['token']}", 200)["id"] == "u-root"
        assert b.authenticate(token["secret"], 200)["credential"] == "api_token"
        assert b.snapshot()["epoch"] == 0


def test_realms_sharing_a_file_honour_each_others_changes(db: Path) -> None:
    a, b, c = open_realm(db), open_realm(db), open_realm(db)
    a.create_user(None, "root", "pw", {"id": "u-root"}, 100)
    admin = b.authenticate(f"Bearer {a.login('root', 'pw', 100)['token']}", 101)
    ann = b.create_user(admin, "ann", "pw-ann", {"id": "u-ann"}, 102)
    assert c.get_user(admin, "u-ann") == ann
    token = c.create_api_token(admin, "u-ann", None, None, 103)
    session = a.open_session(token["secret"], 104)
    assert b.authenticate(token["secret"], 105)["id"] == "u-ann"
    assert c.authenticate(session["token"], 105)["api_token_id"] == token["record"]["id"]
    b.revoke_api_token(admin, token["record"]["id"])
    for r in (a, c):
        for cred in (token["secret"], session["token"]):
            with pytest.raises(tessera.TokenError) as info:
                r.authenticate(cred, 106)
            assert info.value.code == "revoked"
    # A's next write does not bring the revoked token back, on disk or in a
    # fourth realm opened later.
    a.create_user(admin, "bob", None, None, 107)
    with open_realm(db) as d:
        with pytest.raises(tessera.TokenError) as info:
            d.authenticate(token["secret"], 108)
        assert info.value.code == "revoked"
        assert d.snapshot() == a.snapshot() == b.snapshot() == c.snapshot()
    for r in (a, b, c):
        r.close_store()


def test_a_stale_writer_redoes_its_call_on_the_newer_state(db: Path) -> None:
    a, b = open_realm(db), open_realm(db)
    a.create_user(None, "root", None, {"id": "u-root"}, 100)
    # B has not seen root: its bootstrap is redone after catching up, and refused.
    with pytest.raises(tessera.RealmError) as info:
        b.create_user(None, "eve", None, None, 101)
    assert info.value.code == "forbidden"
    a.create_user(ADMIN, "ann", None, None, 102)
    with pytest.raises(tessera.RealmError) as info:
        b.create_user(ADMIN, "ANN", None, None, 103)
    assert info.value.code == "conflict"
    t = a.create_api_token(ADMIN, "u-root", None, None, 104)
    a.suspend_api_token(ADMIN, t["record"]["id"])
    b.sync()
    a.revoke_api_token(ADMIN, t["record"]["id"])
    # B last saw it suspended; resuming it is redone on the revoked record.
    with pytest.raises(tessera.TokenError) as info:
        b.resume_api_token(ADMIN, t["record"]["id"])
    assert info.value.code == "invalid_transition"
    assert [r["state"] for r in b.list_api_tokens(ADMIN)] == ["revoked"]
    a.close_store()
    b.close_store()


def _workers(db: Path, args_list: List[List[str]]) -> List[str]:
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "store_worker.py"), str(db), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for args in args_list
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:  # every process is open and waiting: let them all go
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    out = []
    for p in procs:
        stdout, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        out.append(stdout.strip())
    return out


def test_concurrent_processes_make_exactly_one_bootstrap_admin(db: Path) -> None:
    open_realm(db).close_store()
    answers = _workers(db, [["bootstrap", f"first-{i}"] for i in range(4)])
    assert sorted(answers) == ["ok admin", "refused forbidden", "refused forbidden", "refused forbidden"]
    with open_realm(db) as r:
        assert [u["roles"] for u in r.list_users(ADMIN)] == [["admin"]]


def test_concurrent_processes_keep_usernames_unique(db: Path) -> None:
    with open_realm(db) as r:
        r.create_user(None, "root", None, {"id": "u-root"}, 100)
    answers = _workers(db, [["create", name] for name in ("dup", "DUP", "Dup", "dUp")])
    assert sorted(answers) == ["ok user", "refused conflict", "refused conflict", "refused conflict"]
    with open_realm(db) as r:
        assert len(r.list_users(ADMIN)) == 2


# ----- failures ---------------------------------------------------------------


def test_a_database_gone_mid_request_is_store_unavailable_and_changes_nothing(db: Path) -> None:
    r = open_realm(db)
    r.create_user(None, "root", None, {"id": "u-root"}, 100)
    before, seq = r.snapshot(), r.seq()
    r._store._db.close()  # the connection goes away under the realm
    with pytest.raises(tessera.StoreError) as info:
        r.create_user(ADMIN, "ann", None, None, 101)
    assert info.value.code == "store_unavailable"
    assert r.realm.snapshot() == before and r.realm.seq() == seq
    with pytest.raises(tessera.StoreError) as info:
        r.authenticate("Bearer tsr_x_y", 102)  # fails closed: it cannot check for revocations
    assert info.value.code == "store_unavailable"
    with open_realm(db) as again:
        assert again.snapshot() == before


def test_a_commit_that_fails_changes_nothing_in_memory(db: Path) -> None:
    r = open_realm(db)
    r.create_user(None, "root", None, {"id": "u-root"}, 100)
    before, seq = r.snapshot(), r.seq()
    # The catch-up finds nothing new, then the append's commit fails.
    r._store.changed = lambda: False  # type: ignore[method-assign]
    r._store._db.close()
    with pytest.raises(tessera.StoreError) as info:
        r.create_user(ADMIN, "ann", None, None, 101)
    assert info.value.code == "store_unavailable"
    assert r.realm.snapshot() == before and r.realm.seq() == seq
    with open_realm(db) as again:
        assert again.snapshot() == before


def test_a_file_that_is_not_a_realm(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database, not even close" * 100)
    with pytest.raises(tessera.StoreError) as info:
        open_realm(garbage)
    assert info.value.code == "invalid_store"
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(tessera.StoreError) as info:
        open_realm(other)
    assert info.value.code == "invalid_store"
    assert sqlite3.connect(other).execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]


def test_a_store_from_a_newer_version(db: Path) -> None:
    open_realm(db).close_store()
    with sqlite3.connect(db) as c:
        c.execute("UPDATE realm_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(tessera.StoreError) as info:
        open_realm(db)
    assert info.value.code == "unsupported_store_version"


def _insert(db: Path, seq: int, record: Any) -> None:
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO realm_changes VALUES (?, ?)", (seq, json.dumps(record)))


def test_bad_records_in_the_store_are_typed_errors(db: Path) -> None:
    with open_realm(db) as r:
        r.create_user(None, "root", None, {"id": "u-root"}, 100)
    _insert(db, 2, {"seq": 2, "kind": "user_renamed", "user_id": "u-root"})
    with pytest.raises(tessera.RealmError) as info:
        open_realm(db)
    assert info.value.code == "invalid_change"
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM realm_changes WHERE seq = 2")
    _insert(db, 3, {"seq": 3, "kind": "epoch_raised", "epoch": 1})
    with pytest.raises(tessera.RealmError) as info:
        open_realm(db)
    assert info.value.code == "seq_gap"


def test_a_bad_record_from_elsewhere_changes_nothing_in_a_running_realm(db: Path) -> None:
    r = open_realm(db)
    r.create_user(None, "root", None, {"id": "u-root"}, 100)
    grant_like = r.create_api_token(ADMIN, "u-root", None, None, 100)
    before = r.snapshot()
    user = {"id": "u-x", "username": "x", "roles": ["user"], "password_hash": None, "created_at": 1}
    _insert(db, 3, {"seq": 3, "kind": "user_put", "user": user})
    _insert(db, 4, {"seq": 4, "kind": "session_put", "session": {"id": "s", "user_id": "ghost", "api_token_id": None, "expires_at": 9}})
    with pytest.raises(tessera.RealmError) as info:
        r.authenticate(grant_like["secret"], 101)
    assert info.value.code == "invalid_change"
    assert r.realm.snapshot() == before  # not even the good record 3
    r.close_store()


# ----- crashes ----------------------------------------------------------------


def test_kill_9_mid_burst_loses_no_acknowledged_change(db: Path) -> None:
    with open_realm(db) as r:
        r.create_user(None, "root", None, {"id": "u-root"}, 100)
    runs = 20
    for run in range(runs):
        p = subprocess.Popen(
            [sys.executable, str(HERE / "store_worker.py"), str(db), "burst", str(run), "1000"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert p.stdout is not None and p.stdin is not None
        assert p.stdout.readline().strip() == "ready"
        p.stdin.write("go\n")
        p.stdin.flush()
        acked = []
        # Kill after a different number of acknowledgements each run; the
        # worker is mid-call (or between calls) when the signal lands.
        for _ in range(1 + (run * 7) % 13):
            line = p.stdout.readline().split()
            assert line[0] == "ack"
            acked.append((int(line[1]), line[2]))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        assert p.returncode == -signal.SIGKILL
        # The store opens (every record folds, checked like restore), and every
        # acknowledged change is there.
        with open_realm(db) as after:
            snap = after.snapshot()
            users = {u["id"] for u in snap["users"]}
            tokens = {t["id"]: t["state"] for t in snap["api_tokens"]}
            for i, token_id in acked:
                assert f"u-r{run}-{i}" in users
                assert tokens[token_id] == "revoked"
            # No session of a revoked token survives anywhere.
            for s in snap["sessions"]:
                assert s["api_token_id"] is None or tokens[s["api_token_id"]] != "revoked"
            fold = tessera.Realm(POLICY, KEY, FAST)
            fold.apply(after.changes())
            assert fold.snapshot() == snap
