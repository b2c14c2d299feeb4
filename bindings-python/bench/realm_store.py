"""Benchmark (not a test): a SQLite-backed realm at 10k users / 100k API
tokens / 100k live sessions, against the same calls at 1k sessions; snapshot
and restore at that size. One thread, one core.

    make bench-realm-store        (or: .venv/bin/python bindings-python/bench/realm_store.py)

The data is made in memory (no password hashing: users have no password; a
few have one for login) and written to a fresh store as one checkpoint, so
that generating it stays out of `make test` and takes seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from typing import Any, Callable, Dict, List

import tessera
from tessera._sqlite_store import SQLiteStore

POLICY = {
    "version": 1,
    "roles": {
        "user": {"permissions": ["read_own_user", "update_own_user", "admin_own_token"]},
        "admin": {"inherits": ["user"], "permissions": ["admin_user", "admin_token"]},
    },
}
KEY = {"kty": "oct", "k": "c2Vzc2lvbi1zZWNyZXQtc2Vzc2lvbi1zZWNyZXQtMzI"}
FAST = {"argon2": {"memory_kib": 8, "iterations": 1, "parallelism": 1}}
ADMIN = {"id": "u-0", "roles": ["admin"]}
NOW = 1_000
# Slices per steady figure (see `rate`).
ROUNDS = 5


def build(users: int, tokens: int, sessions: int) -> Dict[str, Any]:
    realm = tessera.Realm(POLICY, KEY, FAST)
    for i in range(users):
        realm.create_user(None if i == 0 else ADMIN, f"user-{i}", None, {"id": f"u-{i}"}, NOW)
    secrets: List[str] = []
    for j in range(tokens):
        secrets.append(realm.create_api_token(ADMIN, f"u-{j % users}", None, None, NOW)["secret"])
    grants: List[str] = []
    for k in range(sessions):
        grants.append(realm.open_session(secrets[k % tokens], NOW)["token"])
    return {"realm": realm, "secrets": secrets, "grants": grants}


def rate(n: int, fn: Callable[[int], Any], rounds: int = 1) -> float:
    """Calls per second over `fn(0)`..`fn(n - 1)`: the median of `rounds`
    consecutive slices, so that one slice slowed by the machine (this VM's
    steal time moved single 50k-call figures by up to 35%) does not decide."""
    rates: List[float] = []
    per = n // rounds
    for r in range(rounds):
        start = time.perf_counter()
        for i in range(r * per, (r + 1) * per):
            fn(i)
        rates.append(per / (time.perf_counter() - start))
    return statistics.median(rates)


def measure(label: str, size: Dict[str, int], n_auth: int, n_write: int, n_steady: int) -> Dict[str, Any]:
    t0 = time.perf_counter()
    data = build(**size)
    made = time.perf_counter() - t0
    realm = data["realm"]
    t0 = time.perf_counter()
    snap = realm.snapshot()
    snap_s = time.perf_counter() - t0
    text = json.dumps(snap, separators=(",", ":"))
    t0 = time.perf_counter()
    tessera.Realm.restore(POLICY, text, KEY, FAST)
    restore_s = time.perf_counter() - t0
    out: Dict[str, Any] = {
        "label": label,
        "size": size,
        "generate_s": made,
        "snapshot_s": snap_s,
        "snapshot_bytes": len(text.encode()),
        "restore_s": restore_s,
    }
    for sync in ("NORMAL", "FULL"):
        d = tempfile.mkdtemp()
        path = os.path.join(d, "realm.db")
        store = SQLiteStore(path, synchronous=sync)
        store.checkpoint(text, snap["seq"])
        store.close()
        t0 = time.perf_counter()
        stored = tessera.Realm.open(POLICY, KEY, f"sqlite:{path}", FAST, synchronous=sync)
        out[f"open_s_{sync}"] = time.perf_counter() - t0
        grants, secrets = data["grants"], data["secrets"]
        if sync == "NORMAL":
            # First sight: each session token once, as the store opened (decoded,
            # signature checked); then seen before: the same tokens again, answered
            # from the realm key's memory at either size.
            out["authenticate_session_first_per_s"] = rate(len(grants), lambda i: stored.authenticate(grants[i], NOW + 1))
            out["authenticate_session_per_s"] = rate(n_auth, lambda i: stored.authenticate(grants[i % len(grants)], NOW + 1), ROUNDS)
            out["authenticate_api_token_per_s"] = rate(n_auth, lambda i: stored.authenticate(secrets[i % len(secrets)], NOW + 1), ROUNDS)
        fresh: List[Any] = []
        # The first writes after opening, then the steady state: until the WAL
        # file first wraps (SQLite checkpoints it at 1,000 pages, about 1,000
        # commits here) each commit extends the file, which costs more the
        # larger the database just read (measured: COMMIT 23 us, then 6.6 us).
        out[f"open_session_first_per_s_{sync}"] = rate(
            n_write, lambda i: fresh.append(stored.open_session(secrets[i % len(secrets)], NOW + 2)["token"])
        )
        out[f"open_session_per_s_{sync}"] = rate(
            n_steady,
            lambda i: fresh.append(stored.open_session(secrets[(n_write + i) % len(secrets)], NOW + 2)["token"]),
            ROUNDS,
        )
        out[f"renew_per_s_{sync}"] = rate(n_steady, lambda i: stored.renew(fresh[i], NOW + 3), ROUNDS)
        stored.close_store()
    return out


WATCHER = r"""
import sys, time, tessera
sys.path.insert(0, sys.argv[2])
from realm_store import POLICY, KEY, FAST
r = tessera.Realm.open(POLICY, KEY, sys.argv[1], FAST)
print("ready", flush=True)
for line in sys.stdin:
    secret = line.strip()
    while True:                           # until the new token is seen here
        try:
            r.authenticate(secret, 1001)
            break
        except tessera.TesseraError:
            pass
    print("watching", flush=True)
    while True:
        try:
            r.authenticate(secret, 1001)
        except tessera.TesseraError:
            print(time.monotonic(), flush=True)
            break
"""


def postgres(n_writes: int, n_revocations: int) -> Dict[str, Any]:
    """PostgreSQL: writes per second from one process, and how long a
    revocation committed by one process takes to be refused by another
    (its NOTIFY doorbell, default max_lag_seconds 1)."""
    import subprocess
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
    from pg_server import PgServer

    server = PgServer()
    try:
        a = tessera.Realm.open(POLICY, KEY, server.url, FAST)
        a.create_user(None, "root", None, {"id": "u-0"}, NOW)
        writes = rate(n_writes, lambda i: a.create_api_token(ADMIN, "u-0", None, None, NOW))
        watcher = subprocess.Popen(
            [sys.executable, "-c", WATCHER, server.url, os.path.dirname(os.path.abspath(__file__))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert watcher.stdin is not None and watcher.stdout is not None
        assert watcher.stdout.readline().strip() == "ready"
        delays: List[float] = []
        for _ in range(n_revocations):
            t = a.create_api_token(ADMIN, "u-0", None, None, NOW)
            watcher.stdin.write(t["secret"] + "\n")
            watcher.stdin.flush()
            assert watcher.stdout.readline().strip() == "watching"
            a.revoke_api_token(ADMIN, t["record"]["id"])
            committed = time.monotonic()
            seen = float(watcher.stdout.readline())
            delays.append(seen - committed)
        watcher.stdin.close()
        watcher.wait()
        a.close_store()
    finally:
        server.stop()
    delays.sort()
    return {
        "label": "postgresql",
        "writes_per_s": writes,
        "revocations": n_revocations,
        "propagation_p50_ms": 1000 * delays[len(delays) // 2],
        "propagation_p99_ms": 1000 * delays[min(len(delays) - 1, (len(delays) * 99) // 100)],
        "propagation_max_ms": 1000 * delays[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--quick", action="store_true", help="a tenth of the size (a smoke run)")
    parser.add_argument("--part", choices=["all", "sqlite", "postgres"], default="all")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    big = {"users": 10_000 // scale, "tokens": 100_000 // scale, "sessions": 100_000 // scale}
    small = {"users": 100, "tokens": 1_000, "sessions": 1_000}
    results = []
    if args.part in ("all", "sqlite"):
        for label, size in (("1k sessions", small), ("100k sessions", big)):
            results.append(measure(label, size, 100_000, 2_000, 5_000))
            print(json.dumps(results[-1]), flush=True)
    if args.part in ("all", "postgres"):
        results.append(postgres(2_000 // scale, 200 // scale))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
